/**
 * The `files` parts of a knowledge-base upload, staged on disk before anything is stored: 1–10
 * parts, each within the size limit (images within 10 MiB), `.zip` parts expanded (zip.ts),
 * `.json` files checked to be a list of {content, metadata}. Any problem → the reference's 422
 * and nothing staged is kept.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.js';
import { newRowId } from '../store/ids.js';
import { expandZip } from './zip.js';
import { extensionOf, jsonFormatProblem } from './extract.js';

export const MAX_FILES = 10;
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024;
const IMAGE_EXT = new Set(['jpg', 'jpeg', 'png', 'gif']);

export interface StagedFile {
  name: string;
  mime: string;
  file: string;
  size: number;
}

export interface Staged {
  files: StagedFile[];
  dir: string;
  cleanup(): Promise<void>;
}

const filesError = (msg: string, type = 'value_error') =>
  new ApiError(422, `files: ${msg}`, [{ loc: ['files'], msg, type }], 'Check the request against the API schema at /openapi.json.');

/** The reference's format_file_size: B, KB, MB, GB, TB by integer division. */
export function formatFileSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n = Math.floor(n / 1024);
    i++;
  }
  return `${n} ${units[i]}`;
}

export function guessMime(name: string): string {
  const m: Record<string, string> = {
    txt: 'text/plain',
    md: 'text/markdown',
    csv: 'text/csv',
    json: 'application/json',
    html: 'text/html',
    htm: 'text/html',
    pdf: 'application/pdf',
    docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    xml: 'application/xml',
    yaml: 'application/yaml',
    yml: 'application/yaml',
  };
  return m[extensionOf(name)] ?? 'application/octet-stream';
}

/**
 * Reads the request's `files` parts into `stagingRoot/<request>/`. `required`: no part → 422
 * `files: Field required`. `sizeText` words the size error (create: "100 MB", update: bytes).
 */
export async function stageUploads(
  req: FastifyRequest,
  opts: { stagingRoot: string; maxBytes: number; required: boolean; sizeText: string; imageCheck: boolean },
): Promise<Staged> {
  const dir = path.join(opts.stagingRoot, newRowId());
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const files: StagedFile[] = [];
  try {
    if (!req.isMultipart()) {
      if (opts.required) throw filesError('Field required', 'missing');
      return { files, dir, cleanup };
    }
    await mkdir(dir, { recursive: true });
    let parts = 0;
    const raw: StagedFile[] = [];
    for await (const part of req.parts({ limits: { fileSize: opts.maxBytes, files: MAX_FILES + 1, parts: 1000 } })) {
      if (part.type === 'field') continue;
      const f = part as MultipartFile;
      if (f.fieldname !== 'files') {
        f.file.resume();
        continue;
      }
      parts++;
      if (parts > MAX_FILES) {
        f.file.resume();
        throw filesError(`Too many files. Maximum count is ${MAX_FILES}`);
      }
      const name = path.basename((f.filename ?? '').replace(/\\/g, '/'));
      if (!name || name === '.' || name === '..') {
        f.file.resume();
        throw new ApiError(
          422,
          'Uploaded file is missing a filename',
          'The multipart part did not include a filename.',
          'Ensure the file upload includes a valid filename.',
        );
      }
      const target = path.join(dir, newRowId());
      await pipeline(f.file, createWriteStream(target));
      if (f.file.truncated) throw filesError(`File too large. Maximum size is ${opts.sizeText}`);
      const size = f.file.bytesRead;
      if (opts.imageCheck && IMAGE_EXT.has(extensionOf(name)) && size > IMAGE_MAX_BYTES) {
        throw filesError(`Image file '${name}' is too large. Maximum size for images is ${formatFileSize(IMAGE_MAX_BYTES)}`);
      }
      raw.push({ name, mime: f.mimetype && f.mimetype !== 'application/octet-stream' ? f.mimetype : guessMime(name), file: target, size });
    }
    if (!raw.length && opts.required) throw filesError(parts ? 'Too few files. Minimum count is 1' : 'Field required', parts ? 'value_error' : 'missing');
    for (const r of raw) {
      if (extensionOf(r.name) === 'zip') {
        const members = await expandZip(r.file, path.join(dir, `${newRowId()}-zip`));
        await rm(r.file, { force: true });
        files.push(...members.map((m) => ({ name: m.name, file: m.file, size: m.size, mime: guessMime(m.name) })));
      } else files.push(r);
    }
    for (const f of files) {
      if (extensionOf(f.name) !== 'json') continue;
      const problem = jsonFormatProblem(await readFile(f.file, 'utf8'));
      if (problem !== null) {
        throw new ApiError(
          422,
          'File has incorrect format',
          `An error occurred while validating file ${f.name} datasource: ${problem}`,
          'Please check provided data on form or contact an administrator for assistance.',
        );
      }
    }
    return { files, dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
