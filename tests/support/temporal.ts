import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import type { Workflow } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { createRunActivities } from '../../activities/runs.js';
import { ensureSearchAttributes } from '../../temporal-config/search-attributes.js';

type CreateOptions = {
  supportsTimeSkipping: boolean;
  server: { type: 'existing' };
  address: string;
  namespace?: string;
};

/**
 * A TestWorkflowEnvironment on the time-skipping server the global setup started. The SDK's
 * public factories either spawn their own server (and wait at most 5 s for it) or assume a server
 * without time skipping; the internal factory they share accepts an existing time-skipping one.
 */
export async function timeSkippingEnv(address: string): Promise<TestWorkflowEnvironment> {
  const factory = TestWorkflowEnvironment as unknown as {
    create(o: CreateOptions): Promise<TestWorkflowEnvironment>;
  };
  return factory.create({ supportsTimeSkipping: true, server: { type: 'existing' }, address });
}

/**
 * Registers the hooks a workflow test file needs: a time-skipping environment on the shared test
 * server and the workflow bundle, built once per file. Read `ctx.env` and `ctx.bundle` inside tests.
 */
export function useTimeSkippingWorkflows(workflowsPath: string): {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundle;
} {
  const ctx = {} as { env: TestWorkflowEnvironment; bundle: WorkflowBundle };
  beforeAll(async () => {
    ctx.env = await timeSkippingEnv(inject('testServerAddress'));
    await ensureSearchAttributes(ctx.env.connection, 'default');
    ctx.bundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  });
  afterAll(async () => ctx.env?.teardown());
  return ctx;
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs one workflow to its end on a fresh task queue with the given (mock) activities, and returns
 * its result; a failed workflow rejects with WorkflowFailedError. The run activities (warehouse
 * lock, start-or-attach) are the real ones, on a warehouse of this run's own.
 */
export async function runWorkflow<W extends Workflow>(
  ctx: { env: TestWorkflowEnvironment; bundle: WorkflowBundle },
  workflowType: string,
  args: Parameters<W>,
  activities: object = {},
): Promise<Awaited<ReturnType<W>>> {
  const taskQueue = `${workflowType}-${randomUUID()}`;
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    taskQueue,
    workflowBundle: ctx.bundle,
    activities: {
      ...createRunActivities({ warehouseKey: `test-${randomUUID()}`, taskQueue }),
      ...activities,
    },
  });
  return worker.runUntil(
    ctx.env.client.workflow.execute<W>(workflowType, {
      taskQueue,
      workflowId: `${workflowType}-${randomUUID()}`,
      args,
    } as never),
  ) as Promise<Awaited<ReturnType<W>>>;
}

/** Mock activities plus the real run activities (warehouse lock, start-or-attach) on a warehouse of their own. */
export function withRunActivities(taskQueue: string, activities: object): object {
  return { ...createRunActivities({ warehouseKey: `test-${randomUUID()}`, taskQueue }), ...activities };
}
