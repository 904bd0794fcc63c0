/**
 * Names the test files whose worker process died before they finished. Vitest reports such a death
 * only as "Worker exited unexpectedly", without the file, and the file's remaining tests are simply
 * missing from the counts. This reporter prints each such file and, when EGX_LOST_FILES is set,
 * writes what the run ended with to that path as JSON, for scripts/test.sh to run those files again.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export interface RunOutcome {
  /** Files that started but never finished: their worker process exited under them. */
  lost: string[];
  /** Files with a failed test or a failed hook. */
  failed: string[];
  /** Errors outside any test, other than the lost workers' own. */
  otherErrors: number;
}

const WORKER_EXIT = /Worker exited unexpectedly|Worker forks emitted error/;

export function runOutcome(
  modules: ReadonlyArray<Pick<TestModule, 'state' | 'moduleId'>>,
  unhandled: ReadonlyArray<{ message?: string; cause?: unknown }>,
): RunOutcome {
  const lost = modules
    .filter((m) => m.state() === 'pending' || m.state() === 'queued')
    .map((m) => relative(process.cwd(), m.moduleId));
  const failed = modules
    .filter((m) => m.state() === 'failed')
    .map((m) => relative(process.cwd(), m.moduleId));
  const otherErrors = unhandled.filter((e) => {
    const cause = e.cause as { message?: string } | undefined;
    return !WORKER_EXIT.test(`${e.message ?? ''} ${cause?.message ?? ''}`);
  }).length;
  return { lost, failed, otherErrors };
}

export default class LostFilesReporter implements Reporter {
  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandled: ReadonlyArray<{ message?: string; cause?: unknown }>,
  ) {
    const outcome = runOutcome(modules, unhandled);
    for (const file of outcome.lost)
      console.error(`lost: ${file} did not finish; the worker process running it exited`);
    if (process.env.EGX_LOST_FILES) writeFileSync(process.env.EGX_LOST_FILES, JSON.stringify(outcome));
  }
}
