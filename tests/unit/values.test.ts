import { describe, expect, test } from 'vitest';
import { parseDate, parseNumber, ValueParseError } from '../../lib/ingest/values.js';

describe('parseNumber', () => {
  test.each([
    ['..29.19', 29.19],
    ['0.07', 0.07],
    ['2,451,115', 2451115],
    ['1.16M', 1160000],
    ['936.24K', 936240],
    ['0.08K', 80],
    ['8.55985408E8', 855985408],
    ['2.1805992E7', 21805992],
    ['-64.790001', -64.790001],
    ['10.00%', 10],
    ['-0.37%', -0.37],
    ['3.5200000000000002E-2', 0.0352],
    [' 12 ', 12],
  ])('%s → %d', (text, expected) => {
    expect(parseNumber('x', text)).toBeCloseTo(expected, 9);
  });

  test.each(['', '-', '  ', 'N/A', undefined])('%s is no value', (text) => {
    expect(parseNumber('volume', text)).toBeNull();
  });

  test.each(['abc', '1.2.3', '12,3x', 'M', '1e999'])(
    '%s is refused, naming the column and the text',
    (text) => {
      expect(() => parseNumber('close', text)).toThrow(ValueParseError);
      expect(() => parseNumber('close', text)).toThrow(`close: `);
    },
  );
});

describe('parseDate', () => {
  test.each([
    ['2024-06-23', '2024-06-23'],
    ['2024-06-23 00:00:00', '2024-06-23'],
    ['2026/01/13', '2026-01-13'],
    ['06/23/2024', '2024-06-23'],
    ['Jun 23, 2024', '2024-06-23'],
    ['44902', '2022-12-07'], // spreadsheet day 44902; a file ending on it agrees with the other vendors' last date
    ['45466', '2024-06-23'],
    ['40744', '2011-07-20'],
  ])('%s → %s', (text, iso) => {
    expect(parseDate('date', text)).toBe(iso);
  });

  test('day-first files read NN/NN/YYYY the other way round', () => {
    expect(parseDate('date', '23/06/2024', 'day-first')).toBe('2024-06-23');
    expect(parseDate('date', '06/07/2024', 'day-first')).toBe('2024-07-06');
  });

  test.each([
    ['2015-02-30', 'no such calendar date'],
    ['13/45/2024', 'no such calendar date'],
    ['yesterday', 'unreadable date'],
    ['', 'missing date'],
    ['123', 'unreadable date'],
  ])('%s is refused: %s', (text, reason) => {
    expect(() => parseDate('date', text)).toThrow(reason);
  });
});

describe('the usual shapes read in one pass give what the general reading gives', () => {
  test.each([
    ['5.5250749588012695', 5.5250749588012695], // 17 digits: read by Number()
    ['5.5934739112854', 5.5934739112854],
    ['0.1', 0.1],
    ['-0', -0],
    ['-0.37%', -0.37],
    ['1,2,3', 123], // any commas are dropped, as always
    ['1.5e3', 1500],
    ['-5K', -5000],
    ['5K%', 5000],
    ['1.16m', 1160000],
    ['..0.60', 0.6],
    ['12,345,678.901', 12345678.901],
  ])('%s → %d', (text, expected) => {
    expect(Object.is(parseNumber('x', text), expected)).toBe(true);
  });

  test.each(['..-5', '1E400', `${'9'.repeat(400)}`, '1.2.3M', '--5', '5,x'])('%s is refused', (text) => {
    expect(() => parseNumber('close', text)).toThrow(ValueParseError);
  });

  test.each([
    ['2024-02-29', '2024-02-29'],
    ['2000/02/29', '2000-02-29'],
    ['02/29/2024', '2024-02-29'],
    ['2024/1/5', '2024-01-05'],
    ['2024-06/23', '2024-06-23'],
    ['2024.06.23', '2024-06-23'],
  ])('%s → %s', (text, iso) => {
    expect(parseDate('date', text)).toBe(iso);
  });

  test.each(['2023-02-29', '1900/02/29', '0099-01-01', '2024-13-01', '2024-04-31', '00/10/2024'])(
    '%s is no such calendar date',
    (text) => {
      expect(() => parseDate('date', text)).toThrow('no such calendar date');
    },
  );
});
