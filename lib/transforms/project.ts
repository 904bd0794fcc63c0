import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { showValue } from '../util/show.js';
import { isSqlIdentifier, SqlIdentifierInvalidError } from '../warehouse/sql.js';

/** Thrown when a model's SQL or YAML is malformed or its references do not resolve; names the file. */
export class ModelDefinitionError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelDefinitionError';
  }
}

/**
 * Names read from these files go into SQL unquoted, so each is checked when the project loads: a
 * column (in columns, unique_key, incremental and tests) must be a plain SQL identifier, a model
 * name (the file name; relationships' `to`) lower-case letters, digits and _. The error names the
 * file, the field and the value.
 */
const MODEL_NAME = /^[a-z][a-z0-9_]{0,99}$/;
export const MODEL_NAME_RULE =
  'a model name: lower-case ASCII letters, digits and _, starting with a letter, at most 100 characters';
const column = z.string().superRefine((s, ctx) => {
  if (!isSqlIdentifier(s))
    ctx.addIssue({ code: 'custom', message: new SqlIdentifierInvalidError(s, 'column').message });
});
const modelName = z.string().superRefine((s, ctx) => {
  if (!MODEL_NAME.test(s))
    ctx.addIssue({ code: 'custom', message: `${showValue(s, 60)} is not ${MODEL_NAME_RULE}` });
});
/** `incremental.input`: one relation, as a ref or a source. */
const RELATION =
  /^\{\{\s*(?:ref\(\s*'[a-z0-9_]+'\s*\)|source\(\s*'[A-Za-z0-9_]+'\s*,\s*'[A-Za-z0-9_]+'\s*\))\s*\}\}$/;

const severity = z.enum(['error', 'warn']).default('error');
const testSpec = z.union([
  z.enum(['not_null', 'unique']),
  z.object({ not_null: z.object({ severity }).partial().nullable() }).strict(),
  z
    .object({
      unique: z
        .object({ columns: z.array(column).optional(), severity })
        .partial()
        .nullable(),
    })
    .strict(),
  z
    .object({ accepted_values: z.object({ values: z.array(z.union([z.string(), z.number()])), severity }) })
    .strict(),
  z.object({ relationships: z.object({ to: modelName, field: column, severity }) }).strict(),
  z.object({ expression: z.object({ sql: z.string(), name: z.string().optional(), severity }) }).strict(),
  z
    .object({
      freshness: z.object({
        column: column.optional(),
        max_age_days: z.number().int().positive(),
        severity,
      }),
    })
    .strict(),
]);
export type TestSpec = z.infer<typeof testSpec>;

const modelYaml = z
  .object({
    description: z.string(),
    /**
     * `snapshot`: a history of the SQL's rows (type 2 slowly changing dimension). The SQL gives the
     * current state, one row per unique_key; each build adds a version, valid from the business
     * date, for every key whose other columns changed, and ends the version before it. Full
     * refreshes keep the history: it exists only in the published table.
     */
    materialized: z.enum(['view', 'table', 'incremental', 'snapshot']).default('view'),
    /**
     * A live model: refreshed by the market session after each poll (lib/stream/live-gold.ts), not
     * by the transforms runs, which build it only when it is named in their selection.
     */
    live: z.boolean().default(false),
    unique_key: z.array(column).optional(),
    /**
     * Incremental models: the date column rows are rebuilt by, and how much earlier input window
     * functions need. With `changed_at` (a load-time column of both the model and its `input`),
     * input rows loaded since the last build decide which dates are rebuilt and merged on the
     * unique key, so corrected old rows are picked up; without it, only dates after the newest
     * published one are appended.
     */
    incremental: z
      .object({
        column,
        lookback_days: z.number().int().min(0).default(0),
        changed_at: column.optional(),
        input: z
          .string()
          .regex(RELATION, "expected one relation: {{ ref('model') }} or {{ source('SCHEMA', 'TABLE') }}")
          .optional(),
      })
      .strict()
      .refine((i) => !i.changed_at === !i.input, 'changed_at and input go together')
      .optional(),
    columns: z
      .array(
        z
          .object({
            name: column,
            description: z.string().optional(),
            tests: z.array(testSpec).default([]),
          })
          .strict(),
      )
      .default([]),
    tests: z.array(testSpec).default([]),
  })
  .strict();

export interface Model {
  name: string;
  layer: 'staging' | 'marts';
  /** Warehouse schema the model is published in. */
  schema: 'SILVER' | 'GOLD';
  sql: string;
  file: string;
  description: string;
  materialized: 'view' | 'table' | 'incremental' | 'snapshot';
  /** Refreshed by the market session after each poll; transforms runs build it only when named. */
  live: boolean;
  uniqueKey?: string[];
  incremental?: { column: string; lookbackDays: number; changedAt?: string; input?: string };
  columns: { name: string; description?: string; tests: TestSpec[] }[];
  tests: TestSpec[];
  /** Models this one reads (from `{{ ref('…') }}` and from relationships tests). */
  refs: string[];
  /** Warehouse tables it reads (from `{{ source('SCHEMA', 'TABLE') }}`). */
  sources: string[];
}

export interface Project {
  dir: string;
  models: Map<string, Model>;
}

const REF = /\{\{\s*ref\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}/g;
const SOURCE = /\{\{\s*source\(\s*'([A-Za-z0-9_]+)'\s*,\s*'([A-Za-z0-9_]+)'\s*\)\s*\}\}/g;

/** Reads every `<layer>/<model>.sql` with its `<model>.yml` beside it, and checks that references resolve. */
export async function loadProject(dir: string): Promise<Project> {
  const models = new Map<string, Model>();
  for (const layer of ['staging', 'marts'] as const) {
    const files = (await readdir(join(dir, layer)).catch(() => [])).filter((f) => f.endsWith('.sql')).sort();
    for (const f of files) {
      const file = join(dir, layer, f);
      const name = basename(f, '.sql');
      if (!MODEL_NAME.test(name))
        throw new ModelDefinitionError(
          file,
          `the file name gives the model name ${showValue(name, 60)}, which is not ${MODEL_NAME_RULE}`,
        );
      const sql = await readFile(file, 'utf8');
      const ymlFile = file.replace(/\.sql$/, '.yml');
      const raw: unknown = parseYaml(
        await readFile(ymlFile, 'utf8').catch(() => {
          throw new ModelDefinitionError(file, `no description file ${basename(ymlFile)} beside it`);
        }),
      );
      const parsed = modelYaml.safeParse(raw);
      if (!parsed.success) {
        throw new ModelDefinitionError(
          ymlFile,
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      const y = parsed.data;
      if (models.has(name)) throw new ModelDefinitionError(file, `model name ${name} is used twice`);
      models.set(name, {
        name,
        layer,
        schema: layer === 'staging' ? 'SILVER' : 'GOLD',
        sql,
        file,
        description: y.description,
        materialized: y.materialized,
        live: y.live,
        uniqueKey: y.unique_key,
        incremental: y.incremental && {
          column: y.incremental.column,
          lookbackDays: y.incremental.lookback_days,
          changedAt: y.incremental.changed_at,
          input: y.incremental.input,
        },
        columns: y.columns,
        tests: y.tests,
        // A relationships test reads another model, so that model must be built first.
        refs: [
          ...new Set([
            ...[...sql.matchAll(REF)].map((m) => m[1]!),
            ...[...y.columns.flatMap((c) => c.tests), ...y.tests].flatMap((t) =>
              typeof t === 'object' && 'relationships' in t ? [t.relationships.to] : [],
            ),
          ]),
        ],
        sources: [
          ...new Set([...sql.matchAll(SOURCE)].map((m) => `${m[1]!.toUpperCase()}.${m[2]!.toUpperCase()}`)),
        ],
      });
    }
  }
  for (const m of models.values()) {
    for (const r of m.refs)
      if (!models.has(r)) throw new ModelDefinitionError(m.file, `ref('${r}') names no model`);
    const input = m.incremental?.input && /ref\(\s*'([a-z0-9_]+)'/.exec(m.incremental.input)?.[1];
    if (input && !models.has(input))
      throw new ModelDefinitionError(m.file, `incremental input ref('${input}') names no model`);
    if (m.materialized === 'incremental' && (!m.uniqueKey?.length || !m.incremental)) {
      throw new ModelDefinitionError(
        m.file,
        'an incremental model needs unique_key and incremental: { column, lookback_days }',
      );
    }
    if (m.materialized === 'snapshot' && (!m.uniqueKey?.length || m.incremental)) {
      throw new ModelDefinitionError(m.file, 'a snapshot needs unique_key (the entity) and no incremental');
    }
    if (m.incremental && !m.uniqueKey?.includes(m.incremental.column)) {
      throw new ModelDefinitionError(
        m.file,
        `incremental column ${m.incremental.column} must be part of unique_key`,
      );
    }
  }
  return { dir, models };
}

/**
 * Models in dependency order (every model after the ones it refs). `select` picks models by name;
 * `name+` also picks everything downstream of it. Throws on a dependency cycle, naming it. Live
 * models (refreshed by the market session) are left out unless named, or `live` is set.
 */
export function planRun(project: Project, select: string[] = [], opts: { live?: boolean } = {}): Model[] {
  const order: Model[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new ModelDefinitionError(
        project.models.get(name)!.file,
        `dependency cycle ${[...path, name].join(' → ')}`,
      );
    state.set(name, 'visiting');
    for (const r of project.models.get(name)!.refs) visit(r, [...path, name]);
    state.set(name, 'done');
    order.push(project.models.get(name)!);
  };
  for (const name of project.models.keys()) visit(name, []);
  if (select.length === 0) return order.filter((m) => opts.live || !m.live);

  const chosen = new Set<string>();
  for (const s of select) {
    const downstream = s.endsWith('+');
    const name = downstream ? s.slice(0, -1) : s;
    if (!project.models.has(name)) throw new Error(`--select ${s}: no model named ${name}`);
    chosen.add(name);
    if (downstream) {
      for (const m of order)
        if ((opts.live || !m.live) && m.refs.some((r) => chosen.has(r))) chosen.add(m.name);
    }
  }
  return order.filter((m) => chosen.has(m.name));
}

/** The published name of a model: `SILVER.stg_companies`. */
export const relationOf = (m: Pick<Model, 'schema' | 'name'>) => `${m.schema}.${m.name}`;

const INCREMENTAL_INPUT = /\{\{\s*incremental_input\(\s*'([A-Za-z0-9_.]+)'\s*\)\s*\}\}/g;

/**
 * The model's SQL with refs and sources replaced by warehouse names. `{{ incremental_input('col') }}`
 * becomes `col >= <since>` on an incremental run (only the input a new day needs) and `1 = 1` otherwise.
 */
export function renderSql(project: Project, model: Model, incrementalSince?: string): string {
  return renderRefs(
    project,
    model.sql.replace(INCREMENTAL_INPUT, (_, col: string) =>
      incrementalSince ? `${col} >= CAST('${incrementalSince}' AS DATE)` : '1 = 1',
    ),
  );
}

/** SQL text with `{{ ref('m') }}` and `{{ source('S', 'T') }}` replaced by warehouse names. */
export function renderRefs(project: Project, sql: string): string {
  return sql
    .replace(REF, (_, name: string) => relationOf(project.models.get(name)!))
    .replace(SOURCE, (_, schema: string, table: string) => `${schema.toUpperCase()}.${table.toUpperCase()}`)
    .trim()
    .replace(/;\s*$/, '');
}
