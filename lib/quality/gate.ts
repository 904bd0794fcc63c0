import { closedReason, egxCalendar, type MarketCalendar } from '../market/calendar.js';
import type { Warehouse } from '../warehouse/types.js';

export interface QualityCheckResult {
  name: string;
  passed: boolean;
  failingRows: number;
  checkedRows: number;
  detail: string;
}

export interface GateOptions {
  /** The business date being processed ('YYYY-MM-DD'). */
  businessDate: string;
  /**
   * The newest price on or before the business date must be at most this many EGX trading days
   * older than it (weekends and holidays do not count).
   */
  freshnessDays: number;
  /** Trading days and holidays (default: the EGX calendar). */
  calendar?: MarketCalendar;
}

/**
 * The trading day `n` trading days before `date` ('YYYY-MM-DD'), counting only days the exchange
 * was open; `date` itself for n = 0. The oldest date a price may have to count as fresh.
 */
export function tradingDaysBefore(date: string, n: number, cal: MarketCalendar = egxCalendar()): string {
  let t = Date.parse(`${date}T00:00:00Z`);
  for (let left = n; left > 0;) {
    t -= 86_400_000;
    if (!closedReason(new Date(t).toISOString().slice(0, 10), cal)) left--;
  }
  return new Date(t).toISOString().slice(0, 10);
}

interface CheckDef {
  name: string;
  /** SQL returning one row: FAILING, CHECKED (and optional DETAIL). */
  sql: (o: GateOptions) => { text: string; params: (string | number)[] };
  describe: (failing: number, checked: number, o: GateOptions, detail: string | null) => string;
}

const CHECKS: CheckDef[] = [
  {
    name: 'no_duplicate_companies',
    sql: () => ({
      text: 'SELECT COUNT(*) - COUNT(DISTINCT SYMBOL) AS FAILING, COUNT(*) AS CHECKED FROM OPERATIONAL.TBL_COMPANY',
      params: [],
    }),
    describe: (f, c) => `${f} duplicate symbol rows among ${c} companies`,
  },
  {
    name: 'no_duplicate_prices',
    sql: () => ({
      text:
        'SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT SYMBOL, TRADE_DATE, DATA_SOURCE FROM OPERATIONAL.TBL_STOCK_PRICE) d) AS FAILING, ' +
        'COUNT(*) AS CHECKED FROM OPERATIONAL.TBL_STOCK_PRICE',
      params: [],
    }),
    describe: (f, c) => `${f} duplicate (symbol, trade date, source) rows among ${c} prices`,
  },
  {
    name: 'valid_price_ranges',
    sql: () => ({
      text:
        'SELECT COUNT_IF(HIGH_PRICE < LOW_PRICE OR CLOSE_PRICE <= 0 OR LOW_PRICE < 0 OR VOLUME < 0) AS FAILING, COUNT(*) AS CHECKED ' +
        'FROM OPERATIONAL.TBL_STOCK_PRICE',
      params: [],
    }),
    describe: (f, c) => `${f} of ${c} prices have high < low, close <= 0 or negative values`,
  },
  {
    name: 'recent_data_present',
    // Prices after the business date do not count: a rerun of a past day checks that day's data.
    sql: (o) => ({
      text:
        'SELECT CASE WHEN MAX(TRADE_DATE) >= CAST(? AS DATE) THEN 0 ELSE 1 END AS FAILING, ' +
        'COUNT(*) AS CHECKED, CAST(MAX(TRADE_DATE) AS VARCHAR) AS DETAIL FROM OPERATIONAL.TBL_STOCK_PRICE ' +
        'WHERE TRADE_DATE <= CAST(? AS DATE)',
      // The cutoff is computed here: the calendar is data, and date arithmetic differs between warehouses.
      params: [tradingDaysBefore(o.businessDate, o.freshnessDays, o.calendar), o.businessDate],
    }),
    describe: (f, _c, o, newest) => {
      const cutoff = tradingDaysBefore(o.businessDate, o.freshnessDays, o.calendar);
      return f === 0
        ? `newest price on or before ${o.businessDate} is ${newest}, within ${o.freshnessDays} trading days (on or after ${cutoff})`
        : `newest price on or before ${o.businessDate} is ${newest ?? 'missing (no prices)'}, more than ${o.freshnessDays} trading days old (expected one on or after ${cutoff})`;
    },
  },
];

export const QUALITY_CHECKS = CHECKS.map((c) => c.name);

/** Runs the data-quality gate's checks; each result carries its counts and a sentence for people. */
export async function runQualityChecks(
  wh: Warehouse,
  o: GateOptions & { signal?: AbortSignal },
): Promise<QualityCheckResult[]> {
  const results: QualityCheckResult[] = [];
  for (const check of CHECKS) {
    const { text, params } = check.sql(o);
    const [row] = await wh.query<{ FAILING: number | null; CHECKED: number; DETAIL?: string | null }>(
      text,
      params,
      { signal: o.signal },
    );
    const failing = Number(row?.FAILING ?? 0);
    const checked = Number(row?.CHECKED ?? 0);
    results.push({
      name: check.name,
      passed: failing === 0,
      failingRows: failing,
      checkedRows: checked,
      detail: check.describe(failing, checked, o, row?.DETAIL ?? null),
    });
  }
  return results;
}

/** "valid_price_ranges: 3 of 1200 prices have …; recent_data_present: …" for the failed checks. */
export function describeFailures(results: QualityCheckResult[]): string {
  return results
    .filter((r) => !r.passed)
    .map((r) => `${r.name}: ${r.detail}`)
    .join('; ');
}
