// Every workflow the pipeline worker registers.
export { healthCheckWorkflow } from './health.js';
