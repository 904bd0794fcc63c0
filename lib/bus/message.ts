import { z } from 'zod';
import { cairoWallClock } from '../market/calendar.js';
import { symbolInputSchema, symbolSchema } from '../market/symbol.js';

/** Bar intervals carried on the bus. */
export const INTERVALS = ['1d', '1h', '5m', '1m'] as const;
export type Interval = (typeof INTERVALS)[number];

/** One bar per Kafka message on `egx_market_data` (key = symbol), as docs/ARCHITECTURE.md fixes it. */
export interface BarMessage {
  schema: 1;
  symbol: string;
  exchange: 'EGX';
  interval: Interval;
  /** Bar open, ISO-8601 UTC. */
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  source: string;
  ingested_at: string;
}

export type DecodedBar = { ok: true; bar: BarMessage; legacy: boolean } | { ok: false; reason: string };

const price = z.number().finite().nonnegative();
const isoInstant = z
  .string()
  .refine(
    (s) => /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
    'expected ISO-8601 with a zone',
  );

const current = z
  .object({
    schema: z.literal(1),
    symbol: symbolSchema,
    exchange: z.literal('EGX'),
    interval: z.enum(INTERVALS),
    ts: isoInstant,
    open: price,
    high: price,
    low: price,
    close: price.positive(),
    volume: z.number().finite().nonnegative(),
    source: z.string().min(1),
    ingested_at: isoInstant,
  })
  .strict();

const LEGACY_INTERVALS: Record<string, Interval> = {
  daily: '1d',
  '1d': '1d',
  hourly: '1h',
  '1h': '1h',
  '5m': '5m',
  '5min': '5m',
  '1m': '1m',
  '1min': '1m',
};

/** The old producer's shape: `datetime` (Cairo wall clock when it has no zone), `interval: "Daily"`, `ingestion_timestamp`. */
const legacy = z.object({
  // The old producer wrote `EGX:COMI` and sometimes lower case.
  symbol: z
    .string()
    .transform((s) => s.replace(/^EGX:/i, ''))
    .pipe(symbolInputSchema),
  datetime: z.string().min(1),
  interval: z.string().transform((s, ctx) => {
    const i = LEGACY_INTERVALS[s.toLowerCase()];
    if (!i) ctx.addIssue({ code: 'custom', message: `unknown interval ${JSON.stringify(s)}` });
    return i ?? '1d';
  }),
  open: z.coerce.number().pipe(price),
  high: z.coerce.number().pipe(price),
  low: z.coerce.number().pipe(price),
  close: z.coerce.number().pipe(price.positive()),
  volume: z.coerce.number().pipe(z.number().finite().nonnegative()),
  ingestion_timestamp: z.string().optional(),
  source: z.string().optional(),
});

/** A naive `YYYY-MM-DD[ HH:MM[:SS]]` read as Africa/Cairo wall-clock time, as ISO UTC; zoned inputs pass through. */
export function cairoWallClockToUtc(text: string): string | undefined {
  if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(text)) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!m) return undefined;
  return cairoWallClock(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)).toISOString();
}

const describe = (e: z.ZodError) =>
  e.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');

function checkRanges(b: Pick<BarMessage, 'high' | 'low'>): string | undefined {
  return b.high < b.low ? `high ${b.high} < low ${b.low}` : undefined;
}

/**
 * Decodes one message value: the current schema, or the legacy producer's format (normalised).
 * Anything else comes back with a reason for the dead-letter topic, naming the field and rule.
 */
export function decodeBar(
  value: Uint8Array | string | null | undefined,
  now: () => Date = () => new Date(),
): DecodedBar {
  if (value === null || value === undefined) return { ok: false, reason: 'empty message (tombstone)' };
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === 'string' ? value : Buffer.from(value).toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  if (raw && typeof raw === 'object' && 'schema' in raw) {
    const parsed = current.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: describe(parsed.error) };
    const bad = checkRanges(parsed.data);
    return bad
      ? { ok: false, reason: bad }
      : { ok: true, bar: { ...parsed.data, ts: new Date(parsed.data.ts).toISOString() }, legacy: false };
  }
  const parsed = legacy.safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: `neither schema 1 nor the legacy format: ${describe(parsed.error)}` };
  const l = parsed.data;
  const ts = cairoWallClockToUtc(l.datetime);
  if (!ts) return { ok: false, reason: `datetime: unreadable ${JSON.stringify(l.datetime)}` };
  const bad = checkRanges(l);
  if (bad) return { ok: false, reason: bad };
  return {
    ok: true,
    legacy: true,
    bar: {
      schema: 1,
      symbol: l.symbol,
      exchange: 'EGX',
      interval: l.interval,
      ts,
      open: l.open,
      high: l.high,
      low: l.low,
      close: l.close,
      volume: l.volume,
      source: l.source ?? 'legacy-producer',
      ingested_at:
        (l.ingestion_timestamp && cairoWallClockToUtc(l.ingestion_timestamp)) ?? now().toISOString(),
    },
  };
}

/** The Kafka record for a bar: key = symbol, value = UTF-8 JSON. */
export function encodeBar(bar: BarMessage): { key: string; value: string } {
  return { key: bar.symbol, value: JSON.stringify(bar) };
}
