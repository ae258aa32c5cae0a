/**
 * The files module: `POST /v1/files/` (multipart `file`) → `{"file_url"}`, `POST /v1/files/bulk`
 * (multipart `files`) → `{files:[{file_url}], failed_files}`, `GET /v1/files/{file_url}` (owner,
 * project members or admins). Size limit and accepted types come from the config.
 */
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError, unprocessable } from '../api/errors.js';
import { currentUser } from '../api/auth.js';
import type { AppContext, DomainModule } from '../context.js';
import { encodeFileUrl, FileService, type FileRow } from './service.js';

export function fileService(ctx: AppContext): FileService {
  return new FileService(ctx.store.db, ctx.config);
}

const missingFile = (field: string) =>
  unprocessable(`${field}: Field required`, [{ loc: ['body', field], msg: 'Field required', type: 'missing' }]);

/** Saves every file part named `field` (fields sent before it, e.g. `project`, apply). */
async function saveParts(req: FastifyRequest, svc: FileService, field: string, max: number, onError: 'throw' | 'collect') {
  if (!req.isMultipart()) throw unprocessable('The request must be multipart/form-data', `Send the file as the multipart part '${field}'.`);
  const user = currentUser(req);
  const q = req.query as { project?: string };
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
          project: fields.project || q.project || null,
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

export const filesModule: DomainModule = {
  name: 'files',
  async apiRoutes(app, ctx) {
    const svc = fileService(ctx);
    const max = ctx.config.filesMaxBytes;
    await app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: max, files: 20 } });
    const query = z.object({ project: z.string().optional() });

    app.post('/files/', { schema: { querystring: query } }, async (req) => {
      const { saved } = await saveParts(req, svc, 'file', max, 'throw');
      return { file_url: encodeFileUrl(saved[0]) };
    });

    app.post('/files/bulk', { schema: { querystring: query } }, async (req) => {
      const { saved, failed } = await saveParts(req, svc, 'files', max, 'collect');
      return { files: saved.map((r) => ({ file_url: encodeFileUrl(r) })), failed_files: failed.length ? failed : null };
    });

    app.get('/files/:file_url', { schema: { params: z.object({ file_url: z.string() }) } }, async (req, reply) => {
      const { file_url } = req.params as { file_url: string };
      const { row, stream } = await svc.open(currentUser(req), file_url);
      return reply
        .type(row.mime_type)
        .header('content-length', String(row.size))
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.name)}`)
        .header('x-content-type-options', 'nosniff')
        .send(stream);
    });
  },
};

