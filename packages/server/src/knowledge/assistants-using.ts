/** GET /v1/index/{id}/assistants: assistants of the datasource's project whose `context` names it (through the assistants service). */
import type { AssistantService } from '../assistants/service.js';
import type { ListViewer } from '../assistants/repo.js';

const SYSTEM_VIEWER: ListViewer = { id: 'system', projects: [], adminProjects: [], isAdmin: true, external: false };

export function assistantsUsing(assistants: AssistantService) {
  return async (project: string, name: string, contextType: string) => {
    const out = [];
    for (let page = 0; ; page++) {
      // Every assistant of the project, whoever may see it (the caller is checked on the datasource).
      const { rows } = await assistants.repo.list({ scope: 'all', viewer: SYSTEM_VIEWER, projects: [project] }, page, 500);
      for (const a of rows) {
        const ctx = Array.isArray(a.data.context) ? (a.data.context as Array<{ name?: unknown; context_type?: unknown }>) : [];
        if (!ctx.some((c) => c && c.name === name && (c.context_type ?? 'knowledge_base') === contextType)) continue;
        out.push({
          id: a.id,
          name: a.name,
          slug: a.slug ?? null,
          project: a.project,
          type: 'codemie',
          description: a.description ?? '',
          icon_url: typeof a.data.icon_url === 'string' ? a.data.icon_url : null,
          created_by: a.created_by,
          user_abilities: null,
          unique_users_count: 0,
          unique_likes_count: 0,
          unique_dislikes_count: 0,
          categories: Array.isArray(a.data.categories) ? (a.data.categories as string[]) : [],
          is_global: false,
          shared: a.shared,
          origin: 'unknown',
        });
      }
      if (rows.length < 500) return out;
    }
  };
}
