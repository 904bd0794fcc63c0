import { parseSymbol } from '../market/symbol.js';
import { parseBusinessDate } from '../util/dates.js';
import { showValue } from '../util/show.js';

/** Thrown when an object key is malformed or would reach outside its prefix; names the key and the rule. */
export class ObjectKeyInvalidError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(
      `object key ${showValue(key, 120)} is invalid: ${problem} (keys are "/"-separated names, without empty, "." or ".." parts, backslashes or control characters)`,
    );
    this.name = 'ObjectKeyInvalidError';
  }
}

/** Why `part` (one name between slashes) cannot be in a key, or undefined. Percent-encoded dots and slashes count as such. */
function partProblem(part: string): string | undefined {
  if (part === '') return 'it has an empty part (leading, trailing or doubled "/")';
  let decoded = part;
  try {
    decoded = decodeURIComponent(part);
  } catch {
    // Not percent-encoding, just a "%" in a name.
  }
  if (decoded === '.' || decoded === '..')
    return `the part ${showValue(part)} points outside the store or its prefix`;
  if (decoded !== part && /[/\\]/.test(decoded))
    return `the part ${showValue(part)} hides a "/" or "\\" in percent-encoding`;
  if (part.includes('\\')) return `the part ${showValue(part)} has a backslash`;
  if (/[\u0000-\u001f\u007f]/.test(part)) return `the part ${showValue(part)} has a control character`;
  return undefined;
}

/** What is wrong with `key` as an object key (a phrase), or undefined when nothing is. */
function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'it is empty';
  for (const part of key.split('/')) {
    const problem = partProblem(part);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Returns `key` when it is a well-formed object key, else throws ObjectKeyInvalidError. Both
 * object stores check every key with this, so no key built from input (a ticker, a file name)
 * can step out of its prefix with `..`, whatever built it. Spaces, `+` and non-Latin names
 * (vendor files such as `T.Bond 7+yr.csv`) are fine.
 */
export function checkObjectKey(key: string): string {
  const problem = keyProblem(key);
  if (problem) throw new ObjectKeyInvalidError(String(key), problem);
  return key;
}

/** The ObjectKeyInvalidError message for `key`, or undefined when it is a well-formed key. */
export function objectKeyProblem(key: string): string | undefined {
  const problem = keyProblem(key);
  return problem && new ObjectKeyInvalidError(String(key), problem).message;
}

/** `prefix/name/...`, each name checked to be one part (no "/"), so the result stays under `prefix`. */
export function keyUnder(prefix: string, ...names: string[]): string {
  for (const name of names) {
    if (name.includes('/'))
      throw new ObjectKeyInvalidError(
        `${prefix}/${names.join('/')}`,
        `the name ${showValue(name)} has a "/"`,
      );
  }
  return checkObjectKey([prefix.replace(/\/+$/, ''), ...names].join('/'));
}

/** A symbol's daily price history: `batch/prices/<SYMBOL>.csv`. Throws SymbolInvalidError for a bad ticker. */
export const priceKey = (symbol: string): string => keyUnder('batch/prices', `${parseSymbol(symbol)}.csv`);

/** A backfill chunk's history file: `batch/prices/backfill/<from>/<SYMBOL>.csv`, beside the other batch price files. */
export const backfillPriceKey = (from: string, symbol: string): string =>
  keyUnder('batch/prices/backfill', parseBusinessDate(from, 'backfill from'), `${parseSymbol(symbol)}.csv`);
