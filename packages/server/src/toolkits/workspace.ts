/**
 * A per-conversation workspace: a directory under CODEMIE_DATA_DIR/workspaces/<key>, the only
 * place the file tools read and write. Paths are relative to it; `..`, absolute paths, NUL bytes
 * and symbolic links anywhere on the way (or at the end) are refused, and files are opened with
 * O_NOFOLLOW, so neither a crafted path nor a planted link leads outside.
 */
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { ToolFailure } from './types.js';

export const MAX_WRITE_BYTES = 5 * 1024 * 1024;
export const MAX_READ_BYTES = 5 * 1024 * 1024;

/** A directory name for a workspace key (ids pass as they are, anything else is hashed). */
export function workspaceDirName(key: string): string {
  return /^[A-Za-z0-9_-]{1,100}$/.test(key) ? key : `k-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export class Workspace {
  private realRoot: string | null = null;

  constructor(readonly root: string) {}

  static of(dataDir: string, key: string): Workspace {
    return new Workspace(path.join(dataDir, 'workspaces', workspaceDirName(key)));
  }

  async ensure(): Promise<string> {
    if (this.realRoot) return this.realRoot;
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    const st = await fs.lstat(this.root);
    if (st.isSymbolicLink() || !st.isDirectory()) throw new ToolFailure('The workspace is not a directory');
    this.realRoot = await fs.realpath(this.root);
    return this.realRoot;
  }

  /**
   * The absolute path of `rel` inside the workspace, every existing component checked not to be a
   * symbolic link. `rel` may name a file or directory that does not exist yet.
   */
  async resolve(rel: string): Promise<{ abs: string; rel: string }> {
    const root = await this.ensure();
    if (typeof rel !== 'string') throw new ToolFailure('The path must be a string');
    if (rel.includes('\0')) throw new ToolFailure('The path contains a NUL character');
    const cleaned = rel.trim().replace(/\\/g, '/') || '.';
    if (path.posix.isAbsolute(cleaned) || /^[a-zA-Z]:/.test(cleaned)) {
      throw new ToolFailure(`Path '${rel}' is absolute; paths are relative to the workspace`);
    }
    const abs = path.resolve(root, cleaned);
    const inside = path.relative(root, abs);
    if (inside.startsWith('..') || path.isAbsolute(inside)) throw new ToolFailure(`Path '${rel}' is outside the workspace`);
    let cur = root;
    for (const part of inside ? inside.split(path.sep) : []) {
      cur = path.join(cur, part);
      let st;
      try {
        st = await fs.lstat(cur);
      } catch {
        break; // does not exist (yet): nothing further down exists either
      }
      if (st.isSymbolicLink()) throw new ToolFailure(`Path '${rel}' goes through a symbolic link, which the workspace does not follow`);
    }
    return { abs, rel: inside.split(path.sep).join('/') || '.' };
  }

  async readText(rel: string): Promise<{ text: string; rel: string }> {
    const r = await this.resolve(rel);
    let fh;
    try {
      fh = await fs.open(r.abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw new ToolFailure(fsError(err, rel));
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new ToolFailure(`'${rel}' is a directory`);
      if (!st.isFile()) throw new ToolFailure(`'${rel}' is not a regular file`);
      if (st.size > MAX_READ_BYTES) throw new ToolFailure(`'${rel}' has ${st.size} bytes; files up to ${MAX_READ_BYTES} bytes can be read`);
      const buf = await fh.readFile();
      if (buf.includes(0)) throw new ToolFailure(`'${rel}' is a binary file`);
      return { text: buf.toString('utf8'), rel: r.rel };
    } finally {
      await fh.close();
    }
  }

  async writeText(rel: string, text: string): Promise<{ rel: string; bytes: number }> {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_WRITE_BYTES) throw new ToolFailure(`The text has ${bytes} bytes; files up to ${MAX_WRITE_BYTES} bytes can be written`);
    const r = await this.resolve(rel);
    if (r.rel === '.') throw new ToolFailure('A file name is required');
    await fs.mkdir(path.dirname(r.abs), { recursive: true, mode: 0o700 });
    // Re-check after creating the directories (nothing on the way may have become a link).
    await this.resolve(rel);
    let fh;
    try {
      fh = await fs.open(r.abs, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw new ToolFailure(fsError(err, rel));
    }
    try {
      await fh.writeFile(text, 'utf8');
    } finally {
      await fh.close();
    }
    return { rel: r.rel, bytes };
  }

  /** Entries of a directory: `name/` for directories, `name (N bytes)` for files, `name -> (link)` for links. */
  async list(rel: string): Promise<string[]> {
    const r = await this.resolve(rel);
    let entries;
    try {
      entries = await fs.readdir(r.abs, { withFileTypes: true });
    } catch (err) {
      throw new ToolFailure(fsError(err, rel));
    }
    const out: string[] = [];
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) out.push(`${e.name}/`);
      else if (e.isSymbolicLink()) out.push(`${e.name} (symbolic link, not followed)`);
      else {
        const st = await fs.lstat(path.join(r.abs, e.name)).catch(() => null);
        out.push(`${e.name} (${st?.size ?? 0} bytes)`);
      }
    }
    return out;
  }

  /** Regular files under `rel`, recursively (links are skipped), as workspace-relative paths. */
  async walk(rel: string, limit = 5000): Promise<string[]> {
    const start = await this.resolve(rel);
    const root = await this.ensure();
    const out: string[] = [];
    const visit = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (out.length >= limit) return;
        const p = path.join(dir, e.name);
        if (e.isSymbolicLink()) continue;
        if (e.isDirectory()) await visit(p);
        else if (e.isFile()) out.push(path.relative(root, p).split(path.sep).join('/'));
      }
    };
    const st = await fs.lstat(start.abs).catch(() => null);
    if (!st) throw new ToolFailure(`'${rel}' does not exist in the workspace`);
    if (st.isFile()) return [start.rel];
    await visit(start.abs);
    return out;
  }
}

function fsError(err: unknown, rel: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `'${rel}' does not exist in the workspace`;
    case 'ELOOP':
      return `'${rel}' is a symbolic link, which the workspace does not follow`;
    case 'EISDIR':
      return `'${rel}' is a directory`;
    case 'ENOTDIR':
      return `'${rel}': a part of the path is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `'${rel}' cannot be accessed`;
    default:
      return `'${rel}': ${(err as Error).message}`;
  }
}
