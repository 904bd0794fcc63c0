import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed keys of the project's search attributes (safe to use in workflow code). */
export const SA = {
  /** Which pipeline a run belongs to: daily-batch, transforms, market-session, maintenance, backfill, health. */
  pipeline: defineSearchAttributeKey('EgxPipeline', SearchAttributeType.KEYWORD),
  /** The business date (YYYY-MM-DD, Africa/Cairo) a run processes. */
  businessDate: defineSearchAttributeKey('EgxBusinessDate', SearchAttributeType.KEYWORD),
  /** Symbols a run touches, when it is limited to some. */
  symbols: defineSearchAttributeKey('EgxSymbols', SearchAttributeType.KEYWORD_LIST),
};
