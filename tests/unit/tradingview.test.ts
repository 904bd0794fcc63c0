import { afterEach, describe, expect, test, vi } from 'vitest';
import type { BarMessage } from '../../lib/bus/message.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { rateLimiter, TradingViewSource } from '../../lib/sources/tradingview/client.js';
import { frame, parseFrames } from '../../lib/sources/tradingview/protocol.js';
import { startFakeTradingView } from '../support/fake-tradingview.js';

// The fake's clock: Sunday 2025-11-30 11:00 Cairo (09:00 UTC).
const NOW = new Date('2025-11-30T09:00:00.000Z');
const sim = new SimulatorSource(9);
const history = new Map<string, BarMessage[]>();
async function simulated(symbol: string, interval: BarMessage['interval']): Promise<BarMessage[]> {
  const key = `${symbol}|${interval}`;
  if (!history.has(key)) {
    const from = new Date(NOW.getTime() - (interval === '1d' ? 30 : 3) * 86_400_000);
    history.set(key, await sim.fetchBars({ symbols: [symbol], interval, from, to: NOW }));
  }
  return history.get(key)!;
}

let fake: Awaited<ReturnType<typeof startFakeTradingView>> | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts: { drop?: number; silent?: number } = {}) {
  // Bars are prepared before the server answers synchronously.
  for (const s of ['COMI', 'ETEL']) for (const i of ['1m', '5m', '1d'] as const) await simulated(s, i);
  fake = await startFakeTradingView({
    symbols: ['COMI', 'ETEL'],
    bars: (symbol, interval) => history.get(`${symbol}|${interval}`) ?? [],
    ...opts,
  });
  return fake;
}

const client = (url: string, o: Partial<ConstructorParameters<typeof TradingViewSource>[0]> = {}) =>
  new TradingViewSource({ url, now: () => NOW, backoffMs: 10, minGapMs: 0, timeoutMs: 2000, ...o });

describe('TradingView framing', () => {
  test('frames round-trip, several to one websocket message', () => {
    const data = frame({ m: 'a', p: [1] }) + frame('~h~7') + frame('{"m":"b","p":["ü"]}');
    expect(parseFrames(data)).toEqual(['{"m":"a","p":[1]}', '~h~7', '{"m":"b","p":["ü"]}']);
  });

  test('a malformed or truncated frame is an error saying where', () => {
    expect(() => parseFrames('~m~5~m~abc')).toThrow(/truncated frame: 5 characters announced, 3 left/);
    expect(() => parseFrames(`${frame('ok')}garbage`)).toThrow(/malformed frame at character 9/);
  });
});

describe('TradingView client against a local fake', () => {
  test('fetches EGX:<symbol> bars in the window, in the bus format; sends an Origin and echoes heartbeats', async () => {
    const f = await start();
    const from = new Date('2025-11-30T08:00:00.000Z');
    const bars = await client(f.url).fetchBars({ symbols: ['COMI', 'ETEL'], interval: '5m', from, to: NOW });
    const expected = (await simulated('COMI', '5m')).filter((b) => Date.parse(b.ts) >= from.getTime());
    expect(expected).toHaveLength(12);
    expect(bars.filter((b) => b.symbol === 'COMI')).toEqual(
      expected.map((b) => ({ ...b, source: 'tradingview', ingested_at: NOW.toISOString() })),
    );
    expect(bars.filter((b) => b.symbol === 'ETEL')).toHaveLength(12);
    expect(f.state.requests.map((r) => r.symbol)).toEqual(['EGX:COMI', 'EGX:ETEL']);
    // Enough bars asked to reach back to `from`: an hour of 5-minute bars and a little more.
    expect(f.state.requests[0]!.bars).toBeGreaterThanOrEqual(12);
    expect(f.state.origins.every((o) => o === 'https://data.tradingview.com')).toBe(true);
    expect(f.state.heartbeatsEchoed).toBe(2);
  });

  test('daily bars are dated at Cairo midnight of their trading day', async () => {
    const f = await start();
    const bars = await client(f.url).fetchBars({
      symbols: ['COMI'],
      interval: '1d',
      from: new Date('2025-11-20T00:00:00Z'),
      to: NOW,
    });
    expect(bars.length).toBeGreaterThan(5);
    for (const b of bars) expect(b.ts).toMatch(/T22:00:00\.000Z$/); // 00:00 Cairo in winter
  });

  test('reconnects after a dropped socket and still returns the bars', async () => {
    const f = await start({ drop: 2 });
    const bars = await client(f.url).fetchBars({
      symbols: ['COMI'],
      interval: '5m',
      from: new Date('2025-11-30T08:00:00.000Z'),
      to: NOW,
    });
    expect(bars).toHaveLength(12);
    expect(f.state.connections).toBe(3);
  });

  test('gives up after its attempts, naming the symbol and the last error', async () => {
    const f = await start({ drop: 5 });
    await expect(
      client(f.url, { attempts: 2 }).fetchBars({ symbols: ['COMI'], interval: '5m', from: NOW, to: NOW }),
    ).rejects.toThrow(/TradingView EGX:COMI: gave up after 2 attempts: socket closed \(code 1006\)/);
    expect(f.state.connections).toBe(2);
  });

  test('a server that never answers times out, and the retry succeeds', async () => {
    const f = await start({ silent: 1 });
    const bars = await client(f.url, { timeoutMs: 300 }).fetchBars({
      symbols: ['ETEL'],
      interval: '1m',
      from: new Date('2025-11-30T08:50:00.000Z'),
      to: NOW,
    });
    expect(bars).toHaveLength(10);
    expect(f.state.connections).toBe(2);
  });

  test('an unknown symbol fails at once, without retrying', async () => {
    const f = await start();
    await expect(
      client(f.url).fetchBars({ symbols: ['NOPE'], interval: '5m', from: NOW, to: NOW }),
    ).rejects.toThrow(/unknown symbol EGX:NOPE/);
    expect(f.state.connections).toBe(1);
  });

  test('requests are spaced by the rate limit', async () => {
    const f = await start();
    await client(f.url, { minGapMs: 150 }).fetchBars({
      symbols: ['COMI', 'ETEL', 'COMI'],
      interval: '5m',
      from: NOW,
      to: NOW,
    });
    const at = f.state.requests.map((r) => r.at);
    expect(at).toHaveLength(3);
    // Measured where they arrive, so a busy machine's jitter is allowed for; unspaced they arrive within a few ms.
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(250);
  });

  test('latest quote from the quote session', async () => {
    const f = await start();
    const q = await client(f.url).latestQuote('COMI');
    const last = (await simulated('COMI', '1m')).at(-1)!;
    expect(q).toEqual({
      symbol: 'COMI',
      price: last.close,
      change: 0.5,
      changePct: 0.62,
      volume: 123_456,
      at: new Date(Date.parse(last.ts) + 60_000).toISOString(),
    });
  });
});

test('the rate limiter hands out slots at least the gap apart, in call order', async () => {
  vi.useFakeTimers({ now: 0 });
  try {
    const slot = rateLimiter(1000);
    const done: number[] = [];
    const all = [0, 1, 2].map((i) => slot().then(() => done.push(Date.now() * 10 + i)));
    await vi.advanceTimersByTimeAsync(2500);
    await Promise.all(all);
    expect(done).toEqual([0, 10001, 20002]);
  } finally {
    vi.useRealTimers();
  }
});
