import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadProject, ModelDefinitionError, type Model, type Project } from '../../lib/transforms/project.js';
import { compileTests } from '../../lib/transforms/tests.js';
import { isSqlIdentifier, sqlIdentifier, SqlIdentifierInvalidError } from '../../lib/warehouse/sql.js';

const HOSTILE_IDENTIFIERS = [
  'price; DROP TABLE x',
  "price' OR '1'='1",
  'price"',
  '../price',
  'pri ce',
  'pri\u0441e', // Cyrillic с
  'price\u200b',
  '1price',
  '',
  'p'.repeat(129),
];

describe('SQL identifiers', () => {
  test.each(['symbol', 'TRADE_DATE', '_x', 'a1', 'p'.repeat(128)])('%s is plain', (name) => {
    expect(isSqlIdentifier(name)).toBe(true);
    expect(sqlIdentifier(name)).toBe(name);
  });
  test.each(HOSTILE_IDENTIFIERS)('%j is refused, naming it and the rule', (name) => {
    expect(isSqlIdentifier(name)).toBe(false);
    expect(() => sqlIdentifier(name, 'column')).toThrow(SqlIdentifierInvalidError);
    expect(() => sqlIdentifier(name, 'column')).toThrow(
      /^column ".*"( \(\d+ characters\))? is not a plain SQL identifier: ASCII letters, digits and _, starting with a letter or _, at most 128 characters$/,
    );
  });
});

const projectDirs: string[] = [];
afterAll(() => projectDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A one-model project in a temporary folder: `staging/<name>.sql` and its yml. */
function project(name: string, yml: string, sql = 'select 1 as sector_id'): string {
  const dir = mkdtempSync(join(tmpdir(), 'egx-project-'));
  projectDirs.push(dir);
  mkdirSync(join(dir, 'staging'));
  writeFileSync(join(dir, 'staging', `${name}.sql`), sql);
  writeFileSync(join(dir, 'staging', `${name}.yml`), yml);
  return dir;
}

async function loadError(dir: string): Promise<Error> {
  const err = await loadProject(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelDefinitionError);
  return err as Error;
}

const yml = (columnName: string, extra = '') =>
  `description: test model\ncolumns:\n  - name: ${JSON.stringify(columnName)}\n    tests: [not_null]\n${extra}`;

describe('transforms projects: names read from files are checked when the project loads', () => {
  test('a good project loads', async () => {
    const p = await loadProject(project('stg_good', yml('sector_id')));
    expect([...p.models.keys()]).toEqual(['stg_good']);
  });

  test.each(['stg_x;drop', "stg_x'", 'stg x', 'Stg_upper', 'stg_\u0445', '1stg'])(
    'a model file named %j is refused, naming the file',
    async (name) => {
      const dir = project(name, yml('sector_id'));
      const err = await loadError(dir);
      expect(err.message).toContain(join(dir, 'staging', `${name}.sql`));
      expect(err.message).toMatch(
        /the file name gives the model name ".*", which is not a model name: lower-case ASCII/,
      );
    },
  );

  test.each(HOSTILE_IDENTIFIERS)(
    'a column named %j in the yml is refused, naming the file and the field',
    async (bad) => {
      const dir = project('stg_cols', yml(bad));
      const err = await loadError(dir);
      expect(
        err.message.startsWith(`${join(dir, 'staging', 'stg_cols.yml')}: columns.0.name: column "`),
      ).toBe(true);
      expect(err.message).toContain('is not a plain SQL identifier');
    },
  );

  test.each([
    ['unique_key', 'unique_key: ["symbol; DROP TABLE x"]', /unique_key\.0: column "symbol; DROP TABLE x"/],
    [
      'incremental column',
      'materialized: incremental\nunique_key: [d]\nincremental: { column: "d\'--", lookback_days: 0 }',
      /incremental\.column: column "d'--"/,
    ],
    [
      'incremental changed_at',
      "materialized: incremental\nunique_key: [d]\nincremental: { column: d, changed_at: 'loaded\u0430t', input: \"{{ ref('stg_x') }}\" }",
      /incremental\.changed_at: column "loaded\\u\{0430\}t"/,
    ],
    [
      'incremental input',
      'materialized: incremental\nunique_key: [d]\nincremental: { column: d, changed_at: loaded_at, input: "x; DROP TABLE y" }',
      /incremental\.input: expected one relation/,
    ],
    [
      'unique test columns',
      'tests:\n  - unique: { columns: [a, "b)"] }',
      /tests\.0\.unique\.columns\.1: column "b\)"/,
    ],
    ['an unknown key', 'tests: []\ncolumns2: x', /columns2/],
    [
      'relationships target',
      "columns:\n  - name: a\n    tests:\n      - relationships: { to: 'Stg_Other; x', field: id }",
      /columns\.0\.tests\.0\.relationships\.to: "Stg_Other; x" is not a model name/,
    ],
    [
      'relationships field',
      "columns:\n  - name: a\n    tests:\n      - relationships: { to: stg_other, field: 'id = 1 OR 1' }",
      /columns\.0\.tests\.0\.relationships\.field: column "id = 1 OR 1" is not a plain SQL identifier/,
    ],
    [
      'freshness column',
      "tests:\n  - freshness: { column: 'trade_date) OR (1', max_age_days: 3 }",
      /tests\.0\.freshness\.column: column "trade_date\) OR \(1"/,
    ],
  ])('%s: a hostile name is refused naming the yml', async (_, extra, why) => {
    const dir = project('stg_fields', `description: test model\n${extra}\n`);
    const err = await loadError(dir);
    expect(err.message.startsWith(`${join(dir, 'staging', 'stg_fields.yml')}: `)).toBe(true);
    expect(err.message).toMatch(why);
  });

  test('tests compiled from a project built in code check their column names too', () => {
    const model = {
      name: 'stg_x',
      file: 'staging/stg_x.sql',
      columns: [{ name: 'a; DROP TABLE y', tests: ['not_null'] }],
      tests: [],
    } as unknown as Model;
    const p: Project = { dir: '.', models: new Map([['stg_x', model]]) };
    expect(() => compileTests(p, model)).toThrow(
      'staging/stg_x.sql: column "a; DROP TABLE y" is not a plain SQL identifier',
    );
  });
});
