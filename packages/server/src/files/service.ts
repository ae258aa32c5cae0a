/**
 * Uploaded files: store, look up and authorise them, and resolve the `file_names` that
 * executions and assistant calls attach. The public handle (`file_url`) is opaque: base64url of
 * `<id>/<original name>`, as the reference encodes it; the bare id is accepted too.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, forbidden, notFound } from '../api/errors.js';
import { canAccessProject } from '../auth/access.js';
import type { Config } from '../config/config.js';
import type { Database } from '../store/schema.js';
import type { FilesTable } from './tables.js';
import { newRowId } from '../store/ids.js';

export type FileRow = FilesTable;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeFileUrl(row: Pick<FileRow, 'id' | 'name'>): string {
  return Buffer.from(`${row.id}/${row.name}`, 'utf8').toString('base64url');
}

/** The file id behind a `file_url` (or a bare id); null when it is not one. */
export function decodeFileUrl(handle: string): string | null {
  const h = handle.trim();
  if (UUID.test(h)) return h.toLowerCase();
  try {
    const s = Buffer.from(h, 'base64url').toString('utf8');
    const id = s.split('/', 1)[0];
    return UUID.test(id) ? id.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** Text types whose content may be handed to a model. */
export function isTextType(mime: string, name: string): boolean {
  const m = mime.toLowerCase().split(';')[0].trim();
  if (m.startsWith('text/')) return true;
  if (['application/json', 'application/xml', 'application/yaml', 'application/x-yaml', 'application/csv'].includes(m)) return true;
  return /\.(txt|md|markdown|csv|tsv|json|ya?ml|xml|log|ini|toml|html?)$/i.test(name);
}

export function typeAllowed(allowed: string[], mime: string, name: string): boolean {
  const m = mime.toLowerCase().split(';')[0].trim();
  const ext = path.extname(name).toLowerCase();
  return allowed.some((a) => {
    const t = a.toLowerCase();
    if (t === '*' || t === '*/*') return true;
    if (t.startsWith('.')) return ext === t;
    if (t.endsWith('/*')) return m.startsWith(t.slice(0, -1));
    return m === t;
  });
}

export interface AttachedFile {
  row: FileRow;
  fileUrl: string;
  /** utf-8 content (cut at filesMaxTextChars) for text types; null otherwise. */
  text: string | null;
  truncated: boolean;
}

export class FileService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: Pick<Config, 'dataDir' | 'filesMaxBytes' | 'filesAllowedTypes' | 'filesMaxTextChars'>,
  ) {}

  private get dir(): string {
    return path.join(this.config.dataDir, 'files');
  }

  pathOf(id: string): string {
    return path.join(this.dir, id);
  }

  /** Stores an upload stream; 415 for a refused type, 413 when over the size limit. */
  async save(user: AuthUser, input: { name: string; mimeType: string; stream: Readable; isTruncated: () => boolean; project: string | null }): Promise<FileRow> {
    const name = path.basename(input.name || 'file').slice(0, 1000) || 'file';
    const mimeType = input.mimeType || 'application/octet-stream';
    if (!typeAllowed(this.config.filesAllowedTypes, mimeType, name)) {
      input.stream.resume();
      throw new ApiError(415, 'Unsupported file type', `Files of type '${mimeType}' ('${name}') are not accepted.`, `Allowed: ${this.config.filesAllowedTypes.join(', ')}`);
    }
    if (input.project && !canAccessProject(user, input.project)) {
      input.stream.resume();
      throw forbidden(`You do not have permission to access the project '${input.project}'.`);
    }
    const id = newRowId();
    await mkdir(this.dir, { recursive: true });
    const target = this.pathOf(id);
    try {
      await pipeline(input.stream, createWriteStream(target));
    } catch (err) {
      await rm(target, { force: true });
      throw err;
    }
    if (input.isTruncated()) {
      await rm(target, { force: true });
      throw tooLarge(this.config.filesMaxBytes);
    }
    const size = (await stat(target)).size;
    const row: FileRow = { id, name, mime_type: mimeType, size, owner_id: user.id, project: input.project || null, date: new Date().toISOString() };
    await this.db.insertInto('files').values(row).execute();
    return row;
  }

  async find(handle: string): Promise<FileRow | null> {
    const id = decodeFileUrl(handle);
    if (!id) return null;
    const row = await this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { ...row, size: Number(row.size) } : null;
  }

  canRead(user: AuthUser, row: FileRow): boolean {
    return row.owner_id === user.id || user.isAdmin || (!!row.project && canAccessProject(user, row.project));
  }

  /** GET /v1/files/{file_url}: 404 unknown, 403 foreign. */
  async open(user: AuthUser, handle: string): Promise<{ row: FileRow; stream: Readable }> {
    const row = await this.find(handle);
    if (!row) throw notFound('File', handle);
    if (!this.canRead(user, row)) throw forbidden('You do not have permission to access this file.');
    return { row, stream: createReadStream(this.pathOf(row.id)) };
  }

  /**
   * The files a request attaches: every handle must name a stored file (400 naming it) the user
   * may read (403). Nothing is dropped silently.
   */
  async resolve(user: AuthUser, handles: string[]): Promise<AttachedFile[]> {
    const out: AttachedFile[] = [];
    for (const h of [...new Set(handles.filter((x) => typeof x === 'string' && x.trim()))]) {
      const row = await this.find(h);
      if (!row) throw badRequest('Unknown file', `The file '${h}' does not exist. Upload it with POST /v1/files/ and pass the returned file_url.`);
      if (!this.canRead(user, row)) throw forbidden(`You do not have permission to use the file '${row.name}'.`);
      let text: string | null = null;
      let truncated = false;
      if (isTextType(row.mime_type, row.name)) {
        const content = await readFile(this.pathOf(row.id), 'utf8');
        const max = this.config.filesMaxTextChars;
        truncated = content.length > max;
        text = truncated ? content.slice(0, max) : content;
      }
      out.push({ row, fileUrl: encodeFileUrl(row), text, truncated });
    }
    return out;
  }
}

export function tooLarge(max: number): ApiError {
  return new ApiError(413, 'File too large', `The file exceeds the upload limit of ${max} bytes.`, 'Set CODEMIE_FILES_MAX_BYTES to accept larger files.');
}

/** The text of attached files as one block appended to a prompt ('' when none has text). */
export function filesPromptBlock(files: AttachedFile[]): string {
  const parts = files
    .filter((f) => f.text !== null)
    .map((f) => `<file name="${f.row.name}">\n${f.text}${f.truncated ? '\n[… truncated]' : ''}\n</file>`);
  return parts.length ? `\n\nAttached files:\n${parts.join('\n')}` : '';
}
