/** The skills domain's view of assistants (SkillAssistants), built on the assistants service. */
import { abilities } from '../auth/access.js';
import { access } from '../assistants/access.js';
import { assistantResponse, type AssistantService } from '../assistants/service.js';
import type { SkillAssistants } from './service.js';

const skillIdsOf = (data: Record<string, unknown>): string[] => (Array.isArray(data.skill_ids) ? (data.skill_ids as string[]) : []);

export function skillAssistants(assistants: AssistantService): SkillAssistants {
  const repo = assistants.repo;
  return {
    async get(id) {
      const a = await repo.get(id);
      return a ? { id: a.id, name: a.name, skill_ids: skillIdsOf(a.data) } : undefined;
    },
    async abilities(id, user) {
      const a = await repo.get(id);
      return a ? abilities(user, access(a)) : [];
    },
    async setSkillIds(id, ids) {
      const a = await repo.get(id);
      if (!a) return;
      // Attaching is not an edit of the configuration: no new version (as the reference).
      await repo.update({ ...a, data: { ...a.data, skill_ids: [...new Set(ids)] }, update_date: new Date().toISOString() });
    },
    async usingSkill(skillId, user) {
      return (await repo.withSkills(skillId ?? undefined)).map((a) => ({
        id: a.id,
        skill_ids: skillIdsOf(a.data),
        readable: abilities(user, access(a)).includes('read'),
        item: assistantResponse(a, user),
      }));
    },
  };
}
