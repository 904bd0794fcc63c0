import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { StackError } from '../../scripts/devstack/errors.js';
import {
  isAlive,
  requireTool,
  runLogged,
  runningPid,
  startDaemon,
  stopDaemon,
  waitReady,
} from '../../scripts/devstack/proc.js';

const daemon = () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-proc-'));
  return { name: 'test daemon', pidFile: join(dir, 'run', 'd.pid'), logFile: join(dir, 'logs', 'd.log') };
};

describe('local stack process handling', () => {
  test('a missing tool gives one message naming it and how to get it', () => {
    const err = (() => {
      try {
        requireTool('egx-no-such-tool', 'to run the tests', 'Install it from somewhere.');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StackError);
    expect((err as StackError).message).toBe(
      "'egx-no-such-tool' not found on PATH; it is needed to run the tests.",
    );
    expect((err as StackError).hint).toBe('Install it from somewhere.');
  });

  test('a failed install step reports its exit code, the log tail and the hint', async () => {
    const d = daemon();
    const err = await runLogged('downloading things', 'sh', ['-c', 'echo "404 Not Found: thing"; exit 3'], {
      logFile: d.logFile,
      hint: 'check the registry',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as StackError).message).toMatch(
      /downloading things failed \(exit 3\)[\s\S]*404 Not Found: thing/,
    );
    expect((err as StackError).hint).toBe('check the registry');
  });

  test('a server that dies during start-up fails the wait at once, showing its log', async () => {
    const d = daemon();
    const { pid } = startDaemon(d, 'sh', ['-c', 'echo "bind: address already in use"; exit 1']);
    const t0 = Date.now();
    const err = await waitReady(d, pid, async () => false, 30_000).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect((err as Error).message).toMatch(/test daemon exited during start-up[\s\S]*address already in use/);
  });

  test('stop ends the whole process group and clears the pid file', async () => {
    const d = daemon();
    // A parent that ignores nothing and a child it spawned: both must go.
    const { pid } = startDaemon(d, 'sh', ['-c', 'sleep 300 & echo child $!; wait']);
    await waitReady(d, pid, async () => true, 5_000);
    expect(runningPid(d)).toBe(pid);
    expect(await stopDaemon(d)).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(d.pidFile)).toBe(false);
    expect(await stopDaemon(d)).toBe(false);
  });
});
