import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BarMessage, Interval } from '../lib/bus/message.js';
import { egxCalendar } from '../lib/market/calendar.js';
import { symbolProblem, SymbolInvalidError } from '../lib/market/symbol.js';
import { businessDateProblem } from '../lib/util/dates.js';
import { activityMetrics } from './metrics.js';
import { sessionPlan, type SessionPlan } from '../lib/market/session.js';
import type { MarketSource } from '../lib/sources/types.js';

/** Where polled bars go: Kafka (topic egx_market_data) or, in direct mode, straight to the sinks. */
export interface BarPublisher {
  publish(bars: BarMessage[]): Promise<number>;
}

export interface PollResult {
  bars: number;
  /** Symbols that failed this poll, with the reason. */
  failed: { symbol: string; reason: string }[];
}

export interface SymbolFailingAlert {
  tradingDate: string;
  symbol: string;
  failures: number;
  reason: string;
  at: string;
}

export function createMarketActivities({
  source,
  publisher,
  alert,
}: {
  source: MarketSource;
  publisher: BarPublisher;
  /** Where a symbol's repeated failures are reported (default: the worker's log, as a warning). */
  alert?: (a: SymbolFailingAlert) => Promise<void>;
}) {
  return {
    async alertSymbolFailing(a: SymbolFailingAlert): Promise<void> {
      if (alert) return alert(a);
      Context.current().log.warn(
        `market source: ${a.symbol} failed ${a.failures} polls in a row on ${a.tradingDate}: ${a.reason}`,
        { ...a },
      );
    },

    async planMarketSession(input: { date: string }): Promise<SessionPlan> {
      const bad = businessDateProblem(input.date);
      if (bad)
        throw ApplicationFailure.create({
          message: `market session: trading date ${JSON.stringify(input.date)} is not a valid date. ${bad}`,
          type: 'BadInput',
          nonRetryable: true,
        });
      return sessionPlan(input.date, egxCalendar());
    },

    /**
     * Fetches every symbol's bars in [from, to) and publishes them. A symbol the source fails on
     * does not fail the poll (the session counts and alerts on it). Publishing is all or nothing:
     * when the bus is down the poll fails and Temporal retries it, so the session never moves past
     * a window whose bars did not reach the bus. A symbol that is not a ticker (say, from a
     * setSymbols signal another client sent) is never passed to the source: it fails with the
     * schema's reason, and the session alerts on it.
     */
    async pollMarket(input: {
      symbols: string[];
      interval: Interval;
      from: string;
      to: string;
    }): Promise<PollResult> {
      const failed: PollResult['failed'] = [];
      const metrics = activityMetrics(() => Context.current());
      const fetched: { symbol: string; bars: BarMessage[] }[] = [];
      await Promise.all(
        input.symbols.map(async (symbol) => {
          const problem = symbolProblem(symbol);
          if (problem) {
            failed.push({ symbol: String(symbol), reason: new SymbolInvalidError(symbol, problem).message });
            metrics.polls.add(1, { symbol: 'invalid', result: 'failed' });
            return;
          }
          try {
            const got = await source.fetchBars({
              symbols: [symbol],
              interval: input.interval,
              from: new Date(input.from),
              to: new Date(input.to),
            });
            fetched.push({ symbol, bars: got });
          } catch (e) {
            failed.push({ symbol, reason: e instanceof Error ? e.message : String(e) });
            metrics.polls.add(1, { symbol, result: 'failed' });
          }
        }),
      );
      const all = fetched.flatMap((f) => f.bars);
      let bars: number;
      try {
        bars = await publisher.publish(all);
      } catch (e) {
        throw new Error(
          `publishing ${all.length} bars of ${input.from}..${input.to} failed (the poll is retried): ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
      for (const f of fetched) metrics.polls.add(1, { symbol: f.symbol, result: 'ok' });
      metrics.barsPublished.add(bars);
      return { bars, failed };
    },
  };
}

export type MarketActivities = ReturnType<typeof createMarketActivities>;
