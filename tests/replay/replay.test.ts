/**
 * Replays every committed history (tests/replay/histories/<set>/) against the current workflow
 * code, as a worker would after a deploy, and fails on any non-determinism, naming the file.
 * A change that alters the commands a running history replays must sit behind `patched()`
 * (README, "Deploying workflow changes"). Refresh: `npm run histories:record -- tests/replay/histories/<new set>`.
 */
import { Worker, type ReplayError } from '@temporalio/worker';
import type { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, expect, test } from 'vitest';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import * as registered from '../../workflows/index.js';
import { loadCommittedHistories } from './histories.js';

const histories = loadCommittedHistories();
const results = new Map<string, ReplayError | DeterminismViolationError | undefined>();

beforeAll(async () => {
  const replay = Worker.runReplayHistories(
    { workflowsPath: WORKFLOWS_PATH, replayName: 'committed-histories' },
    histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
  );
  let i = 0;
  for await (const r of replay) results.set(histories[i++]!.name, r.error);
});

test.each(histories.map((h) => [h.name]))('%s replays against the current workflow code', (name) => {
  expect(results.has(name), `${name} was not replayed`).toBe(true);
  const error = results.get(name);
  if (error) expect.fail(`${name} does not replay: ${error.name}: ${error.message}`);
});

test('every workflow type the workers register has a committed history', () => {
  const types = Object.entries(registered)
    .filter(([, v]) => typeof v === 'function')
    .map(([name]) => name)
    .sort();
  expect(types.length).toBeGreaterThan(0);
  const recorded = new Set(histories.map((h) => h.workflowType));
  expect(
    types.filter((t) => !recorded.has(t)),
    'workflow types without a history: npm run histories:record -- tests/replay/histories/<new set>',
  ).toEqual([]);
});
