import { setTimeout as sleep } from 'node:timers/promises';
import type { Interval } from '../bus/message.js';
import { buildModel } from '../transforms/build.js';
import { planRun, relationOf, type Model, type Project } from '../transforms/project.js';
import type { Warehouse } from '../warehouse/types.js';

/**
 * Intraday gold during the session: after each poll, the live models (`live: true` in
 * transforms/marts, gold_fct_live_bars then gold_fct_live_quotes) are refreshed incrementally with
 * the transforms runner's own write-audit-publish build, once the poll's bars are committed.
 */

/** The mart a dashboard or a person reads: one row per symbol and session. */
export const LIVE_QUOTES = 'gold_fct_live_quotes';

export interface LiveRefreshInput {
  /** The session's Cairo trading date. */
  tradingDate: string;
  /** Names the builds in META.MODEL_RUNS and their staging tables: one per session. */
  runId: string;
  /** The poll (or polls) this refresh follows: its symbols, bar interval and window of bar opens. */
  symbols: string[];
  interval: Interval;
  from: string;
  to: string;
  /** Bars the poll published: the refresh waits until that many of the window are committed. */
  expectedBars: number;
  /** How long to wait for them (the Kafka consumer writes them) before refreshing with what is there; default 30 s. */
  waitMs?: number;
}

export interface LiveModelRefresh {
  model: string;
  /** `built`: rebuilt (incrementally) or found unchanged; `skipped`: a model it reads does not exist yet. */
  status: 'built' | 'skipped';
  rows: number;
  seconds: number;
  detail?: string;
}

export interface LiveRefreshResult {
  tradingDate: string;
  /** End of the polled window the refresh follows. */
  pollEnd: string;
  expectedBars: number;
  /** Bars of the window in RAW.STREAM_BARS when the refresh started building. */
  committedBars: number;
  waitedSeconds: number;
  models: LiveModelRefresh[];
  /** The session's rows in gold_fct_live_quotes after the refresh (one per symbol with bars). */
  quotes: number;
  seconds: number;
}

/** An instant as a zone-less UTC timestamp literal, as the warehouse stores them. */
const utcTimestamp = (iso: string) => new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** How many bars of the window (by open time, [from, to)) of these symbols RAW.STREAM_BARS holds. */
export async function committedBars(
  wh: Warehouse,
  w: Pick<LiveRefreshInput, 'symbols' | 'interval' | 'from' | 'to'>,
  signal?: AbortSignal,
): Promise<number> {
  if (w.symbols.length === 0) return 0;
  const [row] = await wh.query<{ N: number }>(
    `SELECT COUNT(*) AS N FROM RAW.STREAM_BARS
      WHERE BAR_INTERVAL = ? AND TS >= CAST(? AS TIMESTAMP) AND TS < CAST(? AS TIMESTAMP)
        AND SYMBOL IN (${marks(w.symbols.length)})`,
    [w.interval, utcTimestamp(w.from), utcTimestamp(w.to), ...w.symbols],
    { signal },
  );
  return Number(row?.N ?? 0);
}

/**
 * Waits until the window's bars are committed (at least `expectedBars`), checking every `everyMs`,
 * for at most `waitMs`. Resolves with the count it saw last: fewer than expected after the wait
 * (the consumer is behind or down, or it dead-lettered some) still lets the refresh go ahead with
 * what is there; the next poll's refresh picks up the rest.
 */
export async function waitForCommittedBars(
  wh: Warehouse,
  input: LiveRefreshInput,
  opts: { signal?: AbortSignal; everyMs?: number; now?: () => number } = {},
): Promise<{ committed: number; waitedMs: number }> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const deadline = started + (input.waitMs ?? 30_000);
  for (;;) {
    const committed = await committedBars(wh, input, opts.signal);
    if (committed >= input.expectedBars || now() >= deadline) return { committed, waitedMs: now() - started };
    await sleep(opts.everyMs ?? 100, undefined, { signal: opts.signal });
  }
}

/** The live models in dependency order. */
export function liveModels(project: Project): Model[] {
  return planRun(project, [], { live: true }).filter((m) => m.live);
}

async function existingRelations(wh: Warehouse, models: Model[]): Promise<Set<string>> {
  if (models.length === 0) return new Set();
  const rows = await wh.query<{ S: string; T: string }>(
    `SELECT UPPER(TABLE_SCHEMA) AS S, UPPER(TABLE_NAME) AS T FROM INFORMATION_SCHEMA.TABLES
      WHERE UPPER(TABLE_NAME) IN (${marks(models.length)})`,
    models.map((m) => m.name.toUpperCase()),
  );
  return new Set(rows.map((r) => `${r.S}.${r.T}`));
}

/**
 * Refreshes the live models after a poll: waits for its bars to be committed, then builds each live
 * model incrementally (only the sessions loaded since its last build are rebuilt, audited and
 * merged). A live model that reads a model not built yet (gold_fct_stock_daily_prices before the
 * first transforms run) is skipped, saying so. Never takes the warehouse lock: see the README.
 */
export async function refreshLiveGold(
  wh: Warehouse,
  project: Project,
  input: LiveRefreshInput,
  opts: { signal?: AbortSignal; onProgress?: (step: string) => void } = {},
): Promise<LiveRefreshResult> {
  const started = performance.now();
  opts.onProgress?.('waiting for the poll to be committed');
  const { committed, waitedMs } = await waitForCommittedBars(wh, input, { signal: opts.signal });
  const live = liveModels(project);
  const models: LiveModelRefresh[] = [];
  const built = new Set<string>();
  for (const m of live) {
    const reads = m.refs.map((r) => project.models.get(r)!);
    const present = await existingRelations(
      wh,
      reads.filter((r) => !built.has(r.name)),
    );
    const missing = reads.filter((r) => !built.has(r.name) && !present.has(relationOf(r).toUpperCase()));
    if (missing.length > 0) {
      models.push({
        model: m.name,
        status: 'skipped',
        rows: 0,
        seconds: 0,
        detail: `${missing.map(relationOf).join(', ')} not built yet`,
      });
      continue;
    }
    opts.onProgress?.(`building ${m.name}`);
    const r = await buildModel(wh, project, m, {
      runId: input.runId,
      businessDate: input.tradingDate,
      signal: opts.signal,
    });
    built.add(m.name);
    models.push({ model: m.name, status: 'built', rows: r.rows, seconds: r.seconds });
  }
  let quotes = 0;
  if (built.has(LIVE_QUOTES)) {
    const [row] = await wh.query<{ N: number }>(
      `SELECT COUNT(*) AS N FROM GOLD.${LIVE_QUOTES} WHERE TRADE_DATE = ?`,
      [input.tradingDate],
      { signal: opts.signal },
    );
    quotes = Number(row?.N ?? 0);
  }
  return {
    tradingDate: input.tradingDate,
    pollEnd: input.to,
    expectedBars: input.expectedBars,
    committedBars: committed,
    waitedSeconds: waitedMs / 1000,
    models,
    quotes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Runs refreshes one after another (a worker serves several sessions, say a live day and a demo). */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const next = tail.then(work, work);
    tail = next.catch(() => undefined);
    return next;
  };
}
