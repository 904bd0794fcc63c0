/**
 * A pipeline worker in a process of its own (environment as for `npm run worker`), on the task
 * queue given as the argument: it holds the DuckDB file as a running stack's worker does. Prints
 * "ready" once it polls; stops on SIGINT/SIGTERM.
 */
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../lib/config.js';
import { connectWorker, createPipelineWorker, openWorkerDeps } from '../../workers/pipeline-worker.js';

const [taskQueue] = process.argv.slice(2);
if (!taskQueue) throw new Error('usage: worker-process <task-queue>');
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
});
const config = loadConfig();
const connection = await connectWorker(config);
const deps = await openWorkerDeps(config);
const worker = await createPipelineWorker(config, connection, { taskQueue }, deps);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
const running = worker.run();
console.log('ready');
try {
  await running;
} finally {
  await deps.close();
  await connection.close();
}
