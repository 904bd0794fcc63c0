/**
 * `npm run build [-- <out dir>]` (default dist/): compiles the pipeline's TypeScript to JavaScript
 * (tsconfig.build.json), copies the files the code reads at run time (the transforms' SQL and
 * YAML, the dashboard's page), and writes the prebuilt workflow bundle the compiled worker runs
 * (<out>/workflow-bundle.js), so nothing is transpiled or bundled when a worker starts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

// Standalone (the image's build stage copies this file alone): the project root is its parent folder.
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the build leaves in `outDir` besides the compiled tree. */
export const BUNDLE_FILE = 'workflow-bundle.js';

export async function build(outDir: string, log: (line: string) => void = console.log): Promise<void> {
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  log(`compiled to ${relative(process.cwd(), outDir) || '.'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // Read at run time, next to the compiled code: new URL('../transforms', import.meta.url).
  cpSync(join(PROJECT_ROOT, 'transforms'), join(outDir, 'transforms'), { recursive: true });
  // The dashboard's page (new URL('./public/', import.meta.url) in lib/dashboard/server.js).
  cpSync(join(PROJECT_ROOT, 'lib', 'dashboard', 'public'), join(outDir, 'lib', 'dashboard', 'public'), {
    recursive: true,
  });
  // ES modules wherever the folder is copied (the sources' package.json says so for them).
  writeFileSync(
    join(outDir, 'package.json'),
    JSON.stringify({ type: 'module', private: true }, null, 2) + '\n',
  );

  const t1 = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(PROJECT_ROOT, 'workflows', 'index.ts'),
    logger: new DefaultLogger('WARN'),
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, BUNDLE_FILE), code);
  log(
    `workflow bundle ${BUNDLE_FILE} (${(code.length / 1024).toFixed(0)} KiB) in ${((Date.now() - t1) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await build(resolve(process.argv[2] ?? join(PROJECT_ROOT, 'dist')));
}
