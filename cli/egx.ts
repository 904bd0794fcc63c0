#!/usr/bin/env -S npx tsx
/** The operator's command line: `npm run egx -- <command>`. */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigInvalidError, loadConfig } from '../lib/config.js';
import { allHealthy, formatReport } from '../lib/health/report.js';
import { runHealth } from './health.js';

const program = new Command('egx')
  .description('EGX market-data pipeline')
  .option('--env-file <path>', 'read environment variables from this file (default: ./.env when present)');

program.hook('preAction', () => {
  const file = program.opts<{ envFile?: string }>().envFile ?? (existsSync('.env') ? '.env' : undefined);
  if (file) process.loadEnvFile(file);
});

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

program.parseAsync().catch((e: unknown) => {
  console.error(e instanceof ConfigInvalidError ? `egx: ${e.message}` : e);
  process.exitCode = 2;
});
