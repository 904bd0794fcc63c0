import { TBL_FINANCIAL } from '../warehouse/schema.js';
import { symbolFromFileName } from './daily-bars.js';
import { FileUnreadableError, inBatches, type FileKindReader, type LoadRecord } from './records.js';
import { readCsv } from './text-stream.js';
import { parseDate, parseNumber, ValueParseError } from './values.js';

const norm = (h: string) => h.trim().toLowerCase();
const PERIOD = ['period_end', 'period', 'date', 'fiscal_period_end'];
const STATEMENT = ['statement', 'statement_type', 'report'];
const ITEM = ['item', 'line_item', 'metric', 'account'];
const VALUE = ['value', 'amount'];
const CURRENCY = ['currency', 'ccy'];

/** `batch/finances/COMI_finance.csv` → `COMI`; a name that is not `<ticker>_finance.csv` throws FileUnreadableError. */
export const symbolFromFinanceKey = (key: string): string =>
  symbolFromFileName(key, /(_financ(e|ials?))?\.csv$/i);

/**
 * Financial statement files (`batch/finances/<SYMBOL>_finance.csv`) into TBL_FINANCIAL, in either
 * shape: long (period_end, statement, item, value[, currency]: one row per item) or wide
 * (period_end[, statement] then one column per item: each cell becomes a row). Accounting
 * negatives `(1,234)` are read as -1234; empty cells in the wide shape are no value, not zero.
 */
export const financialFiles: FileKindReader = {
  kind: 'finances',
  table: TBL_FINANCIAL,
  columns: ['SYMBOL', 'PERIOD_END', 'STATEMENT', 'ITEM', 'VALUE', 'CURRENCY'],
  async open(input, key) {
    const symbol = symbolFromFinanceKey(key);
    const rows = readCsv(input);
    const head = await rows.next();
    if (head.done) throw new FileUnreadableError(`${key}: empty file, no header`);
    const names = head.value.cells.map(norm);
    const header = head.value.cells;
    const idx = (aliases: string[]) => names.findIndex((n) => aliases.includes(n));
    const [period, statement, item, value, currency] = [
      idx(PERIOD),
      idx(STATEMENT),
      idx(ITEM),
      idx(VALUE),
      idx(CURRENCY),
    ];
    if (period < 0)
      throw new FileUnreadableError(
        `${key}: financials file has no period_end/date column (header: ${header.join(',')})`,
      );
    const long = item >= 0 && value >= 0;
    const itemColumns = names.map((_, i) => i).filter((i) => ![period, statement, currency].includes(i));
    if (!long && itemColumns.length === 0)
      throw new FileUnreadableError(`${key}: financials file has no item columns`);

    async function* records(): AsyncGenerator<LoadRecord> {
      const seen = new Map<string, number>();
      for await (const r of rows) {
        const raw = r.cells.join(',');
        try {
          const periodEnd = parseDate('period_end', r.cells[period]);
          const stmt = (statement >= 0 && r.cells[statement]) || 'unspecified';
          const ccy = (currency >= 0 && r.cells[currency]) || null;
          const cells: [string, string | undefined][] = long
            ? [[r.cells[item] ?? '', r.cells[value]]]
            : itemColumns.map((i) => [header[i]!.trim(), r.cells[i]]);
          for (const [itemName, text] of cells) {
            if (!itemName) {
              yield { ok: false, line: r.line, reason: 'item: missing', raw };
              continue;
            }
            const v = parseNumber(itemName, (text ?? '').replace(/^\((.*)\)$/, '-$1'));
            if (v === null && !long) continue;
            const id = `${periodEnd}|${stmt}|${itemName}`;
            if (seen.has(id)) {
              yield {
                ok: false,
                line: r.line,
                reason: `duplicate item ${itemName} for ${stmt} ${periodEnd} (also on line ${seen.get(id)})`,
                raw,
              };
              continue;
            }
            seen.set(id, r.line);
            yield { ok: true, line: r.line, values: [symbol, periodEnd, stmt, itemName, v, ccy] };
          }
        } catch (e) {
          if (!(e instanceof ValueParseError)) throw e;
          yield { ok: false, line: r.line, reason: e.message, raw };
        }
      }
    }
    return { format: long ? 'finance:long' : 'finance:wide', records: inBatches(records()) };
  },
};
