/**
 * Snapshots of a scenario's final state, taken after its worker has stopped (DuckDB has one
 * process per file): the key warehouse tables and the object store, reduced to natural keys and
 * hashes of the content that does not depend on when or by which run it was written.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ObjectStore } from '../../lib/lake/types.js';
import { loadProject } from '../../lib/transforms/project.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { DATA_TABLES } from '../../lib/warehouse/schema.js';
import { PROJECT_ROOT } from '../devstack/profile.js';
import type { KeyedRow, Snapshot } from './compare.js';

/** The loaders' tables (natural keys from the schema). */
const PIPELINE_TABLES = DATA_TABLES;

/**
 * Columns that legitimately differ between two correct runs of the same input: run IDs, load and
 * check times, and the Kafka offset a bar was read at (a poll retried after a crash publishes the
 * same bar again at a new offset; the warehouse keeps one row per bar either way).
 */
export const isVolatileColumn = (name: string) => /^(RUN_ID|SOURCE_OFFSET)$|_AT$/i.test(name);

/** Object keys that belong to one run, not to the data: quarantine files by run ID, generated docs. */
export const isRunSpecificKey = (key: string) => /^(quarantine|docs)\//.test(key);

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);

/**
 * A value as stable text: dates as ISO, fractions to 8 decimals. DuckDB sums in parallel, so two
 * correct builds can differ in the last bits (0.05000000000001137 and 0.04999999999999716 for one
 * index change), which is not a difference in the data.
 */
function stable(v: unknown, rename: (s: string) => string): string {
  if (v === null || v === undefined) return '∅';
  if (v instanceof Date) return v.toISOString();
  // Integers too: 66 and 66.00000000000001 are the same index level.
  if (typeof v === 'number')
    return Math.abs(v) < 1e9 ? (Math.round(v * 1e8) / 1e8).toFixed(8) : v.toPrecision(15);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return rename(v);
  return rename(JSON.stringify(v));
}

export function keyedRows(
  rows: Record<string, unknown>[],
  key: string[] | undefined,
  rename: (s: string) => string,
): KeyedRow[] {
  return rows.map((row) => {
    const cols = Object.keys(row)
      .filter((c) => !isVolatileColumn(c))
      .sort();
    const hash = sha(cols.map((c) => `${c}=${stable(row[c], rename)}`).join('\u0001'));
    const upper = new Map(Object.entries(row).map(([c, v]) => [c.toUpperCase(), v]));
    return {
      key: key?.length ? key.map((k) => stable(upper.get(k.toUpperCase()), rename)).join('|') : hash,
      hash,
    };
  });
}

/**
 * Tables to compare: the loaders' tables and every model materialized as a table (silver and gold),
 * but the live marts: the market session refreshes them after its polls, as far as the consumer has
 * committed by then, so after a fault they may trail the streamed bars (compared in RAW.STREAM_BARS)
 * until the next session's refreshes.
 */
export async function tablesToCompare(): Promise<{ name: string; key?: string[] }[]> {
  const project = await loadProject(join(PROJECT_ROOT, 'transforms'));
  const models = [...project.models.values()]
    .filter((m) => m.materialized !== 'view' && !m.live)
    .map((m) => ({
      name: `${m.schema}.${m.name.toUpperCase()}`,
      key:
        m.uniqueKey ??
        m.columns.filter((c) => c.tests.some((t) => t === 'unique')).map((c) => c.name.toUpperCase()),
    }));
  return [...PIPELINE_TABLES.map((t) => ({ name: `${t.schema}.${t.name}`, key: t.key })), ...models];
}

/** Reads the compared tables from a DuckDB file (no other process may have it open). */
export async function snapshotDuckDb(
  path: string,
  rename: (s: string) => string,
): Promise<Snapshot['tables']> {
  const wanted = await tablesToCompare();
  const wh = await openDuckDbWarehouse(path, { threads: 1 });
  try {
    const present = new Set(
      (
        await wh.query<{ T: string }>(
          "SELECT upper(table_schema || '.' || table_name) AS T FROM information_schema.tables WHERE table_type = 'BASE TABLE'",
        )
      ).map((r) => r.T),
    );
    const out: Snapshot['tables'] = {};
    for (const t of wanted) {
      out[t.name] = present.has(t.name)
        ? keyedRows(await wh.query(`SELECT * FROM ${t.name}`), t.key, rename)
        : [];
    }
    return out;
  } finally {
    await wh.close();
  }
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * Every object's key and content hash, except run-specific ones; the streaming archive is read bar
 * by bar instead, since its file boundaries follow Kafka's batches (and so timing), not the data.
 */
export async function snapshotStore(
  store: ObjectStore,
  rename: (s: string) => string,
): Promise<Pick<Snapshot, 'objects' | 'bars'>> {
  const objects: Record<string, string> = {};
  const bars: KeyedRow[] = [];
  for await (const o of store.list('')) {
    if (isRunSpecificKey(o.key)) continue;
    if (!o.key.startsWith('streaming/')) {
      objects[o.key] = sha((await readAll(store, o.key)).toString('base64'));
      continue;
    }
    const lines = createInterface({ input: await store.get(o.key), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      const bar = JSON.parse(line) as Record<string, unknown>;
      delete bar.offset;
      delete bar.ingested_at;
      bars.push(...keyedRows([bar], ['symbol', 'interval', 'ts'], rename));
    }
  }
  return { objects, bars };
}
