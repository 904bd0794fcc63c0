import type { BarMessage, Interval } from '../bus/message.js';

/** Where market bars come from: the simulator (default), TradingView, or a replay of files. */
export interface MarketSource {
  readonly name: string;
  /** Bars whose open lies in [from, to), for each symbol, oldest first. */
  fetchBars(req: { symbols: string[]; interval: Interval; from: Date; to: Date }): Promise<BarMessage[]>;
}
