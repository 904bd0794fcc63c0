import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createAlertActivities } from '../activities/alerts.js';
import { createBackfillActivities } from '../activities/backfill.js';
import { createBatchActivities } from '../activities/batch.js';
import { createHealthActivities } from '../activities/health.js';
import { createLiveActivities } from '../activities/live.js';
import { createMaintenanceActivities } from '../activities/maintenance.js';
import { createMarketActivities, type BarPublisher } from '../activities/market.js';
import { createRunActivities, warehouseKey } from '../activities/runs.js';
import { createStreamActivities } from '../activities/stream.js';
import { createTransformActivities } from '../activities/transforms.js';
import { openMarketSource, openObjectStore, openWarehouse } from '../lib/adapters.js';
import { createKafka, createKafkaPublisher } from '../lib/bus/kafka.js';
import type { AppConfig } from '../lib/config.js';
import type { ObjectStore } from '../lib/lake/types.js';
import { createDirectPublisher } from '../lib/stream/direct.js';
import { createInfluxLiveView } from '../lib/stream/influx.js';
import { createBarSink, type BarSink } from '../lib/stream/sink.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { connectNative } from '../temporal-config/connection.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';

// Compiled (dist/workers/pipeline-worker.js) or run from the sources through tsx.
const compiled = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../workflows/index.${compiled ? 'js' : 'ts'}`, import.meta.url),
);
/** The prebuilt workflow bundle `npm run build` writes beside the compiled code (dist/workflow-bundle.js). */
export const WORKFLOW_BUNDLE_PATH = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
export const TRANSFORMS_DIR = fileURLToPath(new URL('../transforms', import.meta.url));

/** The stores a worker process opens once and shares between its workers (a DuckDB file has one writer process). */
export interface WorkerDeps {
  store: ObjectStore;
  warehouse: Warehouse;
  /** Where polls publish: Kafka, or the sinks directly (BUS=direct). */
  publisher: BarPublisher & { close(): Promise<void> };
  /** The stream sinks: object store, warehouse and, when configured, the InfluxDB live view. */
  sink: BarSink;
  /** Closes the warehouse and the publisher's connection, after the workers have stopped. */
  close(): Promise<void>;
}

/**
 * The workflow code a worker runs: the prebuilt bundle when there is one (the image: no bundling
 * at start, and every worker of one image runs the same bundle), else the workflows folder,
 * bundled by the SDK at start (development).
 */
export function workflowCode(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  return existsSync(WORKFLOW_BUNDLE_PATH)
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: WORKFLOWS_PATH };
}

export async function openWorkerDeps(config: AppConfig): Promise<WorkerDeps> {
  const [store, warehouse] = await Promise.all([openObjectStore(config), openWarehouse(config)]);
  const live = config.live
    ? createInfluxLiveView({ url: config.live.influxUrl, database: config.live.database })
    : undefined;
  const sink = createBarSink({ store, warehouse, live });
  const publisher =
    config.bus === 'direct'
      ? createDirectPublisher({ sink, store })
      : createKafkaPublisher(createKafka(config.kafka, { clientId: 'egx-poller' }), config.kafka.topic);
  return {
    store,
    warehouse,
    publisher,
    sink,
    async close() {
      await publisher.close();
      await warehouse.close();
    },
  };
}

/** The worker that runs the pipeline's workflows and activities on the `egx-pipeline` task queue. */
export async function createPipelineWorker(
  config: AppConfig,
  connection: NativeConnection,
  overrides: Partial<WorkerOptions> = {},
  deps?: WorkerDeps,
): Promise<Worker> {
  const { store, warehouse, publisher } = deps ?? (await openWorkerDeps(config));
  const alerts = createAlertActivities({ config, warehouse });
  const taskQueue = overrides.taskQueue ?? TASK_QUEUES.pipeline;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...workflowCode(),
    activities: {
      ...createHealthActivities(config, { warehouse }),
      ...createBatchActivities({
        store,
        warehouse,
        artifactsDir: config.artifactsDir,
        symbols: config.market.symbols,
      }),
      ...alerts,
      ...createMarketActivities({
        source: openMarketSource(config, store),
        publisher,
        alert: async (a) => {
          await alerts.sendAlert({
            title: `market source: ${a.symbol} failed ${a.failures} polls in a row`,
            where: `market session ${a.tradingDate}, poll ending ${a.at}`,
            error: a.reason,
            key: `market:${a.symbol}:failing`,
          });
        },
      }),
      ...createTransformActivities({ warehouse, store, projectDir: TRANSFORMS_DIR, docsDir: config.docsDir }),
      ...createLiveActivities({ warehouse, projectDir: TRANSFORMS_DIR }),
      ...createMaintenanceActivities({ store, warehouse }),
      ...createBackfillActivities({ source: openMarketSource(config, store), store, warehouse }),
      ...createRunActivities({ warehouseKey: warehouseKey(config.warehouse), taskQueue }),
    },
    // Lets in-flight activities finish (and commit what they did) when the worker stops.
    shutdownGraceTime: '10 seconds',
    // Long activities heartbeat every 10 s: send each within 10 s (not 80% of the heartbeat
    // timeout), so a cancellation, which arrives with a heartbeat's answer, stops them promptly.
    maxHeartbeatThrottleInterval: '10 seconds',
    ...overrides,
  });
}

/** The sink consumer's worker: activities only, on the `egx-stream` task queue (Kafka mode). */
export async function createStreamWorker(
  config: AppConfig,
  connection: NativeConnection,
  overrides: Partial<WorkerOptions> = {},
  deps?: WorkerDeps,
): Promise<Worker> {
  const { sink } = deps ?? (await openWorkerDeps(config));
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: TASK_QUEUES.stream,
    activities: createStreamActivities({
      kafka: createKafka(config.kafka, { clientId: 'egx-sinks' }),
      topic: config.kafka.topic,
      sink,
    }),
    // Progress and lag on the pending activity at most 2 s old (the default throttle is 80% of the heartbeat timeout).
    maxHeartbeatThrottleInterval: '2 seconds',
    // A consume round stops at the end of its batch and commits; then the worker exits.
    shutdownGraceTime: '30 seconds',
    ...overrides,
  });
}

export async function connectWorker(config: AppConfig): Promise<NativeConnection> {
  return connectNative(config);
}
