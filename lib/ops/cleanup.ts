import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Deletes files under `dir` last modified before `cutoff`; returns how many and their bytes. Missing dir = nothing to do. */
export async function deleteFilesOlderThan(
  dir: string,
  cutoff: Date,
): Promise<{ deleted: number; bytes: number }> {
  let deleted = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const s = await stat(p);
        if (s.mtime < cutoff) {
          await rm(p, { force: true });
          deleted++;
          bytes += s.size;
        }
      }
    }
  };
  await walk(dir);
  return { deleted, bytes };
}
