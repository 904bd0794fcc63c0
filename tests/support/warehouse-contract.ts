import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { TableDef, Warehouse } from '../../lib/warehouse/types.js';

/** Behaviour every Warehouse adapter must have. `make` may return a shared instance; each test uses its own table. */
export function warehouseContract(name: string, make: () => Promise<Warehouse>) {
  const table = (): TableDef => ({
    schema: 'CONTRACT',
    name: `T_${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`,
    columns: [
      { name: 'SYMBOL', type: 'VARCHAR', nullable: false },
      { name: 'TRADE_DATE', type: 'DATE', nullable: false },
      { name: 'CLOSE_PRICE', type: 'DOUBLE' },
      { name: 'VOLUME', type: 'BIGINT' },
      { name: 'IS_FLAT', type: 'BOOLEAN' },
      { name: 'LOADED_AT', type: 'TIMESTAMP' },
    ],
    key: ['SYMBOL', 'TRADE_DATE'],
  });
  const cols = ['SYMBOL', 'TRADE_DATE', 'CLOSE_PRICE', 'VOLUME', 'IS_FLAT', 'LOADED_AT'];

  describe(`Warehouse contract: ${name}`, () => {
    test('bootstrap is idempotent and typed values round-trip, nulls included', async () => {
      const wh = await make();
      const t = table();
      await wh.bootstrap([t]);
      await wh.bootstrap([t]);
      const at = new Date('2024-06-23T12:34:56.000Z');
      await wh.bulkInsert(t, cols, [
        ['COMI', '2024-06-23', 81.25, 1234567, false, at],
        ['ETEL', '2024-06-23', null, null, null, null],
      ]);
      const rows = await wh.query(`SELECT ${cols.join(', ')} FROM ${t.schema}.${t.name} ORDER BY SYMBOL`);
      expect(rows).toEqual([
        {
          SYMBOL: 'COMI',
          TRADE_DATE: '2024-06-23',
          CLOSE_PRICE: 81.25,
          VOLUME: 1234567,
          IS_FLAT: false,
          LOADED_AT: at,
        },
        {
          SYMBOL: 'ETEL',
          TRADE_DATE: '2024-06-23',
          CLOSE_PRICE: null,
          VOLUME: null,
          IS_FLAT: null,
          LOADED_AT: null,
        },
      ]);
    });

    test('bulk insert writes thousands of rows; parameters bind', async () => {
      const wh = await make();
      const t = table();
      await wh.bootstrap([t]);
      // 50 symbols x 60 days, all distinct keys.
      const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
      const rows = Array.from({ length: 3000 }, (_, i) => [
        `S${i % 50}`,
        day(Math.floor(i / 50)),
        i / 10,
        i,
        i % 2 === 0,
        null,
      ]);
      expect(await wh.bulkInsert(t, cols, rows)).toBe(3000);
      const [n] = await wh.query<{ N: number }>(
        `SELECT COUNT(*) AS N FROM ${t.schema}.${t.name} WHERE VOLUME >= ?`,
        [0],
      );
      expect(n?.N).toBe(3000);
    });

    test('upsert inserts new keys, updates existing ones, and never duplicates', async () => {
      const wh = await make();
      const t = table();
      await wh.bootstrap([t]);
      expect(
        await wh.upsert(t, cols, [
          ['COMI', '2024-06-23', 80, 10, false, null],
          ['COMI', '2024-06-24', 81, 11, false, null],
        ]),
      ).toEqual({
        inserted: 2,
        updated: 0,
      });
      expect(
        await wh.upsert(t, cols, [
          ['COMI', '2024-06-24', 82, 12, true, null],
          ['COMI', '2024-06-25', 83, 13, false, null],
        ]),
      ).toEqual({
        inserted: 1,
        updated: 1,
      });
      const rows = await wh.query<{ TRADE_DATE: string; CLOSE_PRICE: number }>(
        `SELECT TRADE_DATE, CLOSE_PRICE FROM ${t.schema}.${t.name} ORDER BY TRADE_DATE`,
      );
      expect(rows.map((r) => [r.TRADE_DATE, r.CLOSE_PRICE])).toEqual([
        ['2024-06-23', 80],
        ['2024-06-24', 82],
        ['2024-06-25', 83],
      ]);
    });

    test('values shared by every row (file names, run ids) survive quoting, including quotes', async () => {
      const wh = await make();
      const t = table();
      await wh.bootstrap([t]);
      const at = new Date('2026-01-01T00:00:00.000Z');
      await wh.upsert(t, cols, [
        ["O'HARA; DROP", '2024-01-01', 1, 1, true, at],
        ["O'HARA; DROP", '2024-01-02', 2, 1, true, at],
      ]);
      const rows = await wh.query<{ SYMBOL: string; LOADED_AT: Date }>(
        `SELECT DISTINCT SYMBOL, LOADED_AT FROM ${t.schema}.${t.name}`,
      );
      expect(rows).toEqual([{ SYMBOL: "O'HARA; DROP", LOADED_AT: at }]);
    });

    test('bad column names are refused with the table named', async () => {
      const wh = await make();
      const t = table();
      await expect(wh.bulkInsert(t, ['SYMBOL', 'NOPE'], [['X', 1]])).rejects.toThrow(
        `CONTRACT.${t.name}: unknown column(s) NOPE`,
      );
      await expect(wh.upsert({ ...t, key: undefined }, cols, [])).rejects.toThrow(/needs a natural key/);
    });
  });
}
