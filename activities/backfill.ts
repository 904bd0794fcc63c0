import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { loadFiles } from '../lib/ingest/load-many.js';
import { heartbeating } from './heartbeat.js';
import { activityMetrics, recordLoads } from './metrics.js';
import { backfillPriceKey } from '../lib/lake/keys.js';
import type { ObjectStore } from '../lib/lake/types.js';
import { assertSymbols, SymbolInvalidError } from '../lib/market/symbol.js';
import { BusinessDateInvalidError, parseBusinessDate } from '../lib/util/dates.js';
import { writeDailyHistory } from '../lib/sources/history-files.js';
import type { MarketSource } from '../lib/sources/types.js';
import type { Warehouse } from '../lib/warehouse/types.js';

export interface BackfillBarsInput {
  symbols: string[];
  /** Cairo dates, inclusive. */
  from: string;
  to: string;
}

export interface BackfillBarsResult {
  /** Daily bars loaded into the warehouse. */
  bars: number;
  symbols: number;
  /** Rows the loader quarantined (with file, line and reason under quarantine/). */
  quarantined: number;
}

/**
 * Where a backfill chunk's history files land: beside the other batch price files, one folder per
 * chunk. Checked: a symbol that is not a ticker or a date that is not a date throws, so no input
 * can produce a key outside `batch/prices/backfill/`.
 */
export const backfillKey = backfillPriceKey;

/** Bad tickers or dates in a chunk's input: no retry can fix them. */
function checkInput(input: BackfillBarsInput): void {
  try {
    assertSymbols(input.symbols);
    parseBusinessDate(input.from, 'from');
    parseBusinessDate(input.to, 'to');
  } catch (e) {
    if (e instanceof SymbolInvalidError || e instanceof BusinessDateInvalidError)
      throw ApplicationFailure.create({
        message: `backfill chunk: ${e.message}`,
        type: 'BadInput',
        nonRetryable: true,
        cause: e,
      });
    throw e;
  }
}

/**
 * The backfill's work for one chunk: daily bars from the market source are written as history
 * files in the batch layout, then loaded by the batch loader (bulk path, manifest, quarantine), so
 * a backfill lands exactly as a batch file would. Rerunning a chunk rewrites and upserts the same rows.
 */
export function createBackfillActivities(deps: {
  source: MarketSource;
  store: ObjectStore;
  warehouse: Warehouse;
}) {
  return {
    async backfillBars(input: BackfillBarsInput): Promise<BackfillBarsResult> {
      checkInput(input);
      const ctx = Context.current();
      // Heartbeats carry the latest step; cancelled, the chunk stops after the symbol or batch at hand.
      let progress: Record<string, unknown> = { step: 'fetch', symbols: 0, of: input.symbols.length };
      const results = await heartbeating(
        async (signal) => {
          const written = await writeDailyHistory({
            ...deps,
            ...input,
            keyOf: (symbol) => backfillKey(input.from, symbol),
            onSymbol: (done, bars) => {
              progress = { step: 'fetch', symbols: done, of: input.symbols.length, bars };
              signal.throwIfAborted();
            },
          });
          let files = 0;
          return loadFiles(deps, written.keys, {
            runId: `backfill-${input.from}`,
            force: true,
            onFile: () => (progress = { step: 'load', files: ++files, of: written.keys.length }),
            signal,
          });
        },
        { details: () => progress },
      );
      recordLoads(
        activityMetrics(() => ctx),
        results,
      );
      const failed = results.filter((r) => r.error);
      if (failed.length > 0)
        throw new Error(
          `backfill ${input.from}..${input.to}: ${failed.map((r) => `${r.key}: ${r.error}`).join('; ')}`,
        );
      return {
        bars: results.reduce((n, r) => n + r.rowsLoaded, 0),
        symbols: results.length,
        quarantined: results.reduce((n, r) => n + r.rowsQuarantined, 0),
      };
    },
  };
}

export type BackfillActivities = ReturnType<typeof createBackfillActivities>;
