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

/**
 * Numbers as vendors write them: `..29.19` (MarketWatch), `"2,451,115"`, `1.16M` / `936.24K`,
 * `8.55985408E8`, `-64.790001`, `10.00%` (as 10). Blank, `-` and similar mean null.
 */
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;

export function parseNumber(column: string, raw: string | undefined): number | null {
  // Most cells are plain decimals: skip the vendor-quirk handling for them.
  if (raw !== undefined && PLAIN_NUMBER.test(raw)) return Number(raw);
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
