import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { expect, test } from 'vitest';
import { heartbeating } from '../../activities/heartbeat.js';

/** An activity environment with a 400 ms heartbeat timeout (so a beat every 100 ms) that records the beats. */
function environment() {
  const env = new MockActivityEnvironment(
    { heartbeatTimeoutMs: 400 },
    { logger: new DefaultLogger('ERROR') },
  );
  const beats: { at: number; details: unknown }[] = [];
  const t0 = performance.now();
  env.on('heartbeat', (details: unknown) => beats.push({ at: performance.now() - t0, details }));
  return { env, beats };
}

/** Work that only ends when its signal aborts, as an interrupted statement does. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('interrupted'))));

test('heartbeats keep coming on a fixed period while one long step runs, carrying the latest progress', async () => {
  const { env, beats } = environment();
  let progress = { rows: 0 };
  const result = await env.run(() =>
    heartbeating(
      async () => {
        await sleep(300);
        progress = { rows: 50_000 };
        await sleep(900); // one long step with no progress reported
        return 'loaded';
      },
      { details: () => progress },
    ),
  );
  expect(result).toBe('loaded');
  // A beat at once, then one every 100 ms: no gap near the 400 ms timeout.
  expect(beats.length).toBeGreaterThanOrEqual(9);
  const gaps = beats.slice(1).map((b, i) => b.at - beats[i]!.at);
  expect(Math.max(...gaps)).toBeLessThan(300);
  expect(beats[0]!.details).toEqual({ rows: 0 });
  expect(beats.at(-1)!.details).toEqual({ rows: 50_000 });
  const count = beats.length;
  await sleep(300);
  expect(beats.length).toBe(count); // none after the activity ended
});

test('cancellation aborts the work, calls interrupt and rejects promptly with the CancelledFailure', async () => {
  const { env, beats } = environment();
  let interrupts = 0;
  let workSawAbort = false;
  const t0 = performance.now();
  const running = env.run(() =>
    heartbeating(
      async (signal) => {
        try {
          return await untilAborted(signal);
        } finally {
          workSawAbort = signal.aborted;
        }
      },
      { interrupt: () => interrupts++ },
    ),
  );
  setTimeout(() => env.cancel(), 300);
  const err = await running.catch((e: unknown) => e);
  const ms = performance.now() - t0;
  expect(err).toBeInstanceOf(CancelledFailure);
  expect(ms).toBeGreaterThanOrEqual(290);
  expect(ms).toBeLessThan(800);
  expect(interrupts).toBe(1);
  expect(workSawAbort).toBe(true);
  expect(beats.length).toBeGreaterThanOrEqual(2); // beats before the cancel (which a worker learns from them)
});

test('work that ignores cancellation is given settleMs, then the activity rejects anyway', async () => {
  const { env } = environment();
  const t0 = performance.now();
  const running = env.run(() => heartbeating(() => sleep(10_000, 'done'), { settleMs: 500 }));
  setTimeout(() => env.cancel(), 200);
  await expect(running).rejects.toBeInstanceOf(CancelledFailure);
  const ms = performance.now() - t0;
  expect(ms).toBeGreaterThanOrEqual(650);
  expect(ms).toBeLessThan(1500);
});

test('a failure of the work is passed on as it is, and the beats stop', async () => {
  const { env, beats } = environment();
  await expect(
    env.run(() =>
      heartbeating(async () => {
        await sleep(150);
        throw new Error('warehouse unreachable');
      }),
    ),
  ).rejects.toThrow('warehouse unreachable');
  const count = beats.length;
  await sleep(250);
  expect(beats.length).toBe(count);
});
