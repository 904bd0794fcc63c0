import nodemailer from 'nodemailer';
import { withTimeout } from '../util/timeout.js';
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

/** Where a delivery stands: the alert as it went out, and the channels that have it. */
export interface AlertDelivery {
  alert: OutgoingAlert;
  delivered: string[];
  /** META.ALERTS has yet to record it as sent (false once written, or when it could not be read). */
  recordPending: boolean;
}

/** Thrown by raiseAlert when a channel could not deliver; names each such channel and its error. */
export class AlertNotDeliveredError extends Error {
  constructor(
    readonly title: string,
    readonly failures: { channel: string; error: string }[],
    readonly delivered: string[],
  ) {
    super(
      `alert "${title}" not delivered: ${failures.map((f) => `${f.channel}: ${f.error}`).join('; ')}` +
        (delivered.length > 0 ? ` (delivered to ${delivered.join(', ')})` : ''),
    );
    this.name = 'AlertNotDeliveredError';
  }
}

export interface RaiseAlertDeps {
  warehouse: Warehouse;
  channels: AlertChannel[];
  groupMinutes: number;
  now?: () => Date;
  /**
   * A delivery an earlier attempt began: only the channels that do not have it are tried, with
   * the same content, and grouping is not decided again.
   */
  resume?: AlertDelivery;
  /** Told after each channel delivers, with the delivery so far (the activity heartbeats it). */
  onProgress?: (d: AlertDelivery) => void;
  /** Told when META.ALERTS cannot be read or written; the alert goes out all the same. */
  onGroupingError?: (what: string, error: Error) => void;
  /** How long grouping may wait for the warehouse before the alert goes out without it. */
  groupingTimeoutMs?: number;
}

type Previous = { SUPPRESSED: number; LAST_SENT_AT: string | null; FIRST_AT: string };
const parseTs = (t: string) => new Date(`${t.replace(' ', 'T')}Z`);

/**
 * Sends an alert to every channel unless the same problem (key) was sent within the grouping
 * window; then it is only counted, and the next alert that goes out says how often it recurred.
 *
 * Sending comes first: grouping state lives in META.ALERTS and is best-effort, so an alert still
 * goes out (ungrouped) when the warehouse cannot be read in time. Delivery is per channel: a
 * channel that fails makes this throw AlertNotDeliveredError naming it, after the others have
 * delivered; given the progress reported so far (`resume`), a retry sends only to the channels
 * that do not have it yet.
 */
export async function raiseAlert(
  deps: RaiseAlertDeps,
  alert: Alert,
): Promise<{ sent: string[]; grouped: boolean }> {
  const wait = deps.groupingTimeoutMs ?? 5_000;
  const grouping = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withTimeout(work(), wait, `${what} did not answer`);
    } catch (e) {
      deps.onGroupingError?.(`alert grouping skipped: ${what} failed`, e as Error);
      return undefined;
    }
  };
  const record = (a: OutgoingAlert, prev: Previous | undefined, suppressed: number, sentAt: Date | null) =>
    grouping('writing META.ALERTS', () =>
      deps.warehouse.upsert(
        ALERTS,
        ['ALERT_KEY', 'TITLE', 'FIRST_AT', 'LAST_AT', 'LAST_SENT_AT', 'SUPPRESSED'],
        [
          [
            a.key,
            a.title,
            prev ? parseTs(prev.FIRST_AT) : new Date(a.at),
            new Date(a.at),
            sentAt ?? (prev?.LAST_SENT_AT ? parseTs(prev.LAST_SENT_AT) : null),
            suppressed,
          ],
        ],
      ),
    );

  const readPrevious = async () => {
    const rows = await grouping('reading META.ALERTS', () =>
      deps.warehouse.query<Previous>(
        'SELECT SUPPRESSED, CAST(LAST_SENT_AT AS VARCHAR) AS LAST_SENT_AT, CAST(FIRST_AT AS VARCHAR) AS FIRST_AT FROM META.ALERTS WHERE ALERT_KEY = ?',
        [alert.key],
      ),
    );
    return rows && { prev: rows[0] };
  };

  let state: { prev?: Previous } | undefined;
  let delivery = deps.resume && { ...deps.resume, delivered: [...deps.resume.delivered] };
  if (!delivery) {
    const now = (deps.now ?? (() => new Date()))();
    state = await readPrevious();
    const prev = state?.prev;
    const lastSent = prev?.LAST_SENT_AT ? parseTs(prev.LAST_SENT_AT) : undefined;
    const out: OutgoingAlert = {
      ...alert,
      at: now.toISOString(),
      repeats: prev?.SUPPRESSED ?? 0,
      since: lastSent?.toISOString(),
    };
    if (lastSent && now.getTime() - lastSent.getTime() < deps.groupMinutes * 60_000) {
      await record(out, prev, (prev?.SUPPRESSED ?? 0) + 1, null);
      return { sent: [], grouped: true };
    }
    // When the state could not be read, nothing is written: it would reset the counts.
    delivery = { alert: out, delivered: [], recordPending: state !== undefined };
  }

  const d = delivery;
  const failures: { channel: string; error: string }[] = [];
  await Promise.all(
    deps.channels
      .filter((c) => !d.delivered.includes(c.name))
      .map(async (c) => {
        try {
          await c.send(d.alert);
          d.delivered.push(c.name);
          deps.onProgress?.({ ...d, delivered: [...d.delivered] });
        } catch (e) {
          failures.push({ channel: c.name, error: (e as Error).message });
        }
      }),
  );
  if (d.recordPending && (d.delivered.length > 0 || deps.channels.length === 0)) {
    state ??= await readPrevious();
    if (state) d.recordPending = !(await record(d.alert, state.prev, 0, new Date(d.alert.at)));
    deps.onProgress?.({ ...d, delivered: [...d.delivered] });
  }
  if (failures.length > 0) throw new AlertNotDeliveredError(alert.title, failures, d.delivered);
  return { sent: [...d.delivered], grouped: false };
}
