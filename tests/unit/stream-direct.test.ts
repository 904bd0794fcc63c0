import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createMarketActivities } from '../../activities/market.js';
import type { BarMessage } from '../../lib/bus/message.js';
import { getText } from '../../lib/lake/types.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import type { MarketSource } from '../../lib/sources/types.js';
import { createDirectPublisher } from '../../lib/stream/direct.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

let store: LocalObjectStore;
let wh: DuckDbWarehouse;
beforeEach(async () => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-direct-')));
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
});
afterEach(() => wh.close());

const window = { interval: '5m' as const, from: '2025-11-30T08:00:00.000Z', to: '2025-11-30T09:00:00.000Z' };

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

test('direct mode: a poll lands in the archive, RAW.STREAM_BARS and TBL_STOCK_PRICE; a retried poll changes nothing', async () => {
  const publisher = createDirectPublisher({ sink: createBarSink({ store, warehouse: wh }), store });
  const acts = createMarketActivities({ source: new SimulatorSource(5), publisher });
  const r = await acts.pollMarket({ symbols: ['COMI', 'ETEL'], ...window });
  expect(r).toEqual({ bars: 24, failed: [] });
  await acts.pollMarket({ symbols: ['COMI', 'ETEL'], ...window });

  expect(await keys('streaming/')).toEqual([
    'streaming/date=2025-11-30/symbol=COMI/direct-5m-1764489600000.ndjson',
    'streaming/date=2025-11-30/symbol=ETEL/direct-5m-1764489600000.ndjson',
  ]);
  const [n] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS');
  expect(n!.N).toBe(24);
  const days = await wh.query(
    "SELECT SYMBOL, CAST(TRADE_DATE AS VARCHAR) AS D FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API' ORDER BY SYMBOL",
  );
  expect(days).toEqual([
    { SYMBOL: 'COMI', D: '2025-11-30' },
    { SYMBOL: 'ETEL', D: '2025-11-30' },
  ]);
});

test('direct mode: a bar the bus would dead-letter is quarantined with the reason; the rest land', async () => {
  const sim = new SimulatorSource(5);
  const broken: MarketSource = {
    name: 'broken',
    latestQuote: (symbol) => sim.latestQuote(symbol),
    async fetchBars(req) {
      const bars = await sim.fetchBars(req);
      return bars.map((b, i): BarMessage => (i === 3 ? { ...b, high: b.low - 1 } : b));
    },
  };
  const publisher = createDirectPublisher({ sink: createBarSink({ store, warehouse: wh }), store });
  const r = await createMarketActivities({ source: broken, publisher }).pollMarket({
    symbols: ['COMI'],
    ...window,
  });
  expect(r.bars).toBe(11);
  const [q] = await keys('quarantine/');
  const line = JSON.parse((await getText(store, q!)).trim()) as { reason: string; message: BarMessage };
  expect(line.reason).toMatch(/^high [\d.]+ < low [\d.]+$/);
  expect(line.message.symbol).toBe('COMI');
});

test('direct mode: a bar with a hostile symbol is quarantined under a safe key, never at a path it names', async () => {
  const sim = new SimulatorSource(5);
  const hostile: MarketSource = {
    name: 'hostile',
    latestQuote: (symbol) => sim.latestQuote(symbol),
    async fetchBars(req) {
      return (await sim.fetchBars(req)).map((b): BarMessage => ({ ...b, symbol: '../../batch/prices/COMI' }));
    },
  };
  const publisher = createDirectPublisher({ sink: createBarSink({ store, warehouse: wh }), store });
  const r = await createMarketActivities({ source: hostile, publisher }).pollMarket({
    symbols: ['COMI'],
    ...window,
  });
  expect(r).toEqual({ bars: 0, failed: [] });
  expect(await keys('')).toEqual(['quarantine/stream-direct/not-a-ticker-direct-5m-1764489600000.ndjson']);
  const [first] = (await getText(store, (await keys('quarantine/'))[0]!)).trim().split('\n');
  expect((JSON.parse(first!) as { reason: string }).reason).toMatch(
    /^symbol: "\.\.\/\.\.\/batch\/prices\/COMI" is not an EGX ticker/,
  );
});
