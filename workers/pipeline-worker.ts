import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createBatchActivities } from '../activities/batch.js';
import { createHealthActivities } from '../activities/health.js';
import { createMarketActivities } from '../activities/market.js';
import { createTransformActivities } from '../activities/transforms.js';
import { openObjectStore, openWarehouse } from '../lib/adapters.js';
import { createKafka, createKafkaPublisher } from '../lib/bus/kafka.js';
import { SimulatorSource } from '../lib/sources/simulator.js';
import type { AppConfig } from '../lib/config.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
export const TRANSFORMS_DIR = fileURLToPath(new URL('../transforms', import.meta.url));

/** The worker that runs the pipeline's workflows and activities on the `egx-pipeline` task queue. */
export async function createPipelineWorker(
  config: AppConfig,
  connection: NativeConnection,
  overrides: Partial<WorkerOptions> = {},
): Promise<Worker> {
  const [store, warehouse] = await Promise.all([openObjectStore(config), openWarehouse(config)]);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: TASK_QUEUES.pipeline,
    workflowsPath: WORKFLOWS_PATH,
    activities: {
      ...createHealthActivities(config),
      ...createBatchActivities({ store, warehouse, artifactsDir: config.artifactsDir }),
      ...createMarketActivities({
        source: new SimulatorSource(),
        publisher: createKafkaPublisher(
          createKafka(config.kafka, { clientId: 'egx-poller' }),
          config.kafka.topic,
        ),
      }),
      ...createTransformActivities({ warehouse, store, projectDir: TRANSFORMS_DIR, docsDir: config.docsDir }),
    },
    // Lets in-flight activities finish (and commit what they did) when the worker stops.
    shutdownGraceTime: '10 seconds',
    ...overrides,
  });
}

export async function connectWorker(config: AppConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporal.address });
}
