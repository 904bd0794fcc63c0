/** Test-only: the same change as health-unpatched.ts, behind patched() as the deploy procedure says. */
import { patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { HealthActivities } from '../../../activities/health.js';
import { tagRun } from '../../../workflows/business-date.js';

export async function healthCheckWorkflow(): Promise<unknown> {
  tagRun('health');
  const act = proxyActivities<HealthActivities>({ startToCloseTimeout: '1 minute' });
  if (patched('health-settle-before-checks')) await sleep('1 second');
  return Promise.all([act.checkTemporal(), act.checkKafka(), act.checkObjectStore(), act.checkWarehouse()]);
}
