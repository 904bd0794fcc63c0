import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  readDailyBars,
  symbolFromKey,
  UnknownFormatError,
  type ParsedRow,
} from '../../lib/ingest/daily-bars.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/prices/${name}`, import.meta.url));

async function read(name: string, symbol = 'TEST') {
  const reader = await readDailyBars(createReadStream(fixture(name)), { file: name, symbol });
  const rows: ParsedRow[] = [];
  for await (const r of reader.rows) rows.push(r);
  const bars = rows.flatMap((r) => (r.ok ? [r.bar] : []));
  const rejects = rows.flatMap((r) => (r.ok ? [] : [{ line: r.line, reason: r.reason }]));
  return { format: reader.format.id, bars, rejects };
}

describe('daily price files', () => {
  test('Yahoo download: Adj Close is ignored, Close is the close', async () => {
    const { format, bars, rejects } = await read('yahoo_download.csv');
    expect(format).toBe('yahoo');
    expect(rejects).toEqual([]);
    expect(bars[1]).toEqual({
      symbol: 'TEST',
      tradeDate: '2024-06-23',
      open: 81,
      high: 82.4,
      low: 80.9,
      close: 82.1,
      volume: 998000,
      prevClose: null,
      turnover: null,
    });
  });

  test('Investing.com CSV: BOM, quotes, Price as close, K/M volumes, newest first, no final newline', async () => {
    const { format, bars, rejects } = await read('investing_native.csv');
    expect(format).toBe('investing');
    expect(rejects).toEqual([]);
    expect(bars.map((b) => [b.tradeDate, b.close, b.open, b.volume])).toEqual([
      ['2024-06-23', 55.65, 54.66, 4090000],
      ['2024-06-20', 54.5, 53, 936240],
      ['2024-06-19', 53.4, 53.1, 80],
    ]);
  });

  test('Investing.com spreadsheet export: Excel serial dates, Close in the second column; close 0 is quarantined', async () => {
    const { bars, rejects } = await read('investing_serial.csv');
    expect(bars.map((b) => [b.tradeDate, b.close, b.open])).toEqual([
      ['2024-06-23', 2.94, 2.85],
      ['2024-06-13', 2.84, 2.87],
    ]);
    expect(rejects).toEqual([{ line: 4, reason: 'close: must be > 0, got 0' }]);
  });

  test('Investing.com text dates: blank and "-" volumes are null, float noise kept, high < low quarantined', async () => {
    const { bars, rejects } = await read('investing_text.csv');
    expect(bars.map((b) => [b.tradeDate, b.volume])).toEqual([
      ['2024-06-23', 1420000],
      ['2016-05-16', null],
      ['2016-05-15', null],
    ]);
    expect(bars[0]?.open).toBeCloseTo(9.3, 12);
    expect(rejects).toEqual([{ line: 5, reason: 'high 9.8 < low 10.2' }]);
  });

  test('MarketWatch: ".." prefixes and thousands separators', async () => {
    const { format, bars, rejects } = await read('marketwatch.csv');
    expect(format).toBe('marketwatch');
    expect(rejects).toEqual([]);
    expect(bars.map((b) => [b.tradeDate, b.open, b.close, b.volume])).toEqual([
      ['2023-09-21', 29.19, 29.5, 2451115],
      ['2023-09-20', 0.07, 0.07, 1382307],
      ['2023-09-19', 0.34, 0.34, 12],
    ]);
  });

  test('Arabic broker export: Windows-1256, \\n\\r line ends, scientific notation; bad rows named by line', async () => {
    const { format, bars, rejects } = await read('ar_export.csv', 'COMI');
    expect(format).toBe('egx_ar_export');
    expect(bars[0]).toEqual({
      symbol: 'COMI',
      tradeDate: '2026-01-13',
      open: null,
      high: 122.8,
      low: 117.8,
      close: 120.33,
      volume: 7084743,
      prevClose: 115.1,
      turnover: 855985408,
    });
    // Close outside [low, high] is real EGX data here, not an error.
    expect(bars.map((b) => b.tradeDate)).toEqual(['2026-01-13', '2026-01-12', '2023-11-15']);
    expect(rejects).toEqual([
      { line: 4, reason: 'close: must be > 0, got 0' },
      { line: 5, reason: 'high 3.353 < low 32.25' },
      { line: 6, reason: 'duplicate date 2026-01-12 (also on line 3)' },
    ]);
  });

  test('a header-only file has no rows and no errors', async () => {
    const { format, bars, rejects } = await read('ar_export_header_only.csv');
    expect(format).toBe('egx_ar_export');
    expect(bars).toEqual([]);
    expect(rejects).toEqual([]);
  });

  test('plain OHLCV: unreadable numbers and impossible dates are quarantined with the text', async () => {
    const { format, bars, rejects } = await read('ohlcv.csv');
    expect(format).toBe('ohlcv');
    expect(bars.map((b) => [b.tradeDate, b.volume])).toEqual([
      ['2015-01-04', 66572],
      ['2015-01-05', 0],
    ]);
    expect(rejects).toEqual([
      { line: 4, reason: 'close: not a number "not-a-number"' },
      { line: 5, reason: 'date: no such calendar date "2015-02-30"' },
    ]);
  });

  test('an unknown layout is refused naming the file and the missing columns', async () => {
    const err = await read('unknown_layout.csv').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownFormatError);
    expect((err as Error).message).toBe(
      'unknown_layout.csv: unrecognised daily price header ["when","price"]: no date, high, low column',
    );
  });

  test('symbols come from the file name by the ticker schema; rights-series suffixes are kept', () => {
    expect(symbolFromKey('batch/prices/COMI.csv')).toBe('COMI');
    expect(symbolFromKey('batch/prices/comi.CSV')).toBe('COMI');
    expect(symbolFromKey('batch/prices/ADIB_r3.csv')).toBe('ADIB_R3');
    expect(() => symbolFromKey('T.Bond 7+yr.csv')).toThrow(
      /^T\.Bond 7\+yr\.csv: the file name must be a ticker: "T\.BOND 7\+YR" is not an EGX ticker: it has "\." at position 2; /,
    );
  });
});
