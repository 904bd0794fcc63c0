import { financialFiles } from './financials.js';
import { indexLevelFiles, isIndexLevelKey } from './index-levels.js';
import { intradayFiles } from './intraday.js';
import { priceFiles } from './prices.js';
import type { FileKindReader } from './records.js';
import { companyFiles, constituentFiles } from './reference-files.js';

export const FILE_KINDS: Record<string, FileKindReader> = {
  prices: priceFiles,
  companies: companyFiles,
  indices: constituentFiles,
  finances: financialFiles,
  index_levels: indexLevelFiles,
  intraday: intradayFiles,
};

/** The batch prefixes of the object store key layout, in load order (reference data first). */
export const BATCH_PREFIXES = [
  'batch/companies/',
  'batch/indices/',
  'batch/finances/',
  'batch/index_levels/',
  'batch/prices/',
  'batch/intraday/',
] as const;

/**
 * Which reader a key needs: by its folder (`…/companies/…`, `…/indices/…`, `…/index_levels/…`,
 * `…/intraday/…`), else by its name (constituents, financials, an index's or the market cap's
 * levels), else daily prices (whose reader still sends intraday bars and index levels it finds
 * by their header to their own tables).
 */
export function readerForKey(key: string, kind?: string): FileKindReader {
  if (kind) {
    const r = FILE_KINDS[kind];
    if (!r)
      throw new Error(`unknown file kind "${kind}" (expected one of: ${Object.keys(FILE_KINDS).join(', ')})`);
    return r;
  }
  if (/(^|\/)companies\//.test(key)) return companyFiles;
  if (/(^|\/)indices\//.test(key) || /_constituents/i.test(key)) return constituentFiles;
  if (/(^|\/)finances\//.test(key) || /_financ(e|ials?)\.csv$/i.test(key)) return financialFiles;
  if (/(^|\/)index_levels\//.test(key) || isIndexLevelKey(key)) return indexLevelFiles;
  if (/(^|\/)intraday\//.test(key)) return intradayFiles;
  return priceFiles;
}
