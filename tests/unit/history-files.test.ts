import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { listCsvKeys, loadFiles } from '../../lib/ingest/load-many.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { getText } from '../../lib/lake/types.js';
import { batchHistoryKind, seedSyntheticHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

test('a synthetic history seeds an empty store with files the batch loader takes whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-seed-'));
  const store = new LocalObjectStore(join(dir, 'lake'));
  expect(await batchHistoryKind(store)).toEqual({ kind: 'empty' });

  const source = new SimulatorSource(5);
  const seeded = await seedSyntheticHistory({
    source,
    store,
    symbols: ['COMI', 'ETEL', 'XNEW'],
    from: '2026-09-21',
    to: '2026-11-19',
  });
  expect(await batchHistoryKind(store)).toMatchObject({
    kind: 'synthetic',
    from: '2026-09-21',
    to: '2026-11-19',
  });

  // Sunday–Thursday only, dated in Cairo time, values as the source gives them.
  const comi = (await getText(store, 'batch/prices/COMI.csv')).trim().split('\n');
  expect(comi[0]).toBe('Date,Open,High,Low,Close,Volume');
  const days = comi.slice(1).map((l) => l.split(',')[0]!);
  expect(days.at(-1)).toBe('2026-11-19');
  expect(days.every((d) => ![5, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()))).toBe(true);
  const [bar] = await source.fetchBars({
    symbols: ['COMI'],
    interval: '1d',
    from: new Date('2026-11-18T22:00:00Z'),
    to: new Date('2026-11-19T22:00:00Z'),
  });
  expect(comi.at(-1)).toBe(`2026-11-19,${bar!.open},${bar!.high},${bar!.low},${bar!.close},${bar!.volume}`);

  const wh = await openDuckDbWarehouse(join(dir, 'egx.duckdb'));
  try {
    await bootstrapWarehouse(wh);
    const keys = await listCsvKeys(store, 'batch/');
    expect(keys).toHaveLength(seeded.files);
    expect(keys).not.toContain('batch/SYNTHETIC-HISTORY.json');
    const results = await loadFiles({ store, warehouse: wh }, keys, { runId: 'seed' });
    expect(results.every((r) => !r.error && r.rowsQuarantined === 0)).toBe(true);
    const [prices] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE');
    expect(prices!.N).toBe(seeded.bars);
    const companies = await wh.query<{ SYMBOL: string; SECTOR: string }>(
      'SELECT SYMBOL, SECTOR FROM OPERATIONAL.TBL_COMPANY ORDER BY SYMBOL',
    );
    expect(companies).toEqual([
      { SYMBOL: 'COMI', SECTOR: 'Banks' },
      { SYMBOL: 'ETEL', SECTOR: 'Telecommunications' },
      { SYMBOL: 'XNEW', SECTOR: 'Unclassified' },
    ]);
    // Only the real tickers are index members.
    const members = await wh.query<{ SYMBOL: string }>(
      "SELECT SYMBOL FROM OPERATIONAL.TBL_INDEX_MEMBERSHIP WHERE INDEX_CODE = 'EGX30' ORDER BY SYMBOL",
    );
    expect(members.map((m) => m.SYMBOL)).toEqual(['COMI', 'ETEL']);

    // Brought up to date: the same files grow, a reload upserts, nothing is duplicated.
    const more = await seedSyntheticHistory({
      source,
      store,
      symbols: ['COMI', 'ETEL', 'XNEW'],
      from: '2026-09-21',
      to: '2026-11-26',
    });
    expect(more.bars).toBeGreaterThan(seeded.bars);
    expect(await listCsvKeys(store, 'batch/')).toEqual(keys);
    await loadFiles({ store, warehouse: wh }, keys, { runId: 'seed-2' });
    const [after] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE');
    expect(after!.N).toBe(more.bars);
    const [membership] = await wh.query<{ N: number }>(
      'SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_INDEX_MEMBERSHIP',
    );
    expect(membership!.N).toBe(2);
  } finally {
    await wh.close();
  }
});
