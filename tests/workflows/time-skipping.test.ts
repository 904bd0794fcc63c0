import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { expect, test } from 'vitest';
import { useTimeSkippingWorkflows } from '../support/temporal.js';
import type { sleepWorkflow } from './fixtures/sleep-workflow.js';

const ctx = useTimeSkippingWorkflows(fileURLToPath(new URL('./fixtures/sleep-workflow.ts', import.meta.url)));

test('a workflow that sleeps one day completes in well under a second of wall time', async () => {
  const taskQueue = `time-skip-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    taskQueue,
    workflowBundle: ctx.bundle,
  });
  const started = performance.now();
  const result = await worker.runUntil(
    ctx.env.client.workflow.execute<typeof sleepWorkflow>('sleepWorkflow', {
      taskQueue,
      workflowId: `sleep-${randomUUID()}`,
      args: ['1 day'],
    }),
  );
  const wallMs = performance.now() - started;
  console.log(
    `slept ${result.sleptMs / 3_600_000} h of workflow time in ${Math.round(wallMs)} ms of wall time`,
  );
  expect(result.sleptMs).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
  expect(wallMs).toBeLessThan(1000);
});
