/** A value the warehouse adapters can write and bind. Dates are calendar dates as 'YYYY-MM-DD' strings in DATE columns; Date objects are timestamps (UTC). */
export type SqlValue = string | number | bigint | boolean | Date | null;

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'DATE' | 'TIMESTAMP' | 'BOOLEAN';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  nullable?: boolean;
}

/** A table the pipeline owns: its columns and natural key, the same on every warehouse. */
export interface TableDef {
  schema: string;
  name: string;
  columns: ColumnDef[];
  /** Natural key: upserts match on it; DuckDB also enforces it as the primary key unless `indexKey` is false. */
  key?: string[];
  /**
   * DuckDB: keep the key as a primary-key index (default). A table loaded in bulk opts out: the
   * index costs more than the rest of a bulk load, every writer merges on the key anyway (as on
   * Snowflake, which never enforces keys), and the quality gate counts duplicates.
   */
  indexKey?: boolean;
}

/** Options of one statement. */
export interface StatementOptions {
  /**
   * Aborting it cancels the statement: a running one is interrupted where the driver allows
   * (DuckDB: the connection running it; Snowflake: the statement is cancelled on the server), one
   * still waiting its turn never starts; either way the promise rejects with StatementCancelledError.
   */
  signal?: AbortSignal;
}

/** Thrown by execute/query when their `signal` aborts; the abort's reason is the `cause`. */
export class StatementCancelledError extends Error {
  constructor(sql: string, reason: unknown) {
    const line = sql.replace(/\s+/g, ' ').trim();
    super(`statement cancelled: ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`, { cause: reason });
    this.name = 'StatementCancelledError';
  }
}

export interface UpsertResult {
  inserted: number;
  updated: number;
}

/**
 * The warehouse: DuckDB (embedded default) or Snowflake. Identifiers are upper-case, unquoted,
 * so one SQL source runs on both. Rows are positional arrays in the order of `columns`.
 */
export interface Warehouse {
  readonly dialect: 'duckdb' | 'snowflake';
  /** Runs one statement (DDL or DML) with positional `?` parameters. */
  execute(sql: string, params?: SqlValue[], opts?: StatementOptions): Promise<void>;
  /** Runs a query; column names in the result are upper-case; DATE columns come back as 'YYYY-MM-DD', numbers as number. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: SqlValue[],
    opts?: StatementOptions,
  ): Promise<T[]>;
  /** Appends rows in bulk (never one INSERT per row). Returns the number of rows written. */
  bulkInsert(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<number>;
  /** Inserts new rows and updates existing ones, matching on `table.key`. Rows within one call must have distinct keys. */
  upsert(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<UpsertResult>;
  /** Creates the schemas and tables (IF NOT EXISTS): running it twice changes nothing. */
  bootstrap(tables: TableDef[]): Promise<void>;
  close(): Promise<void>;
}
