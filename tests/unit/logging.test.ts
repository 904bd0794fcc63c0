import { expect, test } from 'vitest';
import { jsonLogLine, redact } from '../../lib/logging.js';

test('a log entry is one JSON line with time, level, message and the run identifiers; secrets are redacted however nested', () => {
  const line = jsonLogLine({
    level: 'WARN',
    message: 'alert: daily-batch failed',
    timestampNanos: 1_764_000_000_123_000_000n,
    meta: {
      workflowId: 'daily-batch-2026-11-26',
      runId: 'r-1',
      activityId: '11',
      attempt: 2n,
      smtp: { host: 'mail', password: 'hunter2' },
      headers: [{ Authorization: 'Bearer abc' }],
      apiKey: 'k',
      TEMPORAL_API_KEY: 'k2',
      error: new Error('connection refused'),
    },
  });
  expect(line).not.toContain('\n');
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(parsed).toEqual({
    time: '2025-11-24T16:00:00.123Z',
    level: 'warn',
    msg: 'alert: daily-batch failed',
    workflowId: 'daily-batch-2026-11-26',
    runId: 'r-1',
    activityId: '11',
    attempt: '2',
    smtp: { host: 'mail', password: '[redacted]' },
    headers: [{ Authorization: '[redacted]' }],
    apiKey: '[redacted]',
    TEMPORAL_API_KEY: '[redacted]',
    error: { name: 'Error', message: 'connection refused' },
  });
  for (const secret of ['hunter2', 'Bearer abc', '"k"', 'k2']) expect(line).not.toContain(secret);
  expect(redact('plain')).toBe('plain');
});
