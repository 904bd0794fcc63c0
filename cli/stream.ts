import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { withClient } from '../temporal-config/connection.js';
import { defaultPayloadConverter } from '@temporalio/common';
import type { AppConfig } from '../lib/config.js';
import { parseSymbolList } from '../lib/market/symbol.js';
import { parseBusinessDate } from '../lib/util/dates.js';
import type { ConsumeProgress } from '../lib/stream/consumer.js';
import { SA } from '../temporal-config/search-attributes.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { cairoDate } from '../workflows/business-date.js';
import type { MarketSessionInput, MarketSessionStatus } from '../workflows/market-session.js';
import { startOrAttach, type StartOutcome } from '../temporal-config/runs.js';
import { workflowIds } from '../temporal-config/workflow-ids.js';
import type { StreamTotals, streamConsumerWorkflow } from '../workflows/stream-consumer.js';
import { explainRunFailure, failureChain } from './failures.js';

export const STREAM_CONSUMER_ID = 'egx-stream-consumer';

const uiLink = (config: AppConfig, id: string) =>
  `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${id}`;

/** Starts the sink consumer workflow, or finds the one already running (one per namespace). */
export function startStreamConsumer(
  config: AppConfig,
  opts: { taskQueue?: string; activityTaskQueue?: string } = {},
): Promise<{ workflowId: string; runId: string; url: string }> {
  return withClient(config, async (client) => {
    const h = await client.workflow.start<typeof streamConsumerWorkflow>('streamConsumerWorkflow', {
      taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
      workflowId: STREAM_CONSUMER_ID,
      args: [{ activityTaskQueue: opts.activityTaskQueue }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [{ key: SA.pipeline, value: 'stream-consumer' }],
    });
    return {
      workflowId: STREAM_CONSUMER_ID,
      runId: h.firstExecutionRunId,
      url: uiLink(config, STREAM_CONSUMER_ID),
    };
  });
}

export interface StreamStatus {
  status: string;
  totals?: StreamTotals;
  /** The round in flight, from its last heartbeat. */
  round?: ConsumeProgress & { attempt: number; lastFailure?: string };
  /** Why it stopped, when it failed: the cause chain down to the error. */
  failure?: string[];
  url: string;
}

/** The consumer workflow's state, finished rounds' totals and the running round's progress and lag. */
export function streamStatus(config: AppConfig): Promise<StreamStatus> {
  return withClient(config, (client) => streamStatusOf(client, config));
}

/** streamStatus on a client the caller keeps (the dashboard asks every few seconds). */
export async function streamStatusOf(client: Client, config: AppConfig): Promise<StreamStatus> {
  const h = client.workflow.getHandle(STREAM_CONSUMER_ID);
  const d = await h.describe();
  const out: StreamStatus = { status: d.status.name, url: uiLink(config, STREAM_CONSUMER_ID) };
  if (d.status.name === 'RUNNING') {
    out.totals = await h.query<StreamTotals>('progress');
    const pending = d.raw.pendingActivities?.[0];
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    if (pending && payload) {
      out.round = {
        ...defaultPayloadConverter.fromPayload<ConsumeProgress>(payload),
        attempt: pending.attempt ?? 1,
        lastFailure: pending.lastFailure?.message ?? undefined,
      };
    }
  } else if (d.status.name === 'COMPLETED') {
    out.totals = (await h.result()) as StreamTotals;
  } else if (d.status.name === 'FAILED' || d.status.name === 'TIMED_OUT') {
    out.failure = await h.result().then(
      () => undefined,
      (e: unknown) => failureChain(e),
    );
  }
  return out;
}

export function formatStreamStatus(s: StreamStatus): string {
  const lines = [`stream consumer: ${s.status}  ${s.url}`];
  if (s.totals) {
    lines.push(
      `  finished rounds: ${s.totals.rounds}, messages ${s.totals.messages}, bars ${s.totals.bars}, dead-lettered ${s.totals.deadLettered}`,
    );
  }
  if (s.round) {
    lines.push(
      `  this round (attempt ${s.round.attempt}): messages ${s.round.messages}, bars ${s.round.bars}, dead-lettered ${s.round.deadLettered}, lag ${s.round.lag ?? '?'}`,
    );
    if (s.round.lastFailure) lines.push(`  last failure: ${s.round.lastFailure}`);
  }
  if (s.failure) lines.push(...s.failure.map((l, i) => `${'  '.repeat(i + 1)}${i ? '└ ' : ''}${l}`));
  return lines.join('\n');
}

export const marketSessionId = workflowIds.marketSession;
/** Demo replays get their own IDs, so they never collide with (or are mistaken for) the day's live session. */
export const demoSessionId = workflowIds.demoSession;

/**
 * Starts the market session workflow of a Cairo trading date with the configured symbols and
 * interval; with `demoSpeed`, a compressed replay of that date's session (see MarketSessionInput.demo).
 */
export function startMarketSession(
  config: AppConfig,
  opts: { date?: string; taskQueue?: string; demoSpeed?: number },
): Promise<{ workflowId: string; url: string; outcome: StartOutcome }> {
  const date = opts.date ?? cairoDate(new Date());
  parseBusinessDate(date, 'egx market --date');
  return withClient(config, async (client) => {
    const workflowId =
      config.temporal.idPrefix + (opts.demoSpeed ? demoSessionId(date) : marketSessionId(date));
    // The day's session, scheduled or started by hand, is one run: a second start follows it.
    const { outcome } = await startOrAttach(
      client,
      {
        workflowType: 'marketSessionWorkflow',
        workflowId,
        taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
        args: [
          {
            tradingDate: date,
            symbols: config.market.symbols,
            pollMinutes: config.market.pollMinutes,
            demo: opts.demoSpeed ? { speed: opts.demoSpeed } : undefined,
          } satisfies MarketSessionInput,
        ],
        searchAttributes: [
          { key: SA.pipeline, value: 'market-session' },
          { key: SA.businessDate, value: date },
        ],
        summary: `${opts.demoSpeed ? `DEMO replay at ${opts.demoSpeed}x of ` : ''}market session ${date}`,
      },
      // A demo can be replayed again; a live day runs once.
      { rerun: Boolean(opts.demoSpeed) },
    );
    return { workflowId, url: uiLink(config, workflowId), outcome };
  });
}

/**
 * The market session a control command means: the given day's live session, else its demo
 * replay; without a date, the newest session still running (live or demo), else today's.
 */
export async function findMarketSession(client: Client, date?: string, idPrefix = ''): Promise<string> {
  if (!date) {
    for await (const w of client.workflow.list({
      query: `WorkflowType = 'marketSessionWorkflow' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '${idPrefix}market-session-'`,
    }))
      return w.workflowId;
    date = cairoDate(new Date());
  }
  for (const id of [idPrefix + marketSessionId(date), idPrefix + demoSessionId(date)]) {
    try {
      await client.workflow.getHandle(id).describe();
      return id;
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }
  throw new Error(
    `egx market: no market session for ${date} (neither ${marketSessionId(date)} nor its demo ${demoSessionId(date)}); start one with: egx market start --date ${date}`,
  );
}

export type MarketAction = 'status' | 'pause' | 'resume' | 'poll-now' | 'symbols';

/** Signals a running market session (pause, resume, poll-now, symbols) and returns its status afterwards. */
export function controlMarketSession(
  config: AppConfig,
  opts: { date?: string; action: MarketAction; symbols?: string[] },
): Promise<MarketSessionStatus> {
  const date = opts.date === undefined ? undefined : parseBusinessDate(opts.date, 'egx market --date');
  const symbols = opts.action === 'symbols' && opts.symbols ? parseSymbolList(opts.symbols) : undefined;
  return withClient(config, async (client) => {
    const h = client.workflow.getHandle(await findMarketSession(client, date, config.temporal.idPrefix));
    const signal = { pause: 'pause', resume: 'resume', 'poll-now': 'pollNow', symbols: 'setSymbols' }[
      opts.action as Exclude<MarketAction, 'status'>
    ];
    if (opts.action === 'symbols') {
      if (!symbols) throw new Error('egx market symbols: give the tickers, e.g. COMI,ETEL');
      await h.signal(signal, symbols);
    } else if (signal) await h.signal(signal);
    const d = await h.describe();
    if (d.status.name === 'RUNNING') return h.query<MarketSessionStatus>('status');
    try {
      return (await h.result()) as MarketSessionStatus;
    } catch (e) {
      return explainRunFailure(`market session ${h.workflowId}`, uiLink(config, h.workflowId), e);
    }
  });
}

export function formatMarketStatus(s: MarketSessionStatus): string {
  if (s.closed) return `market session ${s.tradingDate}: closed (${s.closed})`;
  const lines = [
    `${s.demoSpeed ? `DEMO replay at ${s.demoSpeed}× of ` : ''}market session ${s.tradingDate}${s.paused ? ' (PAUSED)' : ''}: ${s.polls} polls, ${s.bars} bars, last window ends ${s.lastPollEnd ?? '-'}`,
    `  symbols: ${s.symbols.join(', ')}`,
  ];
  for (const f of s.lastFailures) lines.push(`  failed last poll: ${f.symbol}: ${f.reason}`);
  for (const a of s.alerts)
    lines.push(`  alert: ${a.symbol} failed ${a.failures} polls in a row (${a.reason})`);
  const g = s.intraday;
  if (g)
    lines.push(
      `  intraday gold: ${g.last ? `refreshed after the window ending ${g.last.pollEnd}: ${g.last.quotes} symbols in ${g.last.seconds.toFixed(1)} s` : 'no refresh yet'}; ${g.refreshes} refreshes${g.failed ? `, ${g.failed} failed (last: ${g.lastError})` : ''}`,
    );
  return lines.join('\n');
}
