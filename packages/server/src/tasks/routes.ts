import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { currentUser } from '../api/auth.js';
import type { TaskService } from './service.js';

const idParams = z.object({ task_id: z.string().min(1).max(100) });

export function taskRoutes(app: FastifyInstance, svc: TaskService): void {
  app.get('/tasks/:task_id', { schema: { tags: ['tasks'], summary: 'A background task of the caller (status STARTED | COMPLETED | FAILED)', params: idParams } }, async (req) =>
    svc.forUser((req.params as z.infer<typeof idParams>).task_id, currentUser(req)),
  );
}
