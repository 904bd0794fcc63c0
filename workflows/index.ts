// Every workflow the pipeline worker registers.
export { dailyBatchWorkflow } from './daily-batch.js';
export { healthCheckWorkflow } from './health.js';
export { marketSessionWorkflow } from './market-session.js';
export { transformsWorkflow } from './transforms.js';
export { streamConsumerWorkflow } from './stream-consumer.js';
export { weeklyMaintenanceWorkflow } from './maintenance.js';
export { backfillChunkWorkflow, backfillWorkflow } from './backfill.js';
export { scheduledRunWorkflow } from './scheduled.js';
export { warehouseLockWorkflow } from './warehouse-lock.js';
