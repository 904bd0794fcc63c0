import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startDashboard } from '../../cli/dashboard.js';
import { runDailyBatch } from '../../cli/run.js';
import { startMarketSession } from '../../cli/stream.js';
import type { DashboardServer } from '../../lib/dashboard/server.js';
import { seedSyntheticHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { ensureChromium } from '../../scripts/deploy-tools.js';
import { usePipelineWorker } from '../support/pipeline-worker.js';

// What the page-side callbacks below touch (the project's TypeScript has no DOM library).
interface CanvasLike {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: { querySelectorAll(selector: string): Iterable<CanvasLike> };
declare const window: { dashboard: { events: number }; sameDocument?: boolean };

/** Screenshots for people to look at (git-ignored). */
const ARTIFACTS = fileURLToPath(new URL('../../.artifacts/', import.meta.url));
const SYMBOLS = ['COMI', 'ETEL', 'SWDY'];
const REPLAYED = '2026-11-19'; // a Thursday

// The dashboard runs in the worker's process, on the worker's warehouse, as bash scripts/run.sh runs it.
const ctx = usePipelineWorker('dashboard-it', {
  OBJECT_STORE: 'local',
  BUS: 'direct',
  EGX_SYMBOLS: SYMBOLS.join(','),
});

let server: DashboardServer;
let browser: Browser;
let page: Page;
let sessionId: string | undefined;

beforeAll(async () => {
  const executablePath = await ensureChromium(() => {});
  // Two months of synthetic history up to the day before the replayed session, loaded and
  // transformed by a real daily batch, so gold has prices, RSI, bands and signals.
  await seedSyntheticHistory({
    source: new SimulatorSource(),
    store: ctx.deps.store,
    symbols: SYMBOLS,
    from: '2026-09-01',
    to: '2026-11-18',
  });
  await runDailyBatch(ctx.config, { date: REPLAYED, taskQueue: ctx.taskQueue });
  server = await startDashboard(ctx.config, { warehouse: ctx.deps.warehouse, bind: '127.0.0.1:0' });
  browser = await chromium.launch({ executablePath, headless: true });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(server.url);
  await page.waitForSelector('#quotes tbody tr[data-symbol]');
});

afterAll(async () => {
  if (sessionId)
    await ctx.client.workflow
      .getHandle(sessionId)
      .terminate('test over')
      .catch(() => {});
  await browser?.close();
  await server?.close();
});

const cell = (symbol: string, field: string) =>
  page.locator(`#quotes tr[data-symbol="${symbol}"] [data-field="${field}"]`).innerText();

/** Pixels of the chart's canvases that differ from the background: candles, lines and bars drawn. */
const drawnPixels = (selector: string) =>
  page.evaluate((sel) => {
    let drawn = 0;
    for (const canvas of document.querySelectorAll(`${sel} canvas`)) {
      const ctx2d = canvas.getContext('2d');
      if (!ctx2d || canvas.width === 0 || canvas.height === 0) continue;
      const { data } = ctx2d.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        // Background #161b24 (22, 27, 36), or transparent on the overlay canvases.
        if (
          data[i + 3]! > 0 &&
          Math.abs(data[i]! - 22) + Math.abs(data[i + 1]! - 27) + Math.abs(data[i + 2]! - 36) > 60
        )
          drawn++;
      }
    }
    return drawn;
  }, selector);

test('the table shows every tracked symbol with its gold figures, and the daily chart renders', async () => {
  const rows = await Promise.all(
    (await page.locator('#quotes tbody tr[data-symbol]').all()).map((tr) => tr.getAttribute('data-symbol')),
  );
  expect(rows).toEqual(SYMBOLS);
  for (const s of SYMBOLS) {
    expect(await cell(s, 'price')).toMatch(/^\d+\.\d{2}$/);
    expect(await cell(s, 'change')).toMatch(/^[+-]?\d+\.\d{2}%$/);
    expect(await cell(s, 'rsi')).toMatch(/^\d+\.\d$/);
    expect(await cell(s, 'signals')).toMatch(/BULLISH|BEARISH|NEUTRAL/);
    expect(await cell(s, 'last-bar')).toBe('daily close 2026-11-18');
  }
  // The market status comes from the EGX calendar; with no session running the data is history.
  expect(await page.locator('#market').innerText()).toMatch(/^(OPEN|CLOSED)/);
  expect(await page.locator('#mode').innerText()).toBe('HISTORY');
  expect(await page.locator('#banner').isHidden()).toBe(true);
  // The first symbol's daily chart: candles, moving averages, bands and volume drawn on its canvases.
  await expect.poll(() => drawnPixels('#daily-chart'), { timeout: 10_000 }).toBeGreaterThan(5000);
  expect(await page.locator('#chart-title').innerText()).toBe('COMI · daily to 2026-11-18');
  // The last daily batch is linked to its run in the Temporal Web UI.
  const batch = page.locator(
    `#pipeline a[data-workflow-id="${ctx.config.temporal.idPrefix}daily-batch-${REPLAYED}"]`,
  );
  expect(await batch.getAttribute('href')).toMatch(
    new RegExp(
      `^${ctx.config.temporal.uiUrl}/namespaces/default/workflows/${ctx.config.temporal.idPrefix}daily-batch-${REPLAYED}/[0-9a-f-]+/history$`,
    ),
  );
});

test('polls of a demo replay update the page without a reload, and the page says it is a demo', async () => {
  await page.evaluate(() => void (window.sameDocument = true));
  const eventsBefore = await page.evaluate(() => window.dashboard.events);
  const started = await startMarketSession(ctx.config, {
    date: REPLAYED,
    taskQueue: ctx.taskQueue,
    demoSpeed: 300,
  });
  sessionId = started.workflowId;

  // The first poll's bars land in the warehouse; the server's event stream tells the page.
  await expect
    .poll(() => cell('COMI', 'last-bar'), { timeout: 30_000, interval: 250 })
    .toMatch(new RegExp(`^\\d\\d:\\d\\d · 5m · ${REPLAYED}$`));
  const firstBar = await cell('COMI', 'last-bar');
  // A later poll moves it on, still without a reload.
  await expect.poll(() => cell('COMI', 'last-bar'), { timeout: 30_000, interval: 250 }).not.toBe(firstBar);
  expect(await page.evaluate(() => window.sameDocument)).toBe(true);
  expect(await page.evaluate(() => window.dashboard.events)).toBeGreaterThan(eventsBefore);

  // Clearly a demo: the badge, the banner naming the replayed day, and the session linked in the Web UI.
  await expect.poll(() => page.locator('#mode').innerText(), { timeout: 15_000 }).toBe('DEMO REPLAY 300×');
  expect(await page.locator('#banner').isVisible()).toBe(true);
  expect(await page.locator('#banner').innerText()).toContain(
    `DEMO REPLAY: the market is closed, so the session of ${REPLAYED} is being replayed at 300×`,
  );
  const session = page.locator(`#pipeline a[data-workflow-id="${sessionId}"]`);
  await expect.poll(() => session.count(), { timeout: 15_000 }).toBe(1);
  expect(sessionId).toBe(`${ctx.config.temporal.idPrefix}market-session-demo-${REPLAYED}`);
  expect(await session.getAttribute('href')).toContain(`/workflows/${sessionId}/`);
  expect(await page.locator('#pipeline').innerText()).toMatch(/DEMO replay at 300× · \d+ polls/);
  // The session's intraday gold refreshes, which the table's prices now come from.
  await expect
    .poll(() => page.locator('#pipeline').innerText(), { timeout: 15_000 })
    .toMatch(/intraday gold: refreshed after the window to .+ Cairo · 3 symbols · \d+ refreshes/);

  // The charts follow: today's candle from the streamed bars, and the intraday bars.
  expect(await page.locator('#chart-title').innerText()).toBe(`COMI · daily to ${REPLAYED}`);
  await expect.poll(() => drawnPixels('#intraday-chart'), { timeout: 10_000 }).toBeGreaterThan(500);
  expect(await page.locator('#intraday-title').innerText()).toContain(`5m · Thu 19 Nov (${REPLAYED})`);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
});
