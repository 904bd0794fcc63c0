import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { timeSkippingEnv } from '../support/temporal.js';
import type { sleepWorkflow } from './fixtures/sleep-workflow.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;

beforeAll(async () => {
  env = await timeSkippingEnv(inject('testServerAddress'));
  bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./fixtures/sleep-workflow.ts', import.meta.url)),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
});

afterAll(async () => {
  await env?.teardown();
});

test('a workflow that sleeps one day completes in well under a second of wall time', async () => {
  const taskQueue = `time-skip-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
  const started = performance.now();
  const result = await worker.runUntil(
    env.client.workflow.execute<typeof sleepWorkflow>('sleepWorkflow', {
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
