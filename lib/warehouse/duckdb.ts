import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  type DuckDBAppender,
  type DuckDBValue,
} from '@duckdb/node-api';
import { checkColumns, createTableSql, matchedCountSql, mergeSql, qualified } from './sql.js';
import type { ColumnType, SqlValue, TableDef, UpsertResult, Warehouse } from './types.js';

/** Opens (creating if needed) the DuckDB file, runs `work`, and closes it again. ':memory:' is allowed. */
export async function withDuckDb<T>(
  path: string,
  work: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>,
): Promise<T> {
  const wh = await openDuckDbWarehouse(path);
  try {
    return await work(async (sql) => (await wh.connection.runAndReadAll(sql)).getRows());
  } finally {
    await wh.close();
  }
}

/** Opens the warehouse and runs a query; resolves with the DuckDB version. */
export async function duckdbPing(path: string): Promise<string> {
  return withDuckDb(path, async (run) => {
    const rows = await run('select version(), 6 * 7');
    const [version, answer] = rows[0] ?? [];
    if (Number(answer) !== 42) throw new Error(`DuckDB at ${path} answered ${String(answer)} to 6 * 7`);
    return String(version);
  });
}

// How each column type is staged for the appender (dates and timestamps as text, cast on insert).
const STAGE_TYPE: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  DOUBLE: 'DOUBLE',
  BIGINT: 'DOUBLE',
  DATE: 'VARCHAR',
  TIMESTAMP: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
};

function appendCell(app: DuckDBAppender, type: ColumnType, v: SqlValue): void {
  if (v === null || v === undefined) return app.appendNull();
  switch (type) {
    case 'VARCHAR':
      return app.appendVarchar(String(v));
    case 'DOUBLE':
    case 'BIGINT':
      return app.appendDouble(Number(v));
    case 'BOOLEAN':
      return app.appendBoolean(Boolean(v));
    case 'DATE':
      return app.appendVarchar(String(v));
    case 'TIMESTAMP':
      return app.appendVarchar(
        v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : String(v),
      );
  }
}

/** Turns driver values into the interface's: DATE → 'YYYY-MM-DD', BIGINT/DECIMAL → number, TIMESTAMP → Date. */
function toJs(value: DuckDBValue, typeId: DuckDBTypeId): unknown {
  if (value === null || value === undefined) return null;
  if (typeId === DuckDBTypeId.DATE) return String(value);
  if (typeof value === 'bigint') return Number(value);
  if (typeId === DuckDBTypeId.DECIMAL) return Number(String(value));
  if (typeId === DuckDBTypeId.TIMESTAMP || typeId === DuckDBTypeId.TIMESTAMP_TZ) {
    return new Date(`${String(value).replace(' ', 'T')}${String(value).includes('+') ? '' : 'Z'}`);
  }
  if (typeof value === 'object') return value.toString();
  return value;
}

export class DuckDbWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;
  private stageSeq = 0;
  // One connection: writes that stage and merge must not interleave.
  private writes: Promise<unknown> = Promise.resolve();

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writes.then(work, work);
    this.writes = next.catch(() => {});
    return next;
  }

  constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly path: string,
  ) {}

  async execute(sql: string, params: SqlValue[] = []): Promise<void> {
    await this.connection.run(sql, params as never);
  }

  async query<T extends Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params as never);
    const names = reader.columnNames().map((n) => n.toUpperCase());
    const types = reader.columnTypes().map((t) => t.typeId);
    return reader
      .getRows()
      .map((row) => Object.fromEntries(row.map((v, i) => [names[i], toJs(v, types[i]!)])) as T);
  }

  /** Appends `rows` into a temporary staging table with the appender (no per-row SQL); returns its name. */
  private async stage(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<string> {
    const types = columns.map((c) => table.columns.find((d) => d.name === c)!.type);
    const name = `STAGE_${table.name}_${++this.stageSeq}`;
    await this.execute(
      `CREATE OR REPLACE TEMP TABLE ${name} (${columns.map((c, i) => `${c} ${STAGE_TYPE[types[i]!]}`).join(', ')})`,
    );
    const app = await this.connection.createAppender(name);
    try {
      for (const row of rows) {
        for (let i = 0; i < columns.length; i++) appendCell(app, types[i]!, row[i] ?? null);
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
    // A view that casts the staged text back to the table's types.
    const cast = columns.map((c, i) =>
      STAGE_TYPE[types[i]!] === types[i] ? c : `CAST(${c} AS ${types[i]}) AS ${c}`,
    );
    await this.execute(`CREATE OR REPLACE TEMP VIEW ${name}_V AS SELECT ${cast.join(', ')} FROM ${name}`);
    return `${name}_V`;
  }

  private async dropStage(view: string): Promise<void> {
    await this.execute(`DROP VIEW IF EXISTS ${view}`);
    await this.execute(`DROP TABLE IF EXISTS ${view.replace(/_V$/, '')}`);
  }

  async bulkInsert(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<number> {
    checkColumns(table, columns, false);
    return this.exclusive(() => this.bulkInsertNow(table, columns, rows));
  }

  private async bulkInsertNow(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<number> {
    if (rows.length === 0) return 0;
    const view = await this.stage(table, columns, rows);
    try {
      await this.execute(
        `INSERT INTO ${qualified(table)} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${view}`,
      );
    } catch (e) {
      throw new Error(
        `bulk insert of ${rows.length} rows into ${qualified(table)} failed: ${(e as Error).message}`,
        { cause: e },
      );
    } finally {
      await this.dropStage(view);
    }
    return rows.length;
  }

  async upsert(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<UpsertResult> {
    checkColumns(table, columns, true);
    return this.exclusive(() => this.upsertNow(table, columns, rows));
  }

  private async upsertNow(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<UpsertResult> {
    if (rows.length === 0) return { inserted: 0, updated: 0 };
    const view = await this.stage(table, columns, rows);
    try {
      await this.execute('BEGIN TRANSACTION');
      const [matched] = await this.query<{ N: number }>(matchedCountSql(table, view));
      await this.execute(mergeSql(table, view, columns));
      await this.execute('COMMIT');
      const updated = matched?.N ?? 0;
      return { inserted: rows.length - updated, updated };
    } catch (e) {
      await this.execute('ROLLBACK').catch(() => {});
      throw new Error(
        `upsert of ${rows.length} rows into ${qualified(table)} failed: ${(e as Error).message}`,
        { cause: e },
      );
    } finally {
      await this.dropStage(view);
    }
  }

  async bootstrap(tables: TableDef[]): Promise<void> {
    for (const schema of new Set(tables.map((t) => t.schema)))
      await this.execute(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    for (const t of tables) await this.execute(createTableSql(t, (type) => type, true));
  }

  /** Closes this connection; the database stays open for other users in this process (see openDuckDbWarehouse). */
  async close(): Promise<void> {
    this.connection.closeSync();
    if (this.path === ':memory:') this.instance.closeSync();
  }
}

/** Opens (creating if needed) a DuckDB warehouse file; ':memory:' gives a throw-away one. */
export async function openDuckDbWarehouse(path: string): Promise<DuckDbWarehouse> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let instance: DuckDBInstance;
  try {
    // One database instance per file and process, shared by every connection (worker activities, health checks).
    instance = path === ':memory:' ? await DuckDBInstance.create(path) : await DuckDBInstance.fromCache(path);
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /lock/i.test(msg) ? ' (another process, such as a running worker, has it open)' : '';
    throw new Error(`cannot open DuckDB warehouse ${path}${hint}: ${msg}`, { cause: e });
  }
  return new DuckDbWarehouse(instance, await instance.connect(), path);
}
