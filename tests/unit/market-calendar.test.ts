import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cairoClock, closedReason, egxCalendar, marketOpenDuring } from '../../lib/market/calendar.js';
import { sessionToShow } from '../../lib/market/session.js';
import { checkStreamingFreshness } from '../../lib/quality/streaming-freshness.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';

const cal = egxCalendar([{ date: '2026-11-26', name: 'Test holiday' }]);

describe('EGX market calendar', () => {
  test('Cairo wall clock follows daylight saving (UTC+3 in summer, UTC+2 in winter)', () => {
    expect(cairoClock(new Date('2025-07-01T07:00:00Z'))).toMatchObject({
      date: '2025-07-01',
      minute: 10 * 60,
    });
    expect(cairoClock(new Date('2025-12-01T08:00:00Z'))).toMatchObject({
      date: '2025-12-01',
      minute: 10 * 60,
    });
    expect(cairoClock(new Date('2025-12-04T22:30:00Z'))).toMatchObject({ date: '2025-12-05', weekday: 5 });
  });

  test('Fridays, Saturdays and holidays (kept as data) are closed; Sunday to Thursday trade', () => {
    expect(closedReason('2025-11-28', cal)).toBe('Friday');
    expect(closedReason('2025-11-29', cal)).toBe('Saturday');
    expect(closedReason('2025-11-30', cal)).toBeUndefined();
    expect(closedReason('2026-10-06', cal)).toBe('Armed Forces Day');
    expect(closedReason('2026-11-26', cal)).toBe('Test holiday');
  });

  test('open during a window only when it overlaps 10:00–14:30 Cairo of a trading day', () => {
    // Sunday 2025-11-30, winter: session 08:00–12:30 UTC.
    expect(marketOpenDuring(new Date('2025-11-30T02:00:00Z'), new Date('2025-11-30T07:59:00Z'), cal)).toBe(
      false,
    );
    expect(marketOpenDuring(new Date('2025-11-30T06:00:00Z'), new Date('2025-11-30T08:05:00Z'), cal)).toBe(
      true,
    );
    expect(marketOpenDuring(new Date('2025-11-30T12:30:00Z'), new Date('2025-11-30T18:00:00Z'), cal)).toBe(
      false,
    );
    // Friday: closed all day.
    expect(marketOpenDuring(new Date('2025-11-28T06:00:00Z'), new Date('2025-11-28T12:00:00Z'), cal)).toBe(
      false,
    );
  });
});

describe('the session a first run shows', () => {
  const cal = egxCalendar();
  const at = (iso: string) => new Date(iso);
  test('today, live, while the session is under way', () => {
    // Thursday 2026-11-26, 11:00 and 14:29 Cairo (UTC+2 in winter).
    expect(sessionToShow(at('2026-11-26T09:00:00Z'), cal)).toEqual({ mode: 'live', date: '2026-11-26' });
    expect(sessionToShow(at('2026-11-26T12:29:00Z'), cal)).toEqual({ mode: 'live', date: '2026-11-26' });
  });
  test('a demo of the last closed session before the open, after the close, on weekends and on holidays', () => {
    expect(sessionToShow(at('2026-11-26T05:00:00Z'), cal)).toEqual({ mode: 'demo', date: '2026-11-25' });
    expect(sessionToShow(at('2026-11-26T12:30:00Z'), cal)).toEqual({ mode: 'demo', date: '2026-11-26' });
    expect(sessionToShow(at('2026-11-28T10:00:00Z'), cal)).toEqual({ mode: 'demo', date: '2026-11-26' });
    const holiday = egxCalendar([{ date: '2026-11-26', name: 'Test holiday' }]);
    expect(sessionToShow(at('2026-11-26T09:00:00Z'), holiday)).toEqual({ mode: 'demo', date: '2026-11-25' });
    expect(sessionToShow(at('2026-11-27T09:00:00Z'), holiday)).toEqual({ mode: 'demo', date: '2026-11-25' });
  });
});

describe('streaming freshness', () => {
  let wh: DuckDbWarehouse;
  beforeAll(async () => {
    wh = await openDuckDbWarehouse(':memory:');
    await bootstrapWarehouse(wh);
  });
  afterAll(async () => wh.close());
  const asOf = new Date('2025-11-30T12:00:00Z'); // Sunday 14:00 Cairo

  test('stale when the market was open in the window and nothing streamed; fresh once a bar arrives', async () => {
    expect(await checkStreamingFreshness(wh, cal, asOf, 6)).toMatchObject({ status: 'stale' });
    await wh.upsert(
      TBL_STOCK_PRICE,
      ['SYMBOL', 'TRADE_DATE', 'DATA_SOURCE', 'CLOSE_PRICE', 'LOADED_AT'],
      [['COMI', '2025-11-30', 'STREAMING_API', 80, new Date('2025-11-30T09:05:00Z')]],
    );
    expect(await checkStreamingFreshness(wh, cal, asOf, 6)).toMatchObject({
      status: 'fresh',
      newest: '2025-11-30 09:05:00',
    });
  });

  test('nothing is expected when the market was closed throughout the window', async () => {
    const fridayNight = new Date('2025-11-28T22:00:00Z');
    expect(await checkStreamingFreshness(wh, cal, fridayNight, 6)).toMatchObject({ status: 'market_closed' });
  });
});
