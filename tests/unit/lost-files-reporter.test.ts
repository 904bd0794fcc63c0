import { expect, test } from 'vitest';
import { runOutcome } from '../support/lost-files-reporter.js';

const mod = (file: string, state: string) =>
  ({ moduleId: `${process.cwd()}/${file}`, state: () => state }) as never;

test('a file that never finished is lost; failed files and other errors are told apart from it', () => {
  const workerDied = {
    message: '[vitest-pool]: Worker forks emitted error.',
    cause: { message: 'Worker exited unexpectedly' },
  };
  expect(
    runOutcome(
      [mod('tests/a.test.ts', 'passed'), mod('tests/b.test.ts', 'pending'), mod('tests/c.test.ts', 'queued')],
      [workerDied],
    ),
  ).toEqual({ lost: ['tests/b.test.ts', 'tests/c.test.ts'], failed: [], otherErrors: 0 });
  expect(
    runOutcome(
      [mod('tests/a.test.ts', 'failed'), mod('tests/b.test.ts', 'skipped')],
      [workerDied, { message: 'Unhandled Rejection: boom' }],
    ),
  ).toEqual({ lost: [], failed: ['tests/a.test.ts'], otherErrors: 1 });
});
