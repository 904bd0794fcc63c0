/** Test-only: the health check as a careless deploy might change it, a wait before the checks, not behind patched(). */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { HealthActivities } from '../../../activities/health.js';
import { tagRun } from '../../../workflows/business-date.js';

export async function healthCheckWorkflow(): Promise<unknown> {
  tagRun('health');
  const act = proxyActivities<HealthActivities>({ startToCloseTimeout: '1 minute' });
  await sleep('1 second');
  return Promise.all([act.checkTemporal(), act.checkKafka(), act.checkObjectStore(), act.checkWarehouse()]);
}
