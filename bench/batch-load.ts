/**
 * Batch-load benchmark: generates 250 symbols × 4,000 days of daily bars as per-symbol CSV files in
 * a local object store, loads them into a fresh DuckDB file through the pipeline's own loader, then
 * times DuckDB's read_csv of the same files into a table. Last line: one JSON object.
 *   npm run bench:batch-load [-- --symbols 250 --days 4000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listCsvKeys, loadFiles } from '../lib/ingest/load-many.js';
import { LocalObjectStore } from '../lib/lake/local.js';
import { openDuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../lib/warehouse/schema.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '250' },
    days: { type: 'string', default: '4000' },
    keep: { type: 'boolean' },
  },
});
const symbols = Number(values.symbols);
const days = Number(values.days);
const dir = mkdtempSync(join(tmpdir(), 'egx-bench-'));
const store = new LocalObjectStore(join(dir, 'lake'));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);

// Deterministic random walk per symbol (no Math.random, so runs are comparable).
function* bars(seed: number): Generator<string> {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  let close = 10 + (seed % 90);
  const start = Date.UTC(2010, 0, 1);
  yield 'Date,Open,High,Low,Close,Volume\n';
  for (let d = 0; d < days; d++) {
    const open = close;
    close = Math.max(0.5, open * (1 + (rnd() - 0.5) * 0.06));
    const high = Math.max(open, close) * (1 + rnd() * 0.01);
    const low = Math.min(open, close) * (1 - rnd() * 0.01);
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    yield `${date},${open.toFixed(2)},${high.toFixed(2)},${low.toFixed(2)},${close.toFixed(2)},${Math.floor(rnd() * 5e6)}\n`;
  }
}

const t0 = performance.now();
for (let s = 0; s < symbols; s++) {
  const lines = [...bars(s + 1)].join('');
  await store.put(`batch/prices/S${String(s).padStart(4, '0')}.csv`, lines);
}
const genSeconds = (performance.now() - t0) / 1000;
console.log(`generated ${symbols} files × ${days} days in ${genSeconds.toFixed(1)} s under ${dir}`);

const wh = await openDuckDbWarehouse(join(dir, 'bench.duckdb'));
await bootstrapWarehouse(wh);
const keys = await listCsvKeys(store, 'batch/prices/');
console.log(
  `RSS before loading: ${Math.round(process.memoryUsage.rss() / 1024 / 1024)} MB (peak so far ${Math.round(peakRss / 1024 / 1024)} MB)`,
);
const t1 = performance.now();
let done = 0;
const results = await loadFiles({ store, warehouse: wh }, keys, {
  runId: 'bench',
  onFile: () => {
    if (++done % 50 === 0)
      console.log(`  loaded ${done}/${keys.length} files, ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  },
});
const seconds = (performance.now() - t1) / 1000;
const rows = results.reduce((n, r) => n + r.rowsLoaded, 0);
clearInterval(sampler);

// DuckDB's own reader runs with DuckDB's own settings: every core, its default allocator.
await wh.execute(`SET threads = ${availableParallelism()}`);
await wh.execute('RESET allocator_flush_threshold');
await wh.execute('RESET allocator_bulk_deallocation_flush_threshold');
const t2 = performance.now();
await wh.execute(
  `CREATE TABLE READ_CSV_COPY AS SELECT * FROM read_csv('${join(dir, 'lake', 'batch', 'prices')}/*.csv', header = true, filename = true)`,
);
const duckSeconds = (performance.now() - t2) / 1000;
const [check] = await wh.query<{ N: number }>('SELECT COUNT(*) AS N FROM READ_CSV_COPY');
await wh.close();
if (!values.keep) rmSync(dir, { recursive: true, force: true });

console.log(
  `pipeline loader: ${rows} rows in ${seconds.toFixed(2)} s; DuckDB read_csv: ${check?.N} rows in ${duckSeconds.toFixed(2)} s`,
);
console.log(
  JSON.stringify({
    rows,
    seconds: Number(seconds.toFixed(2)),
    rows_per_s: Math.round(rows / seconds),
    peak_rss_mb: Math.round(peakRss / 1024 / 1024),
    ratio_vs_duckdb_read_csv: Number((duckSeconds / seconds).toFixed(3)),
  }),
);
