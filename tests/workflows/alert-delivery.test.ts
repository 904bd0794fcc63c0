import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createAlertActivities } from '../../activities/alerts.js';
import type { HealthActivities } from '../../activities/health.js';
import { emailChannel, webhookChannel } from '../../lib/alerts/alerts.js';
import { loadConfig } from '../../lib/config.js';
import type { CheckResult } from '../../lib/health/report.js';
import type { Warehouse } from '../../lib/warehouse/types.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { healthCheckWorkflow } from '../../workflows/health.js';
import { runWorkflow, useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);

const mails: string[] = [];
const posts: string[] = [];
let webhookFailures = 0;
let smtp: SMTPServer;
let http: Server;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (webhookFailures > 0) {
        webhookFailures--;
        res.writeHead(503).end('busy');
        return;
      }
      posts.push((JSON.parse(body) as { text: string }).text);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => smtp.close(() => r()));
  await new Promise<void>((r) => http.close(() => r()));
});

/** A warehouse that is down: every call fails. */
const fail = () => Promise.reject(new Error('IO Error: Could not set lock on file "egx.duckdb"'));
const downWarehouse: Warehouse = {
  dialect: 'duckdb',
  execute: fail,
  query: fail,
  bulkInsert: fail,
  upsert: fail,
  bootstrap: fail,
  close: async () => {},
};

const up = (component: CheckResult['component']): CheckResult => ({
  component,
  ok: true,
  latencyMs: 1,
  detail: 'fine',
});

test('a failed run alerts with the warehouse down; the channel that failed is retried by Temporal, the one that delivered is not', async () => {
  webhookFailures = 1;
  const alerts = createAlertActivities({
    config: loadConfig({}),
    warehouse: downWarehouse,
    channels: [
      emailChannel({
        host: '127.0.0.1',
        port: (smtp.server.address() as AddressInfo).port,
        secure: false,
        from: 'egx@example.test',
        to: ['oncall@example.test'],
      }),
      webhookChannel(`http://127.0.0.1:${(http.address() as AddressInfo).port}/hooks/egx`),
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
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatch(/^Subject: \[EGX pipeline\] health failed/m);
  expect(posts).toHaveLength(1);
  expect(posts[0]).toMatch(/^\*health failed\*\n/);
  expect(posts[0]).toMatch(/Error: down: kafka \(.*ECONNREFUSED/);
});
