import { describe, expect, test } from 'vitest';
import { BusinessDateInvalidError, isBusinessDate, parseBusinessDate } from '../../lib/util/dates.js';

describe('business dates', () => {
  test.each(['2026-01-14', '2024-02-29', '2000-02-29', '2026-12-31', '1996-05-13'])('%s is a date', (d) => {
    expect(isBusinessDate(d)).toBe(true);
    expect(parseBusinessDate(d)).toBe(d);
  });

  test.each([
    ['2026-02-30', 'There is no day 30 in February 2026: it has 28 days.'],
    ['2025-02-29', 'There is no day 29 in February 2025: it has 28 days.'],
    ['1900-02-29', 'There is no day 29 in February 1900: it has 28 days.'],
    ['2026-04-31', 'There is no day 31 in April 2026: it has 30 days.'],
    ['2026-13-45', 'There is no month 13: months are 01..12.'],
    ['2026-00-10', 'There is no month 00: months are 01..12.'],
    ['2026-01-00', 'There is no day 00 in January 2026: it has 31 days.'],
    ['2026-1-5', 'Expected a date as YYYY-MM-DD with a two-digit month and day, e.g. 2026-01-05.'],
    ['20260105', 'Expected a date as YYYY-MM-DD with a two-digit month and day, e.g. 2026-01-05.'],
    ['2026-01-05T00:00', 'Expected a date as YYYY-MM-DD with a two-digit month and day, e.g. 2026-01-05.'],
    [
      "2026-01-05'; DROP TABLE x",
      'Expected a date as YYYY-MM-DD with a two-digit month and day, e.g. 2026-01-05.',
    ],
    ['', 'Expected a date as YYYY-MM-DD with a two-digit month and day, e.g. 2026-01-05.'],
    ['0000-01-01', 'The year must be within 1900..2199.'],
  ])('%j is refused: %s', (d, why) => {
    expect(isBusinessDate(d)).toBe(false);
    const err = (() => {
      try {
        parseBusinessDate(d, '--date');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BusinessDateInvalidError);
    expect((err as Error).message).toBe(`--date: ${JSON.stringify(d)} is not a valid date. ${why}`);
  });

  test('non-text is not a date', () => {
    expect(isBusinessDate(undefined)).toBe(false);
    expect(isBusinessDate(20260105)).toBe(false);
    expect(() => parseBusinessDate(undefined, 'businessDate')).toThrow(
      'businessDate: nothing is not a valid date. Expected a date as YYYY-MM-DD, got undefined.',
    );
  });
});
