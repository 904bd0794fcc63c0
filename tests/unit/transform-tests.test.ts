import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildModel, testModel, type TestResult } from '../../lib/transforms/build.js';
import { loadProject, ModelDefinitionError, planRun } from '../../lib/transforms/project.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

/** A throw-away project whose data breaks every kind of test exactly in known rows. */
function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'egx-models-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  return dir;
}

let wh: DuckDbWarehouse;
beforeAll(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
});
afterAll(async () => wh.close());

test('each kind of data test fails on the rows that break it, and only counts those', async () => {
  const dir = writeProject({
    'staging/parents.sql': "select * from (values (1, 'a'), (2, 'b')) v(id, name)",
    'staging/parents.yml': 'description: two parents\nmaterialized: table\n',
    'staging/children.sql': `select * from (values
        (1, 1, 'red', 5, date '2026-01-10'),
        (2, 1, 'red', 5, date '2026-01-01'),
        (2, 9, 'blue', -1, date '2026-01-02'),
        (null, 2, 'green', 3, date '2026-01-03')
      ) v(id, parent_id, colour, qty, seen_on)`,
    'staging/children.yml': `description: children with one broken row per test
materialized: view
columns:
  - name: id
    tests: [not_null, unique]
  - name: parent_id
    tests:
      - relationships: { to: parents, field: id }
  - name: colour
    tests:
      - accepted_values: { values: [red, green] }
  - name: qty
    tests:
      - expression: { name: qty_not_negative, sql: 'qty >= 0', severity: warn }
tests:
  - unique: { columns: [parent_id, colour] }
  - freshness: { column: seen_on, max_age_days: 3 }
`,
  });
  const project = await loadProject(dir);
  const opts = { runId: 'types', businessDate: '2026-01-20' };
  const [parents, children] = planRun(project);
  await buildModel(wh, project, parents!, opts);
  // The audit stops the broken view from being published at all.
  await expect(buildModel(wh, project, children!, opts)).rejects.toThrow(
    /audit failed: not_null\(id\) \(1 failing rows/,
  );
  await wh.execute(`CREATE OR REPLACE VIEW SILVER.children AS ${children!.sql}`);
  const results = await testModel(wh, project, children!, opts);
  const byTest = Object.fromEntries(results.map((r: TestResult) => [r.test, [r.status, r.failingRows]]));
  expect(byTest).toEqual({
    'not_null(id)': ['fail', 1],
    'unique(id)': ['fail', 1],
    'relationships(parent_id→parents.id)': ['fail', 1],
    'accepted_values(colour)': ['fail', 1],
    qty_not_negative: ['warn', 1],
    'unique(parent_id,colour)': ['fail', 1],
    'freshness(seen_on,3d)': ['fail', 1],
  });
});

test('broken model definitions are refused naming the file and the problem', async () => {
  const missingRef = writeProject({
    'marts/a.sql': "select * from {{ ref('nope') }}",
    'marts/a.yml': 'description: a',
  });
  await expect(loadProject(missingRef)).rejects.toThrow(/a\.sql: ref\('nope'\) names no model/);
  const badYaml = writeProject({
    'staging/b.sql': 'select 1 as x',
    'staging/b.yml': 'description: b\nmaterialized: sometimes',
  });
  await expect(loadProject(badYaml)).rejects.toThrow(ModelDefinitionError);
  const noYaml = writeProject({ 'staging/c.sql': 'select 1 as x' });
  await expect(loadProject(noYaml)).rejects.toThrow(/c\.sql: no description file c\.yml/);
  const cycle = writeProject({
    'staging/d.sql': "select * from {{ ref('e') }}",
    'staging/d.yml': 'description: d',
    'staging/e.sql': "select * from {{ ref('d') }}",
    'staging/e.yml': 'description: e',
  });
  await expect(loadProject(cycle).then((p) => planRun(p))).rejects.toThrow(/dependency cycle d → e → d/);
});
