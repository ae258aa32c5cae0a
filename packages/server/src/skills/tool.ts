/**
 * How attached skills reach the model (reference agents/tools/skill/skill_tool.py): not in the
 * system prompt, but as a `skill` tool whose description lists the attached skills (name:
 * description); calling it with a name returns that skill's instructions wrapped in
 * `<skill_content>`. A `skill_file` tool loads one companion file. Each load is a `use` event.
 */
import type { AuthUser } from '../api/auth.js';
import type { AgentTool } from '../llm/tool.js';
import type { SkillService } from './service.js';

const DESCRIPTION = (list: string) => `Load a skill to get specialized domain knowledge and instructions.

Skills provide context-specific best practices, code examples, and step-by-step guidance.
For complex tasks, you can load several skills one after another: each call loads a single skill.

Available skills:
${list}

Use this tool when a task needs the expertise one of the available skills provides.
Example: skill: 'api-testing' to get REST API testing patterns.`;

const FILE_DESCRIPTION = `Load a specific file from a skill.

Use this after the skill tool when the loaded skill mentions files such as references or assets.
Give the skill name and the relative file path to load only the file you need.
Skill files do not change: a file loaded once need not be loaded again.`;

export interface SkillToolContext {
  user: AuthUser;
  assistantId: string;
  project: string;
  conversationId?: string;
  log?: { warn(obj: unknown, msg: string): void };
}

export async function skillTools(svc: SkillService, skillIds: string[], ctx: SkillToolContext): Promise<AgentTool[]> {
  if (!skillIds.length) return [];
  const skills = await svc.readableMany(skillIds, ctx.user);
  if (!skills.length) return [];
  const names = skills.map((s) => s.name);
  const find = (name: unknown) => skills.find((s) => s.name === name);
  const notFound = (name: unknown) => ({ output: `Error: Skill '${String(name)}' not found. Available skills: ${JSON.stringify(names)}`, isError: true });
  const record = (s: (typeof skills)[number], success: boolean, error?: string) =>
    svc
      .recordUse(s, { user: ctx.user, assistantId: ctx.assistantId, project: ctx.project, conversationId: ctx.conversationId, success, error })
      .catch((err: unknown) => ctx.log?.warn({ err, skillId: s.id }, 'could not record skill use'));
  const tools: AgentTool[] = [
    {
      name: 'skill',
      description: DESCRIPTION(skills.map((s) => `- ${s.name}: ${s.description}`).join('\n')),
      inputSchema: {
        type: 'object',
        properties: { skill: { type: 'string', description: "The name of the skill to load. Example: 'api-testing', 'code-review'" } },
        required: ['skill'],
      },
      readOnly: true,
      async execute(args) {
        const listed = find(args.skill);
        if (!listed) return notFound(args.skill);
        // The current text: the skill may have been edited since the call started.
        const s = (await svc.readableMany([listed.id], ctx.user))[0];
        if (!s) return { output: `Error: Could not load skill '${listed.name}'`, isError: true };
        await record(s, true);
        return { output: `<skill_content name="${s.name}">\n# Skill: ${s.name}\n\n${s.content}\n</skill_content>`, isError: false };
      },
    },
  ];
  if (skills.some((s) => s.companion_files.length)) {
    tools.push({
      name: 'skill_file',
      description: FILE_DESCRIPTION,
      inputSchema: {
        type: 'object',
        properties: {
          skill: { type: 'string', description: 'The name of the skill that owns the requested file' },
          path: { type: 'string', description: "Relative file path, e.g. 'references/writing-guidelines.md'" },
        },
        required: ['skill', 'path'],
      },
      readOnly: true,
      async execute(args) {
        const s = find(args.skill);
        if (!s) return notFound(args.skill);
        const p = String(args.path ?? '');
        try {
          const f = await svc.companionFile(s.id, p, ctx.user);
          await record(s, true);
          return {
            output: `<skill_file skill="${s.name}" path="${f.path}" mime_type="${f.mime_type}" encoding="${f.encoding}">\n${f.content}\n</skill_file>`,
            isError: false,
          };
        } catch {
          const available = s.companion_files.map((f) => f.path);
          const more = available.length ? ` Available companion files: ${available.join(', ')}.` : ' This skill has no companion files.';
          await record(s, false, 'companion file not found');
          return { output: `Error: There is no companion file '${p}' in skill '${s.name}'.${more}`, isError: true };
        }
      },
    });
  }
  return tools;
}
