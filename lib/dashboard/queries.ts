import type { Warehouse } from '../warehouse/types.js';
import {
  dateText,
  iso,
  num,
  text,
  type IntradayBar,
  type IntradayQuote,
  type IntradaySource,
} from './intraday.js';

/** One row of the dashboard's table. */
export interface QuoteRow {
  symbol: string;
  /** The last price: the latest streamed bar's close when its session is newer than gold, else gold's close. */
  price?: number;
  /** The close the change is measured against: the trading day before the price's. */
  prevClose?: number;
  changePct?: number;
  /** The day's volume so far (streamed bars) or the day's (gold). */
  volume?: number;
  /** The day the price belongs to, and where it comes from. */
  tradeDate?: string;
  priceFrom?: 'intraday' | 'daily';
  /** Latest streamed bar: its open time, interval and source. */
  lastBarAt?: string;
  interval?: string;
  marketSource?: string;
  vwap?: number;
  /** RSI(14) of the latest gold day, and that day. */
  rsi14?: number;
  rsiDate?: string;
  /** Gold's signals of its latest day: trend (BULLISH…), volume (HIGH, LOW, NORMAL) and, when the mart has one, a moving-average cross. */
  signals: { trend?: string; volume?: string; cross?: string };
  /** Anomaly flags raised on the latest day by an anomaly mart in GOLD, when one exists. */
  anomalies: string[];
}

export interface DailyPoint {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Indicator columns (MA_7, MA_30, BB_UPPER_20, …) that are present and not null. */
  lines: Record<string, number>;
  /** True for today's candle rolled up from streamed bars, before gold has the day. */
  provisional?: boolean;
}

export interface ChartData {
  symbol: string;
  daily: DailyPoint[];
  /** Which indicator lines the daily points may carry. */
  lines: string[];
  intraday?: { tradeDate: string; interval: string; bars: IntradayBar[] };
}

/** Relation → column → type, for what GOLD holds now (models come and go with the transforms). */
export type GoldCatalog = Map<string, Map<string, string>>;

export const DAILY_MART = 'GOLD_FCT_STOCK_DAILY_PRICES';
/** Indicator lines the daily chart draws when the mart has them. */
export const CHART_LINES = ['MA_7', 'MA_30', 'MA_50', 'MA_200', 'BB_UPPER_20', 'BB_MIDDLE_20', 'BB_LOWER_20'];
/** How many trading days the daily chart shows (about a year). */
export const DAILY_DAYS = 260;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const minusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

export async function goldCatalog(wh: Warehouse): Promise<GoldCatalog> {
  const rows = await wh.query<{ T: string; C: string; D: string }>(
    `SELECT UPPER(table_name) AS T, UPPER(column_name) AS C, UPPER(data_type) AS D
     FROM information_schema.columns WHERE UPPER(table_schema) = 'GOLD'`,
  );
  const out: GoldCatalog = new Map();
  for (const r of rows) {
    let cols = out.get(r.T);
    if (!cols) out.set(r.T, (cols = new Map<string, string>()));
    cols.set(r.C, r.D);
  }
  return out;
}

interface GoldDay {
  symbol: string;
  date: string;
  close?: number;
  volume?: number;
  changePct?: number;
  rsi14?: number;
  trend?: string;
  volumeSignal?: string;
  cross?: string;
}

/** The two latest gold days of each symbol, newest first. */
async function goldLatest(
  wh: Warehouse,
  catalog: GoldCatalog,
  symbols: string[],
): Promise<Map<string, GoldDay[]>> {
  const cols = catalog.get(DAILY_MART);
  const out = new Map<string, GoldDay[]>();
  if (!cols || symbols.length === 0) return out;
  const [newest] = await wh.query<{ D: unknown }>(`SELECT MAX(trade_date) AS D FROM GOLD.${DAILY_MART}`);
  if (!newest?.D) return out;
  const opt = (name: string) => (cols.has(name) ? name : `NULL`);
  const rows = await wh.query(
    `SELECT SYMBOL, TRADE_DATE, CLOSE_PRICE, VOLUME, PRICE_CHANGE_PCT, RSI_14, TREND_SIGNAL, VOLUME_SIGNAL, CROSS_SIGNAL FROM (
       SELECT symbol AS SYMBOL, trade_date AS TRADE_DATE, close_price AS CLOSE_PRICE, volume AS VOLUME,
              ${opt('PRICE_CHANGE_PCT')} AS PRICE_CHANGE_PCT, ${opt('RSI_14')} AS RSI_14,
              ${opt('TREND_SIGNAL')} AS TREND_SIGNAL, ${opt('VOLUME_SIGNAL')} AS VOLUME_SIGNAL,
              ${opt('CROSS_SIGNAL')} AS CROSS_SIGNAL,
              ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date DESC) AS RN
       FROM GOLD.${DAILY_MART}
       WHERE trade_date >= ? AND symbol IN (${placeholders(symbols.length)})
     ) t WHERE RN <= 2 ORDER BY SYMBOL, TRADE_DATE DESC`,
    // A symbol that stopped trading over a month before the newest day is shown without gold figures.
    [minusDays(dateText(newest.D), 45), ...symbols],
  );
  for (const r of rows) {
    const day: GoldDay = {
      symbol: String(r.SYMBOL),
      date: dateText(r.TRADE_DATE),
      close: num(r.CLOSE_PRICE),
      volume: num(r.VOLUME),
      changePct: num(r.PRICE_CHANGE_PCT),
      rsi14: num(r.RSI_14),
      trend: text(r.TREND_SIGNAL),
      volumeSignal: text(r.VOLUME_SIGNAL),
      cross: text(r.CROSS_SIGNAL),
    };
    const list = out.get(day.symbol) ?? [];
    list.push(day);
    out.set(day.symbol, list);
  }
  return out;
}

const FLAG_NAME = /^IS_|_FLAG$|_ANOMALY$/;
const humanize = (column: string) =>
  column
    .replace(/^IS_/, '')
    .replace(/_(FLAG|ANOMALY)$/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
const raised = (v: unknown) =>
  v === true || v === 1 || (typeof v === 'string' && /^(true|yes|y|1|high|low|spike|outlier)$/i.test(v));

/**
 * Flags raised on each symbol's latest day by the anomaly marts GOLD holds (any relation whose name
 * has ANOMAL in it, with SYMBOL and TRADE_DATE): its boolean columns and columns named IS_…, …_FLAG
 * or …_ANOMALY. None yet: an empty map, and the page says there is no anomaly mart.
 */
async function anomalyFlags(
  wh: Warehouse,
  catalog: GoldCatalog,
  symbols: string[],
): Promise<{ marts: string[]; flags: Map<string, string[]> }> {
  const flags = new Map<string, string[]>();
  const marts: string[] = [];
  for (const [table, cols] of catalog) {
    if (!table.includes('ANOMAL') || !cols.has('SYMBOL') || !cols.has('TRADE_DATE')) continue;
    const flagCols = [...cols].filter(([c, t]) => t === 'BOOLEAN' || FLAG_NAME.test(c)).map(([c]) => c);
    if (flagCols.length === 0 || symbols.length === 0) continue;
    marts.push(`GOLD.${table}`);
    const rows = await wh.query(
      `SELECT * FROM (
         SELECT symbol AS SYMBOL, ${flagCols.map((c) => `${c} AS ${c}`).join(', ')},
                ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date DESC) AS RN
         FROM GOLD.${table} WHERE symbol IN (${placeholders(symbols.length)})
       ) t WHERE RN = 1`,
      symbols,
    );
    for (const r of rows) {
      const list = flags.get(String(r.SYMBOL)) ?? [];
      for (const c of flagCols) if (raised(r[c])) list.push(humanize(c));
      flags.set(String(r.SYMBOL), list);
    }
  }
  return { marts, flags };
}

/**
 * The table: per tracked symbol, the last price (the latest streamed bar when its session is newer
 * than gold's last day, else gold's close), the change against the previous trading day's close,
 * the day's volume, gold's RSI and signals, and anomaly flags where a mart has them.
 */
export async function quoteRows(
  wh: Warehouse,
  symbols: string[],
  intraday: IntradaySource,
): Promise<{ rows: QuoteRow[]; anomalyMarts: string[]; goldDate?: string }> {
  const catalog = await goldCatalog(wh);
  const [gold, live, anomalies] = await Promise.all([
    goldLatest(wh, catalog, symbols),
    intraday.latest(wh, symbols),
    anomalyFlags(wh, catalog, symbols),
  ]);
  const bySymbol = new Map(live.map((q) => [q.symbol, q]));
  let goldDate: string | undefined;
  const rows = symbols.map((symbol): QuoteRow => {
    const days = gold.get(symbol) ?? [];
    const [g0, g1] = days;
    if (g0 && (!goldDate || g0.date > goldDate)) goldDate = g0.date;
    const q: IntradayQuote | undefined = bySymbol.get(symbol);
    const row: QuoteRow = {
      symbol,
      rsi14: g0?.rsi14,
      rsiDate: g0?.date,
      signals: { trend: g0?.trend, volume: g0?.volumeSignal, cross: g0?.cross },
      anomalies: anomalies.flags.get(symbol) ?? [],
      lastBarAt: q?.lastBarAt,
      interval: q?.interval,
      marketSource: q?.marketSource,
      vwap: q?.vwap,
    };
    if (q && (!g0 || q.tradeDate >= g0.date)) {
      // The streamed session is the newest day: compare with the close of the trading day before it.
      const prev = g0 && g0.date < q.tradeDate ? g0 : g1;
      Object.assign(row, {
        price: q.last,
        prevClose: prev?.close,
        volume: q.volume,
        tradeDate: q.tradeDate,
        priceFrom: 'intraday',
      });
    } else if (g0) {
      Object.assign(row, {
        price: g0.close,
        prevClose: g1?.close,
        volume: g0.volume,
        tradeDate: g0.date,
        priceFrom: 'daily',
      });
    }
    if (row.price !== undefined && row.prevClose)
      row.changePct = ((row.price - row.prevClose) / row.prevClose) * 100;
    else if (row.priceFrom === 'daily') row.changePct = g0?.changePct;
    return row;
  });
  return { rows, anomalyMarts: anomalies.marts, goldDate };
}

/**
 * A symbol's charts: about a year of daily candles from gold with the indicator lines it has
 * (moving averages, Bollinger bands), today's candle from the streamed bars while gold does not
 * have the day yet, and the latest streamed session's intraday bars.
 */
export async function chartData(wh: Warehouse, symbol: string, intraday: IntradaySource): Promise<ChartData> {
  const catalog = await goldCatalog(wh);
  const cols = catalog.get(DAILY_MART);
  const lines = CHART_LINES.filter((l) => cols?.has(l));
  const daily: DailyPoint[] = [];
  if (cols) {
    const rows = await wh.query(
      `SELECT trade_date AS TRADE_DATE, open_price AS OPEN_PRICE, high_price AS HIGH_PRICE,
              low_price AS LOW_PRICE, close_price AS CLOSE_PRICE, volume AS VOLUME
              ${lines.map((l) => `, ${l} AS ${l}`).join('')}
       FROM GOLD.${DAILY_MART} WHERE symbol = ? ORDER BY trade_date DESC LIMIT ${DAILY_DAYS}`,
      [symbol],
    );
    for (const r of rows.reverse()) {
      const values: Record<string, number> = {};
      for (const l of lines) {
        const v = num(r[l]);
        if (v !== undefined) values[l] = v;
      }
      const close = num(r.CLOSE_PRICE);
      if (close === undefined) continue;
      daily.push({
        date: dateText(r.TRADE_DATE),
        open: num(r.OPEN_PRICE) ?? close,
        high: num(r.HIGH_PRICE) ?? close,
        low: num(r.LOW_PRICE) ?? close,
        close,
        volume: num(r.VOLUME) ?? 0,
        lines: values,
      });
    }
  }
  const session = await intraday.bars(wh, symbol);
  const lastDaily = daily.at(-1)?.date;
  if (session && session.bars.length > 0 && (!lastDaily || session.tradeDate > lastDaily)) {
    const b = session.bars;
    daily.push({
      date: session.tradeDate,
      open: b[0]!.open,
      high: Math.max(...b.map((x) => x.high)),
      low: Math.min(...b.map((x) => x.low)),
      close: b.at(-1)!.close,
      volume: b.reduce((s, x) => s + x.volume, 0),
      lines: {},
      provisional: true,
    });
  }
  return { symbol, daily, lines, intraday: session };
}

/** A value that changes when new bars land or the models are rebuilt: the page refreshes then. */
export async function dataMark(wh: Warehouse, intraday: IntradaySource): Promise<string> {
  const [bars, [built]] = await Promise.all([
    intraday.mark(wh),
    wh.query('SELECT MAX(BUILT_AT) AS BUILT_AT FROM META.MODEL_RUNS'),
  ]);
  return `${bars}|${iso(built?.BUILT_AT) ?? '-'}`;
}
