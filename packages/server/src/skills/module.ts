/**
 * The skills module: skills CRUD and their event log (routes), and the `skill` tools an
 * assistant with attached skills gets. Built before assistants (which take its tools); its view of
 * assistants is set by the composition root once those are built (`useAssistants`).
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { AgentTool } from '../llm/tool.js';
import { skillRoutes } from './routes.js';
import { SkillService, type SkillAssistants } from './service.js';
import { SkillStore } from './store.js';
import { skillTools, type SkillToolContext } from './tool.js';

export interface SkillServices {
  service: SkillService;
  /** The `skill` / `skill_file` tools for an assistant's attached skills (none when it has none). */
  tools(skillIds: string[], ctx: SkillToolContext): Promise<AgentTool[]>;
  useAssistants(a: SkillAssistants): void;
}

export function skillsModule(infra: Infra): Module<SkillServices> {
  const service = new SkillService(new SkillStore(infra.store.db), infra.llm);
  return {
    name: 'skills',
    services: {
      service,
      tools: (ids, ctx) => skillTools(service, ids, { log: infra.log, ...ctx }),
      useAssistants: (a) => service.useAssistants(a),
    },
    routes: skillRoutes(service),
  };
}
