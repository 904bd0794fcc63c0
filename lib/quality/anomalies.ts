import type { Warehouse } from '../warehouse/types.js';

/** A tracked symbol's unusual day, from GOLD.gold_fct_stock_anomalies. */
export interface DayAnomaly {
  symbol: string;
  /** What is unusual: the return (|z| >= 3 against the previous 60 days), the volume (>= 3x the 20-day median). */
  kinds: ('return' | 'volume')[];
  /** The day's return in percent. */
  returnPct: number | null;
  returnZscore: number | null;
  volumeRatio: number | null;
  /** One line for summaries and alerts: "COMI: return +12.00% (z 8.1 against 60 days); volume 4.8x its 20-day median". */
  summary: string;
}

export interface DayAnomalies {
  /** The newest trading day on or before the business date in the mart; null when it has none. */
  tradeDate: string | null;
  anomalies: DayAnomaly[];
  /** One line for the daily batch's summary: "anomalies on 2026-01-13: COMI: …, ETEL: …" or "no anomalies …". */
  summary: string;
}

const MART = { schema: 'GOLD', name: 'gold_fct_stock_anomalies' };

/**
 * The anomalies among `symbols` on the newest trading day on or before `businessDate` (the day the
 * daily batch has just loaded). None when the mart is not built yet or no symbol is tracked.
 */
export async function findDayAnomalies(
  wh: Warehouse,
  input: { businessDate: string; symbols: string[] },
): Promise<DayAnomalies> {
  const none = (tradeDate: string | null, why: string): DayAnomalies => ({
    tradeDate,
    anomalies: [],
    summary: `no anomalies among tracked symbols ${why}`,
  });
  if (input.symbols.length === 0) return none(null, '(no symbol is tracked)');
  const [built] = await wh.query<{ N: number }>(
    'SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ?',
    [MART.schema, MART.name.toUpperCase()],
  );
  if (!Number(built?.N)) return none(null, `(${MART.name} is not built yet)`);
  const relation = `${MART.schema}.${MART.name}`;
  const tracked = input.symbols.map(() => '?').join(', ');
  const [day] = await wh.query<{ D: string | null }>(
    `SELECT CAST(MAX(trade_date) AS VARCHAR) AS D FROM ${relation} WHERE trade_date <= CAST(? AS DATE) AND symbol IN (${tracked})`,
    [input.businessDate, ...input.symbols],
  );
  const tradeDate = day?.D ? day.D.slice(0, 10) : null;
  if (!tradeDate) return none(null, `(no day on or before ${input.businessDate} in ${MART.name})`);
  const rows = await wh.query<{
    SYMBOL: string;
    RET: number | null;
    Z: number | null;
    RATIO: number | null;
    IS_RETURN: boolean;
    IS_VOLUME: boolean;
  }>(
    `SELECT symbol AS SYMBOL, daily_return * 100 AS RET, return_zscore AS Z, volume_ratio AS RATIO,
            is_return_anomaly AS IS_RETURN, is_volume_anomaly AS IS_VOLUME
     FROM ${relation}
     WHERE trade_date = CAST(? AS DATE) AND is_anomaly AND symbol IN (${tracked})
     ORDER BY symbol`,
    [tradeDate, ...input.symbols],
  );
  if (rows.length === 0) return none(tradeDate, `on ${tradeDate}`);
  const anomalies = rows.map((r) => {
    const a = {
      symbol: r.SYMBOL,
      kinds: [...(r.IS_RETURN ? (['return'] as const) : []), ...(r.IS_VOLUME ? (['volume'] as const) : [])],
      returnPct: r.RET === null ? null : Number(r.RET),
      returnZscore: r.Z === null ? null : Number(r.Z),
      volumeRatio: r.RATIO === null ? null : Number(r.RATIO),
    };
    return { ...a, summary: describeAnomaly(a) };
  });
  return {
    tradeDate,
    anomalies,
    summary: `anomalies on ${tradeDate}: ${anomalies.map((a) => a.summary).join(', ')}`,
  };
}

function describeAnomaly(a: Omit<DayAnomaly, 'summary'>): string {
  const parts: string[] = [];
  if (a.kinds.includes('return') && a.returnPct !== null && a.returnZscore !== null)
    parts.push(
      `return ${a.returnPct >= 0 ? '+' : ''}${a.returnPct.toFixed(2)}% (z ${a.returnZscore.toFixed(1)} against 60 days)`,
    );
  if (a.kinds.includes('volume') && a.volumeRatio !== null)
    parts.push(`volume ${a.volumeRatio.toFixed(1)}x its 20-day median`);
  return `${a.symbol}: ${parts.join('; ')}`;
}
