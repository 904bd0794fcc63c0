import { describe, expect, test } from 'vitest';
import {
  isSymbol,
  parseSymbol,
  parseSymbolList,
  symbolInputSchema,
  symbolSchema,
  SymbolInvalidError,
  SymbolListEmptyError,
} from '../../lib/market/symbol.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';

describe('the ticker schema', () => {
  test.each(['COMI', 'ETEL', 'EGX30', 'EGX100', 'TWRIQSEC01A', 'ADIB_R3', 'AB'])('%s is a ticker', (s) => {
    expect(isSymbol(s)).toBe(true);
    expect(parseSymbol(s)).toBe(s);
    expect(symbolSchema.parse(s)).toBe(s);
  });

  test('typed input is trimmed and ASCII-upper-cased, nothing more', () => {
    expect(parseSymbol(' comi\t')).toBe('COMI');
    expect(parseSymbol('adib_r3')).toBe('ADIB_R3');
    expect(symbolInputSchema.parse('etel')).toBe('ETEL');
    // Letters whose upper case is ASCII (dotless ı, long ſ) are not letters of a ticker.
    expect(() => parseSymbol('com\u0131')).toThrow(/"COM\\u\{0131\}" is not an EGX ticker/);
    expect(() => parseSymbol('\u017fWDY')).toThrow(SymbolInvalidError);
    // Stored form is exact: a lower-case ticker in a message is refused, not fixed.
    expect(isSymbol('comi')).toBe(false);
    expect(symbolSchema.safeParse('comi').error?.issues[0]?.message).toMatch(
      /has the lower-case letter "c" at position 1/,
    );
  });

  test.each(HOSTILE_SYMBOLS)('%j is refused naming the value, the problem and the rule', (value, why) => {
    const err = (() => {
      try {
        parseSymbol(value);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SymbolInvalidError);
    const message = (err as Error).message;
    expect(message).toMatch(why);
    expect(message).toContain('is not an EGX ticker');
    expect(message).toContain('2-12 upper-case ASCII letters or digits');
    // Long values are cut in messages; invisible and look-alike characters are spelled out.
    expect(message.length).toBeLessThan(400);
    expect(message).toMatch(/^[\x20-\x7e]*$/);
    expect(isSymbol(value)).toBe(false);
  });

  test('lists: commas, spaces and duplicates are fine; one bad item or none at all is not', () => {
    expect(parseSymbolList('comi, ETEL,,COMI')).toEqual(['COMI', 'ETEL']);
    expect(parseSymbolList(['COMI,ETEL', 'swdy'])).toEqual(['COMI', 'ETEL', 'SWDY']);
    expect(() => parseSymbolList('COMI,../../ETEL')).toThrow(/"\.\.\/\.\.\/ETEL" is not an EGX ticker/);
    expect(() => parseSymbolList(' , ')).toThrow(SymbolListEmptyError);
    expect(() => parseSymbolList('')).toThrow(/no tickers given/);
  });
});
