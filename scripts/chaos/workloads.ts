/**
 * What a scenario runs: the same input and the same runs for the fault-free reference and for each
 * fault-injected run, so their final warehouse and object store can be compared.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { startBackfill, type BackfillRequest } from '../../cli/backfill.js';
import { startMarketSession, STREAM_CONSUMER_ID } from '../../cli/stream.js';
import type { AppConfig } from '../../lib/config.js';
import type { ObjectStore } from '../../lib/lake/types.js';
import { seedSyntheticHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { TASK_QUEUES } from '../../temporal-config/task-queues.js';
import type { dailyBatchWorkflow } from '../../workflows/daily-batch.js';
import type { streamConsumerWorkflow } from '../../workflows/stream-consumer.js';
import type { transformsWorkflow } from '../../workflows/transforms.js';
import { runIds } from './ids.js';

/** The business date every workload processes: a past trading day (a Wednesday), so runs are repeatable. */
export const BUSINESS_DATE = '2026-01-14';
export const SYMBOLS = ['COMI', 'ETEL', 'SWDY', 'HRHO', 'TMGH', 'EAST', 'ABUK', 'EFIH', 'FWRY', 'ORAS'];
const HISTORY_FROM = '2024-01-14';
const HISTORY_TO = '2026-01-13';
/** Market minutes per real minute of the demo session: 4 h 30 in 90 s, a poll every 1.7 s. */
export const DEMO_SPEED = 180;

export interface WorkloadContext {
  config: AppConfig;
  client: Client;
  store: ObjectStore;
  /** Consumer group of this scenario's stream consumer. */
  groupId: string;
}

/** The run a scenario watches: faults are timed on its activities, and it must finish by the deadline. */
export interface MainRun {
  workflowId: string;
  handle: WorkflowHandle;
}

export interface Workload {
  name: string;
  objectStore: 'local' | 's3';
  /** Uses the market session and the stream consumer (so the bus must drain before the end). */
  streams: boolean;
  /** Writes the input files (before the worker starts). */
  prepare(ctx: WorkloadContext): Promise<void>;
  /** Fault-free runs the main run builds on (started and awaited before any fault). */
  setup?(ctx: WorkloadContext): Promise<void>;
  /** Starts the main run; called again (same IDs) to rerun after a failure, as an operator would. */
  start(ctx: WorkloadContext): Promise<MainRun>;
}

async function seedHistory(ctx: WorkloadContext): Promise<void> {
  await seedSyntheticHistory({
    source: new SimulatorSource(),
    store: ctx.store,
    symbols: SYMBOLS,
    from: HISTORY_FROM,
    to: HISTORY_TO,
  });
  // One file in another vendor's layout with a bad row: the row loader's path and the quarantine.
  await ctx.store.put(
    'batch/prices/EKHO.csv',
    [
      '"Date","Price","Open","High","Low","Vol.","Change %"',
      '"01/13/2026","0.850","0.840","0.860","0.830","1.20M","1.19%"',
      '"01/12/2026","0.840","0.850","0.820","0.830","950.00K","-1.18%"',
      '"01/11/2026","0.850","0.850","0.860","0.840","1.05M","0.00%"',
    ].join('\n') + '\n',
  );
}

async function startDailyBatch(ctx: WorkloadContext, transforms = true): Promise<MainRun> {
  const workflowId = runIds.dailyBatch(BUSINESS_DATE);
  const handle = await ctx.client.workflow.start<typeof dailyBatchWorkflow>('dailyBatchWorkflow', {
    taskQueue: TASK_QUEUES.pipeline,
    workflowId,
    args: [{ businessDate: BUSINESS_DATE, transforms }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  return { workflowId, handle };
}

export const dailyBatch = (objectStore: 'local' | 's3'): Workload => ({
  name: objectStore === 's3' ? 'daily-batch-s3' : 'daily-batch',
  objectStore,
  streams: false,
  prepare: seedHistory,
  start: (ctx) => startDailyBatch(ctx),
});

/** A transforms run on its own, after a daily batch that loaded the same files without transforms. */
export const transforms: Workload = {
  name: 'transforms',
  objectStore: 'local',
  streams: false,
  prepare: seedHistory,
  async setup(ctx) {
    const { handle } = await startDailyBatch(ctx, false);
    await handle.result();
  },
  async start(ctx) {
    const workflowId = runIds.transforms(BUSINESS_DATE);
    const handle = await ctx.client.workflow.start<typeof transformsWorkflow>('transformsWorkflow', {
      taskQueue: TASK_QUEUES.pipeline,
      workflowId,
      args: [{ businessDate: BUSINESS_DATE }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    return { workflowId, handle };
  },
};

/** A compressed replay of the business date's session: polls → Kafka → the sink consumer → archive + warehouse. */
export const marketSession: Workload = {
  name: 'market-session',
  objectStore: 'local',
  streams: true,
  async prepare() {},
  async setup(ctx) {
    // As `egx stream start` does, but with the scenario's own consumer group: scenarios run side
    // by side, and members of one group rebalance together even on different topics.
    await ctx.client.workflow.start<typeof streamConsumerWorkflow>('streamConsumerWorkflow', {
      taskQueue: TASK_QUEUES.pipeline,
      workflowId: STREAM_CONSUMER_ID,
      args: [{ groupId: ctx.groupId, roundSeconds: 30 }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
  },
  async start(ctx) {
    const { workflowId } = await startMarketSession(ctx.config, {
      date: BUSINESS_DATE,
      demoSpeed: DEMO_SPEED,
    });
    return { workflowId, handle: ctx.client.workflow.getHandle(workflowId) };
  },
};

export const BACKFILL: BackfillRequest = {
  from: '2024-01-01',
  to: '2025-12-31',
  symbols: SYMBOLS.slice(0, 6),
  steps: ['load', 'transforms'],
  chunkDays: 120,
  parallel: 2,
};

/** A two-year backfill in seven chunks, two at a time, then the models rebuilt from scratch. */
export const backfill: Workload = {
  name: 'backfill',
  objectStore: 'local',
  streams: false,
  async prepare() {},
  async start(ctx) {
    const { workflowId } = await startBackfill(ctx.config, BACKFILL);
    return { workflowId, handle: ctx.client.workflow.getHandle(workflowId) };
  },
};
