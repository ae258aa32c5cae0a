/**
 * `POST /v1/workflows/generate`: a workflow document from a description, written by the
 * configured model (the request's `llm_model`, else the default). The answer is validated as a
 * save would validate it; an invalid one is sent back to the model with the validation error, up
 * to GENERATE_ATTEMPTS times in all, and never returned or saved. `persist: true` saves the
 * valid result as a new workflow in the user's first project.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ApiError } from '../api/errors.js';
import type { ChatMessage } from '../llm/types.js';
import { isPlainObject } from './template.js';

export const GENERATE_ATTEMPTS = 3;

export const GENERATOR_SYSTEM_PROMPT = `You design workflows for a workflow engine. Answer with ONE YAML document in a \`\`\`yaml fenced block and nothing else. Its shape:

name: <short name>
description: <one or two sentences>
execution_config:
  assistants:            # inline (virtual) assistants
    - id: <id>
      system_prompt: <role of the assistant>
  states:                # the first state starts the run
    - id: <id>
      assistant_id: <an assistant id above>
      task: <instruction; may use {{user_input}} and {{key}} from earlier structured outputs>
      output_schema: '<optional JSON Schema object as a string>'
      next:              # exactly one of:
        state_id: <next state id or end>
        # state_ids: [<a>, <b>]                 run in parallel, then join
        # condition: {expression: "<python-like expression>", then: <id>, otherwise: <id>}
        # switch: {cases: [{condition: "<expr>", state_id: <id>}], default: <id>}
        # iter_key: <list key of this state's JSON output>  (with state_id: one branch per item)
        # output_key: <key under which this output is stored>

Rules: every state is reachable from the first and can reach end; every id referenced exists; do not use iter_key together with state_ids, condition or switch; keep it as small as the description allows.`;

export interface GeneratedWorkflow {
  name: string;
  description: string;
  yaml_config: string;
}

/** The workflow in a model's answer (a fenced or bare YAML document); throws a message for the model. */
export function readGenerated(text: string): GeneratedWorkflow {
  const fence = /```(?:ya?ml)?[ \t]*\r?\n([\s\S]*?)```/.exec(text);
  const src = (fence ? fence[1] : text).trim();
  let doc: unknown;
  try {
    doc = parseYaml(src, { maxAliasCount: 100 });
  } catch (err) {
    throw new Error(`The answer is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isPlainObject(doc)) throw new Error('The answer must be a YAML mapping with name, description and execution_config.');
  const exec = isPlainObject(doc.execution_config) ? doc.execution_config : Array.isArray(doc.states) ? { ...doc } : null;
  if (!exec) throw new Error('The answer has no execution_config with states.');
  delete (exec as Record<string, unknown>).name;
  delete (exec as Record<string, unknown>).description;
  return {
    name: typeof doc.name === 'string' && doc.name.trim() ? doc.name.trim().slice(0, 500) : 'Generated workflow',
    description: typeof doc.description === 'string' ? doc.description.trim() : '',
    yaml_config: stringifyYaml(exec, { lineWidth: 0 }),
  };
}

export interface GenerateDeps {
  /** One model answer to the conversation so far. */
  complete(model: string | null, system: string, messages: ChatMessage[], signal: AbortSignal): Promise<string>;
  /** Throws the save-time validation error (an ApiError) for an invalid document. */
  validate(yaml: string): Promise<void>;
}

export async function generateWorkflow(deps: GenerateDeps, text: string, model: string | null, signal: AbortSignal): Promise<GeneratedWorkflow> {
  const messages: ChatMessage[] = [{ role: 'user', content: `Design a workflow for this description:\n\n${text}` }];
  let last = '';
  for (let attempt = 1; attempt <= GENERATE_ATTEMPTS; attempt++) {
    const answer = await deps.complete(model, GENERATOR_SYSTEM_PROMPT, messages, signal);
    let problem: string;
    try {
      const wf = readGenerated(answer);
      await deps.validate(wf.yaml_config);
      return wf;
    } catch (err) {
      if (err instanceof ApiError && err.status !== 400) throw err;
      problem = err instanceof ApiError ? String(err.details) : (err as Error).message;
    }
    last = problem;
    messages.push(
      { role: 'assistant', content: answer },
      { role: 'user', content: `That workflow is invalid: ${problem}\nAnswer again with the corrected YAML document only.` },
    );
  }
  // 502: the upstream model did not deliver (the reference answers 500; a 5xx other than 502-504
  // reads as a server bug here, see docs/workflows.md)
  throw new ApiError(
    502,
    'Workflow generation failed',
    `The model did not produce a valid workflow in ${GENERATE_ATTEMPTS} attempts. Last problem: ${last}`,
    'Rephrase the description (name the steps and how they connect) or choose another llm_model, and try again.',
  );
}
