import { safeParseSymbol } from '../market/symbol.js';
import { businessDateProblem } from '../util/dates.js';
import { TBL_COMPANY, TBL_INDEX_MEMBERSHIP } from '../warehouse/schema.js';
import type { SqlValue } from '../warehouse/types.js';
import { FileUnreadableError, inBatches, type FileKindReader, type LoadRecord } from './records.js';
import { readCsv } from './text-stream.js';
import { parseDate, parseNumber, ValueParseError } from './values.js';

const norm = (h: string) =>
  h
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();
const find = (names: string[], ...aliases: string[]) => names.findIndex((n) => aliases.includes(n));

/** A ticker cell by the one ticker schema (an `EGX:` prefix is dropped), or the row's quarantine reason. */
function symbolCell(text: string | undefined): { symbol: string } | { reason: string } {
  const r = safeParseSymbol((text ?? '').trim().replace(/^EGX:/i, ''));
  return r.ok ? { symbol: r.symbol } : { reason: `symbol: ${r.error.message}` };
}

/** Reads a CSV with a header: yields header indexes once, then keyed records; dedupes on `keyOf`. */
async function* keyedRecords(
  input: AsyncIterable<Uint8Array | string>,
  key: string,
  build: (names: string[]) => (cells: string[]) => { id: string; values: SqlValue[] } | string,
): AsyncGenerator<LoadRecord> {
  const rows = readCsv(input);
  const head = await rows.next();
  if (head.done) throw new FileUnreadableError(`${key}: empty file, no header`);
  const toValues = build(head.value.cells.map(norm));
  const seen = new Map<string, number>();
  for await (const r of rows) {
    const raw = r.cells.join(',');
    let out: { id: string; values: SqlValue[] } | string;
    try {
      out = toValues(r.cells);
    } catch (e) {
      if (!(e instanceof ValueParseError)) throw e;
      out = e.message;
    }
    if (typeof out === 'string') yield { ok: false, line: r.line, reason: out, raw };
    else if (seen.has(out.id))
      yield {
        ok: false,
        line: r.line,
        reason: `duplicate symbol ${out.id} (also on line ${seen.get(out.id)})`,
        raw,
      };
    else {
      seen.set(out.id, r.line);
      yield { ok: true, line: r.line, values: out.values };
    }
  }
}

/**
 * Company lists (`batch/companies/*.csv`) into TBL_COMPANY. Accepts the common layouts: a
 * ticker/symbol column, or `name` holding the ticker beside `Company Name`, or the ticker in
 * parentheses at the end of the name (`Commercial International Bank (Egypt) S.A.E. (COMI)`).
 */
export const companyFiles: FileKindReader = {
  kind: 'companies',
  table: TBL_COMPANY,
  columns: ['SYMBOL', 'COMPANY_NAME', 'SECTOR', 'INDUSTRY', 'EXCHANGE', 'ISIN'],
  async open(input, key) {
    let format = 'companies';
    const records = keyedRecords(input, key, (names) => {
      let sym = find(names, 'ticker', 'symbol');
      let name = find(names, 'company name', 'company_name', 'company_name_en', 'name_en');
      if (sym < 0 && name >= 0) sym = find(names, 'name');
      if (name < 0) name = find(names, 'name', 'description');
      const inName = sym < 0 && name >= 0;
      if (sym < 0 && !inName)
        throw new FileUnreadableError(
          `${key}: company file has no ticker/symbol/name column (header: ${names.join(',')})`,
        );
      format = inName ? 'companies:ticker-in-name' : 'companies';
      const [sector, industry, exchange, isin] = [
        find(names, 'sector'),
        find(names, 'industry'),
        find(names, 'exchange'),
        find(names, 'isin'),
      ];
      const at = (cells: string[], i: number) => (i >= 0 && cells[i] ? cells[i] : null);
      return (cells) => {
        const fullName = at(cells, name);
        const tickerText = inName ? /\(([A-Za-z0-9]+)\)\s*$/.exec(fullName ?? '')?.[1] : cells[sym];
        if (inName && tickerText === undefined)
          return `symbol: no ticker in parentheses at the end of the name ${JSON.stringify(fullName ?? '')}`;
        const cell = symbolCell(tickerText);
        if ('reason' in cell) return cell.reason;
        const symbol = cell.symbol;
        const companyName = inName ? (fullName ?? '').replace(/\s*\([A-Za-z0-9]+\)\s*$/, '') : fullName;
        return {
          id: symbol,
          values: [
            symbol,
            companyName,
            at(cells, sector),
            at(cells, industry),
            at(cells, exchange),
            at(cells, isin),
          ],
        };
      };
    });
    // The format is known once the header is read; report it after the first record.
    return {
      get format() {
        return format;
      },
      records: inBatches(records),
    };
  },
};

/**
 * Index code and as-of date from a constituents file name: `EGX30_constituents_2026-07-26.csv`.
 * The index code is a ticker (one schema); a name that is not throws FileUnreadableError.
 */
export function parseConstituentsKey(key: string): { index: string; asOf?: string } {
  const base = (key.split('/').pop() ?? key).replace(/\.csv$/i, '');
  const [index = base] = base.split('_constituents');
  const code = safeParseSymbol(index);
  if (!code.ok)
    throw new FileUnreadableError(
      `${key}: the index code in the file name must be a ticker: ${code.error.message}`,
    );
  const date = /(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(base);
  const asOf = date ? `${date[1]}-${date[2]}-${date[3] ?? '01'}` : undefined;
  const badDate = asOf === undefined ? undefined : businessDateProblem(asOf);
  if (badDate)
    throw new FileUnreadableError(`${key}: the as-of date ${asOf} in the file name is invalid. ${badDate}`);
  return { index: code.symbol, asOf };
}

/** Index constituents (`batch/indices/<INDEX>_constituents.csv`: symbol, weight, as_of) into TBL_INDEX_MEMBERSHIP. */
export const constituentFiles: FileKindReader = {
  kind: 'indices',
  table: TBL_INDEX_MEMBERSHIP,
  columns: ['INDEX_CODE', 'SYMBOL', 'AS_OF', 'WEIGHT', 'COMPANY_NAME'],
  async open(input, key) {
    const { index, asOf: fileAsOf } = parseConstituentsKey(key);
    const records = keyedRecords(input, key, (names) => {
      const sym = find(names, 'symbol', 'ticker', 'name');
      if (sym < 0)
        throw new FileUnreadableError(
          `${key}: constituents file has no symbol/ticker column (header: ${names.join(',')})`,
        );
      const weight = find(names, 'weight', 'weight_percent', 'weight %');
      const asOf = find(names, 'as_of', 'as_of_date', 'date');
      const company = find(names, 'company_name', 'company name');
      return (cells) => {
        const cell = symbolCell(cells[sym]);
        if ('reason' in cell) return cell.reason;
        const symbol = cell.symbol;
        const date = asOf >= 0 && cells[asOf] ? parseDate('as_of', cells[asOf]) : fileAsOf;
        if (!date) return 'as_of: missing in the row and in the file name';
        const w = weight >= 0 ? parseNumber('weight', cells[weight]) : null;
        if (w !== null && (w < 0 || w > 100)) return `weight: must be within 0..100, got ${w}`;
        return { id: symbol, values: [index, symbol, date, w, company >= 0 ? cells[company] || null : null] };
      };
    });
    return { format: 'constituents', records: inBatches(records) };
  },
};
