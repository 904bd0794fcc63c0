import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { getText } from '../../lib/lake/types.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { archiveKey, archiveOldStreamBars } from '../../lib/ops/archive.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

let store: LocalObjectStore;
let wh: DuckDbWarehouse;
const sim = new SimulatorSource(2);

beforeEach(async () => {
  store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-archive-')));
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  // Daily bars for COMI from mid-December 2024 to mid-February 2025.
  const bars = await sim.fetchBars({
    symbols: ['COMI', 'ETEL'],
    interval: '1d',
    from: new Date('2024-12-15T00:00:00Z'),
    to: new Date('2025-02-15T00:00:00Z'),
  });
  await createBarSink({ store, warehouse: wh }).write({
    origin: 'egx_market_data-0',
    entries: bars.map((bar, i) => ({ offset: String(i), bar })),
  });
});
afterEach(() => wh.close());

const count = async (where = '1 = 1') =>
  (await wh.query<{ N: number }>(`SELECT COUNT(*) AS N FROM RAW.STREAM_BARS WHERE ${where}`))[0]!.N;

test('rows older than the cutoff are archived per month, read back, and only then deleted; newer rows stay', async () => {
  const cutoff = new Date('2025-02-01T00:00:00Z');
  const old = await count("TS < TIMESTAMP '2025-02-01 00:00:00'");
  const newer = await count("TS >= TIMESTAMP '2025-02-01 00:00:00'");
  expect(old).toBeGreaterThan(20);
  const r = await archiveOldStreamBars(wh, store, { cutoff, runId: 'maint-1' });
  expect(r.months.map((m) => m.month)).toEqual(['2024-12', '2025-01']);
  expect(r).toMatchObject({ archived: old, deleted: old });
  expect(await count()).toBe(newer);
  const january = (await getText(store, archiveKey('2025-01', 'maint-1')))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { SYMBOL: string; TS: string });
  expect(january.length).toBe(r.months[1]!.rows);
  expect(january.every((b) => b.TS.startsWith('2025-01') && ['COMI', 'ETEL'].includes(b.SYMBOL))).toBe(true);
  // Nothing left to do the second time.
  expect(await archiveOldStreamBars(wh, store, { cutoff, runId: 'maint-2' })).toMatchObject({
    archived: 0,
    deleted: 0,
  });
});

test('a failed archive write deletes nothing', async () => {
  const before = await count();
  let puts = 0;
  const failing = Object.assign(Object.create(store) as LocalObjectStore, {
    put: async (...args: Parameters<LocalObjectStore['put']>) => {
      if (++puts === 2) throw new Error('bucket unavailable');
      return store.put(...args);
    },
  });
  await expect(
    archiveOldStreamBars(wh, failing, { cutoff: new Date('2025-02-01T00:00:00Z'), runId: 'm' }),
  ).rejects.toThrow(/bucket unavailable/);
  expect(await count()).toBe(before);
});

test('an archive that does not read back as written deletes nothing', async () => {
  const before = await count();
  const lossy = Object.assign(Object.create(store) as LocalObjectStore, {
    put: (key: string, body: string) => store.put(key, body.split('\n').slice(1).join('\n')),
  });
  await expect(
    archiveOldStreamBars(wh, lossy, { cutoff: new Date('2025-02-01T00:00:00Z'), runId: 'm' }),
  ).rejects.toThrow(
    /archive of 2024-12 at file:.* did not read back as written \(\d+ of \d+ rows\); nothing was deleted/,
  );
  expect(await count()).toBe(before);
});
