import { randomBytes } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { Bind, Column, Connection, ConnectionOptions, SnowflakeError } from 'snowflake-sdk';
import {
  StatementCancelledError,
  type ColumnType,
  type SqlValue,
  type StatementOptions,
  type TableDef,
  type UpsertResult,
  type Warehouse,
} from './types.js';
import { isSqlIdentifier } from './sql.js';

/** How to reach Snowflake (or a local emulator). Exactly one of `password` and `privateKey`. */
export interface SnowflakeSettings {
  /** Account identifier, e.g. `myorg-myaccount` (any value for a local emulator). */
  account: string;
  username: string;
  password?: string;
  /** PEM private key (PKCS#8) for key-pair authentication (authenticator SNOWFLAKE_JWT). */
  privateKey?: string;
  /** Passphrase of an encrypted `privateKey`. */
  privateKeyPassphrase?: string;
  /** Virtual warehouse that runs the statements. */
  warehouse?: string;
  database: string;
  /** The session's schema, default PUBLIC. Upsert's temporary staging tables live here. */
  schema?: string;
  role?: string;
  /** Only for a local emulator: host, port and protocol instead of `<account>.snowflakecomputing.com`. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  /** Rows per INSERT statement (array binds), default 10,000. */
  bulkChunkRows?: number;
}

/** Thrown by createSnowflakeWarehouse when settings are missing or contradictory; names the option. */
export class SnowflakeSettingsInvalidError extends Error {
  constructor(message: string) {
    super(`[warehouse:snowflake] ${message}`);
    this.name = 'SnowflakeSettingsInvalidError';
  }
}

/** Thrown when rows or columns handed to the warehouse cannot be written (wrong type, unknown column, duplicate key). */
export class SnowflakeInputInvalidError extends Error {
  constructor(message: string) {
    super(`[warehouse:snowflake] ${message}`);
    this.name = 'SnowflakeInputInvalidError';
  }
}

/** Thrown when Snowflake rejects or fails a statement (or the login); keeps the driver error as `cause`. */
export class SnowflakeStatementError extends Error {
  readonly code?: string;
  readonly sqlState?: string;
  constructor(what: string, sql: string | undefined, cause: unknown) {
    const driver = cause as Partial<SnowflakeError> | undefined;
    const detail = driver?.message ?? String(cause);
    super(
      `[warehouse:snowflake] ${what} failed: ${detail}` + (sql ? ` (statement: ${summarizeSql(sql)})` : ''),
      { cause },
    );
    this.name = 'SnowflakeStatementError';
    this.code = driver?.code === undefined ? undefined : String(driver.code);
    this.sqlState = driver?.sqlState;
  }
}

export const DEFAULT_BULK_CHUNK_ROWS = 10_000;
/**
 * Above this many bind values the driver writes array binds to a temporary stage and PUTs the file
 * (and the server's CLIENT_STAGE_ARRAY_BINDING_THRESHOLD may set it low). Chunks are sized so
 * every INSERT goes inline as one statement with array binds.
 */
const ARRAY_BINDING_THRESHOLD = 1_000_000_000;

// ---------------------------------------------------------------------------------------------
// Pure helpers: SQL text, type mapping and value encoding (unit-tested).

/** An unquoted identifier (Snowflake upper-cases it); anything else is refused rather than quoted. */
export function ident(name: string): string {
  if (!isSqlIdentifier(name))
    throw new SnowflakeInputInvalidError(`invalid identifier ${JSON.stringify(name)}`);
  return name.toUpperCase();
}

export function qualifiedName(table: Pick<TableDef, 'schema' | 'name'>): string {
  return `${ident(table.schema)}.${ident(table.name)}`;
}

const SNOWFLAKE_TYPES: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  DOUBLE: 'DOUBLE',
  BIGINT: 'NUMBER(38,0)',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP_NTZ',
  BOOLEAN: 'BOOLEAN',
};

export function snowflakeType(type: ColumnType): string {
  const t = SNOWFLAKE_TYPES[type];
  if (!t) throw new SnowflakeInputInvalidError(`unknown column type ${JSON.stringify(type)}`);
  return t;
}

/** One statement's text, on one line and cut short, for error messages (no bind values). */
export function summarizeSql(sql: string, max = 120): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`;
}

export function createTableSql(table: TableDef): string {
  if (table.columns.length === 0)
    throw new SnowflakeInputInvalidError(`table ${qualifiedName(table)} has no columns`);
  const cols = table.columns.map(
    (c) => `${ident(c.name)} ${snowflakeType(c.type)}${c.nullable === false ? ' NOT NULL' : ''}`,
  );
  if (table.key?.length) {
    // Informational on Snowflake (not enforced); upserts match on it.
    cols.push(
      `PRIMARY KEY (${resolveColumns(table, table.key)
        .map((c) => ident(c.name))
        .join(', ')})`,
    );
  }
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(table)} (${cols.join(', ')})`;
}

/** The table's definitions of `columns`, in that order; unknown or repeated names are refused. */
export function resolveColumns(table: TableDef, columns: string[]) {
  if (columns.length === 0)
    throw new SnowflakeInputInvalidError(`no columns given for ${qualifiedName(table)}`);
  const seen = new Set<string>();
  return columns.map((name) => {
    const upper = name.toUpperCase();
    const def = table.columns.find((c) => c.name.toUpperCase() === upper);
    if (!def)
      throw new SnowflakeInputInvalidError(
        `${qualifiedName(table)} has no column ${JSON.stringify(name)} (columns: ${table.columns.map((c) => c.name).join(', ')})`,
      );
    if (seen.has(upper))
      throw new SnowflakeInputInvalidError(`column ${upper} given twice for ${qualifiedName(table)}`);
    seen.add(upper);
    return def;
  });
}

export function insertValuesSql(target: string, columns: string[]): string {
  return `INSERT INTO ${target} (${columns.map(ident).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

export function createStageSql(stage: string, table: TableDef, columns: string[]): string {
  const defs = resolveColumns(table, columns).map((c) => `${ident(c.name)} ${snowflakeType(c.type)}`);
  return `CREATE TEMPORARY TABLE ${ident(stage)} (${defs.join(', ')})`;
}

export function insertFromStageSql(table: TableDef, stage: string, columns: string[]): string {
  const cols = columns.map(ident).join(', ');
  return `INSERT INTO ${qualifiedName(table)} (${cols}) SELECT ${cols} FROM ${ident(stage)}`;
}

/** One MERGE on the table's key: matched rows get every non-key column, the rest are inserted. */
export function mergeSql(table: TableDef, stage: string, columns: string[]): string {
  const key = keyColumns(table, columns);
  const cols = columns.map(ident);
  const others = cols.filter((c) => !key.includes(c));
  const on = key.map((k) => `TGT.${k} = SRC.${k}`).join(' AND ');
  const update = others.length
    ? ` WHEN MATCHED THEN UPDATE SET ${others.map((c) => `TGT.${c} = SRC.${c}`).join(', ')}`
    : '';
  return (
    `MERGE INTO ${qualifiedName(table)} AS TGT USING ${ident(stage)} AS SRC ON ${on}${update}` +
    ` WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `SRC.${c}`).join(', ')})`
  );
}

/** The table's key columns (upper-case); each must be among `columns`. */
export function keyColumns(table: TableDef, columns: string[]): string[] {
  if (!table.key?.length)
    throw new SnowflakeInputInvalidError(`upsert into ${qualifiedName(table)} needs table.key (it has none)`);
  const given = new Set(columns.map((c) => c.toUpperCase()));
  const key = table.key.map(ident);
  const missing = key.filter((k) => !given.has(k));
  if (missing.length)
    throw new SnowflakeInputInvalidError(
      `upsert into ${qualifiedName(table)} must include the key column(s) ${missing.join(', ')}`,
    );
  return key;
}

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

function timestampText(d: Date): string {
  // 'YYYY-MM-DD HH:MI:SS.FFF' in UTC: unambiguous for TIMESTAMP_NTZ whatever the session's input format.
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

function describe(v: SqlValue): string {
  if (v instanceof Date) return `Date ${Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()}`;
  return `${typeof v} ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`;
}

/**
 * One value as the text Snowflake casts into a column of `type`. All array binds are sent as text
 * (or null): the driver types each bind column by its first row, so a NULL or a whole number first
 * would mistype the rest, and Snowflake casts text into every column type.
 */
export function encodeValue(v: SqlValue, type: ColumnType): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date && Number.isNaN(v.getTime())) throw new TypeError('an invalid Date');
  switch (type) {
    case 'VARCHAR':
      if (v instanceof Date) throw new TypeError('a Date in a VARCHAR column');
      return String(v);
    case 'DOUBLE':
      if (typeof v === 'number') {
        if (Number.isNaN(v)) return 'NaN';
        if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
        return String(v);
      }
      if (typeof v === 'bigint' || typeof v === 'string') return String(v);
      break;
    case 'BIGINT':
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) throw new TypeError(`${v} is not a whole number`);
        return BigInt(v).toString();
      }
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'string') return v;
      break;
    case 'DATE':
      if (v instanceof Date) return v.toISOString().slice(0, 10);
      if (typeof v === 'string') {
        if (!DATE_TEXT.test(v)) throw new TypeError(`${JSON.stringify(v)} is not a 'YYYY-MM-DD' date`);
        return v;
      }
      break;
    case 'TIMESTAMP':
      if (v instanceof Date) return timestampText(v);
      if (typeof v === 'string') return v;
      break;
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
      if (typeof v === 'string') return v;
      break;
  }
  throw new TypeError(`a ${describe(v)} in a ${type} column`);
}

/** Rows as text binds for `columns` of `table`; a value that does not fit names its row and column. */
export function encodeRows(table: TableDef, columns: string[], rows: SqlValue[][]): (string | null)[][] {
  const defs = resolveColumns(table, columns);
  return rows.map((row, r) => {
    if (row.length !== defs.length)
      throw new SnowflakeInputInvalidError(
        `${qualifiedName(table)} row ${r}: ${row.length} values for ${defs.length} columns`,
      );
    return defs.map((def, c) => {
      try {
        return encodeValue(row[c] ?? null, def.type);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new SnowflakeInputInvalidError(
          `${qualifiedName(table)} row ${r}, column ${ident(def.name)}: cannot write ${why}`,
        );
      }
    });
  });
}

/** A positional parameter of execute/query as a driver bind; timestamps go as UTC text. */
export function toBind(v: SqlValue): Bind {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new SnowflakeInputInvalidError('cannot bind an invalid Date');
    return timestampText(v);
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'inf' : '-inf';
  return v;
}

/** A driver value as the Warehouse contract wants it: DATE as 'YYYY-MM-DD', TIMESTAMP as a plain Date. */
export function fromDriver(value: unknown, column: Pick<Column, 'isDate' | 'isTimestamp'>): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (column.isDate()) return new Date(value.getTime()).toISOString().slice(0, 10);
    if (column.isTimestamp()) return new Date(value.getTime());
  }
  return value;
}

/** Splits rows into statements of at most `size` rows. */
export function chunk<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Rejects a second row with the same key (MERGE would fail or pick one at random) and NULL keys. */
export function checkKeys(table: TableDef, columns: string[], rows: (string | null)[][]): void {
  const upper = columns.map((c) => c.toUpperCase());
  const idx = keyColumns(table, columns).map((k) => upper.indexOf(k));
  const seen = new Map<string, number>();
  rows.forEach((row, r) => {
    const key = idx.map((i) => row[i] ?? null);
    if (key.some((k) => k === null))
      throw new SnowflakeInputInvalidError(`upsert into ${qualifiedName(table)} row ${r}: NULL in the key`);
    const text = JSON.stringify(key);
    const first = seen.get(text);
    if (first !== undefined)
      throw new SnowflakeInputInvalidError(
        `upsert into ${qualifiedName(table)}: rows ${first} and ${r} have the same key ${text}`,
      );
    seen.set(text, r);
  });
}

export function validateSettings(s: SnowflakeSettings): void {
  const missing = (['account', 'username', 'database'] as const).find((k) => !s[k]);
  if (missing) throw new SnowflakeSettingsInvalidError(`missing required option "${missing}"`);
  if (Boolean(s.password) === Boolean(s.privateKey))
    throw new SnowflakeSettingsInvalidError('set exactly one of "password" and "privateKey"');
  if (s.privateKey && !s.privateKey.includes('-----BEGIN'))
    throw new SnowflakeSettingsInvalidError(
      '"privateKey" must be a PEM string (-----BEGIN ... PRIVATE KEY-----)',
    );
  if (s.schema !== undefined && !isSqlIdentifier(s.schema))
    throw new SnowflakeSettingsInvalidError(`"schema" ${JSON.stringify(s.schema)} is not a plain identifier`);
  if (s.bulkChunkRows !== undefined && !(Number.isInteger(s.bulkChunkRows) && s.bulkChunkRows > 0))
    throw new SnowflakeSettingsInvalidError(`"bulkChunkRows" must be a positive whole number`);
  if (s.port !== undefined && !(Number.isInteger(s.port) && s.port > 0 && s.port < 65536))
    throw new SnowflakeSettingsInvalidError(`"port" must be a TCP port number`);
}

// ---------------------------------------------------------------------------------------------
// The adapter.

/** Options the driver reads but does not declare in its typings (see connection_config.js). */
type DriverOptions = ConnectionOptions & { port?: number; protocol?: string };

function connectionOptions(s: SnowflakeSettings): DriverOptions {
  return {
    account: s.account,
    username: s.username,
    ...(s.privateKey
      ? { authenticator: 'SNOWFLAKE_JWT', privateKey: s.privateKey, privateKeyPass: s.privateKeyPassphrase }
      : { password: s.password }),
    warehouse: s.warehouse,
    database: s.database,
    schema: s.schema ?? 'PUBLIC',
    role: s.role,
    host: s.host,
    port: s.port,
    protocol: s.protocol,
    arrayBindingThreshold: ARRAY_BINDING_THRESHOLD,
    // Long-lived workers: keep the session from expiring between activities.
    clientSessionKeepAlive: true,
  };
}

interface RunResult {
  columns: Column[];
  rows: unknown[][];
}

/**
 * Runs one statement. When `signal` aborts first, the statement is cancelled on the server (an
 * abort request, best effort: its answer is not awaited) and the promise rejects at once with
 * StatementCancelledError.
 */
export function runStatement(
  conn: Pick<Connection, 'execute'>,
  what: string,
  sqlText: string,
  binds?: Bind[] | Bind[][],
  signal?: AbortSignal,
): Promise<RunResult> {
  if (signal?.aborted) return Promise.reject(new StatementCancelledError(sqlText, signal.reason));
  return new Promise((resolve, reject) => {
    let done = false;
    let cancel: (() => void) | undefined;
    const finish = () => {
      done = true;
      if (cancel) signal?.removeEventListener('abort', cancel);
    };
    try {
      const statement = conn.execute({
        sqlText,
        binds,
        rowMode: 'array',
        complete: (err, stmt, rows) => {
          finish();
          if (err) reject(new SnowflakeStatementError(what, sqlText, err));
          else resolve({ columns: stmt.getColumns() ?? [], rows: (rows ?? []) as unknown[][] });
        },
      });
      if (signal && !done) {
        cancel = () => {
          finish();
          try {
            statement.cancel(() => undefined);
          } catch {
            // The statement may have finished meanwhile; the caller is told it was cancelled either way.
          }
          reject(new StatementCancelledError(sqlText, signal.reason));
        };
        signal.addEventListener('abort', cancel, { once: true });
      }
    } catch (e) {
      // The driver validates options synchronously (e.g. a bind it cannot serialize).
      finish();
      reject(new SnowflakeStatementError(what, sqlText, e));
    }
  });
}

/** The value of the DML result column named `name` (e.g. "number of rows inserted"), 0 when absent. */
function dmlCount(result: RunResult, name: string): number {
  const i = result.columns.findIndex((c) => c.getName().toLowerCase() === name);
  return i < 0 ? 0 : Number(result.rows[0]?.[i] ?? 0);
}

function stageName(table: TableDef): string {
  return `EGX_STAGE_${ident(table.name)}_${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** Connects (logs in) and returns the Snowflake warehouse; one session, closed by `close()`. */
export async function createSnowflakeWarehouse(settings: SnowflakeSettings): Promise<Warehouse> {
  validateSettings(settings);
  const chunkRows = settings.bulkChunkRows ?? DEFAULT_BULK_CHUNK_ROWS;
  // The driver logs to the console at INFO by default; the pipeline wants its errors only.
  snowflake.configure({ logLevel: 'ERROR' });
  const conn = snowflake.createConnection(connectionOptions(settings));
  const where = settings.host ? `${settings.host}:${settings.port ?? ''}` : `account ${settings.account}`;
  await new Promise<void>((resolve, reject) =>
    conn.connect((err) =>
      err
        ? reject(
            new SnowflakeStatementError(
              `login to ${where} as ${settings.username} (database ${settings.database})`,
              undefined,
              err,
            ),
          )
        : resolve(),
    ),
  );
  let closed = false;

  /** Writes encoded rows into `target` in chunks of array binds; returns the rows the server reports. */
  async function insertChunks(what: string, target: string, columns: string[], rows: (string | null)[][]) {
    const sql = insertValuesSql(target, columns);
    let written = 0;
    for (const part of chunk(rows, chunkRows)) {
      written += dmlCount(await runStatement(conn, what, sql, part), 'number of rows inserted');
    }
    return written;
  }

  /** Creates a temporary staging table, runs `work`, and always drops it again. */
  async function withStage<T>(table: TableDef, columns: string[], work: (stage: string) => Promise<T>) {
    const stage = stageName(table);
    await runStatement(
      conn,
      `creating staging table for ${qualifiedName(table)}`,
      createStageSql(stage, table, columns),
    );
    try {
      return await work(stage);
    } finally {
      // Temporary tables vanish with the session anyway; a failed drop must not hide the real error.
      await runStatement(conn, `dropping staging table ${stage}`, `DROP TABLE IF EXISTS ${stage}`).catch(
        () => undefined,
      );
    }
  }

  return {
    dialect: 'snowflake',

    async execute(sql, params, opts?: StatementOptions) {
      await runStatement(conn, 'statement', sql, params?.map(toBind), opts?.signal);
    },

    async query<T extends Record<string, unknown>>(
      sql: string,
      params?: SqlValue[],
      opts?: StatementOptions,
    ) {
      const { columns, rows } = await runStatement(conn, 'query', sql, params?.map(toBind), opts?.signal);
      const names = columns.map((c) => c.getName().toUpperCase());
      return rows.map((row) => {
        const out: Record<string, unknown> = {};
        columns.forEach((c, i) => (out[names[i]!] = fromDriver(row[i], c)));
        return out as T;
      });
    },

    async bulkInsert(table, columns, rows) {
      const encoded = encodeRows(table, columns, rows);
      if (encoded.length === 0) return 0;
      const name = qualifiedName(table);
      if (encoded.length <= chunkRows)
        return insertChunks(`bulk insert into ${name}`, name, columns, encoded);
      // More than one statement: stage first, so the table gets all rows in one INSERT or none.
      return withStage(table, columns, async (stage) => {
        await insertChunks(`staging rows for ${name}`, stage, columns, encoded);
        const result = await runStatement(
          conn,
          `bulk insert into ${name}`,
          insertFromStageSql(table, stage, columns),
        );
        return dmlCount(result, 'number of rows inserted');
      });
    },

    async upsert(table, columns, rows) {
      const encoded = encodeRows(table, columns, rows);
      checkKeys(table, columns, encoded);
      if (encoded.length === 0) return { inserted: 0, updated: 0 };
      const name = qualifiedName(table);
      return withStage(table, columns, async (stage): Promise<UpsertResult> => {
        await insertChunks(`staging rows for upsert into ${name}`, stage, columns, encoded);
        const result = await runStatement(conn, `merge into ${name}`, mergeSql(table, stage, columns));
        return {
          inserted: dmlCount(result, 'number of rows inserted'),
          updated: dmlCount(result, 'number of rows updated'),
        };
      });
    },

    async bootstrap(tables) {
      for (const schema of new Set(tables.map((t) => ident(t.schema)))) {
        await runStatement(conn, `creating schema ${schema}`, createSchemaSql(schema));
      }
      for (const table of tables) {
        await runStatement(conn, `creating table ${qualifiedName(table)}`, createTableSql(table));
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve, reject) =>
        conn.destroy((err) =>
          err ? reject(new SnowflakeStatementError('closing the session', undefined, err)) : resolve(),
        ),
      );
    },
  };
}
