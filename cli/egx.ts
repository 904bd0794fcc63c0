#!/usr/bin/env -S npx tsx
/** The operator's command line: `npm run egx -- <command>`. */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigInvalidError, loadConfig } from '../lib/config.js';
import { allHealthy, formatReport } from '../lib/health/report.js';
import { formatSummary, type LoadSummary } from '../lib/ingest/load-summary.js';
import { runHealth } from './health.js';
import { runLoad } from './load.js';
import { formatDailyBatch, runDailyBatch, type DailyBatchRun } from './run.js';
import { formatBatchProgress, progressPrinter } from './run-progress.js';
import { directOrThroughPipeline, loadThroughPipeline } from './through-pipeline.js';
import { BATCH_KINDS, formatUpload, uploadBatchFiles } from './upload.js';
import {
  controlMarketSession,
  formatMarketStatus,
  formatStreamStatus,
  startMarketSession,
  startStreamConsumer,
  streamStatus,
  type MarketAction,
} from './stream.js';
import {
  applyPipelineSchedules,
  backfillSchedule,
  controlSchedule,
  formatScheduleRows,
  listPipelineSchedules,
} from './schedules.js';
import {
  controlBackfill,
  followBackfill,
  formatBackfill,
  parseBackfillRequest,
  startBackfill,
} from './backfill.js';
import { businessDateArg, symbolListArg } from './options.js';
import { runTransforms, runTransformsThroughPipeline } from './transforms.js';
import { runDashboard, WarehouseBusyError } from './dashboard.js';
import { explainRunFailure, RunFailedError } from './failures.js';
import { cairoDate } from '../workflows/business-date.js';
import { closedReason, egxCalendar } from '../lib/market/calendar.js';

const program = new Command('egx')
  .description('EGX market-data pipeline')
  .option('--env-file <path>', 'read environment variables from this file (default: ./.env when present)');

// The settings file read (--env-file, else ./.env when present), if any.
let settingsFile: string | undefined;
program.hook('preAction', () => {
  settingsFile = program.opts<{ envFile?: string }>().envFile ?? (existsSync('.env') ? '.env' : undefined);
  if (settingsFile) process.loadEnvFile(settingsFile);
});

const note = (line: string) => console.error(line);

program
  .command('health')
  .description('check Temporal, Kafka, S3 and DuckDB; one line each; exit code 1 when any is down')
  .option('--direct', 'run the checks in this process instead of as a workflow')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { direct?: boolean; json?: boolean }) => {
    const run = await runHealth(loadConfig(), opts);
    if (opts.json) console.log(JSON.stringify(run, null, 2));
    else console.log(`${formatReport(run.results)}\n(${run.note})`);
    process.exitCode = allHealthy(run.results) ? 0 : 1;
  });

program
  .command('load <target>')
  .description(
    'load batch files (a file, a directory or s3://bucket/prefix) into the warehouse; while a running worker holds the DuckDB file, upload them and run the daily batch on it',
  )
  .option(
    '--kind <kind>',
    'prices, companies, indices, finances, index_levels or intraday (default: from the folder name, else the file name; prices otherwise, whose index levels and intraday bars go to their own tables)',
  )
  .option('--force', 'reload files even when unchanged since the last load')
  .option('--json', 'also print the summary as one JSON object on the last line')
  .action(async (target: string, opts: { kind?: string; force?: boolean; json?: boolean }) => {
    const progress = progressPrinter();
    const run = await directOrThroughPipeline<{
      runId: string;
      summary: LoadSummary;
      seconds: number;
      batch?: DailyBatchRun;
    }>({
      command: 'egx load',
      config: loadConfig(),
      settingsGiven: Boolean(settingsFile),
      log: note,
      direct: (config) =>
        runLoad(config, target, { ...opts, progress: process.stderr.isTTY ? progress.show : undefined }),
      viaPipeline: async (config) => {
        const r = await loadThroughPipeline(config, target, {
          ...opts,
          log: note,
          onProgress: (v) => progress.show(formatBatchProgress(v)),
        });
        return { runId: r.run.workflowId, summary: r.summary, seconds: r.seconds, batch: r.run };
      },
    });
    progress.end();
    console.log(`${formatSummary(run.summary)}\ntime: ${run.seconds.toFixed(1)} s (run ${run.runId})`);
    if (run.batch) console.log(`\n${formatDailyBatch(run.batch)}`);
    if (opts.json)
      console.log(
        JSON.stringify({ runId: run.runId, seconds: Number(run.seconds.toFixed(2)), ...run.summary }),
      );
  });

program
  .command('upload <target>')
  .description(
    "copy batch files (a file, a directory or s3://bucket/prefix) into the object store's batch prefixes (batch/prices/, batch/companies/, …), where the next daily batch loads them",
  )
  .option(
    '--kind <kind>',
    `${BATCH_KINDS.join(', ')} (default: from the folder name or the file name; prices otherwise)`,
  )
  .action(async (target: string, opts: { kind?: string }) => {
    const progress = progressPrinter();
    const up = await uploadBatchFiles(loadConfig(), target, {
      ...opts,
      onFile: (f, done, of) => progress.show(`[${done}/${of}] ${f.from} → ${f.key}`),
    });
    progress.end();
    console.log(formatUpload(up));
    console.log('the next daily batch loads them (01:00 Cairo); now: npm run egx -- run daily-batch --rerun');
  });

program
  .command('run <pipeline>')
  .description('start a pipeline workflow and wait for it: daily-batch')
  .option('--date <YYYY-MM-DD>', 'business date (default: today in Africa/Cairo)', businessDateArg)
  .option('--force', 'reload every batch file, not only new or changed ones')
  .option('--rerun', 'run the day again even if it already completed')
  .action(async (pipeline: string, opts: { date?: string; force?: boolean; rerun?: boolean }) => {
    if (pipeline !== 'daily-batch')
      throw new Error(`egx run: unknown pipeline "${pipeline}" (expected: daily-batch)`);
    const out = await runDailyBatch(loadConfig(), {
      ...opts,
      onStarted: (id, url, outcome) =>
        console.error(
          outcome === 'started'
            ? `started ${id}: ${url}`
            : outcome === 'attached'
              ? `${id} is already running (started by the schedule or another command); following it: ${url}`
              : `${id} already completed; showing its result (--rerun runs the day again): ${url}`,
        ),
    });
    console.log(formatDailyBatch(out));
  });

program
  .command('transforms <action>')
  .description(
    'run (build with write-audit-publish, then test), test, or docs (generate the model docs site); while a running worker holds the DuckDB file, as the transforms workflow on it',
  )
  .option('--select <models...>', 'model names; name+ adds everything downstream')
  .option(
    '--date <YYYY-MM-DD>',
    'business date for freshness tests (default: today in Africa/Cairo)',
    businessDateArg,
  )
  .option('--full-refresh', 'rebuild incremental models from all their input')
  .action(async (action: string, opts: { select?: string[]; date?: string; fullRefresh?: boolean }) => {
    if (action !== 'run' && action !== 'test' && action !== 'docs') {
      throw new Error(`egx transforms: unknown action "${action}" (expected run, test or docs)`);
    }
    const progress = progressPrinter();
    const request = {
      action,
      select: opts.select,
      fullRefresh: opts.fullRefresh,
      businessDate: opts.date ?? cairoDate(new Date()),
      log: (line: string) => {
        progress.end();
        console.log(line);
      },
    } as const;
    const { failed } = await directOrThroughPipeline({
      command: `egx transforms ${action}`,
      config: loadConfig(),
      settingsGiven: Boolean(settingsFile),
      log: note,
      direct: (config) => runTransforms(config, request),
      viaPipeline: (config) =>
        runTransformsThroughPipeline(config, {
          ...request,
          onStarted: (id, url) => note(`transforms ${id}: ${url}`),
          onProgress: progress.show,
        }),
    });
    progress.end();
    if (failed.length > 0) throw new Error(`egx transforms: ${failed.length} data test(s) failed`);
  });

program
  .command('stream <action>')
  .description(
    'start the sink consumer workflow (Kafka → object store + warehouse), or show its status, progress and lag',
  )
  .action(async (action: string) => {
    const config = loadConfig();
    if (action === 'start') {
      const r = await startStreamConsumer(config);
      console.log(`stream consumer running: ${r.workflowId}  ${r.url}`);
    } else if (action === 'status') {
      console.log(formatStreamStatus(await streamStatus(config)));
    } else throw new Error(`egx stream: unknown action "${action}" (expected start or status)`);
  });

program
  .command('dashboard')
  .description(
    'serve the market dashboard (tracked symbols, charts, market and pipeline status) on DASHBOARD_BIND (127.0.0.1:8300); bash scripts/run.sh serves it too',
  )
  .option('--bind <host:port>', 'listen here instead of DASHBOARD_BIND')
  .action(async (opts: { bind?: string }) => {
    const config = loadConfig(opts.bind ? { ...process.env, DASHBOARD_BIND: opts.bind } : process.env);
    await runDashboard(config);
  });

program
  .command('market')
  .description(
    "a trading day's polling: start, status, pause, resume, poll-now, or symbols COMI,ETEL (replace the tracked symbols)",
  )
  .argument('<action>', 'start, status, pause, resume, poll-now or symbols')
  .argument('[symbols]', 'for symbols: the new tickers, comma-separated', symbolListArg)
  .option('--date <YYYY-MM-DD>', 'trading date (default: today in Africa/Cairo)', businessDateArg)
  .action(async (action: string, symbols: string[] | undefined, opts: { date?: string }) => {
    const config = loadConfig();
    if (action === 'start') {
      const date = opts.date ?? cairoDate(new Date());
      const closed = closedReason(date, egxCalendar());
      if (closed) {
        console.log(`market closed on ${date} (${closed}): no session started`);
        return;
      }
      const r = await startMarketSession(config, { date });
      console.log(
        `market session ${r.outcome === 'started' ? 'started' : r.outcome === 'attached' ? 'already running (following the same run)' : 'already completed'}: ${r.workflowId}  ${r.url}`,
      );
      return;
    }
    if (!['status', 'pause', 'resume', 'poll-now', 'symbols'].includes(action)) {
      throw new Error(
        `egx market: unknown action "${action}" (expected start, status, pause, resume, poll-now or symbols)`,
      );
    }
    const status = await controlMarketSession(config, {
      ...opts,
      action: action as MarketAction,
      symbols,
    });
    console.log(formatMarketStatus(status));
  });

program
  .command('schedules <action> [id]')
  .description(
    'apply (create or update the pipeline schedules, printing what changed), list, pause|unpause|trigger <id>, backfill <id> --from --to',
  )
  .option('--from <YYYY-MM-DD>', 'backfill: first Cairo date', businessDateArg)
  .option('--to <YYYY-MM-DD>', 'backfill: last Cairo date', businessDateArg)
  .option('--note <text>', 'pause/unpause: why (shown in the Web UI)')
  .action(
    async (action: string, id: string | undefined, opts: { from?: string; to?: string; note?: string }) => {
      const config = loadConfig();
      if (action === 'apply') {
        for (const r of await applyPipelineSchedules(config)) console.log(`${r.outcome.padEnd(9)} ${r.id}`);
        return;
      }
      if (action === 'list') {
        console.log(formatScheduleRows(await listPipelineSchedules(config)));
        return;
      }
      if (!id) throw new Error(`egx schedules ${action}: give the schedule ID (see egx schedules list)`);
      if (action === 'pause' || action === 'unpause' || action === 'trigger') {
        await controlSchedule(config, id, action, opts.note);
        console.log(`${action}d ${id}`.replace('triggerd', 'triggered'));
      } else if (action === 'backfill') {
        if (!opts.from || !opts.to) throw new Error('egx schedules backfill: give --from and --to');
        await backfillSchedule(config, id, opts.from, opts.to);
        console.log(
          `backfill of ${id} from ${opts.from} to ${opts.to} requested; runs appear in the Web UI one after another`,
        );
      } else {
        throw new Error(
          `egx schedules: unknown action "${action}" (expected apply, list, pause, unpause, trigger or backfill)`,
        );
      }
    },
  );

program
  .command('backfill [action] [id]')
  .description(
    'load a date range into the pipeline (chunks in parallel, then a full rebuild), with a live progress bar; pause|resume|cancel <id> a running one',
  )
  .option('--from <YYYY-MM-DD>', 'first Cairo date', businessDateArg)
  .option('--to <YYYY-MM-DD>', 'last Cairo date', businessDateArg)
  .option('--symbols <A,B>', 'tickers, comma-separated (default: EGX_SYMBOLS)', symbolListArg)
  .option('--steps <steps>', 'load,transforms (default both)')
  .option('--detach', 'start it and return at once with the workflow ID')
  .option('--force', 'load every chunk again, even those an earlier run of the same backfill finished')
  .action(
    async (
      action: string | undefined,
      id: string | undefined,
      opts: {
        from?: string;
        to?: string;
        symbols?: string[];
        steps?: string;
        detach?: boolean;
        force?: boolean;
      },
    ) => {
      const config = loadConfig();
      if (action === 'pause' || action === 'resume' || action === 'cancel') {
        if (!id) throw new Error(`egx backfill ${action}: give the backfill's workflow ID`);
        const p = await controlBackfill(config, id, action);
        console.log(`${action} sent; ${p.done + p.skipped}/${p.chunks} chunks done, ${p.running} running`);
        return;
      }
      if (action && action !== 'start')
        throw new Error(`egx backfill: unknown action "${action}" (expected pause, resume or cancel)`);
      const request = parseBackfillRequest(config, opts);
      const { workflowId, url } = await startBackfill(config, request);
      console.error(`backfill ${workflowId}: ${url}`);
      if (opts.detach) {
        console.log(workflowId);
        return;
      }
      // Ctrl-C stops following, not the backfill.
      process.once('SIGINT', () => {
        console.error(
          `\nstill running; follow it again with the same command, or: egx backfill cancel ${workflowId}`,
        );
        process.exit(130);
      });
      const done = await followBackfill(config, workflowId).catch((e: unknown) =>
        explainRunFailure(`backfill ${workflowId}`, url, e),
      );
      console.log(formatBackfill(done, workflowId));
    },
  );

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigInvalidError) {
    console.error(`egx: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  // People get the message; EGX_DEBUG=1 adds the stack and details.
  if (e instanceof RunFailedError || e instanceof WarehouseBusyError) console.error(e.message);
  else if (e instanceof Error && !process.env.EGX_DEBUG)
    console.error(e.message.startsWith('egx') ? e.message : `egx: ${e.message}`);
  else console.error(e);
  process.exitCode = 1;
});
