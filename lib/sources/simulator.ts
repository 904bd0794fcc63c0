import type { BarMessage, Interval } from '../bus/message.js';
import {
  cairoClock,
  cairoMidnight,
  closedReason,
  egxCalendar,
  SESSION,
  type MarketCalendar,
} from '../market/calendar.js';
import type { MarketSource, Quote } from './types.js';

/** Real EGX tickers the simulator trades, with a plausible reference price (EGP) to start from. */
export const SIMULATED_TICKERS: Record<string, number> = {
  COMI: 80,
  ETEL: 35,
  SWDY: 75,
  HRHO: 22,
  TMGH: 55,
  EAST: 32,
  ABUK: 60,
  EFIH: 25,
  FWRY: 6.5,
  ORAS: 280,
  JUFO: 20,
  AMOC: 9,
  ESRS: 90,
  PHDC: 6,
  EKHO: 0.85,
  OCDI: 22,
  SKPC: 19,
  CLHO: 7,
  OTMT: 0.55,
  BTFH: 3.2,
  HELI: 6.5,
};

const MINUTES: Record<Interval, number> = { '1m': 1, '5m': 5, '1h': 60, '1d': 24 * 60 };
const DAILY_LIMIT = 0.1; // a day's close stays within ±10% of the previous close
const EPOCH = Date.UTC(2000, 0, 1);

/** Price tick: 0.001 below 1 EGP, 0.01 otherwise. */
export function tickOf(price: number): number {
  return price < 1 ? 0.001 : 0.01;
}
const roundTick = (p: number) => Math.round(p / tickOf(p)) * tickOf(p);
const round = (p: number) => Number(roundTick(p).toFixed(3));

/** A deterministic uniform number in [0, 1) from a seed and a key (FNV-1a then xorshift). */
function unit(seed: number, key: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h ^= h << 13;
  h ^= h >>> 17;
  h ^= h << 5;
  return (h >>> 0) / 4294967296;
}

/**
 * A deterministic EGX-like market: for a seed, every bar is a pure function of (symbol, interval,
 * bar time), so fetching a window twice gives the same bars. Bars exist only inside the session
 * (Sunday–Thursday 10:00–14:30 Cairo, not on holidays); prices move on the tick grid, daily
 * closes stay within the ±10% limit, and intraday volume is U-shaped (busier at open and close).
 */
export class SimulatorSource implements MarketSource {
  readonly name = 'simulator';
  private closes = new Map<
    string,
    { byDate: Map<string, number>; last: number; start: number; price: number }
  >();

  constructor(
    private readonly seed = 1,
    private readonly calendar: MarketCalendar = egxCalendar(),
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The close of the last whole minute traded before now (within the last week), with the day's change and volume. */
  async latestQuote(symbol: string): Promise<Quote> {
    const now = this.now();
    const bars = await this.fetchBars({
      symbols: [symbol],
      interval: '1m',
      from: new Date(now.getTime() - 7 * 86_400_000),
      to: new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60_000),
    });
    const last = bars.at(-1);
    if (!last) throw new Error(`simulator: no trading in the week before ${now.toISOString()}`);
    const date = cairoClock(new Date(last.ts)).date;
    const prevDate = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const prev = this.dailyClose(symbol, prevDate);
    const today = bars.filter((b) => cairoClock(new Date(b.ts)).date === date);
    return {
      symbol,
      price: last.close,
      change: round(last.close - prev),
      changePct: Number((((last.close - prev) / prev) * 100).toFixed(2)),
      volume: today.reduce((s, b) => s + b.volume, 0),
      at: new Date(Date.parse(last.ts) + 60_000).toISOString(),
    };
  }

  /**
   * The close of the last trading day on or before `date`: a random walk from 2000-01-01 that drifts
   * back towards the ticker's reference price, extended forward and cached per symbol, so a long
   * history costs one step per day.
   */
  private dailyClose(symbol: string, date: string): number {
    let walk = this.closes.get(symbol);
    if (!walk) {
      const start = SIMULATED_TICKERS[symbol] ?? 10 + unit(this.seed, symbol) * 90;
      this.closes.set(symbol, (walk = { byDate: new Map(), last: EPOCH - 86_400_000, start, price: start }));
    }
    const cached = walk.byDate.get(date);
    if (cached !== undefined) return cached;
    const end = Date.parse(`${date}T00:00:00Z`);
    if (end < EPOCH) return walk.start;
    for (let t = walk.last + 86_400_000; t <= end; t += 86_400_000) {
      const d = new Date(t).toISOString().slice(0, 10);
      if (!closedReason(d, this.calendar)) {
        // Noise plus a slight pull back to the reference price, so decades of walk stay plausible.
        const move =
          (unit(this.seed, `${symbol}|${d}|d`) - 0.5) * 0.05 + 0.005 * Math.log(walk.start / walk.price);
        const bounded = Math.max(-DAILY_LIMIT, Math.min(DAILY_LIMIT, move));
        walk.price = roundTick(Math.max(0.1, walk.price * (1 + bounded)));
      }
      walk.byDate.set(d, walk.price);
      walk.last = t;
    }
    return walk.price;
  }

  private bar(symbol: string, interval: Interval, open: Date): BarMessage | undefined {
    const c = cairoClock(open);
    if (closedReason(c.date, this.calendar)) return undefined;
    const step = MINUTES[interval];
    if (interval !== '1d' && (c.minute < SESSION.openMinute || c.minute + step > SESSION.closeMinute))
      return undefined;
    const prevDate = new Date(Date.parse(`${c.date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const prevClose = this.dailyClose(symbol, prevDate);
    const dayClose = this.dailyClose(symbol, c.date);
    const key = `${symbol}|${interval}|${open.toISOString()}`;
    let o: number;
    let cl: number;
    let volumeWeight: number;
    if (interval === '1d') {
      o = prevClose;
      cl = dayClose;
      volumeWeight = 1;
    } else {
      // Intraday: a straight path from the previous close to the day's close, with noise, so bars join up.
      const session = SESSION.closeMinute - SESSION.openMinute;
      const at = (m: number) => prevClose + ((dayClose - prevClose) * (m - SESSION.openMinute)) / session;
      const noise = (m: number) =>
        m <= SESSION.openMinute || m >= SESSION.closeMinute
          ? 0
          : (unit(this.seed, `${symbol}|${c.date}|${m}`) - 0.5) * 0.004 * prevClose;
      o = at(c.minute) + noise(c.minute);
      cl = at(c.minute + step) + noise(c.minute + step);
      const x = (c.minute - SESSION.openMinute) / session;
      volumeWeight = (0.5 + 2 * (x - 0.5) ** 2) * (step / session) * 2;
    }
    const spread = Math.abs(cl - o) + unit(this.seed, `${key}|r`) * 0.005 * o;
    const high = Math.max(o, cl) + spread * unit(this.seed, `${key}|h`);
    const low = Math.max(tickOf(o), Math.min(o, cl) - spread * unit(this.seed, `${key}|l`));
    const baseVolume = 200_000 + unit(this.seed, `${symbol}|v`) * 2_000_000;
    return {
      schema: 1,
      symbol,
      exchange: 'EGX',
      interval,
      ts: open.toISOString(),
      open: round(o),
      high: round(high),
      low: round(low),
      close: round(cl),
      volume: Math.round(baseVolume * volumeWeight * (0.5 + unit(this.seed, `${key}|q`))),
      source: this.name,
      ingested_at: open.toISOString(),
    };
  }

  async fetchBars(req: {
    symbols: string[];
    interval: Interval;
    from: Date;
    to: Date;
  }): Promise<BarMessage[]> {
    const out: BarMessage[] = [];
    for (const symbol of req.symbols) {
      for (const open of barOpens(req.interval, req.from, req.to)) {
        const b = this.bar(symbol, req.interval, open);
        if (b) out.push(b);
      }
    }
    return out;
  }
}

/** Bar open times in [from, to): Cairo midnight for daily bars, multiples of the interval otherwise. */
function* barOpens(interval: Interval, from: Date, to: Date): Generator<Date> {
  if (interval === '1d') {
    // Stepping 24 h can land on the same Cairo date twice when the clocks go back: one bar per date.
    let last = '';
    for (let t = from.getTime(); t < to.getTime() + 86_400_000; t += 86_400_000) {
      const c = cairoClock(new Date(t));
      if (c.date === last) continue;
      last = c.date;
      const open = cairoMidnight(c.date);
      if (open >= from && open < to) yield open;
    }
    return;
  }
  const step = MINUTES[interval] * 60_000;
  for (let t = Math.ceil(from.getTime() / step) * step; t < to.getTime(); t += step) yield new Date(t);
}
