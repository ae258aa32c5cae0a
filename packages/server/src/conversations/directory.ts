/**
 * What conversations need to know about assistants and workflows, read through those domains'
 * services (never their tables). The assistants module is built after this one (it stores its
 * turns here), so the directory is attached once every module exists (modules.ts).
 */
import type { AuthUser } from '../api/auth.js';
import type { AssistantData } from './schemas.js';

export interface AssistantCard extends AssistantData {
  enable_image_generation: boolean | null;
  image_generation_model: string | null;
}

export interface ConversationDirectory {
  /** The assistants among `ids` that `user` may read, in the order given; the rest are left out. */
  assistants(ids: readonly string[], user: AuthUser): Promise<AssistantCard[]>;
  /** A workflow `user` may read, or null. */
  workflow(id: string, user: AuthUser): Promise<{ id: string; name: string; icon_url: string | null } | null>;
}

export const emptyDirectory: ConversationDirectory = {
  assistants: async () => [],
  workflow: async () => null,
};

/** Structural views of the services the directory reads (assistants/service.ts, workflows/service.ts). */
interface AssistantReader {
  getReadable(id: string, user: AuthUser): Promise<{ id: string; name: string; update_date: string; data: Record<string, unknown> }>;
}
interface WorkflowReader {
  get(user: AuthUser, id: string): Promise<{ id: string; name: string; icon_url: string | null }>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function titleCase(name: string): string {
  return name
    .replace(/[_-]+/g, ' ')
    .trim()
    .replace(/\b\w/g, (c) => c.toUpperCase());
}

/** The reference's AssistantDetails of a conversation (icon, context, starters, one entry per tool). */
export function assistantCard(a: { id: string; name: string; data: Record<string, unknown> }): AssistantCard {
  const d = a.data;
  const toolkits = Array.isArray(d.toolkits) ? (d.toolkits as Array<{ tools?: Array<{ name?: unknown; label?: unknown }> }>) : [];
  const tools = toolkits.flatMap((tk) =>
    (tk.tools ?? [])
      .filter((t) => typeof t?.name === 'string')
      .map((t) => ({
        name: t.name as string,
        label: str(t.label) || titleCase(t.name as string),
        settings_config: false,
        description: null,
        user_description: null,
      })),
  );
  const context = Array.isArray(d.context)
    ? (d.context as Array<{ context_type?: unknown; name?: unknown }>).map((c) => ({ context_type: str(c.context_type), name: str(c.name) ?? '' }))
    : [];
  const type = str(d.type);
  return {
    assistant_id: a.id,
    assistant_type: type && ['codemie', 'A2A', 'bedrock_agent', 'bedrock_agentcore_runtime'].includes(type) ? type : 'codemie',
    assistant_name: a.name,
    assistant_icon: str(d.icon_url),
    context,
    tools,
    conversation_starters: Array.isArray(d.conversation_starters)
      ? (d.conversation_starters as unknown[]).filter((s): s is string => typeof s === 'string')
      : [],
    enable_image_generation: typeof d.enable_image_generation === 'boolean' ? d.enable_image_generation : null,
    image_generation_model: str(d.image_generation_model),
  };
}

export function serviceDirectory(assistants: AssistantReader, workflows?: WorkflowReader): ConversationDirectory {
  return {
    async assistants(ids, user) {
      const found = await Promise.all(
        [...new Set(ids)].map((id) =>
          assistants.getReadable(id, user).then(
            (a) => a,
            () => null,
          ),
        ),
      );
      // Most recently updated first, as the reference orders assistant_data.
      return found
        .filter((a): a is NonNullable<typeof a> => !!a)
        .sort((x, y) => (x.update_date < y.update_date ? 1 : x.update_date > y.update_date ? -1 : 0))
        .map(assistantCard);
    },
    async workflow(id, user) {
      if (!workflows) return null;
      try {
        const w = await workflows.get(user, id);
        return { id: w.id, name: w.name, icon_url: w.icon_url };
      } catch {
        return null;
      }
    },
  };
}
