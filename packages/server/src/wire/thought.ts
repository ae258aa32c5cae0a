/** Thoughts in the reference's wire shape (snake_case, every key present), as streamed and stored. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export interface Thought {
  id: string;
  parent_id: string | null;
  metadata: Record<string, unknown>;
  in_progress: boolean;
  input_text: string;
  message: string;
  author_type: 'Tool' | 'Agent' | 'System';
  author_name: string;
  output_format: 'text' | 'json' | 'markdown';
  error: boolean;
  interrupted: boolean;
  aborted: boolean;
  children: Thought[];
}

export const thoughtSchema: z.ZodType<Thought> = z
  .object({
    id: z.string(),
    parent_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    in_progress: z.boolean(),
    input_text: z.string(),
    message: z.string(),
    author_type: z.enum(['Tool', 'Agent', 'System']),
    author_name: z.string(),
    output_format: z.enum(['text', 'json', 'markdown']),
    error: z.boolean(),
    interrupted: z.boolean(),
    aborted: z.boolean(),
    get children() {
      return z.array(thoughtSchema);
    },
  })
  .meta({ id: 'Thought' });

export const ANSWER_AUTHOR = 'Codemie Thoughts';

export function thought(p: Partial<Thought> & Pick<Thought, 'author_name'>): Thought {
  return {
    id: p.id ?? randomUUID(),
    parent_id: p.parent_id ?? null,
    metadata: p.metadata ?? {},
    in_progress: p.in_progress ?? false,
    input_text: p.input_text ?? '',
    message: p.message ?? '',
    author_type: p.author_type ?? 'Tool',
    author_name: p.author_name,
    output_format: p.output_format ?? 'text',
    error: p.error ?? false,
    interrupted: p.interrupted ?? false,
    aborted: p.aborted ?? false,
    children: p.children ?? [],
  };
}

/** "get_weather" → "Get Weather" (the reference title-cases tool names for thoughts). */
export function toolTitle(name: string): string {
  // The reference: name.replace("_", " ").title() (Python: a letter after any non-letter is upper-cased, the others lower-cased).
  let out = '';
  let prevLetter = false;
  for (const ch of name.replace(/_/g, ' ').trim()) {
    const letter = ch.toLowerCase() !== ch.toUpperCase();
    out += letter ? (prevLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevLetter = letter;
  }
  return out;
}
