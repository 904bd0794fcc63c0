/**
 * The framing of TradingView's public chart websocket (the protocol the Python tvDatafeed/egxpy
 * libraries speak): every message is `~m~<length>~m~<payload>`, several may share one websocket
 * message, payloads are JSON `{m: method, p: params}` or a heartbeat `~h~<n>` that the client echoes.
 */

/** Frames one payload (a string or an object sent as JSON). */
export function frame(payload: string | object): string {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return `~m~${text.length}~m~${text}`;
}

/** A call from client to server: `{m, p}`. */
export const call = (m: string, p: unknown[]) => frame({ m, p });

/** Splits one websocket message into its payloads; throws on a malformed frame. */
export function parseFrames(data: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < data.length) {
    const m = /^~m~(\d+)~m~/.exec(data.slice(i, i + 20));
    if (!m) throw new Error(`malformed frame at character ${i}: ${JSON.stringify(data.slice(i, i + 40))}`);
    const start = i + m[0].length;
    const length = Number(m[1]);
    if (start + length > data.length)
      throw new Error(`truncated frame: ${length} characters announced, ${data.length - start} left`);
    out.push(data.slice(start, start + length));
    i = start + length;
  }
  return out;
}

export const isHeartbeat = (payload: string) => /^~h~\d+$/.test(payload);

export interface ServerMessage {
  m: string;
  p: unknown[];
}

/** A JSON payload as `{m, p}`; undefined for anything else (session info, heartbeats). */
export function parseMessage(payload: string): ServerMessage | undefined {
  if (!payload.startsWith('{')) return undefined;
  const v = JSON.parse(payload) as Partial<ServerMessage>;
  return typeof v.m === 'string' && Array.isArray(v.p) ? (v as ServerMessage) : undefined;
}

/** TradingView's resolution codes for the bus intervals. */
export const TV_RESOLUTION = { '1m': '1', '5m': '5', '1h': '60', '1d': '1D' } as const;

/** One bar as TradingView sends it in `timescale_update`: `{i, v: [unixSeconds, o, h, l, c, volume?]}`. */
export interface TvBar {
  i: number;
  v: number[];
}

/** The bars of series `seriesId` in a `timescale_update` or `du` message's params. */
export function seriesBars(msg: ServerMessage, seriesId: string): TvBar[] {
  const body = msg.p[1] as Record<string, { s?: TvBar[] }> | undefined;
  return body?.[seriesId]?.s ?? [];
}
