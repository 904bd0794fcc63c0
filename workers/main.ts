/** Worker process: `npm run worker`. Stops cleanly on SIGINT/SIGTERM. */
import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../lib/config.js';
import { connectWorker, createPipelineWorker } from './pipeline-worker.js';

const config = loadConfig();
const connection = await connectWorker(config);
const worker = await createPipelineWorker(config, connection);
Runtime.instance().logger.info('worker started', {
  address: config.temporal.address,
  namespace: config.temporal.namespace,
  taskQueue: worker.options.taskQueue,
});
try {
  await worker.run();
} finally {
  await connection.close();
}
