import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { BarMessage, Interval } from '../../bus/message.js';
import { cairoClock, cairoMidnight } from '../../market/calendar.js';
import type { MarketSource, Quote } from '../types.js';
import {
  call,
  frame,
  isHeartbeat,
  parseFrames,
  parseMessage,
  seriesBars,
  TV_RESOLUTION,
  type ServerMessage,
} from './protocol.js';

export interface TradingViewOptions {
  /** Default: TradingView's public data socket. */
  url?: string;
  /** Sent as the Origin header, as a browser would. */
  origin?: string;
  /** Exchange prefix of symbols (default EGX: COMI → EGX:COMI). */
  exchange?: string;
  /** One request (connect + series) may take this long before it is abandoned (default 15 s). */
  timeoutMs?: number;
  /** Attempts per request when the socket drops or times out (default 3). */
  attempts?: number;
  /** First reconnect delay, doubled each time (default 1 s). */
  backoffMs?: number;
  /** At least this long between two requests' starts, across all symbols (default 500 ms). */
  minGapMs?: number;
  /** Bars asked for are capped at this many (default 5000). */
  maxBars?: number;
  now?: () => Date;
}

/** The request failed for good (unknown symbol, protocol error): retrying will not help. */
export class TradingViewRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TradingViewRequestError';
  }
}

const STEP_MS: Record<Interval, number> = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 };
const sessionId = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;
/** A websocket message as text (ws hands over a Buffer, a list of them, or an ArrayBuffer). */
export const textOf = (data: WebSocket.RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Buffer.from(new Uint8Array(data)).toString('utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spaces calls at least `gapMs` apart, in call order. */
export function rateLimiter(gapMs: number, now: () => number = Date.now) {
  let next = 0;
  return async function slot(): Promise<void> {
    const at = Math.max(now(), next);
    next = at + gapMs;
    const wait = at - now();
    if (wait > 0) await sleep(wait);
  };
}

/**
 * Bars and quotes from TradingView's public chart websocket for EGX symbols (`EGX:COMI`), as the
 * Python tvDatafeed/egxpy libraries fetch them: one socket per request, heartbeats echoed, a
 * timeout per request, reconnects with back-off when the socket drops, and a rate limit shared
 * by all requests. Unknown symbols fail at once, without retries.
 */
export class TradingViewSource implements MarketSource {
  readonly name = 'tradingview';
  private readonly o: Required<Omit<TradingViewOptions, 'now'>> & { now: () => Date };
  private readonly slot: () => Promise<void>;

  constructor(opts: TradingViewOptions = {}) {
    this.o = {
      url: 'wss://data.tradingview.com/socket.io/websocket',
      origin: 'https://data.tradingview.com',
      exchange: 'EGX',
      timeoutMs: 15_000,
      attempts: 3,
      backoffMs: 1000,
      minGapMs: 500,
      maxBars: 5000,
      now: () => new Date(),
      ...opts,
    };
    this.slot = rateLimiter(this.o.minGapMs);
  }

  async fetchBars(req: {
    symbols: string[];
    interval: Interval;
    from: Date;
    to: Date;
  }): Promise<BarMessage[]> {
    const out: BarMessage[] = [];
    const ingestedAt = this.o.now().toISOString();
    // How many of the latest bars reach back to `from` (TradingView serves the last N).
    const span = this.o.now().getTime() - req.from.getTime();
    const nBars = Math.min(this.o.maxBars, Math.max(1, Math.ceil(span / STEP_MS[req.interval]) + 2));
    for (const symbol of req.symbols) {
      const raw = await this.withRetries(`${this.o.exchange}:${symbol}`, (ws, send) =>
        this.series(ws, send, `${this.o.exchange}:${symbol}`, req.interval, nBars),
      );
      for (const [t, open, high, low, close, volume] of raw) {
        const ts = barOpen(t! * 1000, req.interval);
        if (ts < req.from || ts >= req.to) continue;
        out.push({
          schema: 1,
          symbol,
          exchange: 'EGX',
          interval: req.interval,
          ts: ts.toISOString(),
          open: open!,
          high: high!,
          low: low!,
          close: close!,
          volume: volume ?? 0,
          source: this.name,
          ingested_at: ingestedAt,
        });
      }
    }
    return out;
  }

  async latestQuote(symbol: string): Promise<Quote> {
    const tv = `${this.o.exchange}:${symbol}`;
    return this.withRetries(tv, (ws, send) => this.quote(ws, send, symbol, tv));
  }

  /** Opens a socket per attempt; retries drops and timeouts with back-off, not request errors. */
  private async withRetries<T>(
    what: string,
    run: (ws: WebSocket, send: (m: string, p: unknown[]) => void) => Promise<T>,
  ): Promise<T> {
    let last: Error | undefined;
    for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
      if (attempt > 1) await sleep(this.o.backoffMs * 2 ** (attempt - 2));
      await this.slot();
      try {
        return await this.once(what, run);
      } catch (e) {
        if (e instanceof TradingViewRequestError) throw e;
        last = e as Error;
      }
    }
    throw new Error(`TradingView ${what}: gave up after ${this.o.attempts} attempts: ${last?.message}`, {
      cause: last,
    });
  }

  private once<T>(what: string, run: (ws: WebSocket, send: (m: string, p: unknown[]) => void) => Promise<T>) {
    const ws = new WebSocket(this.o.url, {
      headers: { Origin: this.o.origin },
      handshakeTimeout: this.o.timeoutMs,
    });
    const send = (m: string, p: unknown[]) => ws.send(call(m, p));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no complete answer for ${what} within ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
    });
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<never>((_, reject) => {
      ws.once('close', (code) => reject(new Error(`socket closed (code ${code}) before ${what} completed`)));
      ws.on('error', reject);
    });
    // Echo heartbeats, or the server drops the socket.
    ws.on('message', (data: WebSocket.RawData) => {
      for (const p of parseFrames(textOf(data))) if (isHeartbeat(p)) ws.send(frame(p));
    });
    const work = opened.then(() => {
      send('set_auth_token', ['unauthorized_user_token']);
      return run(ws, send);
    });
    closed.catch(() => undefined);
    return Promise.race([work, closed, timeout]).finally(() => {
      clearTimeout(timer);
      ws.removeAllListeners('close');
      ws.on('error', () => undefined);
      ws.terminate();
    });
  }

  /** Messages arriving on the socket, as `{m, p}`, until `done` returns a value. */
  private collect<T>(ws: WebSocket, done: (msg: ServerMessage) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      ws.on('message', (data: WebSocket.RawData) => {
        try {
          for (const payload of parseFrames(textOf(data))) {
            const msg = parseMessage(payload);
            if (!msg) continue;
            const r = done(msg);
            if (r !== undefined) resolve(r);
          }
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }

  private series(
    ws: WebSocket,
    send: (m: string, p: unknown[]) => void,
    tvSymbol: string,
    interval: Interval,
    nBars: number,
  ): Promise<number[][]> {
    const cs = sessionId('cs');
    const bars: number[][] = [];
    const result = this.collect(ws, (msg) => {
      if (msg.m === 'symbol_error')
        throw new TradingViewRequestError(
          `TradingView: unknown symbol ${tvSymbol}: ${JSON.stringify(msg.p.slice(2))}`,
        );
      if (msg.m === 'critical_error' || msg.m === 'protocol_error' || msg.m === 'series_error') {
        throw new TradingViewRequestError(
          `TradingView ${tvSymbol}: ${msg.m} ${JSON.stringify(msg.p.slice(1))}`,
        );
      }
      if (msg.m === 'timescale_update' || msg.m === 'du')
        for (const b of seriesBars(msg, 's1')) bars.push(b.v);
      return msg.m === 'series_completed' ? bars : undefined;
    });
    send('chart_create_session', [cs, '']);
    send('switch_timezone', [cs, 'Africa/Cairo']);
    send('resolve_symbol', [
      cs,
      'symbol_1',
      `=${JSON.stringify({ symbol: tvSymbol, adjustment: 'splits', session: 'regular' })}`,
    ]);
    send('create_series', [cs, 's1', 's1', 'symbol_1', TV_RESOLUTION[interval], nBars]);
    return result;
  }

  private quote(
    ws: WebSocket,
    send: (m: string, p: unknown[]) => void,
    symbol: string,
    tvSymbol: string,
  ): Promise<Quote> {
    const qs = sessionId('qs');
    const result = this.collect<Quote>(ws, (msg) => {
      if (msg.m !== 'qsd') return undefined;
      const body = msg.p[1] as { n?: string; s?: string; v?: Record<string, number> } | undefined;
      if (body?.n !== tvSymbol) return undefined;
      if (body.s !== 'ok')
        throw new TradingViewRequestError(`TradingView: no quote for ${tvSymbol} (status ${body.s})`);
      const v = body.v ?? {};
      if (typeof v.lp !== 'number') return undefined;
      return {
        symbol,
        price: v.lp,
        change: v.ch ?? null,
        changePct: v.chp ?? null,
        volume: v.volume ?? null,
        at:
          typeof v.lp_time === 'number'
            ? new Date(v.lp_time * 1000).toISOString()
            : this.o.now().toISOString(),
      };
    });
    send('quote_create_session', [qs]);
    send('quote_set_fields', [qs, 'lp', 'lp_time', 'ch', 'chp', 'volume']);
    send('quote_add_symbols', [qs, tvSymbol]);
    return result;
  }
}

/** A bar's open as the bus carries it: daily bars at Cairo midnight of their trading date. */
function barOpen(ms: number, interval: Interval): Date {
  if (interval !== '1d') return new Date(ms);
  return cairoMidnight(cairoClock(new Date(ms)).date);
}
