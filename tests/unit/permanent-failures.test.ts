import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createBatchActivities } from '../../activities/batch.js';
import { createTransformActivities } from '../../activities/transforms.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

// Failures no retry can fix end the activity at once (non-retryable, with a type the CLI and the
// Web UI show), instead of waiting through the retry policy (about 75 s for a daily batch's load).
let dir: string;
let store: LocalObjectStore;
let wh: DuckDbWarehouse;
const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'egx-permanent-'));
  store = new LocalObjectStore(join(dir, 'lake'));
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
});
afterEach(async () => wh.close());

async function failure(work: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApplicationFailure);
  return e as ApplicationFailure;
}

function transforms(files: Record<string, string>) {
  const root = join(dir, 'transforms');
  mkdirSync(join(root, 'staging'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'staging', name), text);
  return createTransformActivities({ warehouse: wh, store, projectDir: root, docsDir: join(dir, 'docs') });
}

describe('permanent problems are non-retryable failures with a type', () => {
  test('a batch file that is gone by the time it is loaded: FileNotFound', async () => {
    const acts = createBatchActivities({ store, warehouse: wh, artifactsDir: join(dir, 'artifacts') });
    const e = await failure(env().run(acts.loadBatchFile, { key: 'batch/prices/COMI.csv', runId: 'r1' }));
    expect(e).toMatchObject({ type: 'FileNotFound', nonRetryable: true });
    expect(e.message).toMatch(
      /no file at batch\/prices\/COMI\.csv \(it was listed, then deleted or renamed\)/,
    );
  });

  test('a selection naming no model: UnknownModel', async () => {
    const acts = transforms({
      'stg_a.sql': 'SELECT 1 AS x',
      'stg_a.yml': 'description: a\nmaterialized: table\ncolumns:\n  - name: x\n',
    });
    const e = await failure(env().run(acts.planTransforms, { select: ['stg_nope+'] }));
    expect(e).toMatchObject({ type: 'UnknownModel', nonRetryable: true });
    expect(e.message).toBe('--select stg_nope+: no model named stg_nope');
    await expect(env().run(acts.planTransforms, { select: ['stg_a'] })).resolves.toHaveLength(1);
  });

  test('a malformed model file: ModelDefinitionInvalid, naming the file', async () => {
    const acts = transforms({ 'stg_a.sql': 'SELECT 1 AS x' });
    const e = await failure(env().run(acts.planTransforms, {}));
    expect(e).toMatchObject({ type: 'ModelDefinitionInvalid', nonRetryable: true });
    expect(e.message).toMatch(/stg_a\.sql: no description file stg_a\.yml beside it/);
  });
});
