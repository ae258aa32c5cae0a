/**
 * Scripted-LLM rule for knowledge-base calls: a request offering a `search_kb_*` tool and holding
 * no tool result yet gets a call of that tool with the user's question; once the tool answered,
 * the reply cites the first chunk the search returned (`**Source:**<file>-<n>` and its first line).
 */
import type { RecordedRequest, ScriptedReply } from '../../../packages/server/test/llm-server.js';

const text = (c: unknown) => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join(' ') : '');

export function kbRule(req: RecordedRequest): ScriptedReply | undefined {
  const tool = req.tools.find((t) => t.function.name.startsWith('search_kb_'));
  if (!tool) return undefined;
  const result = req.messages.find((m) => m.role === 'tool');
  if (!result) {
    const question = text([...req.messages].reverse().find((m) => m.role === 'user')?.content);
    return { toolCalls: [{ name: tool.function.name, arguments: { query: question } }] };
  }
  const out = text(result.content);
  const m = /\*\*Source:\*\*(\S+)\n\*\*File Content:\*\* \n([^\n]*)/.exec(out);
  return { text: m ? `According to ${m[1]}: ${m[2]}` : 'The knowledge base has nothing on that.' };
}
