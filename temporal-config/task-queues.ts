/** Task queues, in one place: workers poll them, clients and schedules start workflows on them. */
export const TASK_QUEUES = {
  pipeline: 'egx-pipeline',
  /** The sink consumer's long-running activity, so stream workers scale apart from the pipeline's. */
  stream: 'egx-stream',
} as const;
