import { describe, expect, test } from 'vitest';
import { cairoClock, cairoWallClock, egxCalendar } from '../../lib/market/calendar.js';
import { SimulatorSource, SIMULATED_TICKERS } from '../../lib/sources/simulator.js';

const sunday = { from: new Date('2025-11-30T00:00:00Z'), to: new Date('2025-12-01T00:00:00Z') }; // winter: UTC+2
const symbols = Object.keys(SIMULATED_TICKERS);

describe('market simulator', () => {
  test('is deterministic for a seed and differs between seeds', async () => {
    const req = { symbols: ['COMI', 'ETEL'], interval: '5m' as const, ...sunday };
    const a = await new SimulatorSource(7).fetchBars(req);
    expect(await new SimulatorSource(7).fetchBars(req)).toEqual(a);
    expect(await new SimulatorSource(8).fetchBars(req)).not.toEqual(a);
  });

  test('trades only in session: 54 five-minute bars from 10:00 to 14:25 Cairo, none on Friday or holidays', async () => {
    const sim = new SimulatorSource(1, egxCalendar([{ date: '2025-12-02', name: 'Test holiday' }]));
    const bars = await sim.fetchBars({ symbols: ['COMI'], interval: '5m', ...sunday });
    expect(bars).toHaveLength(54);
    expect(bars[0]?.ts).toBe('2025-11-30T08:00:00.000Z');
    expect(bars.at(-1)?.ts).toBe('2025-11-30T12:25:00.000Z');
    const friday = { from: new Date('2025-11-28T00:00:00Z'), to: new Date('2025-11-29T00:00:00Z') };
    expect(await sim.fetchBars({ symbols: ['COMI'], interval: '5m', ...friday })).toEqual([]);
    const holiday = { from: new Date('2025-12-02T00:00:00Z'), to: new Date('2025-12-03T00:00:00Z') };
    expect(await sim.fetchBars({ symbols: ['COMI'], interval: '1h', ...holiday })).toEqual([]);
  });

  test('bars join up, are internally consistent and sit on the tick grid', async () => {
    const bars = await new SimulatorSource(3).fetchBars({ symbols, interval: '5m', ...sunday });
    for (const s of symbols) {
      const own = bars.filter((b) => b.symbol === s);
      own.slice(1).forEach((b, i) => expect(b.open).toBe(own[i]!.close));
    }
    for (const b of bars) {
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeGreaterThan(0);
      const tick = b.close < 1 ? 1000 : 100;
      expect(Math.abs(b.close * tick - Math.round(b.close * tick))).toBeLessThan(1e-6);
    }
  });

  test('daily closes stay within the ±10% limit of the previous close', async () => {
    const bars = await new SimulatorSource(5).fetchBars({
      symbols,
      interval: '1d',
      from: new Date('2025-09-01T00:00:00Z'),
      to: new Date('2025-12-01T00:00:00Z'),
    });
    expect(bars.length).toBeGreaterThan(symbols.length * 50);
    for (const b of bars) expect(Math.abs(b.close - b.open) / b.open).toBeLessThanOrEqual(0.1 + 1e-9);
  });

  test('intraday volume is U-shaped: the first and last half hours trade more than midday', async () => {
    const bars = await new SimulatorSource(9).fetchBars({ symbols, interval: '5m', ...sunday });
    const minuteOf = (ts: string) => (new Date(ts).getUTCHours() + 2) * 60 + new Date(ts).getUTCMinutes();
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const edge = avg(bars.filter((b) => minuteOf(b.ts) < 630 || minuteOf(b.ts) >= 840).map((b) => b.volume));
    const midday = avg(
      bars.filter((b) => minuteOf(b.ts) >= 705 && minuteOf(b.ts) < 765).map((b) => b.volume),
    );
    expect(edge).toBeGreaterThan(1.5 * midday);
  });
});

test('one daily bar per trading date, also across the autumn clock change', async () => {
  // Egypt's clocks went back at the end of Thursday 30 October 2025.
  const bars = await new SimulatorSource(1).fetchBars({
    symbols: ['COMI'],
    interval: '1d',
    // From Cairo midnight, as backfills ask: 24-hour steps fall at 23:00 once the clocks go back.
    from: cairoWallClock(2025, 10, 20),
    to: cairoWallClock(2025, 11, 10),
  });
  expect(new Set(bars.map((b) => b.ts)).size).toBe(bars.length);
  expect(bars.map((b) => cairoClock(new Date(b.ts)).date)).toContain('2025-10-30');
});
