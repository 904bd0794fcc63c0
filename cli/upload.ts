import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { openObjectStore } from '../lib/adapters.js';
import type { AppConfig } from '../lib/config.js';
import { FILE_KINDS, readerForKey } from '../lib/ingest/kinds.js';
import { listCsvKeys } from '../lib/ingest/load-many.js';
import { checkObjectKey } from '../lib/lake/keys.js';
import { LocalObjectStore } from '../lib/lake/local.js';
import { createS3Client, S3ObjectStore } from '../lib/lake/s3.js';
import type { ObjectStore } from '../lib/lake/types.js';

/** Where `egx load` and `egx upload` read from: a local file or directory, or `s3://bucket/prefix`. */
export async function resolveTarget(
  config: AppConfig,
  target: string,
  command = 'egx load',
): Promise<{ store: ObjectStore; keys: string[] }> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(target);
  if (s3) {
    const store = new S3ObjectStore(createS3Client(config.s3), s3[1]!);
    return { store, keys: await listCsvKeys(store, s3[2] ?? '') };
  }
  const st = await stat(target).catch(() => undefined);
  if (!st) throw new Error(`${command}: ${target}: no such file or directory`);
  if (st.isFile()) return { store: new LocalObjectStore(dirname(target)), keys: [basename(target)] };
  const store = new LocalObjectStore(target);
  return { store, keys: await listCsvKeys(store, '') };
}

/** The kinds of batch file, each under its own prefix `batch/<kind>/` (see docs/ARCHITECTURE.md, "Object keys"). */
export const BATCH_KINDS = [...new Set([...Object.keys(FILE_KINDS), 'index_levels'])];

/**
 * The object key a file goes to in the batch layout: `batch/<kind>/<path>`. The kind is `kind`
 * when given, else the nearest folder named like a kind (a tree that mirrors the layout, such as
 * `history/companies/list.csv` or `batch/prices/COMI.csv`), else what the loader would read the
 * file as (`*_constituents*.csv` are index files, `*_finance.csv` financials, the rest prices).
 * The path below that folder is kept, so same-named files of different vendors stay apart
 * (`investing/SWDY.csv` → `batch/prices/investing/SWDY.csv`).
 */
export function batchKeyFor(key: string, kind?: string): string {
  if (kind !== undefined && !BATCH_KINDS.includes(kind))
    throw new Error(`unknown file kind "${kind}" (expected one of: ${BATCH_KINDS.join(', ')})`);
  const parts = key.split('/');
  const folder = parts.slice(0, -1).findLastIndex((p) => BATCH_KINDS.includes(p));
  const rest = folder >= 0 ? parts.slice(folder + 1) : parts;
  const chosen = kind ?? (folder >= 0 ? parts[folder]! : readerForKey(key).kind);
  return checkObjectKey(['batch', chosen, ...rest].join('/'));
}

export interface UploadedFile {
  /** Where it came from: the key under the target (a path relative to the folder given). */
  from: string;
  /** Where it went in the pipeline's object store. */
  key: string;
  bytes: number;
}

export interface UploadResult {
  /** The pipeline's object store (`s3://bucket` or `file:///…`). */
  location: string;
  files: UploadedFile[];
}

/**
 * Copies batch files (a file, a directory or `s3://bucket/prefix`) into the configured object
 * store's batch prefixes (see batchKeyFor), where the daily batch finds them as new or changed.
 * Uploading the same content again changes nothing the batch would reload.
 */
export async function uploadBatchFiles(
  config: AppConfig,
  target: string,
  opts: {
    kind?: string;
    command?: string;
    onFile?: (f: UploadedFile, done: number, of: number) => void;
  } = {},
): Promise<UploadResult> {
  const command = opts.command ?? 'egx upload';
  const { store, keys } = await resolveTarget(config, target, command);
  if (keys.length === 0) throw new Error(`${command}: no .csv files at ${target}`);
  const plan = keys.map((from) => ({ from, key: batchKeyFor(from, opts.kind) }));
  const clash = plan.find((p, i) => plan.findIndex((q) => q.key === p.key) !== i);
  if (clash)
    throw new Error(
      `${command}: two files would both go to ${clash.key} (${plan
        .filter((p) => p.key === clash.key)
        .map((p) => p.from)
        .join(', ')})`,
    );
  const lake = await openObjectStore(config);
  const files: UploadedFile[] = [];
  for (const p of plan) {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(p.from)) chunks.push(Buffer.from(c as Uint8Array));
    const body = Buffer.concat(chunks);
    // Identical content gets the same ETag again, so the daily batch sees an unchanged file as unchanged.
    await lake.put(p.key, body, { contentType: 'text/csv' });
    const f = { ...p, bytes: body.length };
    files.push(f);
    opts.onFile?.(f, files.length, plan.length);
  }
  return { location: lake.location, files };
}

export function formatUpload(u: UploadResult): string {
  const byPrefix = new Map<string, number>();
  for (const f of u.files) {
    const prefix = f.key.split('/').slice(0, 2).join('/') + '/';
    byPrefix.set(prefix, (byPrefix.get(prefix) ?? 0) + 1);
  }
  const bytes = u.files.reduce((n, f) => n + f.bytes, 0);
  return `uploaded ${u.files.length} files (${(bytes / 1e6).toFixed(1)} MB) to ${u.location}: ${[...byPrefix]
    .map(([p, n]) => `${n} under ${p}`)
    .join(', ')}`;
}
