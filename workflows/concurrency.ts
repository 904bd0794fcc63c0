import { ApplicationFailure } from '@temporalio/workflow';
import { pooled } from '../lib/util/pool.js';

/** Bounded concurrency for workflow code (deterministic: no timers, only awaited activities). */

export { pooled };

/** Runs `start` for every model once all the models it refs are done, at most `limit` at a time. */
export async function inDependencyOrder<T extends { name: string; refs: string[] }, R>(
  models: T[],
  limit: number,
  start: (m: T) => Promise<R>,
): Promise<R[]> {
  const planned = new Set(models.map((m) => m.name));
  const done = new Set<string>();
  const running = new Map<string, Promise<string>>();
  const results: R[] = [];
  const pending = [...models];
  while (pending.length > 0 || running.size > 0) {
    for (const m of [...pending]) {
      if (running.size >= limit) break;
      if (m.refs.every((r) => done.has(r) || !planned.has(r))) {
        pending.splice(pending.indexOf(m), 1);
        running.set(
          m.name,
          start(m).then((r) => (results.push(r), m.name)),
        );
      }
    }
    if (running.size === 0)
      throw ApplicationFailure.nonRetryable(
        `models wait on each other: ${pending.map((m) => m.name).join(', ')}`,
        'BadPlan',
      );
    const finished = await Promise.race(running.values());
    running.delete(finished);
    done.add(finished);
  }
  return results;
}
