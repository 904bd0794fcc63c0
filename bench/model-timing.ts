/**
 * Times a few models' full and incremental builds on the transforms benchmark's data (1,000,000
 * daily bars, 250 symbols × 4,000 days, then one new day per symbol), comparing the SQL of two
 * transforms folders in the same run: the models' SQL as it is and as another folder has it (for
 * example an older version's, checked out with `git worktree add` or `git archive`). Each
 * repetition builds every model of both versions in turn: a full refresh, then, after dropping the
 * newest day from the published table, an incremental build of that day. Prints the median of each
 * (wall and CPU time) and checks the two versions give the same rows (largest absolute difference of every numeric
 * column). Only the named models are rebuilt; what they read is built once.
 *   node --import tsx bench/model-timing.ts --models gold_fct_stock_risk,gold_fct_stock_anomalies \
 *     --baseline <old transforms dir> [--reps 5 --symbols 250 --days 4000]
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel } from '../lib/transforms/build.js';
import { loadProject, planRun, relationOf, type Project } from '../lib/transforms/project.js';
import { openDuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../lib/warehouse/schema.js';
import { PROJECT_ROOT } from '../scripts/devstack/profile.js';
import { benchDay, seedBenchData, seedBenchDay, seedBenchIndex } from './transforms-data.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    baseline: { type: 'string' },
    transforms: { type: 'string', default: join(PROJECT_ROOT, 'transforms') },
    reps: { type: 'string', default: '5' },
    symbols: { type: 'string', default: '250' },
    days: { type: 'string', default: '4000' },
    /** A file to keep the generated and staged warehouse in, reused by later runs with the same sizes. */
    cache: { type: 'string' },
  },
});
if (!values.models) throw new Error('--models a,b is required');
const names = values.models.split(',');
const reps = Number(values.reps);
const symbols = Number(values.symbols);
const days = Number(values.days);
const day = benchDay;

const versions: { label: string; project: Project }[] = [
  ...(values.baseline ? [{ label: 'baseline', project: await loadProject(values.baseline) }] : []),
  { label: 'current', project: await loadProject(values.transforms) },
];
const current = versions.at(-1)!.project;
for (const n of names) if (!current.models.has(n)) throw new Error(`no model named ${n}`);

const dir = mkdtempSync(join(tmpdir(), 'egx-bench-model-timing-'));
const dbFile = join(dir, 'bench.duckdb');
const cached = values.cache && existsSync(values.cache);
if (cached) copyFileSync(values.cache!, dbFile);
const wh = await openDuckDbWarehouse(dbFile);
const runId = 'model-timing';
const businessDate = day(days + 1);
try {
  if (!cached) {
    await generate();
    if (values.cache) {
      await wh.execute('CHECKPOINT');
      copyFileSync(dbFile, values.cache);
    }
  }

  // Wall time, and the CPU time of this process (DuckDB's threads included), which other work on a
  // shared machine disturbs less.
  const times = new Map<string, { wall: number[]; cpu: number[] }>();
  const record = (key: string, wall: number, cpu: number) => {
    const t = times.get(key) ?? { wall: [], cpu: [] };
    t.wall.push(wall);
    t.cpu.push(cpu);
    times.set(key, t);
  };
  const cpuSince = (c0: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1e6;
  };
  const lastDay = day(days);
  for (let r = 0; r < reps; r++) {
    for (const v of versions) {
      for (const name of names) {
        const model = v.project.models.get(name)!;
        let c0 = process.cpuUsage();
        const full = await buildModel(wh, v.project, model, { runId, businessDate, fullRefresh: true });
        record(`${name} ${v.label} full`, full.seconds, cpuSince(c0));
        if (r === 0)
          await wh.execute(
            `CREATE OR REPLACE TABLE ${relationOf(model)}__${v.label}_full AS SELECT * FROM ${relationOf(model)}`,
          );
        await wh.execute(`DELETE FROM ${relationOf(model)} WHERE trade_date = CAST('${lastDay}' AS DATE)`);
        c0 = process.cpuUsage();
        const inc = await buildModel(wh, v.project, model, { runId, businessDate });
        const incCpu = cpuSince(c0);
        if (inc.rows !== symbols) throw new Error(`${name} ${v.label}: incremental built ${inc.rows} rows`);
        record(`${name} ${v.label} incremental`, inc.seconds, incCpu);
        if (r === 0)
          await wh.execute(
            `CREATE OR REPLACE TABLE ${relationOf(model)}__${v.label}_inc AS SELECT * FROM ${relationOf(model)}`,
          );
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [key, { wall, cpu }] of times)
    console.log(
      `${key.padEnd(45)} wall median ${median(wall).toFixed(2)} s (${wall.map((x) => x.toFixed(2)).join(' ')}), cpu median ${median(cpu).toFixed(2)} s (${cpu.map((x) => x.toFixed(2)).join(' ')})`,
    );

  // The same rows from every version, full and incremental: largest difference per column.
  for (const name of names) {
    const rel = relationOf(current.models.get(name)!);
    const cols = await wh.query<{ C: string; T: string }>(
      `SELECT COLUMN_NAME AS C, DATA_TYPE AS T FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'GOLD' AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [name],
    );
    const tables = versions.flatMap((v) => [`${rel}__${v.label}_full`, `${rel}__${v.label}_inc`]);
    const ref = tables[0]!;
    for (const other of tables.slice(1)) {
      const diffs = cols.map(({ C, T }) =>
        /DOUBLE|DECIMAL|FLOAT|BIGINT|INTEGER/.test(T)
          ? `max(abs(a.${C} - b.${C})) AS ${C}, count(*) filter (where (a.${C} is null) <> (b.${C} is null)) AS ${C}_nulls`
          : `count(*) filter (where a.${C} is distinct from b.${C}) AS ${C}`,
      );
      const [row] = await wh.query<Record<string, unknown>>(
        `SELECT count(*) AS ROWS_JOINED, count(a.symbol) AS ROWS_A, count(b.symbol) AS ROWS_B, ${diffs.join(', ')}
         FROM ${ref} a FULL JOIN ${other} b USING (symbol, trade_date)`,
      );
      const notSame = Object.entries(row!).filter(
        ([k, x]) => !k.toLowerCase().startsWith('rows_') && x !== null && Number(x) !== 0,
      );
      console.log(
        `${name}: ${ref.split('__').pop()} vs ${other.split('__').pop()}: rows ${String(row!.ROWS_A)}/${String(row!.ROWS_B)}/${String(row!.ROWS_JOINED)}; ` +
          (notSame.length
            ? `differs: ${notSame.map(([k, x]) => `${k}=${String(x)}`).join(', ')}`
            : 'identical'),
      );
    }
  }
} finally {
  await wh.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The benchmark's bars with one more day per symbol loaded a day later, and the models they feed. */
async function generate() {
  const tg = performance.now();
  await bootstrapWarehouse(wh);
  await seedBenchData(wh, symbols, days, new Date('2026-01-01T00:00:00Z'));
  const newDayLoaded = new Date('2026-01-02T00:00:00Z');
  await seedBenchDay(wh, symbols, days, newDayLoaded);
  await seedBenchIndex(wh, symbols, days, days + 1, newDayLoaded);
  await wh.execute('CHECKPOINT');
  // What the models read, built once (every model upstream of them, in dependency order).
  const upstream = planRun(current, names).flatMap((m) => m.refs);
  for (const m of planRun(current, upstream))
    if (!names.includes(m.name)) await buildModel(wh, current, m, { runId, businessDate });
  console.log(
    `generated and staged ${symbols * (days + 1)} bars in ${((performance.now() - tg) / 1000).toFixed(1)} s`,
  );
}
