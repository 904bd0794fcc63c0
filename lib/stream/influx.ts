import type { BarMessage } from '../bus/message.js';

/**
 * The optional live view: bars written to InfluxDB 1.x in line protocol, as the old system's
 * dashboards read them. A point is identified by measurement, tags and time, so writing a bar
 * again overwrites it: re-delivered batches leave one point per bar.
 */
export interface LiveView {
  /** Writes the bars; resolves once InfluxDB has accepted them, rejects naming the reason. */
  write(bars: BarMessage[]): Promise<void>;
}

export const INFLUX_MEASUREMENT = 'market_bars';

// Line protocol escaping: measurement names escape commas and spaces; tag keys and values also '='.
const escapeMeasurement = (s: string) => s.replace(/[, ]/g, (c) => `\\${c}`);
const escapeTag = (s: string) => s.replace(/[,= ]/g, (c) => `\\${c}`);
const float = (n: number) => {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  return String(n);
};

/** One bar as a line: `market_bars,symbol=COMI,interval=1m open=..,...,volume=100i,source="sim" <ms>`. */
export function barLine(bar: BarMessage, measurement = INFLUX_MEASUREMENT): string {
  // Tags are the warehouse's key (with the time), so a bar sent again overwrites its point.
  const tags = `symbol=${escapeTag(bar.symbol)},interval=${escapeTag(bar.interval)}`;
  const fields = [
    `open=${float(bar.open)}`,
    `high=${float(bar.high)}`,
    `low=${float(bar.low)}`,
    `close=${float(bar.close)}`,
    `volume=${Math.round(bar.volume)}i`,
    `source="${bar.source.replace(/["\\]/g, (c) => `\\${c}`)}"`,
  ].join(',');
  const ms = Date.parse(bar.ts);
  if (Number.isNaN(ms)) throw new Error(`bar ${bar.symbol} has an unreadable ts ${JSON.stringify(bar.ts)}`);
  return `${escapeMeasurement(measurement)},${tags} ${fields} ${ms}`;
}

/** InfluxDB's `/ping`: resolves with the server's version when it answers 204, else rejects saying what came back. */
export async function influxPing(url: string, timeoutMs = 5000): Promise<string> {
  const ping = `${url.replace(/\/+$/, '')}/ping`;
  const res = await fetch(ping, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 204) throw new Error(`${ping} answered ${res.status}`);
  return res.headers.get('x-influxdb-version') ?? 'unknown version';
}

/**
 * InfluxDB 1.x over its HTTP API (`/write`, `/query`). The database is created on first use
 * (CREATE DATABASE is idempotent). Writes go in chunks of `batchLines` lines.
 */
export function createInfluxLiveView(opts: {
  url: string;
  database: string;
  measurement?: string;
  batchLines?: number;
  timeoutMs?: number;
}): LiveView {
  const base = opts.url.replace(/\/+$/, '');
  const timeout = opts.timeoutMs ?? 10_000;
  let ready: Promise<void> | undefined;
  const call = async (path: string, body: string, what: string) => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method: 'POST', body, signal: AbortSignal.timeout(timeout) });
    } catch (e) {
      throw new Error(`InfluxDB at ${base}: ${what} failed: ${(e as Error).message}`, { cause: e });
    }
    if (!res.ok)
      throw new Error(`InfluxDB at ${base}: ${what} answered ${res.status}: ${(await res.text()).trim()}`);
  };
  const ensureDatabase = () =>
    (ready ??= call(
      `/query?q=${encodeURIComponent(`CREATE DATABASE "${opts.database.replace(/"/g, '\\"')}"`)}`,
      '',
      `creating database ${opts.database}`,
    ).catch((e: unknown) => {
      ready = undefined; // try again on the next write
      throw e;
    }));
  return {
    async write(bars) {
      if (bars.length === 0) return;
      await ensureDatabase();
      const size = opts.batchLines ?? 5000;
      for (let i = 0; i < bars.length; i += size) {
        const lines = bars.slice(i, i + size).map((b) => barLine(b, opts.measurement));
        await call(
          `/write?db=${encodeURIComponent(opts.database)}&precision=ms`,
          lines.join('\n'),
          `writing ${lines.length} bars to ${opts.database}`,
        );
      }
    },
  };
}
