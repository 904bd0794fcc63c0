/** `npm run build` into a temporary folder: the compiled CLI runs, and the compiled worker runs the prebuilt bundle, which replays the committed histories. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parse } from 'yaml';
import { loadCommittedHistories } from '../replay/histories.js';
import '../support/quiet-runtime.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let out: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'egx-build-'));
  out = join(dir, 'dist');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', out], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  // The image has node_modules beside dist/; here, the project's.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const files = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)],
  );

test('the build is JavaScript plus the files read at run time, and the compiled CLI runs', () => {
  const all = files(out);
  expect(all.filter((f) => f.endsWith('.ts'))).toEqual([]);
  expect(existsSync(join(out, 'workers', 'main.js'))).toBe(true);
  expect(existsSync(join(out, 'lib', 'market', 'holidays.json'))).toBe(true);
  expect(existsSync(join(out, 'transforms', 'marts', 'gold_fct_stock_daily_prices.sql'))).toBe(true);
  const r = spawnSync(process.execPath, [join(out, 'cli', 'egx.js'), '--help'], {
    cwd: dir,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^Usage: egx/);
  expect(r.stdout).toMatch(/^\s+transforms /m);
});

test('the image and the compose services run files the build writes, with node and no tsx', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const commands = [JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[]];
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; command?: string[] }>;
  };
  for (const svc of Object.values(compose.services))
    if (svc.image?.startsWith('egx-pipeline-worker:') && svc.command) commands.push(svc.command);
  expect(commands.length).toBeGreaterThanOrEqual(2);
  for (const cmd of commands) {
    expect(cmd[0], cmd.join(' ')).toBe('node');
    expect(cmd, cmd.join(' ')).not.toContain('tsx');
    expect(cmd[1], cmd.join(' ')).toMatch(/^dist\/.*\.js$/);
    expect(existsSync(join(out, cmd[1]!.slice('dist/'.length))), cmd.join(' ')).toBe(true);
  }
});

test('the compiled worker runs the prebuilt bundle, and the bundle replays every committed history', async () => {
  const probe = `import(${JSON.stringify(pathToFileURL(join(out, 'workers', 'pipeline-worker.js')).href)})
    .then((m) => console.log(JSON.stringify(m.workflowCode())))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const codePath = join(out, 'workflow-bundle.js');
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ workflowBundle: { codePath } });

  const histories = loadCommittedHistories();
  const failures: string[] = [];
  let i = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath }, replayName: 'prebuilt-bundle' },
    histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
  )) {
    const name = histories[i++]!.name;
    if (result.error) failures.push(`${name}: ${result.error.message}`);
  }
  expect(i).toBe(histories.length);
  expect(failures).toEqual([]);
}, 60_000);
