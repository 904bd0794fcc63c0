import type { ObjectStore } from '../lake/types.js';
import type { Warehouse } from '../warehouse/types.js';
import { readerForKey } from './kinds.js';
import { loadFile, type FileLoadResult, type LoadProgress } from './load-file.js';

/** Every CSV key under `prefix`, in key order. */
export async function listCsvKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) if (/\.csv$/i.test(o.key)) keys.push(o.key);
  return keys;
}

/** Loads files one after another (the warehouse serialises writes anyway), reporting each as it finishes. */
export async function loadFiles(
  deps: { store: ObjectStore; lake?: ObjectStore; warehouse: Warehouse },
  keys: string[],
  opts: {
    runId: string;
    kind?: string;
    force?: boolean;
    onFile?: (r: FileLoadResult, i: number) => void;
    onProgress?: (p: LoadProgress) => void;
  },
): Promise<FileLoadResult[]> {
  const results: FileLoadResult[] = [];
  for (const [i, key] of keys.entries()) {
    const r = await loadFile(deps, readerForKey(key, opts.kind), key, opts);
    results.push(r);
    opts.onFile?.(r, i);
  }
  return results;
}
