import nodemailer from 'nodemailer';
import { ALERTS } from '../warehouse/schema.js';
import type { Warehouse } from '../warehouse/types.js';

/** One problem worth telling someone about. */
export interface Alert {
  /** What failed, in one line: "daily-batch 2026-01-14 failed". */
  title: string;
  /** Where: the pipeline, workflow and activity. */
  where: string;
  /** The error message. */
  error: string;
  /** The run in the Temporal Web UI. */
  link?: string;
  /** Same key = same problem: repeats within the grouping window are counted, not sent again. */
  key: string;
}

export interface OutgoingAlert extends Alert {
  at: string;
  /** Times the same problem was seen since it was last sent (not counting this one). */
  repeats: number;
  since?: string;
}

export interface AlertChannel {
  readonly name: string;
  send(alert: OutgoingAlert): Promise<void>;
}

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
  to: string[];
}

function lines(a: OutgoingAlert): string[] {
  return [
    `What: ${a.title}`,
    `Where: ${a.where}`,
    `Error: ${a.error}`,
    ...(a.link ? [`Run: ${a.link}`] : []),
    `When: ${a.at}`,
    ...(a.repeats > 0 ? [`Seen ${a.repeats} more time(s) since ${a.since} without a new alert.`] : []),
  ];
}

/** E-mail through an SMTP server (nodemailer). */
export function emailChannel(s: SmtpSettings): AlertChannel {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    ...(s.user ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
  });
  return {
    name: 'email',
    async send(a) {
      await transport.sendMail({
        from: s.from,
        to: s.to,
        subject: `[EGX pipeline] ${a.title}`,
        text: lines(a).join('\n') + '\n',
      });
    },
  };
}

/** A Slack-compatible incoming webhook: JSON `{text}` with a link to the run. */
export function webhookChannel(url: string, timeoutMs = 10_000): AlertChannel {
  return {
    name: 'webhook',
    async send(a) {
      const text = [
        `*${a.title}*`,
        ...lines(a)
          .slice(1)
          .map((l) => (a.link && l.startsWith('Run: ') ? `Run: <${a.link}|open in the Temporal Web UI>` : l)),
      ].join('\n');
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook ${new URL(url).host} answered ${res.status} ${res.statusText}`);
    },
  };
}

/**
 * Sends an alert to every channel unless the same problem (key) was sent within the grouping
 * window; then it is only counted, and the next alert that goes out says how often it recurred.
 * State lives in META.ALERTS, so it survives worker restarts.
 */
export async function raiseAlert(
  deps: { warehouse: Warehouse; channels: AlertChannel[]; groupMinutes: number; now?: () => Date },
  alert: Alert,
): Promise<{ sent: string[]; grouped: boolean }> {
  const now = (deps.now ?? (() => new Date()))();
  const [prev] = await deps.warehouse.query<{
    SUPPRESSED: number;
    LAST_SENT_AT: string | null;
    FIRST_AT: string;
  }>(
    'SELECT SUPPRESSED, CAST(LAST_SENT_AT AS VARCHAR) AS LAST_SENT_AT, CAST(FIRST_AT AS VARCHAR) AS FIRST_AT FROM META.ALERTS WHERE ALERT_KEY = ?',
    [alert.key],
  );
  const lastSent = prev?.LAST_SENT_AT ? Date.parse(`${prev.LAST_SENT_AT.replace(' ', 'T')}Z`) : undefined;
  const record = (suppressed: number, sentAt: Date | null) =>
    deps.warehouse.upsert(
      ALERTS,
      ['ALERT_KEY', 'TITLE', 'FIRST_AT', 'LAST_AT', 'LAST_SENT_AT', 'SUPPRESSED'],
      [
        [
          alert.key,
          alert.title,
          prev ? new Date(`${prev.FIRST_AT.replace(' ', 'T')}Z`) : now,
          now,
          sentAt ?? (lastSent ? new Date(lastSent) : null),
          suppressed,
        ],
      ],
    );
  if (lastSent !== undefined && now.getTime() - lastSent < deps.groupMinutes * 60_000) {
    await record((prev?.SUPPRESSED ?? 0) + 1, null);
    return { sent: [], grouped: true };
  }
  const out: OutgoingAlert = {
    ...alert,
    at: now.toISOString(),
    repeats: prev?.SUPPRESSED ?? 0,
    since: lastSent ? new Date(lastSent).toISOString() : undefined,
  };
  const failures: string[] = [];
  const sent: string[] = [];
  await Promise.all(
    deps.channels.map(async (c) => {
      try {
        await c.send(out);
        sent.push(c.name);
      } catch (e) {
        failures.push(`${c.name}: ${(e as Error).message}`);
      }
    }),
  );
  if (sent.length > 0 || deps.channels.length === 0) await record(0, now);
  if (failures.length > 0) throw new Error(`alert "${alert.title}" not delivered: ${failures.join('; ')}`);
  return { sent, grouped: false };
}
