import type { BarMessage } from '../bus/message.js';
import { checkObjectKey, priceKey } from '../lake/keys.js';
import { getText, type ObjectStore } from '../lake/types.js';
import { cairoClock, cairoMidnight } from '../market/calendar.js';
import { assertSymbols } from '../market/symbol.js';
import { parseBusinessDate } from '../util/dates.js';
import { SIMULATED_TICKERS } from './simulator.js';
import type { MarketSource } from './types.js';

/** Daily bars as a plain OHLCV history file (`Date,Open,High,Low,Close,Volume`, dates in Cairo time). */
export function dailyBarsCsv(bars: BarMessage[]): string {
  const lines = ['Date,Open,High,Low,Close,Volume'];
  for (const b of bars)
    lines.push(`${cairoClock(new Date(b.ts)).date},${b.open},${b.high},${b.low},${b.close},${b.volume}`);
  return lines.join('\n') + '\n';
}

/**
 * Writes each symbol's daily bars for the Cairo dates from..to (inclusive) from a market source
 * as one history file at `keyOf(symbol)`, for the batch loader to pick up. Symbols without a
 * single bar in the range get no file. Every symbol is checked by the ticker schema and both
 * dates as business dates before anything is fetched or written (SymbolInvalidError,
 * BusinessDateInvalidError), and every key by checkObjectKey.
 */
export async function writeDailyHistory(opts: {
  source: MarketSource;
  store: ObjectStore;
  symbols: string[];
  from: string;
  to: string;
  keyOf: (symbol: string) => string;
  onSymbol?: (done: number, bars: number) => void;
}): Promise<{ keys: string[]; bars: number }> {
  assertSymbols(opts.symbols);
  parseBusinessDate(opts.from, 'from');
  parseBusinessDate(opts.to, 'to');
  const keys: string[] = [];
  let bars = 0;
  let done = 0;
  for (const symbol of opts.symbols) {
    const got = await opts.source.fetchBars({
      symbols: [symbol],
      interval: '1d',
      from: cairoMidnight(opts.from),
      to: cairoMidnight(opts.to, 1),
    });
    if (got.length > 0) {
      const key = checkObjectKey(opts.keyOf(symbol));
      await opts.store.put(key, dailyBarsCsv(got), { contentType: 'text/csv' });
      keys.push(key);
      bars += got.length;
    }
    opts.onSymbol?.(++done, bars);
  }
  return { keys, bars };
}

/** Sectors for the simulated tickers, so the demo's company dimension reads like the real one. */
const DEMO_SECTORS: Record<string, string> = {
  COMI: 'Banks',
  ETEL: 'Telecommunications',
  SWDY: 'Industrial Goods',
  HRHO: 'Non-bank Financial Services',
  TMGH: 'Real Estate',
  EAST: 'Food, Beverages and Tobacco',
  ABUK: 'Basic Resources',
  EFIH: 'Non-bank Financial Services',
  FWRY: 'IT, Media and Communication',
  ORAS: 'Contracting and Construction',
  JUFO: 'Food, Beverages and Tobacco',
  AMOC: 'Energy',
  ESRS: 'Basic Resources',
  PHDC: 'Real Estate',
  EKHO: 'Basic Resources',
};

/** Marks a store whose batch history is synthetic, with the range written; batch loads ignore it (not a .csv). */
export const SYNTHETIC_MARKER = 'batch/SYNTHETIC-HISTORY.json';

export interface SyntheticHistory {
  from: string;
  to: string;
  symbols: string[];
}

/**
 * A synthetic batch history, so a first run has something to load and show: daily bars per symbol
 * for the Cairo dates from..to, a company list and an EGX30 constituents file, all in the batch
 * layout (`batch/prices/`, `batch/companies/`, `batch/indices/`), plus a marker saying so.
 * Writing it again over a longer range rewrites the same files; the loader upserts them.
 */
export async function seedSyntheticHistory(opts: {
  source: MarketSource;
  store: ObjectStore;
  symbols: string[];
  from: string;
  to: string;
}): Promise<{ files: number; bars: number }> {
  const prices = await writeDailyHistory({ ...opts, keyOf: priceKey });
  const companies = ['Symbol,Company Name,Sector,Exchange'];
  for (const s of opts.symbols)
    companies.push(`${s},${s} (simulated),${DEMO_SECTORS[s] ?? 'Unclassified'},EGX`);
  await opts.store.put('batch/companies/companies.csv', companies.join('\n') + '\n');
  const members = opts.symbols.filter((s) => s in SIMULATED_TICKERS);
  const weight = (100 / Math.max(1, members.length)).toFixed(2);
  await opts.store.put(
    'batch/indices/EGX30_constituents.csv',
    ['Symbol,Weight,As_Of', ...members.map((s) => `${s},${weight},${opts.from}`)].join('\n') + '\n',
  );
  const marker: SyntheticHistory & { note: string } = {
    note: 'The batch files here are SYNTHETIC (market simulator), written by the main command for a first run.',
    from: opts.from,
    to: opts.to,
    symbols: opts.symbols,
  };
  await opts.store.put(SYNTHETIC_MARKER, JSON.stringify(marker, null, 2) + '\n');
  return { files: prices.keys.length + 2, bars: prices.bars };
}

/** What the store's batch history is: none yet, the synthetic one (with its range), or real files. */
export async function batchHistoryKind(
  store: ObjectStore,
): Promise<{ kind: 'empty' } | { kind: 'real' } | ({ kind: 'synthetic' } & SyntheticHistory)> {
  if (await store.head(SYNTHETIC_MARKER))
    return { kind: 'synthetic', ...(JSON.parse(await getText(store, SYNTHETIC_MARKER)) as SyntheticHistory) };
  for await (const _ of store.list('batch/')) return { kind: 'real' };
  return { kind: 'empty' };
}
