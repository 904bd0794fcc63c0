/**
 * Tolerant readers for the cell values real EGX files contain. Each returns a value or null for
 * "no value", and throws a ValueParseError (with the offending text) for something unreadable.
 */

export class ValueParseError extends Error {
  constructor(
    readonly column: string,
    readonly text: string,
    reason: string,
  ) {
    super(`${column}: ${reason} ${JSON.stringify(text)}`);
    this.name = 'ValueParseError';
  }
}

const MISSING = new Set(['', '-', '--', 'n/a', 'na', 'null', 'nan']);
const SUFFIX: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9 };

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const SCALE: Record<number, number> = { 0x4b: 1e3, 0x4d: 1e6, 0x42: 1e9 }; // K, M, B
const DIGIT = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * The value of a cell in one of the vendors' usual shapes, read in one pass over its characters,
 * else NaN (for the general handling in parseNumber): `-12.5`, `..29.19`, `2,451,115`, `1.16M`,
 * `-0.37%`, `8.55985408E8`. Gives exactly what the general handling gives: at most 15 digits make
 * an integer below 2^53 and a power of ten that are both exact, so their quotient is the correctly
 * rounded decimal, as Number() reads it; anything longer is read by Number().
 */
function usualNumber(raw: string): number {
  const n = raw.length;
  let i = 0;
  let c = raw.charCodeAt(0);
  const dotted = c === 0x2e && raw.charCodeAt(1) === 0x2e && DIGIT(raw.charCodeAt(2));
  if (dotted) c = raw.charCodeAt((i = 2));
  const negative = c === 0x2d && !dotted;
  if (negative) c = raw.charCodeAt(++i);
  if (!DIGIT(c)) return NaN;
  let mantissa = 0;
  let digits = 0;
  let decimals = 0;
  let separated = false;
  let fraction = false;
  for (; i < n; i++) {
    c = raw.charCodeAt(i);
    if (DIGIT(c)) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      if (fraction) decimals++;
    } else if (c === 0x2c && !fraction && DIGIT(raw.charCodeAt(i + 1))) separated = true;
    else if (c === 0x2e && !fraction && DIGIT(raw.charCodeAt(i + 1))) fraction = true;
    else break;
  }
  let factor = 1;
  if (i < n) {
    if (c === 0x45 || c === 0x65) {
      // Scientific notation: only on a plain mantissa, and read by Number().
      if (dotted || separated || !/^[eE][+-]?\d+$/.test(raw.slice(i))) return NaN;
      return Number(raw);
    }
    if (i !== n - 1) return NaN;
    if (c === 0x25)
      factor = 1; // %
    else if (c in SCALE && !negative) factor = SCALE[c]!;
    else return NaN;
  }
  let v: number;
  if (digits <= 15) v = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
  else if (dotted || separated || factor !== 1) return NaN;
  else v = Number(raw.endsWith('%') ? raw.slice(0, -1) : raw);
  if (negative) v = -v;
  // Undo float noise from K/M scaling (1.16M -> 1160000, not 1159999.9999999998), as parseNumber does.
  return factor === 1 ? v : Math.round(v * factor * 1e6) / 1e6;
}

/**
 * Numbers as vendors write them: `..29.19` (MarketWatch), `"2,451,115"`, `1.16M` / `936.24K`,
 * `8.55985408E8`, `-64.790001`, `10.00%` (as 10). Blank, `-` and similar mean null.
 */
export function parseNumber(column: string, raw: string | undefined): number | null {
  if (raw !== undefined) {
    // Most cells are plain decimals or one of the usual vendor shapes: skip the general handling for them.
    const v = usualNumber(raw);
    if (Number.isFinite(v)) return v;
  }
  const text = (raw ?? '').trim();
  if (MISSING.has(text.toLowerCase())) return null;
  let s = text.replace(/^\.\.(?=\d)/, '').replace(/,/g, '');
  if (s.endsWith('%')) s = s.slice(0, -1);
  let factor = 1;
  const suffix = s.at(-1)?.toUpperCase();
  if (suffix && suffix in SUFFIX && /\d/.test(s.at(-2) ?? '')) {
    factor = SUFFIX[suffix]!;
    s = s.slice(0, -1);
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s))
    throw new ValueParseError(column, text, 'not a number');
  const n = Number(s) * factor;
  if (!Number.isFinite(n)) throw new ValueParseError(column, text, 'not a finite number');
  // Undo float noise from K/M scaling (1.16M -> 1160000, not 1159999.9999999998).
  return factor === 1 ? n : Math.round(n * 1e6) / 1e6;
}

/** How a file writes its dates when they are ambiguous (NN/NN/YYYY). */
export type DayOrder = 'month-first' | 'day-first';

const pad = (n: number) => String(n).padStart(2, '0');

function isoDate(y: number, m: number, d: number, column: string, text: string): string {
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) {
    throw new ValueParseError(column, text, 'no such calendar date');
  }
  return `${y}-${pad(m)}-${pad(d)}`;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Calendar dates as 'YYYY-MM-DD' from: ISO (`2024-06-23`, with or without a time), `2026/01/13`,
 * `06/23/2024` or `23/06/2024` (by `order`), `Jun 23, 2024`, and Excel serial day numbers
 * (`44902`, 1900 date system) as stored by spreadsheets.
 */
export function parseDate(column: string, raw: string | undefined, order: DayOrder = 'month-first'): string {
  const usual = raw === undefined ? undefined : usualDate(raw, order);
  if (usual !== undefined) return usual;
  // The same dates come again in every file of a period: remember what each text reads as.
  const cache = order === 'month-first' ? monthFirst : dayFirst;
  const known = raw === undefined ? undefined : cache.get(raw);
  if (known !== undefined) return known;
  const iso = readDate(column, raw, order);
  if (cache.size >= DATE_CACHE_SIZE) cache.clear();
  cache.set(raw!, iso);
  return iso;
}

const twoDigits = (s: string, i: number) => {
  const a = s.charCodeAt(i) - 0x30;
  const b = s.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
};
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isSeparator = (c: string) => c === '-' || c === '/' || c === '.';

/**
 * The usual ten-character dates read in one pass (`2024-06-23`, `2026/01/13`, `06/23/2024`), to
 * what the general reading gives; undefined for anything else, a year before 1000 or a date that
 * does not exist (for the general reading to read or refuse).
 */
function usualDate(raw: string, order: DayOrder): string | undefined {
  if (raw.length !== 10) return undefined;
  let y: number;
  let m: number;
  let d: number;
  const sep = raw[4];
  if (sep !== undefined && isSeparator(sep) && raw[7] === sep) {
    y = twoDigits(raw, 0) * 100 + twoDigits(raw, 2);
    m = twoDigits(raw, 5);
    d = twoDigits(raw, 8);
  } else if (raw[2] !== undefined && isSeparator(raw[2]) && raw[5] === raw[2]) {
    y = twoDigits(raw, 6) * 100 + twoDigits(raw, 8);
    const a = twoDigits(raw, 0);
    const b = twoDigits(raw, 3);
    [m, d] = order === 'month-first' ? [a, b] : [b, a];
  } else return undefined;
  if (!(y >= 1000 && m >= 1 && m <= 12 && d >= 1)) return undefined;
  const leap = m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS_IN_MONTH[m - 1]! + (leap ? 1 : 0)) return undefined;
  if (sep === '-') return raw;
  return `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

const DATE_CACHE_SIZE = 50_000;
const monthFirst = new Map<string, string>();
const dayFirst = new Map<string, string>();

function readDate(column: string, raw: string | undefined, order: DayOrder): string {
  const text = (raw ?? '').trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$/.exec(text);
  if (m) return isoDate(+m[1]!, +m[2]!, +m[3]!, column, text);
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  if (m) {
    const [a, b] = [+m[1]!, +m[2]!];
    return order === 'month-first'
      ? isoDate(+m[3]!, a, b, column, text)
      : isoDate(+m[3]!, b, a, column, text);
  }
  m = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})$/.exec(text);
  if (m) {
    const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
    if (month > 0) return isoDate(+m[3]!, month, +m[2]!, column, text);
  }
  m = /^(\d{5})(?:\.0+)?$/.exec(text);
  if (m) {
    const serial = +m[1]!;
    // Spreadsheet day 25569 is 1970-01-01; plausible market dates only (1960..2119).
    if (serial >= 21916 && serial <= 80000) {
      const dt = new Date((serial - 25569) * 86_400_000);
      return isoDate(dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate(), column, text);
    }
  }
  throw new ValueParseError(column, text, text ? 'unreadable date' : 'missing date');
}
