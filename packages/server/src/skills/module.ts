/**
 * The skills module: skills CRUD and their event log (routes), and the `skill` tools an
 * assistant with attached skills gets. Built before assistants (which take its tools); its view of
 * assistants is set by the composition root once those are built (`useAssistants`).
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { AgentTool } from '../llm/tool.js';
import type { AuthUser } from '../api/auth.js';
import type { AssistantRecord } from '../assistants/repo.js';
import { skillRoutes } from './routes.js';
import { SkillService, type SkillAssistants } from './service.js';
import { SkillStore } from './store.js';
import { skillTools, type SkillToolContext } from './tool.js';

export interface SkillServices {
  service: SkillService;
  /** The `skill` / `skill_file` tools for an assistant's attached skills (none when it has none). */
  tools(skillIds: string[], ctx: SkillToolContext): Promise<AgentTool[]>;
  useAssistants(a: SkillAssistants): void;
  /**
   * An assistant with what its attached skills contribute (reference skill_contributions.py): their
   * MCP servers (by name, the assistant's own first) and built-in subagents, deduplicated.
   * Their toolkits are added with the tools (modules.ts).
   */
  contributions(a: AssistantRecord, user: AuthUser): Promise<AssistantRecord>;
}

export function skillsModule(infra: Infra): Module<SkillServices> {
  const service = new SkillService(new SkillStore(infra.store.db), infra.llm);
  return {
    name: 'skills',
    services: {
      service,
      tools: (ids, ctx) => skillTools(service, ids, { log: infra.log, ...ctx }),
      useAssistants: (a) => service.useAssistants(a),
      async contributions(a, user) {
        const ids = Array.isArray(a.data.skill_ids) ? (a.data.skill_ids as string[]) : [];
        if (!ids.length) return a;
        const skills = await service.readableMany(ids, user);
        const servers = [...((a.data.mcp_servers as Array<Record<string, unknown>>) ?? [])];
        const names = new Set(servers.map((s) => s.name));
        for (const s of skills) for (const m of s.mcp_servers) if (!names.has(m.name)) (names.add(m.name), servers.push(m));
        const subagents = [...new Set([...((a.data.enabled_builtin_subagents as string[]) ?? []), ...skills.flatMap((s) => s.enabled_builtin_subagents)])];
        if (
          servers.length === ((a.data.mcp_servers as unknown[]) ?? []).length &&
          subagents.length === ((a.data.enabled_builtin_subagents as unknown[]) ?? []).length
        )
          return a;
        return { ...a, data: { ...a.data, mcp_servers: servers, enabled_builtin_subagents: subagents } };
      },
    },
    routes: skillRoutes(service),
  };
}
