/**
 * The local stack: real servers on 127.0.0.1, installed into .devstack/ (git-ignored).
 *   npm run stack -- install | up | down | status   [--profile dev|test] [component...]
 */
import { Command } from 'commander';
import { StackError } from './devstack/errors.js';
import { getProfile, type ComponentName } from './devstack/profile.js';
import { down, formatStatus, install, status, up } from './devstack/stack.js';

const log = (line: string) => console.log(line);

const program = new Command('stack')
  .description('Install, start, stop and inspect the local servers (Temporal, Kafka, S3) on 127.0.0.1')
  .option('-p, --profile <name>', 'dev (the run command) or test (the test suite, other ports)', 'dev');

const profile = () => getProfile(program.opts<{ profile: string }>().profile);

program
  .command('install [components...]')
  .description('download and build the pinned servers into .devstack/ (cached)')
  .action(async (only: ComponentName[]) => install(profile(), log, only));
program
  .command('up [components...]')
  .description('install if needed, start and wait until every server is ready')
  .action(async (only: ComponentName[]) => {
    await install(profile(), log, only);
    await up(profile(), log, only);
  });
program
  .command('down [components...]')
  .description('stop the servers')
  .action(async (only: ComponentName[]) => down(profile(), log, only));
program
  .command('status [components...]')
  .description('show what runs where')
  .action((only: ComponentName[]) => {
    const rows = status(profile(), only);
    console.log(formatStatus(rows));
  });

program.parseAsync().catch((e: unknown) => {
  if (e instanceof StackError) {
    console.error(`stack: ${e.message}`);
    if (e.hint) console.error(`  → ${e.hint}`);
  } else {
    console.error('stack:', e);
  }
  process.exit(1);
});
