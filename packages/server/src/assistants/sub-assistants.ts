/**
 * Sub-assistants (`assistant_ids`): the save-time rules of the reference (spec §4.4) plus two of
 * ours — the caller must be able to read each newly added sub-assistant, and an assistant that is
 * itself somebody's sub-assistant cannot become an orchestrator — so orchestration is one level
 * deep and cycles cannot be built.
 */
import type { AuthUser } from '../api/auth.js';
import { abilities } from '../auth/access.js';
import type { AssistantRecord, AssistantRepo } from './repo.js';
import { access } from './access.js';

export function subIdsOf(a: Pick<AssistantRecord, 'data'>): string[] {
  return Array.isArray(a.data.assistant_ids) ? (a.data.assistant_ids as string[]) : [];
}

/**
 * Why `parent` (being saved with `ids` as sub-assistants, `added` of them new) cannot be saved,
 * or null. The message is the `details` suffix of "Failed to save/update assistant".
 */
export async function subAssistantProblem(
  repo: AssistantRepo,
  parent: Pick<AssistantRecord, 'id' | 'name' | 'project'>,
  ids: string[],
  added: string[],
  user: AuthUser,
): Promise<string | null> {
  if (ids.length && parent.id) {
    const parents = (await repo.parentsOf(parent.id)).filter((p) => p.id !== parent.id);
    if (parents.length) {
      return `Nested assistants aren't supported. Assistant '${parent.name}' is a sub-assistant of '${parents[0]!.name}' and can't have its own sub-assistants`;
    }
  }
  if (!added.length) return null;
  const found = new Map((await repo.getMany(added)).map((a) => [a.id, a]));
  const nested: AssistantRecord[] = [];
  const mismatched: AssistantRecord[] = [];
  for (const id of added) {
    const sub = found.get(id);
    if (!sub) return `Invalid reference: Assistant with ID "${id}" does not exist in the system`;
    if (sub.id === parent.id) return 'Circular reference detected: An assistant cannot include itself as an inner assistant';
    if (!abilities(user, access(sub)).includes('read')) return `Access denied: you do not have the necessary permissions to use assistant '${sub.name}' (${sub.id}) as a sub-assistant`;
    if (subIdsOf(sub).length) nested.push(sub);
    if (!user.isAdmin && !sub.is_global && sub.project !== parent.project) mismatched.push(sub);
  }
  if (mismatched.length === 1) {
    const s = mismatched[0]!;
    return `Sub-assistant '${s.name}' (project: '${s.project}') is associated with a different project. However, the expected project for the assistant '${parent.name}' must be '${parent.project}'. Tip: Publish '${s.name}' to marketplace to use it across projects.`;
  }
  if (mismatched.length > 1) {
    const list = mismatched.map((s) => `'${s.name}' (project: '${s.project}')`).join(', ');
    return `Sub-assistants ${list} are associated with different projects. However, the expected project for the assistant '${parent.name}' must be '${parent.project}'. Tip: Publish these assistants to marketplace to use them across projects.`;
  }
  if (nested.length === 1) return `Nested assistants aren't supported. Assistant '${nested[0]!.name}' can't have its own sub-assistants`;
  if (nested.length > 1) {
    return `Nested assistants not supported. Inner assistants (${nested.map((s) => s.name).join(', ')}) cannot contain their own inner assistants`;
  }
  return null;
}
