import { safeParseSymbol } from '../market/symbol.js';
import { TBL_INDEX, TBL_MARKET_STAT } from '../warehouse/schema.js';
import type { SqlValue } from '../warehouse/types.js';
import { detectDailyFormat, HEAD_ROWS, type DailyFormat } from './daily-bars.js';
import { FileUnreadableError, type FileKindReader, type LoadRecord, type OpenedFile } from './records.js';
import { readCsvHead, type CsvHead, type CsvRecord } from './text-stream.js';
import { parseDate, parseNumber, ValueParseError, type DayOrder } from './values.js';

/**
 * Index level files (EGX30, EGX70, ... histories as Investing.com, Yahoo and EGX export them) into
 * TBL_INDEX, and the total market capitalisation series into TBL_MARKET_STAT. Recognised by name
 * (indexFromFileName, isMarketCapName) and by header (EGX's `Date,Value,High,Low`, a market-cap column).
 */

/** An index as its files name it: the code it is stored under and its name. */
export interface IndexName {
  code: string;
  name: string;
}

// Names vendors give index files, on the file name upper-cased without spaces, "Historical Data"
// (Investing's download name) and a leading "^" (Yahoo's ticker: ^CASE30). Most specific first.
const KNOWN_INDICES: [RegExp, string, string][] = [
  [/^(EGX|CASE)30(CAPPED|CAP)(?![A-Z0-9])/, 'EGX30CAPPED', 'EGX 30 Capped'],
  [/^(EGX|CASE)30(TR|TOTALRETURN)(?![A-Z0-9])/, 'EGX30TR', 'EGX 30 Total Return'],
  [/^(EGX|CASE)30(?![A-Z0-9])/, 'EGX30', 'EGX 30'],
  [/^EGX70(EWI)?(?![A-Z0-9])/, 'EGX70', 'EGX 70 EWI'],
  [/^EGX100(EWI)?(?![A-Z0-9])/, 'EGX100', 'EGX 100 EWI'],
  [/^(EGX33(SHARIAH)?|SHARIAH)(?![A-Z0-9])/, 'EGX33', 'EGX 33 Shariah'],
  [/^EGX35(LV)?(?![A-Z0-9])/, 'EGX35LV', 'EGX 35 LV'],
  [/^TAMAYUZ(?![A-Z0-9])/, 'TAMAYUZ', 'EGX Tamayuz'],
  // The EGX export's bond indices: `T.Bond 1-3yr.csv` ... `T.Bond 7+yr.csv`.
  [/^T\.?BOND1-3YRS?$/, 'TBOND1TO3Y', 'EGX T-Bond 1-3 years'],
  [/^T\.?BOND3-5YRS?$/, 'TBOND3TO5Y', 'EGX T-Bond 3-5 years'],
  [/^T\.?BOND5-7YRS?$/, 'TBOND5TO7Y', 'EGX T-Bond 5-7 years'],
  [/^T\.?BOND7\+YRS?$/, 'TBOND7PLUSY', 'EGX T-Bond 7+ years'],
];

const stem = (key: string) => (key.split('/').pop() ?? key).replace(/\.csv$/i, '');
const compact = (key: string) =>
  stem(key)
    .replace(/\s*historical data$/i, '')
    .replace(/^\^/, '')
    .replace(/\s+/g, '')
    .toUpperCase();

/** The index a file is for, from its name (`EGX30_investing.csv`, `EGX 30 Historical Data.csv`, `^CASE30.csv`, `SHARIAH.csv`), or undefined. */
export function indexFromFileName(key: string): IndexName | undefined {
  const name = compact(key);
  for (const [re, code, full] of KNOWN_INDICES) if (re.test(name)) return { code, name: full };
  return undefined;
}

/** True for the total market capitalisation series by its name (`EGX_market_cap.csv`, EGX's `EGXMC.csv`). */
export function isMarketCapName(key: string): boolean {
  return /market[\s_-]*cap|^EGXMC(?![A-Z0-9])/i.test(stem(key));
}

/** True when the file name says index levels or market statistics (never a stock's prices). */
export const isIndexLevelKey = (key: string): boolean =>
  indexFromFileName(key) !== undefined || isMarketCapName(key);

const norm = (h: string) =>
  h
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();

const DATE_NAMES = ['date', 'trade_date', 'trade date', 'التاريخ', 'تاريخ التداول'];
const MARKET_CAP_NAMES = [
  'market cap',
  'market_cap',
  'total market cap',
  'total_market_cap',
  'market capitalization',
  'market capitalisation',
  'إجمالي رأس المال السوقي',
  'رأس المال السوقي',
];
const PRICE_NAMES = ['close', 'price', 'last', 'مغلق', 'open', 'فتح'];

/** EGX's index level export: `Date,Value,High,Low` (the level is "Value"; no close, no open). */
function isEgxIndexHeader(names: string[]): boolean {
  return (
    names.includes('value') &&
    names.some((n) => DATE_NAMES.includes(n)) &&
    !names.some((n) => PRICE_NAMES.includes(n))
  );
}

const marketCapColumn = (names: string[]) => names.findIndex((n) => MARKET_CAP_NAMES.includes(n));

/** True for a header only index level or market statistics files have (whatever the file's name). */
export function isIndexLevelHeader(header: string[]): boolean {
  const names = header.map(norm);
  return (
    isEgxIndexHeader(names) || (marketCapColumn(names) >= 0 && names.some((n) => DATE_NAMES.includes(n)))
  );
}

/** The vendor a path names (`…/yahoo/…`, `EGX30_investing_2010.csv`), for layouts that do not tell. */
export function vendorFromKey(key: string): string | undefined {
  const words = key.toLowerCase().split(/[/_\s.,-]+/);
  return ['investing', 'yahoo', 'marketwatch', 'tradingview'].find((v) => words.includes(v));
}

/**
 * How NN/NN/YYYY dates of a file read: day first when some first part is above 12, month first
 * when some second part is, else `fallback`.
 */
export function inferDayOrder(rows: CsvRecord[], column: number, fallback: DayOrder): DayOrder {
  for (const r of rows) {
    const m = /^(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}/.exec(r.cells[column] ?? '');
    if (!m) continue;
    if (+m[1]! > 12) return 'day-first';
    if (+m[2]! > 12) return 'month-first';
  }
  return fallback;
}

/** One row per date: a second row for a date already read is a reject naming the first. */
function deduped(
  head: CsvHead,
  parse: (cells: string[]) => { date: string; values: SqlValue[] } | string,
): AsyncGenerator<LoadRecord[]> {
  const seen = new Map<string, number>();
  const one = (r: CsvRecord): LoadRecord => {
    const raw = r.cells.join(',');
    let out: { date: string; values: SqlValue[] } | string;
    try {
      out = parse(r.cells);
    } catch (e) {
      if (!(e instanceof ValueParseError)) throw e;
      out = e.message;
    }
    if (typeof out === 'string') return { ok: false, line: r.line, reason: out, raw };
    const earlier = seen.get(out.date);
    if (earlier !== undefined)
      return { ok: false, line: r.line, reason: `duplicate date ${out.date} (also on line ${earlier})`, raw };
    seen.set(out.date, r.line);
    return { ok: true, line: r.line, values: out.values };
  };
  return (async function* () {
    if (head.records.length > 1) yield head.records.slice(1).map(one);
    for await (const records of head.rest) yield records.map(one);
  })();
}

/** The market-cap series: (date, total market cap in EGP) into TBL_MARKET_STAT as TOTAL_MARKET_CAP_EGP. */
function marketStatRecords(head: CsvHead, key: string): OpenedFile {
  const names = head.records[0]!.cells.map(norm);
  const date = names.findIndex((n) => DATE_NAMES.includes(n));
  const cap = marketCapColumn(names);
  if (date < 0 || cap < 0)
    throw new FileUnreadableError(
      `${key}: a market-cap file needs a date and a market cap column (header: ${names.join(',')})`,
    );
  // EGX's own pages write 02/01/2008 for 2 January.
  const arabic = names.some((n) => /[\u0600-\u06FF]/.test(n));
  const order = inferDayOrder(head.records.slice(1), date, arabic ? 'day-first' : 'month-first');
  const records = deduped(head, (cells) => {
    const day = parseDate('date', cells[date], order);
    const value = parseNumber('market_cap', cells[cap]);
    if (value === null) return 'market_cap: missing';
    if (value <= 0) return `market_cap: must be > 0, got ${value}`;
    return { date: day, values: [day, 'TOTAL_MARKET_CAP_EGP', value] };
  });
  return {
    format: 'market_cap',
    kind: 'index_levels',
    table: TBL_MARKET_STAT,
    columns: ['STAT_DATE', 'METRIC', 'VALUE'],
    records,
    notes: [`market statistics: TOTAL_MARKET_CAP_EGP, dates read ${order}`],
  };
}

/** The layout of an index level file and the vendor it says it comes from. */
function indexLayout(key: string, head: CsvHead): { format: DailyFormat; source: string } {
  const header = head.records[0]!.cells;
  const names = header.map(norm);
  if (isEgxIndexHeader(names)) {
    const date = names.findIndex((n) => DATE_NAMES.includes(n));
    const columns: DailyFormat['columns'] = { date, close: names.indexOf('value') };
    const high = names.indexOf('high');
    const low = names.indexOf('low');
    if (high >= 0) columns.high = high;
    if (low >= 0) columns.low = low;
    const dayOrder = inferDayOrder(head.records.slice(1), date, 'day-first');
    // The format id is only a type here: the source says which layout it was.
    return { format: { id: 'ohlcv', dayOrder, columns }, source: 'egx' };
  }
  const format = detectDailyFormat(key, header, head.records[1]?.cells);
  const source = format.id === 'ohlcv' ? (vendorFromKey(key) ?? 'ohlcv') : format.id;
  return { format, source };
}

/** Index levels (OHLC, volume) of one index into TBL_INDEX. */
function indexRecords(head: CsvHead, key: string): OpenedFile {
  const known = indexFromFileName(key);
  let index = known;
  if (!index) {
    const code = safeParseSymbol(stem(key));
    if (!code.ok)
      throw new FileUnreadableError(
        `${key}: an index level file must be named after its index (EGX30.csv, EGX70_investing.csv, ^CASE30.csv): ${code.error.message}`,
      );
    index = { code: code.symbol, name: '' };
  }
  const { format, source } = indexLayout(key, head);
  const c = format.columns;
  const num = (field: string, i: number | undefined, cells: string[]) =>
    i === undefined ? null : parseNumber(field, cells[i]);
  let zeroRange = 0;
  const notes: string[] = [];
  const records = deduped(head, (cells) => {
    const date = parseDate('date', cells[c.date!], format.dayOrder);
    const open = num('open', c.open, cells);
    let high = num('high', c.high, cells);
    let low = num('low', c.low, cells);
    const close = num('close', c.close, cells);
    const volume = num('volume', c.volume, cells);
    if (close === null) return 'close: missing';
    if (close <= 0) return `close: must be > 0, got ${close}`;
    // EGX's early history writes 0 for a high and low it does not have.
    if (high === 0 && low === 0) {
      high = low = null;
      zeroRange++;
    }
    if (high !== null && low !== null && high < low) return `high ${high} < low ${low}`;
    if (open !== null && open < 0) return `open: must not be negative, got ${open}`;
    if (low !== null && low < 0) return `low: must not be negative, got ${low}`;
    if (volume !== null && volume < 0) return `volume: must not be negative, got ${volume}`;
    return {
      date,
      values: [
        index.code,
        date,
        source,
        open,
        high,
        low,
        close,
        volume === null ? null : Math.round(volume),
        index.name || null,
      ],
    };
  });
  async function* withNotes(): AsyncGenerator<LoadRecord[]> {
    yield* records;
    notes.push(`index ${index!.code} from ${source}${known ? '' : ' (code from the file name)'}`);
    if (zeroRange > 0) notes.push(`high and low of 0 read as missing on ${zeroRange} rows`);
  }
  return {
    format: source,
    kind: 'index_levels',
    table: TBL_INDEX,
    columns: INDEX_COLUMNS,
    records: withNotes(),
    notes,
  };
}

const INDEX_COLUMNS = [
  'INDEX_CODE',
  'TRADE_DATE',
  'DATA_SOURCE',
  'OPEN_PRICE',
  'HIGH_PRICE',
  'LOW_PRICE',
  'CLOSE_PRICE',
  'VOLUME',
  'INDEX_NAME',
];

/** Opens an index level or market-cap file whose head is read: which one by its header and name. */
export function openIndexLevels(head: CsvHead, key: string): OpenedFile {
  if (head.records.length === 0) throw new FileUnreadableError(`${key}: empty file, no header`);
  const names = head.records[0]!.cells.map(norm);
  if (marketCapColumn(names) >= 0 || (isMarketCapName(key) && !indexFromFileName(key)))
    return marketStatRecords(head, key);
  return indexRecords(head, key);
}

/**
 * Index level files (`batch/index_levels/<INDEX>*.csv`, or any file named after an index) into
 * TBL_INDEX; the market-cap series into TBL_MARKET_STAT.
 */
export const indexLevelFiles: FileKindReader = {
  kind: 'index_levels',
  table: TBL_INDEX,
  columns: INDEX_COLUMNS,
  async open(input, key) {
    return openIndexLevels(await readCsvHead(input, HEAD_ROWS), key);
  },
};
