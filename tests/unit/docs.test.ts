import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { describe, expect, test } from 'vitest';
import { envSchema } from '../../lib/config.js';
import { pipelineSchedules } from '../../temporal-config/schedules.js';

// The README and docs/ARCHITECTURE.md say what the code does; these keep them from drifting apart.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (title: string) => {
  const start = README.indexOf(`\n## ${title}\n`);
  return README.slice(start, README.indexOf('\n## ', start + 1));
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (['node_modules', 'dist', '.devstack', '.git', 'data'].includes(name)) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|ya?ml|sh)$/.test(name) ? [path] : [];
  });
}

describe('the repo documents itself', () => {
  test('docs/ARCHITECTURE.md exists, and every code comment that points to an ARCHITECTURE.md points to it', () => {
    expect(existsSync(join(ROOT, 'docs', 'ARCHITECTURE.md'))).toBe(true);
    const wrong = sources(ROOT)
      .filter((file) => !file.endsWith('docs.test.ts'))
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/(\S*)ARCHITECTURE\.md/g)]
          .filter((m) => !m[1]!.endsWith('docs/'))
          .map((m) => `${relative(ROOT, file)}: ${m[0]}`),
      );
    expect(wrong).toEqual([]);
  });

  test("the README's schedule table has each schedule's overlap and catch-up, as egx schedules list explains them", () => {
    const overlap: Record<string, string> = {
      [ScheduleOverlapPolicy.SKIP]: 'skip',
      [ScheduleOverlapPolicy.BUFFER_ONE]: 'buffer one',
    };
    const rows = new Map(
      README.split('\n')
        .filter((l) => /^\| `egx-/.test(l))
        .map((l) => l.split('|').map((c) => c.trim()))
        .map((c) => [c[1]!.replace(/`/g, ''), { overlap: c[3], catchup: c[4] }]),
    );
    const schedules = pipelineSchedules({ symbols: ['COMI'], pollMinutes: 5 });
    expect([...rows.keys()]).toEqual(schedules.map((s) => s.options.scheduleId));
    for (const s of schedules) {
      const { policies } = s.options;
      const row = rows.get(s.options.scheduleId)!;
      expect(row.overlap, s.options.scheduleId).toBe(overlap[policies!.overlap!]);
      expect(row.catchup, s.options.scheduleId).toBe(policies!.catchupWindow);
      expect(s.why, s.options.scheduleId).toContain(`catch-up ${String(policies!.catchupWindow)}`);
    }
  });

  test('every setting the configuration reads is in the README', () => {
    expect(Object.keys(envSchema.shape).filter((name) => !new RegExp(`\\b${name}\\b`).test(README))).toEqual(
      [],
    );
    expect(section('Configuration')).toContain('`DOCS_DIR`');
  });

  test('every egx command is in the README', () => {
    const egx = readFileSync(join(ROOT, 'cli', 'egx.ts'), 'utf8');
    const commands = [...egx.matchAll(/\.command\('([a-z-]+)/g)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(8);
    expect(
      commands.filter((c) => !new RegExp(`npm run egx -- (--env-file \\S+ )?${c}\\b`).test(README)),
    ).toEqual([]);
  });
});
