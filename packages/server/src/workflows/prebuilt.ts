/**
 * Prebuilt workflow templates shipped with the product (`GET /v1/workflows/prebuilt`,
 * `/v1/workflows/prebuilt/{slug}`). Each is a template document in the reference's format — the
 * workflow's fields at the top, its `yaml_config` under `execution_config` — written here (our
 * own texts) so it ships with the compiled code. Every template validates and runs with inline
 * (virtual) assistants only, on the platform's default model; the tests check both.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface PrebuiltTemplate {
  slug: string;
  name: string;
  description: string;
  mode: string;
  icon_url: string | null;
  start_hint: string | null;
  video_link: string | null;
  categories: string[];
  /** The workflow document (what a workflow created from the template saves as its yaml_config). */
  yaml_config: string;
}

const SOURCES = [
  `
name: Code Review Pipeline
slug: template-code-review-pipeline
description: |
  Reviews a change in two passes: a reviewer lists the problems it finds, then a writer turns
  them into a short, prioritised review comment.
mode: Sequential
categories: [engineering, quality-assurance]
start_hint: Paste a diff or a piece of code to review.
execution_config:
  assistants:
    - id: reviewer
      system_prompt: |
        You are a senior engineer reviewing code. List correctness problems, security issues and
        unclear code, one per line, with the line they concern. Do not praise.
    - id: writer
      system_prompt: You write short, kind and precise code review comments.
  states:
    - id: review
      assistant_id: reviewer
      task: "Review this change: {{user_input}}"
      next:
        state_id: comment
        output_key: findings
    - id: comment
      assistant_id: writer
      task: |
        Write a review comment from these findings, most important first:
        {{findings}}
      next:
        state_id: end
`,
  `
name: Document Batch Summariser
slug: template-document-batch-summariser
description: |
  Splits the input into its documents, summarises each one in parallel (iter_key), then merges
  the summaries into one digest.
mode: Sequential
categories: [knowledge-management]
start_hint: Paste several documents separated by blank lines.
execution_config:
  assistants:
    - id: splitter
      system_prompt: You split text into separate documents.
    - id: summariser
      system_prompt: You summarise one document in two sentences.
    - id: editor
      system_prompt: You merge summaries into a short digest with one bullet per document.
  states:
    - id: split
      assistant_id: splitter
      task: "Split this input into its documents: {{user_input}}"
      output_schema: |
        \`\`\`json
        {"type": "object", "properties": {"documents": {"type": "array", "items": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}}, "required": ["documents"]}
        \`\`\`
      next:
        state_id: summarise
        iter_key: documents
    - id: summarise
      assistant_id: summariser
      task: "Summarise: {{text}}"
      next:
        state_id: digest
        output_key: summaries
        append_to_context: true
    - id: digest
      assistant_id: editor
      task: "Merge these summaries: {{summaries}}"
      next:
        state_id: end
`,
  `
name: Support Ticket Triage
slug: template-support-ticket-triage
description: |
  Classifies a support ticket and routes it (switch) to the answer that fits: a bug report, a
  question, or anything else.
mode: Sequential
categories: [support, customer-experience]
start_hint: Paste the text of a support ticket.
execution_config:
  assistants:
    - id: classifier
      system_prompt: You classify support tickets.
    - id: responder
      system_prompt: You answer customers politely and concisely.
  states:
    - id: classify
      assistant_id: classifier
      task: "Classify this ticket: {{user_input}}"
      output_schema: '{"type": "object", "properties": {"category": {"type": "string", "enum": ["bug", "question", "other"]}}, "required": ["category"]}'
      next:
        switch:
          cases:
            - condition: "category == 'bug'"
              state_id: bug
            - condition: "category == 'question'"
              state_id: question
          default: other
    - id: bug
      assistant_id: responder
      task: "Acknowledge the bug report and ask for the steps to reproduce it: {{user_input}}"
      next:
        state_id: end
    - id: question
      assistant_id: responder
      task: "Answer the question: {{user_input}}"
      next:
        state_id: end
    - id: other
      assistant_id: responder
      task: "Thank the customer and say a person will follow up: {{user_input}}"
      next:
        state_id: end
`,
  `
name: Research Brief
slug: template-research-brief
description: |
  Looks at a topic from two angles in parallel (state_ids), then joins both into one brief,
  with a human review before the final write-up (interrupt_before).
mode: Sequential
categories: [business-analysis, product-management]
start_hint: Name a topic or a product idea.
execution_config:
  assistants:
    - id: analyst
      system_prompt: You are a careful analyst.
  states:
    - id: plan
      assistant_id: analyst
      task: "List the questions worth answering about: {{user_input}}"
      next:
        state_ids: [benefits, risks]
    - id: benefits
      assistant_id: analyst
      task: "What are the benefits of: {{user_input}}"
      next:
        state_id: brief
    - id: risks
      assistant_id: analyst
      task: "What are the risks of: {{user_input}}"
      next:
        state_id: brief
    - id: brief
      assistant_id: analyst
      interrupt_before: true
      task: Write a one-page brief from the analysis so far.
      next:
        state_id: end
`,
];

function load(src: string): PrebuiltTemplate {
  const d = parseYaml(src) as Record<string, unknown>;
  return {
    slug: String(d.slug),
    name: String(d.name),
    description: String(d.description ?? '').trim(),
    mode: String(d.mode ?? 'Sequential'),
    icon_url: (d.icon_url as string | undefined) ?? null,
    start_hint: (d.start_hint as string | undefined) ?? null,
    video_link: (d.video_link as string | undefined) ?? null,
    categories: (d.categories as string[] | undefined) ?? [],
    yaml_config: stringifyYaml(d.execution_config, { lineWidth: 0 }),
  };
}

/** The templates, sorted by name as the reference sorts them. */
export const PREBUILT_WORKFLOWS: PrebuiltTemplate[] = SOURCES.map(load).sort((a, b) => a.name.localeCompare(b.name));
