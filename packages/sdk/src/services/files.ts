import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { HttpClient } from '../http.js';
import type { FileBulkUploadResponse, FileToUpload, FileUploadResponse } from '../types.js';
import { pathSegs } from '../util.js';

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.zip': 'application/zip',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

function guessMime(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

async function toFile(file: FileToUpload | string): Promise<{ blob: Blob; name: string }> {
  if (typeof file === 'string') {
    const data = await readFile(file);
    const name = basename(file);
    return { blob: new Blob([data], { type: guessMime(name) }), name };
  }
  const type = file.mimeType ?? guessMime(file.name);
  const c = file.content;
  const blob = c instanceof Blob ? c : new Blob([c as Uint8Array], { type });
  return { blob, name: file.name };
}

/** `client.files` */
export class FileOperationService {
  constructor(private readonly http: HttpClient) {}

  /**
   * Uploads one file (`POST /v1/files/`, multipart field `file`) and returns `{file_url}`; pass the
   * `file_url` in `file_names` of an assistant call or workflow run. Accepts a path or `{name, content, mimeType?}`.
   */
  async upload(file: FileToUpload | string): Promise<FileUploadResponse> {
    const { blob, name } = await toFile(file);
    const form = new FormData();
    form.append('file', blob, name);
    return this.http.post<FileUploadResponse>('/v1/files/', { form });
  }

  /** Uploads several files at once (`POST /v1/files/bulk`, multipart field `files`). */
  async bulkUpload(files: (FileToUpload | string)[]): Promise<FileBulkUploadResponse> {
    const form = new FormData();
    for (const f of files) {
      const { blob, name } = await toFile(f);
      form.append('files', blob, name);
    }
    return this.http.post<FileBulkUploadResponse>('/v1/files/bulk', { form });
  }

  /** Downloads a file by the id/name in its `file_url`: `GET /v1/files/{id}`. */
  async getFile(fileId: string): Promise<Uint8Array> {
    const res = await this.http.raw('GET', `/v1/files/${pathSegs(fileId)}`);
    return new Uint8Array(await res.arrayBuffer());
  }
}
