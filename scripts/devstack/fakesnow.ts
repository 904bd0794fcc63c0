import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonStatus, type Component } from './component.js';
import { StackError } from './errors.js';
import { runningPid, startDaemon, stopDaemon, waitReady } from './proc.js';
import { paths, VERSIONS, type StackProfile } from './profile.js';
import { installVenv } from './venv.js';

// fakesnow 0.11.14 leaves snowflake-connector-python unpinned but imports modules that 5.x removed
// (snowflake.connector.converter): pin the last 4.x release. It allows duckdb ~=1.5.5, but with
// 1.5.6 an INSERT returns no row count and fakesnow fails (IndexError in cursor._execute): pin 1.5.5.
const PIP_SPEC = [
  `fakesnow[server]==${VERSIONS.fakesnow}`,
  'snowflake-connector-python==4.8.1',
  'duckdb==1.5.5',
];

/** The project's launcher: fakesnow's app behind a shim that answers queries in Snowflake's JSON result format. */
const LAUNCHER = fileURLToPath(new URL('./fakesnow_server.py', import.meta.url));

function venvPaths(p: StackProfile) {
  const venv = join(p.installDir, 'fakesnow-venv');
  return { venv, python: join(venv, 'bin', 'python'), marker: join(venv, '.egx-installed') };
}

/**
 * Login for the local emulator, which accepts any credentials. The driver insists on a password,
 * so each process makes up a random one: nothing to keep secret, nothing stored.
 */
export const FAKESNOW_LOGIN = {
  account: 'fakesnow',
  username: 'egx',
  password: randomUUID(),
} as const;

/**
 * A real request, not an open port: logs in as the Node driver does, runs one query and checks the
 * answer arrives as a JSON rowset with `returned` set (i.e. the shim works, not just fakesnow).
 */
export async function probeFakesnow(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/snowflake',
        ...(token ? { authorization: `Snowflake Token="${token}"` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
    return (await res.json()) as { success?: boolean; message?: string; data?: Record<string, unknown> };
  };
  const login = await post('/session/v1/login-request?databaseName=EGX_PROBE&schemaName=PUBLIC', {
    data: {
      ACCOUNT_NAME: FAKESNOW_LOGIN.account,
      LOGIN_NAME: FAKESNOW_LOGIN.username,
      PASSWORD: FAKESNOW_LOGIN.password,
      SESSION_PARAMETERS: {},
    },
  });
  const token = login.data?.token;
  if (!login.success || typeof token !== 'string')
    throw new Error(`login failed: ${login.message ?? 'no token'}`);
  const answer = await post(
    '/queries/v1/query-request',
    { sqlText: 'SELECT 6 * 7 AS ANSWER', sequenceId: 1, queryContextDTO: { entries: [] } },
    token,
  );
  const rowset = answer.data?.rowset as unknown[][] | undefined;
  if (!answer.success) throw new Error(`query failed: ${answer.message ?? 'unknown error'}`);
  if (answer.data?.returned !== 1 || String(rowset?.[0]?.[0]) !== '42')
    throw new Error(`query answered ${JSON.stringify(answer.data?.rowset)} (shim not active?)`);
}

export const fakesnow: Component = {
  name: 'fakesnow',

  /** Installs fakesnow with its server extra from PyPI into its own virtualenv. */
  async install(p) {
    const { venv, python } = venvPaths(p);
    return installVenv({
      venv,
      packages: PIP_SPEC,
      purpose: 'fakesnow (the Snowflake emulator)',
      logFile: join(p.installDir, 'logs', 'install-fakesnow.log'),
      expect: [python],
    });
  },

  async start(p) {
    const d = { name: 'fakesnow (Snowflake emulator)', ...paths(p, 'fakesnow') };
    if (runningPid(d) !== undefined) return 0;
    const { python } = venvPaths(p);
    if (!existsSync(python))
      throw new StackError('fakesnow is not installed.', 'Run: npm run stack -- --profile test install');
    mkdirSync(d.dataDir, { recursive: true });
    // All data lives in one in-memory DuckDB database for the life of the server.
    const { pid } = startDaemon(d, python, ['-u', LAUNCHER, String(p.ports.fakesnow)], { cwd: d.dataDir });
    return waitReady(
      d,
      pid,
      async () => {
        await probeFakesnow(p.ports.fakesnow);
        return true;
      },
      60_000,
    );
  },

  stop: (p) => stopDaemon({ name: 'fakesnow', ...paths(p, 'fakesnow') }),

  status: (p) => daemonStatus(p, 'fakesnow', `http://127.0.0.1:${p.ports.fakesnow}`),
};
