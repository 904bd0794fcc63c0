import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { expect, test } from 'vitest';
import { useTimeSkippingWorkflows } from '../support/temporal.js';
import type { buggyWorkflow } from './fixtures/buggy-workflow.js';

const ctx = useTimeSkippingWorkflows(fileURLToPath(new URL('./fixtures/buggy-workflow.ts', import.meta.url)));

test('a bug in workflow code (a plain TypeError) fails the run as UnexpectedError instead of retrying its task for ever', async () => {
  const taskQueue = `buggy-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    taskQueue,
    workflowBundle: ctx.bundle,
  });
  const started = performance.now();
  const err = await worker.runUntil(
    ctx.env.client.workflow
      .execute<typeof buggyWorkflow>('buggyWorkflow', {
        taskQueue,
        workflowId: `buggy-${randomUUID()}`,
        args: [{}],
      })
      .catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('UnexpectedError');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toMatch(/^TypeError: Cannot read properties of undefined/);
  // It failed at once: no workflow-task retries (they come about 10 s apart).
  expect(performance.now() - started).toBeLessThan(8_000);
});
