import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, expect, test } from 'vitest';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { ReplaySource } from '../../lib/sources/replay.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';

let store: LocalObjectStore;
beforeEach(() => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-replay-')));
});

// A recorded session morning: Sunday 2025-11-30 10:00–12:00 Cairo (08:00–10:00 UTC).
const recorded = () =>
  new SimulatorSource(21).fetchBars({
    symbols: ['COMI', 'ETEL'],
    interval: '5m',
    from: new Date('2025-11-30T08:00:00Z'),
    to: new Date('2025-11-30T10:00:00Z'),
  });

test('replays the streaming archive at 12× speed: a 5-minute poll gets an hour of recorded bars', async () => {
  const bars = await recorded();
  const comi = bars.filter((b) => b.symbol === 'COMI');
  // As the sink archives them: one line per bar with its offset; then a bad line and a legacy message.
  await store.put(
    'streaming/date=2025-11-30/symbol=COMI/egx_market_data-0-0.ndjson',
    comi.map((b, i) => JSON.stringify({ ...b, offset: String(i) })).join('\n') + '\n{"symbol": "COMI"\n',
  );
  await store.put(
    'streaming/date=2025-11-30/symbol=ETEL/old.ndjson',
    JSON.stringify({
      symbol: 'EGX:ETEL',
      datetime: '2025-11-30 10:05',
      interval: '5min',
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 10,
    }) + '\n',
  );
  const startedAt = new Date('2026-03-01T12:00:00Z');
  const replay = new ReplaySource({ store, prefix: 'streaming/date=2025-11-30/', speed: 12, startedAt });

  const first = await replay.fetchBars({
    symbols: ['COMI', 'ETEL'],
    interval: '5m',
    from: startedAt,
    to: new Date(startedAt.getTime() + 5 * 60_000),
  });
  expect(first.filter((b) => b.symbol === 'COMI')).toEqual(comi.slice(0, 12));
  expect(first.filter((b) => b.symbol === 'ETEL').map((b) => [b.ts, b.close])).toEqual([
    ['2025-11-30T08:05:00.000Z', 1.5],
  ]);
  const second = await replay.fetchBars({
    symbols: ['COMI'],
    interval: '5m',
    from: new Date(startedAt.getTime() + 5 * 60_000),
    to: new Date(startedAt.getTime() + 10 * 60_000),
  });
  expect(second).toEqual(comi.slice(12, 24));
  expect(replay.rejected).toEqual([
    {
      key: 'streaming/date=2025-11-30/symbol=COMI/egx_market_data-0-0.ndjson',
      line: 25,
      reason: expect.stringMatching(/^not JSON/),
    },
  ]);
});

test('replays daily price files in a batch format as daily bars at Cairo midnight, listing bad rows', async () => {
  await store.put(
    'batch/prices/COMI.csv',
    'Date,Open,High,Low,Close,Volume\n2025-11-27,80,82,79,81,1000\n2025-11-30,81,83,70,82,2000\n2025-12-01,82,81,83,82.5,1500\n',
  );
  const replay = new ReplaySource({
    store,
    prefix: 'batch/prices/',
    recordedStart: new Date('2025-11-26T22:00:00Z'),
    startedAt: new Date('2026-01-01T00:00:00Z'),
    speed: 86_400, // a day per second
  });
  const bars = await replay.fetchBars({
    symbols: ['COMI'],
    interval: '1d',
    from: new Date('2026-01-01T00:00:00Z'),
    to: new Date('2026-01-01T00:00:10Z'),
  });
  expect(bars.map((b) => [b.ts, b.close])).toEqual([
    ['2025-11-26T22:00:00.000Z', 81],
    ['2025-11-29T22:00:00.000Z', 82],
  ]);
  expect(replay.rejected).toEqual([
    { key: 'batch/prices/COMI.csv', line: 4, reason: expect.stringMatching(/high .* < low/) },
  ]);
  expect(await replay.latestQuote('COMI')).toMatchObject({ price: 82 });
});

test('an empty prefix is an error naming where it looked', async () => {
  const replay = new ReplaySource({ store, prefix: 'nothing/' });
  await expect(
    replay.fetchBars({ symbols: ['COMI'], interval: '1d', from: new Date(0), to: new Date() }),
  ).rejects.toThrow(/replay: no bars under file:.*\/nothing\//);
});
