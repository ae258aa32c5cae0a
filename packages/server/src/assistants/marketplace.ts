/**
 * The marketplace (reference §2.1.8, §4.8): publishing makes an assistant global — readable and
 * callable by every user, listed in `scope=marketplace` — with 1–3 categories; its sub-assistants
 * are published along (or kept private, still runnable through it). Validation finds inline
 * credentials that publishing would share.
 */
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest } from '../api/errors.js';
import type { CategoryService } from '../categories/service.js';
import { access } from './access.js';
import { assistantNotFound, requireAssistantAbility } from './errors.js';
import type { AssistantRecord } from './repo.js';
import { MASK, promptVariablesOf, type AssistantService } from './service.js';
import { subIdsOf } from './sub-assistants.js';

export interface InlineCredential {
  [key: string]: unknown;
  toolkit?: string;
  tool?: string;
  label?: string;
  mcp_server?: string;
  credential_type: string;
  env_vars?: string[];
  sub_assistant_name?: string;
  sub_assistant_id?: string;
}

export interface PublishRequest {
  categories: string[];
  sub_assistants_settings: Array<{
    assistant_id: string;
    is_global: boolean;
    toolkits?: unknown[] | null;
    mcp_servers?: unknown[] | null;
    categories: string[];
  }>;
  ignore_recommendations: boolean;
}

const hasValues = (settings: unknown) => {
  const v = (settings as { credential_values?: unknown } | null | undefined)?.credential_values;
  return Array.isArray(v) ? v.length > 0 : !!v && typeof v === 'object' && Object.keys(v).length > 0;
};

/** Credentials written into the assistant itself (shared with everyone once published). */
export function inlineCredentials(a: AssistantRecord): InlineCredential[] {
  const out: InlineCredential[] = [];
  for (const tk of (a.data.toolkits as Array<Record<string, any>>) ?? []) {
    if (hasValues(tk.settings)) out.push({ toolkit: tk.toolkit, label: tk.label || undefined, credential_type: 'toolkit_settings' });
    for (const t of (tk.tools as Array<Record<string, any>>) ?? []) {
      if (hasValues(t.settings)) out.push({ toolkit: tk.toolkit, tool: t.name, label: t.label || undefined, credential_type: 'tool_settings' });
    }
  }
  for (const s of (a.data.mcp_servers as Array<Record<string, any>>) ?? []) {
    if (hasValues(s.settings)) out.push({ mcp_server: s.name, credential_type: 'mcp_environment_vars' });
    if (hasValues(s.mcp_connect_auth_token)) out.push({ mcp_server: s.name, credential_type: 'mcp_auth_token' });
    const env = s.config?.env as Record<string, unknown> | undefined;
    if (env && Object.keys(env).length) out.push({ mcp_server: s.name, credential_type: 'mcp_inline_config_env', env_vars: Object.keys(env) });
    const headers = s.config?.headers as Record<string, unknown> | undefined;
    if (s.config?.auth_token || (headers && Object.keys(headers).some((h) => /authorization|token|key|secret/i.test(h)))) {
      out.push({ mcp_server: s.name, credential_type: 'mcp_auth_token' });
    }
  }
  return out;
}

function subAssistantSummary(s: AssistantRecord) {
  return { id: s.id, name: s.name, description: s.description, is_global: s.is_global, icon_url: (s.data.icon_url as string) ?? null, categories: s.categories };
}

export class MarketplaceService {
  constructor(
    private readonly assistants: AssistantService,
    private readonly categories: CategoryService,
  ) {}

  async validate(id: string, user: AuthUser) {
    const a = await this.assistants.getWritable(id, user, 'write');
    const subs = await this.subs(a);
    const creds = [
      ...inlineCredentials(a),
      ...subs.flatMap((s) => inlineCredentials(s).map((c) => ({ ...c, sub_assistant_name: s.name, sub_assistant_id: s.id }))),
    ];
    const suffix = subs.length ? ` along with ${subs.length} sub-assistant(s)` : '';
    return {
      requires_confirmation: creds.length > 0,
      message: creds.length
        ? 'This assistant or its sub-assistants contain inline integration credentials that will be shared with all users who use this assistant. Please confirm that you want to publish it.'
        : `Assistant ${a.id} is ready to be published to marketplace${suffix}`,
      inline_credentials: creds,
      assistant_id: a.id,
      sub_assistants: subs.map(subAssistantSummary),
      prompt_variables: promptVariablesOf(a).map((v) => ({ ...v, description: v.description ?? null, default_value: v.is_sensitive ? MASK : v.default_value })),
    };
  }

  async publish(id: string, req: PublishRequest | undefined, user: AuthUser): Promise<string> {
    const a = await this.assistants.getWritable(id, user, 'write');
    const problem = await this.categories.problem(req?.categories ?? [], true);
    if (problem) throw new ApiError(400, problem);
    const settings = new Map((req?.sub_assistants_settings ?? []).map((s) => [s.assistant_id, s]));
    // Phase 1: every sub-assistant exists and may be changed by the caller.
    const subs: AssistantRecord[] = [];
    for (const sid of subIdsOf(a)) {
      const sub = await this.assistants.repo.get(sid);
      try {
        if (!sub) throw assistantNotFound(sid);
        requireAssistantAbility(user, access(sub), 'write', 'write');
      } catch (err) {
        throw badRequest(
          `Failed to validate sub-assistant '${sub?.name ?? sid}' (${sid})`,
          `An error occurred while validating sub-assistant: ${err instanceof ApiError ? (err.details ?? err.message) : String(err)}`,
          'Please check that all sub-assistants exist and are accessible. Ensure you have write permissions for all sub-assistants.',
        );
      }
      subs.push(sub);
    }
    // Phase 2: publish (or keep private) each, then the parent.
    let published = 0;
    const now = new Date().toISOString();
    for (const sub of subs) {
      const s = settings.get(sub.id);
      const global = s?.is_global ?? true;
      const data = { ...sub.data };
      if (s?.toolkits) data.toolkits = s.toolkits;
      if (s?.mcp_servers) data.mcp_servers = s.mcp_servers;
      let categories = sub.categories;
      if (s?.categories?.length) {
        const p = await this.categories.problem(s.categories, true);
        if (p) throw subPublishError(sub, p);
        categories = s.categories;
      } else if (global && !categories.length) {
        categories = req!.categories;
      }
      await this.assistants.save({ ...sub, data, is_global: global, categories, update_date: now });
      if (global) published++;
    }
    await this.assistants.save({ ...a, is_global: true, categories: req!.categories, update_date: now });
    const kept = subs.length - published;
    let suffix = '';
    if (published && kept) suffix = ` along with ${published} sub-assistant(s) published to marketplace and ${kept} kept private`;
    else if (published) suffix = ` along with ${published} sub-assistant(s) published to marketplace`;
    else if (kept) suffix = ` with ${kept} sub-assistant(s) kept private`;
    return `Assistant ${a.id} published to marketplace successfully${suffix}`;
  }

  async unpublish(id: string, user: AuthUser): Promise<string> {
    const a = await this.assistants.getWritable(id, user, 'write');
    await this.assistants.save({ ...a, is_global: false, update_date: new Date().toISOString() });
    return `Assistant ${a.id} unpublished from marketplace successfully`;
  }

  private async subs(a: AssistantRecord): Promise<AssistantRecord[]> {
    const out: AssistantRecord[] = [];
    for (const sid of subIdsOf(a)) {
      const s = await this.assistants.repo.get(sid);
      if (!s) throw assistantNotFound(sid);
      out.push(s);
    }
    return out;
  }
}

function subPublishError(sub: AssistantRecord, message: string) {
  return badRequest(
    `Failed to publish sub-assistant '${sub.name}' (${sub.id})`,
    `An error occurred while publishing sub-assistant: ${message}`,
    'Please check that all sub-assistants are valid and accessible. Ensure you have write permissions for all sub-assistants.',
  );
}
