import { decodeBar, type BarMessage } from '../bus/message.js';
import type { ObjectStore } from '../lake/types.js';
import { isSymbol } from '../market/symbol.js';
import type { BarSink } from './sink.js';

/**
 * Direct mode (no broker): a poll's bars go straight through the same sinks the Kafka consumer
 * uses. A bar's position is its open time in epoch milliseconds, so a retried poll rewrites the
 * same archive files. Bars that fail the bus validation are quarantined with the reason, as the
 * consumer would dead-letter them.
 */
export function createDirectPublisher(deps: { sink: BarSink; store: ObjectStore }) {
  return {
    async publish(bars: BarMessage[]): Promise<number> {
      if (bars.length === 0) return 0;
      const good: { offset: string; bar: BarMessage }[] = [];
      const bad: string[] = [];
      for (const bar of bars) {
        const d = decodeBar(JSON.stringify(bar));
        if (d.ok) good.push({ offset: String(Date.parse(d.bar.ts)), bar: d.bar });
        else bad.push(JSON.stringify({ reason: d.reason, message: bar }));
      }
      const origin = `direct-${bars[0]!.interval}`;
      if (bad.length > 0) {
        const first = bars[0]!;
        // The symbol may be the reason the bar is bad: only a ticker goes into the key.
        const name = isSymbol(first.symbol) ? first.symbol : 'not-a-ticker';
        await deps.store.put(
          `quarantine/stream-direct/${name}-${origin}-${Date.parse(first.ts) || 0}.ndjson`,
          bad.join('\n') + '\n',
        );
      }
      const r = await deps.sink.write({ origin, entries: good });
      return r.bars;
    },
    close: () => Promise.resolve(),
  };
}
