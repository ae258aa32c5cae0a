/**
 * Routes of the projects domain: `/v1/projects...` (routers/projects.py of the reference) and the
 * admin views `GET /v1/admin/applications`, `POST /v1/admin/application` (routers/admin.py).
 * Every descriptor says who may call it; entity rules are the service's (service.ts header).
 */
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { ApiError, unprocessable } from '../api/errors.js';
import { defineRoute, type Route } from '../api/route.js';
import { messageSchema } from '../api/schemas.js';
import type { RouteScope } from '../module.js';
import { CSV_MAX_BYTES } from './csv.js';
import {
  applicationBody,
  applicationsQuery,
  applicationsSchema,
  assignmentBody,
  assignmentSchema,
  assignmentUpdateBody,
  bulkAssignBody,
  bulkAssignmentSchema,
  bulkRemoveQuery,
  csvValidationSchema,
  ownershipBody,
  ownershipSchema,
  projectCreateBody,
  projectDeleteSchema,
  projectDetailSchema,
  projectListQuery,
  projectListSchema,
  projectParams,
  projectSchema,
  projectUpdateBody,
  projectUserParams,
} from './schemas.js';
import type { ProjectService } from './service.js';

const tags = ['projects'];
const MANAGE =
  'Who: platform admins, the project\'s administrators and its creator. Callers who cannot see the project get 404 "Project not found"; members and auditors who see it but may not manage it get 403.';

export function projectRoutes(projects: ProjectService): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/projects',
      tags,
      summary: 'Create a shared project; the creator becomes its administrator',
      description:
        'Who: any authenticated user, within their project limit (CODEMIE_USER_PROJECT_LIMIT, or the limit an admin set; admins are unlimited). ' +
        'Names: 3-100 characters of a-z 0-9 _ -, starting with a letter or digit, not reserved, unique case-insensitively.',
      body: projectCreateBody,
      responses: { 201: projectSchema },
      errors: [400, 403, 404, 409],
      async handler({ user, body }) {
        return projects.toWire(await projects.create(user, body));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/projects',
      tags,
      summary: 'Projects the caller can see (all for admins and auditors), with member counts and entity counters',
      description: 'Who: any authenticated user; the list holds the projects they are a member or creator of (every project for admins and auditors).',
      query: projectListQuery,
      responses: { 200: projectListSchema },
      errors: [400],
      async handler({ user, query }) {
        const { data, total } = await projects.list(user, query);
        return { data, pagination: { total, page: query.page, per_page: query.per_page, pages: Math.ceil(total / query.per_page) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/projects/:projectName',
      tags,
      summary: 'A project with its members',
      description: 'Who: its members and creator, platform admins and auditors; anyone else gets 404.',
      params: projectParams,
      responses: { 200: projectDetailSchema },
      errors: [404],
      handler: ({ user, params }) => projects.detail(user, params.projectName),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/projects/:projectName',
      tags,
      summary: 'Update a project (description, display name, name while it has no members and no entities)',
      description: MANAGE,
      params: projectParams,
      body: projectUpdateBody,
      responses: { 200: projectSchema },
      errors: [400, 403, 404, 409],
      async handler({ user, params, body }) {
        return projects.toWire(await projects.update(user, params.projectName, body));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/projects/:projectName',
      tags,
      summary: 'Delete a project that has no members besides its creator and no entities',
      description: MANAGE,
      params: projectParams,
      responses: { 200: projectDeleteSchema },
      errors: [403, 404, 409],
      async handler({ user, params }) {
        await projects.remove(user, params.projectName);
        return { message: `Project '${params.projectName}' deleted successfully`, name: params.projectName };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/projects/:projectName/ownership',
      tags,
      summary: 'Transfer a project to another active user (who becomes one of its administrators)',
      description: MANAGE,
      params: projectParams,
      body: ownershipBody,
      responses: { 200: ownershipSchema },
      errors: [403, 404],
      async handler({ user, params, body }) {
        const p = await projects.transferOwnership(user, params.projectName, body.user_id);
        return { name: p.name, created_by: p.createdBy!, message: `Project '${p.name}' ownership transferred to '${p.createdBy}'` };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/projects/:projectName/assignment',
      tags,
      summary: 'Add a user to a project',
      description: MANAGE,
      params: projectParams,
      body: assignmentBody,
      responses: { 200: assignmentSchema },
      errors: [400, 403, 404, 409],
      handler: ({ user, params, body }) => projects.assign(user, params.projectName, body.user_id, body.is_project_admin),
    }),
    defineRoute({
      method: 'PUT',
      path: '/projects/:projectName/assignment/:userId',
      tags,
      summary: "Change a member's project-admin flag",
      description: MANAGE,
      params: projectUserParams,
      body: assignmentUpdateBody,
      responses: { 200: assignmentSchema },
      errors: [400, 403, 404],
      handler: ({ user, params, body }) => projects.updateAssignment(user, params.projectName, params.userId, body.is_project_admin),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/projects/:projectName/assignment/:userId',
      tags,
      summary: 'Remove a user from a project (not its creator)',
      description: MANAGE,
      params: projectUserParams,
      responses: { 200: assignmentSchema },
      errors: [400, 403, 404],
      handler: ({ user, params }) => projects.unassign(user, params.projectName, params.userId),
    }),
    defineRoute({
      method: 'POST',
      path: '/projects/:projectName/assignments',
      tags,
      summary: 'Add or update up to 1000 members at once (all or nothing)',
      description: MANAGE,
      params: projectParams,
      body: bulkAssignBody,
      responses: { 200: bulkAssignmentSchema },
      errors: [400, 403, 404],
      handler: ({ user, params, body }) => projects.bulkAssign(user, params.projectName, body.users),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/projects/:projectName/assignments',
      tags,
      summary: 'Remove up to 100 members at once (`?user_id=a&user_id=b`, all or nothing)',
      description: MANAGE,
      params: projectParams,
      query: bulkRemoveQuery,
      responses: { 200: bulkAssignmentSchema },
      errors: [400, 403, 404],
      handler: ({ user, params, query }) => projects.bulkRemove(user, params.projectName, query.user_id),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/applications',
      access: 'admin',
      tags: ['admin'],
      summary: 'Every project by name (the reference\'s "applications"); `search` matches name or display name',
      query: applicationsQuery,
      responses: { 200: applicationsSchema },
      async handler({ query }) {
        const rows = await projects.applications(query.search, query.limit);
        return { applications: rows.map((p) => ({ name: p.name, display_name: p.displayName, displayName: p.displayName })) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/application',
      access: 'admin',
      tags: ['admin'],
      summary: 'Create a project by name only (no members; names are not validated, only unique case-insensitively)',
      body: applicationBody,
      responses: { 200: messageSchema },
      errors: [409],
      async handler({ user, body }) {
        const name = await projects.createApplication(user, body.name);
        return { message: `Application name='${name}' has been created` };
      },
    }),
  ];
}

/** Reads the multipart part `file` (at most CSV_MAX_BYTES; more → 413). */
async function csvFile(req: FastifyRequest): Promise<Buffer> {
  const missing = () => unprocessable('file: Field required', [{ loc: 'file', msg: 'Field required', type: 'missing' }]);
  if (!req.isMultipart()) throw missing();
  let found: Buffer | undefined;
  for await (const part of req.parts({ limits: { fileSize: CSV_MAX_BYTES } })) {
    if (part.type === 'field') continue;
    const file = part as MultipartFile;
    if (file.fieldname !== 'file' || found) {
      file.file.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of file.file) chunks.push(c as Buffer);
    if (file.file.truncated) throw new ApiError(413, 'File too large', 'CSV file must not exceed 5 MB');
    found = Buffer.concat(chunks);
  }
  if (!found) throw missing();
  return found;
}

/** The CSV routes need a multipart parser: a scope of their own. */
export function csvScope(projects: ProjectService): RouteScope {
  return {
    async setup(app) {
      await app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: CSV_MAX_BYTES, files: 1 } });
    },
    routes: [
      defineRoute({
        method: 'POST',
        path: '/projects/:projectName/import-users/validate',
        tags,
        summary: 'Check a CSV of members (`email`, optional `role`: project_admin | user) without changing anything',
        description: MANAGE,
        params: projectParams,
        multipart: { fields: { file: { type: 'binary', required: true, description: 'CSV, UTF-8, at most 5 MB and 1000 rows' } } },
        responses: { 200: csvValidationSchema },
        errors: [400, 403, 404, 413, 415],
        async handler({ user, params, req }) {
          return projects.validateCsv(user, params.projectName, await csvFile(req));
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/projects/:projectName/import-users',
        tags,
        summary: 'Add or update the members a CSV lists; any bad row → 422 with every row error, nothing changed',
        description: MANAGE,
        params: projectParams,
        multipart: { fields: { file: { type: 'binary', required: true, description: 'CSV, UTF-8, at most 5 MB and 1000 rows' } } },
        responses: { 200: bulkAssignmentSchema },
        errors: [400, 403, 404, 413, 415],
        async handler({ user, params, req }) {
          return projects.importCsv(user, params.projectName, await csvFile(req));
        },
      }),
    ],
  };
}
