import { Runtime } from '@temporalio/worker';
import { afterAll, expect, test, vi } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { installRuntime } from '../../workers/runtime.js';

// One runtime per process: this file installs it at LOG_LEVEL=debug (typed in lower case).
const written: string[] = [];
const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
  written.push(String(chunk));
  return true;
});
afterAll(() => spy.mockRestore());
installRuntime(loadConfig({ LOG_LEVEL: 'debug' }));
const logger = Runtime.instance().logger;

test('LOG_LEVEL decides what the worker writes, one line per entry, after the SDK entries are reshaped', async () => {
  written.length = 0;
  logger.trace('a trace line');
  logger.debug('a debug line', { workflowId: 'daily-batch-2026-01-14' });
  logger.warn('No workflows registered, not polling for workflow tasks', {
    sdkComponent: 'worker',
    taskQueue: 'egx-stream',
  });
  logger.warn('Activity failed', {
    attempt: 2,
    taskToken: 'CiQ5ZjE0YmJkNy1hZGFi',
    activityType: 'runQualityGate',
    workflowId: 'daily-batch-2026-01-14',
    error: new Error('IO Error: Could not read file'),
  });
  // The runtime's logger passes entries on in order, a moment later.
  await vi.waitFor(() => expect(written).toHaveLength(3));
  expect(written.map((l) => l.replace(/^\S+ /, ''))).toEqual([
    '[DEBUG] a debug line  workflowId=daily-batch-2026-01-14\n',
    '[DEBUG] No workflows registered, not polling for workflow tasks  taskQueue=egx-stream\n',
    '[WARN] activity runQualityGate failed (attempt 2): Error: IO Error: Could not read file  workflowId=daily-batch-2026-01-14\n',
  ]);
});
