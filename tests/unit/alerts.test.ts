import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  AlertNotDeliveredError,
  emailChannel,
  raiseAlert,
  webhookChannel,
  type Alert,
  type AlertDelivery,
} from '../../lib/alerts/alerts.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';
import { downWarehouse, startAlertReceivers, type AlertReceivers } from '../support/alert-receivers.js';

let wh: DuckDbWarehouse;
let receivers: AlertReceivers;
let mails: string[];
let posts: AlertReceivers['posts'];
let smtpPort = 0;
let hookUrl = '';
let flakyUrl = '';

beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  receivers = await startAlertReceivers();
  ({ mails, posts, smtpPort } = receivers);
  hookUrl = receivers.url('/hooks/egx');
  flakyUrl = receivers.url('/hooks/flaky');
});

afterEach(async () => {
  await wh.close();
  await receivers.close();
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

const smtpTo = () =>
  emailChannel({
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    from: 'egx@example.test',
    to: ['a@example.test'],
  });

test('with the warehouse down, the alert still reaches the SMTP server and the webhook, and the grouping failure is told', async () => {
  const told: string[] = [];
  const r = await raiseAlert(
    {
      warehouse: downWarehouse(),
      channels: [smtpTo(), webhookChannel(hookUrl)],
      groupMinutes: 60,
      onGroupingError: (what, e) => told.push(`${what}: ${e.message}`),
    },
    alert,
  );
  expect(r).toEqual({ sent: expect.arrayContaining(['email', 'webhook']), grouped: false });
  expect(mails).toHaveLength(1);
  expect(posts).toHaveLength(1);
  expect(posts[0]!.text).toContain('Error: quality gate failed');
  expect(told).toEqual([
    'alert grouping skipped: reading META.ALERTS failed: IO Error: Could not set lock on file',
  ]);
  // Nothing was recorded: when the warehouse is back, the next alert is not held back.
  await raiseAlert({ warehouse: wh, channels: [webhookChannel(hookUrl)], groupMinutes: 60 }, alert);
  expect(posts).toHaveLength(2);
});

test('a warehouse that does not answer delays the alert by the grouping timeout only', async () => {
  const t0 = Date.now();
  const r = await raiseAlert(
    {
      warehouse: downWarehouse(true),
      channels: [webhookChannel(hookUrl)],
      groupMinutes: 60,
      groupingTimeoutMs: 300,
    },
    alert,
  );
  expect(r.sent).toEqual(['webhook']);
  expect(posts).toHaveLength(1);
  expect(Date.now() - t0).toBeLessThan(3000);
});

test('a channel that fails is named with its error, the others deliver once, and a retry sends only to the failed one', async () => {
  receivers.failures['/hooks/flaky'] = 1;
  const progress: AlertDelivery[] = [];
  const deps = {
    warehouse: wh,
    channels: [smtpTo(), webhookChannel(flakyUrl)],
    groupMinutes: 60,
    onProgress: (d: AlertDelivery) => progress.push(d),
  };
  const err = await raiseAlert(deps, alert).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AlertNotDeliveredError);
  expect((err as Error).message).toBe(
    'alert "daily-batch 2026-01-14 failed" not delivered: webhook: webhook 127.0.0.1:' +
      `${new URL(flakyUrl).port} answered 503 Service Unavailable (delivered to email)`,
  );
  expect(mails).toHaveLength(1);
  expect(posts).toHaveLength(0);
  const last = progress.at(-1)!;
  expect(last).toMatchObject({ delivered: ['email'], recordPending: false });

  // The retry (as Temporal runs it, with the progress heartbeated): only the webhook is tried.
  // Without `resume` the alert would now be grouped away, since META.ALERTS records it as sent.
  const r = await raiseAlert({ ...deps, resume: last }, alert);
  expect(r).toEqual({ sent: ['email', 'webhook'], grouped: false });
  expect(mails).toHaveLength(1);
  expect(posts).toHaveLength(1);
  expect(posts[0]!.text).toContain(`When: ${last.alert.at}`);
  // A later repeat within the window is grouped as before.
  expect(await raiseAlert(deps, alert)).toEqual({ sent: [], grouped: true });
  expect(mails).toHaveLength(1);
  expect(posts).toHaveLength(1);
});

test('every channel failing: the alert is not recorded as sent, so the next attempt sends it again', async () => {
  receivers.failures['/hooks/flaky'] = 1;
  const deps = { warehouse: wh, channels: [webhookChannel(flakyUrl)], groupMinutes: 60 };
  await expect(raiseAlert(deps, alert)).rejects.toThrow(/not delivered: webhook: .*503/);
  expect(await raiseAlert(deps, alert)).toEqual({ sent: ['webhook'], grouped: false });
  expect(posts).toHaveLength(1);
});
