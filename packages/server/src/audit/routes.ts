import { z } from 'zod';
import type { DomainModule } from '../context.js';
import { currentUser } from '../api/auth.js';
import { forbidden } from '../api/errors.js';
import { pageOf, pageQuery } from '../api/pagination.js';

const query = pageQuery(50, 500).extend({
  event: z.string().max(100).optional(),
  user_id: z.string().max(200).optional(),
  since: z.string().datetime({ offset: true }).optional(),
});

export const auditModule: DomainModule = {
  name: 'audit',
  apiRoutes(app, ctx) {
    app.get('/admin/audit', { schema: { tags: ['admin'], summary: 'Security audit log (admins only)', querystring: query } }, async (req) => {
      const user = currentUser(req);
      if (!user.isAdmin) throw forbidden('This action requires administrator privileges.');
      const q = req.query as z.infer<typeof query>;
      const { rows, total } = await ctx.audit.list({ page: q.page, perPage: q.per_page, event: q.event, userId: q.user_id, since: q.since });
      return pageOf(rows, total, q.page, q.per_page);
    });
  },
};
