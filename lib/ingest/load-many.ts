import { pooled } from '../util/pool.js';
import type { ObjectStore } from '../lake/types.js';
import type { Warehouse } from '../warehouse/types.js';
import { loadPriceFilesInBulk } from './bulk-prices.js';
import { readerForKey } from './kinds.js';
import { priceFiles } from './prices.js';
import { loadFile, type FileLoadResult, type LoadProgress } from './load-file.js';

/** Every CSV key under `prefix`, in key order. */
export async function listCsvKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) if (/\.csv$/i.test(o.key)) keys.push(o.key);
  return keys;
}

/**
 * Loads files with `concurrency` in flight (default 2): while the warehouse writes one file's rows
 * (on its own threads), the next file is parsed. Reports each file as it finishes; results keep key order.
 */
export async function loadFiles(
  deps: { store: ObjectStore; lake?: ObjectStore; warehouse: Warehouse },
  keys: string[],
  opts: {
    runId: string;
    kind?: string;
    force?: boolean;
    concurrency?: number;
    onFile?: (r: FileLoadResult, done: number) => void;
    onProgress?: (p: LoadProgress) => void;
    /** Aborting it stops the loads between batches (see loadFile). */
    signal?: AbortSignal;
  },
): Promise<FileLoadResult[]> {
  let done = 0;
  const report = (r: FileLoadResult) => opts.onFile?.(r, done++);
  // Clean plain-layout price files go through DuckDB's CSV reader in bulk; the rest row by row.
  const prices = keys.filter((k) => readerForKey(k, opts.kind) === priceFiles);
  const bulk = await loadPriceFilesInBulk(deps, prices, { ...opts, onFile: report });
  const byKey = new Map(bulk.results.map((r) => [r.key, r]));
  const rest = keys.filter((k) => !byKey.has(k));
  const loaded = await pooled(rest, opts.concurrency ?? 2, async (key) => {
    const r = await loadFile(deps, readerForKey(key, opts.kind), key, opts);
    report(r);
    return r;
  });
  for (const r of loaded) byKey.set(r.key, r);
  return keys.map((k) => byKey.get(k)!);
}
