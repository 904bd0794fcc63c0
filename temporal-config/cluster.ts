import type { ConnectionLike } from '@temporalio/client';

/** Asks the cluster for its version and the namespace; resolves with a line saying what answered. */
export async function describeCluster(connection: ConnectionLike, namespace: string): Promise<string> {
  const info = await connection.workflowService.getSystemInfo({});
  await connection.workflowService.describeNamespace({ namespace });
  return `server ${info.serverVersion || 'unknown version'}, namespace "${namespace}" reachable`;
}
