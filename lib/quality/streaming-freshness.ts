import { marketOpenDuring, type MarketCalendar } from '../market/calendar.js';
import type { Warehouse } from '../warehouse/types.js';

export interface StreamingFreshness {
  status: 'fresh' | 'stale' | 'market_closed';
  detail: string;
  newest?: string;
}

/**
 * Streamed bars must have arrived in the last `hours` before `asOf` — but only if the exchange was
 * open at some point in that window; otherwise there is nothing to expect.
 */
export async function checkStreamingFreshness(
  wh: Warehouse,
  cal: MarketCalendar,
  asOf: Date,
  hours: number,
): Promise<StreamingFreshness> {
  const from = new Date(asOf.getTime() - hours * 3_600_000);
  const window = `${from.toISOString()} – ${asOf.toISOString()}`;
  if (!marketOpenDuring(from, asOf, cal)) {
    return {
      status: 'market_closed',
      detail: `market closed throughout ${window}; no streamed data expected`,
    };
  }
  const [row] = await wh.query<{ NEWEST: string | null }>(
    "SELECT CAST(MAX(LOADED_AT) AS VARCHAR) AS NEWEST FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API' AND LOADED_AT >= CAST(? AS TIMESTAMP)",
    [from.toISOString().replace('T', ' ').replace('Z', '')],
  );
  return row?.NEWEST
    ? { status: 'fresh', newest: row.NEWEST, detail: `newest streamed bar loaded ${row.NEWEST} UTC` }
    : { status: 'stale', detail: `market was open during ${window} but no streamed bar arrived` };
}
