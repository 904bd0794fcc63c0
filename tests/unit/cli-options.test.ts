import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, test } from 'vitest';
import { parseBackfillRequest } from '../../cli/backfill.js';
import { businessDateArg, symbolListArg } from '../../cli/options.js';
import { loadConfig } from '../../lib/config.js';
import { pooled } from '../../lib/util/pool.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A command using the parsers as egx does, with commander's error text captured instead of exiting. */
function parse(args: string[]): { error?: string; opts: Record<string, unknown>; args: unknown[] } {
  let error: string | undefined;
  let got: unknown[] = [];
  const program = new Command('egx')
    .exitOverride()
    .configureOutput({ writeErr: (s) => (error = s.trim()), writeOut: () => undefined })
    .argument('[symbols]', 'tickers', symbolListArg)
    .option('--date <YYYY-MM-DD>', 'date', businessDateArg)
    .option('--symbols <A,B>', 'tickers', symbolListArg)
    .action((...a: unknown[]) => void (got = a));
  try {
    program.parse(args, { from: 'user' });
  } catch {
    // exitOverride: the message is in `error`.
  }
  return { error, opts: program.opts(), args: got };
}

describe('CLI option parsers', () => {
  test('dates: real calendar dates pass, impossible ones are refused naming the option and the value', () => {
    expect(parse(['--date', '2024-02-29']).opts.date).toBe('2024-02-29');
    expect(parse(['--date', '2026-02-30']).error).toBe(
      "error: option '--date <YYYY-MM-DD>' argument '2026-02-30' is invalid. There is no day 30 in February 2026: it has 28 days.",
    );
    expect(parse(['--date', '2026-13-45']).error).toBe(
      "error: option '--date <YYYY-MM-DD>' argument '2026-13-45' is invalid. There is no month 13: months are 01..12.",
    );
    expect(parse(['--date', '2025-02-29']).error).toMatch(/There is no day 29 in February 2025/);
    expect(parse(['--date', '2026-1-5']).error).toMatch(/Expected a date as YYYY-MM-DD/);
    expect(() => businessDateArg("2026-01-05'; DROP TABLE x")).toThrow(InvalidArgumentError);
  });

  test('tickers: typed lower case is upper-cased, lists are split and deduplicated', () => {
    expect(parse(['--symbols', 'comi, ETEL,comi']).opts.symbols).toEqual(['COMI', 'ETEL']);
    expect(parse(['swdy,etel']).args[0]).toEqual(['SWDY', 'ETEL']);
  });

  test.each(HOSTILE_SYMBOLS)('tickers: %j is refused in --symbols and as an argument', (bad, why) => {
    const option = parse(['--symbols', bad === '' ? '' : `COMI,${bad}`]).error ?? '';
    expect(option).toMatch(/^error: option '--symbols <A,B>' argument '.*' is invalid\. /);
    expect(option).toMatch(bad === '' ? /no tickers given/ : why);
    const argument = parse([bad]).error ?? '';
    expect(argument).toMatch(/^error: command-argument value '.*' is invalid for argument 'symbols'\. /);
    expect(argument).toMatch(bad === '' ? /no tickers given/ : why);
  });

  test('the backfill request checks tickers and dates itself too (for callers other than the CLI)', () => {
    const config = loadConfig({});
    expect(
      parseBackfillRequest(config, { from: '2024-01-01', to: '2024-01-31', symbols: 'comi' }).symbols,
    ).toEqual(['COMI']);
    expect(() =>
      parseBackfillRequest(config, { from: '2024-01-01', to: '2024-01-31', symbols: '../../COMI' }),
    ).toThrow(/"\.\.\/\.\.\/COMI" is not an EGX ticker/);
    expect(() => parseBackfillRequest(config, { from: '2024-02-30', to: '2024-03-31' })).toThrow(
      'egx backfill --from: "2024-02-30" is not a valid date. There is no day 30 in February 2024: it has 29 days.',
    );
  });
});

describe('egx refuses bad dates and tickers before anything starts', () => {
  // The real command line, with no Temporal server: a refusal here happens while parsing. A few
  // commands only (each is a process start); the parsers above cover every value.
  const cases: [string[], string][] = [
    [
      ['run', 'daily-batch', '--date', '2026-02-30'],
      "error: option '--date <YYYY-MM-DD>' argument '2026-02-30' is invalid. There is no day 30 in February 2026: it has 28 days.",
    ],
    [
      ['market', 'symbols', 'COMI,../../ETEL'],
      `error: command-argument value 'COMI,../../ETEL' is invalid for argument 'symbols'. "../../ETEL" is not an EGX ticker`,
    ],
    [
      ['backfill', '--from', '2024-01-01', '--to', '2024-01-31', '--symbols', '../../COMI'],
      `error: option '--symbols <A,B>' argument '../../COMI' is invalid. "../../COMI" is not an EGX ticker: it has "." at position 1`,
    ],
    [
      ['schedules', 'backfill', 'egx-daily-batch', '--from', '2025-02-29', '--to', '2025-03-01'],
      "error: option '--from <YYYY-MM-DD>' argument '2025-02-29' is invalid. There is no day 29 in February 2025: it has 28 days.",
    ],
  ];

  test('each command', { timeout: 120_000 }, async () => {
    const results = await pooled(cases, 2, async ([args]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'cli/egx.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      ),
    );
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().startsWith(cases[i]![1]), r.stderr).toBe(true);
    });
  });
});
