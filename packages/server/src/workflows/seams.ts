/**
 * What the workflow engine needs from other domains, as small interfaces the composition root
 * (modules.ts) fills with those domains' services, and tests swap.
 */
import type { AuthUser } from '../api/auth.js';

/** An existing assistant, as a workflow state needs it. */
export interface ResolvedAssistant {
  id: string;
  name: string;
  system_prompt: string;
  llm_model_type?: string | null;
  temperature?: number | null;
  top_p?: number | null;
  mcp_servers?: unknown[];
}

export interface ExecutionUser {
  id: string;
  username: string;
  name: string;
}

/** Reads an existing assistant by id (the assistants domain's lookup). */
export interface AssistantLookup {
  get(id: string, user: ExecutionUser): Promise<ResolvedAssistant | null>;
}

export const noAssistants: AssistantLookup = {
  async get() {
    return null;
  },
};

/**
 * The execution's creator as the MCP layer sees it. Runs execute in the background (maybe after a
 * restart), so the caller's token is not available: `{{user.token}}` placeholders cannot resolve.
 */
export function executionAuthUser(u: ExecutionUser): AuthUser {
  return { id: u.id, username: u.username, name: u.name, email: '', roles: [], projects: [], adminProjects: [], isAdmin: false, userType: 'regular' };
}
