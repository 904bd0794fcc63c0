/**
 * Transforms benchmark: 1,000,000 daily bars (250 symbols × 4,000 days) in a fresh DuckDB file;
 * times a full rebuild of every model plus every data test, then an incremental run after one new
 * day per symbol. On a copy of the same data, the same models' SQL runs directly in one DuckDB
 * connection with no runner (`bare_sql_seconds`, the limit; `overhead_ratio` is our full build ÷
 * that). Each is timed `--repeat` times (our full build and the bare SQL taking turns; the
 * incremental run with the new day loaded again each time) and the best time counts, as the least
 * disturbed by whatever else the machine does. In the same run, dbt-core + dbt-duckdb (installed from PyPI into .devstack/bench-dbt)
 * builds the same models from the same SQL on another copy. Last line: one JSON object.
 *   npm run bench:transforms [-- --symbols 250 --days 4000 --no-dbt --transforms <dir>]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildModel, testModel, type TestResult } from '../lib/transforms/build.js';
import { loadProject, planRun, relationOf, renderSql, type Project } from '../lib/transforms/project.js';
import { defaultDuckDbThreads, openDuckDbWarehouse, type DuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../lib/warehouse/schema.js';
import { pooled } from '../lib/util/pool.js';
import { PROJECT_ROOT } from '../scripts/devstack/profile.js';
import { benchDay, seedBenchData, seedBenchDay } from './transforms-data.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '250' },
    days: { type: 'string', default: '4000' },
    'no-dbt': { type: 'boolean' },
    repeat: { type: 'string', default: '3' },
    /** Another transforms folder (for example an older version's), to compare. */
    transforms: { type: 'string', default: join(PROJECT_ROOT, 'transforms') },
  },
});
const symbols = Number(values.symbols);
const days = Number(values.days);
const repeat = Math.max(1, Number(values.repeat));
const dir = mkdtempSync(join(tmpdir(), 'egx-bench-transforms-'));
const dbFile = join(dir, 'bench.duckdb');
const transformsDir = values.transforms;
async function runAll(
  wh: DuckDbWarehouse,
  project: Project,
  runId: string,
  businessDate: string,
  fullRefresh = false,
) {
  const t0 = performance.now();
  const audited = new Map<string, TestResult[] | undefined>();
  for (const m of planRun(project))
    audited.set(m.name, (await buildModel(wh, project, m, { runId, businessDate, fullRefresh })).audited);
  const built = performance.now();
  // Tests read on connections of their own, three models at a time as the transforms workflow runs
  // them (builds are one after another: DuckDB has one writer, so running them at once gains nothing).
  const results = await pooled(planRun(project), 3, (m) =>
    testModel(wh, project, m, { runId, businessDate, audited: audited.get(m.name) }),
  );
  const tests = results.flat().length;
  return { runId, seconds: (performance.now() - t0) / 1000, buildSeconds: (built - t0) / 1000, tests };
}

/** The run with the shortest build, after saying each run's times. */
function best<T extends { seconds: number; buildSeconds: number }>(what: string, runs: T[]): T {
  console.log(
    `${what}: build ${runs.map((r) => r.buildSeconds.toFixed(2)).join(', ')} s; build + tests ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s`,
  );
  return runs.reduce((a, b) => (b.buildSeconds < a.buildSeconds ? b : a));
}

async function slowestModels(wh: DuckDbWarehouse, runId: string): Promise<string> {
  const rows = await wh.query<{ MODEL_NAME: string; SECONDS: number }>(
    'SELECT MODEL_NAME, SECONDS FROM META.MODEL_RUNS WHERE RUN_ID = ? ORDER BY SECONDS DESC LIMIT 4',
    [runId],
  );
  return `  slowest: ${rows.map((m) => `${m.MODEL_NAME} ${m.SECONDS.toFixed(2)} s`).join(', ')}`;
}

const wh = await openDuckDbWarehouse(dbFile);
await bootstrapWarehouse(wh);
const tg = performance.now();
await seedBenchData(wh, symbols, days, new Date('2026-01-01T00:00:00Z'));
console.log(`generated ${symbols * days} bars in ${((performance.now() - tg) / 1000).toFixed(1)} s`);
await wh.execute('CHECKPOINT');
copyFileSync(dbFile, join(dir, 'dbt.duckdb'));
copyFileSync(dbFile, join(dir, 'bare.duckdb'));
// The copies' writes reach the disk now, not during the timed build.
execFileSync('sync');

const project = await loadProject(transformsDir);
const businessDate = benchDay(days);
// Our full build and the bare SQL take turns, so a slower spell of the machine falls on both.
const fullRuns = [];
const bareRuns: number[] = [];
for (let r = 0; r < repeat; r++) {
  fullRuns.push(await runAll(wh, project, `bench-full-${r}`, businessDate, r > 0));
  bareRuns.push(await runBare(project));
}
const full = best(`full (${fullRuns[0]!.tests} tests)`, fullRuns);
console.log(await slowestModels(wh, full.runId));
const incRuns = [];
for (let r = 0; r < repeat; r++) {
  await seedBenchDay(wh, symbols, days, new Date());
  incRuns.push(await runAll(wh, project, `bench-incremental-${r}`, benchDay(days + 1)));
}
const inc = best('incremental (one new day per symbol)', incRuns);
console.log(await slowestModels(wh, inc.runId));
await wh.close();

const bareSeconds = Math.min(...bareRuns);
console.log(
  `bare SQL (each model's statement in one connection, no runner): ${bareRuns.map((x) => x.toFixed(2)).join(', ')} s; our best full build ÷ best bare: ${(full.buildSeconds / bareSeconds).toFixed(2)}`,
);

let dbtSeconds: number | null = null;
if (!values['no-dbt']) dbtSeconds = runDbt(project);
rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    full_seconds: Number(full.seconds.toFixed(2)),
    incremental_seconds: Number(inc.seconds.toFixed(2)),
    tests: full.tests,
    bare_sql_seconds: Number(bareSeconds.toFixed(2)),
    overhead_ratio: Number((full.buildSeconds / bareSeconds).toFixed(2)),
    dbt_full_seconds: dbtSeconds === null ? null : Number(dbtSeconds.toFixed(2)),
    speedup_vs_dbt: dbtSeconds === null ? null : Number((dbtSeconds / full.buildSeconds).toFixed(2)),
  }),
);

/**
 * The limit for a full build: every model's SQL, as the runner renders it for a full build, run as
 * one CREATE statement each (views as views), in dependency order on one connection to a copy of
 * the data; no write-audit-publish, no tests, no bookkeeping.
 */
async function runBare(p: Project): Promise<number> {
  const instance = await DuckDBInstance.create(join(dir, 'bare.duckdb'), {
    threads: String(defaultDuckDbThreads()),
    allocator_flush_threshold: '16MB',
    allocator_bulk_deallocation_flush_threshold: '16MB',
  });
  const conn = await instance.connect();
  try {
    const t0 = performance.now();
    for (const schema of new Set(planRun(p).map((m) => m.schema)))
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    for (const m of planRun(p)) {
      const kind = m.materialized === 'view' ? 'VIEW' : 'TABLE';
      await conn.run(`CREATE OR REPLACE ${kind} ${relationOf(m)} AS ${renderSql(p, m)}`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** dbt-core + dbt-duckdb building the same SQL (refs and sources are dbt's own syntax) on a copy of the data. */
function runDbt(p: Project): number {
  const venv = join(PROJECT_ROOT, '.devstack', 'bench-dbt');
  const dbt = join(venv, 'bin', 'dbt');
  if (!existsSync(dbt)) {
    console.log('installing dbt-core + dbt-duckdb into .devstack/bench-dbt (once)');
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    // Pinned: newer dbt-core builds download a parser from GitHub at install time.
    execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', 'dbt-core==1.10.23', 'dbt-duckdb==1.10.1'], {
      stdio: 'inherit',
    });
  }
  const proj = join(dir, 'dbt');
  mkdirSync(join(proj, 'models'), { recursive: true });
  mkdirSync(join(proj, 'macros'), { recursive: true });
  writeFileSync(
    join(proj, 'dbt_project.yml'),
    `name: egx_bench\nversion: '1.0.0'\nconfig-version: 2\nprofile: egx_bench\nmodel-paths: [models]\nmacro-paths: [macros]\n`,
  );
  writeFileSync(
    join(proj, 'profiles.yml'),
    `egx_bench:\n  target: bench\n  outputs:\n    bench:\n      type: duckdb\n      path: ${join(dir, 'dbt.duckdb')}\n      threads: 2\n`,
  );
  writeFileSync(
    join(proj, 'macros', 'project.sql'),
    `{% macro generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name }}{% endmacro %}\n` +
      `{% macro incremental_input(col) %}1 = 1{% endmacro %}\n`,
  );
  // Every table a model reads, by schema, so a model reading a new one needs no change here.
  const sources = new Map<string, Set<string>>();
  for (const m of p.models.values())
    for (const t of m.sources) {
      const [schema, table] = t.split('.') as [string, string];
      sources.set(schema, (sources.get(schema) ?? new Set()).add(table));
    }
  writeFileSync(
    join(proj, 'models', 'sources.yml'),
    `version: 2\nsources:\n${[...sources]
      .map(
        ([schema, tables]) =>
          `  - name: ${schema}\n    schema: ${schema}\n    tables: [${[...tables].map((t) => `{name: ${t}}`).join(', ')}]\n`,
      )
      .join('')}`,
  );
  for (const m of p.models.values()) {
    // dbt's snapshots are another kind of node; as a model, a snapshot's first build is a table.
    const materialized =
      m.materialized === 'incremental' || m.materialized === 'snapshot' ? 'table' : m.materialized;
    writeFileSync(
      join(proj, 'models', `${m.name}.sql`),
      `{{ config(materialized='${materialized}', schema='${m.schema}') }}\n${m.sql}`,
    );
  }
  const t0 = performance.now();
  const r = spawnSync(dbt, ['run', '--project-dir', proj, '--profiles-dir', proj, '--quiet'], {
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(
      `dbt run failed:\n${r.stdout}\n${r.stderr}\n${readFileSync(join(proj, 'logs', 'dbt.log'), 'utf8').slice(-2000)}`,
    );
  console.log(`dbt run (${p.models.size} models): ${seconds.toFixed(2)} s`);
  const results = JSON.parse(readFileSync(join(proj, 'target', 'run_results.json'), 'utf8')) as {
    results: { unique_id: string; execution_time: number }[];
  };
  const dbtSlowest = results.results.sort((a, b) => b.execution_time - a.execution_time).slice(0, 4);
  console.log(
    `  slowest: ${dbtSlowest.map((r) => `${r.unique_id.split('.').pop()} ${r.execution_time.toFixed(2)} s`).join(', ')}`,
  );
  return seconds;
}
