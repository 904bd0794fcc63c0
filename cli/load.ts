import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { openObjectStore, openWarehouse } from '../lib/adapters.js';
import type { AppConfig } from '../lib/config.js';
import type { FileLoadResult } from '../lib/ingest/load-file.js';
import { listCsvKeys, loadFiles } from '../lib/ingest/load-many.js';
import { summarize, type LoadSummary } from '../lib/ingest/load-summary.js';
import { LocalObjectStore } from '../lib/lake/local.js';
import { createS3Client, S3ObjectStore } from '../lib/lake/s3.js';
import type { ObjectStore } from '../lib/lake/types.js';

/** Where `egx load` reads from: a local file or directory, or `s3://bucket/prefix`. */
async function resolveTarget(
  config: AppConfig,
  target: string,
): Promise<{ store: ObjectStore; keys: string[] }> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(target);
  if (s3) {
    const store = new S3ObjectStore(createS3Client(config.s3), s3[1]!);
    return { store, keys: await listCsvKeys(store, s3[2] ?? '') };
  }
  const st = await stat(target).catch(() => undefined);
  if (!st) throw new Error(`egx load: ${target}: no such file or directory`);
  if (st.isFile()) return { store: new LocalObjectStore(dirname(target)), keys: [basename(target)] };
  const store = new LocalObjectStore(target);
  return { store, keys: await listCsvKeys(store, '') };
}

export interface LoadRun {
  runId: string;
  summary: LoadSummary;
  results: FileLoadResult[];
  seconds: number;
}

/** Loads files straight into the configured warehouse (no Temporal), quarantine into the configured object store. */
export async function runLoad(
  config: AppConfig,
  target: string,
  opts: { kind?: string; force?: boolean; progress?: (line: string) => void },
): Promise<LoadRun> {
  const started = performance.now();
  const { store, keys } = await resolveTarget(config, target);
  if (keys.length === 0) throw new Error(`egx load: no .csv files at ${target}`);
  const [lake, warehouse] = await Promise.all([openObjectStore(config), openWarehouse(config)]);
  const runId = `load-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
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
