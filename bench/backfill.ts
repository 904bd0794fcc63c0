/**
 * Backfill benchmark on the embedded defaults: `backfillWorkflow` over 10 years × 250 symbols on
 * the bench profile's Temporal dev server, with a pipeline worker in this process, a local object
 * store and a DuckDB file: each yearly chunk (a child workflow) fetches the simulator's daily bars,
 * writes them as history files and loads them with the batch loader; then every model is rebuilt
 * from scratch. Prints the time of each part; last line: one JSON object.
 *   npm run bench:backfill [-- --symbols 250 --years 10]
 */
import { parseArgs } from 'node:util';
import { followBackfill, parseBackfillRequest, startBackfill } from '../cli/backfill.js';
import { withClient } from '../temporal-config/connection.js';
import { startBenchPipeline } from './pipeline-env.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '250' },
    years: { type: 'string', default: '10' },
  },
});
const symbols = Array.from(
  { length: Number(values.symbols) },
  (_, i) => `S${String(i + 1).padStart(4, '0')}`,
);
const years = Number(values.years);
const to = '2025-12-31';
const from = `${2025 - years + 1}-01-01`;

const env = await startBenchPipeline('backfill');
try {
  const request = {
    ...parseBackfillRequest(env.config, { from, to, symbols: symbols.join(','), force: true }),
    taskQueue: env.taskQueue,
  };
  console.log(`backfill ${from}..${to}, ${symbols.length} symbols, yearly chunks, 4 at once`);
  const t0 = performance.now();
  const { workflowId } = await startBackfill(env.config, request);
  const done = await followBackfill(env.config, workflowId, process.stdout);
  const seconds = (performance.now() - t0) / 1000;

  // Where the time went, from the runs' own start and close times.
  const parts = await withClient(env.config, async (client) => {
    const span = async (id: string) => {
      const d = await client.workflow.getHandle(id).describe();
      return ((d.closeTime?.getTime() ?? 0) - d.startTime.getTime()) / 1000;
    };
    const chunks: number[] = [];
    for await (const w of client.workflow.list({
      query: `WorkflowId STARTS_WITH "${workflowId}-" AND WorkflowType = "backfillChunkWorkflow"`,
    }))
      chunks.push(((w.closeTime?.getTime() ?? 0) - w.startTime.getTime()) / 1000);
    return { transforms: await span(`${workflowId}-transforms`), chunks };
  });
  const [row] = await env.deps.warehouse.query<{ N: number }>(
    'SELECT COUNT(*) AS N FROM GOLD.gold_fct_stock_daily_prices',
  );
  console.log(
    `${done.done} chunks (${parts.chunks.map((s) => s.toFixed(1)).join(', ')} s each), ${done.bars} bars loaded; ` +
      `models rebuilt in ${parts.transforms.toFixed(1)} s; gold_fct_stock_daily_prices has ${row!.N} rows`,
  );
  console.log(`total ${seconds.toFixed(1)} s (goal ≤ 60 s)`);
  console.log(
    JSON.stringify({
      bench: 'backfill',
      symbols: symbols.length,
      years,
      chunks: done.chunks,
      bars: done.bars,
      goldRows: Number(row!.N),
      seconds: Number(seconds.toFixed(2)),
      transformsSeconds: Number(parts.transforms.toFixed(2)),
      goalSeconds: 60,
      met: seconds <= 60 && done.failed.length === 0,
    }),
  );
} finally {
  await env.close();
}
