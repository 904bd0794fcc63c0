import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createAlertActivities } from '../../activities/alerts.js';
import type { HealthActivities } from '../../activities/health.js';
import { emailChannel, webhookChannel } from '../../lib/alerts/alerts.js';
import { loadConfig } from '../../lib/config.js';
import type { CheckResult } from '../../lib/health/report.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { healthCheckWorkflow } from '../../workflows/health.js';
import { downWarehouse, startAlertReceivers, type AlertReceivers } from '../support/alert-receivers.js';
import { runWorkflow, useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

let receivers: AlertReceivers;

beforeAll(async () => {
  receivers = await startAlertReceivers();
});

afterAll(async () => receivers.close());

const up = (component: CheckResult['component']): CheckResult => ({
  component,
  ok: true,
  latencyMs: 1,
  detail: 'fine',
});

test('a failed run alerts with the warehouse down; the channel that failed is retried by Temporal, the one that delivered is not', async () => {
  receivers.failures['/hooks/egx'] = 1;
  const alerts = createAlertActivities({
    config: loadConfig({}),
    warehouse: downWarehouse(),
    channels: [
      emailChannel({
        host: '127.0.0.1',
        port: receivers.smtpPort,
        secure: false,
        from: 'egx@example.test',
        to: ['oncall@example.test'],
      }),
      webhookChannel(receivers.url()),
    ],
  });
  const sendAlert = vi.fn(alerts.sendAlert);
  const health: HealthActivities = {
    checkTemporal: async () => up('temporal'),
    checkKafka: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9092')),
    checkObjectStore: async () => up('s3'),
    checkWarehouse: async () => up('duckdb'),
    checkOperations: async () => [],
  };
  const err = await runWorkflow<typeof healthCheckWorkflow>(ctx, 'healthCheckWorkflow', [{ alert: true }], {
    ...health,
    sendAlert,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);

  // Attempt 1: e-mail delivered, webhook answered 503, the activity failed; attempt 2: webhook only.
  expect(sendAlert).toHaveBeenCalledTimes(2);
  await expect(sendAlert.mock.results[0]!.value).rejects.toThrow(
    /^alert "health failed" not delivered: webhook: webhook 127\.0\.0\.1:\d+ answered 503 Service Unavailable \(delivered to email\)$/,
  );
  await expect(sendAlert.mock.results[1]!.value).resolves.toEqual({
    sent: ['email', 'webhook'],
    grouped: false,
  });
  const { mails, posts } = receivers;
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatch(/^Subject: \[EGX pipeline\] health failed/m);
  expect(posts).toHaveLength(1);
  expect(posts[0]!.text).toMatch(/^\*health failed\*\n/);
  expect(posts[0]!.text).toMatch(/Error: down: kafka \(.*ECONNREFUSED/);
});
