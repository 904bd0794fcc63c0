/** Task queues, in one place: workers poll them, clients and schedules start workflows on them. */
export const TASK_QUEUES = {
  pipeline: 'egx-pipeline',
} as const;
