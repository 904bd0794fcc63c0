/**
 * Commander parsers for the options and arguments that carry dates and tickers, so bad input is
 * refused while the command line is read, before any connection or workflow start, with
 * commander's "error: option '--date <YYYY-MM-DD>' argument '2026-02-30' is invalid. <why>".
 */
import { InvalidArgumentError } from 'commander';
import { parseSymbolList } from '../lib/market/symbol.js';
import { businessDateProblem } from '../lib/util/dates.js';

/** `--date`, `--from`, `--to`: a real calendar date as YYYY-MM-DD. */
export function businessDateArg(value: string): string {
  const problem = businessDateProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** `--symbols COMI,ETEL` and `egx market symbols COMI,ETEL`: tickers by the one schema (lower case is upper-cased). */
export function symbolListArg(value: string): string[] {
  try {
    return parseSymbolList(value);
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}.`);
  }
}
