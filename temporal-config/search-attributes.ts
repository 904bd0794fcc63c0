import type { Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
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
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
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

/** Typed keys for setting the attributes when starting workflows. */
export const SA = {
  pipeline: defineSearchAttributeKey('EgxPipeline', SearchAttributeType.KEYWORD),
  businessDate: defineSearchAttributeKey('EgxBusinessDate', SearchAttributeType.KEYWORD),
  symbols: defineSearchAttributeKey('EgxSymbols', SearchAttributeType.KEYWORD_LIST),
};
