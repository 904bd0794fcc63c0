/**
 * The pipeline worker as a child process (`node --import tsx workers/main.ts`), so a fault can
 * SIGKILL it, and a small supervisor that starts it again the way a process manager would
 * (Compose's restart policy, systemd): after a crash or a failed start it waits and starts it anew.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envSchema } from '../../lib/config.js';
import { PROJECT_ROOT } from '../devstack/profile.js';

/** The parent's environment without any pipeline setting, so only the scenario's own reach the worker. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(envSchema.shape)) delete env[name];
  return env;
}

export class SupervisedWorker {
  private child?: ChildProcess;
  private wanted = false;
  private restartTimer?: NodeJS.Timeout;
  /** Processes started so far (the first start included). */
  starts = 0;
  /** Starts that exited on their own (e.g. the warehouse could not be opened). */
  crashes = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    private readonly restartDelayMs = 2000,
  ) {
    mkdirSync(dirname(logFile), { recursive: true });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private note(line: string): void {
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `--- ${new Date().toISOString()} ${line}\n`);
    closeSync(fd);
  }

  /** Starts the worker and keeps it running until stop(). */
  start(): void {
    this.wanted = true;
    this.spawnOnce();
  }

  private spawnOnce(): void {
    this.restartTimer = undefined;
    if (!this.wanted || this.child) return;
    this.starts++;
    this.note(`starting worker (start ${this.starts})`);
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', join('workers', 'main.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...baseEnv(), ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.note(`worker exited (code ${code}, signal ${signal})`);
      if (!this.wanted) return;
      if (signal !== 'SIGKILL') this.crashes++;
      this.restartTimer = setTimeout(() => this.spawnOnce(), this.restartDelayMs);
    });
  }

  /**
   * SIGKILL: no shutdown, no clean-up; the supervisor starts a new worker after its delay (unless
   * `restart` is false: then it stays down until start()).
   */
  async kill(opts: { waitForExit?: boolean; restart?: boolean } = {}): Promise<boolean> {
    const c = this.child;
    if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return false;
    if (opts.restart === false) this.wanted = false;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    this.note('SIGKILL (fault)');
    c.kill('SIGKILL');
    if (opts.waitForExit) await exited;
    return true;
  }

  /** Stops for good: SIGTERM (the worker drains and commits), SIGKILL after `graceMs`. */
  async stop(graceMs = 60_000): Promise<void> {
    this.wanted = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const forced = setTimeout(() => {
      this.note(`did not stop within ${graceMs / 1000} s of SIGTERM; SIGKILL`);
      c.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(forced);
  }
}
