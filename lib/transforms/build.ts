import { createHash } from 'node:crypto';
import { DuckDbWarehouse } from '../warehouse/duckdb.js';
import { MODEL_RUNS, TEST_RESULTS } from '../warehouse/schema.js';
import type { Warehouse } from '../warehouse/types.js';
import { relationOf, renderRefs, renderSql, type Model, type Project } from './project.js';
import { mergeSql } from '../warehouse/sql.js';
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
  /**
   * The audit's results when the audited version is exactly what was published (a view or a whole
   * table): `testModel` takes them instead of running those tests again.
   */
  audited?: TestResult[];
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

/**
 * Runs tests on a relation and counts its rows. The count and the row tests (each row judged alone)
 * share one scan; the other tests run one query each. A failing test also fetches a few of its
 * failing rows as a sample.
 */
async function runTests(
  wh: Warehouse,
  model: Model,
  tests: CompiledTest[],
  relation: string,
  businessDate: string,
  signal?: AbortSignal,
): Promise<{ results: TestResult[]; rows: number }> {
  const rowTests = tests.filter((t) => t.failingWhere);
  const [scan] = await wh.query<Record<string, number>>(
    `SELECT ${['COUNT(*) AS N', ...rowTests.map((t, i) => `COUNT(CASE WHEN ${t.failingWhere} THEN 1 END) AS F${i}`)].join(', ')} FROM ${relation}`,
    [],
    { signal },
  );
  const counts = new Map(rowTests.map((t, i) => [t, Number(scan?.[`F${i}`] ?? 0)]));
  const results: TestResult[] = [];
  for (const t of tests) {
    const failing = bindTest(t, relation, businessDate);
    let n = counts.get(t);
    if (n === undefined) {
      const [row] = await wh.query<{ N: number }>(`SELECT COUNT(*) AS N FROM (${failing}) f`, [], { signal });
      n = row?.N ?? 0;
    }
    const sample =
      n > 0 ? JSON.stringify(await wh.query(`SELECT * FROM (${failing}) f LIMIT 3`, [], { signal })) : '';
    results.push({
      model: model.name,
      test: t.name,
      severity: t.severity,
      status: n === 0 ? 'pass' : t.severity === 'error' ? 'fail' : 'warn',
      failingRows: n,
      sample,
    });
  }
  return { results, rows: Number(scan?.N ?? 0) };
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

/** What an incremental build does: rebuild the rows whose `column` is at or after `from`, reading input from `since`. */
type IncrementalPlan =
  | { kind: 'append'; column: string; from: string; since: string }
  | { kind: 'merge'; column: string; from: string; since: string }
  | { kind: 'unchanged' };

const dayBefore = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

async function columnsOf(wh: Warehouse, schema: string, name: string): Promise<string[]> {
  const rows = await wh.query<{ C: string }>(
    'SELECT COLUMN_NAME AS C FROM INFORMATION_SCHEMA.COLUMNS WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ? ORDER BY ORDINAL_POSITION',
    [schema.toUpperCase(), name.toUpperCase()],
  );
  return rows.map((r) => r.C);
}

/**
 * For an incremental model whose table exists, which rows to rebuild. With `changed_at`: the
 * earliest date among input rows loaded after the newest load time the table has seen (nothing
 * loaded since: unchanged). Without: the dates after the newest published one. Undefined means
 * build it whole (no table yet, an empty one, or one without the change column).
 */
async function incrementalPlan(
  wh: Warehouse,
  project: Project,
  model: Model,
): Promise<IncrementalPlan | undefined> {
  if (model.materialized !== 'incremental' || !model.incremental) return undefined;
  const { column, lookbackDays, changedAt, input } = model.incremental;
  const published = (await columnsOf(wh, model.schema, model.name)).map((c) => c.toLowerCase());
  if (published.length === 0) return undefined;
  if (changedAt && input) {
    if (!published.includes(changedAt.toLowerCase())) return undefined;
    const [mark] = await wh.query<{ M: string | null }>(
      `SELECT CAST(MAX(${changedAt}) AS VARCHAR) AS M FROM ${relationOf(model)}`,
    );
    if (!mark?.M) return undefined;
    const [changed] = await wh.query<{ D: string | null }>(
      `SELECT CAST(MIN(${column}) AS VARCHAR) AS D FROM ${renderRefs(project, input)} WHERE ${changedAt} > CAST('${mark.M}' AS TIMESTAMP)`,
    );
    if (!changed?.D) return { kind: 'unchanged' };
    const from = changed.D.slice(0, 10);
    return { kind: 'merge', column, from, since: dayBefore(from, lookbackDays) };
  }
  const [row] = await wh.query<{ M: string | null }>(
    `SELECT CAST(MAX(${column}) AS VARCHAR) AS M FROM ${relationOf(model)}`,
  );
  if (!row?.M) return undefined;
  const from = dayBefore(row.M.slice(0, 10), -1);
  return { kind: 'append', column, from, since: dayBefore(from, lookbackDays + 1) };
}

/**
 * The table a run writes a model's new version to before publishing it: unique per run, so two
 * runs never share one (a retry of the same run reuses its own).
 */
export function stagingName(model: string, runId: string): string {
  return `${model}__wap_${createHash('sha256').update(runId).digest('hex').slice(0, 10)}`;
}

/**
 * A snapshot's new version, written whole to `wap` (so it is audited and published as a table is):
 * the published history with the SQL's current rows merged in. A key whose other columns changed
 * (or a new key) gets a version valid from the business date, or from the day its open version
 * began if that is later, and that version ends there; a version that would end on the day it
 * began is replaced instead (one version per key and day). A key the SQL no longer gives ends its
 * version. valid_to is exclusive and null for the open version. A full refresh builds the same
 * way: the history exists nowhere else.
 */
async function writeSnapshot(
  wh: Warehouse,
  model: Model,
  sql: string,
  wap: string,
  opts: { businessDate: string; signal?: AbortSignal },
): Promise<void> {
  const current = `${wap}_current`;
  const day = `CAST('${opts.businessDate}' AS DATE)`;
  try {
    await wh.execute(`CREATE OR REPLACE TABLE ${current} AS ${sql}`, [], { signal: opts.signal });
    const cols = await columnsOf(wh, model.schema, current.slice(model.schema.length + 1));
    const published = new Set((await columnsOf(wh, model.schema, model.name)).map((c) => c.toLowerCase()));
    if (published.size === 0) {
      await wh.execute(
        `CREATE OR REPLACE TABLE ${wap} AS SELECT ${cols.join(', ')}, ${day} AS valid_from, CAST(NULL AS DATE) AS valid_to, TRUE AS is_current FROM ${current}`,
        [],
        { signal: opts.signal },
      );
      return;
    }
    const keys = model.uniqueKey!;
    const tracked = cols.filter((c) => !keys.some((k) => k.toLowerCase() === c.toLowerCase()));
    const on = (a: string, b: string) => keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
    const later = (a: string) => `CASE WHEN ${a} > ${day} THEN ${a} ELSE ${day} END`;
    const unchanged = tracked.map((c) => `o.${c} IS NOT DISTINCT FROM c.${c}`).join(' AND ') || 'TRUE';
    // Columns the SQL added since the history was first written are null in older versions.
    const oldCols = cols.map((c) => (published.has(c.toLowerCase()) ? `o.${c}` : `NULL AS ${c}`));
    await wh.execute(
      `CREATE OR REPLACE TABLE ${wap} AS
WITH open_versions AS (SELECT * FROM ${relationOf(model)} WHERE valid_to IS NULL),
changes AS (
  SELECT c.*, ${later('o.valid_from')} AS starts
  FROM ${current} c LEFT JOIN open_versions o ON ${on('o', 'c')}
  WHERE o.${keys[0]} IS NULL OR NOT (${unchanged})
),
ends AS (
  SELECT ${keys.map((k) => `o.${k}`).join(', ')}, o.valid_from, ch.starts AS ends
  FROM open_versions o JOIN changes ch ON ${on('ch', 'o')}
  UNION ALL
  SELECT ${keys.map((k) => `o.${k}`).join(', ')}, o.valid_from, ${later('o.valid_from')}
  FROM open_versions o LEFT JOIN ${current} c ON ${on('c', 'o')}
  WHERE c.${keys[0]} IS NULL
),
history AS (
  SELECT ${oldCols.join(', ')}, o.valid_from, COALESCE(e.ends, o.valid_to) AS valid_to
  FROM ${relationOf(model)} o LEFT JOIN ends e ON ${on('e', 'o')} AND e.valid_from = o.valid_from
  WHERE e.ends IS NULL OR e.ends > o.valid_from
)
SELECT ${cols.join(', ')}, valid_from, valid_to, valid_to IS NULL AS is_current FROM history
UNION ALL
SELECT ${cols.join(', ')}, starts, CAST(NULL AS DATE), TRUE FROM changes`,
      [],
      { signal: opts.signal },
    );
  } finally {
    await wh.execute(`DROP TABLE IF EXISTS ${current}`).catch(() => undefined);
  }
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
  opts: { runId: string; businessDate: string; fullRefresh?: boolean; signal?: AbortSignal },
): Promise<ModelBuildResult> {
  const started = performance.now();
  const wapName = stagingName(model.name, opts.runId);
  const wap = `${model.schema}.${wapName}`;
  await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${model.schema}`);
  const plan = opts.fullRefresh ? undefined : await incrementalPlan(wh, project, model);
  if (plan?.kind === 'unchanged') {
    const seconds = (performance.now() - started) / 1000;
    await recordModelRun(
      wh,
      opts.runId,
      model,
      'unchanged',
      0,
      seconds,
      'no input loaded since the last build',
    );
    return { model: model.name, materialized: model.materialized, rows: 0, seconds };
  }
  const newer = plan;
  const sql = renderSql(project, model, newer?.since);
  if (model.materialized === 'snapshot') await writeSnapshot(wh, model, sql, wap, opts);
  else
    await wh.execute(
      model.materialized === 'view'
        ? `CREATE OR REPLACE VIEW ${wap} AS ${sql}`
        : newer
          ? // Only the rows being rebuilt; the input reaches back far enough for their windows.
            `CREATE OR REPLACE TABLE ${wap} AS SELECT * FROM (${sql}) n WHERE ${newer.column} >= CAST('${newer.from}' AS DATE)`
          : `CREATE OR REPLACE TABLE ${wap} AS ${sql}`,
      [],
      { signal: opts.signal },
    );
  const dropStaging = () =>
    wh
      .execute(`DROP ${model.materialized === 'view' ? 'VIEW' : 'TABLE'} IF EXISTS ${wap}`)
      .catch(() => undefined);
  let audit: TestResult[];
  let rows = 0;
  const record = (status: string, detail: string) =>
    recordModelRun(wh, opts.runId, model, status, rows, (performance.now() - started) / 1000, detail);
  // A build that fails or is cancelled after its staging table exists drops it (names are per run).
  try {
    ({ results: audit, rows } = await runTests(
      wh,
      model,
      compileTests(project, model).filter((t) => t.severity === 'error'),
      wap,
      opts.businessDate,
      opts.signal,
    ));
    const failed = audit.filter((r) => r.status === 'fail');
    if (failed.length > 0) {
      await dropStaging();
      const err = new ModelAuditFailedError(model.name, failed);
      await record('audit_failed', err.message);
      throw err;
    }
    if (newer) {
      // One statement: readers see the table before or after the new rows, never half of them.
      await wh.execute(
        newer.kind === 'merge'
          ? mergeSql(
              { schema: model.schema, name: model.name, key: model.uniqueKey, columns: [] },
              wap,
              await columnsOf(wh, model.schema, wapName),
            )
          : `INSERT INTO ${relationOf(model)} SELECT * FROM ${wap}`,
        [],
        { signal: opts.signal },
      );
      await wh.execute(`DROP TABLE IF EXISTS ${wap}`);
    } else {
      await publish(wh, model, sql, wap);
    }
  } catch (e) {
    await dropStaging();
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  await record('published', '');
  return {
    model: model.name,
    materialized: model.materialized,
    rows,
    seconds,
    audited: newer ? undefined : audit,
  };
}

function recordModelRun(
  wh: Warehouse,
  runId: string,
  model: Model,
  status: string,
  rows: number,
  seconds: number,
  detail: string,
): Promise<unknown> {
  return wh.upsert(
    MODEL_RUNS,
    ['RUN_ID', 'MODEL_NAME', 'MATERIALIZED', 'STATUS', 'ROWS', 'SECONDS', 'DETAIL', 'BUILT_AT'],
    [[runId, model.name, model.materialized, status, rows, seconds, detail, new Date()]],
  );
}

/** Runs every test of a published model and records each result in META.TEST_RESULTS. */
export async function testModel(
  wh: Warehouse,
  project: Project,
  model: Model,
  opts: { runId: string; businessDate: string; audited?: TestResult[]; signal?: AbortSignal },
): Promise<TestResult[]> {
  const done = new Map((opts.audited ?? []).map((r) => [r.test, r]));
  const tests = compileTests(project, model);
  const { results: fresh } = await runTests(
    wh,
    model,
    tests.filter((t) => !done.has(t.name)),
    relationOf(model),
    opts.businessDate,
    opts.signal,
  );
  const byName = new Map([...done, ...fresh.map((r) => [r.test, r] as const)]);
  const results = tests.map((t) => byName.get(t.name)!);
  const at = new Date();
  await wh.upsert(
    TEST_RESULTS,
    ['RUN_ID', 'MODEL_NAME', 'TEST_NAME', 'SEVERITY', 'STATUS', 'FAILING_ROWS', 'SAMPLE_ROWS', 'TESTED_AT'],
    results.map((r) => [opts.runId, r.model, r.test, r.severity, r.status, r.failingRows, r.sample, at]),
  );
  return results;
}
