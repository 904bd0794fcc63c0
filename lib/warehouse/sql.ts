import { showValue } from '../util/show.js';
import type { ColumnType, TableDef } from './types.js';

/** Shared SQL builders: one source for DuckDB and Snowflake (upper-case, unquoted identifiers). */

/**
 * Identifiers are never quoted: a name either is plain (letters, digits and `_`, starting with a
 * letter or `_`) and goes into SQL as it is, or is refused. One rule for both warehouses, for
 * table and column names in code and for model and column names read from transforms files.
 */
export const SQL_IDENTIFIER_RULE =
  'a plain SQL identifier: ASCII letters, digits and _, starting with a letter or _, at most 128 characters';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** True for a name that can go into SQL unquoted on DuckDB and Snowflake. */
export function isSqlIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENTIFIER.test(name);
}

/** Thrown by sqlIdentifier for a name that would need quoting; names the value, where it came from and the rule. */
export class SqlIdentifierInvalidError extends Error {
  constructor(
    readonly value: unknown,
    readonly what: string,
  ) {
    super(`${what} ${showValue(value, 60)} is not ${SQL_IDENTIFIER_RULE}`);
    this.name = 'SqlIdentifierInvalidError';
  }
}

/** `name` when it is a plain identifier, else throws SqlIdentifierInvalidError (`what` says what it names: "column", "model"). */
export function sqlIdentifier(name: string, what = 'identifier'): string {
  if (!isSqlIdentifier(name)) throw new SqlIdentifierInvalidError(name, what);
  return name;
}

export const qualified = (t: Pick<TableDef, 'schema' | 'name'>) => `${t.schema}.${t.name}`;

/** Throws unless every column is declared on the table and the key is among them. */
export function checkColumns(table: TableDef, columns: string[], needKey: boolean): void {
  const known = new Set(table.columns.map((c) => c.name));
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length) throw new Error(`${qualified(table)}: unknown column(s) ${unknown.join(', ')}`);
  if (needKey) {
    if (!table.key?.length) throw new Error(`${qualified(table)}: upsert needs a natural key, none declared`);
    const missing = table.key.filter((k) => !columns.includes(k));
    if (missing.length)
      throw new Error(`${qualified(table)}: upsert rows lack key column(s) ${missing.join(', ')}`);
  }
}

/** MERGE of `source` (same column names) into `table` on its natural key. */
export function mergeSql(table: TableDef, source: string, columns: string[]): string {
  const key = table.key ?? [];
  const rest = columns.filter((c) => !key.includes(c));
  const on = key.map((k) => `t.${k} = s.${k}`).join(' AND ');
  const update = rest.length
    ? `WHEN MATCHED THEN UPDATE SET ${rest.map((c) => `${c} = s.${c}`).join(', ')} `
    : '';
  return (
    `MERGE INTO ${qualified(table)} t USING ${source} s ON ${on} ` +
    update +
    `WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`
  );
}

/** Counts the staged rows whose key already exists in the table (the rows a MERGE will update). */
export function matchedCountSql(table: TableDef, source: string): string {
  const on = (table.key ?? []).map((k) => `t.${k} = s.${k}`).join(' AND ');
  return `SELECT COUNT(*) AS N FROM ${source} s JOIN ${qualified(table)} t ON ${on}`;
}

export function createTableSql(
  table: TableDef,
  typeName: (t: ColumnType) => string,
  withKey: boolean,
): string {
  const cols = table.columns.map(
    (c) => `${c.name} ${typeName(c.type)}${c.nullable === false ? ' NOT NULL' : ''}`,
  );
  if (withKey && table.key?.length && table.indexKey !== false)
    cols.push(`PRIMARY KEY (${table.key.join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${qualified(table)} (${cols.join(', ')})`;
}
