import { showValue } from './show.js';

/**
 * Business dates (`YYYY-MM-DD`, a real calendar date), checked the same way wherever a date comes
 * in: CLI options, workflow inputs, activity inputs. Pure (no Node built-ins, no clock, no
 * I/O), so workflow code can use `isBusinessDate` too.
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days in a month (1-12) of a year, by the Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Earliest and latest years accepted: the EGX's data starts in the 1990s; anything outside is a typo. */
export const BUSINESS_DATE_YEARS = { min: 1900, max: 2199 } as const;

/**
 * Why `text` is not a business date, as a sentence that does not repeat the value (callers show
 * it), or undefined when it is one.
 */
export function businessDateProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return `Expected a date as YYYY-MM-DD, got ${typeof text}.`;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return 'Expected a date as YYYY-MM-DD with a two-digit month and day, e.g. 2026-01-05.';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < BUSINESS_DATE_YEARS.min || year > BUSINESS_DATE_YEARS.max)
    return `The year must be within ${BUSINESS_DATE_YEARS.min}..${BUSINESS_DATE_YEARS.max}.`;
  if (month < 1 || month > 12) return `There is no month ${m[2]}: months are 01..12.`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days)
    return `There is no day ${m[3]} in ${MONTHS[month - 1]} ${year}: it has ${days} days.`;
  return undefined;
}

/** True when `text` is `YYYY-MM-DD` and a real calendar date (2024-02-29 yes, 2025-02-29 no). */
export function isBusinessDate(text: unknown): text is string {
  return businessDateProblem(text) === undefined;
}

/** Thrown by parseBusinessDate when a date is malformed or not on the calendar; names what was given and why. */
export class BusinessDateInvalidError extends Error {
  constructor(
    readonly label: string,
    readonly value: unknown,
    readonly problem: string,
  ) {
    super(`${label}: ${showValue(value)} is not a valid date. ${problem}`);
    this.name = 'BusinessDateInvalidError';
  }
}

/** Returns `text` when it is a business date; throws BusinessDateInvalidError naming `label` (e.g. `--from`) otherwise. */
export function parseBusinessDate(text: unknown, label = 'date'): string {
  const problem = businessDateProblem(text);
  if (problem) throw new BusinessDateInvalidError(label, text, problem);
  return text as string;
}
