/**
 * Catalogs the assistant editor reads: built-in subagents, the toolkits assistants can use
 * (`GET /assistants/tools`) and the datasources an assistant can take as context
 * (`GET /assistants/context`). Toolkits and datasources belong to their own domains, which fill
 * these seams in modules.ts; until they do, the lists are empty (valid answers).
 */

export interface BuiltinSubagent {
  id: 'GENERAL_PURPOSE_SUBAGENT';
  display_name: string;
  system_prompt: string;
}

export const BUILTIN_SUBAGENTS: BuiltinSubagent[] = [
  {
    id: 'GENERAL_PURPOSE_SUBAGENT',
    display_name: 'General Purpose',
    system_prompt: [
      'You are a general-purpose helper working for another assistant (the supervisor).',
      'You receive one subtask from it. Work only on that subtask, using your tools when they help.',
      'If the subtask is unclear, say what is missing in one short question instead of guessing.',
      'Answer with a concise, complete result the supervisor can use directly.',
    ].join('\n'),
  },
];

/** A tool of a toolkit as the reference lists it (`ToolKitDetails.tools[]`). */
export interface ToolkitTool {
  name: string;
  label?: string;
  settings_config: boolean;
  description?: string;
  user_description?: string;
}

/** A toolkit (`GET /v1/assistants/tools` item). */
export interface Toolkit {
  toolkit: string;
  tools: ToolkitTool[];
  label: string;
  settings_config: boolean;
  is_external: boolean;
}

/** The platform's toolkit catalog (filled by the toolkits domain). */
export type ToolkitCatalog = () => Toolkit[] | Promise<Toolkit[]>;
export const emptyToolkitCatalog: ToolkitCatalog = () => [];

/** A datasource an assistant can use as context (`GET /v1/assistants/context` item). */
export interface ContextEntry {
  id: string;
  name: string;
  context_type: 'knowledge_base' | 'code' | 'provider';
}

/** The project's datasources visible to a user (filled by the datasources domain). */
export type ContextCatalog = (project: string, user: import('../api/auth.js').AuthUser) => Promise<ContextEntry[]>;
export const emptyContextCatalog: ContextCatalog = async () => [];
