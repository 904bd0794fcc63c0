import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { influxPing } from '../../lib/stream/influx.js';
import { daemonStatus, type Component } from './component.js';
import { StackError } from './errors.js';
import { aptGet, requireTool, runLogged, runningPid, startDaemon, stopDaemon, waitReady } from './proc.js';
import { paths, VERSIONS, type StackProfile } from './profile.js';

function binary(p: StackProfile) {
  const dir = join(p.installDir, 'influxdb');
  return { dir, exe: join(dir, 'usr', 'bin', 'influxd'), marker: join(dir, '.version') };
}

/** influxd's configuration: everything under the profile's data folder, HTTP on 127.0.0.1 only. */
function config(p: StackProfile, dataDir: string): string {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${p.ports.influxdbRpc}"`,
    '[meta]',
    `  dir = "${join(dataDir, 'meta')}"`,
    '[data]',
    `  dir = "${join(dataDir, 'data')}"`,
    `  wal-dir = "${join(dataDir, 'wal')}"`,
    '  query-log-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${p.ports.influxdb}"`,
    '  log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '',
  ].join('\n');
}

export const influxdb: Component = {
  name: 'influxdb',

  /** Unpacks Debian's influxdb package (one static influxd) into the install folder; no root needed. */
  async install(p) {
    const { dir, exe, marker } = binary(p);
    if (existsSync(exe) && existsSync(marker) && readFileSync(marker, 'utf8') === VERSIONS.influxdb)
      return false;
    requireTool(
      'apt-get',
      'to download the InfluxDB package',
      'On a non-Debian machine, put an InfluxDB 1.x influxd at ' + exe,
    );
    const dpkg = requireTool('dpkg-deb', 'to unpack the InfluxDB package', 'Install dpkg.');
    const download = join(p.installDir, 'downloads', 'influxdb');
    rmSync(download, { recursive: true, force: true });
    mkdirSync(download, { recursive: true });
    const logFile = join(p.installDir, 'logs', 'install-influxdb.log');
    await aptGet(['download', `influxdb=${VERSIONS.influxdb}`], {
      cwd: download,
      logFile,
      hint: 'The Debian package mirror must be reachable and list this version (apt-cache policy influxdb).',
    });
    const deb = readdirSync(download).find((f) => f.endsWith('.deb'));
    if (!deb) throw new StackError(`apt-get download left no .deb in ${download}`, 'See ' + logFile);
    rmSync(dir, { recursive: true, force: true });
    await runLogged('unpacking the influxdb package', dpkg, ['-x', join(download, deb), dir], {
      logFile,
      hint: 'dpkg-deb could not unpack the package.',
    });
    rmSync(download, { recursive: true, force: true });
    writeFileSync(marker, VERSIONS.influxdb);
    return true;
  },

  async start(p) {
    const d = { name: 'InfluxDB', ...paths(p, 'influxdb') };
    if (runningPid(d) !== undefined) return 0;
    const { exe } = binary(p);
    if (!existsSync(exe)) throw new StackError('InfluxDB is not installed.', 'Run: npm run stack -- install');
    mkdirSync(d.dataDir, { recursive: true });
    const conf = join(d.dataDir, 'influxdb.conf');
    writeFileSync(conf, config(p, d.dataDir));
    const { pid } = startDaemon(d, exe, ['-config', conf]);
    return waitReady(
      d,
      pid,
      () => influxPing(`http://127.0.0.1:${p.ports.influxdb}`).then(() => true),
      30_000,
    );
  },

  stop: (p) => stopDaemon({ name: 'InfluxDB', ...paths(p, 'influxdb') }),

  status: (p) => daemonStatus(p, 'influxdb', `http://127.0.0.1:${p.ports.influxdb}`),
};
