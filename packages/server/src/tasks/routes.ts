/** `GET /v1/tasks/{task_id}`: a background task of the caller (reference §7.4). */
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute } from '../api/route.js';
import { TaskService } from './service.js';

const idParams = z.object({ task_id: z.string().min(1).max(100) });

export const taskSchema = z
  .object({
    id: z.string(),
    task: z.string(),
    user: z.object({ user_id: z.string(), username: z.string(), name: z.string() }),
    final_output: z.string().nullable(),
    current_step: z.string().nullable(),
    status: z.enum(['STARTED', 'COMPLETED', 'FAILED']),
    date: z.string(),
    update_date: z.string(),
  })
  .meta({ id: 'BackgroundTask' });

export function tasksModule(infra: Infra): Module<TaskService> {
  const tasks = new TaskService(infra.store.db);
  return {
    name: 'tasks',
    services: tasks,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/tasks/:task_id',
        tags: ['tasks'],
        summary: 'A background task of the caller (status STARTED | COMPLETED | FAILED)',
        params: idParams,
        responses: { 200: taskSchema },
        errors: [404],
        handler: ({ params, user }) => tasks.forUser(params.task_id, user),
      }),
    ],
  };
}
