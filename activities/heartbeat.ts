import { Context } from '@temporalio/activity';

export interface HeartbeatingOptions {
  /** What each heartbeat carries (the latest progress), read at every beat; shown on the pending activity. */
  details?: () => unknown;
  /** Time between heartbeats; default a quarter of the activity's heartbeat timeout, at most 10 s. */
  everyMs?: number;
  /** Called once on cancellation, for work the signal does not reach. */
  interrupt?: () => void;
  /** After cancellation, how long to wait for the work to stop before rejecting anyway (default 5 s). */
  settleMs?: number;
}

const MAX_PERIOD_MS = 10_000;

/**
 * Runs `work` while heartbeating on a fixed period, so a slow statement never misses the heartbeat
 * timeout and a dead worker is noticed within it. The work gets the activity's cancellation
 * signal: warehouse statements given it are interrupted when the activity is cancelled (from the
 * workflow, the Web UI, a heartbeat timeout or a worker shutdown). Then `interrupt` is called, the
 * work gets `settleMs` to stop, and the promise rejects with the activity's CancelledFailure.
 */
export async function heartbeating<T>(
  work: (signal: AbortSignal) => Promise<T>,
  opts: HeartbeatingOptions = {},
): Promise<T> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const every =
    opts.everyMs ?? Math.max(50, Math.min(MAX_PERIOD_MS, (ctx.info.heartbeatTimeoutMs ?? Infinity) / 4));
  const beat = () => ctx.heartbeat(opts.details?.());
  beat();
  const timer = setInterval(beat, every);
  const running = Promise.resolve().then(() => work(signal));
  try {
    return await Promise.race([running, ctx.cancelled]);
  } catch (e) {
    if (!signal.aborted) throw e;
    opts.interrupt?.();
    await settled(running, opts.settleMs ?? 5_000);
    throw signal.reason;
  } finally {
    clearInterval(timer);
  }
}

/** Resolves once `work` has settled, or after `ms`. */
async function settled(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
