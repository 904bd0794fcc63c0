import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { CsvError } from 'csv-parse';
import { DuckDBDataChunk, DuckDBDoubleType, DuckDBIntegerType } from '@duckdb/node-api';
import { objectKeyProblem } from '../lake/keys.js';
import { LocalObjectStore } from '../lake/local.js';
import type { ObjectStore } from '../lake/types.js';
import { DuckDbWarehouse, type DuckDbSession } from '../warehouse/duckdb.js';
import { TBL_STOCK_PRICE } from '../warehouse/schema.js';
import { matchedCountSql, mergeSql } from '../warehouse/sql.js';
import type { Warehouse } from '../warehouse/types.js';
import { detectDailyFormat, epochDay, readDailyBars, symbolFromKey, type DailyFormat } from './daily-bars.js';
import { FileUnreadableError } from './records.js';
import { isIndexLevelKey } from './index-levels.js';
import {
  emptyResult,
  reasonCounts,
  recordLoadedFiles,
  writeQuarantine,
  type FileLoadResult,
  type QuarantineEntry,
} from './load-file.js';
import { sniffEncoding } from './text-stream.js';
import { pooled } from '../util/pool.js';

/**
 * The fast path for daily price files on a DuckDB warehouse reading a local object store: many
 * files are written per statement instead of a few statements per file.
 *
 * - Clean files in the plain layouts (plain OHLCV, Yahoo) are read by DuckDB's own CSV reader and
 *   checked in SQL as strictly as the row loader: only when every line has the header's number of
 *   cells (no quotes, no blank lines, `\n` line ends) and every row is plainly valid (ISO dates,
 *   plain decimals, close > 0, high >= low, nothing negative, one row per date).
 * - Every other price file (the vendor layouts, other encodings, files with something to
 *   quarantine, and any batch DuckDB's reader refuses) is parsed by the row loader's own reader
 *   (readDailyBars: the same values, the same rejects with the same lines and reasons) and its
 *   rows are appended to a staging table, many files at a time, while the next files are parsed.
 *
 * Both write the same rows, quarantine and manifest as the row-by-row loader (loadFile). What
 * neither takes (a file name that is not a ticker, an unknown layout, an unreadable file, a file
 * too big to hold) is left to loadFile, which reports it; so are files that are not a stock's daily
 * bars (named after an index, or found by the parser to hold intraday bars or index levels), which
 * loadFile's reader sends to their own tables.
 */

const FAST_FORMATS = new Set(['ohlcv', 'yahoo']);
/** CSV bytes staged per statement: big batches amortise each statement, and bound the memory staging takes. */
const BATCH_BYTES = 16 * 1024 * 1024;
/** Parsed rows staged per statement. */
const PARSED_BATCH_ROWS = 200_000;
/** Bigger files are left to the row loader, which streams them instead of holding them parsed. */
const PARSED_FILE_BYTES = 64 * 1024 * 1024;
const NUMERIC = ['open', 'high', 'low', 'close', 'volume', 'prevClose', 'turnover'] as const;

interface Inspected {
  key: string;
  /** The content's MD5 (the local store's etag); for a file to parse that is new to the manifest, taken while parsing. */
  etag?: string;
  path: string;
  bytes: number;
}

interface Candidate extends Inspected {
  etag: string;
  format: DailyFormat;
  header: string;
  width: number;
  dataRows: number;
}

/** Files of one header for one CSV statement: at most BATCH_BYTES, one file per symbol. */
interface CsvBatch {
  files: Candidate[];
  bytes: number;
  symbols: Set<string>;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The layout of a header DuckDB's CSV reader may read as the row loader does, or undefined. */
function plainLayout(key: string, first: Buffer, header: string): DailyFormat | undefined {
  if (sniffEncoding(first) !== 'utf-8' || first[0] === 0xef) return undefined;
  // Plain header names only: no quoting, no BOM, nothing the CSV parser would treat specially.
  if (!/^[A-Za-z][A-Za-z0-9 _.]*(,[A-Za-z][A-Za-z0-9 _.]*)*$/.test(header)) return undefined;
  // Timestamps may be intraday bars: the parser tells (and leaves them to the row loader).
  if (/(^|,)(datetime|time|timestamp)(,|$)/i.test(header)) return undefined;
  try {
    const format = detectDailyFormat(key, header.split(','));
    return FAST_FORMATS.has(format.id) ? format : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Streams the file for its MD5 and, when its header is of a plain layout (in the first chunk),
 * whether every line is plain too (`\n` line ends, no quotes, no blank line, the header's number
 * of commas on every line), as DuckDB's CSV reader needs to read it line for line. Without
 * `needMd5`, a file that is not plain is read no further than its first chunk.
 */
async function scan(
  key: string,
  path: string,
  needMd5: boolean,
): Promise<{ md5?: string; plain?: { format: DailyFormat; header: string; dataRows: number } }> {
  const hash = createHash('md5');
  let bytes = 0;
  let plain: { format: DailyFormat; header: string } | undefined;
  let plainLines = true;
  let headerCommas = -1;
  let commas = 0;
  let newlines = 0;
  let last = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (bytes === 0) {
      const nl = chunk.indexOf(0x0a);
      const header = nl < 0 ? undefined : chunk.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      const format = header === undefined ? undefined : plainLayout(key, chunk, header);
      if (format) plain = { format, header: header! };
      else if (!needMd5) return {};
    }
    hash.update(chunk);
    bytes += chunk.length;
    if (plain && plainLines) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === 0x2c) commas++;
        else if (b === 0x0a) {
          newlines++;
          if (headerCommas < 0) headerCommas = commas;
          else if (commas !== headerCommas) plainLines = false;
          commas = 0;
        } else if (b === 0x22 || b === 0x0d) plainLines = false;
      }
      last = chunk[chunk.length - 1] ?? last;
    }
  }
  const md5 = hash.digest('hex');
  if (!plain || !plainLines) return { md5 };
  // A last line without a newline is checked like the others.
  if (last !== 0x0a && commas !== headerCommas) return { md5 };
  return { md5, plain: { ...plain, dataRows: newlines - 1 + (last === 0x0a ? 0 : 1) } };
}

/**
 * The typed staging table's SELECT over the text columns c0, c1, ...: each cell cast once, with a
 * flag saying whether the row loader would read it the same way (numbers DuckDB alone accepts,
 * digit separators and nan/inf, are not ok and send the file to the parser).
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

function csvRowsSql(f: DailyFormat, files: string, runId: string, loadedAt: string): string {
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

const timestampText = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/**
 * Writes `source` (rows with every TBL_STOCK_PRICE column, at most one per key) into the table:
 * a plain insert when none of its symbols has rows from its vendor yet, else a merge on the key.
 * Returns the rows updated per source key.
 */
async function writeStaged(
  db: DuckDbSession,
  source: string,
  pairs: { symbol: string; source: string }[],
): Promise<Map<string, number>> {
  const updated = new Map<string, number>();
  const values = pairs.map((p) => `(${lit(p.symbol)}, ${lit(p.source)})`).join(', ');
  // A first load of these symbols from these vendors matches nothing: skip counting then.
  const [any] = await db.query<{ N: number }>(
    `SELECT COUNT(*) AS N FROM (SELECT 1 FROM OPERATIONAL.TBL_STOCK_PRICE t
       JOIN (VALUES ${values}) m(SYMBOL, DATA_SOURCE) ON t.SYMBOL = m.SYMBOL AND t.DATA_SOURCE = m.DATA_SOURCE LIMIT 1)`,
  );
  const [matched] = any?.N
    ? await db.query<{ N: number }>(matchedCountSql(TBL_STOCK_PRICE, source))
    : [{ N: 0 }];
  const cols = TBL_STOCK_PRICE.columns.map((c) => c.name);
  if ((matched?.N ?? 0) === 0) {
    await db.execute(
      `INSERT INTO ${TBL_STOCK_PRICE.schema}.${TBL_STOCK_PRICE.name} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${source}`,
    );
    return updated;
  }
  const per = await db.query<{ SOURCE_KEY: string; N: number }>(
    `SELECT s.SOURCE_KEY, COUNT(*) AS N FROM ${source} s JOIN OPERATIONAL.TBL_STOCK_PRICE t
       ON t.SYMBOL = s.SYMBOL AND t.TRADE_DATE = s.TRADE_DATE AND t.DATA_SOURCE = s.DATA_SOURCE GROUP BY s.SOURCE_KEY`,
  );
  for (const p of per) updated.set(p.SOURCE_KEY, p.N);
  await db.execute(mergeSql(TBL_STOCK_PRICE, source, cols));
  return updated;
}

interface Options {
  runId: string;
  force?: boolean;
  now?: () => Date;
  onFile?: (r: FileLoadResult) => void;
  /** Aborting it loads no more batches (the batch being written, a few seconds' work, finishes). */
  signal?: AbortSignal;
}

/**
 * Loads what it can of `keys` (daily price files) through the fast path and returns those
 * results, plus the keys left for the row-by-row loader. Without a DuckDB warehouse and a local
 * store, every key is left.
 */
export async function loadPriceFilesInBulk(
  deps: { store: ObjectStore; lake?: ObjectStore; warehouse: Warehouse },
  keys: string[],
  opts: Options,
): Promise<{ results: FileLoadResult[]; rest: string[] }> {
  const { store, warehouse } = deps;
  if (!(store instanceof LocalObjectStore) || !(warehouse instanceof DuckDbWarehouse) || keys.length === 0) {
    return { results: [], rest: keys };
  }
  const lake = deps.lake ?? store;
  const results: FileLoadResult[] = [];
  const rest: string[] = [];
  const done = (r: FileLoadResult) => {
    results.push(r);
    opts.onFile?.(r);
  };
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
    // An index's or the market's levels are never a stock's: the row loader files them.
    if (isIndexLevelKey(key)) return { key, rest: true as const };
    const path = store.fileOf(key);
    // A missing file is the row loader's to report.
    const bytes = await stat(path).then(
      (st) => (st.isFile() ? st.size : undefined),
      () => undefined,
    );
    // The etag is the content's MD5, as the local store's own: needed first only to compare.
    const needMd5 = !opts.force && manifest.has(key);
    const s = bytes === undefined ? undefined : await scan(key, path, needMd5).catch(() => undefined);
    if (!s || bytes === undefined) return { key, rest: true as const };
    if (needMd5 && manifest.get(key) === s.md5) {
      const skipped: FileLoadResult = { ...emptyResult(key, 'prices', s.md5!), skipped: true };
      return { key, skipped };
    }
    const file: Inspected = { key, etag: s.md5, path, bytes };
    // DuckDB would read glob characters in a path as a pattern.
    if (!s.plain || !s.md5 || /[*?[\]{}']/.test(path)) return { key, parse: file };
    const { format, header, dataRows } = s.plain;
    const c: Candidate = { ...file, etag: s.md5, format, header, width: header.split(',').length, dataRows };
    return { key, candidate: c };
  };

  // Inspect every file first (8 at a time); then load the CSV candidates in batches of one header
  // and parse the rest in batches. Two files of one symbol (a history and a backfill chunk) go to
  // different batches, so the later one is merged on the key into what the earlier one loaded.
  const groups = new Map<string, CsvBatch[]>();
  const toParse: Inspected[] = [];
  for (const f of await pooled(keys, 8, inspect)) {
    if ('skipped' in f && f.skipped) done(f.skipped);
    else if ('candidate' in f && f.candidate) {
      const c = f.candidate;
      const batches = groups.get(c.header) ?? [];
      let last = batches.at(-1);
      const symbol = symbolFromKey(c.key);
      if (!last || last.bytes + c.bytes > BATCH_BYTES || last.symbols.has(symbol))
        batches.push((last = { files: [], bytes: 0, symbols: new Set() }));
      last.files.push(c);
      last.bytes += c.bytes;
      last.symbols.add(symbol);
      groups.set(c.header, batches);
    } else if ('parse' in f && f.parse) toParse.push(f.parse);
    else rest.push(f.key);
  }
  // The CSV batches load while the other files are parsed; files of a symbol that is also in a
  // CSV batch, and the files a CSV batch leaves (something to quarantine), are parsed after them.
  const order = new Map(keys.map((k, i) => [k, i]));
  const csvBatches = [...groups.values()].flat().map((b) => b.files);
  const csvSymbols = new Set(csvBatches.flat().map((c) => symbolFromKey(c.key)));
  const csv = (async () => {
    const left: Inspected[] = [];
    for (const batch of csvBatches) {
      opts.signal?.throwIfAborted();
      const loaded = await loadCsvBatch(warehouse, batch, opts);
      for (const c of batch) {
        const r = loaded.get(c.key);
        if (r) done(r);
        else left.push(c);
      }
    }
    return left;
  })();
  csv.catch(() => {}); // taken up below
  try {
    const parsed = await loadParsed(
      { lake, warehouse },
      toParse.filter((f) => !csvSymbols.has(symbolFromKey(f.key))),
      async () =>
        [...toParse.filter((f) => csvSymbols.has(symbolFromKey(f.key))), ...(await csv)].sort(
          (a, b) => order.get(a.key)! - order.get(b.key)!,
        ),
      opts,
      done,
    );
    rest.push(...parsed.rest);
  } finally {
    await csv.catch(() => {});
  }
  return { results, rest };
}

/**
 * Stages one batch of same-header files with DuckDB's CSV reader, loads the clean ones, and
 * returns their results. A batch the reader refuses loads nothing (its files are parsed instead).
 */
async function loadCsvBatch(
  wh: DuckDbWarehouse,
  batch: Candidate[],
  opts: Options,
): Promise<Map<string, FileLoadResult>> {
  const { format, width } = batch[0]!;
  const loadedAt = (opts.now ?? (() => new Date()))();
  const columns = Array.from({ length: width }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const out = new Map<string, FileLoadResult>();
  const loaded = await wh.serialized(async (db) => {
    // One pass: DuckDB reads the files (in the order given, rows in file order) and casts each
    // cell once; a row's place in the staged table then gives its line (header on line 1; files
    // with blank or multi-line rows never get here).
    try {
      await db.execute(
        `CREATE OR REPLACE TEMP TABLE BULK_PRICE_STAGE AS
         SELECT F, ${typedSql(format)} FROM (
           -- The CSV reader gives NULL for an empty cell.
           SELECT filename AS F, ${Array.from({ length: width }, (_, i) => `coalesce(trim(c${i}), '') AS T${i}`).join(', ')}
           FROM read_csv([${batch.map((c) => lit(c.path)).join(', ')}], header = true, filename = true, auto_detect = false,
                         delim = ',', quote = '"', escape = '"', columns = {${columns}}))`,
      );
    } catch (e) {
      // Whatever the reader refuses (a file changed since it was inspected), the parser reads and
      // quarantines as the row loader does; an interrupted statement is not a refusal.
      if (opts.signal?.aborted) throw e;
      return [];
    }
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
      const source = `(${csvRowsSql(format, files, opts.runId, timestampText(loadedAt))})`;
      const updated = await writeStaged(
        db,
        source,
        clean.map((c) => ({ symbol: symbolFromKey(c.key), source: format.id })),
      );
      return clean.map((c) => ({ c, n: byPath.get(c.path)!.N, updated: updated.get(c.key) ?? 0 }));
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

/** One parsed file of a batch: what it loads, from which rows of the batch, and what it quarantines. */
interface ParsedFile {
  file: Inspected;
  etag: string;
  symbol: string;
  format: string;
  rows: number;
  quarantined: QuarantineEntry[];
}

/**
 * Parsed rows of many files, column by column, as staged: days since 1970-01-01 for the date, NaN
 * for no value (parsed values are never NaN), so every column is an array of plain numbers.
 */
class ParsedBatch {
  files: ParsedFile[] = [];
  symbols = new Set<string>();
  rows = 0;
  private capacity = 1 << 16;
  columns = ParsedBatch.allocate(this.capacity);

  private static allocate(n: number) {
    return {
      file: new Int32Array(n),
      day: new Int32Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      prevClose: new Float64Array(n),
      volume: new Float64Array(n),
      turnover: new Float64Array(n),
      line: new Int32Array(n),
    };
  }

  /** Room for one more row. */
  reserve(): void {
    if (this.rows < this.capacity) return;
    this.capacity *= 2;
    const next = ParsedBatch.allocate(this.capacity);
    for (const [name, column] of Object.entries(this.columns)) next[name as keyof typeof next].set(column);
    this.columns = next;
  }

  has(symbol: string): boolean {
    return this.symbols.has(symbol);
  }
}

const INTEGER = { sql: 'INTEGER', type: DuckDBIntegerType.instance };
const DOUBLE = { sql: 'DOUBLE', type: DuckDBDoubleType.instance };
/** The staging table's columns: name, type, and the batch column they come from. */
const STAGE_COLUMNS = [
  ['FI', INTEGER, 'file'],
  ['D', INTEGER, 'day'],
  ['O', DOUBLE, 'open'],
  ['H', DOUBLE, 'high'],
  ['L', DOUBLE, 'low'],
  ['C', DOUBLE, 'close'],
  ['PC', DOUBLE, 'prevClose'],
  ['V', DOUBLE, 'volume'],
  ['T', DOUBLE, 'turnover'],
  ['LINE', INTEGER, 'line'],
] as const;
const CHUNK_ROWS = 2048; // DuckDB's vector size
const orNull = (column: string) => `CASE WHEN isnan(s.${column}) THEN NULL ELSE s.${column} END`;

/**
 * Parses each file with the row loader's reader into batches of many files and writes each batch
 * (rows, quarantine, manifest) while the next one is parsed. Files the reader cannot read at all
 * are returned in `rest`.
 */
async function loadParsed(
  deps: { lake: ObjectStore; warehouse: DuckDbWarehouse },
  files: Inspected[],
  then: () => Promise<Inspected[]>,
  opts: Options,
  done: (r: FileLoadResult) => void,
): Promise<{ rest: string[] }> {
  const rest: string[] = [];
  let batch = new ParsedBatch();
  let writing: Promise<void> | undefined;
  const submit = async () => {
    if (batch.files.length === 0) return;
    const full = batch;
    batch = new ParsedBatch();
    if (writing) await writing;
    opts.signal?.throwIfAborted();
    writing = writeParsed(deps, full, opts).then((rs) => rs.forEach(done));
    // Its failure is taken up where it is awaited.
    writing.catch(() => {});
  };
  const parse = async (list: Inspected[]) => {
    for (const file of list) {
      opts.signal?.throwIfAborted();
      if (file.bytes > PARSED_FILE_BYTES) {
        rest.push(file.key);
        continue;
      }
      const symbol = symbolFromKey(file.key);
      if (batch.has(symbol) || batch.rows >= PARSED_BATCH_ROWS) await submit();
      if (!(await parseInto(file, symbol, batch))) rest.push(file.key);
    }
  };
  try {
    await parse(files);
    await parse(await then());
    await submit();
  } finally {
    if (writing) await writing;
  }
  return { rest };
}

/** The chunks of `input`, hashed on the way. */
async function* hashing(input: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    hash.update(chunk);
    yield chunk;
  }
}

/** Reads one file into the batch; false (and the batch as it was) when the file cannot be read. */
async function parseInto(file: Inspected, symbol: string, batch: ParsedBatch): Promise<boolean> {
  const fileIndex = batch.files.length;
  const start = batch.rows;
  const quarantined: QuarantineEntry[] = [];
  const hash = createHash('md5');
  let format: string;
  try {
    const input = createReadStream(file.path) as AsyncIterable<Buffer>;
    const reader = await readDailyBars(file.etag ? input : hashing(input, hash), { file: file.key, symbol });
    format = reader.format.id;
    for await (const rows of reader.batches) {
      for (const r of rows) {
        if (!r.ok) {
          quarantined.push({ line: r.line, reason: r.reason, raw: r.raw });
          continue;
        }
        const b = r.bar;
        batch.reserve();
        const c = batch.columns;
        const i = batch.rows++;
        c.file[i] = fileIndex;
        c.day[i] = epochDay(b.tradeDate);
        c.open[i] = b.open ?? NaN;
        c.high[i] = b.high;
        c.low[i] = b.low;
        c.close[i] = b.close;
        c.prevClose[i] = b.prevClose ?? NaN;
        c.volume[i] = b.volume ?? NaN;
        c.turnover[i] = b.turnover ?? NaN;
        c.line[i] = r.line;
      }
    }
  } catch (e) {
    // The row loader reports (and quarantines) a file that cannot be read, or is gone, as always.
    const gone = (e as NodeJS.ErrnoException).code === 'ENOENT';
    if (!(gone || e instanceof FileUnreadableError || e instanceof CsvError)) throw e;
    batch.rows = start;
    return false;
  }
  const etag = file.etag ?? hash.digest('hex');
  batch.files.push({ file, etag, symbol, format, rows: batch.rows - start, quarantined });
  batch.symbols.add(symbol);
  return true;
}

/** Writes one parsed batch: rows (appended to a staging table, then inserted or merged), quarantine, manifest. */
async function writeParsed(
  deps: { lake: ObjectStore; warehouse: DuckDbWarehouse },
  batch: ParsedBatch,
  opts: Options,
): Promise<FileLoadResult[]> {
  const wh = deps.warehouse;
  const loadedAt = (opts.now ?? (() => new Date()))();
  const updated =
    batch.rows === 0
      ? new Map<string, number>()
      : await wh.serialized(async (db) => {
          await db.execute(
            `CREATE OR REPLACE TEMP TABLE PARSED_PRICE_STAGE (${STAGE_COLUMNS.map(([n, t]) => `${n} ${t.sql}`).join(', ')})`,
          );
          try {
            const app = await wh.connection.createAppender('PARSED_PRICE_STAGE');
            try {
              for (let from = 0; from < batch.rows; from += CHUNK_ROWS) {
                const to = Math.min(batch.rows, from + CHUNK_ROWS);
                const chunk = DuckDBDataChunk.create(
                  STAGE_COLUMNS.map(([, t]) => t.type),
                  to - from,
                );
                STAGE_COLUMNS.forEach(([, , field], i) =>
                  // The appender reads the values by index: a typed array does.
                  chunk.setColumnValues(i, batch.columns[field].subarray(from, to) as unknown as number[]),
                );
                app.appendDataChunk(chunk);
              }
              app.flushSync();
            } finally {
              app.closeSync();
            }
            const files = batch.files
              .map((f, i) => `(${i}, ${lit(f.file.key)}, ${lit(f.symbol)}, ${lit(f.format)})`)
              .join(', ');
            const source = `(SELECT m.SYMBOL, DATE '1970-01-01' + s.D AS TRADE_DATE, m.DATA_SOURCE,
                ${orNull('O')} AS OPEN_PRICE, s.H AS HIGH_PRICE, s.L AS LOW_PRICE, s.C AS CLOSE_PRICE,
                ${orNull('PC')} AS PREV_CLOSE, CAST(${orNull('V')} AS BIGINT) AS VOLUME, ${orNull('T')} AS TURNOVER,
                m.SOURCE_KEY, s.LINE AS SOURCE_LINE,
                ${lit(opts.runId)} AS RUN_ID, CAST(${lit(timestampText(loadedAt))} AS TIMESTAMP) AS LOADED_AT
              FROM PARSED_PRICE_STAGE s JOIN (VALUES ${files}) m(FI, SOURCE_KEY, SYMBOL, DATA_SOURCE) ON m.FI = s.FI)`;
            return await writeStaged(
              db,
              source,
              batch.files.map((f) => ({ symbol: f.symbol, source: f.format })),
            );
          } finally {
            await db.execute('DROP TABLE IF EXISTS PARSED_PRICE_STAGE');
          }
        });
  opts.signal?.throwIfAborted();
  await writeQuarantine(
    deps.lake,
    wh,
    opts.runId,
    loadedAt,
    batch.files.map((f) => ({ key: f.file.key, etag: f.etag, entries: f.quarantined })),
  );
  await recordLoadedFiles(
    wh,
    batch.files.map((f) => ({
      key: f.file.key,
      etag: f.etag,
      kind: 'prices',
      format: f.format,
      rowsLoaded: f.rows,
      rowsQuarantined: f.quarantined.length,
      runId: opts.runId,
      loadedAt,
    })),
  );
  return batch.files.map((f) => {
    const n = updated.get(f.file.key) ?? 0;
    return {
      key: f.file.key,
      kind: 'prices',
      etag: f.etag,
      format: f.format,
      skipped: false,
      rowsLoaded: f.rows,
      rowsInserted: f.rows - n,
      rowsUpdated: n,
      rowsQuarantined: f.quarantined.length,
      quarantineReasons: reasonCounts(f.quarantined),
    };
  });
}
