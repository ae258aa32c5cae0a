/** `GET /v1/admin/audit`: the security audit log, for administrators (and auditors, read-only). */
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute } from '../api/route.js';
import { pageOf, pageQuery } from '../api/pagination.js';
import { pageSchema } from '../api/schemas.js';

const query = pageQuery(50, 500).extend({
  event: z.string().max(100).optional(),
  user_id: z.string().max(200).optional(),
  since: z.string().datetime({ offset: true }).optional(),
});

const auditEntrySchema = z
  .object({
    id: z.string(),
    date: z.string(),
    event: z.string(),
    outcome: z.string(),
    user_id: z.string().nullable(),
    username: z.string().nullable(),
    client_id: z.string().nullable(),
    ip: z.string().nullable(),
    request_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export function auditModule(infra: Infra): Module<null> {
  return {
    name: 'audit',
    services: null,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/admin/audit',
        access: 'admin-or-auditor',
        tags: ['admin'],
        summary: 'Security audit log (logins, secret changes, permission denials), newest first',
        query,
        responses: { 200: pageSchema(auditEntrySchema) },
        async handler({ query: q }) {
          const { rows, total } = await infra.audit.list({ page: q.page, perPage: q.per_page, event: q.event, userId: q.user_id, since: q.since });
          return pageOf(rows, total, q.page, q.per_page);
        },
      }),
    ],
  };
}
