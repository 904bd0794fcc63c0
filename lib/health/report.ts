export type HealthComponent =
  | 'temporal'
  | 'kafka'
  | 's3'
  | 'duckdb'
  | 'workers'
  | 'consumer-lag'
  | 'dlq'
  | 'freshness'
  | 'live-view'
  | 'disk';

/** The outcome of checking one component. */
export interface CheckResult {
  component: HealthComponent;
  ok: boolean;
  latencyMs: number;
  /** What was checked when ok; why it failed otherwise. */
  detail: string;
}

/** One readable line per cause: "KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:9092". */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 4; depth++) {
    if (!(cur instanceof Error)) {
      parts.push(typeof cur === 'string' ? cur : JSON.stringify(cur));
      break;
    }
    const err = cur;
    const code = (err as { code?: unknown }).code;
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    const suffix = typeof code === 'string' && !err.message.includes(code) ? ` (${code})` : '';
    // Libraries often repeat their cause's message; keep each message once.
    if (!parts.some((p) => p.includes(err.message))) parts.push(`${name}${err.message}${suffix}`);
    cur = err.cause;
  }
  return parts.join(' <- ') || 'unknown error';
}

/** Runs one check, timing it; a thrown error becomes a failed result, never an exception. */
export async function timed(
  component: HealthComponent,
  check: () => Promise<string>,
  now: () => number = () => performance.now(),
): Promise<CheckResult> {
  const t0 = now();
  try {
    const detail = await check();
    return { component, ok: true, latencyMs: Math.round(now() - t0), detail };
  } catch (e) {
    return { component, ok: false, latencyMs: Math.round(now() - t0), detail: describeError(e) };
  }
}

export const allHealthy = (results: readonly CheckResult[]): boolean =>
  results.length > 0 && results.every((r) => r.ok);

/** One line per component: name, UP/DOWN, latency, detail. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.component.length), 8);
  return results
    .map(
      (r) =>
        `${r.component.padEnd(width)}  ${r.ok ? 'UP  ' : 'DOWN'}  ${`${r.latencyMs} ms`.padStart(8)}  ${r.detail}`,
    )
    .join('\n');
}

/** A one-line summary naming the components that are down. */
export function summarize(results: readonly CheckResult[]): string {
  const down = results.filter((r) => !r.ok);
  if (down.length === 0) return `all ${results.length} components healthy`;
  return `${down.map((r) => r.component).join(', ')} down: ${down.map((r) => `${r.component}: ${r.detail}`).join('; ')}`;
}
