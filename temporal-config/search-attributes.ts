import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

/** Custom search attributes every pipeline run sets, so runs can be filtered in the Web UI. */
export const SEARCH_ATTRIBUTES = {
  /** Which pipeline a run belongs to: daily-batch, transforms, market-session, maintenance, backfill, health. */
  EgxPipeline: 'Keyword',
  /** The business date (YYYY-MM-DD, Africa/Cairo) a run processes. */
  EgxBusinessDate: 'Keyword',
  /** Symbols a run touches, when it is limited to some. */
  EgxSymbols: 'KeywordList',
} as const;

const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const TYPE_CODES: Record<(typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES], number> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Registers the project's search attributes that the namespace lacks. Running it twice changes nothing. Returns the names it added. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  let existing;
  try {
    existing = await connection.operatorService.listSearchAttributes({ namespace });
  } catch (e) {
    // The time-skipping test server cannot list them, but it can add them one by one.
    if ((e as { code?: number }).code !== 12 /* UNIMPLEMENTED */) throw e;
    const added: string[] = [];
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      try {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: { [name]: TYPE_CODES[type] },
        });
        added.push(name);
      } catch (err) {
        if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
      }
    }
    return added;
  }
  const known = new Set([
    ...Object.keys(existing.customAttributes ?? {}),
    ...Object.keys(existing.systemAttributes ?? {}),
  ]);
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPE_CODES[type]])),
  });
  return missing.map(([name]) => name);
}

export { SA } from './search-attribute-keys.js';
