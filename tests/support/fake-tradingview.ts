import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BarMessage } from '../../lib/bus/message.js';
import { textOf } from '../../lib/sources/tradingview/client.js';
import { frame, isHeartbeat, parseFrames, parseMessage } from '../../lib/sources/tradingview/protocol.js';

const INTERVAL_OF: Record<string, BarMessage['interval']> = { '1': '1m', '5': '5m', '60': '1h', '1D': '1d' };

export interface FakeTradingViewOptions {
  /** Every bar the fake knows, per symbol and interval; it serves the last N asked for. */
  bars: (symbol: string, interval: BarMessage['interval']) => BarMessage[];
  /** Symbols it knows (EGX tickers without the prefix). */
  symbols: string[];
  /** Drop the socket (no answer) on this many series requests before answering. */
  drop?: number;
  /** Never answer this many series requests (the client must time out). */
  silent?: number;
}

/**
 * A local stand-in for TradingView's chart websocket, speaking the same framing and messages
 * (session info, heartbeats, set_auth_token, chart/quote sessions, resolve_symbol, create_series →
 * timescale_update + series_completed, symbol_error, quote_add_symbols → qsd), with faults on demand.
 */
export async function startFakeTradingView(opts: FakeTradingViewOptions) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const state = {
    connections: 0,
    origins: [] as (string | undefined)[],
    heartbeatsEchoed: 0,
    requests: [] as { at: number; method: string; symbol?: string; bars?: number }[],
    drop: opts.drop ?? 0,
    silent: opts.silent ?? 0,
  };

  wss.on('connection', (ws: WebSocket, req) => {
    state.connections++;
    state.origins.push(req.headers.origin);
    const symbols = new Map<string, string>();
    ws.send(frame({ session_id: `fake_${state.connections}`, timestamp: Math.floor(Date.now() / 1000) }));
    ws.send(frame('~h~1'));
    ws.on('message', (data) => {
      for (const payload of parseFrames(textOf(data))) {
        if (isHeartbeat(payload)) {
          state.heartbeatsEchoed++;
          continue;
        }
        const msg = parseMessage(payload);
        if (!msg) continue;
        const p = msg.p;
        if (msg.m === 'resolve_symbol') {
          const spec = JSON.parse(String(p[2]).replace(/^=/, '')) as { symbol: string };
          symbols.set(String(p[1]), spec.symbol);
        } else if (msg.m === 'create_series') {
          const [cs, , seriesId, alias, resolution, n] = p as [
            string,
            string,
            string,
            string,
            string,
            number,
          ];
          const tv = symbols.get(alias) ?? '';
          state.requests.push({ at: Date.now(), method: msg.m, symbol: tv, bars: n });
          const ticker = tv.replace(/^EGX:/, '');
          if (!opts.symbols.includes(ticker)) {
            ws.send(frame({ m: 'symbol_error', p: [cs, alias, 'invalid symbol'] }));
            continue;
          }
          if (state.drop > 0) {
            state.drop--;
            ws.terminate();
            return;
          }
          if (state.silent > 0) {
            state.silent--;
            continue;
          }
          const all = opts.bars(ticker, INTERVAL_OF[resolution]!).slice(-n);
          const tvBars = all.map((b, i) => ({
            i,
            v: [Date.parse(b.ts) / 1000, b.open, b.high, b.low, b.close, b.volume],
          }));
          const half = Math.ceil(tvBars.length / 2);
          // Two updates and the completion in one websocket message, as the real server batches them.
          ws.send(
            frame({ m: 'series_loading', p: [cs, seriesId, 's1'] }) +
              frame({ m: 'timescale_update', p: [cs, { [seriesId]: { s: tvBars.slice(0, half) } }] }) +
              frame({ m: 'timescale_update', p: [cs, { [seriesId]: { s: tvBars.slice(half) } }] }) +
              frame({ m: 'series_completed', p: [cs, seriesId, 'streaming'] }),
          );
        } else if (msg.m === 'quote_add_symbols') {
          const [qs, tv] = p as [string, string];
          state.requests.push({ at: Date.now(), method: msg.m, symbol: tv });
          const ticker = tv.replace(/^EGX:/, '');
          if (!opts.symbols.includes(ticker)) {
            ws.send(frame({ m: 'qsd', p: [qs, { n: tv, s: 'error', v: {} }] }));
            continue;
          }
          const last = opts.bars(ticker, '1m').at(-1)!;
          ws.send(
            frame({
              m: 'qsd',
              p: [
                qs,
                {
                  n: tv,
                  s: 'ok',
                  v: {
                    lp: last.close,
                    ch: 0.5,
                    chp: 0.62,
                    volume: 123_456,
                    lp_time: Date.parse(last.ts) / 1000 + 60,
                  },
                },
              ],
            }),
          );
        }
      }
    });
  });

  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/socket.io/websocket`,
    state,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}
