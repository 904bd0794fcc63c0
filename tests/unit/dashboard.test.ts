import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runDashboard, temporalStatusProvider, WarehouseBusyError } from '../../cli/dashboard.js';
import { ConfigInvalidError, loadConfig } from '../../lib/config.js';
import { liveGoldIntraday, streamBarsIntraday } from '../../lib/dashboard/intraday.js';
import { marketStatus } from '../../lib/dashboard/market-status.js';
import { chartData, dataMark, quoteRows } from '../../lib/dashboard/queries.js';
import { describeView, startDashboardServer, type DashboardServer } from '../../lib/dashboard/server.js';
import type { PipelineStatus, SessionStatus } from '../../lib/dashboard/status.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { refreshLiveGold } from '../../lib/stream/live-gold.js';
import { loadProject } from '../../lib/transforms/project.js';
import { egxCalendar } from '../../lib/market/calendar.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';
import { pollDirect, seedGold } from '../support/dashboard-data.js';

const TRANSFORMS_DIR = fileURLToPath(new URL('../../transforms', import.meta.url));

describe('market status from the EGX calendar', () => {
  // December: Cairo is UTC+2, so 10:00–14:30 Cairo is 08:00–12:30 UTC.
  const cal = egxCalendar([{ date: '2026-12-03', name: 'Test Holiday' }]);
  const at = (iso: string) => marketStatus(new Date(iso), cal);

  test('open during the session, saying until when', () => {
    expect(at('2026-12-01T09:00:00Z')).toMatchObject({
      open: true,
      date: '2026-12-01',
      reason: 'open until 14:30 Cairo',
      session: { date: '2026-12-01', open: '2026-12-01T08:00:00.000Z', close: '2026-12-01T12:30:00.000Z' },
    });
  });

  test('closed before the open and after the close, with the next session', () => {
    expect(at('2026-12-01T06:00:00Z')).toMatchObject({
      open: false,
      reason: 'closed: before the open (10:00 Cairo)',
      session: { date: '2026-12-01', open: '2026-12-01T08:00:00.000Z' },
    });
    expect(at('2026-12-01T13:00:00Z')).toMatchObject({
      open: false,
      reason: 'closed: after the close (14:30 Cairo)',
      session: { date: '2026-12-02' },
    });
  });

  test('weekends and holidays are closed, named, and skipped to the next trading day', () => {
    // Wednesday after the close: Thursday is a holiday, Friday and Saturday are the weekend.
    expect(at('2026-12-02T13:00:00Z').session.date).toBe('2026-12-06');
    expect(at('2026-12-03T09:00:00Z')).toMatchObject({
      open: false,
      reason: 'closed: Test Holiday',
      session: { date: '2026-12-06' },
    });
    expect(at('2026-12-04T09:00:00Z')).toMatchObject({
      reason: 'closed: Friday',
      session: { date: '2026-12-06' },
    });
    expect(at('2026-12-05T09:00:00Z')).toMatchObject({ reason: 'closed: Saturday' });
  });
});

describe('DASHBOARD_BIND', () => {
  test('defaults to 127.0.0.1:8300; anything but host:port is refused, naming the variable', () => {
    expect(loadConfig({}).dashboard.bind).toBe('127.0.0.1:8300');
    expect(loadConfig({ DASHBOARD_BIND: '127.0.0.1:0' }).dashboard.bind).toBe('127.0.0.1:0');
    for (const bad of ['8300', 'localhost', '127.0.0.1:99999', 'http://127.0.0.1:8300'])
      expect(() => loadConfig({ DASHBOARD_BIND: bad }), bad).toThrow(ConfigInvalidError);
    expect(() => loadConfig({ DASHBOARD_BIND: '8300' })).toThrow(/DASHBOARD_BIND: expected host:port/);
  });
});

const SYMBOLS = ['COMI', 'ETEL', 'SWDY'];
let wh: DuckDbWarehouse;
let deps: { store: LocalObjectStore; warehouse: DuckDbWarehouse };
beforeAll(async () => {
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  deps = { store: new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-dashboard-'))), warehouse: wh };
  await seedGold(deps, { symbols: SYMBOLS, from: '2026-09-01', to: '2026-11-18' });
});
afterAll(async () => wh?.close());

const goldDay = async (symbol: string, date: string) =>
  (
    await wh.query(
      `SELECT close_price AS C, price_change_pct AS P, rsi_14 AS R, trend_signal AS T, volume AS V
       FROM GOLD.gold_fct_stock_daily_prices WHERE symbol = ? AND trade_date = ?`,
      [symbol, date],
    )
  )[0]!;

describe('dashboard data', () => {
  test("before any poll, each symbol shows gold's last day: close, change, volume, RSI and signals", async () => {
    const { rows, goldDate, anomalyMarts } = await quoteRows(wh, [...SYMBOLS, 'ORAS'], streamBarsIntraday);
    expect(goldDate).toBe('2026-11-18');
    // The anomaly mart's flags of the day, named after its boolean columns.
    expect(anomalyMarts).toEqual(['GOLD.GOLD_FCT_STOCK_ANOMALIES']);
    const [flags] = await wh.query<Record<string, boolean>>(
      "SELECT is_return_anomaly AS R, is_volume_anomaly AS V, is_anomaly AS A FROM GOLD.gold_fct_stock_anomalies WHERE symbol = 'COMI' AND trade_date = '2026-11-18'",
    );
    const g = await goldDay('COMI', '2026-11-18');
    const prev = await goldDay('COMI', '2026-11-17');
    expect(rows[0]).toMatchObject({
      symbol: 'COMI',
      priceFrom: 'daily',
      tradeDate: '2026-11-18',
      price: g.C,
      prevClose: prev.C,
      volume: g.V,
      rsi14: g.R,
      rsiDate: '2026-11-18',
      signals: { trend: g.T },
      anomalies: [flags!.R && 'return', flags!.V && 'volume', flags!.A && 'anomaly'].filter(Boolean),
    });
    expect(rows[0]!.changePct).toBeCloseTo(g.P as number, 9);
    // A tracked symbol with nothing loaded is listed without figures.
    expect(rows.map((r) => r.symbol)).toEqual([...SYMBOLS, 'ORAS']);
    expect([rows[3]!.price, rows[3]!.changePct, rows[3]!.rsi14]).toEqual([undefined, undefined, undefined]);
  });

  test("after a poll, the latest streamed bar is the price, against the previous trading day's close", async () => {
    // 10:00–11:00 Cairo on Thursday 19 November: twelve 5-minute bars a symbol.
    expect(
      await pollDirect(deps, { symbols: SYMBOLS, from: '2026-11-19T08:00:00Z', to: '2026-11-19T09:00:00Z' }),
    ).toBe(36);
    const [bars] = await wh.query(
      `SELECT SUM(VOLUME) AS V, MAX(TS) AS T, COUNT(*) AS N FROM RAW.STREAM_BARS WHERE SYMBOL = 'COMI' AND TRADE_DATE = '2026-11-19'`,
    );
    const [last] = await wh.query(
      `SELECT CLOSE_PRICE AS C FROM RAW.STREAM_BARS WHERE SYMBOL = 'COMI' ORDER BY TS DESC LIMIT 1`,
    );
    const { rows } = await quoteRows(wh, SYMBOLS, streamBarsIntraday);
    const g = await goldDay('COMI', '2026-11-18');
    expect(bars!.N).toBe(12);
    expect(rows[0]).toMatchObject({
      symbol: 'COMI',
      priceFrom: 'intraday',
      tradeDate: '2026-11-19',
      price: last!.C,
      prevClose: g.C,
      volume: bars!.V,
      lastBarAt: '2026-11-19T08:55:00.000Z',
      interval: '5m',
      marketSource: 'simulator',
      // RSI and signals stay gold's until the models are rebuilt.
      rsiDate: '2026-11-18',
    });
    expect(rows[0]!.changePct).toBeCloseTo(
      (((last!.C as number) - (g.C as number)) / (g.C as number)) * 100,
      9,
    );
    expect(rows[0]!.vwap).toBeGreaterThan(0);
  });

  test("charts: gold's daily candles with moving averages and bands, today's candle from the stream, and the session's bars", async () => {
    const c = await chartData(wh, 'COMI', streamBarsIntraday);
    expect(c.lines).toEqual([
      'MA_7',
      'MA_30',
      'MA_50',
      'MA_200',
      'BB_UPPER_20',
      'BB_MIDDLE_20',
      'BB_LOWER_20',
    ]);
    const days = c.daily.map((d) => d.date);
    expect(days[0]).toBe('2026-09-01');
    expect(days.at(-2)).toBe('2026-11-18');
    expect([...days].sort()).toEqual(days);
    // Bollinger bands only once 20 closes exist; the moving averages from the start.
    expect(c.daily[0]!.lines).not.toHaveProperty('BB_UPPER_20');
    const g = c.daily.at(-2)!;
    expect(g.lines.BB_UPPER_20).toBeGreaterThan(g.lines.BB_MIDDLE_20!);
    expect(g.lines.BB_LOWER_20).toBeLessThan(g.lines.BB_MIDDLE_20!);
    expect(g.lines.MA_7).toBeGreaterThan(0);
    // Gold has not the streamed day yet: a provisional candle rolled up from its bars.
    const bars = c.intraday!.bars;
    expect(c.intraday).toMatchObject({ tradeDate: '2026-11-19', interval: '5m' });
    expect(bars).toHaveLength(12);
    expect(bars[0]!.time).toBe('2026-11-19T08:00:00.000Z');
    expect(c.daily.at(-1)).toEqual({
      date: '2026-11-19',
      open: bars[0]!.open,
      high: Math.max(...bars.map((b) => b.high)),
      low: Math.min(...bars.map((b) => b.low)),
      close: bars.at(-1)!.close,
      volume: bars.reduce((s, b) => s + b.volume, 0),
      lines: {},
      provisional: true,
    });
  });

  test('the mark changes when bars land, and only then', async () => {
    const before = await dataMark(wh, streamBarsIntraday);
    expect(await dataMark(wh, streamBarsIntraday)).toBe(before);
    await pollDirect(deps, { symbols: ['COMI'], from: '2026-11-19T09:00:00Z', to: '2026-11-19T09:05:00Z' });
    expect(await dataMark(wh, streamBarsIntraday)).not.toBe(before);
  });

  test('with intraday gold refreshed, the table reads the mart; what it lacks comes from the streamed bars', async () => {
    // No refresh yet: the same as the streamed bars.
    expect(await quoteRows(wh, [...SYMBOLS, 'ORAS'], liveGoldIntraday)).toEqual(
      await quoteRows(wh, [...SYMBOLS, 'ORAS'], streamBarsIntraday),
    );
    await refreshLiveGold(wh, await loadProject(TRANSFORMS_DIR), {
      tradingDate: '2026-11-19',
      runId: 'dashboard-live',
      symbols: SYMBOLS,
      interval: '5m',
      from: '2026-11-19T08:00:00Z',
      to: '2026-11-19T09:05:00Z',
      expectedBars: 0,
    });
    // A poll lands that no refresh has followed yet: the mart is one bar behind the stream.
    await pollDirect(deps, { symbols: ['COMI'], from: '2026-11-19T09:05:00Z', to: '2026-11-19T09:10:00Z' });
    const [mart] = await wh.query(
      `SELECT * FROM GOLD.gold_fct_live_quotes WHERE symbol = 'COMI' AND trade_date = '2026-11-19'`,
    );
    const { rows } = await quoteRows(wh, [...SYMBOLS, 'ORAS'], liveGoldIntraday);
    expect(rows[0]).toMatchObject({
      symbol: 'COMI',
      priceFrom: 'intraday',
      price: mart!.LAST_PRICE,
      volume: mart!.VOLUME,
      vwap: mart!.VWAP,
      lastBarAt: '2026-11-19T09:00:00.000Z',
    });
    expect((await quoteRows(wh, SYMBOLS, streamBarsIntraday)).rows[0]!.lastBarAt).toBe(
      '2026-11-19T09:05:00.000Z',
    );
    expect([rows[3]!.symbol, rows[3]!.price]).toEqual(['ORAS', undefined]);
  });

  test('anomaly flags appear where an anomaly mart exists, named after its flag columns', async () => {
    // This test's own mart in place of the built one, whose flags are rarely raised on the seed.
    await wh.execute('ALTER TABLE GOLD.gold_fct_stock_anomalies RENAME TO built_mart_set_aside');
    await wh.execute(
      `CREATE TABLE GOLD.gold_fct_stock_anomalies (symbol VARCHAR, trade_date DATE, return_zscore DOUBLE,
         is_return_outlier BOOLEAN, volume_spike_flag BOOLEAN)`,
    );
    try {
      await wh.execute(`INSERT INTO GOLD.gold_fct_stock_anomalies VALUES
        ('COMI', '2026-11-17', 0.1, false, true),
        ('COMI', '2026-11-18', 3.4, true, false),
        ('ETEL', '2026-11-18', 0.2, false, false)`);
      const { rows, anomalyMarts } = await quoteRows(wh, SYMBOLS, streamBarsIntraday);
      expect(anomalyMarts).toEqual(['GOLD.GOLD_FCT_STOCK_ANOMALIES']);
      expect(rows.map((r) => [r.symbol, r.anomalies])).toEqual([
        ['COMI', ['return outlier']],
        ['ETEL', []],
        ['SWDY', []],
      ]);
    } finally {
      await wh.execute('DROP TABLE GOLD.gold_fct_stock_anomalies');
      await wh.execute('ALTER TABLE GOLD.built_mart_set_aside RENAME TO gold_fct_stock_anomalies');
    }
  });
});

describe('what the page says about the data', () => {
  const market = marketStatus(new Date('2026-12-01T13:00:00Z'), egxCalendar());
  const open = marketStatus(new Date('2026-12-01T09:00:00Z'), egxCalendar());
  const session = (over: Partial<SessionStatus>): PipelineStatus => ({
    checkedAt: '2026-12-01T13:00:00Z',
    session: {
      workflowId: 'market-session-2026-12-01',
      status: 'RUNNING',
      url: 'http://127.0.0.1:8233/x',
      paused: false,
      polls: 3,
      bars: 30,
      symbols: SYMBOLS,
      failing: [],
      tradingDate: '2026-12-01',
      ...over,
    },
  });
  const streamed = (date: string) => [
    {
      symbol: 'COMI',
      priceFrom: 'intraday' as const,
      tradeDate: date,
      marketSource: 'simulator',
      signals: {},
      anomalies: [],
    },
  ];

  test('a running demo replay, or data from a finished one, is labelled DEMO REPLAY with the day and speed', () => {
    const demo = session({
      workflowId: 'market-session-demo-2026-11-19',
      tradingDate: '2026-11-19',
      demoSpeed: 60,
    });
    expect(describeView(streamed('2026-11-19'), demo, market)).toMatchObject({
      mode: 'demo',
      note: 'DEMO REPLAY: the market is closed, so the session of 2026-11-19 is being replayed at 60× by the simulator. These are not live EGX prices.',
      demo: { date: '2026-11-19', speed: 60, running: true },
    });
    const finished = { ...demo, session: { ...demo.session!, status: 'COMPLETED' } };
    expect(describeView(streamed('2026-11-19'), finished, market)).toMatchObject({
      mode: 'demo',
      note: 'DEMO REPLAY: the prices of 2026-11-19 come from a finished demo replay at 60×, not from a live session.',
    });
    // A finished demo of another day says nothing about today's data.
    expect(describeView(streamed('2026-11-20'), finished, market).mode).toBe('history');
  });

  test('live only while the market is open and a session runs; otherwise history', () => {
    expect(describeView(streamed('2026-12-01'), session({}), open)).toMatchObject({ mode: 'live' });
    expect(describeView(streamed('2026-12-01'), session({}), market)).toMatchObject({
      mode: 'history',
      label: 'history: no session streaming now (simulated prices)',
      note: 'No session is streaming now (closed: after the close (14:30 Cairo)); prices are the latest the warehouse holds. The streamed prices are simulated (market source: simulator).',
    });
    expect(describeView([], undefined, open)).toMatchObject({
      mode: 'history',
      note: 'No session is streaming now (open until 14:30 Cairo); prices are the latest the warehouse holds.',
    });
  });
});

describe('the server', () => {
  let server: DashboardServer;
  beforeAll(async () => {
    server = await startDashboardServer({
      warehouse: wh,
      bind: '127.0.0.1:0',
      symbols: SYMBOLS,
      checkEveryMs: 100,
    });
  });
  afterAll(async () => server?.close());
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

  test('listens on 127.0.0.1 and serves the page, lightweight-charts from node_modules, and the data as JSON', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await get('/')).text()).toContain('<table id="quotes"');
    const lib = await get('/vendor/lightweight-charts.js');
    expect(lib.headers.get('content-type')).toMatch(/javascript/);
    const pkg = dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json'));
    expect(await lib.text()).toBe(
      readFileSync(join(pkg, 'dist/lightweight-charts.standalone.production.js'), 'utf8'),
    );
    const overview = (await (await get('/api/overview')).json()) as {
      rows: { symbol: string }[];
      view: { mode: string };
    };
    expect(overview.rows.map((r) => r.symbol)).toEqual(SYMBOLS);
    expect(overview.view.mode).toBe('history');
    const chart = (await (await get('/api/chart?symbol=comi')).json()) as {
      symbol: string;
      daily: unknown[];
    };
    expect(chart.symbol).toBe('COMI');
    expect(chart.daily.length).toBeGreaterThan(50);
  });

  test('refuses what is not a ticker, an unknown path and other methods', async () => {
    const bad = await get('/api/chart?symbol=..%2F..%2Fetc');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('not a ticker');
    expect((await get('/../package.json')).status).toBe(404);
    expect((await get('/api/overview', { method: 'POST' })).status).toBe(405);
  });

  test('tells an open page over server-sent events when new bars land', async () => {
    const res = await get('/events');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value as Uint8Array);
      }
    };
    try {
      await until(/event: hello\n/);
      await new Promise((r) => setTimeout(r, 300));
      expect(text).not.toMatch(/event: bars/); // nothing new yet
      await pollDirect(deps, { symbols: ['ETEL'], from: '2026-11-19T09:00:00Z', to: '2026-11-19T09:10:00Z' });
      await until(/event: bars\ndata: \{"mark":/);
    } finally {
      await reader.cancel();
    }
  });

  test('a taken port is refused naming DASHBOARD_BIND', async () => {
    const port = Number(new URL(server.url).port);
    await expect(
      startDashboardServer({ warehouse: wh, bind: `127.0.0.1:${port}`, symbols: SYMBOLS }),
    ).rejects.toThrow(/127\.0\.0\.1:\d+ is already in use .*set DASHBOARD_BIND/);
  });
});

test('with Temporal unreachable the pipeline status says so, and what still works', async () => {
  const { provider, close } = temporalStatusProvider(
    loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_UI_URL: 'http://127.0.0.1:8233' }),
  );
  try {
    const s = await provider();
    expect(s.unavailable).toMatch(
      /^Temporal at 127\.0\.0\.1:1 did not answer \(.+\); the table and charts still come from the warehouse$/,
    );
    expect(s.temporalUiUrl).toBe('http://127.0.0.1:8233/namespaces/default/workflows');
    expect(s.session).toBeUndefined();
  } finally {
    await close();
  }
});

describe('egx dashboard beside a running worker', () => {
  let holder: ChildProcess | undefined;
  afterAll(() => void holder?.kill());

  test('a DuckDB file held by another process is refused with what to do instead', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'egx-dashboard-lock-')), 'egx.duckdb');
    // Another process (a worker, say) opens the file and keeps it.
    holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         await DuckDBInstance.create(${JSON.stringify(path)});
         console.log('open');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
      holder!.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const config = loadConfig({ DUCKDB_PATH: path, DASHBOARD_BIND: `127.0.0.1:${port}` });
    const run = runDashboard(config, { log: () => {} });
    await expect(run).rejects.toThrow(WarehouseBusyError);
    await expect(run).rejects.toThrow(
      `bash scripts/run.sh serves this dashboard itself, from the worker's process: open http://127.0.0.1:${port}/`,
    );
    await expect(run).rejects.toThrow(`the DuckDB warehouse ${path} is open in another process`);
  });
});
