import { executeChild, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../activities/maintenance.js';
import type { ArchiveResult } from '../lib/ops/archive.js';
import { alertOnFailure } from './alerting.js';
import { businessDateOf, cairoDate, scheduledStart, tagRun } from './business-date.js';
import { transformsWorkflow, type TransformsOutput } from './transforms.js';
import { withWarehouseLock } from './warehouse-lock.js';

export interface MaintenanceInput {
  businessDate?: string;
  /** The instant the retention counts back from (default: the schedule's time, else the start). */
  asOf?: string;
  /** Streamed bars older than this many days are archived and deleted (default 360). */
  retentionDays?: number;
}

export interface MaintenanceOutput {
  businessDate: string;
  transforms: Pick<TransformsOutput, 'built' | 'tests'>;
  archive: ArchiveResult;
  optimise: string;
}

const act = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '30 seconds', maximumAttempts: 3 },
});

/**
 * Weekly maintenance (Saturday 02:00 Cairo, the market closed): a full refresh of every model, then
 * streamed bars older than the retention archived to the object store (deleted only once the
 * archive reads back), then storage optimised.
 */
export async function weeklyMaintenanceWorkflow(input: MaintenanceInput = {}): Promise<MaintenanceOutput> {
  return alertOnFailure('maintenance', businessDateOf(input), () => runMaintenance(input));
}

async function runMaintenance(input: MaintenanceInput = {}): Promise<MaintenanceOutput> {
  const businessDate = businessDateOf(input) ?? cairoDate(workflowInfo().startTime);
  tagRun('maintenance', businessDate);
  const runId = workflowInfo().workflowId;
  const transforms = await executeChild(transformsWorkflow, {
    staticSummary: `full refresh of the models for maintenance ${businessDate}`,
    workflowId: `${runId}-transforms`,
    args: [{ businessDate, fullRefresh: true }],
  });
  const asOf = input.asOf ?? (scheduledStart() ?? workflowInfo().startTime).toISOString();
  const archiveAndOptimise = async () => {
    const retentionDays = input.retentionDays ?? 360;
    const archive = await act.archiveOldStreamedBars.executeWithOptions(
      { summary: `archive streamed bars older than ${retentionDays} days` },
      [{ asOf, retentionDays, runId }],
    );
    return { archive, optimise: await act.optimiseWarehouse() };
  };
  // The transforms child takes the warehouse lock itself; archiving and optimising take it here.
  const { archive, optimise } = patched('warehouse-lock')
    ? await withWarehouseLock(archiveAndOptimise)
    : await archiveAndOptimise();
  return {
    businessDate,
    transforms: { built: transforms.built, tests: transforms.tests },
    archive,
    optimise,
  };
}
