import { createInterface } from 'node:readline';
import { decodeBar, type BarMessage, type Interval } from '../bus/message.js';
import { readDailyBars, symbolFromKey } from '../ingest/daily-bars.js';
import { FileUnreadableError } from '../ingest/records.js';
import { decodeText } from '../ingest/text-stream.js';
import type { ObjectStore } from '../lake/types.js';
import { cairoMidnight } from '../market/calendar.js';
import type { MarketSource, Quote } from './types.js';

export interface ReplayOptions {
  /** Where the recorded bars are: a folder (as a local object store) or a bucket. */
  store: ObjectStore;
  /** Key prefix to replay, e.g. `streaming/date=2025-11-30/` or `batch/prices/`. */
  prefix: string;
  /** Recorded time passing per unit of replay time (default 1: real time; 12: a 5-minute poll covers an hour). */
  speed?: number;
  /** The recorded instant the replay starts at (default: the earliest recorded bar). */
  recordedStart?: Date;
  /** The replay instant that plays `recordedStart` (default: when the source is first used). */
  startedAt?: Date;
  now?: () => Date;
}

/** A line or row that could not be replayed: where and why. */
export interface ReplayReject {
  key: string;
  line: number;
  reason: string;
}

/**
 * Replays recorded bars as a market source: NDJSON bar files in the bus format (the streaming
 * archive itself, legacy messages included) and daily price files in any batch format
 * (`<SYMBOL>.csv`, as daily bars at Cairo midnight). A poll for [from, to) of replay time gets the
 * recorded bars of the matching stretch of recorded time, `speed` times as long, with their
 * recorded timestamps. Lines that do not decode are listed in `rejected`, with file, line and
 * reason, never silently dropped.
 */
export class ReplaySource implements MarketSource {
  readonly name = 'replay';
  readonly rejected: ReplayReject[] = [];
  private bars?: Promise<BarMessage[]>;
  private clock?: { recorded: number; replay: number };

  constructor(private readonly o: ReplayOptions) {}

  private load(): Promise<BarMessage[]> {
    this.bars ??= (async () => {
      const out: BarMessage[] = [];
      for await (const obj of this.o.store.list(this.o.prefix)) {
        if (/\.ndjson$/i.test(obj.key)) out.push(...(await this.readNdjson(obj.key)));
        else if (/\.csv$/i.test(obj.key)) out.push(...(await this.readDailyCsv(obj.key)));
      }
      if (out.length === 0) {
        throw new Error(
          `replay: no bars under ${this.o.store.location}/${this.o.prefix} (.ndjson bar files or daily .csv files)`,
        );
      }
      // One bar per (symbol, interval, ts): the archive may hold a bar twice after a re-delivery.
      const unique = new Map(out.map((b) => [`${b.symbol}|${b.interval}|${b.ts}`, b]));
      return [...unique.values()].sort(
        (a, b) => a.ts.localeCompare(b.ts) || a.symbol.localeCompare(b.symbol),
      );
    })();
    return this.bars;
  }

  private async readNdjson(key: string): Promise<BarMessage[]> {
    const out: BarMessage[] = [];
    let line = 0;
    const lines = createInterface({ input: await this.o.store.get(key), crlfDelay: Infinity });
    for await (const text of lines) {
      line++;
      if (!text.trim()) continue;
      // The archive adds the message offset to each bar; it is not part of the bus format.
      let value = text;
      try {
        const bar = JSON.parse(text) as Record<string, unknown>;
        delete bar.offset;
        value = JSON.stringify(bar);
      } catch {
        // decodeBar reports it.
      }
      const d = decodeBar(value);
      if (d.ok) out.push(d.bar);
      else this.rejected.push({ key, line, reason: d.reason });
    }
    return out;
  }

  private async readDailyCsv(key: string): Promise<BarMessage[]> {
    const out: BarMessage[] = [];
    let symbol: string;
    try {
      symbol = symbolFromKey(key);
    } catch (e) {
      // A file whose name is not a ticker is listed, once, with why; the rest still replays.
      if (!(e instanceof FileUnreadableError)) throw e;
      this.rejected.push({ key, line: 0, reason: e.message });
      return out;
    }
    const reader = await readDailyBars(decodeText(await this.o.store.get(key)), { file: key, symbol });
    for await (const row of reader.rows) {
      if (!row.ok) {
        this.rejected.push({ key, line: row.line, reason: row.reason });
        continue;
      }
      const b = row.bar;
      const ts = cairoMidnight(b.tradeDate).toISOString();
      const bar = decodeBar(
        JSON.stringify({
          schema: 1,
          symbol: b.symbol,
          exchange: 'EGX',
          interval: '1d',
          ts,
          open: b.open ?? b.close,
          high: b.high,
          low: b.low,
          close: b.close,
          volume: b.volume ?? 0,
          source: 'replay',
          ingested_at: ts,
        }),
      );
      if (bar.ok) out.push(bar.bar);
      else this.rejected.push({ key, line: row.line, reason: bar.reason });
    }
    return out;
  }

  /** The recorded instant a replay instant plays. */
  private async recordedAt(t: Date): Promise<number> {
    if (!this.clock) {
      const bars = await this.load();
      this.clock = {
        recorded: this.o.recordedStart?.getTime() ?? Date.parse(bars[0]!.ts),
        replay: this.o.startedAt?.getTime() ?? (this.o.now ?? (() => new Date()))().getTime(),
      };
    }
    return this.clock.recorded + (t.getTime() - this.clock.replay) * (this.o.speed ?? 1);
  }

  async fetchBars(req: {
    symbols: string[];
    interval: Interval;
    from: Date;
    to: Date;
  }): Promise<BarMessage[]> {
    const bars = await this.load();
    const [from, to] = [await this.recordedAt(req.from), await this.recordedAt(req.to)];
    const symbols = new Set(req.symbols);
    return bars.filter((b) => {
      const t = Date.parse(b.ts);
      return b.interval === req.interval && symbols.has(b.symbol) && t >= from && t < to;
    });
  }

  /** The last recorded close at or before the replay clock's present. */
  async latestQuote(symbol: string): Promise<Quote> {
    const bars = await this.load();
    const now = await this.recordedAt((this.o.now ?? (() => new Date()))());
    const mine = bars.filter((b) => b.symbol === symbol && Date.parse(b.ts) <= now);
    const last = mine.at(-1);
    if (!last) throw new Error(`replay: no recorded bar for ${symbol} before ${new Date(now).toISOString()}`);
    return { symbol, price: last.close, change: null, changePct: null, volume: last.volume, at: last.ts };
  }
}
