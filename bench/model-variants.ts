/**
 * Times versions of one model's SQL against each other on the transforms bench's data (250 symbols
 * × 4,000 days by default): each version's full build, and its incremental build after one new day
 * per symbol, as the runner renders them (CREATE TABLE ... AS, in the warehouse file). The versions
 * take turns, several rounds; the figures are medians of wall and CPU seconds (CPU of this process,
 * DuckDB's threads included: steadier than wall time on a shared machine), and the median over the
 * rounds of each version's time ÷ the first version's in the same round. Then checks that every
 * version gives the first one's rows: the largest difference per column (relative above 1).
 *   node --import tsx bench/model-variants.ts [--model gold_fct_stock_daily_prices] [--rounds 5]
 *     [--cache /tmp/bars.duckdb] old.sql new.sql ...
 * Only the model's inputs are built (once; --cache keeps them for the next run).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel } from '../lib/transforms/build.js';
import { loadProject, planRun, renderSql, type Model } from '../lib/transforms/project.js';
import { openDuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { DAILY_BAR_COLUMNS, TBL_STOCK_PRICE, bootstrapWarehouse } from '../lib/warehouse/schema.js';
import { PROJECT_ROOT } from '../scripts/devstack/profile.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', default: 'gold_fct_stock_daily_prices' },
    symbols: { type: 'string', default: '250' },
    days: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '5' },
    /** A DuckDB file keeping the generated bars and built inputs between runs. */
    cache: { type: 'string' },
    'no-check': { type: 'boolean' },
  },
});
if (positionals.length === 0) throw new Error('give one or more SQL files of the model');
const symbols = Number(values.symbols);
const days = Number(values.days);
const rounds = Number(values.rounds);
const day = (d: number) => new Date(Date.UTC(2010, 0, 1 + d)).toISOString().slice(0, 10);
const sym = (s: number) => `S${String(s).padStart(4, '0')}`;

/** The same bars as bench/transforms.ts. */
function bars(s: number, fromDay: number, toDay: number, at: Date) {
  let x = s + 1;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  let close = 10 + (s % 90);
  const rows = [];
  for (let d = 0; d < toDay; d++) {
    const open = close;
    close = Math.max(0.5, open * (1 + (rnd() - 0.5) * 0.06));
    const high = Math.max(open, close) * (1 + rnd() * 0.01);
    const low = Math.min(open, close) * (1 - rnd() * 0.01);
    if (d >= fromDay)
      rows.push([sym(s), day(d), 'ohlcv', open, high, low, close, Math.floor(rnd() * 5e6), at]);
  }
  return rows;
}

const project = await loadProject(join(PROJECT_ROOT, 'transforms'));
const model = project.models.get(values.model);
if (!model) throw new Error(`no model named ${values.model}`);
const dir = mkdtempSync(join(tmpdir(), 'egx-bench-variants-'));
const dbFile = join(dir, 'bench.duckdb');

/** Whether the model reads `name`, directly or not. */
const reads = (from: Model, name: string): boolean =>
  from.refs.includes(name) || from.refs.some((r) => reads(project.models.get(r)!, name));

if (values.cache && existsSync(values.cache)) copyFileSync(values.cache, dbFile);
else {
  const wh = await openDuckDbWarehouse(dbFile);
  await bootstrapWarehouse(wh);
  for (let s = 0; s < symbols; s++)
    await wh.bulkInsert(
      TBL_STOCK_PRICE,
      DAILY_BAR_COLUMNS,
      bars(s, 0, days, new Date('2026-01-01T00:00:00Z')),
    );
  // The inputs as the full build sees them, then after one new day per symbol (the last bars
  // are what the incremental build adds; the full build reads them too).
  const inputs = planRun(project).filter((m) => reads(model, m.name));
  const opts = { runId: 'variants', businessDate: day(days + 1) };
  for (const m of inputs) await buildModel(wh, project, m, opts);
  for (let s = 0; s < symbols; s++)
    await wh.bulkInsert(TBL_STOCK_PRICE, DAILY_BAR_COLUMNS, bars(s, days, days + 1, new Date()));
  for (const m of inputs) await buildModel(wh, project, m, opts);
  await wh.execute('CHECKPOINT');
  await wh.close();
  if (values.cache) copyFileSync(dbFile, values.cache);
}

const variants = positionals.map((file, i) => ({
  label: `v${i}_${basename(file).replace(/\W/g, '_')}`,
  model: { ...model, sql: readFileSync(file, 'utf8') },
}));
const since = day(days);
const builds = {
  full: (m: Model) => renderSql(project, m),
  incremental: (m: Model) =>
    `SELECT * FROM (${renderSql(project, m, since)}) n WHERE ${m.incremental?.column ?? 'trade_date'} >= CAST('${since}' AS DATE)`,
};
type Kind = keyof typeof builds;
const kinds = Object.keys(builds) as Kind[];
const times = new Map<string, { wall: number[]; cpu: number[] }>();
const wh = await openDuckDbWarehouse(dbFile);
for (let r = 0; r < rounds; r++)
  for (const v of variants)
    for (const kind of kinds) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await wh.execute(`CREATE OR REPLACE TABLE GOLD.${v.label}_${kind} AS ${builds[kind](v.model)}`);
      const wall = (performance.now() - t0) / 1000;
      const used = process.cpuUsage(c0);
      const t = times.get(`${v.label} ${kind}`) ?? { wall: [], cpu: [] };
      t.wall.push(wall);
      t.cpu.push((used.user + used.system) / 1e6);
      times.set(`${v.label} ${kind}`, t);
    }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const kind of kinds)
  for (const v of variants) {
    const t = times.get(`${v.label} ${kind}`)!;
    const base = times.get(`${variants[0]!.label} ${kind}`)!;
    const ratio = (xs: number[], of: number[]) => median(xs.map((x, i) => x / of[i]!)).toFixed(2);
    console.log(
      `${kind} ${v.label}: wall ${median(t.wall).toFixed(3)} s, cpu ${median(t.cpu).toFixed(3)} s` +
        (v === variants[0]
          ? ''
          : ` (÷ first: wall ${ratio(t.wall, base.wall)}, cpu ${ratio(t.cpu, base.cpu)})`) +
        ` [cpu ${t.cpu.map((x) => x.toFixed(2)).join(' ')}]`,
    );
  }

if (!values['no-check'])
  for (const kind of kinds) {
    const base = `GOLD.${variants[0]!.label}_${kind}`;
    const cols = await wh.query<{ C: string; T: string }>(
      'SELECT COLUMN_NAME AS C, DATA_TYPE AS T FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      ['GOLD', `${variants[0]!.label}_${kind}`],
    );
    const keys = model.uniqueKey ?? [];
    const others = cols.filter((c) => !keys.some((k) => k.toLowerCase() === c.C.toLowerCase()));
    for (const v of variants.slice(1)) {
      const diffs = others.map((c) =>
        /DOUBLE|FLOAT|DECIMAL|INT/.test(c.T)
          ? `coalesce(max(abs(a.${c.C} - b.${c.C}) / greatest(1, abs(a.${c.C}))), 0) + count(*) filter (where (a.${c.C} is null) <> (b.${c.C} is null)) AS "${c.C}"`
          : `count(*) filter (where a.${c.C} is distinct from b.${c.C}) AS "${c.C}"`,
      );
      const on = keys.map((k) => `a.${k} = b.${k}`).join(' AND ');
      const [row] = await wh.query<Record<string, number>>(
        `SELECT count(*) filter (where a.${keys[0]} is null or b.${keys[0]} is null) AS "unmatched rows", ${diffs.join(', ')}
         FROM ${base} a FULL JOIN GOLD.${v.label}_${kind} b ON ${on}`,
      );
      const differing = Object.entries(row!).filter(([, x]) => Number(x) !== 0);
      console.log(
        `${kind} ${v.label} against ${variants[0]!.label}: ${differing.length === 0 ? 'the same rows' : differing.map(([k, x]) => `${k} ${Number(x)}`).join(', ')}`,
      );
    }
  }
await wh.close();
rmSync(dir, { recursive: true, force: true });
