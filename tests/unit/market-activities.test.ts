import { ApplicationFailure } from '@temporalio/common';
import { expect, test } from 'vitest';
import { createMarketActivities } from '../../activities/market.js';
import type { BarMessage } from '../../lib/bus/message.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import type { MarketSource } from '../../lib/sources/types.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';

const window = { interval: '5m' as const, from: '2025-11-30T08:00:00.000Z', to: '2025-11-30T09:00:00.000Z' };

function setUp() {
  const sim = new SimulatorSource(5);
  const asked: string[] = [];
  const published: BarMessage[] = [];
  const source: MarketSource = {
    name: 'spy',
    latestQuote: (s) => sim.latestQuote(s),
    fetchBars: async (req) => {
      asked.push(...req.symbols);
      return sim.fetchBars(req);
    },
  };
  const acts = createMarketActivities({
    source,
    publisher: { publish: async (bars) => (published.push(...bars), bars.length) },
  });
  return { acts, asked, published };
}

// What a setSymbols signal from any client could put in the session's list.
test('a poll never passes a non-ticker to the source; it reports it failed with the rule, the rest are polled', async () => {
  const { acts, asked, published } = setUp();
  const hostile = HOSTILE_SYMBOLS.map(([v]) => v);
  const r = await acts.pollMarket({ symbols: ['COMI', ...hostile], ...window });
  expect(asked).toEqual(['COMI']);
  expect(new Set(published.map((b) => b.symbol))).toEqual(new Set(['COMI']));
  expect(r.bars).toBe(12);
  expect(r.failed.map((f) => f.symbol)).toEqual(hostile);
  for (const [i, [, why]] of HOSTILE_SYMBOLS.entries()) {
    expect(r.failed[i]!.reason).toContain('is not an EGX ticker');
    expect(r.failed[i]!.reason).toMatch(why);
  }
});

test('an impossible trading date is BadInput, not a plan', async () => {
  const { acts } = setUp();
  const err = await acts.planMarketSession({ date: '2026-02-30' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({
    type: 'BadInput',
    nonRetryable: true,
    message:
      'market session: trading date "2026-02-30" is not a valid date. There is no day 30 in February 2026: it has 28 days.',
  });
});

test('a bus that is down fails the whole poll (so Temporal retries the same window); nothing is reported as polled', async () => {
  const acts = createMarketActivities({
    source: new SimulatorSource(5),
    publisher: {
      publish: async () => {
        throw new Error(
          'KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        );
      },
    },
  });
  await expect(acts.pollMarket({ symbols: ['COMI', 'ETEL'], ...window })).rejects.toThrow(
    /publishing 24 bars of 2025-11-30T08:00:00.000Z..2025-11-30T09:00:00.000Z failed \(the poll is retried\): KafkaJSNumberOfRetriesExceeded/,
  );
});

test('a symbol the source fails on does not fail the poll: the others are published, it is reported failed', async () => {
  const sim = new SimulatorSource(5);
  const published: BarMessage[] = [];
  const acts = createMarketActivities({
    source: {
      name: 'flaky',
      latestQuote: (s) => sim.latestQuote(s),
      fetchBars: async (req) => {
        if (req.symbols.includes('ETEL')) throw new Error('symbol_error: ETEL is halted');
        return sim.fetchBars(req);
      },
    },
    publisher: { publish: async (bars) => (published.push(...bars), bars.length) },
  });
  const r = await acts.pollMarket({ symbols: ['COMI', 'ETEL'], ...window });
  expect(r).toEqual({ bars: 12, failed: [{ symbol: 'ETEL', reason: 'symbol_error: ETEL is halted' }] });
  expect(new Set(published.map((b) => b.symbol))).toEqual(new Set(['COMI']));
});
