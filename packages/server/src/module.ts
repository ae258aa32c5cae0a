/**
 * A domain module, as the composition root (modules.ts) assembles it: the services it built (for
 * other modules and tests), its route descriptors, and start-up work.
 */
import type { FastifyInstance } from 'fastify';
import type { Route } from './api/route.js';

/** Routes registered in an encapsulated scope of their own (own error format, content parsers). */
export interface RouteScope {
  /** At the server root instead of under /v1 and /code-assistant-api/v1. */
  root?: boolean;
  routes: Route[];
  /** Runs on the scope before its routes are added (error handler, content-type parsers, hooks). */
  setup?(app: FastifyInstance): void | Promise<void>;
}

export interface Module<S = unknown> {
  name: string;
  services: S;
  /** Served under /v1 and /code-assistant-api/v1 (or at the root when a descriptor says `root`). */
  routes?: Route[];
  scopes?: RouteScope[];
  /** After every module is built, before the HTTP app (bootstrap, seeding, run handlers). */
  init?(): Promise<void> | void;
  /** After the server listens (recovery of runs, printed hints). */
  started?(): Promise<void> | void;
}
