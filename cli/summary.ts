import type { Warehouse } from '../lib/warehouse/types.js';

export interface Mover {
  type: 'GAINER' | 'LOSER';
  symbol: string;
  tradeDate: string;
  close: number;
  changePct: number;
}

/** The latest trading day's biggest gainers and losers, from the gold layer. */
export async function topMovers(warehouse: Warehouse): Promise<Mover[]> {
  const [view] = await warehouse.query<{ N: number }>(
    "SELECT COUNT(*) AS N FROM information_schema.tables WHERE UPPER(table_schema) = 'GOLD' AND UPPER(table_name) = 'VW_TOP_GAINERS_LOSERS'",
  );
  // Not built yet in this warehouse: no movers.
  if (!Number(view?.N)) return [];
  const rows = await warehouse.query<{
    MOVER_TYPE: Mover['type'];
    SYMBOL: string;
    TRADE_DATE: string;
    CLOSE_PRICE: number;
    CHANGE_PCT: number;
  }>(
    `SELECT mover_type AS MOVER_TYPE, symbol AS SYMBOL, CAST(trade_date AS VARCHAR) AS TRADE_DATE,
            close_price AS CLOSE_PRICE, price_change_pct AS CHANGE_PCT
     FROM GOLD.vw_top_gainers_losers ORDER BY mover_type, mover_rank`,
  );
  return rows.map((r) => ({
    type: r.MOVER_TYPE,
    symbol: r.SYMBOL,
    tradeDate: r.TRADE_DATE,
    close: Number(r.CLOSE_PRICE),
    changePct: Number(r.CHANGE_PCT),
  }));
}

export function formatMovers(movers: Mover[]): string {
  if (movers.length === 0) return 'top movers: none yet (no two trading days of prices in gold)';
  const line = (m: Mover) =>
    `  ${m.symbol.padEnd(6)} ${m.close.toFixed(2).padStart(9)}  ${m.changePct > 0 ? '+' : ''}${m.changePct.toFixed(2)}%`;
  const gainers = movers.filter((m) => m.type === 'GAINER');
  const losers = movers.filter((m) => m.type === 'LOSER');
  return [
    `top movers on ${movers[0]!.tradeDate} (gold_fct_stock_daily_prices):`,
    ...(gainers.length ? [' gainers', ...gainers.map(line)] : []),
    ...(losers.length ? [' losers', ...losers.map(line)] : []),
  ].join('\n');
}
