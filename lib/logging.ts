/** Keys whose values never reach a log line. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key/i;

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A log entry as the Temporal SDK's logger hands it over (and as the project's own code writes it). */
export interface LogEntry {
  level: LogLevel;
  message: string;
  timestampNanos: bigint;
  meta?: Record<string, unknown>;
}

/** Where a library's log lines go (a function, so lib/ needs no logger of its own). */
export type LogSink = (level: LogLevel, message: string, meta?: Record<string, unknown>) => void;

/** True when an entry of `level` is shown at the threshold `min`. */
export const atLeast = (level: LogLevel, min: LogLevel) =>
  LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(min);

/** A copy of log attributes with secret-looking values replaced, however deeply nested. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]),
  );
}

/**
 * An error in one line: its type (an ApplicationFailure's `type`, else the class name) and message,
 * then each cause whose message adds something, joined by " ← ".
 */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (cur instanceof Error) {
      const type = (cur as { type?: unknown }).type;
      const name = typeof type === 'string' && type ? type : cur.name;
      const message = cur.message.replace(/\s*\n\s*/g, ' ');
      if (!parts.some((p) => p.includes(message))) parts.push(message ? `${name}: ${message}` : name);
      cur = cur.cause;
    } else {
      parts.push(typeof cur === 'string' ? cur : JSON.stringify(cur));
      break;
    }
  }
  return parts.join(' ← ');
}

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');

/** Identifiers kept when an activity failure is logged (no task token, no stack). */
const ACTIVITY_KEYS = [
  'workflowId',
  'workflowRunId',
  'workflowType',
  'activityType',
  'activityId',
  'attempt',
  'taskQueue',
];

export interface ShapeOptions {
  /** Task queues whose workers run activities only, by design: their "no workflows registered" warning is not news. */
  activityOnlyQueues?: readonly string[];
}

/**
 * Reshapes what the SDK logs before it is written:
 * - "Activity failed" (a multi-line object with the task token and stack) becomes one line
 *   naming the activity, the attempt and the cause;
 * - "No workflows registered" of a worker that is meant to run activities only drops to DEBUG;
 * - the task token never appears.
 */
export function shapeLogEntry(entry: LogEntry, opts: ShapeOptions = {}): LogEntry {
  const meta = { ...entry.meta };
  delete meta.taskToken;
  if (entry.message === 'Activity failed' && 'error' in meta) {
    const kept = Object.fromEntries(
      ACTIVITY_KEYS.filter((k) => meta[k] !== undefined).map((k) => [k, meta[k]]),
    );
    const cause = describeError(meta.error);
    return {
      ...entry,
      message: `activity ${text(meta.activityType)} failed (attempt ${text(meta.attempt)}): ${cause}`,
      meta: { ...kept, error: cause },
    };
  }
  if (
    entry.message.startsWith('No workflows registered') &&
    typeof meta.taskQueue === 'string' &&
    opts.activityOnlyQueues?.includes(meta.taskQueue)
  ) {
    return { ...entry, level: 'DEBUG', meta };
  }
  return { ...entry, meta: entry.meta ? meta : undefined };
}

const time = (nanos: bigint) => new Date(Number(nanos / 1_000_000n)).toISOString();

const bigintSafe = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * One log entry as one JSON line: time, level, message, then the attributes the SDK attaches
 * (workflowId, runId, activityId, activityType, taskQueue, ...) with secrets redacted.
 */
export function jsonLogLine(entry: {
  level: string;
  message: string;
  timestampNanos: bigint;
  meta?: Record<string, unknown>;
}): string {
  const meta = (redact(entry.meta ?? {}) as Record<string, unknown>) ?? {};
  return JSON.stringify(
    { time: time(entry.timestampNanos), level: entry.level.toLowerCase(), msg: entry.message, ...meta },
    bigintSafe,
  );
}

/** Attributes not worth a column in a text line (the SDK adds them to everything). */
const TEXT_SKIP = new Set(['sdkComponent', 'namespace', 'isLocal', 'workflowRunId', 'runId', 'error']);

/**
 * One log entry as one text line: `time [LEVEL] message (error) key=value …`, secrets redacted;
 * what the message already says (a shaped activity failure's activity, attempt and cause) is not repeated.
 */
export function textLogLine(entry: LogEntry): string {
  const meta = (redact(entry.meta ?? {}) as Record<string, unknown>) ?? {};
  const said = (k: string, v: unknown) =>
    (k === 'activityType' && entry.message.includes(`activity ${String(v)} `)) ||
    (k === 'attempt' && entry.message.includes(`(attempt ${String(v)})`));
  const fields = Object.entries(meta)
    .filter(([k, v]) => v !== undefined && !TEXT_SKIP.has(k) && !said(k, v))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, bigintSafe)}`);
  const error = entry.meta?.error === undefined ? '' : describeError(entry.meta.error);
  const line = [
    `${time(entry.timestampNanos)} [${entry.level}] ${entry.message}`,
    error && !entry.message.includes(error) ? ` (${error})` : '',
    fields.length ? `  ${fields.join(' ')}` : '',
  ].join('');
  return line.replace(/\s*\n\s*/g, ' ');
}
