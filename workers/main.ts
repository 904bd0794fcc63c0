/** Worker process: `npm run worker`. Runs the pipeline worker and, with Kafka, the sink consumer's worker. Stops cleanly on SIGINT/SIGTERM. */
import { Runtime, type Worker } from '@temporalio/worker';
import { loadConfig } from '../lib/config.js';
import { installRuntime } from './runtime.js';
import {
  connectWorker,
  createPipelineWorker,
  createStreamWorker,
  openWorkerDeps,
} from './pipeline-worker.js';

const config = loadConfig();
installRuntime(config);
const connection = await connectWorker(config);
const deps = await openWorkerDeps(config);
const workers: Worker[] = [await createPipelineWorker(config, connection, {}, deps)];
if (config.bus === 'kafka') workers.push(await createStreamWorker(config, connection, {}, deps));
Runtime.instance().logger.info('worker started', {
  address: config.temporal.address,
  namespace: config.temporal.namespace,
  taskQueues: workers.map((w) => w.options.taskQueue),
  bus: config.bus,
  metrics: config.observability.metricsBind ? `http://${config.observability.metricsBind}/metrics` : 'off',
});
try {
  await Promise.all(workers.map((w) => w.run()));
} finally {
  await deps.close();
  await connection.close();
}
