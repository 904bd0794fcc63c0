import { safeParseSymbol } from '../market/symbol.js';
import { FileUnreadableError } from './records.js';
import { readCsv, type CsvRecord } from './text-stream.js';
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

function cell(format: DailyFormat, record: string[], field: Field): string | undefined {
  const i = format.columns[field];
  return i === undefined ? undefined : record[i];
}

/** Parses and validates one data row; the reason names the column and the rule. */
export function parseDailyRow(format: DailyFormat, symbol: string, record: string[]): DailyBar | string {
  const width = Math.max(...Object.values(format.columns)) + 1;
  if (record.length < width) return `expected at least ${width} columns, got ${record.length}`;
  try {
    const num = (f: Field) => parseNumber(f, cell(format, record, f));
    const bar = {
      symbol,
      tradeDate: parseDate('date', cell(format, record, 'date'), format.dayOrder),
      open: num('open'),
      high: num('high'),
      low: num('low'),
      close: num('close'),
      volume: num('volume'),
      prevClose: num('prevClose'),
      turnover: num('turnover'),
    };
    if (bar.close === null) return 'close: missing';
    if (bar.high === null) return 'high: missing';
    if (bar.low === null) return 'low: missing';
    if (bar.close <= 0) return `close: must be > 0, got ${bar.close}`;
    if (bar.high < bar.low) return `high ${bar.high} < low ${bar.low}`;
    for (const f of ['open', 'low', 'prevClose', 'turnover', 'volume'] as const) {
      const v = bar[f];
      if (v !== null && v < 0) return `${f}: must not be negative, got ${v}`;
    }
    return {
      ...bar,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume === null ? null : Math.round(bar.volume),
    };
  } catch (e) {
    if (e instanceof ValueParseError) return e.message;
    throw e;
  }
}

export interface DailyBarReader {
  format: DailyFormat;
  rows: AsyncGenerator<ParsedRow>;
}

/**
 * Opens a daily price file (any supported vendor format, UTF-8 or Windows-1256) as a stream of
 * parsed rows. Bad rows come out as rejects with their line and reason; a second row for a date
 * already seen in the file is a reject too. Never holds the whole file in memory.
 */
export async function readDailyBars(
  input: AsyncIterable<Uint8Array | string>,
  opts: { file: string; symbol: string },
): Promise<DailyBarReader> {
  const records = readCsv(input);
  const first = await records.next();
  if (first.done) throw new UnknownFormatError(opts.file, [], ['date', 'high', 'low', 'close']);
  const second = await records.next();
  const format = detectDailyFormat(
    opts.file,
    first.value.cells,
    second.done ? undefined : second.value.cells,
  );

  async function* rows(): AsyncGenerator<ParsedRow> {
    const seen = new Map<string, number>();
    const one = (r: CsvRecord): ParsedRow => {
      const parsed = parseDailyRow(format, opts.symbol, r.cells);
      if (typeof parsed === 'string')
        return { ok: false, line: r.line, reason: parsed, raw: r.cells.join(',') };
      const earlier = seen.get(parsed.tradeDate);
      if (earlier !== undefined) {
        return {
          ok: false,
          line: r.line,
          reason: `duplicate date ${parsed.tradeDate} (also on line ${earlier})`,
          raw: r.cells.join(','),
        };
      }
      seen.set(parsed.tradeDate, r.line);
      return { ok: true, line: r.line, bar: parsed };
    };
    if (!second.done) yield one(second.value);
    for await (const r of records) yield one(r);
  }
  return { format, rows: rows() };
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
