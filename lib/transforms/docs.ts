import type { Warehouse } from '../warehouse/types.js';
import { planRun, relationOf, type Model, type Project } from './project.js';
import { compileTests } from './tests.js';

export interface DocsManifest {
  generatedAt: string;
  models: {
    name: string;
    relation: string;
    layer: string;
    materialized: string;
    description: string;
    columns: { name: string; description?: string }[];
    tests: { name: string; severity: string }[];
    reads: string[];
    readBy: string[];
    lastBuild?: { runId: string; status: string; rows: number; builtAt: string };
    lastTests?: { test: string; status: string; failingRows: number }[];
  }[];
}

/** A published model's columns, lower-cased, in the warehouse's order (none when it is not built). */
async function publishedColumns(wh: Warehouse, schema: string, name: string): Promise<string[]> {
  const rows = await wh.query<{ C: string }>(
    'SELECT COLUMN_NAME AS C FROM INFORMATION_SCHEMA.COLUMNS WHERE UPPER(TABLE_SCHEMA) = ? AND UPPER(TABLE_NAME) = ? ORDER BY ORDINAL_POSITION',
    [schema.toUpperCase(), name.toUpperCase()],
  );
  return rows.map((r) => r.C.toLowerCase());
}

/**
 * A model's columns for the docs: every column the published relation has, in its order, with the
 * description its YAML gives (none when it gives none), then any the YAML names that the relation
 * lacks (not built yet).
 */
async function documentedColumns(wh: Warehouse, m: Model): Promise<{ name: string; description?: string }[]> {
  const declared = new Map(m.columns.map((c) => [c.name.toLowerCase(), c.description?.trim() || undefined]));
  const published = await publishedColumns(wh, m.schema, m.name);
  return [
    ...published.map((name) => ({ name, description: declared.get(name) })),
    ...m.columns
      .filter((c) => !published.includes(c.name.toLowerCase()))
      .map((c) => ({ name: c.name.toLowerCase(), description: declared.get(c.name.toLowerCase()) })),
  ];
}

/** `model.column` for every column of a published model that its YAML does not describe. */
export async function undescribedColumns(project: Project, wh: Warehouse): Promise<string[]> {
  const out: string[] = [];
  for (const m of planRun(project))
    for (const c of await documentedColumns(wh, m)) if (!c.description) out.push(`${m.name}.${c.name}`);
  return out;
}

/** The docs manifest: every model with its columns, tests, lineage and latest build and test results. */
export async function buildDocsManifest(
  project: Project,
  wh: Warehouse,
  now = new Date(),
): Promise<DocsManifest> {
  const models = planRun(project, [], { live: true });
  const builds = await wh.query<{
    MODEL_NAME: string;
    RUN_ID: string;
    STATUS: string;
    ROWS: number;
    BUILT_AT: Date;
  }>('SELECT MODEL_NAME, RUN_ID, STATUS, ROWS, BUILT_AT FROM META.MODEL_RUNS ORDER BY BUILT_AT');
  const tests = await wh.query<{
    MODEL_NAME: string;
    RUN_ID: string;
    TEST_NAME: string;
    STATUS: string;
    FAILING_ROWS: number;
    TESTED_AT: Date;
  }>(
    'SELECT MODEL_NAME, RUN_ID, TEST_NAME, STATUS, FAILING_ROWS, TESTED_AT FROM META.TEST_RESULTS ORDER BY TESTED_AT',
  );
  const lastBuild = new Map(builds.map((b) => [b.MODEL_NAME, b]));
  const lastTestRun = new Map(tests.map((t) => [t.MODEL_NAME, t.RUN_ID]));
  const columns = new Map<string, { name: string; description?: string }[]>();
  for (const m of models) columns.set(m.name, await documentedColumns(wh, m));
  return {
    generatedAt: now.toISOString(),
    models: models.map((m) => {
      const b = lastBuild.get(m.name);
      const run = lastTestRun.get(m.name);
      return {
        name: m.name,
        relation: relationOf(m),
        layer: m.layer,
        materialized: m.materialized,
        description: m.description.trim(),
        columns: columns.get(m.name)!,
        tests: compileTests(project, m).map((t) => ({ name: t.name, severity: t.severity })),
        reads: [...m.refs, ...m.sources],
        readBy: models.filter((o) => o.refs.includes(m.name)).map((o) => o.name),
        lastBuild: b && {
          runId: b.RUN_ID,
          status: b.STATUS,
          rows: b.ROWS,
          builtAt: new Date(b.BUILT_AT).toISOString(),
        },
        lastTests: run
          ? tests
              .filter((t) => t.MODEL_NAME === m.name && t.RUN_ID === run)
              .map((t) => ({ test: t.TEST_NAME, status: t.STATUS, failingRows: t.FAILING_ROWS }))
          : undefined,
      };
    }),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A self-contained static page (no scripts, no network) with the lineage and every model. */
export function renderDocsHtml(manifest: DocsManifest): string {
  const depth = new Map<string, number>();
  for (const m of manifest.models) {
    depth.set(m.name, Math.max(0, ...m.reads.filter((r) => depth.has(r)).map((r) => depth.get(r)! + 1)));
  }
  const columnsByDepth = new Map<number, string[]>();
  for (const [name, d] of depth) columnsByDepth.set(d, [...(columnsByDepth.get(d) ?? []), name]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, names] of columnsByDepth)
    names.forEach((n, i) => pos.set(n, { x: 20 + d * 260, y: 20 + i * 40 }));
  const height = 40 + Math.max(...[...columnsByDepth.values()].map((v) => v.length)) * 40;
  const width = 40 + columnsByDepth.size * 260;
  const edges = manifest.models.flatMap((m) =>
    m.reads
      .filter((r) => pos.has(r))
      .map((r) => {
        const a = pos.get(r)!;
        const b = pos.get(m.name)!;
        return `<line x1="${a.x + 220}" y1="${a.y + 14}" x2="${b.x}" y2="${b.y + 14}" stroke="#888"/>`;
      }),
  );
  const boxes = [...pos].map(
    ([n, p]) =>
      `<a href="#${esc(n)}"><rect x="${p.x}" y="${p.y}" width="220" height="28" rx="4" fill="#eef" stroke="#447"/><text x="${p.x + 8}" y="${p.y + 19}" font-size="12">${esc(n)}</text></a>`,
  );
  const models = manifest.models.map((m) => {
    const status = m.lastBuild
      ? `${esc(m.lastBuild.status)}, ${m.lastBuild.rows} rows, ${esc(m.lastBuild.builtAt)}`
      : 'not built yet';
    const tests = (m.lastTests ?? m.tests.map((t) => ({ test: t.name, status: 'not run', failingRows: 0 })))
      .map(
        (t) =>
          `<li class="${esc(t.status)}">${esc(t.test)}: ${esc(t.status)}${t.failingRows ? ` (${t.failingRows} rows)` : ''}</li>`,
      )
      .join('');
    return `<section id="${esc(m.name)}"><h2>${esc(m.name)} <small>${esc(m.relation)} · ${esc(m.materialized)}</small></h2>
<p>${esc(m.description)}</p><p>Last build: ${status}</p>
<p>Reads: ${m.reads.map(esc).join(', ') || '–'} · Read by: ${m.readBy.map((r) => `<a href="#${esc(r)}">${esc(r)}</a>`).join(', ') || '–'}</p>
<table><tr><th>column</th><th>description</th></tr>${m.columns.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.description ?? '')}</td></tr>`).join('')}</table>
<ul>${tests}</ul></section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>EGX warehouse models</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}.fail{color:#b00}.warn{color:#a60}.pass{color:#070}small{color:#666;font-weight:normal}</style></head>
<body><h1>EGX warehouse models</h1><p>Generated ${esc(manifest.generatedAt)} · ${manifest.models.length} models</p>
<svg width="${width}" height="${height}" role="img" aria-label="lineage">${edges.join('')}${boxes.join('')}</svg>
${models.join('\n')}</body></html>`;
}

/** Writes the docs site (index.html + manifest.json) under `docs/` in the object store and into `localDir`. */
export async function publishDocs(
  project: Project,
  wh: Warehouse,
  targets: { store?: import('../lake/types.js').ObjectStore; localDir?: string },
): Promise<{ models: number; keys: string[] }> {
  const manifest = await buildDocsManifest(project, wh);
  const files = {
    'index.html': renderDocsHtml(manifest),
    'manifest.json': JSON.stringify(manifest, null, 2),
  };
  const keys: string[] = [];
  for (const [name, body] of Object.entries(files)) {
    if (targets.store) {
      await targets.store.put(`docs/${name}`, body, {
        contentType: name.endsWith('.html') ? 'text/html' : 'application/json',
      });
      keys.push(`docs/${name}`);
    }
    if (targets.localDir) {
      const { mkdir, writeFile } = await import('node:fs/promises');
      await mkdir(targets.localDir, { recursive: true });
      await writeFile(`${targets.localDir}/${name}`, body);
    }
  }
  return { models: manifest.models.length, keys };
}
