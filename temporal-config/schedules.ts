import { createHash } from 'node:crypto';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { SA } from './search-attribute-keys.js';
import { TASK_QUEUES } from './task-queues.js';
import type { ScheduledJob } from './workflow-ids.js';
import type { ScheduledRunInput } from '../workflows/scheduled.js';

export const SCHEDULE_TIMEZONE = 'Africa/Cairo';

/** What the production schedules need to know about the deployment. */
export interface ScheduleSettings {
  symbols: string[];
  pollMinutes: number;
  /** Task queue the scheduled workflows run on (default egx-pipeline). */
  taskQueue?: string;
  /** Prepended to every schedule ID (tests, or several deployments in one namespace). */
  idPrefix?: string;
  /** Schedules take effect from this instant (default: at once). */
  startAt?: Date;
}

export interface PipelineSchedule {
  options: ScheduleOptions;
  /** Why the overlap and catch-up policies are what they are (printed by `egx schedules list`). */
  why: string;
}

/**
 * The pipeline's schedules (times in Africa/Cairo, daylight saving included): the daily batch at
 * 01:00, transforms at 02:00 and 14:00, the market session before the open Sunday–Thursday,
 * weekly maintenance on Saturday at 02:00, and a health check every 15 minutes that alerts on trouble.
 */
export function pipelineSchedules(s: ScheduleSettings): PipelineSchedule[] {
  const prefix = s.idPrefix ?? '';
  const taskQueue = s.taskQueue ?? TASK_QUEUES.pipeline;
  // Each firing starts the launcher, which runs the job under its business-key ID (see workflows/scheduled.ts).
  const make = (
    id: string,
    job: ScheduledJob,
    calendar: NonNullable<ScheduleOptions['spec']['calendars']>[number],
    input: Record<string, unknown>,
    policies: NonNullable<ScheduleOptions['policies']>,
    why: string,
  ): PipelineSchedule => ({
    why,
    options: {
      scheduleId: `${prefix}${id}`,
      spec: {
        calendars: [calendar],
        timezone: SCHEDULE_TIMEZONE,
        ...(s.startAt ? { startAt: s.startAt } : {}),
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledRunWorkflow',
        taskQueue,
        args: [{ job, input, ...(prefix ? { idPrefix: prefix } : {}) } satisfies ScheduledRunInput],
        workflowId: `${prefix}scheduled-${job}`,
        typedSearchAttributes: [{ key: SA.pipeline, value: job }],
      },
      policies,
    },
  });
  return [
    make(
      'egx-daily-batch',
      'daily-batch',
      { hour: 1, minute: 0 },
      {},
      { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 day' },
      'overlap BUFFER_ONE: a run still going at the next 01:00 delays that day, never skips it; catch-up 1 day: after an outage the missed day still loads',
    ),
    make(
      'egx-transforms',
      'transforms',
      { hour: [2, 14], minute: 0 },
      {},
      { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      'overlap SKIP: the next run rebuilds the same models anyway; catch-up 1 hour: a run hours late would only collide with the next one',
    ),
    make(
      'egx-market-session',
      'market-session',
      { hour: 9, minute: 55, dayOfWeek: [{ start: 'SUNDAY', end: 'THURSDAY' }] },
      { symbols: s.symbols, pollMinutes: s.pollMinutes },
      { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '4 hours' },
      'overlap SKIP: one session per day; catch-up 4 hours: a late start still fetches the day from the open (holidays complete at once, saying why)',
    ),
    make(
      'egx-weekly-maintenance',
      'maintenance',
      { hour: 2, minute: 0, dayOfWeek: 'SATURDAY' },
      {},
      { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      'overlap SKIP: never two maintenances at once; catch-up 1 day: the market is closed all weekend, so a late run is harmless',
    ),
    {
      why: 'every 15 minutes; overlap SKIP: a slow check is not stacked; catch-up 1 minute: only the present matters',
      options: {
        scheduleId: `${prefix}egx-health`,
        spec: { intervals: [{ every: '15 minutes' }], ...(s.startAt ? { startAt: s.startAt } : {}) },
        action: {
          type: 'startWorkflow',
          workflowType: 'healthCheckWorkflow',
          taskQueue,
          args: [{ operations: true, alert: true }],
          workflowId: `${prefix}health`,
          typedSearchAttributes: [{ key: SA.pipeline, value: 'health' }],
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      },
    },
  ];
}

/** A stable fingerprint of what a schedule does: kept in the action's memo, so an unchanged apply is a no-op. */
export function scheduleFingerprint(o: ScheduleOptions): string {
  const { action, spec, policies } = o;
  const plain = JSON.stringify(
    { spec, action: { ...action, memo: undefined }, policies },
    (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v),
  );
  return createHash('sha256').update(plain).digest('hex').slice(0, 16);
}

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

const FINGERPRINT = 'egxScheduleFingerprint';

/** Creates missing schedules and updates changed ones (keeping paused ones paused); unchanged ones are left alone. */
export async function applySchedules(
  client: Client,
  schedules: PipelineSchedule[],
): Promise<{ id: string; outcome: ApplyOutcome }[]> {
  const out: { id: string; outcome: ApplyOutcome }[] = [];
  for (const { options } of schedules) {
    const fingerprint = scheduleFingerprint(options);
    const action = { ...options.action, memo: { ...options.action.memo, [FINGERPRINT]: fingerprint } };
    const handle = client.schedule.getHandle(options.scheduleId);
    let current: ScheduleDescription | undefined;
    try {
      current = await handle.describe();
    } catch (e) {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
    }
    if (!current) {
      await client.schedule.create({ ...options, action });
      out.push({ id: options.scheduleId, outcome: 'created' });
      continue;
    }
    const memo = current.action.type === 'startWorkflow' ? current.action.memo : undefined;
    if (memo?.[FINGERPRINT] === fingerprint) {
      out.push({ id: options.scheduleId, outcome: 'unchanged' });
      continue;
    }
    await handle.update((prev) => ({ ...prev, spec: options.spec, action, policies: options.policies }));
    out.push({ id: options.scheduleId, outcome: 'updated' });
  }
  return out;
}
