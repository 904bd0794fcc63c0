/**
 * The worker process as deployed (runtime with Prometheus metrics and JSON logs, the pipeline and
 * stream workers), on the task queues given as arguments, for tests that scrape and read it.
 * Environment as for `npm run worker`. Stops on SIGINT/SIGTERM.
 */
import { loadConfig } from '../../lib/config.js';
import {
  connectWorker,
  createPipelineWorker,
  createStreamWorker,
  openWorkerDeps,
} from '../../workers/pipeline-worker.js';
import { installRuntime } from '../../workers/runtime.js';

const [pipelineQueue, streamQueue] = process.argv.slice(2);
if (!pipelineQueue || !streamQueue) throw new Error('usage: metrics-worker <pipeline-queue> <stream-queue>');
const config = loadConfig();
installRuntime(config);
const connection = await connectWorker(config);
const deps = await openWorkerDeps(config);
const workers = [
  await createPipelineWorker(config, connection, { taskQueue: pipelineQueue }, deps),
  await createStreamWorker(config, connection, { taskQueue: streamQueue }, deps),
];
try {
  await Promise.all(workers.map((w) => w.run()));
} finally {
  await deps.close();
  await connection.close();
}
