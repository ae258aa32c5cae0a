import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { currentUser } from '../api/auth.js';
import type { TaskService } from './service.js';

const params = z.object({ task_id: z.string().min(1).max(100) });

export function taskRoutes(app: FastifyInstance, svc: TaskService): void {
  app.get('/tasks/:task_id', { schema: { tags: ['tasks'], summary: 'Status and result of a background task', params } }, async (req) => {
    return svc.get((req.params as z.infer<typeof params>).task_id, currentUser(req));
  });
}
