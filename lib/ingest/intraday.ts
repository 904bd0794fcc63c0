import { safeParseSymbol } from '../market/symbol.js';
import { INTRADAY_BAR_COLUMNS, TBL_INTRADAY_PRICE } from '../warehouse/schema.js';
import { checkedPrices, HEAD_ROWS } from './daily-bars.js';
import { vendorFromKey } from './index-levels.js';
import { FileUnreadableError, type FileKindReader, type LoadRecord, type OpenedFile } from './records.js';
import { readCsvHead, type CsvHead, type CsvRecord } from './text-stream.js';
import { parseNumber, ValueParseError } from './values.js';

/**
 * Intraday bar files (1-minute, 5-minute, ... bars with a timestamp per bar, such as TradingView's
 * chart exports) into TBL_INTRADAY_PRICE, one row per (symbol, bar start, interval).
 *
 * - Timestamps: ISO (`2025-07-20 07:22:00`, `2025-07-20T10:22:00+03:00`, `…Z`) or unix seconds or
 *   milliseconds. Times without a zone are UTC (as TradingView's exports write them); the note says so.
 * - The interval: from the file name when it says (`COMI_5m.csv`, TradingView's `EGX_COMI, 5.csv`),
 *   else the greatest common divisor of the recurring gaps between the first bars (sparse bars of
 *   an illiquid symbol still give 1m). Stated in the file's note.
 * - Validation as daily files: close > 0, high >= low, nothing negative, one bar per start; and the
 *   bar starts on the interval's grid.
 * - Columns other than the timestamp, OHLC, volume and symbol (indicators a charting export adds)
 *   are ignored and named in the note.
 */

const norm = (h: string) =>
  h
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();

const TIME_NAMES = ['datetime', 'time', 'timestamp', 'date', 'date_time', 'bar_start', 'التاريخ'];
type Field = 'open' | 'high' | 'low' | 'close' | 'volume' | 'symbol';
const ALIASES: Record<Field, string[]> = {
  open: ['open'],
  high: ['high'],
  low: ['low'],
  close: ['close', 'last', 'price'],
  volume: ['volume', 'vol', 'vol.'],
  symbol: ['symbol', 'ticker'],
};

const DAY_MS = 86_400_000;
// YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|±HH[:]MM], also with slashes (2026/01/13 10:22, as the broker export writes dates)
const ISO =
  /^(\d{4})([-/])(\d{2})\2(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** A bar's start in ms since the epoch, and whether its text named a zone; undefined when unreadable. */
export function parseTimestamp(text: string): { ms: number; zoned: boolean } | undefined {
  const t = text.trim();
  if (/^\d{9,10}(\.0+)?$/.test(t)) return { ms: Number(t.replace(/\.0+$/, '')) * 1000, zoned: true };
  if (/^\d{12,13}$/.test(t)) return { ms: Number(t), zoned: true };
  const m = ISO.exec(t);
  if (!m) return undefined;
  const part = (i: number) => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, s] = [part(1), part(3), part(4), part(5), part(6), part(7)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  let ms = Date.UTC(y, mo - 1, d, h, mi, s, m[8] ? Number(m[8].padEnd(3, '0').slice(0, 3)) : 0);
  if (new Date(ms).getUTCDate() !== d) return undefined;
  const zone = m[9];
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.replace(/\D/g, '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return { ms, zoned: zone !== undefined };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** An interval in ms as stored: `1m`, `5m`, `1h`, `90m`, `30s`. */
export function intervalLabel(ms: number): string {
  const s = ms / 1000;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** The timestamp column of a header (a time-like name), or -1. */
const timeColumn = (names: string[]) => names.findIndex((n) => TIME_NAMES.includes(n));

/**
 * How far apart the bars of a file with this header and these first rows are, when they are
 * intraday bars (less than a day apart, or a single bar at a time of day other than midnight),
 * as an interval label; undefined for daily files (dates, or timestamps at midnight a day apart).
 */
export function intradaySpacing(header: string[], rows: CsvRecord[]): string | undefined {
  const col = timeColumn(header.map(norm));
  if (col < 0) return undefined;
  const stamps = barStarts(rows, col);
  if (stamps.length === 0) return undefined;
  const step = spacing(stamps);
  if (step !== undefined) return step < DAY_MS ? intervalLabel(step) : undefined;
  return stamps[0]! % DAY_MS !== 0 ? 'one bar, at a time of day,' : undefined;
}

/** Distinct readable bar starts of some rows, sorted. */
function barStarts(rows: CsvRecord[], col: number): number[] {
  const out = new Set<number>();
  for (const r of rows) {
    const t = parseTimestamp(r.cells[col] ?? '');
    if (t) out.add(t.ms);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The bars' spacing from sorted bar starts: the greatest common divisor of the gaps that recur
 * (of every gap when none does), so one stray bar (`10:26:30` among whole minutes) does not halve
 * it; undefined for fewer than two bars.
 */
function spacing(stamps: number[]): number | undefined {
  const gaps = new Map<number, number>();
  for (let i = 1; i < stamps.length; i++) {
    const gap = stamps[i]! - stamps[i - 1]!;
    gaps.set(gap, (gaps.get(gap) ?? 0) + 1);
  }
  const recurring = [...gaps].filter(([, n]) => n >= 2).map(([gap]) => gap);
  const g = (recurring.length > 0 ? recurring : [...gaps.keys()]).reduce((a, b) => gcd(b, a), 0);
  return g > 0 ? g : undefined;
}

/** The interval a file name states (`_1m`, `-5min`, ` 15 min`, `_1h`, TradingView's `, 5` in minutes), in ms. */
export function intervalFromName(key: string): number | undefined {
  const name = (key.split('/').pop() ?? key).replace(/\.csv$/i, '');
  const tv = /,\s*(\d+)\s*([smhSH]?)$/.exec(name);
  if (tv) {
    const unit = (tv[2] ?? '').toLowerCase();
    return Number(tv[1]) * (unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000);
  }
  const m = /[_\s-](\d+)\s*(s|sec|m|min|mins|minute|minutes|h|hr|hour|hours)$/i.exec(name);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  return Number(m[1]) * (unit.startsWith('s') ? 1000 : unit.startsWith('h') ? 3_600_000 : 60_000);
}

/**
 * The symbol of an intraday file from its name, without the interval and TradingView's exchange
 * prefix: `COMI.csv`, `COMI_1m.csv`, `EGX_COMI, 1.csv` → COMI. Throws FileUnreadableError otherwise.
 */
export function intradaySymbolFromKey(key: string): string {
  const name = (key.split('/').pop() ?? key)
    .replace(/\.csv$/i, '')
    .replace(/,\s*\d+\s*[smhSH]?$/, '')
    .replace(/[_\s-]\d+\s*(s|sec|m|min|mins|minute|minutes|h|hr|hour|hours)$/i, '')
    .replace(/^EGX[_:]/i, '');
  const r = safeParseSymbol(name);
  if (!r.ok) throw new FileUnreadableError(`${key}: the file name must be a ticker: ${r.error.message}`);
  return r.symbol;
}

// Cairo's offset from UTC (EET, with summer time in some years) by UTC hour: few distinct hours per file.
const cairoOffsets = new Map<number, number>();
const cairoClock = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Africa/Cairo',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
});

/** An instant on Cairo's clock: ms since the epoch of the same wall-clock time in UTC. */
export function cairoLocal(ms: number): number {
  const hour = Math.floor(ms / 3_600_000);
  let offset = cairoOffsets.get(hour);
  if (offset === undefined) {
    if (cairoOffsets.size > 100_000) cairoOffsets.clear();
    const at = hour * 3_600_000;
    const p = Object.fromEntries(
      cairoClock.formatToParts(new Date(at)).map((x) => [x.type, Number(x.value)]),
    );
    offset = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute) - at;
    cairoOffsets.set(hour, offset);
  }
  return ms + offset;
}

/** The Cairo calendar date ('YYYY-MM-DD') of an instant. */
export const cairoDate = (ms: number): string => new Date(cairoLocal(ms)).toISOString().slice(0, 10);

/** Opens an intraday bar file whose head is read. */
export function openIntraday(head: CsvHead, key: string): OpenedFile {
  if (head.records.length === 0) throw new FileUnreadableError(`${key}: empty file, no header`);
  const header = head.records[0]!.cells;
  const names = header.map(norm);
  const time = timeColumn(names);
  const c: Partial<Record<Field, number>> = {};
  for (const [field, aliases] of Object.entries(ALIASES) as [Field, string[]][]) {
    const i = names.findIndex((n) => aliases.includes(n));
    if (i >= 0) c[field] = i;
  }
  const missing = [
    time < 0 ? 'datetime/time' : '',
    ...(['high', 'low', 'close'] as const).filter((f) => c[f] === undefined),
  ].filter(Boolean);
  if (missing.length > 0)
    throw new FileUnreadableError(
      `${key}: unrecognised intraday bar header ${JSON.stringify(header)}: no ${missing.join(', ')} column`,
    );
  const fileSymbol = c.symbol === undefined ? intradaySymbolFromKey(key) : undefined;

  const named = intervalFromName(key);
  const starts = barStarts(head.records.slice(1), time);
  const seenStep = spacing(starts);
  // The name states the interval; the timestamps tell it when the name does not, or when bars are closer than the name says.
  const step = named !== undefined && (seenStep === undefined || seenStep % named === 0) ? named : seenStep;
  if (step === undefined)
    throw new FileUnreadableError(
      `${key}: cannot tell the bar interval from a single bar: name the file with it (${fileSymbol ?? 'SYMBOL'}_1m.csv)`,
    );
  const interval = intervalLabel(step);
  const source =
    vendorFromKey(key) ??
    (/,\s*\d+\s*[smhSH]?\.csv$/i.test(key) || names[time] === 'time' ? 'tradingview' : 'ohlcv');
  const used = new Set([time, ...Object.values(c)]);
  const ignored = header.filter((_, i) => !used.has(i) && header[i]!.trim() !== '');
  let unzoned = 0;
  // Where the bars' grid lies: the offset from the interval most of the first bars start at.
  const mod = (ms: number) => ((ms % step) + step) % step;
  const offsets = new Map<number, number>();
  for (const ms of starts) offsets.set(mod(ms), (offsets.get(mod(ms)) ?? 0) + 1);
  const grid = [...offsets].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  const width = Math.max(time, ...Object.values(c)) + 1;
  const num = (field: Field, cells: string[]) =>
    c[field] === undefined ? null : parseNumber(field, cells[c[field]]);

  const parse = (cells: string[]): { ms: number; values: LoadRecord & { ok: true } } | string => {
    if (cells.length < width) return `expected at least ${width} columns, got ${cells.length}`;
    const text = cells[time] ?? '';
    const t = parseTimestamp(text);
    if (!t)
      return `${names[time]}: ${text.trim() ? 'unreadable timestamp' : 'missing timestamp'} ${JSON.stringify(text.trim())}`;
    if (!t.zoned) unzoned++;
    if (mod(t.ms) !== grid)
      return `${names[time]}: bar start ${new Date(t.ms).toISOString()} is off the ${interval} grid`;
    let symbol = fileSymbol;
    if (symbol === undefined) {
      const r = safeParseSymbol((cells[c.symbol!] ?? '').replace(/^EGX:/i, ''));
      if (!r.ok) return `symbol: ${r.error.message}`;
      symbol = r.symbol;
    }
    const local = cairoLocal(t.ms);
    const open = num('open', cells);
    const high = num('high', cells);
    const low = num('low', cells);
    const close = num('close', cells);
    const volume = num('volume', cells);
    const bar = checkedPrices({ open, high, low, close, volume });
    if (typeof bar === 'string') return bar;
    return {
      ms: t.ms,
      values: {
        ok: true,
        line: 0,
        values: [
          symbol,
          interval,
          new Date(t.ms),
          new Date(local),
          new Date(local).toISOString().slice(0, 10),
          source,
          bar.open,
          bar.high,
          bar.low,
          bar.close,
          volume === null ? null : Math.round(volume),
        ],
      },
    };
  };

  // Lines by bar start (and symbol, for files of many): a second bar at one start is a reject.
  const seen = new Map<string, number>();
  const one = (r: CsvRecord): LoadRecord => {
    const raw = r.cells.join(',');
    let out: ReturnType<typeof parse>;
    try {
      out = parse(r.cells);
    } catch (e) {
      if (!(e instanceof ValueParseError)) throw e;
      out = e.message;
    }
    if (typeof out === 'string') return { ok: false, line: r.line, reason: out, raw };
    const id = fileSymbol === undefined ? `${String(out.values.values[0])} ${out.ms}` : String(out.ms);
    const earlier = seen.get(id);
    if (earlier !== undefined)
      return {
        ok: false,
        line: r.line,
        reason: `duplicate bar ${new Date(out.ms).toISOString()} (also on line ${earlier})`,
        raw,
      };
    seen.set(id, r.line);
    return { ...out.values, line: r.line };
  };

  const notes = [
    `intraday bars, interval ${interval} (from the ${step === named ? 'file name' : 'timestamps'})`,
  ];
  if (ignored.length > 0) notes.push(`ignored ${ignored.length} extra columns: ${ignored.join(', ')}`);
  async function* records(): AsyncGenerator<LoadRecord[]> {
    if (head.records.length > 1) yield head.records.slice(1).map(one);
    for await (const rs of head.rest) yield rs.map(one);
    if (unzoned > 0) notes.push(`timestamps without a zone read as UTC`);
  }
  return {
    format: source,
    kind: 'intraday',
    table: TBL_INTRADAY_PRICE,
    columns: INTRADAY_BAR_COLUMNS,
    records: records(),
    notes,
  };
}

/** Intraday bar files (`batch/intraday/<SYMBOL>*.csv`, or price files whose bars are less than a day apart) into TBL_INTRADAY_PRICE. */
export const intradayFiles: FileKindReader = {
  kind: 'intraday',
  table: TBL_INTRADAY_PRICE,
  columns: INTRADAY_BAR_COLUMNS,
  async open(input, key) {
    return openIntraday(await readCsvHead(input, HEAD_ROWS), key);
  },
};
