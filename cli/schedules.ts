import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type Connection,
} from '@temporalio/client';
import type { AppConfig } from '../lib/config.js';
import { parseBusinessDate } from '../lib/util/dates.js';
import { cairoMidnight } from '../lib/market/calendar.js';
import { withClient } from '../temporal-config/connection.js';
import {
  applySchedules,
  pipelineSchedules,
  SCHEDULE_TIMEZONE,
  type ApplyOutcome,
  type ScheduleSettings,
} from '../temporal-config/schedules.js';
import { ensureSearchAttributes } from '../temporal-config/search-attributes.js';

const settingsOf = (config: AppConfig, extra: Partial<ScheduleSettings> = {}): ScheduleSettings => ({
  symbols: config.market.symbols,
  pollMinutes: config.market.pollMinutes,
  ...(config.temporal.idPrefix ? { idPrefix: config.temporal.idPrefix } : {}),
  ...extra,
});

/** `egx schedules apply`: creates or updates the pipeline's schedules; a second apply changes nothing. */
export function applyPipelineSchedules(
  config: AppConfig,
  extra: Partial<ScheduleSettings> = {},
): Promise<{ id: string; outcome: ApplyOutcome }[]> {
  return withClient(config, async (client) => {
    // Runs set these attributes; a namespace without them would fail every run's first task.
    await ensureSearchAttributes(client.connection as Connection, config.temporal.namespace).catch(
      (e: Error) => {
        throw new Error(
          `egx schedules: the search attributes EgxPipeline, EgxBusinessDate, EgxSymbols are missing and could not be added (${e.message}); on Temporal Cloud add them in the namespace settings`,
        );
      },
    );
    return applySchedules(client, pipelineSchedules(settingsOf(config, extra)));
  });
}

const cairo = new Intl.DateTimeFormat('en-GB', {
  timeZone: SCHEDULE_TIMEZONE,
  weekday: 'short',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export interface ScheduleRow {
  id: string;
  paused: boolean;
  note?: string;
  /** The next few fire times (UTC). */
  next: Date[];
  lastRun?: { at: Date; workflowId: string };
  why?: string;
}

/** `egx schedules list`: the pipeline's schedules with their next fire times. */
export function listPipelineSchedules(
  config: AppConfig,
  extra: Partial<ScheduleSettings> = {},
): Promise<ScheduleRow[]> {
  return withClient(config, async (client) => {
    const rows: ScheduleRow[] = [];
    for (const s of pipelineSchedules(settingsOf(config, extra))) {
      const d = await client.schedule.getHandle(s.options.scheduleId).describe();
      const last = d.info.recentActions.at(-1);
      rows.push({
        id: s.options.scheduleId,
        paused: d.state.paused,
        note: d.state.note,
        next: d.info.nextActionTimes,
        lastRun: last ? { at: last.takenAt, workflowId: last.action.workflow.workflowId } : undefined,
        why: s.why,
      });
    }
    return rows;
  });
}

export function formatScheduleRows(rows: ScheduleRow[]): string {
  return rows
    .map((r) =>
      [
        `${r.id}${r.paused ? `  PAUSED${r.note ? ` (${r.note})` : ''}` : ''}`,
        `  next (Cairo): ${
          r.next
            .slice(0, 3)
            .map((t) => cairo.format(t))
            .join('; ') || '-'
        }`,
        `  last run: ${r.lastRun ? `${cairo.format(r.lastRun.at)} ${r.lastRun.workflowId}` : '-'}`,
        ...(r.why ? [`  ${r.why}`] : []),
      ].join('\n'),
    )
    .join('\n');
}

export type ScheduleAction = 'pause' | 'unpause' | 'trigger';

/** Thrown by the schedule commands for an ID no schedule has: says which schedules there are. */
export class ScheduleUnknownError extends Error {
  constructor(
    readonly id: string,
    readonly known: string[],
  ) {
    super(
      `no schedule named ${id}; schedules: ${known.join(', ') || 'none (create them with: egx schedules apply)'}`,
    );
    this.name = 'ScheduleUnknownError';
  }
}

/** The schedule IDs on the server: the pipeline's that exist, then any others. */
async function knownSchedules(client: Client, config: AppConfig): Promise<string[]> {
  const ours = pipelineSchedules(settingsOf(config)).map((s) => s.options.scheduleId);
  const found: string[] = [];
  for await (const s of client.schedule.list()) found.push(s.scheduleId);
  const others = found.filter((id) => !ours.includes(id)).sort();
  return [
    ...ours.filter((id) => found.includes(id)),
    ...others.slice(0, 10),
    ...(others.length > 10 ? [`… ${others.length - 10} more (temporal schedule list)`] : []),
  ];
}

/** Runs a command on one schedule; an unknown ID is reported with the schedules there are, not the server's internals. */
function onSchedule<T>(config: AppConfig, id: string, work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(config, async (client) => {
    try {
      return await work(client);
    } catch (e) {
      if (e instanceof ScheduleNotFoundError)
        throw new ScheduleUnknownError(id, await knownSchedules(client, config));
      throw e;
    }
  });
}

/** `egx schedules pause|unpause|trigger <id>`. */
export function controlSchedule(
  config: AppConfig,
  id: string,
  action: ScheduleAction,
  note?: string,
): Promise<void> {
  return onSchedule(config, id, async (client) => {
    const h = client.schedule.getHandle(id);
    if (action === 'pause') await h.pause(note ?? 'paused with egx schedules pause');
    else if (action === 'unpause') await h.unpause(note ?? 'unpaused with egx schedules unpause');
    else await h.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  });
}

/**
 * `egx schedules backfill <id> --from --to`: Temporal's own schedule backfill, one run per fire time
 * in (from, to], one after another; each run processes the date of its fire time.
 */
export function backfillSchedule(config: AppConfig, id: string, from: string, to: string): Promise<void> {
  const midnight = (s: string, what: string, plusDays = 0) =>
    cairoMidnight(parseBusinessDate(s, `egx schedules backfill ${what}`), plusDays);
  const start = new Date(midnight(from, '--from').getTime() - 1);
  const end = new Date(midnight(to, '--to', 1).getTime() - 1);
  if (end <= start) throw new Error('egx schedules backfill: --to must not be before --from');
  return onSchedule(config, id, (client) =>
    client.schedule.getHandle(id).backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL }),
  );
}
