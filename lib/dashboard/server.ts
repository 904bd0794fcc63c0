import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { egxCalendar, type MarketCalendar } from '../market/calendar.js';
import { isSymbol } from '../market/symbol.js';
import type { Warehouse } from '../warehouse/types.js';
import { liveGoldIntraday, type IntradaySource } from './intraday.js';
import { marketStatus, type MarketStatus } from './market-status.js';
import { chartData, dataMark, quoteRows, type QuoteRow } from './queries.js';
import { demoReplay, type PipelineStatus, type PipelineStatusProvider } from './status.js';

export interface DashboardOptions {
  /** The warehouse to read: the worker's own when the dashboard runs in its process (DuckDB has one process per file). */
  warehouse: Warehouse;
  /** host:port to listen on (port 0: any free one). */
  bind: string;
  /** The tracked symbols (a running session's own list wins when the status has one). */
  symbols: string[];
  /** The orchestrator's view (market session, consumer, daily batch); none: the page says so. */
  status?: PipelineStatusProvider;
  /** Where intraday figures come from (default: the intraday gold mart, the streamed bars for symbols it lacks). */
  intraday?: IntradaySource;
  calendar?: MarketCalendar;
  now?: () => Date;
  /** How often the server looks for new bars or rebuilt models, in ms (default 2000). */
  checkEveryMs?: number;
  /** How often the pipeline status is refreshed while a page is open, in ms (default 5000). */
  statusEveryMs?: number;
  log?: (line: string) => void;
}

export interface DashboardServer {
  /** http://host:port/ */
  url: string;
  close(): Promise<void>;
}

/** What the page shows above the table: is this a live session, a demo replay, or history? */
export interface DataView {
  mode: 'live' | 'demo' | 'history';
  /** A few words: "demo replay of 2026-11-19", "live session", "history". */
  label: string;
  /** One line a person reads. */
  note: string;
  demo?: { date?: string; speed?: number; running: boolean };
  /** Market sources of the streamed bars shown (simulator, tradingview, replay). */
  sources: string[];
}

export interface Overview {
  generatedAt: string;
  market: MarketStatus;
  view: DataView;
  rows: QuoteRow[];
  goldDate?: string;
  anomalyMarts: string[];
  status?: PipelineStatus;
  mark?: string;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => join(PUBLIC_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: () => join(PUBLIC_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: () => join(PUBLIC_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  // TradingView's lightweight-charts, its standalone build, served from node_modules (no CDN).
  '/vendor/lightweight-charts.js': {
    file: () =>
      join(
        dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')),
        'dist',
        'lightweight-charts.standalone.production.js',
      ),
    type: 'text/javascript; charset=utf-8',
  },
};

/** Whether the page's data comes from a live session, a demo replay, or is history (no session running). */
export function describeView(
  rows: QuoteRow[],
  status: PipelineStatus | undefined,
  market: MarketStatus,
): DataView {
  const sources = [...new Set(rows.flatMap((r) => (r.marketSource ? [r.marketSource] : [])))].sort();
  const streamedDates = new Set(
    rows.flatMap((r) => (r.priceFrom === 'intraday' && r.tradeDate ? [r.tradeDate] : [])),
  );
  const demo = demoReplay(status);
  const running = status?.session?.status === 'RUNNING';
  if (demo && (running || (demo.date !== undefined && streamedDates.has(demo.date)))) {
    const speed = demo.speed ? ` at ${demo.speed}×` : '';
    return {
      mode: 'demo',
      label: `demo replay of ${demo.date ?? '?'}${running ? ', running' : ''} (${sources.join(', ') || 'simulated'})`,
      note: running
        ? `DEMO REPLAY: the market is closed, so the session of ${demo.date ?? '?'} is being replayed${speed} by the ${sources.join(', ') || 'market source'}. These are not live EGX prices.`
        : `DEMO REPLAY: the prices of ${demo.date ?? '?'} come from a finished demo replay${speed}, not from a live session.`,
      demo: { ...demo, running },
      sources,
    };
  }
  const simulated = sources.includes('simulator')
    ? ' The streamed prices are simulated (market source: simulator).'
    : '';
  if (running && market.open)
    return {
      mode: 'live',
      label: `live session of ${status?.session?.tradingDate ?? market.date}${simulated ? ' (simulated prices)' : ''}`,
      note: `Live session of ${status?.session?.tradingDate ?? market.date}.${simulated}`,
      sources,
    };
  return {
    mode: 'history',
    label: `history: no session streaming now${simulated ? ' (simulated prices)' : ''}`,
    note: `No session is streaming now (${market.reason}); prices are the latest the warehouse holds.${simulated}`,
    sources,
  };
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

function parseBind(bind: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(bind);
  if (!m || Number(m[2]) > 65535)
    throw new Error(`dashboard: bind address ${JSON.stringify(bind)} is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * The dashboard: a small HTTP server (node:http) with the page, its JSON endpoints and one
 * server-sent events stream. While a page is open it looks for new bars (the intraday source's
 * mark, plus the newest model build) every `checkEveryMs` and tells the pages, which then fetch
 * the table and charts again; it also pushes the pipeline status when it changes.
 */
export async function startDashboardServer(opts: DashboardOptions): Promise<DashboardServer> {
  const wh = opts.warehouse;
  const intraday = opts.intraday ?? liveGoldIntraday;
  const calendar = opts.calendar ?? egxCalendar();
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const clients = new Set<ServerResponse>();

  let statusCache: { at: number; value: PipelineStatus } | undefined;
  let statusInFlight: Promise<PipelineStatus | undefined> | undefined;
  const statusEvery = opts.statusEveryMs ?? 5000;
  const getStatus = (maxAgeMs: number): Promise<PipelineStatus | undefined> => {
    if (!opts.status) return Promise.resolve(undefined);
    if (statusCache && Date.now() - statusCache.at < maxAgeMs) return Promise.resolve(statusCache.value);
    const provider = opts.status;
    statusInFlight ??= provider()
      .catch((e: unknown): PipelineStatus => ({
        checkedAt: new Date().toISOString(),
        unavailable: e instanceof Error ? e.message : String(e),
      }))
      .then((value) => {
        statusCache = { at: Date.now(), value };
        return value;
      })
      .finally(() => (statusInFlight = undefined));
    return statusInFlight;
  };
  const trackedSymbols = (status: PipelineStatus | undefined) => {
    const own = status?.session?.status === 'RUNNING' ? status.session.symbols : [];
    return [...new Set([...opts.symbols, ...own.filter(isSymbol)])];
  };

  let lastMark: string | undefined;
  async function overview(): Promise<Overview> {
    const status = await getStatus(statusEvery);
    const market = marketStatus(now(), calendar);
    const [{ rows, anomalyMarts, goldDate }, mark] = await Promise.all([
      quoteRows(wh, trackedSymbols(status), intraday),
      dataMark(wh, intraday),
    ]);
    // Pages opened now have this data: only later changes are news.
    lastMark ??= mark;
    return {
      generatedAt: new Date().toISOString(),
      market,
      view: describeView(rows, status, market),
      rows,
      goldDate,
      anomalyMarts,
      status,
      mark,
    };
  }

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };

  // While pages are open: new bars → "bars"; changed pipeline status → "status"; open/close → "market".
  let checking = false;
  let lastStatusJson: string | undefined;
  let lastMarket: string | undefined;
  let lastCheckError: string | undefined;
  let lastStatusCheck = 0;
  const check = async () => {
    if (checking || clients.size === 0) return;
    checking = true;
    try {
      const mark = await dataMark(wh, intraday);
      if (mark !== lastMark) {
        lastMark = mark;
        broadcast('bars', { mark, at: new Date().toISOString() });
      }
      lastCheckError = undefined;
      const market = marketStatus(now(), calendar);
      if (lastMarket !== undefined && market.reason !== lastMarket) broadcast('market', market);
      lastMarket = market.reason;
      if (opts.status && Date.now() - lastStatusCheck >= statusEvery) {
        lastStatusCheck = Date.now();
        const status = await getStatus(statusEvery / 2);
        const json = JSON.stringify({ ...status, checkedAt: undefined });
        if (json !== lastStatusJson) {
          lastStatusJson = json;
          broadcast('status', status);
        }
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== lastCheckError) log(`dashboard: looking for new bars failed: ${msg}`);
      lastCheckError = msg;
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), opts.checkEveryMs ?? 2000);
  const keepAlive = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    const asset = STATIC[url.pathname];
    if (asset) {
      const body = await readFile(asset.file());
      res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' });
      res.end(body);
      return;
    }
    switch (url.pathname) {
      case '/api/overview':
        return sendJson(res, 200, await overview());
      case '/api/status':
        return sendJson(res, 200, (await getStatus(0)) ?? { checkedAt: new Date().toISOString() });
      case '/api/chart': {
        const symbol = (url.searchParams.get('symbol') ?? '').trim().toUpperCase();
        if (!isSymbol(symbol))
          return sendJson(res, 400, { error: `not a ticker: ${JSON.stringify(symbol)}` });
        return sendJson(res, 200, await chartData(wh, symbol, intraday));
      }
      case '/events': {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache, no-transform',
          Connection: 'keep-alive',
        });
        res.write('retry: 2000\n\n');
        res.write(`event: hello\ndata: ${JSON.stringify({ mark: lastMark ?? null })}\n\n`);
        clients.add(res);
        req.on('close', () => clients.delete(res));
        void check();
        return;
      }
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      log(`dashboard: ${req.url}: ${msg}`);
      if (!res.headersSent) sendJson(res, 500, { error: msg });
      else res.end();
    });
  });
  const { host, port } = parseBind(opts.bind);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(
              `dashboard: ${opts.bind} is already in use (another dashboard? bash scripts/run.sh serves one); set DASHBOARD_BIND to another host:port`,
            )
          : e,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}/`,
    async close() {
      clearInterval(timer);
      clearInterval(keepAlive);
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
