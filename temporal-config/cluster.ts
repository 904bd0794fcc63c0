import type { ConnectionLike } from '@temporalio/client';
import proto from '@temporalio/proto';

/** Asks the cluster for its version and the namespace; resolves with a line saying what answered. */
export async function describeCluster(connection: ConnectionLike, namespace: string): Promise<string> {
  const info = await connection.workflowService.getSystemInfo({});
  await connection.workflowService.describeNamespace({ namespace });
  return `server ${info.serverVersion || 'unknown version'}, namespace "${namespace}" reachable`;
}

/** Pollers per task queue and kind (workflow, activity): who is serving the pipeline's queues. */
export async function taskQueuePollers(
  connection: ConnectionLike,
  namespace: string,
  queues: { name: string; kinds: ('workflow' | 'activity')[] }[],
): Promise<{ queue: string; kind: 'workflow' | 'activity'; pollers: number }[]> {
  const T = proto.temporal.api.enums.v1.TaskQueueType;
  const out: { queue: string; kind: 'workflow' | 'activity'; pollers: number }[] = [];
  for (const q of queues) {
    for (const kind of q.kinds) {
      const res = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: q.name },
        taskQueueType: kind === 'workflow' ? T.TASK_QUEUE_TYPE_WORKFLOW : T.TASK_QUEUE_TYPE_ACTIVITY,
      });
      out.push({ queue: q.name, kind, pollers: (res.pollers ?? []).length });
    }
  }
  return out;
}
