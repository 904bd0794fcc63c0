import type { Warehouse } from '../warehouse/types.js';

/** A symbol's session so far: its latest bar and the day's figures up to it. */
export interface IntradayQuote {
  symbol: string;
  /** Cairo trading date of the session. */
  tradeDate: string;
  interval: string;
  /** Open time of the latest bar (ISO-8601 UTC). */
  lastBarAt: string;
  open: number;
  high: number;
  low: number;
  /** Close of the latest bar: the last price. */
  last: number;
  volume: number;
  bars: number;
  /** Volume-weighted average of the bars' typical prices. */
  vwap?: number;
  /** Where the bars came from (simulator, tradingview, replay…). */
  marketSource?: string;
}

export interface IntradayBar {
  /** Bar open, ISO-8601 UTC. */
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * Where the dashboard's intraday figures come from: the intraday gold mart the market session
 * refreshes after each poll (`liveGoldIntraday`, the default), or the streamed bars in
 * RAW.STREAM_BARS themselves (`streamBarsIntraday`). Same shapes, each its own SQL; `mark` tells the
 * page when to refresh.
 */
export interface IntradaySource {
  readonly name: string;
  /** Each symbol's latest session so far; symbols with nothing streamed are left out. */
  latest(wh: Warehouse, symbols: string[]): Promise<IntradayQuote[]>;
  /** A symbol's bars of one session (default: its latest), oldest first. */
  bars(
    wh: Warehouse,
    symbol: string,
    tradeDate?: string,
  ): Promise<{ tradeDate: string; interval: string; bars: IntradayBar[] } | undefined>;
  /** A value that changes whenever new intraday data is visible (cheap: read every second or two). */
  mark(wh: Warehouse): Promise<string>;
}

export const num = (v: unknown): number | undefined => {
  if (v === null || v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
};
/** A scalar from the warehouse as text (undefined for NULL). */
export const text = (v: unknown): string | undefined => {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
};
export const iso = (v: unknown): string | undefined => {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return v.toISOString();
  const s = text(v)!;
  // Timestamps without a zone are UTC in this warehouse.
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
};
export const dateText = (v: unknown): string => (text(v) ?? '').slice(0, 10);
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const minusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

/** The streamed intraday bars (RAW.STREAM_BARS, daily bars excluded), as the sinks write them after each poll. */
export const streamBarsIntraday: IntradaySource = {
  name: 'RAW.STREAM_BARS',

  async latest(wh, symbols) {
    if (symbols.length === 0) return [];
    const [newest] = await wh.query<{ D: unknown }>(
      "SELECT MAX(TRADE_DATE) AS D FROM RAW.STREAM_BARS WHERE BAR_INTERVAL <> '1d'",
    );
    if (!newest?.D) return [];
    // Sessions within ten days of the newest one: older ones are history, shown from gold.
    const since = minusDays(dateText(newest.D), 10);
    const rows = await wh.query(
      `WITH bars AS (
         SELECT SYMBOL, BAR_INTERVAL, TRADE_DATE, TS, OPEN_PRICE, HIGH_PRICE, LOW_PRICE, CLOSE_PRICE, VOLUME, MARKET_SOURCE
         FROM RAW.STREAM_BARS
         WHERE BAR_INTERVAL <> '1d' AND TRADE_DATE >= ? AND SYMBOL IN (${placeholders(symbols.length)})
       ),
       last_bar AS (
         SELECT * FROM (
           SELECT bars.*, ROW_NUMBER() OVER (PARTITION BY SYMBOL ORDER BY TS DESC, BAR_INTERVAL) AS RN FROM bars
         ) t WHERE RN = 1
       ),
       day AS (
         SELECT b.SYMBOL, b.TS, b.HIGH_PRICE, b.LOW_PRICE, b.CLOSE_PRICE, b.VOLUME,
                FIRST_VALUE(b.OPEN_PRICE) OVER (PARTITION BY b.SYMBOL ORDER BY b.TS) AS DAY_OPEN
         FROM bars b
         JOIN last_bar l ON b.SYMBOL = l.SYMBOL AND b.BAR_INTERVAL = l.BAR_INTERVAL AND b.TRADE_DATE = l.TRADE_DATE
       )
       SELECT l.SYMBOL AS SYMBOL, l.BAR_INTERVAL AS BAR_INTERVAL, l.TRADE_DATE AS TRADE_DATE, l.TS AS LAST_TS,
              l.CLOSE_PRICE AS LAST_PRICE, l.MARKET_SOURCE AS MARKET_SOURCE,
              MAX(d.DAY_OPEN) AS DAY_OPEN, MAX(d.HIGH_PRICE) AS HIGH_PRICE, MIN(d.LOW_PRICE) AS LOW_PRICE,
              SUM(d.VOLUME) AS VOLUME, COUNT(*) AS BARS,
              SUM(d.VOLUME * (d.HIGH_PRICE + d.LOW_PRICE + d.CLOSE_PRICE) / 3) / NULLIF(SUM(d.VOLUME), 0) AS VWAP
       FROM last_bar l JOIN day d ON d.SYMBOL = l.SYMBOL
       GROUP BY l.SYMBOL, l.BAR_INTERVAL, l.TRADE_DATE, l.TS, l.CLOSE_PRICE, l.MARKET_SOURCE`,
      [since, ...symbols],
    );
    return rows.map(quoteFromRow);
  },

  async bars(wh, symbol, tradeDate) {
    const [last] = await wh.query<{ TRADE_DATE: unknown; BAR_INTERVAL: string }>(
      `SELECT TRADE_DATE, BAR_INTERVAL FROM RAW.STREAM_BARS
       WHERE SYMBOL = ? AND BAR_INTERVAL <> '1d'${tradeDate ? ' AND TRADE_DATE = ?' : ''}
       ORDER BY TS DESC LIMIT 1`,
      tradeDate ? [symbol, tradeDate] : [symbol],
    );
    if (!last) return undefined;
    const date = dateText(last.TRADE_DATE);
    const rows = await wh.query(
      `SELECT TS, OPEN_PRICE, HIGH_PRICE, LOW_PRICE, CLOSE_PRICE, VOLUME FROM RAW.STREAM_BARS
       WHERE SYMBOL = ? AND TRADE_DATE = ? AND BAR_INTERVAL = ? ORDER BY TS`,
      [symbol, date, last.BAR_INTERVAL],
    );
    return {
      tradeDate: date,
      interval: last.BAR_INTERVAL,
      bars: rows.map((r) => ({
        time: iso(r.TS)!,
        open: num(r.OPEN_PRICE)!,
        high: num(r.HIGH_PRICE)!,
        low: num(r.LOW_PRICE)!,
        close: num(r.CLOSE_PRICE)!,
        volume: num(r.VOLUME) ?? 0,
      })),
    };
  },

  async mark(wh) {
    const [r] = await wh.query('SELECT MAX(LOADED_AT) AS LOADED_AT, COUNT(*) AS N FROM RAW.STREAM_BARS');
    return `${iso(r?.LOADED_AT) ?? '-'}/${num(r?.N) ?? 0}`;
  },
};

/**
 * The intraday gold mart, GOLD.gold_fct_live_quotes, which the market session refreshes after each
 * poll: each symbol's latest session as the mart has it (last price, day range, volume, VWAP).
 * Symbols the mart has no row for yet (before the first refresh, or before daily gold exists) come
 * from the streamed bars; charts and the mark are the streamed bars' (the dashboard's mark also
 * holds the newest model build, which each refresh moves on).
 */
export const liveGoldIntraday: IntradaySource = {
  name: 'GOLD.gold_fct_live_quotes',

  async latest(wh, symbols) {
    if (symbols.length === 0) return [];
    const [exists] = await wh.query<{ N: number }>(
      `SELECT COUNT(*) AS N FROM information_schema.tables
        WHERE UPPER(table_schema) = 'GOLD' AND UPPER(table_name) = 'GOLD_FCT_LIVE_QUOTES'`,
    );
    const rows = num(exists?.N)
      ? await wh.query(
          `SELECT * FROM (
             SELECT q.*, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date DESC) AS RN
             FROM GOLD.gold_fct_live_quotes q WHERE symbol IN (${placeholders(symbols.length)})
           ) t WHERE RN = 1`,
          symbols,
        )
      : [];
    const quotes: IntradayQuote[] = rows.map((r) =>
      quoteFromRow({ ...r, LAST_TS: r.LAST_BAR_TS, HIGH_PRICE: r.DAY_HIGH, LOW_PRICE: r.DAY_LOW }),
    );
    const have = new Set(quotes.map((q) => q.symbol));
    const rest = symbols.filter((s) => !have.has(s));
    return [...quotes, ...(rest.length ? await streamBarsIntraday.latest(wh, rest) : [])];
  },

  bars: (wh, symbol, tradeDate) => streamBarsIntraday.bars(wh, symbol, tradeDate),
  mark: (wh) => streamBarsIntraday.mark(wh),
};

/** A quote from a row with the streamed bars' column names (LAST_TS, DAY_OPEN, HIGH_PRICE, LOW_PRICE, …). */
function quoteFromRow(r: Record<string, unknown>): IntradayQuote {
  return {
    symbol: String(r.SYMBOL),
    tradeDate: dateText(r.TRADE_DATE),
    interval: String(r.BAR_INTERVAL),
    lastBarAt: iso(r.LAST_TS)!,
    open: num(r.DAY_OPEN)!,
    high: num(r.HIGH_PRICE)!,
    low: num(r.LOW_PRICE)!,
    last: num(r.LAST_PRICE)!,
    volume: num(r.VOLUME) ?? 0,
    bars: num(r.BARS) ?? 0,
    vwap: num(r.VWAP),
    marketSource: text(r.MARKET_SOURCE),
  };
}
