/**
 * The files module: `POST /v1/files/` (multipart `file`) → `{"file_url"}`, `POST /v1/files/bulk`
 * (multipart `files`) → `{files:[{file_url}], failed_files}`, `GET /v1/files/{file_url}` (owner,
 * project members or admins). Size limit and accepted types come from the config.
 */
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError, unprocessable } from '../api/errors.js';
import type { AuthUser } from '../api/auth.js';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute, RawBody } from '../api/route.js';
import { encodeFileUrl, FileService, type FileRow } from './service.js';

const missingFile = (field: string) => unprocessable(`${field}: Field required`, [{ loc: ['body', field], msg: 'Field required', type: 'missing' }]);

/** Saves every file part named `field` (fields sent before it, e.g. `project`, apply). */
async function saveParts(
  req: FastifyRequest,
  user: AuthUser,
  project: string | undefined,
  svc: FileService,
  field: string,
  max: number,
  onError: 'throw' | 'collect',
) {
  if (!req.isMultipart()) throw unprocessable('The request must be multipart/form-data', `Send the file as the multipart part '${field}'.`);
  const fields: Record<string, string> = {};
  const saved: FileRow[] = [];
  const failed: Array<{ file_name: string; error: string }> = [];
  for await (const part of req.parts({ limits: { fileSize: max } })) {
    if (part.type === 'field') {
      if (typeof part.value === 'string') fields[part.fieldname] = part.value;
      continue;
    }
    const file = part as MultipartFile;
    if (file.fieldname !== field) {
      file.file.resume();
      continue;
    }
    try {
      saved.push(
        await svc.save(user, {
          name: file.filename,
          mimeType: file.mimetype,
          stream: file.file,
          isTruncated: () => file.file.truncated,
          project: fields.project || project || null,
        }),
      );
    } catch (err) {
      if (onError === 'throw' || !(err instanceof ApiError)) throw err;
      failed.push({ file_name: file.filename, error: err.message });
    }
  }
  if (!saved.length && !failed.length) throw missingFile(field);
  return { saved, failed };
}

/** Files one request may carry (`POST /v1/files/bulk`). */
const MAX_FILES = 20;

const fileUrlSchema = z.object({ file_url: z.string() }).meta({ id: 'FileUrl' });
const bulkSchema = z
  .object({
    files: z.array(fileUrlSchema),
    failed_files: z.array(z.object({ file_name: z.string(), error: z.string() })).nullable(),
  })
  .meta({ id: 'FileBulkUpload' });

export function filesModule(infra: Infra): Module<FileService> {
  const svc = new FileService(infra.store.db, infra.config);
  const max = infra.config.filesMaxBytes;
  const query = z.object({ project: z.string().max(200).optional() });
  const tags = ['files'];
  return {
    name: 'files',
    services: svc,
    scopes: [
      {
        async setup(app) {
          await app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: max, files: MAX_FILES } });
        },
        routes: [
          defineRoute({
            method: 'POST',
            path: '/files/',
            tags,
            summary: 'Upload a file (multipart part `file`; project as the `project` query parameter or form field); its handle goes into file_names of calls',
            query,
            multipart: { fields: { file: { type: 'binary', required: true } } },
            responses: { 200: fileUrlSchema },
            errors: [400, 413, 415],
            async handler({ req, user, query: q }) {
              const { saved } = await saveParts(req, user, q.project, svc, 'file', max, 'throw');
              return { file_url: encodeFileUrl(saved[0]) };
            },
          }),
          defineRoute({
            method: 'POST',
            path: '/files/bulk',
            tags,
            summary: 'Upload several files (multipart parts `files`); failures are listed, not fatal',
            query,
            multipart: { fields: { files: { type: 'binary', array: true, maxItems: MAX_FILES, required: true } } },
            responses: { 200: bulkSchema },
            errors: [400, 413, 415],
            async handler({ req, user, query: q }) {
              const { saved, failed } = await saveParts(req, user, q.project, svc, 'files', max, 'collect');
              return { files: saved.map((r) => ({ file_url: encodeFileUrl(r) })), failed_files: failed.length ? failed : null };
            },
          }),
          defineRoute({
            method: 'GET',
            path: '/files/:file_url',
            tags,
            summary: 'Download a file (its owner, members of its project, admins)',
            params: z.object({ file_url: z.string().min(1).max(2000) }),
            responses: { 200: { contentType: '*/*', description: 'The file, with the content type it was uploaded with' } },
            errors: [400, 403, 404],
            async handler({ params, user }) {
              const { row, stream } = await svc.open(user, params.file_url);
              return new RawBody(row.mime_type, stream, {
                'content-length': String(row.size),
                'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(row.name)}`,
                'x-content-type-options': 'nosniff',
              });
            },
          }),
        ],
      },
    ],
  };
}
