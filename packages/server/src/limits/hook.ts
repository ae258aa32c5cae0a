/**
 * HTTP glue of fair use: the per-user request rate on every authenticated request, and the
 * admission of run-starting requests (routes marked `config: { startsRun: true }`), whose
 * handlers call runAdmission(ctx, req).admit(project, runId?) before creating anything.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { currentUser } from '../api/auth.js';
import type { AppContext } from '../context.js';
import type { RunAdmission } from './fair-use.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Starts a run or calls an assistant: the handler checks fair use itself (runAdmission). */
    startsRun?: boolean;
  }
}

/** Run-starting requests whose handler reached its admission (the rest are counted on response). */
const attempted = new WeakSet<FastifyRequest>();

export function installFairUse(app: FastifyInstance, ctx: AppContext): void {
  // After the auth hook: public routes and failed authentications have no user and are not counted.
  app.addHook('onRequest', async (req) => {
    if (!req.user || req.routeOptions.config?.startsRun) return;
    await ctx.fairUse.checkRequest(req.user);
  });
  // A run-starting request refused before its admission (404, 403, 422...) still counts for its user.
  app.addHook('onResponse', async (req) => {
    if (req.user && req.routeOptions.config?.startsRun && !attempted.has(req)) await ctx.fairUse.checkRequest(req.user).catch(() => undefined);
  });
}

/** The fair-use admission of a run-starting request. */
export function runAdmission(ctx: AppContext, req: FastifyRequest): RunAdmission {
  return ctx.fairUse.admission(currentUser(req), () => attempted.add(req));
}
