/**
 * Start-up time and memory of each local server: starts it from stopped on the bench profile's
 * ports, waits for real readiness, reads its resident memory after a short settle, and stops it.
 * Install time is printed by `npm run stack -- install` (cold: with empty caches).
 *   node --import tsx bench/stack-start.ts [rounds=3]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PROFILES } from '../scripts/devstack/profile.js';
import { COMPONENTS, install } from '../scripts/devstack/stack.js';

const rounds = Number(process.argv[2] ?? 3);
const profile = PROFILES.bench;
await install(profile, () => {});

console.log(`component     start ms (min / median / max over ${rounds})   RSS MiB after 5 s   stop ms`);
for (const name of profile.components) {
  const c = COMPONENTS[name];
  const starts: number[] = [];
  const stops: number[] = [];
  let rss = 0;
  for (let i = 0; i < rounds; i++) {
    await c.stop(profile);
    const t0 = performance.now();
    await c.start(profile);
    starts.push(performance.now() - t0);
    await sleep(5000);
    rss = Math.max(rss, c.status(profile).rssMiB ?? 0);
    const t1 = performance.now();
    await c.stop(profile);
    stops.push(performance.now() - t1);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  const fmt = (n: number | undefined) => String(Math.round(n ?? 0)).padStart(6);
  console.log(
    `${name.padEnd(12)}  ${fmt(sorted[0])} / ${fmt(sorted[Math.floor(sorted.length / 2)])} / ${fmt(sorted.at(-1))}` +
      `               ${String(rss).padStart(5)}           ${fmt(Math.max(...stops))}`,
  );
}
