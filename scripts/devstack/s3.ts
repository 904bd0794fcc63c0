import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lib/lake/s3.js';
import { daemonStatus, type Component } from './component.js';
import { StackError } from './errors.js';
import { requireTool, runLogged, runningPid, startDaemon, stopDaemon, waitReady } from './proc.js';
import { paths, VERSIONS, type StackProfile } from './profile.js';

const MODULE = 'github.com/versity/versitygw/cmd/versitygw';

function binary(p: StackProfile) {
  const bin = join(p.installDir, 'bin');
  return { bin, exe: join(bin, 'versitygw'), marker: join(bin, '.versitygw-version') };
}

export const s3: Component = {
  name: 's3',

  /** Builds versitygw (an S3-compatible server, one static binary) from the Go module proxy. */
  async install(p) {
    const { bin, exe, marker } = binary(p);
    if (existsSync(exe) && existsSync(marker) && readFileSync(marker, 'utf8') === VERSIONS.versitygw)
      return false;
    const go = requireTool(
      'go',
      'to build the versitygw S3 server',
      'Install Go 1.25+ (https://go.dev/dl or Debian backports golang).',
    );
    mkdirSync(bin, { recursive: true });
    await runLogged(
      `go install ${MODULE}@${VERSIONS.versitygw}`,
      go,
      ['install', `${MODULE}@${VERSIONS.versitygw}`],
      {
        env: { ...process.env, GOBIN: bin, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
        logFile: join(p.installDir, 'logs', 'install-s3.log'),
        hint:
          'Building versitygw needs Go >= 1.25 and the Go module proxy (GOPROXY) to be reachable. ' +
          'A message "requires go >= ..." means the local Go is too old.',
      },
    );
    writeFileSync(marker, VERSIONS.versitygw);
    return true;
  },

  async start(p) {
    const d = { name: 'S3 server (versitygw)', ...paths(p, 's3') };
    if (runningPid(d) !== undefined) return 0;
    const { exe } = binary(p);
    if (!existsSync(exe))
      throw new StackError('versitygw is not installed.', 'Run: npm run stack -- install');
    const objects = join(d.dataDir, 'objects');
    mkdirSync(objects, { recursive: true });
    const { pid } = startDaemon(
      d,
      exe,
      ['--port', `127.0.0.1:${p.ports.s3}`, '--health', '/health', '--quiet', 'posix', objects],
      {
        env: {
          ...process.env,
          ROOT_ACCESS_KEY: p.s3Credentials.accessKeyId,
          ROOT_SECRET_KEY: p.s3Credentials.secretAccessKey,
        },
      },
    );
    const client = createS3Client({
      endpoint: `http://127.0.0.1:${p.ports.s3}`,
      region: 'us-east-1',
      credentials: p.s3Credentials,
    });
    try {
      return await waitReady(
        d,
        pid,
        async () => {
          const health = await fetch(`http://127.0.0.1:${p.ports.s3}/health`);
          if (!health.ok) return false;
          await client.send(new ListBucketsCommand({})); // an authenticated request, not just an open port
          return true;
        },
        30_000,
      );
    } finally {
      client.destroy();
    }
  },

  stop: (p) => stopDaemon({ name: 'S3 server', ...paths(p, 's3') }),

  status: (p) => daemonStatus(p, 's3', `http://127.0.0.1:${p.ports.s3}`),
};
