/** The suite's table and its one-line JSON summary. */
import { describeDiff } from './compare.js';
import type { ScenarioResult } from './scenario-run.js';

export interface Summary {
  faults: number;
  scenarios: number;
  completed: number;
  stuck: number;
  lost: number;
  duplicates: number;
  alerts_missing: number;
}

export function summarize(results: ScenarioResult[]): Summary {
  const sum = (f: (r: ScenarioResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    faults: sum((r) => r.injected.length),
    scenarios: results.length,
    completed: results.filter((r) => r.outcome.endsWith('completed')).length,
    stuck: results.filter((r) => r.outcome === 'stuck').length,
    lost: sum((r) => r.diff?.lost ?? 0),
    duplicates: sum((r) => r.diff?.duplicates ?? 0),
    alerts_missing: results.filter((r) => r.alertMissing).length,
  };
}

/** A run that could not be checked (failed twice, or a suite error) also fails the suite. */
export const suitePassed = (s: Summary, results: ScenarioResult[]) =>
  s.stuck + s.lost + s.duplicates + s.alerts_missing === 0 &&
  results.every((r) => r.outcome.endsWith('completed'));

const secs = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(0));

export function formatTable(results: ScenarioResult[]): string {
  const header = ['scenario', 'faults', 'outcome', 'recovery s', 'delay s', 'rows', 'diffs', 'alerts'];
  const rows = results.map((r) => [
    r.name,
    `${r.injected.length}/${r.planned}`,
    r.outcome,
    secs(r.recoveryMs),
    secs(r.delayMs),
    r.diff ? String(r.diff.size) : '-',
    r.diff
      ? r.diff.lost + r.diff.duplicates === 0
        ? '0'
        : `lost ${r.diff.lost}, dup ${r.diff.duplicates}`
      : '-',
    `${r.alerts.length}${r.alertExpected ? (r.alertMissing ? ' (MISSING)' : ' (due)') : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Per scenario: each fault and what it hit, what went wrong, each difference and each alert. */
export function formatDetails(results: ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`${r.name} (${r.workload}): ${r.outcome}${r.detail ? ` — ${r.detail}` : ''}`);
    for (const f of r.injected) out.push(`  fault: ${f.fault}: ${f.note}`);
    if (r.stream?.messages !== undefined)
      out.push(
        `  stream: ${r.stream.messages} messages on the topic, ${r.stream.bars} bars archived${r.stream.messages > r.stream.bars ? ` (${r.stream.messages - r.stream.bars} published again by retried polls)` : ''}`,
      );
    if (r.diff) for (const d of describeDiff(r.diff)) out.push(`  diff: ${d}`);
    for (const a of r.alerts) out.push(`  alert: ${a}`);
  }
  return out.join('\n');
}
