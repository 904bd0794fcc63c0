import type { TestProject } from 'vitest/node';
import type { ComponentName } from '../../scripts/devstack/profile.js';
import { PROFILES, stackEnv } from '../../scripts/devstack/profile.js';
import { FAKESNOW_LOGIN } from '../../scripts/devstack/fakesnow.js';
import { down, install, status, up } from '../../scripts/devstack/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
    testServerAddress: string;
    /** InfluxDB 1.x (the optional live view) on the test profile's port. */
    influxUrl: string;
    /** fakesnow on the test profile's port: connection settings for createSnowflakeWarehouse. */
    snowflakeEmulator: {
      host: string;
      port: number;
      protocol: 'http';
      account: string;
      username: string;
      password: string;
    };
  }
}

/**
 * Brings up the test profile's servers once per run (installing them if needed) and hands their
 * addresses to the tests. Servers that were already running are reused and left running.
 */
export async function setupStack(project: TestProject, components: ComponentName[]) {
  const profile = PROFILES.test;
  const log = (line: string) => console.log(`[stack] ${line}`);
  const wasRunning = new Set(
    status(profile, components)
      .filter((s) => s.running)
      .map((s) => s.name),
  );
  await install(profile, log, components);
  await up(profile, log, components);
  project.provide('stackEnv', stackEnv(profile));
  project.provide('testServerAddress', `127.0.0.1:${profile.ports.testServer}`);
  project.provide('influxUrl', `http://127.0.0.1:${profile.ports.influxdb}`);
  project.provide('snowflakeEmulator', {
    host: '127.0.0.1',
    port: profile.ports.fakesnow,
    protocol: 'http',
    ...FAKESNOW_LOGIN,
  });
  return async () => {
    const started = components.filter((c) => !wasRunning.has(c));
    if (started.length > 0) await down(profile, log, started);
  };
}
