import { safeParseSymbol } from '../market/symbol.js';
import { FileUnreadableError } from './records.js';
import { readCsvHead, type CsvHead, type CsvRecord } from './text-stream.js';
import { isIndexLevelHeader } from './index-levels.js';
import { intradaySpacing } from './intraday.js';
import { parseDate, parseNumber, ValueParseError, type DayOrder } from './values.js';

/** One daily bar, normalised from any supported file format. */
export interface DailyBar {
  symbol: string;
  /** 'YYYY-MM-DD' (the exchange's calendar date). */
  tradeDate: string;
  open: number | null;
  high: number;
  low: number;
  close: number;
  volume: number | null;
  prevClose: number | null;
  /** Traded value in EGP, where the file has it. */
  turnover: number | null;
}

export type ParsedRow =
  { ok: true; line: number; bar: DailyBar } | { ok: false; line: number; reason: string; raw: string };

export type DailyFormatId = 'egx_ar_export' | 'investing' | 'yahoo' | 'marketwatch' | 'ohlcv';

type Field = 'date' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'prevClose' | 'turnover';

export interface DailyFormat {
  id: DailyFormatId;
  dayOrder: DayOrder;
  /** Column index of each field the file has. */
  columns: Partial<Record<Field, number>>;
}

/** Thrown when a file's header matches no known daily-bar layout; names the file and what was found. */
export class UnknownFormatError extends FileUnreadableError {
  constructor(file: string, header: string[], missing: string[]) {
    super(
      `${file}: unrecognised daily price header ${JSON.stringify(header)}: no ${missing.join(', ')} column`,
    );
    this.name = 'UnknownFormatError';
  }
}

// Header names (lower-case) of each field across vendors, English and Arabic.
const ALIASES: Record<Field, string[]> = {
  date: ['date', 'datetime', 'timestamp', 'trade_date', 'التاريخ'],
  open: ['open', 'فتح'],
  high: ['high', 'أعلى'],
  low: ['low', 'الأدنى', 'أدنى'],
  close: ['close', 'price', 'last', 'مغلق'],
  volume: ['volume', 'vol.', 'vol', 'حجم التداول'],
  prevClose: ['previous close', 'prev close', 'prev_close', 'إقفال سابق'],
  turnover: ['turnover', 'value', 'قيمة التداول'],
};

/** Works out the layout from the header row (and the first data row, which tells MarketWatch apart). */
export function detectDailyFormat(file: string, header: string[], firstRow?: string[]): DailyFormat {
  const names = header.map((h) =>
    h
      .replace(/^\uFEFF/, '')
      .trim()
      .toLowerCase(),
  );
  const columns: DailyFormat['columns'] = {};
  for (const [field, aliases] of Object.entries(ALIASES) as [Field, string[]][]) {
    const i = names.findIndex((n) => aliases.includes(n));
    if (i >= 0) columns[field] = i;
  }
  const missing = (['date', 'high', 'low', 'close'] as const).filter((f) => columns[f] === undefined);
  if (missing.length > 0) throw new UnknownFormatError(file, header, missing);

  if (names.includes('التاريخ')) {
    // In this export the "open" column is the previous close in ~98% of rows: not a true open.
    delete columns.open;
    return { id: 'egx_ar_export', dayOrder: 'month-first', columns };
  }
  if (names.includes('change %') || names.includes('vol.'))
    return { id: 'investing', dayOrder: 'month-first', columns };
  if (names.includes('adj close')) return { id: 'yahoo', dayOrder: 'month-first', columns };
  const dateCol = columns.date!;
  // MarketWatch downloads: `..`-prefixed prices, or US-style dates under a capitalised header.
  const looksMarketWatch =
    firstRow?.some((c) => c.startsWith('..')) ||
    (header[dateCol]?.trim() === 'Date' && /^\d{2}\/\d{2}\/\d{4}$/.test(firstRow?.[dateCol] ?? ''));
  return { id: looksMarketWatch ? 'marketwatch' : 'ohlcv', dayOrder: 'month-first', columns };
}

/** Parses and validates one data row; the reason names the column and the rule. */
export function parseDailyRow(format: DailyFormat, symbol: string, record: string[]): DailyBar | string {
  return dailyRowParser(format, symbol)(record);
}

/** A bar's prices as read from a file (null: the cell was empty). */
export interface BarPrices {
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number | null;
  prevClose?: number | null;
  turnover?: number | null;
}

/**
 * The bar's prices if they can be loaded, else why not: close, high and low present, close > 0,
 * high >= low, and nothing negative. Daily and intraday files check the same way.
 */
export function checkedPrices<T extends BarPrices>(
  b: T,
): (T & { high: number; low: number; close: number }) | string {
  if (b.close === null) return 'close: missing';
  if (b.high === null) return 'high: missing';
  if (b.low === null) return 'low: missing';
  if (b.close <= 0) return `close: must be > 0, got ${b.close}`;
  if (b.high < b.low) return `high ${b.high} < low ${b.low}`;
  for (const field of ['open', 'low', 'prevClose', 'turnover', 'volume'] as const) {
    const v = b[field];
    if (v !== null && v !== undefined && v < 0) return `${field}: must not be negative, got ${v}`;
  }
  return { ...b, high: b.high, low: b.low, close: b.close };
}

/** parseDailyRow for every row of one file: the layout's columns looked up once. */
export function dailyRowParser(format: DailyFormat, symbol: string): (record: string[]) => DailyBar | string {
  const c = format.columns;
  const width = Math.max(...Object.values(c)) + 1;
  const { dayOrder } = format;
  const num = (field: Field, i: number | undefined, record: string[]) =>
    i === undefined ? null : parseNumber(field, record[i]);
  return (record) => {
    if (record.length < width) return `expected at least ${width} columns, got ${record.length}`;
    try {
      // Read in this order: the first unreadable cell is the reason.
      const tradeDate = parseDate('date', record[c.date!], dayOrder);
      const open = num('open', c.open, record);
      const high = num('high', c.high, record);
      const low = num('low', c.low, record);
      const close = num('close', c.close, record);
      const volume = num('volume', c.volume, record);
      const prevClose = num('prevClose', c.prevClose, record);
      const turnover = num('turnover', c.turnover, record);
      const bar = checkedPrices({ open, high, low, close, volume, prevClose, turnover });
      if (typeof bar === 'string') return bar;
      return { symbol, tradeDate, ...bar, volume: volume === null ? null : Math.round(volume) };
    } catch (e) {
      if (e instanceof ValueParseError) return e.message;
      throw e;
    }
  };
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 0x30;

/** A 'YYYY-MM-DD' date (as parseDate gives) as days since 1970-01-01. */
export function epochDay(iso: string): number {
  const y = digit(iso, 0) * 1000 + digit(iso, 1) * 100 + digit(iso, 2) * 10 + digit(iso, 3);
  const m = digit(iso, 5) * 10 + digit(iso, 6);
  const d = digit(iso, 8) * 10 + digit(iso, 9);
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

export interface DailyBarReader {
  format: DailyFormat;
  /** The rows one at a time. Read either `rows` or `batches`, not both. */
  rows: AsyncGenerator<ParsedRow>;
  /** The rows in arrays, as each piece of input completes them (fewer steps for big files). */
  batches: AsyncGenerator<ParsedRow[]>;
}

/**
 * Opens a daily price file (any supported vendor format, UTF-8 or Windows-1256) as a stream of
 * parsed rows. Bad rows come out as rejects with their line and reason; a second row for a date
 * already seen in the file is a reject too. Never holds the whole file in memory. A file of
 * another kind (intraday bars, an index level export: see notDailyReason) is refused whole with
 * NotDailyBarsError, for its own reader.
 */
export async function readDailyBars(
  input: AsyncIterable<Uint8Array | string> | CsvHead,
  opts: { file: string; symbol: string },
): Promise<DailyBarReader> {
  const { records: head, rest } = 'records' in input ? input : await readCsvHead(input, HEAD_ROWS);
  if (head.length === 0) throw new UnknownFormatError(opts.file, [], ['date', 'high', 'low', 'close']);
  const other = notDailyReason(head);
  if (other) throw new NotDailyBarsError(`${opts.file}: ${other.reason}, not daily bars`, other.kind);
  const format = detectDailyFormat(opts.file, head[0]!.cells, head[1]?.cells);
  const parse = dailyRowParser(format, opts.symbol);
  // Lines by day number: no date text is kept for the whole file.
  const seen = new Map<number, number>();
  const one = (r: CsvRecord): ParsedRow => {
    const parsed = parse(r.cells);
    if (typeof parsed === 'string')
      return { ok: false, line: r.line, reason: parsed, raw: r.cells.join(',') };
    const day = epochDay(parsed.tradeDate);
    const earlier = seen.get(day);
    if (earlier !== undefined) {
      return {
        ok: false,
        line: r.line,
        reason: `duplicate date ${parsed.tradeDate} (also on line ${earlier})`,
        raw: r.cells.join(','),
      };
    }
    seen.set(day, r.line);
    return { ok: true, line: r.line, bar: parsed };
  };

  async function* batches(): AsyncGenerator<ParsedRow[]> {
    if (head.length > 1) yield head.slice(1).map(one);
    for await (const records of rest) yield records.map(one);
  }
  async function* rows(): AsyncGenerator<ParsedRow> {
    for await (const b of batches()) yield* b;
  }
  return { format, rows: rows(), batches: batches() };
}

/** Data rows read ahead to tell a file's kind: enough for intraday files to show their spacing. */
export const HEAD_ROWS = 500;

/** Thrown by readDailyBars for a file of another kind (`kind`: the FILE_KINDS name of its reader). */
export class NotDailyBarsError extends FileUnreadableError {
  constructor(
    message: string,
    readonly kind: 'intraday' | 'index_levels',
  ) {
    super(message);
    this.name = 'NotDailyBarsError';
  }
}

/**
 * Why a price file with this head (header and first records) is not daily bars, or undefined:
 * intraday bars (times of day in the date column, bars less than a day apart), or an index level
 * export (EGX's `Date,Value,High,Low`) or a market-cap series (see index-levels.ts).
 */
export function notDailyReason(
  head: CsvRecord[],
): { kind: 'intraday' | 'index_levels'; reason: string } | undefined {
  const header = head[0]?.cells ?? [];
  if (isIndexLevelHeader(header))
    return { kind: 'index_levels', reason: 'an index level or market statistics file' };
  const spacing = intradaySpacing(header, head.slice(1));
  if (spacing !== undefined)
    return { kind: 'intraday', reason: `intraday bars (timestamps ${spacing} apart)` };
  return undefined;
}

/**
 * The ticker a file is for, from its name (`<name>` of `…/<name><suffix>`) by the one ticker
 * schema, typed lower case allowed: `batch/prices/COMI.csv` → `COMI`, `ADIB_r3.csv` → `ADIB_R3`.
 * A name that is not a ticker (`T.Bond 7+yr.csv`, `../x.csv`) throws FileUnreadableError naming the
 * file and the rule, so the file is reported and quarantined whole, never loaded under a made-up symbol.
 */
export function symbolFromFileName(key: string, suffix: RegExp = /\.csv$/i): string {
  const name = (key.split('/').pop() ?? key).replace(suffix, '');
  const r = safeParseSymbol(name);
  if (!r.ok) throw new FileUnreadableError(`${key}: the file name must be a ticker: ${r.error.message}`);
  return r.symbol;
}

/** The symbol a price file is for, from its name: `batch/prices/COMI.csv` → `COMI` (see symbolFromFileName). */
export const symbolFromKey = (key: string): string => symbolFromFileName(key);
