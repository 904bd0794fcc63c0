import { getText, type ObjectStore } from '../lake/types.js';
import { STREAM_BARS } from '../warehouse/schema.js';
import type { Warehouse } from '../warehouse/types.js';

export interface ArchiveResult {
  cutoff: string;
  /** One object per calendar month of archived rows. */
  months: { month: string; key: string; rows: number }[];
  archived: number;
  deleted: number;
}

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** `archive/raw_stream_bars/month=YYYY-MM/<run-id>.ndjson`: a rerun of the same run rewrites the same objects. */
export function archiveKey(month: string, runId: string): string {
  return `archive/raw_stream_bars/month=${month}/${runId}.ndjson`;
}

/**
 * Moves streamed bars older than `cutoff` out of the warehouse: each month's rows are written to
 * the object store as NDJSON, read back and counted; only when every month checks out are the
 * rows deleted, and only those that were archived (rows rewritten since have a newer LOADED_AT
 * and stay). A failed write or a read-back that does not match deletes nothing.
 */
export async function archiveOldStreamBars(
  wh: Warehouse,
  store: ObjectStore,
  opts: { cutoff: Date; runId: string; signal?: AbortSignal },
): Promise<ArchiveResult> {
  const cutoff = ts(opts.cutoff);
  const statement = { signal: opts.signal }; // an abort interrupts the running statement; nothing after it runs
  const [snap] = await wh.query<{ N: number; AT: string | null }>(
    'SELECT COUNT(*) AS N, CAST(MAX(LOADED_AT) AS VARCHAR) AS AT FROM RAW.STREAM_BARS WHERE TS < CAST(? AS TIMESTAMP)',
    [cutoff],
    statement,
  );
  const result: ArchiveResult = { cutoff: opts.cutoff.toISOString(), months: [], archived: 0, deleted: 0 };
  if (!snap?.N || !snap.AT) return result;
  const snapshot = snap.AT;
  const columns = STREAM_BARS.columns.map((c) => c.name);
  const select = (where: string) =>
    `SELECT ${columns.map((c) => (c === 'TS' || c === 'INGESTED_AT' || c === 'LOADED_AT' || c === 'TRADE_DATE' ? `CAST(${c} AS VARCHAR) AS ${c}` : c)).join(', ')}
       FROM RAW.STREAM_BARS WHERE ${where} ORDER BY TS, SYMBOL, BAR_INTERVAL`;
  const months = await wh.query<{ M: string }>(
    `SELECT DISTINCT SUBSTR(CAST(TS AS VARCHAR), 1, 7) AS M FROM RAW.STREAM_BARS
      WHERE TS < CAST(? AS TIMESTAMP) AND LOADED_AT <= CAST(? AS TIMESTAMP) ORDER BY M`,
    [cutoff, snapshot],
    statement,
  );

  // 1. Archive and verify every month.
  for (const { M: month } of months) {
    const where = `SUBSTR(CAST(TS AS VARCHAR), 1, 7) = ? AND TS < CAST(? AS TIMESTAMP) AND LOADED_AT <= CAST(? AS TIMESTAMP)`;
    const rows = await wh.query(select(where), [month, cutoff, snapshot], statement);
    const body = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const key = archiveKey(month, opts.runId);
    await store.put(key, body, { contentType: 'application/x-ndjson' });
    const back = await getText(store, key);
    const lines = back.split('\n').filter((l) => l.length > 0);
    if (back !== body || lines.length !== rows.length) {
      throw new Error(
        `archive of ${month} at ${store.location}/${key} did not read back as written (${lines.length} of ${rows.length} rows); nothing was deleted`,
      );
    }
    result.months.push({ month, key, rows: rows.length });
    result.archived += rows.length;
  }

  // 2. Only now delete what was archived.
  const [before] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS', [], statement);
  await wh.execute(
    'DELETE FROM RAW.STREAM_BARS WHERE TS < CAST(? AS TIMESTAMP) AND LOADED_AT <= CAST(? AS TIMESTAMP)',
    [cutoff, snapshot],
    statement,
  );
  const [after] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS');
  result.deleted = (before?.N ?? 0) - (after?.N ?? 0);
  return result;
}
