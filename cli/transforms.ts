import { fileURLToPath } from 'node:url';
import { openWarehouse } from '../lib/adapters.js';
import type { AppConfig } from '../lib/config.js';
import { openObjectStore } from '../lib/adapters.js';
import { buildModel, testModel, type TestResult } from '../lib/transforms/build.js';
import { publishDocs } from '../lib/transforms/docs.js';
import { loadProject, planRun } from '../lib/transforms/project.js';

const TRANSFORMS_DIR = fileURLToPath(new URL('../transforms', import.meta.url));

/** Builds and/or tests the selected models directly against the configured warehouse (no Temporal). */
export async function runTransforms(
  config: AppConfig,
  opts: {
    action: 'run' | 'test' | 'docs';
    select?: string[];
    businessDate: string;
    fullRefresh?: boolean;
    log: (line: string) => void;
  },
): Promise<{ failed: TestResult[] }> {
  const project = await loadProject(TRANSFORMS_DIR);
  const models = planRun(project, opts.select);
  const wh = await openWarehouse(config);
  const runId = `transforms-cli-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const failed: TestResult[] = [];
  const audited = new Map<string, TestResult[] | undefined>();
  try {
    if (opts.action === 'docs') {
      const out = await publishDocs(project, wh, {
        store: await openObjectStore(config),
        localDir: config.docsDir,
      });
      opts.log(`docs for ${out.models} models: ${out.keys.join(', ')} and ${config.docsDir}/index.html`);
      return { failed };
    }
    if (opts.action === 'run') {
      for (const m of models) {
        const r = await buildModel(wh, project, m, {
          runId,
          businessDate: opts.businessDate,
          fullRefresh: opts.fullRefresh,
        });
        audited.set(m.name, r.audited);
        opts.log(
          `built ${m.schema}.${m.name} (${r.materialized}): ${r.rows} rows in ${r.seconds.toFixed(2)} s`,
        );
      }
    }
    for (const m of models) {
      const results = await testModel(wh, project, m, {
        runId,
        businessDate: opts.businessDate,
        audited: audited.get(m.name),
      });
      for (const t of results) {
        if (t.status !== 'pass')
          opts.log(`${t.status.toUpperCase()} ${m.name}: ${t.test}: ${t.failingRows} rows, e.g. ${t.sample}`);
        if (t.status === 'fail') failed.push(t);
      }
      opts.log(`tested ${m.name}`);
    }
  } finally {
    await wh.close();
  }
  return { failed };
}
