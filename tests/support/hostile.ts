/**
 * Ticker values an attacker or a typo might send, each with what the refusal must point at. Shared
 * by the tests of every entry point (CLI, config, messages, file names, backfill keys).
 */
export const HOSTILE_SYMBOLS: [string, RegExp][] = [
  ['../../COMI', /has "\." at position 1/],
  ['..%2FCOMI', /has "\." at position 1/],
  ['CO/MI', /has "\/" at position 3/],
  ["CO'MI", /has "'" at position 3/],
  ['CO"MI', /has "\\"" at position 3/],
  ['COMI;DROP TABLE x', /has ";" at position 5/],
  ['\u0421OMI', /"\\u\{0421\}OMI" .*has "\\u\{0421\}" at position 1, which is not a printable ASCII/],
  ['\uFF23\uFF2F\uFF2D\uFF29', /has "\\u\{FF23\}" at position 1/],
  ['CO\u200BMI', /"CO\\u\{200B\}MI" .*has "\\u\{200B\}" at position 3/],
  ['CO MI', /has a space at position 3/],
  ['', /is empty/],
  ['A'.repeat(300), /is too long \(300 characters, at most 16\)/],
  ['ABCDEFGHIJKLM', /is too long \(13 characters before any suffix, at most 12\)/],
  ['1COMI', /does not start with a letter/],
  ['C', /is too short/],
  ['COMI_X', /the only suffix allowed is _R<n>/],
];
