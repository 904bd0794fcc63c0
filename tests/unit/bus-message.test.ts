import { describe, expect, test } from 'vitest';
import { decodeBar, encodeBar, type BarMessage } from '../../lib/bus/message.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';
import { cairoOffsetMinutes, cairoWallClock } from '../../lib/market/calendar.js';

const bar: BarMessage = {
  schema: 1,
  symbol: 'COMI',
  exchange: 'EGX',
  interval: '5m',
  ts: '2026-01-13T08:05:00.000Z',
  open: 120,
  high: 121.5,
  low: 119.8,
  close: 121,
  volume: 12500,
  source: 'simulator',
  ingested_at: '2026-01-13T08:10:01.000Z',
};
const now = () => new Date('2026-01-13T09:00:00.000Z');

describe('bus messages', () => {
  test('a bar round-trips through its Kafka record, keyed by symbol', () => {
    const record = encodeBar(bar);
    expect(record.key).toBe('COMI');
    expect(decodeBar(Buffer.from(record.value))).toEqual({ ok: true, bar, legacy: false });
  });

  test('the legacy producer format is accepted and normalised (Cairo wall clock to UTC, Daily to 1d)', () => {
    const old = {
      symbol: 'EGX:comi',
      datetime: '2025-07-01 10:00:00',
      interval: 'Daily',
      open: '80',
      high: 81,
      low: 79,
      close: 80.5,
      volume: 1000,
      ingestion_timestamp: '2025-07-01 14:35:00',
    };
    const d = decodeBar(JSON.stringify(old), now);
    expect(d).toEqual({
      ok: true,
      legacy: true,
      bar: {
        schema: 1,
        symbol: 'COMI',
        exchange: 'EGX',
        interval: '1d',
        ts: '2025-07-01T07:00:00.000Z',
        open: 80,
        high: 81,
        low: 79,
        close: 80.5,
        volume: 1000,
        source: 'legacy-producer',
        ingested_at: '2025-07-01T11:35:00.000Z',
      },
    });
  });

  test.each([
    [null, 'empty message (tombstone)'],
    ['{not json', 'not JSON'],
    [JSON.stringify({ ...bar, close: 0 }), 'close: '],
    [JSON.stringify({ ...bar, high: 1, low: 2 }), 'high 1 < low 2'],
    [JSON.stringify({ ...bar, interval: '2h' }), 'interval: '],
    [JSON.stringify({ ...bar, ts: '2026-01-13 08:05' }), 'ts: expected ISO-8601 with a zone'],
    [
      JSON.stringify({ ...bar, symbol: 'comi!' }),
      'symbol: "comi!" is not an EGX ticker: it has the lower-case letter "c" at position 1',
    ],
    [JSON.stringify({ ...bar, extra: 1 }), 'extra'],
    [
      JSON.stringify({
        symbol: 'COMI',
        datetime: 'yesterday',
        interval: 'Daily',
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
      }),
      'datetime: unreadable "yesterday"',
    ],
    [
      JSON.stringify({
        symbol: 'COMI',
        datetime: '2025-01-01',
        interval: 'Weekly',
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
      }),
      'unknown interval "Weekly"',
    ],
  ])('refused with a reason for the dead-letter topic: %s', (value, reason) => {
    const d = decodeBar(value, now);
    expect(d.ok).toBe(false);
    expect(d.ok ? '' : d.reason).toContain(reason);
  });
});

describe('Cairo wall clock', () => {
  test('offsets follow daylight saving, and wall-clock times convert on both sides of it', () => {
    expect(cairoOffsetMinutes(new Date('2025-01-15T12:00:00Z'))).toBe(120);
    expect(cairoOffsetMinutes(new Date('2025-07-15T12:00:00Z'))).toBe(180);
    expect(cairoWallClock(2025, 1, 15, 10).toISOString()).toBe('2025-01-15T08:00:00.000Z');
    expect(cairoWallClock(2025, 7, 15, 10).toISOString()).toBe('2025-07-15T07:00:00.000Z');
  });

  // The reason is what the consumer puts in the dead-letter record's x-dlq-reason header.
  test.each(HOSTILE_SYMBOLS)('a bar for %j goes to the dead-letter topic naming the symbol', (bad, why) => {
    for (const value of [
      JSON.stringify({ ...bar, symbol: bad }),
      JSON.stringify({
        symbol: bad,
        datetime: '2025-07-01 14:30',
        interval: 'Daily',
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
      }),
    ]) {
      const d = decodeBar(value, now);
      expect(d.ok).toBe(false);
      expect(d.ok ? '' : d.reason).toMatch(/symbol: .* is not an EGX ticker: it /);
      expect(d.ok ? '' : d.reason).toMatch(why);
    }
  });
});
