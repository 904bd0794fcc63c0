import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, ComponentStatus } from './component.js';
import { fakesnow } from './fakesnow.js';
import { influxdb } from './influxdb.js';
import { kafka } from './kafka.js';
import { portInUse } from './proc.js';
import { stackEnv, type ComponentName, type StackProfile } from './profile.js';
import { s3 } from './s3.js';
import { temporalDevServer, temporalTestServer } from './temporal.js';
import { StackError } from './errors.js';

export const COMPONENTS: Record<ComponentName, Component> = {
  temporal: temporalDevServer,
  'test-server': temporalTestServer,
  kafka,
  s3,
  fakesnow,
  influxdb,
};

type Log = (line: string) => void;

function pick(p: StackProfile, only?: ComponentName[]): Component[] {
  return (only && only.length > 0 ? only : p.components).map((n) => {
    const c = COMPONENTS[n];
    if (!c)
      throw new StackError(
        `unknown component "${n}" (expected one of: ${Object.keys(COMPONENTS).join(', ')})`,
      );
    return c;
  });
}

/** Installs the pinned servers (in parallel; each install is cached and skipped when present). */
export async function install(p: StackProfile, log: Log, only?: ComponentName[]): Promise<void> {
  await Promise.all(
    pick(p, only).map(async (c) => {
      const t0 = Date.now();
      const did = await c.install(p);
      log(
        did
          ? `${c.name}: installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`
          : `${c.name}: already installed`,
      );
    }),
  );
}

/** Starts the servers one after another (they compete for 2 cores otherwise) and waits until each one really serves. */
export async function up(p: StackProfile, log: Log, only?: ComponentName[]): Promise<void> {
  for (const c of pick(p, only)) {
    const before = c.status(p);
    if (!before.running) {
      const port = Number(/:(\d+)$/.exec(before.address)?.[1]);
      if (port && (await portInUse(port))) {
        throw new StackError(
          `${c.name}: port ${port} is already taken by another process.`,
          `Stop whatever listens on 127.0.0.1:${port} (ss -ltnp | grep ${port}).`,
        );
      }
    }
    const ms = await c.start(p);
    const s = c.status(p);
    log(
      ms === 0
        ? `${c.name}: already running (pid ${s.pid}) at ${s.address}`
        : `${c.name}: ready in ${(ms / 1000).toFixed(1)} s (pid ${s.pid}, ${s.rssMiB ?? '?'} MiB) at ${s.address}`,
    );
  }
  mkdirSync(p.runDir, { recursive: true });
  const env = stackEnv(p);
  writeFileSync(
    join(p.runDir, 'stack.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
}

export async function down(p: StackProfile, log: Log, only?: ComponentName[]): Promise<void> {
  for (const c of pick(p, only).reverse()) {
    const stopped = await c.stop(p);
    log(`${c.name}: ${stopped ? 'stopped' : 'was not running'}`);
  }
}

export function status(p: StackProfile, only?: ComponentName[]): ComponentStatus[] {
  return pick(p, only).map((c) => c.status(p));
}

export function formatStatus(rows: ComponentStatus[]): string {
  return rows
    .map((s) =>
      [
        s.name.padEnd(12),
        (s.running ? 'running' : 'stopped').padEnd(8),
        (s.pid ? `pid ${s.pid}` : '').padEnd(11),
        (s.rssMiB !== undefined ? `${s.rssMiB} MiB` : '').padEnd(9),
        s.address,
        s.extra ?? '',
      ]
        .join(' ')
        .trimEnd(),
    )
    .join('\n');
}
