import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RunActivities } from '../activities/runs.js';
import { SA } from '../temporal-config/search-attribute-keys.js';
import { workflowIds, type ScheduledJob } from '../temporal-config/workflow-ids.js';
import type { RunRequest, StartOutcome } from '../temporal-config/runs.js';
import { failTyped } from './alerting.js';
import { cairoDate, cairoTime, scheduledStart, tagRun } from './business-date.js';

export interface ScheduledRunInput {
  job: ScheduledJob;
  /** The job's own input (symbols, poll interval, …); the business date comes from the schedule's time. */
  input?: Record<string, unknown>;
  /** Prepended to the run's ID (several deployments, or tests, in one namespace). */
  idPrefix?: string;
}

export interface ScheduledRunOutput {
  workflowId: string;
  /** started: this firing ran the job; attached: it followed a run already under way; completed: the day had run already. */
  outcome: StartOutcome;
}

/** Per job: the workflow it runs, the run's business key and what it is called, and its input. */
const JOBS: Record<
  ScheduledJob,
  {
    workflowType: string;
    name: (date: string, at: Date) => { id: string; label: string };
    input: (date: string, asOf: string) => Record<string, unknown>;
  }
> = {
  'daily-batch': {
    workflowType: 'dailyBatchWorkflow',
    name: (date) => ({ id: workflowIds.dailyBatch(date), label: `daily batch ${date}` }),
    input: (businessDate, asOf) => ({ businessDate, asOf }),
  },
  transforms: {
    workflowType: 'transformsWorkflow',
    name: (date, at) => ({
      id: workflowIds.transforms(date, cairoTime(at)),
      label: `transforms ${date} ${cairoTime(at)}`,
    }),
    input: (businessDate, asOf) => ({ businessDate, asOf }),
  },
  'market-session': {
    workflowType: 'marketSessionWorkflow',
    name: (date) => ({ id: workflowIds.marketSession(date), label: `market session ${date}` }),
    input: (tradingDate) => ({ tradingDate }),
  },
  maintenance: {
    workflowType: 'weeklyMaintenanceWorkflow',
    name: (date) => ({ id: workflowIds.maintenance(date), label: `weekly maintenance ${date}` }),
    input: (businessDate, asOf) => ({ businessDate, asOf }),
  },
};

/** The run a schedule firing at `at` stands for: its business-key ID and its input. */
export function scheduledRunRequest(
  job: ScheduledJob,
  input: Record<string, unknown>,
  at: Date,
  taskQueue: string,
): RunRequest {
  const date = cairoDate(at);
  const spec = JOBS[job];
  const { id, label } = spec.name(date, at);
  return {
    workflowType: spec.workflowType,
    taskQueue,
    workflowId: id,
    args: [{ ...input, ...spec.input(date, at.toISOString()) }],
    searchAttributes: [
      { key: SA.pipeline, value: job },
      { key: SA.businessDate, value: date },
    ],
    summary: `${label} (scheduled)`,
  };
}

const act = proxyActivities<RunActivities>({
  // Follows the run to its end (a market session lasts the trading day), heartbeating meanwhile.
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * What a schedule starts: names the job's run by its business key (`daily-batch-<date>`, …), then
 * starts it or, when a manual start of the same key is under way or done, follows that one, so a
 * day never runs twice and `egx` control commands reach scheduled runs by the same ID. The job's
 * run alerts on its own failure; this one only reports it.
 */
export async function scheduledRunWorkflow(input: ScheduledRunInput): Promise<ScheduledRunOutput> {
  return failTyped(async () => {
    const at = scheduledStart() ?? workflowInfo().startTime;
    const named = scheduledRunRequest(input.job, input.input ?? {}, at, workflowInfo().taskQueue);
    const request = { ...named, workflowId: `${input.idPrefix ?? ''}${named.workflowId}` };
    tagRun(input.job, cairoDate(at));
    try {
      const r = await act.followRun.executeWithOptions({ summary: `run ${request.workflowId}` }, [
        { request },
      ]);
      return { workflowId: r.workflowId, outcome: r.outcome };
    } catch (e) {
      const cause = e instanceof ActivityFailure ? e.cause : e;
      if (cause instanceof ApplicationFailure && cause.type === 'RunFailed')
        throw ApplicationFailure.create({ type: 'RunFailed', nonRetryable: true, message: cause.message });
      throw e;
    }
  });
}
