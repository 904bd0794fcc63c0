/** The replay test can fail: a committed history against a changed health check, without and with patched(). */
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { expect, test } from 'vitest';
import { loadCommittedHistories } from './histories.js';

const changed = (file: string) => fileURLToPath(new URL(`./changed/${file}`, import.meta.url));
const health = loadCommittedHistories().find((h) => h.name.endsWith('/healthCheckWorkflow--ok.json'));

test('a history of the health check does not replay on code that adds a timer before the checks', async () => {
  expect(health, 'a committed healthCheckWorkflow--ok.json').toBeDefined();
  const replay = Worker.runReplayHistory(
    { workflowsPath: changed('health-unpatched.ts'), replayName: 'unpatched' },
    health!.history,
    health!.workflowId,
  );
  await expect(replay).rejects.toThrow(DeterminismViolationError);
  await expect(replay).rejects.toThrow(/Nondeterminism|nondeterminism/);
});

test('the same change behind patched() replays the old history', async () => {
  await Worker.runReplayHistory(
    { workflowsPath: changed('health-patched.ts'), replayName: 'patched' },
    health!.history,
    health!.workflowId,
  );
});
