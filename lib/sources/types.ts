import type { BarMessage, Interval } from '../bus/message.js';

/** The latest trade of a symbol. */
export interface Quote {
  symbol: string;
  price: number;
  change: number | null;
  changePct: number | null;
  volume: number | null;
  /** When the price was traded (ISO-8601 UTC). */
  at: string;
}

/** Where market bars come from: the simulator (default), TradingView, or a replay of files. */
export interface MarketSource {
  readonly name: string;
  /** Bars whose open lies in [from, to), for each symbol, oldest first. */
  fetchBars(req: { symbols: string[]; interval: Interval; from: Date; to: Date }): Promise<BarMessage[]>;
  /** The latest price of a symbol. */
  latestQuote(symbol: string): Promise<Quote>;
}
