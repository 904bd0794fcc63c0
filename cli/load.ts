import { openObjectStore, openWarehouse } from '../lib/adapters.js';
import type { AppConfig } from '../lib/config.js';
import type { FileLoadResult } from '../lib/ingest/load-file.js';
import { loadFiles } from '../lib/ingest/load-many.js';
import { summarize, type LoadSummary } from '../lib/ingest/load-summary.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { resolveTarget } from './upload.js';

export interface LoadRun {
  runId: string;
  summary: LoadSummary;
  results: FileLoadResult[];
  seconds: number;
}

/**
 * Thrown when the warehouse cannot be opened because another process holds it: a DuckDB file
 * takes one writing process, and a running worker keeps it open. Names the file and the holder.
 */
export class WarehouseHeldError extends Error {
  constructor(
    readonly path: string,
    readonly holder: { program?: string; pid?: number },
    options?: ErrorOptions,
  ) {
    super(
      `the warehouse ${path} is held by another process${holder.pid ? ` (${holder.program ?? 'PID'} ${holder.pid})` : ''}, such as a running worker`,
      options,
    );
    this.name = 'WarehouseHeldError';
  }
}

/** DuckDB's "Could not set lock on file …: Conflicting lock is held in <program> (PID <n>)", anywhere in the cause chain. */
export function heldBy(e: unknown): { program?: string; pid?: number } | undefined {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const m = /Conflicting lock is held in (.+?) \(PID (\d+)\)/.exec(cur.message);
    if (m) return { program: m[1]!.split('/').pop(), pid: Number(m[2]) };
    if (/Could not set lock on file/.test(cur.message)) return {};
  }
  return undefined;
}

/** The configured warehouse; a DuckDB file another process holds throws WarehouseHeldError. */
export async function openWarehouseOrSayWhoHoldsIt(config: AppConfig): Promise<Warehouse> {
  try {
    return await openWarehouse(config);
  } catch (e) {
    const holder = config.warehouse.kind === 'duckdb' ? heldBy(e) : undefined;
    if (holder) throw new WarehouseHeldError(config.warehouse.duckdbPath, holder, { cause: e });
    throw e;
  }
}

/**
 * Loads files straight into the configured warehouse (no Temporal), quarantine into the configured
 * object store. Throws WarehouseHeldError when a running worker holds the DuckDB file.
 */
export async function runLoad(
  config: AppConfig,
  target: string,
  opts: { kind?: string; force?: boolean; progress?: (line: string) => void },
): Promise<LoadRun> {
  const started = performance.now();
  const { store, keys } = await resolveTarget(config, target);
  if (keys.length === 0) throw new Error(`egx load: no .csv files at ${target}`);
  const warehouse = await openWarehouseOrSayWhoHoldsIt(config);
  const runId = `load-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    const lake = await openObjectStore(config);
    const results = await loadFiles({ store, lake, warehouse }, keys, {
      runId,
      kind: opts.kind,
      force: opts.force,
      onFile: (r, i) =>
        opts.progress?.(
          `[${i + 1}/${keys.length}] ${r.key}: ${r.skipped ? 'unchanged, skipped' : r.error ? `not loaded (${r.error})` : `${r.rowsLoaded} rows, ${r.rowsQuarantined} quarantined`}`,
        ),
    });
    return { runId, summary: summarize(results), results, seconds: (performance.now() - started) / 1000 };
  } finally {
    await warehouse.close();
  }
}
