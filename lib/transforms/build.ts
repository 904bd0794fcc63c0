import { DuckDbWarehouse } from '../warehouse/duckdb.js';
import { MODEL_RUNS, TEST_RESULTS } from '../warehouse/schema.js';
import type { Warehouse } from '../warehouse/types.js';
import { relationOf, renderSql, type Model, type Project } from './project.js';
import { bindTest, compileTests, type CompiledTest } from './tests.js';

export interface TestResult {
  model: string;
  test: string;
  severity: 'error' | 'warn';
  status: 'pass' | 'fail' | 'warn';
  failingRows: number;
  /** Up to three failing rows, as JSON. */
  sample: string;
}

export interface ModelBuildResult {
  model: string;
  materialized: Model['materialized'];
  rows: number;
  seconds: number;
}

/** Thrown by buildModel when the new version fails an error-severity test; the published version is untouched. */
export class ModelAuditFailedError extends Error {
  constructor(
    readonly model: string,
    readonly failures: TestResult[],
  ) {
    super(
      `model ${model} not published: audit failed: ${failures.map((f) => `${f.test} (${f.failingRows} failing rows, e.g. ${f.sample})`).join('; ')}`,
    );
    this.name = 'ModelAuditFailedError';
  }
}

async function runTests(
  wh: Warehouse,
  model: Model,
  tests: CompiledTest[],
  relation: string,
  businessDate: string,
): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const t of tests) {
    const failing = bindTest(t, relation, businessDate);
    const [row] = await wh.query<{ N: number }>(`SELECT COUNT(*) AS N FROM (${failing}) f`);
    const n = row?.N ?? 0;
    const sample = n > 0 ? JSON.stringify(await wh.query(`SELECT * FROM (${failing}) f LIMIT 3`)) : '';
    results.push({
      model: model.name,
      test: t.name,
      severity: t.severity,
      status: n === 0 ? 'pass' : t.severity === 'error' ? 'fail' : 'warn',
      failingRows: n,
      sample,
    });
  }
  return results;
}

/** Replaces the published relation by the audited one in one step readers cannot see half-done. */
async function publish(wh: Warehouse, model: Model, sql: string, wap: string): Promise<void> {
  const target = relationOf(model);
  const kind = model.materialized === 'view' ? 'VIEW' : 'TABLE';
  const [existing] = await wh.query<{ T: string }>(
    `SELECT TABLE_TYPE AS T FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ?`,
    [model.schema, model.name.toUpperCase()],
  );
  const dropOld = existing
    ? `DROP ${/VIEW/i.test(existing.T) ? 'VIEW' : 'TABLE'} IF EXISTS ${target}`
    : undefined;
  if (kind === 'VIEW') {
    if (dropOld && !/VIEW/i.test(existing!.T)) await wh.execute(dropOld);
    await wh.execute(`CREATE OR REPLACE VIEW ${target} AS ${sql}`);
    await wh.execute(`DROP VIEW IF EXISTS ${wap}`);
    return;
  }
  if (wh instanceof DuckDbWarehouse) {
    await wh.atomically([...(dropOld ? [dropOld] : []), `ALTER TABLE ${wap} RENAME TO ${model.name}`]);
  } else if (existing && !/VIEW/i.test(existing.T)) {
    await wh.execute(`ALTER TABLE ${wap} SWAP WITH ${target}`);
    await wh.execute(`DROP TABLE IF EXISTS ${wap}`);
  } else {
    if (dropOld) await wh.execute(dropOld);
    await wh.execute(`ALTER TABLE ${wap} RENAME TO ${target}`);
  }
}

/**
 * For an incremental model whose table exists: the newest published date and how far back the
 * input must start (`lookback_days` earlier, for window functions). Undefined means build it whole.
 */
async function incrementalWindow(
  wh: Warehouse,
  model: Model,
): Promise<{ column: string; after: string; since: string } | undefined> {
  if (model.materialized !== 'incremental' || !model.incremental) return undefined;
  const [exists] = await wh.query<{ N: number }>(
    'SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ?',
    [model.schema, model.name.toUpperCase()],
  );
  if (!exists?.N) return undefined;
  const { column, lookbackDays } = model.incremental;
  const [row] = await wh.query<{ M: string | null }>(
    `SELECT CAST(MAX(${column}) AS VARCHAR) AS M FROM ${relationOf(model)}`,
  );
  if (!row?.M) return undefined;
  const after = row.M.slice(0, 10);
  const since = new Date(Date.parse(`${after}T00:00:00Z`) - lookbackDays * 86_400_000)
    .toISOString()
    .slice(0, 10);
  return { column, after, since };
}

/**
 * Write-audit-publish: builds the model's new version beside the published one, runs its
 * error-severity tests on it, and only then publishes it. A failed audit drops the new version,
 * leaves the old one in place and throws ModelAuditFailedError.
 */
export async function buildModel(
  wh: Warehouse,
  project: Project,
  model: Model,
  opts: { runId: string; businessDate: string; fullRefresh?: boolean },
): Promise<ModelBuildResult> {
  const started = performance.now();
  const wap = `${model.schema}.${model.name}__wap`;
  await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${model.schema}`);
  const newer = opts.fullRefresh ? undefined : await incrementalWindow(wh, model);
  const sql = renderSql(project, model, newer?.since);
  await wh.execute(
    model.materialized === 'view'
      ? `CREATE OR REPLACE VIEW ${wap} AS ${sql}`
      : newer
        ? // Only rows newer than the published ones; the input reaches back far enough for their windows.
          `CREATE OR REPLACE TABLE ${wap} AS SELECT * FROM (${sql}) n WHERE ${newer.column} > CAST('${newer.after}' AS DATE)`
        : `CREATE OR REPLACE TABLE ${wap} AS ${sql}`,
  );
  const audit = await runTests(
    wh,
    model,
    compileTests(project, model).filter((t) => t.severity === 'error'),
    wap,
    opts.businessDate,
  );
  const failed = audit.filter((r) => r.status === 'fail');
  const [count] = await wh.query<{ N: number }>(`SELECT COUNT(*) AS N FROM ${wap}`);
  const rows = count?.N ?? 0;
  const record = (status: string, detail: string) =>
    wh.upsert(
      MODEL_RUNS,
      ['RUN_ID', 'MODEL_NAME', 'MATERIALIZED', 'STATUS', 'ROWS', 'SECONDS', 'DETAIL', 'BUILT_AT'],
      [
        [
          opts.runId,
          model.name,
          model.materialized,
          status,
          rows,
          (performance.now() - started) / 1000,
          detail,
          new Date(),
        ],
      ],
    );
  if (failed.length > 0) {
    await wh.execute(`DROP ${model.materialized === 'view' ? 'VIEW' : 'TABLE'} IF EXISTS ${wap}`);
    const err = new ModelAuditFailedError(model.name, failed);
    await record('audit_failed', err.message);
    throw err;
  }
  if (newer) {
    // One statement: readers see the table before or after the new rows, never half of them.
    await wh.execute(`INSERT INTO ${relationOf(model)} SELECT * FROM ${wap}`);
    await wh.execute(`DROP TABLE IF EXISTS ${wap}`);
  } else {
    await publish(wh, model, sql, wap);
  }
  const seconds = (performance.now() - started) / 1000;
  await record('published', '');
  return { model: model.name, materialized: model.materialized, rows, seconds };
}

/** Runs every test of a published model and records each result in META.TEST_RESULTS. */
export async function testModel(
  wh: Warehouse,
  project: Project,
  model: Model,
  opts: { runId: string; businessDate: string },
): Promise<TestResult[]> {
  const results = await runTests(
    wh,
    model,
    compileTests(project, model),
    relationOf(model),
    opts.businessDate,
  );
  const at = new Date();
  await wh.upsert(
    TEST_RESULTS,
    ['RUN_ID', 'MODEL_NAME', 'TEST_NAME', 'SEVERITY', 'STATUS', 'FAILING_ROWS', 'SAMPLE_ROWS', 'TESTED_AT'],
    results.map((r) => [opts.runId, r.model, r.test, r.severity, r.status, r.failingRows, r.sample, at]),
  );
  return results;
}
