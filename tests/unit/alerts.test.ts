import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { emailChannel, raiseAlert, webhookChannel, type Alert } from '../../lib/alerts/alerts.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

let wh: DuckDbWarehouse;
let smtp: SMTPServer;
let http: Server;
const mails: string[] = [];
const posts: { text: string }[] = [];
let smtpPort = 0;
let hookUrl = '';

beforeEach(async () => {
  mails.length = 0;
  posts.length = 0;
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
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
  smtpPort = (smtp.server.address() as AddressInfo).port;
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push(JSON.parse(body) as { text: string });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hooks/egx`;
});

afterEach(async () => {
  await wh.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  await new Promise<void>((r) => http.close(() => r()));
});

const alert: Alert = {
  title: 'daily-batch 2026-01-14 failed',
  where: 'workflow daily-batch-2026-01-14 (pipeline daily-batch), activity runQualityGate',
  error: 'quality gate failed: price_ranges: 3 of 120 rows have high < low',
  link: 'http://127.0.0.1:8233/namespaces/default/workflows/daily-batch-2026-01-14/abc',
  key: 'daily-batch:QualityGateFailed',
};

test('an alert reaches a real SMTP server and a webhook, saying what failed, where, the error and the link', async () => {
  const channels = [
    emailChannel({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      from: 'egx@example.test',
      to: ['oncall@example.test'],
    }),
    webhookChannel(hookUrl),
  ];
  const r = await raiseAlert({ warehouse: wh, channels, groupMinutes: 60 }, alert);
  expect(r.sent.sort()).toEqual(['email', 'webhook']);
  expect(mails).toHaveLength(1);
  const mail = mails[0]!.replace(/=\r?\n/g, '');
  expect(mail).toMatch(/^Subject: \[EGX pipeline\] daily-batch 2026-01-14 failed/m);
  expect(mail).toMatch(/^To: oncall@example\.test/m);
  expect(mail).toContain(
    'Where: workflow daily-batch-2026-01-14 (pipeline daily-batch), activity runQualityGate',
  );
  expect(mail).toContain('Error: quality gate failed: price_ranges: 3 of 120 rows have high < low');
  expect(mail).toContain(`Run: ${alert.link}`);
  expect(posts).toHaveLength(1);
  expect(posts[0]!.text).toMatch(
    /^\*daily-batch 2026-01-14 failed\*\nWhere: workflow daily-batch-2026-01-14/,
  );
  expect(posts[0]!.text).toContain(`Run: <${alert.link}|open in the Temporal Web UI>`);
});

test('repeats of the same problem are grouped: counted within the window, reported with the next alert', async () => {
  let now = new Date('2026-01-14T01:00:00Z');
  const deps = { warehouse: wh, channels: [webhookChannel(hookUrl)], groupMinutes: 60, now: () => now };
  expect((await raiseAlert(deps, alert)).grouped).toBe(false);
  now = new Date('2026-01-14T01:20:00Z');
  expect(await raiseAlert(deps, alert)).toEqual({ sent: [], grouped: true });
  now = new Date('2026-01-14T01:40:00Z');
  await raiseAlert(deps, alert);
  // Another problem is not held back by the first.
  expect(
    (await raiseAlert(deps, { ...alert, key: 'transforms:DataTestsFailed', title: 'transforms failed' }))
      .grouped,
  ).toBe(false);
  now = new Date('2026-01-14T02:05:00Z');
  await raiseAlert(deps, alert);
  expect(posts.map((p) => p.text.split('\n')[0])).toEqual([
    '*daily-batch 2026-01-14 failed*',
    '*transforms failed*',
    '*daily-batch 2026-01-14 failed*',
  ]);
  expect(posts[2]!.text).toContain('Seen 2 more time(s) since 2026-01-14T01:00:00.000Z without a new alert.');
});

test('a channel that fails is reported, and the others still deliver', async () => {
  const deps = {
    warehouse: wh,
    channels: [webhookChannel(hookUrl), webhookChannel('http://127.0.0.1:9/nothing-listens', 2000)],
    groupMinutes: 60,
  };
  await expect(raiseAlert(deps, alert)).rejects.toThrow(
    /alert "daily-batch 2026-01-14 failed" not delivered: webhook: /,
  );
  expect(posts).toHaveLength(1);
});
