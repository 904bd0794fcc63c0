import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { expect, test, vi } from 'vitest';
import { createHealthActivities } from '../../activities/health.js';
import { loadConfig } from '../../lib/config.js';
import type { CheckResult } from '../../lib/health/report.js';

const T = proto.temporal.api.enums.v1.TaskQueueType;

/** A Temporal client whose DescribeTaskQueue answers with the given pollers per queue and kind. */
function clientWith(pollers: Record<string, number>) {
  const describeTaskQueue = vi.fn(
    async (req: {
      taskQueue: { name: string };
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType;
    }) => {
      const kind = req.taskQueueType === T.TASK_QUEUE_TYPE_WORKFLOW ? 'workflow' : 'activity';
      const n = pollers[`${req.taskQueue.name} ${kind}`] ?? 0;
      return { pollers: Array.from({ length: n }, (_, i) => ({ identity: `worker-${i}` })) };
    },
  );
  const client = {
    connection: { workflowService: { describeTaskQueue } },
    withAbortSignal: (_signal: AbortSignal, fn: () => unknown) => fn(),
  };
  return client as unknown as Client;
}

const config = loadConfig({
  // No broker: the lag and dead-letter observations report it; this test is about the pollers.
  KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1',
  DUCKDB_PATH: join(mkdtempSync(join(tmpdir(), 'egx-health-workers-')), 'egx.duckdb'),
});

test('the operational checks of the scheduled health run report a task queue that no worker polls', async () => {
  const env = new MockActivityEnvironment(
    { taskQueue: 'egx-pipeline' },
    { client: clientWith({ 'egx-pipeline workflow': 2, 'egx-pipeline activity': 2 }) },
  );
  const results: CheckResult[] = await env.run(createHealthActivities(config).checkOperations);
  const workers = results.find((r) => r.component === 'workers');
  expect(workers).toMatchObject({ ok: false });
  expect(workers!.detail).toBe(
    'no poller on egx-stream (activity); pollers: egx-pipeline workflow: 2, egx-pipeline activity: 2, ' +
      'egx-stream activity: 0 (start one with: npm run worker)',
  );
}, 30_000);

test('with every queue polled the workers result is up and lists the pollers', async () => {
  const env = new MockActivityEnvironment(
    { taskQueue: 'egx-pipeline' },
    {
      client: clientWith({
        'egx-pipeline workflow': 1,
        'egx-pipeline activity': 1,
        'egx-stream activity': 3,
      }),
    },
  );
  const results: CheckResult[] = await env.run(createHealthActivities(config).checkOperations);
  expect(results.find((r) => r.component === 'workers')).toMatchObject({
    ok: true,
    detail: 'pollers: egx-pipeline workflow: 1, egx-pipeline activity: 1, egx-stream activity: 3',
  });
}, 30_000);
