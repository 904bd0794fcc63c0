import { z } from 'zod';
import { showValue } from '../util/show.js';

/**
 * The one ticker schema. Every way a symbol enters the pipeline checks it here: CLI options and
 * arguments, EGX_SYMBOLS, Kafka messages, the market session's symbols, price/finance/index file
 * names, backfill requests, and the object keys built from symbols.
 *
 * A ticker is 2-12 upper-case ASCII letters and digits starting with a letter (COMI, ETEL, EGX30),
 * optionally followed by `_R<n>` for a rights series (the broker export names those `ADIB_r3`).
 * What people type (CLI, EGX_SYMBOLS, file names) is trimmed of spaces and has ASCII a-z
 * upper-cased first; nothing else is changed, so look-alikes (Cyrillic "С", full-width "Ｃ"),
 * zero-width characters, path parts (`../`), quotes and semicolons are refused, never "fixed".
 * Pure (no Node built-ins), so workflow code can use `isSymbol` and `symbolProblem`.
 */

/** The rule in words, for messages. */
export const SYMBOL_RULE =
  'an EGX ticker is 2-12 upper-case ASCII letters or digits starting with a letter, such as COMI or EGX30, optionally followed by _R<n> for a rights series';

const SYMBOL = /^[A-Z][A-Z0-9]{1,11}(?:_R[0-9]{1,2})?$/;
const MAX_LENGTH = 16;

/** True for a ticker exactly as the pipeline stores it (no trimming or upper-casing). */
export function isSymbol(text: unknown): text is string {
  return typeof text === 'string' && SYMBOL.test(text);
}

/** What is wrong with `text` as a stored ticker (a phrase such as `has "/" at position 3`), or undefined. */
export function symbolProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return `is ${text === undefined ? 'missing' : `a ${typeof text}`}, not text`;
  if (SYMBOL.test(text)) return undefined;
  const chars = Array.from(text);
  if (chars.length === 0) return 'is empty';
  const at = (i: number) => `at position ${i + 1}`;
  for (const [i, c] of chars.entries()) {
    const code = c.codePointAt(0)!;
    if (code > 0x7e || code < 0x20)
      return `has ${showValue(c)} ${at(i)}, which is not a printable ASCII character (a look-alike, an invisible or a control character?)`;
    if (/\s/.test(c)) return `has a space ${at(i)}`;
    if (/[a-z]/.test(c)) return `has the lower-case letter "${c}" ${at(i)}`;
    if (!/[A-Z0-9_]/.test(c)) return `has ${showValue(c)} ${at(i)}`;
  }
  if (chars.length > MAX_LENGTH) return `is too long (${chars.length} characters, at most ${MAX_LENGTH})`;
  if (!/^[A-Z]/.test(text)) return 'does not start with a letter';
  const [base = '', ...suffix] = text.split('_');
  if (base.length < 2) return 'is too short (at least 2 characters)';
  if (base.length > 12) return `is too long (${base.length} characters before any suffix, at most 12)`;
  return `has the suffix ${showValue(`_${suffix.join('_')}`)}, but the only suffix allowed is _R<n> (n = 0-99)`;
}

/** Thrown when a ticker breaks the rule; names the value (escaped), what is wrong with it, and the rule. */
export class SymbolInvalidError extends Error {
  constructor(
    readonly value: unknown,
    readonly problem: string,
  ) {
    super(`${showValue(value)} is not an EGX ticker: it ${problem}; ${SYMBOL_RULE}`);
    this.name = 'SymbolInvalidError';
  }
}

/** Typed input made comparable: spaces and tabs around it dropped, ASCII a-z upper-cased. Nothing else changes. */
export function normaliseSymbolInput(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '').replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/**
 * A ticker from what a person typed (see normaliseSymbolInput), or a SymbolInvalidError that
 * shows the normalised value (so positions in the message match it). Does not throw.
 */
export function safeParseSymbol(
  text: unknown,
): { ok: true; symbol: string } | { ok: false; error: SymbolInvalidError } {
  const symbol = typeof text === 'string' ? normaliseSymbolInput(text) : text;
  const problem = symbolProblem(symbol);
  return problem
    ? { ok: false, error: new SymbolInvalidError(symbol, problem) }
    : { ok: true, symbol: symbol as string };
}

/** A ticker from what a person typed (`comi` → `COMI`); throws SymbolInvalidError otherwise. */
export function parseSymbol(text: unknown): string {
  const r = safeParseSymbol(text);
  if (!r.ok) throw r.error;
  return r.symbol;
}

/** Thrown by parseSymbolList when a list holds no ticker at all. */
export class SymbolListEmptyError extends Error {
  constructor() {
    super(`no tickers given; ${SYMBOL_RULE}, separated by commas (COMI,ETEL)`);
    this.name = 'SymbolListEmptyError';
  }
}

/**
 * Tickers from `COMI, etel,COMI` (or an array of items): each item as parseSymbol reads it, empty
 * items between commas skipped, duplicates dropped (first kept). Throws SymbolInvalidError on the
 * first bad item and SymbolListEmptyError when nothing is left.
 */
export function parseSymbolList(text: string | readonly string[]): string[] {
  const items = (typeof text === 'string' ? text.split(',') : text.flatMap((t) => t.split(',')))
    .map(normaliseSymbolInput)
    .filter((s) => s !== '');
  const symbols = [...new Set(items.map(parseSymbol))];
  if (symbols.length === 0) throw new SymbolListEmptyError();
  return symbols;
}

/** Throws SymbolInvalidError unless every entry is a stored-form ticker (no normalising): for inputs that came from code. */
export function assertSymbols(symbols: readonly unknown[]): asserts symbols is string[] {
  for (const s of symbols) {
    const problem = symbolProblem(s);
    if (problem) throw new SymbolInvalidError(s, problem);
  }
}

/** Zod: a ticker exactly as stored (messages, workflow and activity inputs). */
export const symbolSchema = z.string().superRefine((s, ctx) => {
  const problem = symbolProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: new SymbolInvalidError(s, problem).message });
});

/** Zod: a ticker as a person types it (trimmed, ASCII upper-cased), output in stored form. */
export const symbolInputSchema = z.string().transform((s, ctx) => {
  const r = safeParseSymbol(s);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error.message });
    return z.NEVER;
  }
  return r.symbol;
});

/** Zod: a comma-separated list as a person types it (see parseSymbolList). */
export const symbolListSchema = z.string().transform((s, ctx) => {
  try {
    return parseSymbolList(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
