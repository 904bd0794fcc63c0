/**
 * Orchestration overhead of the daily batch on the embedded defaults: a synthetic history (10
 * symbols × 1 year, 12 files) is loaded by `dailyBatchWorkflow` with its transforms child on the
 * bench profile's Temporal dev server, with the worker in this process. From the runs' event
 * histories: wall time (parent started → completed) minus the time at least one activity of the
 * parent or its child was running (attempt started → closed). Several runs; median printed.
 * Last line: one JSON object.   npm run bench:orchestration [-- --runs 3]
 */
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { runDailyBatch } from '../cli/run.js';
import { seedSyntheticHistory } from '../lib/sources/history-files.js';
import { SimulatorSource } from '../lib/sources/simulator.js';
import { withClient } from '../temporal-config/connection.js';
import { startBenchPipeline } from './pipeline-env.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

/** Event time (protobuf Timestamp) in epoch milliseconds. */
const tsToMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

interface Timing {
  wallMs: number;
  activityMs: number;
  busyMs: number;
  activities: number;
}

/** Activity intervals of a run and of its child runs, from their histories. */
async function activityIntervals(client: Client, workflowId: string): Promise<[number, number][]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const started = new Map<string, number>();
  const out: [number, number][] = [];
  for (const e of history.events ?? []) {
    const at = tsToMs(e.eventTime);
    if (e.activityTaskStartedEventAttributes) started.set(String(e.eventId), at);
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes;
    if (closed) out.push([started.get(String(closed.startedEventId)) ?? at, at]);
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    if (child) out.push(...(await activityIntervals(client, child)));
  }
  return out;
}

async function timing(client: Client, workflowId: string): Promise<Timing> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const wallMs = tsToMs(events.at(-1)!.eventTime) - tsToMs(events[0]!.eventTime);
  const intervals = (await activityIntervals(client, workflowId)).sort((a, b) => a[0] - b[0]);
  let busyMs = 0;
  let end = -Infinity;
  for (const [s, e] of intervals) {
    if (e <= end) continue;
    busyMs += e - Math.max(s, end);
    end = e;
  }
  const activityMs = intervals.reduce((n, [s, e]) => n + (e - s), 0);
  return { wallMs, activityMs, busyMs, activities: intervals.length };
}

const env = await startBenchPipeline('orchestration');
try {
  const to = '2026-11-19';
  await seedSyntheticHistory({
    source: new SimulatorSource(),
    store: env.deps.store,
    symbols: env.config.market.symbols,
    from: '2025-11-20',
    to,
  });
  const results: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const date = `2026-11-${20 + i}`;
    const out = await runDailyBatch(env.config, { date, force: true, rerun: true, taskQueue: env.taskQueue });
    const t = await withClient(env.config, (c) => timing(c, out.runId));
    results.push(t);
    console.log(
      `run ${i + 1} (${date}): wall ${t.wallMs} ms, ${t.activities} activities busy ${t.busyMs} ms ` +
        `(sum ${t.activityMs} ms, run in parallel), overhead ${t.wallMs - t.busyMs} ms; ` +
        `${out.files.loaded} files, ${out.files.rowsLoaded} rows, ${out.transforms?.built.length ?? 0} models`,
    );
  }
  const overheads = results.map((t) => t.wallMs - t.busyMs).sort((a, b) => a - b);
  const median = overheads[Math.floor(overheads.length / 2)]!;
  const wall = results.map((t) => t.wallMs).sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
  console.log(`median overhead ${median} ms of a median ${wall} ms run (goal ≤ 1000 ms)`);
  console.log(
    JSON.stringify({
      bench: 'orchestration',
      runs,
      medianWallMs: wall,
      medianOverheadMs: median,
      overheadsMs: overheads,
      activitiesPerRun: results[0]!.activities,
      goalMs: 1000,
      met: median <= 1000,
    }),
  );
} finally {
  await env.close();
}
