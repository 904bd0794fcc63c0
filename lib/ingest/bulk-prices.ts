import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { objectKeyProblem } from '../lake/keys.js';
import { LocalObjectStore } from '../lake/local.js';
import type { ObjectStore } from '../lake/types.js';
import { DuckDbWarehouse } from '../warehouse/duckdb.js';
import { TBL_STOCK_PRICE } from '../warehouse/schema.js';
import { matchedCountSql, mergeSql } from '../warehouse/sql.js';
import type { Warehouse } from '../warehouse/types.js';
import { detectDailyFormat, symbolFromKey, type DailyFormat } from './daily-bars.js';
import { FileUnreadableError } from './records.js';
import { recordLoadedFiles, type FileLoadResult } from './load-file.js';
import { sniffEncoding } from './text-stream.js';
import { pooled } from '../util/pool.js';

/**
 * The fast path for clean daily price files in the plain layouts (plain OHLCV, Yahoo): on a DuckDB
 * warehouse reading a local object store, DuckDB's own CSV reader stages many files at once and
 * SQL checks them. A file is loaded this way only when every row is plainly valid: ISO dates,
 * plain decimals, close > 0, high >= low, nothing negative, one row per date, one row per line.
 * Anything else (a bad row, a vendor quirk, another encoding) goes to the row-by-row loader,
 * which quarantines exactly as always; so both paths load the same rows.
 */

const FAST_FORMATS = new Set(['ohlcv', 'yahoo']);
/** CSV bytes staged per statement: big batches amortise each statement, and bound the memory staging takes. */
const BATCH_BYTES = 16 * 1024 * 1024;
const NUMERIC = ['open', 'high', 'low', 'close', 'volume', 'prevClose', 'turnover'] as const;

interface Candidate {
  key: string;
  etag: string;
  path: string;
  format: DailyFormat;
  header: string;
  width: number;
  dataRows: number;
  bytes: number;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** First line, newline count, whether the text ends with one, and the MD5, streaming the file once. */
async function scan(path: string): Promise<{
  first: Buffer;
  header: string;
  newlines: number;
  endsWithNewline: boolean;
  md5: string;
  bytes: number;
}> {
  const hash = createHash('md5');
  let newlines = 0;
  let bytes = 0;
  let first: Buffer | undefined;
  let header: string | undefined;
  let last = 0;
  const head: Buffer[] = [];
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    first ??= chunk;
    hash.update(chunk);
    bytes += chunk.length;
    if (header === undefined) {
      head.push(chunk);
      const joined = Buffer.concat(head);
      const nl = joined.indexOf(0x0a);
      if (nl >= 0) header = joined.subarray(0, nl).toString('utf8').replace(/\r$/, '');
    }
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) newlines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return {
    first: first ?? Buffer.alloc(0),
    header: header ?? '',
    newlines,
    endsWithNewline: last === 0x0a,
    md5: hash.digest('hex'),
    bytes,
  };
}

type Scan = Awaited<ReturnType<typeof scan>>;

function candidate(key: string, path: string, s: Scan): Candidate | undefined {
  if (sniffEncoding(s.first) !== 'utf-8' || s.first[0] === 0xef) return undefined;
  // Plain header names only: no quoting, no BOM, nothing the CSV parser would treat specially.
  if (!/^[A-Za-z][A-Za-z0-9 _.]*(,[A-Za-z][A-Za-z0-9 _.]*)*$/.test(s.header)) return undefined;
  const cells = s.header.split(',');
  let format: DailyFormat;
  try {
    format = detectDailyFormat(key, cells);
  } catch {
    return undefined;
  }
  if (!FAST_FORMATS.has(format.id)) return undefined;
  const dataRows = s.newlines - 1 + (s.endsWithNewline ? 0 : 1);
  return { key, etag: s.md5, path, format, header: s.header, width: cells.length, dataRows, bytes: s.bytes };
}

/**
 * The typed staging table's SELECT over the text columns c0, c1, ...: each cell cast once, with a
 * flag saying whether the row loader would read it the same way (numbers DuckDB alone accepts,
 * digit separators and nan/inf, are not ok and send the file to the row loader).
 */
function typedSql(f: DailyFormat): string {
  const text = (field: string) => {
    const i = f.columns[field as keyof DailyFormat['columns']];
    return i === undefined ? undefined : `T${i}`;
  };
  const date = text('date')!;
  // Each value is cast once; later expressions reuse it by its alias.
  const out = [
    `try_cast(${date} AS DATE) AS TRADE_DATE`,
    `(length(${date}) = 10 AND TRADE_DATE IS NOT NULL) AS OK_DATE`,
  ];
  for (const field of NUMERIC) {
    const t = text(field);
    const name = field.toUpperCase();
    if (!t) {
      out.push(`CAST(NULL AS DOUBLE) AS V_${name}`, `true AS OK_${name}`);
      continue;
    }
    out.push(`try_cast(nullif(${t}, '') AS DOUBLE) AS V_${name}`);
    out.push(`(${t} = '' OR (isfinite(V_${name}) AND NOT contains(${t}, '_'))) AS OK_${name}`);
  }
  return out.join(', ');
}

/** A typed row as the row loader would accept it: every cell read alike, close > 0, high >= low, nothing negative. */
const VALID_ROW = `OK_DATE AND OK_OPEN AND OK_HIGH AND OK_LOW AND OK_CLOSE AND OK_VOLUME AND OK_PREVCLOSE AND OK_TURNOVER
  AND V_CLOSE > 0 AND V_HIGH IS NOT NULL AND V_LOW IS NOT NULL AND V_HIGH >= V_LOW
  AND coalesce(V_OPEN, 0) >= 0 AND V_LOW >= 0 AND coalesce(V_PREVCLOSE, 0) >= 0 AND coalesce(V_TURNOVER, 0) >= 0
  AND coalesce(V_VOLUME, 0) >= 0`;

function rowSelectSql(f: DailyFormat, files: string, runId: string, loadedAt: string): string {
  return `SELECT m.SYMBOL, s.TRADE_DATE, ${lit(f.id)} AS DATA_SOURCE,
    V_OPEN AS OPEN_PRICE, V_HIGH AS HIGH_PRICE, V_LOW AS LOW_PRICE, V_CLOSE AS CLOSE_PRICE,
    V_PREVCLOSE AS PREV_CLOSE, CAST(round(V_VOLUME) AS BIGINT) AS VOLUME, V_TURNOVER AS TURNOVER,
    m.SOURCE_KEY, s.rowid - m.FIRST + 2 AS SOURCE_LINE, ${lit(runId)} AS RUN_ID, CAST(${lit(loadedAt)} AS TIMESTAMP) AS LOADED_AT
    FROM BULK_PRICE_STAGE s JOIN (VALUES ${files}) m(F, SOURCE_KEY, SYMBOL, FIRST) ON m.F = s.F`;
}

const safeSymbolFromKey = (key: string): string | undefined => {
  try {
    return symbolFromKey(key);
  } catch (e) {
    if (e instanceof FileUnreadableError) return undefined;
    throw e;
  }
};

/**
 * Loads what it can of `keys` (daily price files) through the fast path and returns those
 * results, plus the keys left for the row-by-row loader. Without a DuckDB warehouse and a local
 * store, every key is left.
 */
export async function loadPriceFilesInBulk(
  deps: { store: ObjectStore; warehouse: Warehouse },
  keys: string[],
  opts: {
    runId: string;
    force?: boolean;
    now?: () => Date;
    onFile?: (r: FileLoadResult) => void;
    /** Aborting it loads no more batches (the batch being loaded, a few seconds' work, finishes). */
    signal?: AbortSignal;
  },
): Promise<{ results: FileLoadResult[]; rest: string[] }> {
  const { store, warehouse } = deps;
  if (!(store instanceof LocalObjectStore) || !(warehouse instanceof DuckDbWarehouse) || keys.length === 0) {
    return { results: [], rest: keys };
  }
  const results: FileLoadResult[] = [];
  const rest: string[] = [];
  const manifest = new Map(
    (
      await warehouse.query<{ SOURCE_KEY: string; ETAG: string }>(
        'SELECT SOURCE_KEY, ETAG FROM META.LOADED_FILES',
      )
    ).map((r) => [r.SOURCE_KEY, r.ETAG]),
  );
  const inspect = async (key: string) => {
    // A key or file name the row loader refuses is its to report, with the reason.
    if (objectKeyProblem(key) || !safeSymbolFromKey(key)) return { key, rest: true as const };
    const path = store.fileOf(key);
    // DuckDB would read glob characters in a path as a pattern; a missing file is the row loader's to report.
    const s = /[*?[\]{}']/.test(path) ? undefined : await scan(path).catch(() => undefined);
    if (!s) return { key, rest: true as const };
    // The etag is the content's MD5, as the local store's own.
    if (!opts.force && manifest.get(key) === s.md5) {
      const skipped: FileLoadResult = {
        key,
        kind: 'prices',
        etag: s.md5,
        skipped: true,
        rowsLoaded: 0,
        rowsInserted: 0,
        rowsUpdated: 0,
        rowsQuarantined: 0,
        quarantineReasons: {},
      };
      return { key, skipped };
    }
    const c = candidate(key, path, s);
    return c ? { key, candidate: c } : { key, rest: true as const };
  };

  // Inspect every file first (8 at a time), then load the candidates in batches of one header.
  // Two files of one symbol (a history and a backfill chunk) go to different batches, so the
  // later one is merged on the key into what the earlier one loaded.
  const groups = new Map<string, Candidate[][]>();
  for (const f of await pooled(keys, 8, inspect)) {
    if ('skipped' in f && f.skipped) {
      results.push(f.skipped);
      opts.onFile?.(f.skipped);
    } else if ('candidate' in f && f.candidate) {
      const c = f.candidate;
      const batches = groups.get(c.header) ?? [[]];
      let last = batches.at(-1)!;
      const symbol = symbolFromKey(c.key);
      if (
        last.length > 0 &&
        (last.reduce((n, x) => n + x.bytes, 0) + c.bytes > BATCH_BYTES ||
          last.some((x) => symbolFromKey(x.key) === symbol))
      )
        batches.push((last = []));
      last.push(c);
      groups.set(c.header, batches);
    } else rest.push(f.key);
  }
  for (const batch of [...groups.values()].flat()) {
    opts.signal?.throwIfAborted();
    const loaded = await loadBatch(warehouse, batch, opts);
    for (const c of batch) {
      const r = loaded.get(c.key);
      if (r) {
        results.push(r);
        opts.onFile?.(r);
      } else rest.push(c.key);
    }
  }
  return { results, rest };
}

/** Stages one batch of same-header files, loads the clean ones, and returns their results. */
async function loadBatch(
  wh: DuckDbWarehouse,
  batch: Candidate[],
  opts: { runId: string; now?: () => Date },
): Promise<Map<string, FileLoadResult>> {
  const { format, width } = batch[0]!;
  const loadedAt = (opts.now ?? (() => new Date()))();
  const stamp = loadedAt.toISOString().replace('T', ' ').replace('Z', '');
  const columns = Array.from({ length: width }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const out = new Map<string, FileLoadResult>();
  const loaded = await wh.serialized(async (db) => {
    // One pass: DuckDB reads the files (in the order given, rows in file order) and casts each
    // cell once; a row's place in the staged table then gives its line (header on line 1; files
    // with blank or multi-line rows never get here).
    await db.execute(
      `CREATE OR REPLACE TEMP TABLE BULK_PRICE_STAGE AS
       SELECT F, ${typedSql(format)} FROM (
         -- The CSV reader gives NULL for an empty cell.
         SELECT filename AS F, ${Array.from({ length: width }, (_, i) => `coalesce(trim(c${i}), '') AS T${i}`).join(', ')}
         FROM read_csv([${batch.map((c) => lit(c.path)).join(', ')}], header = true, filename = true, auto_detect = false,
                       delim = ',', quote = '"', escape = '"', columns = {${columns}}))`,
    );
    try {
      const checks = await db.query<{ F: string; N: number; BAD: number; DATES: number; FIRST: number }>(
        `SELECT F, COUNT(*) AS N, MIN(rowid) AS FIRST, SUM(CASE WHEN ${VALID_ROW} THEN 0 ELSE 1 END) AS BAD,
                COUNT(DISTINCT TRADE_DATE) AS DATES
         FROM BULK_PRICE_STAGE GROUP BY F`,
      );
      const byPath = new Map(checks.map((c) => [c.F, c]));
      const clean = batch.filter((c) => {
        const k = byPath.get(c.path);
        return k !== undefined && k.BAD === 0 && k.N === c.dataRows && k.DATES === k.N && k.N > 0;
      });
      if (clean.length === 0) return [];
      const files = clean
        .map(
          (c) =>
            `(${lit(c.path)}, ${lit(c.key)}, ${lit(symbolFromKey(c.key))}, ${byPath.get(c.path)!.FIRST})`,
        )
        .join(', ');
      const source = `(${rowSelectSql(format, files, opts.runId, stamp)})`;
      // A first load of these symbols from this vendor matches nothing: skip counting then.
      const symbols = clean.map((c) => lit(symbolFromKey(c.key))).join(', ');
      const [any] = await db.query<{ N: number }>(
        `SELECT COUNT(*) AS N FROM (SELECT 1 FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = ${lit(format.id)} AND SYMBOL IN (${symbols}) LIMIT 1)`,
      );
      const [matched] = any?.N
        ? await db.query<{ N: number }>(matchedCountSql(TBL_STOCK_PRICE, source))
        : [{ N: 0 }];
      const cols = TBL_STOCK_PRICE.columns.map((c) => c.name);
      const perFileUpdated = new Map<string, number>();
      if ((matched?.N ?? 0) === 0) {
        await db.execute(
          `INSERT INTO ${TBL_STOCK_PRICE.schema}.${TBL_STOCK_PRICE.name} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${source}`,
        );
      } else {
        const per = await db.query<{ SOURCE_KEY: string; N: number }>(
          `SELECT s.SOURCE_KEY, COUNT(*) AS N FROM ${source} s JOIN OPERATIONAL.TBL_STOCK_PRICE t
             ON t.SYMBOL = s.SYMBOL AND t.TRADE_DATE = s.TRADE_DATE AND t.DATA_SOURCE = s.DATA_SOURCE GROUP BY s.SOURCE_KEY`,
        );
        for (const p of per) perFileUpdated.set(p.SOURCE_KEY, p.N);
        await db.execute(mergeSql(TBL_STOCK_PRICE, source, cols));
      }
      return clean.map((c) => {
        const n = byPath.get(c.path)!.N;
        const updated = perFileUpdated.get(c.key) ?? 0;
        return { c, n, updated };
      });
    } finally {
      await db.execute('DROP TABLE IF EXISTS BULK_PRICE_STAGE');
    }
  });
  if (loaded.length === 0) return out;
  await recordLoadedFiles(
    wh,
    loaded.map(({ c, n }) => ({
      key: c.key,
      etag: c.etag,
      kind: 'prices',
      format: format.id,
      rowsLoaded: n,
      rowsQuarantined: 0,
      runId: opts.runId,
      loadedAt,
    })),
  );

  for (const { c, n, updated } of loaded) {
    out.set(c.key, {
      key: c.key,
      kind: 'prices',
      etag: c.etag,
      format: format.id,
      skipped: false,
      rowsLoaded: n,
      rowsInserted: n - updated,
      rowsUpdated: updated,
      rowsQuarantined: 0,
      quarantineReasons: {},
    });
  }
  return out;
}
