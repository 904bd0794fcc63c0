import type { Model, Project, TestSpec } from './project.js';
import { relationOf } from './project.js';
import { sqlIdentifier } from '../warehouse/sql.js';

/** One data test compiled to SQL that selects the failing rows. */
export interface CompiledTest {
  /** Stable name shown in the UI and stored in META: `unique(symbol,trade_date)`. */
  name: string;
  severity: 'error' | 'warn';
  /** Selects failing rows of the relation called `{{ this }}` (replaced at run time). */
  failingSql: string;
  /**
   * For a test that judges each row alone (not_null, accepted_values, expression): the condition a
   * failing row meets, so the runner can count every such test of a relation in one scan.
   */
  failingWhere?: string;
}

/** A test that judges each row on its own: failing rows are those meeting `where`. */
const rowTest = (name: string, severity: 'error' | 'warn', where: string): CompiledTest => ({
  name,
  severity,
  failingSql: `SELECT * FROM ${THIS} WHERE ${where}`,
  failingWhere: where,
});

const THIS = '{{ this }}';
const list = (cols: string[]) => cols.join(', ');
const literal = (v: string | number) => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

function compileOne(
  project: Project,
  spec: TestSpec,
  column: string | undefined,
  model: Model,
): CompiledTest {
  // Names go into SQL unquoted: loadProject has checked them; a Project built in code is checked here.
  const ident = (name: string) => {
    try {
      return sqlIdentifier(name, 'column');
    } catch (e) {
      throw new Error(`${model.file}: ${(e as Error).message}`, { cause: e });
    }
  };
  const need = (what: string) => {
    if (!column) throw new Error(`${model.file}: ${what} test needs a column (put it under columns:)`);
    return ident(column);
  };
  if (spec === 'not_null' || (typeof spec === 'object' && 'not_null' in spec)) {
    const c = need('not_null');
    const sev = typeof spec === 'object' ? (spec.not_null?.severity ?? 'error') : 'error';
    return rowTest(`not_null(${c})`, sev, `${c} IS NULL`);
  }
  if (spec === 'unique' || (typeof spec === 'object' && 'unique' in spec)) {
    const opts = typeof spec === 'object' ? spec.unique : undefined;
    const cols = opts?.columns?.map(ident) ?? [need('unique')];
    return {
      name: `unique(${cols.join(',')})`,
      severity: opts?.severity ?? 'error',
      failingSql: `SELECT ${list(cols)}, COUNT(*) AS N FROM ${THIS} GROUP BY ${list(cols)} HAVING COUNT(*) > 1`,
    };
  }
  if ('accepted_values' in spec) {
    const c = need('accepted_values');
    return rowTest(
      `accepted_values(${c})`,
      spec.accepted_values.severity,
      `${c} IS NOT NULL AND ${c} NOT IN (${spec.accepted_values.values.map(literal).join(', ')})`,
    );
  }
  if ('relationships' in spec) {
    const c = need('relationships');
    const field = ident(spec.relationships.field);
    const to = project.models.get(spec.relationships.to);
    if (!to)
      throw new Error(`${model.file}: relationships test points to unknown model ${spec.relationships.to}`);
    return {
      name: `relationships(${c}→${to.name}.${field})`,
      severity: spec.relationships.severity,
      failingSql:
        `SELECT c.* FROM ${THIS} c LEFT JOIN ${relationOf(to)} p ON c.${c} = p.${field} ` +
        `WHERE c.${c} IS NOT NULL AND p.${field} IS NULL`,
    };
  }
  if ('expression' in spec) {
    return rowTest(
      spec.expression.name ?? `expression(${spec.expression.sql})`,
      spec.expression.severity,
      `NOT (${spec.expression.sql})`,
    );
  }
  const c = spec.freshness.column ? ident(spec.freshness.column) : need('freshness');
  return {
    name: `freshness(${c},${spec.freshness.max_age_days}d)`,
    severity: spec.freshness.severity,
    // {{ cutoff }} is the business date minus max_age_days, bound at run time.
    failingSql: `SELECT MAX(${c}) AS NEWEST FROM ${THIS} HAVING MAX(${c}) IS NULL OR MAX(${c}) < CAST('{{ cutoff:${spec.freshness.max_age_days} }}' AS DATE)`,
  };
}

/** Every test declared on a model (column-level and model-level), compiled. */
export function compileTests(project: Project, model: Model): CompiledTest[] {
  return [
    ...model.columns.flatMap((col) => col.tests.map((t) => compileOne(project, t, col.name, model))),
    ...model.tests.map((t) => compileOne(project, t, undefined, model)),
  ];
}

/** The failing-rows SQL for a relation and business date. */
export function bindTest(test: CompiledTest, relation: string, businessDate: string): string {
  return test.failingSql
    .replaceAll(THIS, relation)
    .replace(/\{\{ cutoff:(\d+) \}\}/g, (_, days: string) =>
      new Date(Date.parse(`${businessDate}T00:00:00Z`) - Number(days) * 86_400_000)
        .toISOString()
        .slice(0, 10),
    );
}
