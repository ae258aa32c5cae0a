/**
 * Usage analytics, budgets and the activity log: `/v1/analytics/*` from the usage records that
 * the other domains write through `infra.usage` (analytics/recorder.ts), project budgets and
 * their enforcement (installed as `infra.usage`'s budget check), and `/v1/admin/activity-events`
 * read from the audit log.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { ActivityEvents } from './activity.js';
import { activityRoutes, budgetRoutes } from './admin-routes.js';
import { ProjectBudgets } from './budgets.js';
import { analyticsRoutes } from './routes.js';
import { AnalyticsService } from './service.js';

export interface AnalyticsModuleDeps {
  /** The project's members (user ids): budgets are shared among them. */
  members(project: string): Promise<string[]>;
  /** The stored spelling of a project name, else undefined. */
  canonicalProject(name: string): Promise<string | undefined>;
}

export interface AnalyticsServices {
  analytics: AnalyticsService;
  budgets: ProjectBudgets;
  activity: ActivityEvents;
}

export function analyticsModule(infra: Infra, deps: AnalyticsModuleDeps): Module<AnalyticsServices> {
  const db = infra.store.db;
  const analytics = new AnalyticsService(db);
  const budgets = new ProjectBudgets({ db, audit: infra.audit, members: deps.members, canonicalProject: deps.canonicalProject });
  const activity = new ActivityEvents(db);
  infra.usage.useBudgetCheck((s) => budgets.check(s));
  return {
    name: 'analytics',
    services: { analytics, budgets, activity },
    routes: [...analyticsRoutes(analytics), ...activityRoutes(activity), ...budgetRoutes(budgets)],
  };
}
