import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { checkObjectKey } from './keys.js';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from './types.js';

async function md5(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

let parts = 0;

/** Objects as files under a root directory; writes are atomic (temp file + rename). */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /** The file that holds `key` (for readers that open files themselves, such as DuckDB's CSV reader). */
  fileOf(key: string): string {
    return this.path(key);
  }

  private path(key: string): string {
    const p = resolve(this.root, checkObjectKey(key));
    if (!p.startsWith(this.root + sep))
      throw new Error(`${this.location}: key "${key}" points outside the store`);
    return p;
  }

  async put(key: string, body: string | Uint8Array | Readable): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.part-${process.pid}-${++parts}`;
    try {
      // A body in memory is written in one call; a stream is piped without holding it whole.
      if (typeof body === 'string' || body instanceof Uint8Array) await writeFile(tmp, body);
      else await pipeline(body, createWriteStream(tmp));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(key: string): Promise<Readable> {
    const p = this.path(key);
    if (!(await stat(p).catch(() => undefined))?.isFile()) throw new ObjectNotFoundError(this.location, key);
    return createReadStream(p);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const p = this.path(key);
    const s = await stat(p).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    return { key, size: s.size, etag: await md5(p), lastModified: s.mtime };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.includes('.part-')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    // Walk only below the deepest directory the prefix names.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(dirPart ? this.path(dirPart) : this.root);
    keys.sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
