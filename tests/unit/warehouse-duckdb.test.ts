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
