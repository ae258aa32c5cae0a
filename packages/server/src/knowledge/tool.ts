/**
 * The search tool an assistant gets for each knowledge base in its `context` (and a workflow
 * assistant for each of its `datasource_ids`): `search_kb_<name>` with one `query` argument; its
 * output (the reference's format, with file name and chunk number of every chunk) is what the tool
 * thought shows, so the chunks an answer used are cited there.
 */
import { createHash } from 'node:crypto';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { AgentTool } from '../llm/tool.js';
import type { DatasourceRow } from './store.js';
import { contextTypeOf, type KnowledgeService } from './service.js';

export function toolNameOf(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .replace(/^_+|_+$/g, '');
  const full = `search_kb_${s}`;
  if (full.length <= 64) return full;
  const n = BigInt(`0x${createHash('sha256').update(name).digest('hex')}`) % 100_000_000n;
  return `search_kb_${n}`;
}

function descriptionOf(ds: DatasourceRow): string {
  let prefix = '';
  if (ds.error === 1) prefix = '[DATASOURCE STATUS: FAILED] Results may be incomplete or missing. Always inform the user about potential data quality issues. ';
  else if (ds.completed !== 1)
    prefix =
      '[DATASOURCE STATUS: REINDEXING] This datasource is currently being re-indexed — results may be incomplete. Always inform the user that data may be partial. ';
  return `${prefix}\n    Use this tool when you need to get or search additional project context to resolve user query.\n    Tool get the following input parameters: "query": string text with detailed user query which will be used to\n    find relevant context.\n    Tool knowledge description: ${ds.description}.\n    `;
}

export function searchTool(svc: KnowledgeService, dsId: string, initial: DatasourceRow): AgentTool {
  return {
    name: toolNameOf(initial.repo_name),
    description: descriptionOf(initial),
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: "String text. It's raw detailed user input text query which will be used to find relevant context." },
      },
      required: ['query'],
      additionalProperties: false,
    },
    async execute(args) {
      const ds = await svc.store.get(dsId);
      if (!ds) return { output: `The datasource '${initial.repo_name}' no longer exists.`, isError: true };
      if (ds.error === 1) {
        return {
          output: `The datasource '${ds.repo_name}' last indexing attempt failed. Error: ${ds.text}. Results may be incomplete, stale, or missing entirely.\n\n`,
          isError: true,
        };
      }
      const query = typeof args.query === 'string' ? args.query : '';
      try {
        const text = await svc.searchText(ds, query);
        const notice =
          ds.completed !== 1 ? `The datasource '${ds.repo_name}' is currently being re-indexed. Results may be incomplete or reflect outdated data.\n\n` : '';
        return { output: notice + text, isError: false };
      } catch (err) {
        return { output: `An error occurred while search over datasource: ${(err as Error).message}`, isError: true };
      }
    },
  };
}

const missingContextHelp =
  'We apologize for the inconvenience. Here are some steps you can try:\n1. Check if the given datasource context is not deleted.\n2. Check if the correct datasource context is specified for the assistant.\nIf you continue to experience issues, please contact our support team with the timestamp of your request and any error messages you received.';

/**
 * The tools for an assistant's `context` (knowledge_base entries of its project). A name with no
 * datasource in the project → the reference's 500 "Assistant Error" before the call starts.
 */
export async function contextTools(svc: KnowledgeService, project: string, context: unknown, missingStatus: 400 | 500 = 500): Promise<AgentTool[]> {
  const entries = (Array.isArray(context) ? context : []).filter(
    (c): c is { context_type: string; name: string } => !!c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string',
  );
  if (!entries.length) return [];
  const rows = await svc.store.inProject(project);
  const missing = entries.filter((e) => !rows.some((r) => r.repo_name === e.name && contextTypeOf(r.index_type) === (e.context_type ?? 'knowledge_base')));
  if (missing.length) {
    throw new ApiError(
      missingStatus,
      'Assistant Error',
      `An error occurred during assistant initialization: Cannot initialize assistant, missed datasource context in system: \n${missing.map((m) => ` - Datasource name: **${m.name}**`).join('\n')}\n`,
      missingContextHelp,
    );
  }
  const tools: AgentTool[] = [];
  const names = new Set<string>();
  for (const e of entries) {
    if ((e.context_type ?? 'knowledge_base') !== 'knowledge_base') continue; // code / provider tools: not on this platform
    const row = rows.filter((r) => r.repo_name === e.name && contextTypeOf(r.index_type) === 'knowledge_base').sort((a, b) => (a.date < b.date ? 1 : -1))[0];
    const tool = searchTool(svc, row.id, row);
    if (names.has(tool.name)) continue;
    names.add(tool.name);
    tools.push(tool);
  }
  return tools;
}

/** Workflow assistants' `datasource_ids`: unknown ids or ones the user may not read fail the state. */
export async function datasourceTools(svc: KnowledgeService, ids: string[], user: AuthUser): Promise<AgentTool[]> {
  const tools: AgentTool[] = [];
  for (const id of [...new Set(ids)]) {
    const row = await svc.getRow(user, id).catch(() => null);
    if (!row) throw new Error(`Datasource ${id} not found`);
    tools.push(searchTool(svc, row.id, row));
  }
  return tools;
}
