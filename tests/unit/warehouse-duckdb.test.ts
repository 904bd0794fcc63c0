import { afterAll, expect, test } from 'vitest';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { warehouseContract } from '../support/warehouse-contract.js';
import type { TableDef } from '../../lib/warehouse/types.js';

let wh: DuckDbWarehouse | undefined;
afterAll(async () => wh?.close());

warehouseContract('DuckDB', async () => (wh ??= await openDuckDbWarehouse(':memory:')));

test('concurrent reads, upserts and transactions on one warehouse do not trip over each other', async () => {
  const wh = await openDuckDbWarehouse(':memory:');
  try {
    const t: TableDef = {
      schema: 'MAIN',
      name: 'CONCURRENT',
      columns: [
        { name: 'K', type: 'BIGINT', nullable: false },
        { name: 'V', type: 'VARCHAR' },
      ],
      key: ['K'],
    };
    await wh.bootstrap([t]);
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push(
        wh.upsert(
          t,
          ['K', 'V'],
          Array.from({ length: 900 }, (_, k) => [i * 1000 + k, `v${i}`]),
        ),
      );
      work.push(wh.query('SELECT COUNT(*) AS N FROM MAIN.CONCURRENT'));
      work.push(wh.query('SELECT SUM(K) AS S FROM range(2000000) r(K)'));
      if (i % 10 === 0) work.push(wh.atomically([`DELETE FROM MAIN.CONCURRENT WHERE K = ${i * 1000}`]));
    }
    await Promise.all(work);
    const [row] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM MAIN.CONCURRENT');
    expect(row!.N).toBe(40 * 900 - 4);
  } finally {
    await wh.close();
  }
});

test('timestamps land the same whether given as Date objects, as text, or both in one column', async () => {
  const wh = await openDuckDbWarehouse(':memory:');
  try {
    const t: TableDef = {
      schema: 'MAIN',
      name: 'STAMPS',
      columns: [
        { name: 'K', type: 'VARCHAR', nullable: false },
        { name: 'STAMP', type: 'TIMESTAMP' },
      ],
      key: ['K'],
    };
    await wh.bootstrap([t]);
    const at = new Date('2024-06-23T12:34:56.789Z');
    const many = (prefix: string, v: Date | string | null) =>
      Array.from({ length: 60 }, (_, i) => [`${prefix}${i}`, i === 0 ? null : v]);
    await wh.upsert(t, ['K', 'STAMP'], many('date', at));
    await wh.upsert(t, ['K', 'STAMP'], many('text', '2024-06-23 12:34:56.789'));
    await wh.upsert(t, ['K', 'STAMP'], [...many('mixA', at), ...many('mixB', '2024-06-23 12:34:56.789')]);
    const rows = await wh.query<{ P: string; N: number; DISTINCT_AT: number; STAMP: Date }>(
      "SELECT regexp_extract(K, '^[a-zA-Z]+') AS P, COUNT(STAMP) AS N, COUNT(DISTINCT STAMP) AS DISTINCT_AT, MAX(STAMP) AS STAMP FROM MAIN.STAMPS GROUP BY P ORDER BY P",
    );
    expect(rows).toEqual(
      ['date', 'mixA', 'mixB', 'text'].map((P) => ({ P, N: 59, DISTINCT_AT: 1, STAMP: at })),
    );
  } finally {
    await wh.close();
  }
});

test('close waits for a write still running, which then completes', async () => {
  const wh = await openDuckDbWarehouse(':memory:');
  const write = wh.execute('CREATE TABLE T AS SELECT i, i % 7 AS R FROM range(5000000) t(i)');
  await new Promise((r) => setTimeout(r, 20));
  await wh.close();
  await expect(write).resolves.toBeUndefined();
});
