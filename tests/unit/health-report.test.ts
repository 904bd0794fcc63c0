import { describe, expect, test } from 'vitest';
import {
  allHealthy,
  describeError,
  formatReport,
  summarize,
  timed,
  type CheckResult,
} from '../../lib/health/report.js';

const results: CheckResult[] = [
  { component: 'temporal', ok: true, latencyMs: 12, detail: 'server 1.32.0' },
  { component: 'kafka', ok: false, latencyMs: 2034, detail: 'connect ECONNREFUSED 127.0.0.1:9092' },
];

describe('health report', () => {
  test('one line per component with status, latency and detail', () => {
    expect(formatReport(results).split('\n')).toEqual([
      'temporal  UP       12 ms  server 1.32.0',
      'kafka     DOWN   2034 ms  connect ECONNREFUSED 127.0.0.1:9092',
    ]);
  });

  test('healthy only when every component is up, and never when nothing was checked', () => {
    expect(allHealthy(results)).toBe(false);
    expect(allHealthy(results.slice(0, 1))).toBe(true);
    expect(allHealthy([])).toBe(false);
  });

  test('the summary names what is down', () => {
    expect(summarize(results)).toBe('kafka down: kafka: connect ECONNREFUSED 127.0.0.1:9092');
    expect(summarize(results.slice(0, 1))).toBe('all 1 components healthy');
  });

  test('timed turns a thrown error into a failed result with its latency', async () => {
    let t = 100;
    const now = () => (t += 50);
    const failed = await timed(
      'kafka',
      async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
      },
      now,
    );
    expect(failed).toEqual({
      component: 'kafka',
      ok: false,
      latencyMs: 50,
      detail: 'connect ECONNREFUSED 127.0.0.1:9092',
    });
    const ok = await timed('s3', async () => 'round trip', now);
    expect(ok).toMatchObject({ ok: true, detail: 'round trip' });
  });

  test('describeError follows causes, names error classes and codes, and drops repeated messages', () => {
    class KafkaJSConnectionError extends Error {
      override name = 'KafkaJSConnectionError';
    }
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const e = new KafkaJSConnectionError('Connection error: socket hang up', { cause: root });
    expect(describeError(e)).toBe('KafkaJSConnectionError: Connection error: socket hang up');
    const distinct = new Error('upload failed', { cause: root });
    expect(describeError(distinct)).toBe('upload failed <- socket hang up (ECONNRESET)');
    expect(describeError('plain string')).toBe('plain string');
  });
});
