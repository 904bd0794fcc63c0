import { describe, expect, test } from 'vitest';
import { emptyResult } from '../../lib/ingest/load-file.js';
import { formatSummary, summarize } from '../../lib/ingest/load-summary.js';

describe('load summary', () => {
  test('counts files and rows, lists quarantine reasons by frequency and names each unreadable file once', () => {
    const ok = {
      ...emptyResult('batch/prices/COMI.csv', 'prices', 'e1'),
      rowsLoaded: 10,
      rowsInserted: 8,
      rowsUpdated: 2,
    };
    const bad = {
      ...emptyResult('batch/prices/UBEE-.csv', 'prices', 'e2'),
      error: 'batch/prices/UBEE-.csv: the file name must be a ticker',
    };
    const other = { ...emptyResult('batch/prices/X.csv', 'prices', 'e3'), error: 'unrecognised header' };
    const lines = formatSummary(summarize([ok, bad, other])).split('\n');
    expect(lines).toContain('files: 3 (1 loaded, 0 unchanged and skipped, 2 not readable)');
    expect(lines).toContain('rows loaded: 10 (8 new, 2 updated)');
    expect(lines).toContain('not loaded: batch/prices/UBEE-.csv: the file name must be a ticker');
    expect(lines).toContain('not loaded: batch/prices/X.csv: unrecognised header');
  });
});
