import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { BarMessage } from '../../lib/bus/message.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { barLine, type LiveView } from '../../lib/stream/influx.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

const bar = (over: Partial<BarMessage> = {}): BarMessage => ({
  schema: 1,
  symbol: 'COMI',
  exchange: 'EGX',
  interval: '5m',
  ts: '2025-11-30T08:05:00.000Z',
  open: 80.5,
  high: 81,
  low: 80.25,
  close: 80.75,
  volume: 12345.6,
  source: 'simulator',
  ingested_at: '2025-11-30T08:10:01.000Z',
  ...over,
});

test('a bar is one line-protocol point: key as tags, prices as floats, volume as an integer, time in ms', () => {
  expect(barLine(bar())).toBe(
    'market_bars,symbol=COMI,interval=5m open=80.5,high=81,low=80.25,close=80.75,volume=12346i,source="simulator" 1764489900000',
  );
  // Escaping: measurement commas and spaces, string-field quotes and backslashes.
  expect(barLine(bar({ source: 'say "hi" \\ there' }), 'egx bars,v1')).toBe(
    'egx\\ bars\\,v1,symbol=COMI,interval=5m open=80.5,high=81,low=80.25,close=80.75,volume=12346i,source="say \\"hi\\" \\\\ there" 1764489900000',
  );
  expect(() => barLine(bar({ close: Number.NaN }))).toThrow('not a finite number: NaN');
  expect(() => barLine(bar({ ts: 'yesterday' }))).toThrow('bar COMI has an unreadable ts "yesterday"');
});

test('the sink hands the live view each bar once (the latest of a repeat), and a live view that fails fails the batch', async () => {
  const wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-live-')));
  const seen: BarMessage[][] = [];
  const live: LiveView = { write: async (bars) => void seen.push(bars) };
  const sink = createBarSink({ store, warehouse: wh, live });
  const first = bar();
  const second = bar({ ts: '2025-11-30T08:10:00.000Z' });
  const corrected = { ...first, close: 80.8 };
  await sink.write({
    origin: 't-0',
    entries: [first, second, corrected].map((b, i) => ({ offset: String(i), bar: b })),
  });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toHaveLength(2);
  expect(seen[0]).toEqual(expect.arrayContaining([corrected, second]));

  const down = createBarSink({
    store,
    warehouse: wh,
    live: { write: () => Promise.reject(new Error('InfluxDB at http://127.0.0.1:1: refused')) },
  });
  const third = bar({ ts: '2025-11-30T08:15:00.000Z' });
  await expect(down.write({ origin: 't-0', entries: [{ offset: '9', bar: third }] })).rejects.toThrow(
    'InfluxDB at http://127.0.0.1:1: refused',
  );
  await wh.close();
});
