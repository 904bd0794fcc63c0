import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LiveActivities, LiveRefreshResult } from '../activities/live.js';
import type { MarketActivities, PollResult } from '../activities/market.js';
import type { Interval } from '../lib/bus/message.js';
import { alert, alertOnFailure } from './alerting.js';
import { businessDateOf, cairoTime, requireBusinessDate, tagRun } from './business-date.js';

export interface MarketSessionInput {
  /** Cairo trading date 'YYYY-MM-DD' (default: the schedule's date). */
  tradingDate?: string;
  symbols: string[];
  /** Minutes between polls (default 5). */
  pollMinutes?: number;
  interval?: Interval;
  /** A symbol failing this many polls in a row raises an alert (default 3). */
  alertAfterFailures?: number;
  /** Continue as new after this many polls in one run (default 200), or earlier when Temporal suggests it. */
  maxPollsPerRun?: number;
  /**
   * Demo mode: replay the session of `tradingDate` (usually a past one) compressed, `speed` market
   * minutes per real minute, so data flows while the real market is closed. `startedAt` (epoch ms)
   * is set by the first run and carried across continue-as-new.
   */
  demo?: { speed: number; startedAt?: number };
  /** Carried across continue-as-new. */
  carried?: Omit<MarketSessionStatus, 'tradingDate' | 'closed'>;
}

export interface SymbolAlert {
  symbol: string;
  failures: number;
  reason: string;
  at: string;
}

export interface MarketSessionStatus {
  tradingDate?: string;
  /** Set in demo mode: market minutes per real minute. */
  demoSpeed?: number;
  closed?: string;
  symbols: string[];
  paused: boolean;
  polls: number;
  bars: number;
  /** End of the last polled window: bars that opened before it have been fetched. */
  lastPollEnd?: string;
  lastFailures: PollResult['failed'];
  /** Consecutive failed polls per symbol (symbols that last succeeded are absent). */
  failing: Record<string, number>;
  alerts: SymbolAlert[];
  /** Intraday gold: the live marts refreshed after the polls (new runs only). */
  intraday?: IntradayGoldStatus;
}

export interface IntradayGoldStatus {
  refreshes: number;
  /** Refreshes that failed after their retries (the session goes on; the next poll's refresh covers it). */
  failed: number;
  /** Failed refreshes since the last one that worked: the third in a row raises one alert. */
  failingInARow?: number;
  last?: Pick<LiveRefreshResult, 'pollEnd' | 'quotes' | 'committedBars' | 'expectedBars' | 'seconds'>;
  lastError?: string;
}

export const statusQuery = defineQuery<MarketSessionStatus>('status');
/** Polls are skipped while paused; the first poll after resuming covers the gap, so nothing is missed. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Polls at once for the bars closed since the last poll. */
export const pollNowSignal = defineSignal('pollNow');
/** Replaces the tracked symbols from the next poll on. */
export const setSymbolsSignal = defineSignal<[string[]]>('setSymbols');

const act = proxyActivities<MarketActivities>({
  startToCloseTimeout: '2 minutes',
  // A poll fails as a whole only when the bus is down: retried for about 15 minutes (the window is
  // not passed until its bars are published), then the session fails and alerts.
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
  },
});

// Intraday gold after each poll. A refresh waits for the poll's bars to be committed (with Kafka, up
// to 30 s, or 2 minutes after the close), so its own timeout leaves room for that and a build.
const live = proxyActivities<LiveActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
  },
});

/**
 * One trading day of polling (was the streaming producer): a closed day completes at once saying
 * why; otherwise sleep until the open, poll every `pollMinutes` until the close, poll once more
 * after it, and complete with counts. Signals pause, resume, poll now and set the symbols; a
 * symbol failing `alertAfterFailures` polls in a row raises one alert. Continues as new when the
 * history grows.
 */
export async function marketSessionWorkflow(input: MarketSessionInput): Promise<MarketSessionStatus> {
  return alertOnFailure('market-session', businessDateOf({ businessDate: input.tradingDate }), () =>
    runMarketSession(input),
  );
}

async function runMarketSession(input: MarketSessionInput): Promise<MarketSessionStatus> {
  const named = businessDateOf({ businessDate: input.tradingDate });
  tagRun('market-session', named);
  const tradingDate = requireBusinessDate(named, 'trading date');
  const status: MarketSessionStatus = {
    tradingDate,
    symbols: input.symbols,
    demoSpeed: input.demo?.speed,
    paused: false,
    polls: 0,
    bars: 0,
    lastFailures: [],
    failing: {},
    alerts: [],
    ...input.carried,
  };
  let pollNow = false;
  setHandler(statusQuery, () => status);
  setHandler(pauseSignal, () => void (status.paused = true));
  setHandler(resumeSignal, () => void (status.paused = false));
  setHandler(pollNowSignal, () => void (pollNow = true));
  setHandler(setSymbolsSignal, (symbols) => void (status.symbols = [...new Set(symbols)]));

  // New runs refresh intraday gold after each poll; runs started before that code replay without.
  const refresher = patched('intraday-gold') ? intradayGold(tradingDate, status, input) : undefined;

  const plan = await act.planMarketSession({ date: tradingDate });
  if ('closed' in plan) return { ...status, closed: plan.closed };
  const open = Date.parse(plan.open);
  const close = Date.parse(plan.close);
  // Market time: the workflow clock, or in demo mode the session replayed at `speed` from its start.
  const demo = input.demo && { speed: input.demo.speed, startedAt: input.demo.startedAt ?? Date.now() };
  const now = () => (demo ? open + (Date.now() - demo.startedAt) * demo.speed : Date.now());
  const realMs = (marketMs: number) => (demo ? marketMs / demo.speed : marketMs);
  const every = (input.pollMinutes ?? 5) * 60_000;
  const alertAfter = input.alertAfterFailures ?? 3;
  const startPolls = status.polls;
  let pollLine = '';
  const showDetails = () =>
    setCurrentDetails(
      `${demo ? `DEMO replay at ${demo.speed}x of ` : ''}market session ${tradingDate}\n\n${pollLine}${refresher ? `\n\n${intradayLine(status.intraday)}` : ''}`,
    );
  refresher?.onChange(showDetails);

  const poll = async (until: number) => {
    const from = status.lastPollEnd ?? plan.open;
    if (until <= Date.parse(from) || status.symbols.length === 0) return;
    const to = new Date(until).toISOString();
    const r = await act.pollMarket.executeWithOptions(
      {
        summary: `poll ${status.symbols.length} symbols, bars ${cairoTime(new Date(Date.parse(from)))}–${cairoTime(new Date(until))} Cairo${demo ? ' (demo)' : ''}`,
      },
      [{ symbols: status.symbols, interval: input.interval ?? '5m', from, to }],
    );
    status.polls++;
    status.bars += r.bars;
    status.lastFailures = r.failed;
    status.lastPollEnd = to;
    pollLine = `polls ${status.polls}, bars ${status.bars}, last window ends ${cairoTime(new Date(until))} Cairo${status.paused ? ' (PAUSED)' : ''}${r.failed.length ? `; failed: ${r.failed.map((f) => f.symbol).join(', ')}` : ''}`;
    showDetails();
    // The refresh after the close waits longer for the consumer: the day's marts end complete.
    if (r.bars > 0)
      refresher?.request({ from, to, bars: r.bars, symbols: status.symbols, final: until > close });
    const failed = new Map(r.failed.map((f) => [f.symbol, f.reason]));
    for (const symbol of Object.keys(status.failing)) if (!failed.has(symbol)) delete status.failing[symbol];
    for (const [symbol, reason] of failed) {
      const n = (status.failing[symbol] ?? 0) + 1;
      status.failing[symbol] = n;
      if (n === alertAfter) {
        const alert = { symbol, failures: n, reason, at: to };
        status.alerts.push(alert);
        await act.alertSymbolFailing({ tradingDate, ...alert });
      }
    }
  };

  // Waits until `at`, or less when a signal asks for a poll now.
  const wait = async (at: number) => {
    if (at > now())
      await condition(() => pollNow, Math.max(1, Math.ceil(realMs(at - now()))), {
        summary: `until ${cairoTime(new Date(at))} Cairo${demo ? ` (demo at ${demo.speed}x)` : ''}`,
      });
  };

  await wait(open);
  while (now() < close) {
    // Poll on the interval grid (10:05, 10:10, …), so bars close before they are fetched.
    const next = Math.min(close, (Math.floor(now() / every) + 1) * every);
    await wait(next);
    if (pollNow) {
      pollNow = false;
      // Only whole bars: up to the last grid point passed.
      await poll(Math.max(open, Math.floor(now() / every) * every));
    } else if (!status.paused) {
      await poll(next);
    }
    const runPolls = status.polls - startPolls;
    if (
      now() < close &&
      (runPolls >= (input.maxPollsPerRun ?? 200) || workflowInfo().continueAsNewSuggested)
    ) {
      await refresher?.idle();
      await condition(allHandlersFinished);
      const carried = {
        symbols: status.symbols,
        paused: status.paused,
        polls: status.polls,
        bars: status.bars,
        lastPollEnd: status.lastPollEnd,
        lastFailures: status.lastFailures,
        failing: status.failing,
        alerts: status.alerts,
        intraday: status.intraday,
      };
      await continueAsNew<typeof marketSessionWorkflow>({ ...input, tradingDate, demo, carried });
    }
  }
  // One last poll after the close picks up the final bar; paused at the close, it waits (up to
  // 6 hours) for a resume or a poll-now, so the rest of the day is not silently dropped.
  await wait(close + 60_000);
  if (status.paused) await condition(() => !status.paused || pollNow, '6 hours');
  if (!status.paused || pollNow) await poll(now());
  await refresher?.idle();
  return status;
}

function intradayLine(s: IntradayGoldStatus | undefined): string {
  if (!s?.last) return `intraday gold: ${s?.lastError ? `refresh failed: ${s.lastError}` : 'no refresh yet'}`;
  const l = s.last;
  return (
    `intraday gold: refreshed after the poll ending ${cairoTime(new Date(l.pollEnd))} Cairo: ${l.quotes} symbols, ` +
    `${l.committedBars}/${l.expectedBars} bars committed, ${l.seconds.toFixed(1)} s; ${s.refreshes} refreshes` +
    (s.failed ? `, ${s.failed} failed (last: ${s.lastError})` : '')
  );
}

interface RefreshRequest {
  from: string;
  to: string;
  bars: number;
  symbols: string[];
  /** After the close: wait up to 2 minutes for the poll's bars instead of 30 s. */
  final?: boolean;
}

/**
 * Refreshes the live marts after polls, one refresh at a time and off the polling path: a poll that
 * lands while a refresh runs is folded into the next one, so polling never waits for gold. A
 * refresh that fails after its retries is counted and logged; the session goes on.
 */
function intradayGold(tradingDate: string, status: MarketSessionStatus, input: MarketSessionInput) {
  status.intraday ??= { refreshes: 0, failed: 0 };
  const state = status.intraday;
  let pending: RefreshRequest | undefined;
  let running: Promise<void> | undefined;
  let changed = () => {};
  const runId = `${workflowInfo().workflowId}-live`;

  const drain = async () => {
    try {
      while (pending) {
        const p = pending;
        pending = undefined;
        try {
          const r = await live.refreshIntradayGold.executeWithOptions(
            {
              summary: `intraday gold, session ${tradingDate}${input.demo ? ' (demo)' : ''}: poll ending ${cairoTime(new Date(p.to))} Cairo, ${p.bars} bars of ${p.symbols.length} symbols`,
            },
            [
              {
                tradingDate,
                runId,
                symbols: p.symbols,
                interval: input.interval ?? '5m',
                from: p.from,
                to: p.to,
                expectedBars: p.bars,
                ...(p.final ? { waitMs: 120_000 } : {}),
              },
            ],
          );
          state.refreshes++;
          state.failingInARow = 0;
          state.last = {
            pollEnd: r.pollEnd,
            quotes: r.quotes,
            committedBars: r.committedBars,
            expectedBars: r.expectedBars,
            seconds: r.seconds,
          };
        } catch (e) {
          if (isCancellation(e)) return;
          state.failed++;
          state.lastError =
            e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
          log.warn('intraday gold refresh failed; the next poll refreshes again', { error: state.lastError });
          state.failingInARow = (state.failingInARow ?? 0) + 1;
          if (state.failingInARow === 3)
            await alert({
              title: `intraday gold of market session ${tradingDate} failed 3 refreshes in a row`,
              where: `market session ${workflowInfo().workflowId}, refresh after the poll ending ${cairoTime(new Date(p.to))} Cairo`,
              error: `${state.lastError} (the polls go on; the live marts are stale until a refresh works)`,
              key: 'market:intraday-gold:failing',
            });
        }
        changed();
      }
    } finally {
      running = undefined;
    }
  };

  return {
    request(r: RefreshRequest) {
      pending = pending
        ? {
            from: pending.from,
            to: r.to,
            bars: pending.bars + r.bars,
            symbols: [...new Set([...pending.symbols, ...r.symbols])],
            final: r.final,
          }
        : r;
      running ??= drain();
    },
    /** Resolves once no refresh runs or waits (never rejects). */
    async idle() {
      while (running) await running;
    },
    onChange(f: () => void) {
      changed = f;
    },
  };
}
