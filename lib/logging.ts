/** Keys whose values never reach a log line. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key/i;

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
 * One log entry as one JSON line: time, level, message, then the attributes the SDK attaches
 * (workflowId, runId, activityId, activityType, taskQueue, ...) with secrets redacted.
 */
export function jsonLogLine(entry: {
  level: string;
  message: string;
  timestampNanos: bigint;
  meta?: Record<string, unknown>;
}): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = (redact(entry.meta ?? {}) as Record<string, unknown>) ?? {};
  return JSON.stringify(
    { time, level: entry.level.toLowerCase(), msg: entry.message, ...meta },
    (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}
