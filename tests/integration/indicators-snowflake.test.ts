/**
 * The daily facts' SQL on Snowflake (the emulator): the indicators of the committed fixture agree
 * with TA-Lib there too, in a full build and in an incremental one (MERGE).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openWarehouse } from '../../lib/adapters.js';
import { buildModel, testModel } from '../../lib/transforms/build.js';
import { loadProject, type Project } from '../../lib/transforms/project.js';
import { DAILY_BAR_COLUMNS, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';
import type { Warehouse } from '../../lib/warehouse/types.js';
import { emulatorConfig } from '../support/snowflake.js';
import {
  compareWithTaLib,
  FACT_COLUMNS,
  fixtureBars,
  INDICATORS,
  priceRow,
  type Fact,
} from '../fixtures/indicators/fixture.js';

let wh: Warehouse;
let project: Project;
// The first 280 sessions of one of the fixture's symbols (TA-Lib's values of a day depend only on
// the days before it), with its death cross: the emulator is slow to take rows.
const bars = fixtureBars.filter((b) => b.symbol === 'CYCL').slice(0, 280);
const opts = { runId: 'sf-indicators', businessDate: '2025-08-01' };

beforeAll(async () => {
  wh = await openWarehouse(emulatorConfig());
  project = await loadProject(fileURLToPath(new URL('../../transforms', import.meta.url)));
});
afterAll(async () => wh?.close());

const build = async () => {
  await buildModel(wh, project, project.models.get('stg_stock_prices_unified')!, opts);
  return buildModel(wh, project, project.models.get('gold_fct_stock_daily_prices')!, opts);
};

test('the indicators agree with TA-Lib on Snowflake, in a full and an incremental build, and pass their tests', async () => {
  const lastDay = bars.at(-1)!.trade_date;
  // One INSERT of literals: the emulator binds parameters row by row (slower still).
  const values = bars
    .filter((b) => b.trade_date < lastDay)
    .map((b) => priceRow(b, new Date('2025-07-31T00:00:00Z')))
    .map(
      (r) =>
        `(${r.map((v) => (v instanceof Date ? `'${v.toISOString().slice(0, 19).replace('T', ' ')}'` : typeof v === 'string' ? `'${v}'` : String(v))).join(', ')})`,
    );
  await wh.execute(
    `INSERT INTO OPERATIONAL.TBL_STOCK_PRICE (${DAILY_BAR_COLUMNS.join(', ')}) VALUES ${values.join(', ')}`,
  );
  await build();
  await wh.upsert(
    TBL_STOCK_PRICE,
    DAILY_BAR_COLUMNS,
    bars.filter((b) => b.trade_date === lastDay).map((b) => priceRow(b, new Date())),
  );
  const day = await build();
  expect(day.rows).toBe(1);
  const rows = await wh.query<Fact>(
    `SELECT ${FACT_COLUMNS} FROM GOLD.gold_fct_stock_daily_prices ORDER BY symbol, trade_date`,
  );
  expect(rows).toHaveLength(bars.length);
  const { maxDiff, mismatches } = compareWithTaLib(rows);
  expect(mismatches).toEqual([]);
  for (const c of INDICATORS) expect(maxDiff[c], c).toBeLessThan(1e-6);
  expect(rows.map((r) => r.MA_CROSS_SIGNAL)).toContain('DEATH_CROSS');
  const results = await testModel(wh, project, project.models.get('gold_fct_stock_daily_prices')!, opts);
  expect(results.filter((r) => r.status === 'fail')).toEqual([]);
}, 120_000);
