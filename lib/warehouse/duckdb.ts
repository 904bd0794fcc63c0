import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import {
  DuckDBBooleanType,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDoubleType,
  DuckDBInstance,
  DuckDBTimestampType,
  DuckDBTimestampValue,
  DuckDBTypeId,
  DuckDBVarCharType,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { checkColumns, createTableSql, matchedCountSql, mergeSql, qualified } from './sql.js';
import {
  StatementCancelledError,
  type ColumnType,
  type SqlValue,
  type StatementOptions,
  type TableDef,
  type UpsertResult,
  type Warehouse,
} from './types.js';

/** Opens (creating if needed) the DuckDB file, runs `work`, and closes it again. ':memory:' is allowed. */
export async function withDuckDb<T>(
  path: string,
  work: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>,
): Promise<T> {
  const wh = await openDuckDbWarehouse(path);
  try {
    return await work(async (sql) => (await wh.query(sql)).map((row) => Object.values(row)));
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

// How each column type is staged for the appender (dates and timestamps as text, cast on insert;
// timestamps given as Date objects are staged as timestamps, see prepareRows).
const STAGE_TYPE: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  DOUBLE: 'DOUBLE',
  BIGINT: 'DOUBLE',
  DATE: 'VARCHAR',
  TIMESTAMP: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
};

const CHUNK_TYPE: Record<string, DuckDBType> = {
  VARCHAR: DuckDBVarCharType.instance,
  DOUBLE: DuckDBDoubleType.instance,
  BOOLEAN: DuckDBBooleanType.instance,
  TIMESTAMP: DuckDBTimestampType.instance,
};
const CHUNK_ROWS = 2048; // DuckDB's vector size

/** A cell as the staging column holds it: numbers as doubles, dates and timestamps as text. */
function stageValue(type: ColumnType, v: SqlValue | undefined): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'VARCHAR':
    case 'DATE':
      return String(v);
    case 'DOUBLE':
    case 'BIGINT':
      return Number(v);
    case 'BOOLEAN':
      return Boolean(v);
    case 'TIMESTAMP':
      return v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : String(v);
  }
}

const columnTypes = (table: TableDef, columns: string[]) =>
  columns.map((c) => table.columns.find((d) => d.name === c)!.type);

const sameValue = (a: SqlValue | undefined, b: SqlValue | undefined) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;

function sqlLiteral(v: DuckDBValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

const LITERAL_ROWS = 50;

/** A few rows as a typed VALUES select, or undefined when a value has no literal (NaN, infinities). */
function literalRows(types: ColumnType[], columns: string[], rows: SqlValue[][]): string | undefined {
  const values: string[] = [];
  for (const r of rows) {
    const cells = types.map((t, c) => stageValue(t, r[c]));
    if (cells.some((v) => typeof v === 'number' && !Number.isFinite(v))) return undefined;
    values.push(`(${cells.map(sqlLiteral).join(', ')})`);
  }
  const select = columns.map((c, i) => `CAST(${c} AS ${types[i]}) AS ${c}`);
  return `(SELECT ${select.join(', ')} FROM (VALUES ${values.join(', ')}) v(${columns.join(', ')}))`;
}

const timestampValue = (d: Date | null | undefined) =>
  d == null ? null : new DuckDBTimestampValue(BigInt(d.getTime()) * 1000n);

interface PreparedRows {
  /** Columns with one value on every row (by index), written as literals instead of staged. */
  constants: Map<number, SqlValue>;
  /** The staging type of every column (constants included, unused for them). */
  stageTypes: string[];
  chunks: DuckDBDataChunk[];
}

/**
 * Rows as column-wise DuckDB chunks of staging values (one call per column per 2048 rows instead of
 * one per cell), leaving out columns that hold the same value on every row.
 */
function prepareRows(types: ColumnType[], rows: SqlValue[][]): PreparedRows {
  const constants = new Map<number, SqlValue>();
  if (rows.length > 1) {
    types.forEach((_, c) => {
      const first = rows[0]![c];
      if (rows.every((r) => sameValue(r[c], first))) constants.set(c, first ?? null);
    });
  }
  // A timestamp column holding only Date objects is staged as timestamps (no text to format and
  // parse); one with text keeps the text, which DuckDB reads on insert.
  const stageTypes = types.map((t, c) =>
    t === 'TIMESTAMP' && rows.every((r) => r[c] == null || r[c] instanceof Date)
      ? 'TIMESTAMP'
      : STAGE_TYPE[t],
  );
  const varying = types
    .map((t, c) => ({ t, c, native: stageTypes[c] === 'TIMESTAMP' }))
    .filter(({ c }) => !constants.has(c));
  const chunkTypes = varying.map(({ c }) => CHUNK_TYPE[stageTypes[c]!]!);
  const chunks: DuckDBDataChunk[] = [];
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const slice = rows.slice(start, start + CHUNK_ROWS);
    const chunk = DuckDBDataChunk.create(chunkTypes, slice.length);
    varying.forEach(({ t, c, native }, i) =>
      chunk.setColumnValues(
        i,
        slice.map((row) => (native ? timestampValue(row[c] as Date | null) : stageValue(t, row[c]))),
      ),
    );
    chunks.push(chunk);
  }
  return { constants, stageTypes, chunks };
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

/** Statements on one connection, for work inside a serialised section. */
export interface DuckDbSession {
  execute(sql: string, params?: SqlValue[]): Promise<void>;
  query<T extends Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
}

/**
 * Runs one statement on `conn`. When `signal` aborts meanwhile, the connection is interrupted
 * (DuckDB stops the statement, rolls back what it wrote and takes the next statement normally)
 * and the promise rejects with StatementCancelledError; an aborted signal runs nothing.
 */
async function interruptible<T>(
  conn: DuckDBConnection,
  sql: string,
  signal: AbortSignal | undefined,
  statement: () => Promise<T>,
): Promise<T> {
  if (!signal) return statement();
  if (signal.aborted) throw new StatementCancelledError(sql, signal.reason);
  const interrupt = () => conn.interrupt();
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    return await statement();
  } catch (e) {
    if (signal.aborted) throw new StatementCancelledError(sql, signal.reason);
    throw e;
  } finally {
    signal.removeEventListener('abort', interrupt);
  }
}

async function runOn(conn: DuckDBConnection, sql: string, params: SqlValue[]): Promise<void> {
  await conn.run(sql, params as never);
}

async function queryOn<T extends Record<string, unknown>>(
  conn: DuckDBConnection,
  sql: string,
  params: SqlValue[],
): Promise<T[]> {
  const reader = await conn.runAndReadAll(sql, params as never);
  const names = reader.columnNames().map((n) => n.toUpperCase());
  const types = reader.columnTypes().map((t) => t.typeId);
  return reader
    .getRows()
    .map((row) => Object.fromEntries(row.map((v, i) => [names[i], toJs(v, types[i]!)])) as T);
}

/**
 * A DuckDB connection may run one statement at a time, and the pipeline's activities run
 * concurrently. So every write goes through the main connection one after another (staging,
 * merges and transactions never interleave), and every read runs on a connection of its own,
 * seeing committed data.
 */
export class DuckDbWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly session: DuckDbSession;

  constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly path: string,
  ) {
    this.session = {
      execute: (sql, params = []) => runOn(this.connection, sql, params),
      query: (sql, params = []) => queryOn(this.connection, sql, params),
    };
  }

  /**
   * Runs `work` on the main connection with no other write in between; `work` must use the session
   * it is given. With a signal, an abort interrupts the session's running statement and makes its
   * later statements reject.
   */
  serialized<T>(work: (db: DuckDbSession) => Promise<T>, opts: StatementOptions = {}): Promise<T> {
    return this.exclusive(() => work(this.sessionOn(opts.signal)), opts.signal, 'serialized statements');
  }

  /** The main connection's statements, interrupted when `signal` aborts. */
  private sessionOn(signal: AbortSignal | undefined): DuckDbSession {
    if (!signal) return this.session;
    return {
      execute: (sql, params = []) =>
        interruptible(this.connection, sql, signal, () => runOn(this.connection, sql, params)),
      query: (sql, params = []) =>
        interruptible(this.connection, sql, signal, () => queryOn(this.connection, sql, params)),
    };
  }

  /**
   * Queues `work` behind the other writes. With a signal, work still waiting for its turn rejects
   * as soon as the signal aborts (and never starts); running work is the caller's to interrupt.
   * A rejected or interrupted work never blocks the queue: the next one starts after it settles.
   */
  private exclusive<T>(work: () => Promise<T>, signal?: AbortSignal, what = 'statement'): Promise<T> {
    if (signal?.aborted) return Promise.reject(new StatementCancelledError(what, signal.reason));
    let waiting: (() => void) | undefined;
    const start = () => {
      if (waiting) signal?.removeEventListener('abort', waiting);
      return work();
    };
    const next = this.writes.then(start, start);
    this.writes = next.catch(() => {});
    if (!signal) return next;
    return new Promise<T>((resolve, reject) => {
      waiting = () => reject(new StatementCancelledError(what, signal.reason));
      signal.addEventListener('abort', waiting, { once: true });
      next.then(resolve, reject);
    });
  }

  async execute(sql: string, params: SqlValue[] = [], opts: StatementOptions = {}): Promise<void> {
    await this.exclusive(() => this.sessionOn(opts.signal).execute(sql, params), opts.signal, sql);
  }

  async query<T extends Record<string, unknown>>(
    sql: string,
    params: SqlValue[] = [],
    opts: StatementOptions = {},
  ): Promise<T[]> {
    if (opts.signal?.aborted) throw new StatementCancelledError(sql, opts.signal.reason);
    const read = (async () => {
      const conn = await this.instance.connect();
      try {
        return await interruptible(conn, sql, opts.signal, () => queryOn<T>(conn, sql, params));
      } finally {
        conn.closeSync();
      }
    })();
    this.reads.add(read);
    try {
      return await read;
    } finally {
      this.reads.delete(read);
    }
  }

  /** Reads running on connections of their own, which close() waits for. */
  private readonly reads = new Set<Promise<unknown>>();

  /** Temporary staging tables by (table, staged columns), one name each per connection. */
  private stages = new Map<string, string>();

  /**
   * Appends the varying columns into a temporary staging table with the appender (no SQL per row)
   * and returns a SELECT over it that casts staged text back to the table's types and adds the
   * columns that are the same on every row (file, run, symbol...) as literals.
   */
  private async stage(table: TableDef, columns: string[], batch: PreparedRows): Promise<string> {
    const types = columnTypes(table, columns);
    const staged = columns.filter((_, i) => !batch.constants.has(i));
    const signature = `${qualified(table)}(${staged.join(',')})`;
    let name = this.stages.get(signature);
    if (!name) {
      name = `STAGE_${table.name}_${this.stages.size + 1}`;
      this.stages.set(signature, name);
    }
    // Re-created rather than emptied: a fresh table has fresh statistics, which keeps the MERGE on an index plan.
    const stagedDefs = columns.flatMap((c, i) =>
      batch.constants.has(i) ? [] : [`${c} ${batch.stageTypes[i]}`],
    );
    await this.session.execute(`CREATE OR REPLACE TEMP TABLE ${name} (${stagedDefs.join(', ')})`);
    const app = await this.connection.createAppender(name);
    try {
      for (const chunk of batch.chunks) app.appendDataChunk(chunk);
      app.flushSync();
    } finally {
      app.closeSync();
    }
    const select = columns.map((c, i) => {
      const t = types[i]!;
      if (batch.constants.has(i))
        return `CAST(${sqlLiteral(stageValue(t, batch.constants.get(i)))} AS ${t}) AS ${c}`;
      return batch.stageTypes[i] === t ? c : `CAST(${c} AS ${t}) AS ${c}`;
    });
    return `(SELECT ${select.join(', ')} FROM ${name})`;
  }

  async bulkInsert(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<number> {
    checkColumns(table, columns, false);
    const prepared = prepareRows(columnTypes(table, columns), rows); // converted before taking the write lock
    return this.exclusive(async () => {
      if (rows.length === 0) return 0;
      const source = await this.stage(table, columns, prepared);
      try {
        await this.session.execute(
          `INSERT INTO ${qualified(table)} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${source}`,
        );
      } catch (e) {
        throw new Error(
          `bulk insert of ${rows.length} rows into ${qualified(table)} failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
      return rows.length;
    });
  }

  async upsert(table: TableDef, columns: string[], rows: SqlValue[][]): Promise<UpsertResult> {
    checkColumns(table, columns, true);
    const types = columnTypes(table, columns);
    // A few rows (run logs, test results) are written as literals: staging them costs more than the write.
    const literal = rows.length <= LITERAL_ROWS ? literalRows(types, columns, rows) : undefined;
    const prepared = literal ? undefined : prepareRows(types, rows); // converted before taking the write lock
    return this.exclusive(async () => {
      if (rows.length === 0) return { inserted: 0, updated: 0 };
      const source = literal ?? (await this.stage(table, columns, prepared!));
      try {
        // Writes are serialised on this connection, so the count and the MERGE see the same table.
        const [matched] = await this.session.query<{ N: number }>(matchedCountSql(table, source));
        const updated = matched?.N ?? 0;
        // All-new rows (the common case: a new file or day) need no MERGE, only an insert.
        await this.session.execute(
          updated === 0
            ? `INSERT INTO ${qualified(table)} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${source}`
            : mergeSql(table, source, columns),
        );
        return { inserted: rows.length - updated, updated };
      } catch (e) {
        throw new Error(
          `upsert of ${rows.length} rows into ${qualified(table)} failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
    });
  }

  /** Runs statements as one transaction, serialised with the other writes on this connection. */
  async atomically(statements: string[]): Promise<void> {
    return this.exclusive(async () => {
      await this.session.execute('BEGIN TRANSACTION');
      try {
        for (const s of statements) await this.session.execute(s);
        await this.session.execute('COMMIT');
      } catch (e) {
        await this.session.execute('ROLLBACK').catch(() => {});
        throw e;
      }
    });
  }

  async bootstrap(tables: TableDef[]): Promise<void> {
    for (const schema of new Set(tables.map((t) => t.schema)))
      await this.execute(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    for (const t of tables) await this.execute(createTableSql(t, (type) => type, true));
  }

  /**
   * Closes this connection once its queued writes and running reads have settled (closing under a
   * running statement can crash the process); the database stays open for other users in this
   * process (see openDuckDbWarehouse).
   */
  async close(): Promise<void> {
    await Promise.allSettled([this.writes, ...this.reads]);
    this.connection.closeSync();
    if (this.path === ':memory:') this.instance.closeSync();
  }
}

/**
 * DuckDB's worker threads: one per core (DuckDB's own default). Transforms, which leave the Node
 * thread idle, build about twice as fast on 2 cores as with one thread; batch loads, where Node
 * parses while DuckDB writes, lose about a tenth against leaving a core to Node.
 */
export function defaultDuckDbThreads(): number {
  return Math.max(1, availableParallelism());
}

/** Opens (creating if needed) a DuckDB warehouse file; ':memory:' gives a throw-away one. */
export async function openDuckDbWarehouse(
  path: string,
  opts: { threads?: number } = {},
): Promise<DuckDbWarehouse> {
  const options = {
    threads: String(opts.threads ?? defaultDuckDbThreads()),
    // Hand memory freed after big statements (bulk loads, model builds) back to the system instead
    // of keeping it: a 1M-row load peaks about 90 MB lower and settles ~240 MB lower.
    allocator_flush_threshold: '16MB',
    allocator_bulk_deallocation_flush_threshold: '16MB',
  };
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let instance: DuckDBInstance;
  try {
    // One database instance per file and process, shared by every connection (worker activities, health checks).
    instance =
      path === ':memory:'
        ? await DuckDBInstance.create(path, options)
        : await DuckDBInstance.fromCache(path, options);
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /lock/i.test(msg) ? ' (another process, such as a running worker, has it open)' : '';
    throw new Error(`cannot open DuckDB warehouse ${path}${hint}: ${msg}`, { cause: e });
  }
  return new DuckDbWarehouse(instance, await instance.connect(), path);
}
