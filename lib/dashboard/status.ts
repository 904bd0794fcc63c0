/**
 * What the dashboard shows of the running pipeline. lib/ knows no Temporal: the orchestrator's
 * answers come through a PipelineStatusProvider (cli/dashboard.ts builds one on the Temporal client).
 */

/** One workflow run, linked to its page in the Temporal Web UI. */
export interface RunLink {
  workflowId: string;
  runId?: string;
  /** RUNNING, COMPLETED, FAILED, … as Temporal names it. */
  status: string;
  url: string;
  startedAt?: string;
  closedAt?: string;
  /** Something about the run that could not be read (a query no worker answered, say). */
  note?: string;
}

export interface SessionStatus extends RunLink {
  tradingDate?: string;
  /** Set for a demo replay: market minutes per real minute. */
  demoSpeed?: number;
  /** Why the day's session did not trade (weekend, holiday). */
  closed?: string;
  paused: boolean;
  polls: number;
  bars: number;
  /** End of the last polled window (ISO-8601 UTC): bars opened before it have been fetched. */
  lastPollEnd?: string;
  symbols: string[];
  /** Symbols that failed the last poll, with the reason. */
  failing: { symbol: string; reason: string }[];
  /** Intraday gold: the live marts the session refreshes after its polls. */
  intraday?: {
    refreshes: number;
    failed: number;
    /** End of the polled window the last refresh followed (ISO-8601 UTC), its symbols and seconds. */
    lastPollEnd?: string;
    quotes?: number;
    seconds?: number;
    lastError?: string;
  };
}

export interface ConsumerStatus extends RunLink {
  /** Messages on the topic not yet committed by the sink consumer (the running round's, else the last round's). */
  lag?: number;
  deadLettered: number;
  messages: number;
  bars: number;
  rounds: number;
}

export interface DailyBatchStatus extends RunLink {
  businessDate?: string;
}

export interface PipelineStatus {
  checkedAt: string;
  /** Set when the orchestrator could not be asked: why, and what to do. */
  unavailable?: string;
  /** The newest market session (a running one first), live or demo. */
  session?: SessionStatus;
  /** The sink consumer (Kafka → object store + warehouse); absent with BUS=direct, where polls write the sinks themselves. */
  consumer?: ConsumerStatus;
  /** BUS=direct: no consumer, no lag, no dead-letter topic. */
  direct?: boolean;
  dailyBatch?: DailyBatchStatus;
  temporalUiUrl?: string;
}

export type PipelineStatusProvider = () => Promise<PipelineStatus>;

/** The demo replay a status shows, if any: the session is a compressed replay of a past day. */
export function demoReplay(
  status: PipelineStatus | undefined,
): { date?: string; speed?: number } | undefined {
  const s = status?.session;
  if (!s) return undefined;
  if (s.demoSpeed || /(^|-)market-session-demo-/.test(s.workflowId))
    return { date: s.tradingDate, speed: s.demoSpeed };
  return undefined;
}
