/**
 * HTTP glue of fair use: the per-user request rate on every authenticated request, and the
 * admission of run-starting requests (descriptors with `startsRun`), whose handlers call
 * `admission.admit(project, runId?)` before creating anything.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { currentUser } from '../api/auth.js';
import type { FairUse, RunAdmission } from './fair-use.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Starts a run or calls an assistant: the handler checks fair use itself (runAdmission). */
    startsRun?: boolean;
  }
}

/** Run-starting requests whose handler reached its admission (the rest are counted on response). */
const attempted = new WeakSet<FastifyRequest>();

export function installFairUse(app: FastifyInstance, fairUse: FairUse): void {
  // After the auth hook: public routes and failed authentications have no user and are not counted.
  app.addHook('onRequest', async (req) => {
    if (!req.user || req.routeOptions.config?.startsRun) return;
    await fairUse.checkRequest(req.user);
  });
  // A run-starting request refused before its admission (404, 403, 422...) still counts for its user.
  app.addHook('onResponse', async (req) => {
    if (req.user && req.routeOptions.config?.startsRun && !attempted.has(req)) await fairUse.checkRequest(req.user).catch(() => undefined);
  });
}

/** The fair-use admission of a run-starting request. */
export function runAdmission(fairUse: FairUse, req: FastifyRequest): RunAdmission {
  return fairUse.admission(currentUser(req), () => attempted.add(req));
}
