import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJson, type History } from './history-json.js';

/** The committed sets, one folder each (`npm run histories:record -- tests/replay/histories/<set>`). */
export const HISTORIES_DIR = fileURLToPath(new URL('./histories', import.meta.url));

export interface CommittedHistory {
  /** `<set>/<file>`: what a failure names. */
  name: string;
  workflowId: string;
  /** From the history's first event, not from the index. */
  workflowType: string;
  history: History;
}

interface IndexEntry {
  file: string;
  workflowId: string;
  workflowType: string;
}

/** Every history of every set, checked against the set's index.json: each file is listed, each listed file exists with the type it claims. */
export function loadCommittedHistories(root = HISTORIES_DIR): CommittedHistory[] {
  const out: CommittedHistory[] = [];
  const sets = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());
  for (const set of sets.map((d) => d.name).sort()) {
    const dir = join(root, set);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { histories: IndexEntry[] };
    const listed = new Set(index.histories.map((h) => h.file));
    const unlisted = readdirSync(dir).filter(
      (f) => f.endsWith('.json') && f !== 'index.json' && !listed.has(f),
    );
    if (unlisted.length > 0) throw new Error(`${set}: not in index.json: ${unlisted.join(', ')}`);
    for (const entry of index.histories) {
      const name = `${set}/${entry.file}`;
      const history = historyFromJson(JSON.parse(readFileSync(join(dir, entry.file), 'utf8')));
      const workflowType =
        history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';
      if (workflowType !== entry.workflowType)
        throw new Error(
          `${name}: index.json says ${entry.workflowType}, the history starts ${workflowType || 'no workflow'}`,
        );
      out.push({ name, workflowId: entry.workflowId, workflowType, history });
    }
  }
  return out;
}
