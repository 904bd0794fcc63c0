import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.js';

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/** Fails with one clear message when a tool the stack needs is not installed. */
export function requireTool(cmd: string, neededFor: string, howToGet: string): string {
  const path = which(cmd);
  if (!path) throw new StackError(`'${cmd}' not found on PATH; it is needed ${neededFor}.`, howToGet);
  return path;
}

export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log file)';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/** Runs a command to completion, sending its output to `logFile`; a non-zero exit becomes a StackError with the log's tail. */
export async function runLogged(
  what: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; hint: string },
): Promise<void> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', fd, fd],
      });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    if (code !== 0) {
      throw new StackError(
        `${what} failed (exit ${code}). Last lines of ${opts.logFile}:\n${tail(opts.logFile)}`,
        opts.hint,
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * `apt-get <args>`, logged. On a machine whose package lists are missing or stale the first try
 * fails; as root, the lists are refreshed once and the step is tried again.
 */
export async function aptGet(
  args: string[],
  opts: { cwd?: string; logFile: string; hint: string },
): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const step = () => runLogged(`apt-get ${args.join(' ')}`, 'apt-get', args, { ...opts, env });
  try {
    await step();
  } catch (e) {
    if (process.getuid?.() !== 0) throw e;
    await runLogged('apt-get update', 'apt-get', ['update', '-q'], {
      env,
      logFile: `${opts.logFile}.apt-update`,
      hint: 'The Debian package mirror must be reachable.',
    });
    await step();
  }
}

export interface Daemon {
  name: string;
  pidFile: string;
  logFile: string;
}

export function readPid(d: Daemon): number | undefined {
  if (!existsSync(d.pidFile)) return undefined;
  const pid = Number(readFileSync(d.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; treat it as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The running pid of a daemon, or undefined (a stale pid file is removed). */
export function runningPid(d: Daemon): number | undefined {
  const pid = readPid(d);
  if (pid === undefined) return undefined;
  if (isAlive(pid)) return pid;
  rmSync(d.pidFile, { force: true });
  return undefined;
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a long-running server in its own process group, detached from the caller, logging to its log file. */
export function startDaemon(
  d: Daemon,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): { pid: number; logOffset: number } {
  mkdirSync(dirname(d.logFile), { recursive: true });
  mkdirSync(dirname(d.pidFile), { recursive: true });
  const logOffset = existsSync(d.logFile) ? statSync(d.logFile).size : 0;
  const fd = openSync(d.logFile, 'a');
  writeFileSync(fd, `\n--- ${new Date().toISOString()} starting: ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new StackError(`${d.name}: could not start ${cmd}`);
  child.unref();
  writeFileSync(d.pidFile, `${child.pid}\n`);
  return { pid: child.pid, logOffset };
}

/** Stops a daemon and everything in its process group: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopDaemon(d: Daemon, graceMs = 20_000): Promise<boolean> {
  const pid = runningPid(d);
  if (pid === undefined) return false;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      try {
        process.kill(pid, s);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signal('SIGKILL');
  while (isAlive(pid)) await sleep(50);
  rmSync(d.pidFile, { force: true });
  return true;
}

/**
 * Polls `probe` until it returns true. Fails early, with the log's tail, when the process dies,
 * and after `timeoutMs` with the last probe error.
 */
export async function waitReady(
  d: Daemon,
  pid: number,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  let lastError = 'not ready';
  for (;;) {
    if (!isAlive(pid)) {
      throw new StackError(
        `${d.name} exited during start-up. Last lines of ${d.logFile}:\n${tail(d.logFile)}`,
      );
    }
    try {
      if (await probe()) return Date.now() - started;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() - started > timeoutMs) {
      throw new StackError(
        `${d.name} not ready after ${Math.round(timeoutMs / 1000)} s (${lastError}). Last lines of ${d.logFile}:\n${tail(d.logFile)}`,
      );
    }
    await sleep(250);
  }
}

/** True when something already accepts TCP connections on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
