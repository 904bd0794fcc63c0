import { Context } from '@temporalio/activity';
import type { BarMessage } from '../lib/bus/message.js';
import { cairoMidnight } from '../lib/market/calendar.js';
import type { MarketSource } from '../lib/sources/types.js';

export interface BackfillBarsInput {
  symbols: string[];
  /** Cairo dates, inclusive. */
  from: string;
  to: string;
}

/** The backfill's work: daily bars for a date range from the market source, through the same sinks polls use. */
export function createBackfillActivities(deps: {
  source: MarketSource;
  publisher: { publish(bars: BarMessage[]): Promise<number> };
}) {
  return {
    async backfillBars(input: BackfillBarsInput): Promise<{ bars: number; symbols: number }> {
      const ctx = Context.current();
      const from = cairoMidnight(input.from);
      const to = cairoMidnight(input.to, 1);
      let bars = 0;
      let done = 0;
      for (const symbol of input.symbols) {
        const got = await deps.source.fetchBars({ symbols: [symbol], interval: '1d', from, to });
        bars += await deps.publisher.publish(got);
        ctx.heartbeat({ symbols: ++done, of: input.symbols.length, bars });
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      }
      return { bars, symbols: done };
    },
  };
}

export type BackfillActivities = ReturnType<typeof createBackfillActivities>;
