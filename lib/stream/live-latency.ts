/**
 * Bar close → visible in intraday gold: bookkeeping for `npm run bench:live`, which reads each
 * symbol's latest bar in gold_fct_live_quotes again and again while a session polls.
 */

export interface VisibilitySample {
  symbol: string;
  /** Bar open (epoch ms, market time). */
  barOpen: number;
  /** Seconds from the moment the bar's close was available (real time) to the read that first showed it. */
  latencySeconds: number;
}

/**
 * Turns successive reads of each symbol's latest bar into one sample per bar: when a symbol's
 * latest bar moves from t0 to t1, every bar opening in (t0, t1] on the interval grid became visible
 * at that read (a refresh that covered two polls shows both at once; the older one waited longer).
 * A symbol's first read counts its bars from `sessionOpen`.
 */
export class VisibilityTracker {
  private readonly latest = new Map<string, number>();

  constructor(
    private readonly opts: {
      sessionOpen: number;
      barMs: number;
      /** Real time (epoch ms) at which a bar closing at this market time could be fetched. */
      availableAt: (barCloseMs: number) => number;
    },
  ) {}

  /** One read at real time `now` of each symbol's latest bar open; returns the bars it shows for the first time. */
  observe(latestBars: Iterable<[string, number]>, now: number): VisibilitySample[] {
    const out: VisibilitySample[] = [];
    for (const [symbol, last] of latestBars) {
      const before = this.latest.get(symbol) ?? this.opts.sessionOpen - this.opts.barMs;
      if (last <= before) continue;
      this.latest.set(symbol, last);
      for (let open = before + this.opts.barMs; open <= last; open += this.opts.barMs) {
        const available = this.opts.availableAt(open + this.opts.barMs);
        out.push({ symbol, barOpen: open, latencySeconds: (now - available) / 1000 });
      }
    }
    return out;
  }

  /** The latest bar open seen of each symbol. */
  seen(symbol: string): number | undefined {
    return this.latest.get(symbol);
  }
}

/** The p-th percentile (0-100) of the values, nearest rank; undefined for none. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}
