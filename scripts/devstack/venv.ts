import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, runLogged } from './proc.js';

/**
 * Installs pinned PyPI packages into their own virtualenv, once: a marker file records what is
 * installed, and `expect` lists files that must exist. Returns whether it did any work.
 */
export async function installVenv(opts: {
  venv: string;
  packages: string[];
  /** What the packages are for, e.g. "the Temporal CLI and test server". */
  purpose: string;
  logFile: string;
  expect: string[];
}): Promise<boolean> {
  const marker = join(opts.venv, '.egx-installed');
  const want = opts.packages.join(' ');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want && opts.expect.every((f) => existsSync(f)))
    return false;
  const python = requireTool(
    'python3',
    `to install ${opts.purpose} from PyPI`,
    'Install Python 3.10+ (Debian: apt-get install python3 python3-venv).',
  );
  await runLogged(`creating the virtualenv for ${opts.purpose}`, python, ['-m', 'venv', opts.venv], {
    logFile: opts.logFile,
    hint: 'Python needs its venv module (Debian: apt-get install python3-venv).',
  });
  await runLogged(
    `pip install ${want}`,
    join(opts.venv, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', ...opts.packages],
    {
      logFile: opts.logFile,
      hint: 'Downloading from PyPI failed: check that the PyPI registry (or the index in PIP_INDEX_URL) is reachable, and that Python is 3.10 or newer.',
    },
  );
  writeFileSync(marker, want);
  return true;
}
