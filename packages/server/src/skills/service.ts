/**
 * Skills (reference service/skill_service.py, skill_event_service.py): CRUD with the visibility
 * rules (private: owner; project: members of its project; public: everyone; owner, project admin
 * and platform admin write), import/export of the `SKILL.md` format (YAML frontmatter with
 * `name` and `description`, the body is the content), companion files, attaching to assistants
 * (the assistant's `skill_ids`), reactions, marketplace publishing, the lifecycle event log and its
 * stats, and instructions drafted by the configured model.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import { abilities, canAccessProject, type Ability, type EntityAccess } from '../auth/access.js';
import { runToEnd } from '../llm/collect.js';
import type { LlmService } from '../llm/types.js';
import {
  BUNDLE_MAX_FILE_COUNT,
  BUNDLE_MAX_FILE_SIZE_BYTES,
  BUNDLE_MAX_TOTAL_SIZE_BYTES,
  MAX_CONTENT_LENGTH,
  MIN_CONTENT_LENGTH,
  NAME_PATTERN,
  SKILL_CATEGORIES,
  type CreateSkillBody,
  type SkillEventBody,
  type UpdateSkillBody,
} from './schemas.js';
import type { CompanionFile, SkillRecord, SkillStore, Viewer, Visibility } from './store.js';

/** What the skills domain needs of assistants (filled in modules.ts from the assistants service). */
export interface SkillAssistants {
  get(id: string): Promise<{ id: string; name: string; skill_ids: string[] } | undefined>;
  /** Abilities of the user on the assistant (owner / project admin / admin write). */
  abilities(id: string, user: AuthUser): Promise<Ability[]>;
  setSkillIds(id: string, ids: string[]): Promise<void>;
  /** Assistants whose skill_ids name this skill (every one with a skill when no id), with the list-item answer for the user. */
  usingSkill(skillId: string | null, user: AuthUser): Promise<Array<{ id: string; skill_ids: string[]; readable: boolean; item: unknown }>>;
}

export const noSkillAssistants: SkillAssistants = {
  get: async () => undefined,
  abilities: async () => [],
  setSkillIds: async () => undefined,
  usingSkill: async () => [],
};

const MSG_SKILL_NOT_FOUND = 'Skill not found';
const HELP_VERIFY_SKILL_ID = 'Verify the skill ID or list available skills';
const PERMISSION_DENIED = 'Permission denied';
const INVALID_SKILL_FORMAT = 'Invalid skill format';
const MISSING_FRONTMATTER_FIELDS = "Skill file must have 'name' and 'description' in YAML frontmatter";

const skillNotFound = (id: string) => new ApiError(404, MSG_SKILL_NOT_FOUND, `No skill found with ID '${id}'`, HELP_VERIFY_SKILL_ID);
const assistantNotFound = (id: string) => new ApiError(404, 'Assistant not found', `No assistant found with ID '${id}'`, 'Verify the assistant ID');
const bad = (message: string, details: string, help: string) => new ApiError(400, message, details, help);

export function skillAccess(s: SkillRecord): EntityAccess {
  return { createdBy: s.created_by.id, project: s.project, shared: s.visibility === 'project', isGlobal: s.visibility === 'public' };
}

const viewerOf = (u: AuthUser): Viewer => ({ id: u.id, isAdmin: u.isAdmin, projects: u.projects, adminProjects: u.adminProjects });

export interface ListOptions {
  filters: Record<string, unknown>;
  assistantId?: string;
  page: number;
  perPage: number;
  sortBy?: 'created_date' | 'assistants_count' | 'relevance';
}

/** The reference's 4-level relevance: own non-public, own public, others' non-public, others' public. */
function relevanceRank(s: SkillRecord, user: AuthUser): number {
  const own = s.created_by.id === user.id;
  const pub = s.visibility === 'public';
  return own ? (pub ? 1 : 0) : pub ? 3 : 2;
}

export function slugOf(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export interface FrontmatterResult {
  name: string | null;
  description: string | null;
  content: string;
}

/** `---` YAML `---` then the body (the reference's SKILL.md format). */
export function parseFrontmatter(text: string): FrontmatterResult {
  if (!text.startsWith('---')) {
    throw bad(INVALID_SKILL_FORMAT, 'File must start with YAML frontmatter (---)', "Add YAML frontmatter with 'name' and 'description' fields");
  }
  const lines = text.split('\n');
  let end = -1;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === '---') {
      end = i;
      break;
    }
  }
  if (end < 0) {
    throw bad(
      INVALID_SKILL_FORMAT,
      'Could not find closing YAML frontmatter delimiter (---)',
      'Ensure YAML frontmatter is properly delimited with --- at start and end',
    );
  }
  let meta: unknown;
  try {
    meta = parseYaml(lines.slice(1, end).join('\n')) ?? {};
  } catch (err) {
    throw bad(INVALID_SKILL_FORMAT, `Failed to parse YAML frontmatter: ${(err as Error).message}`, 'Ensure the YAML frontmatter is valid');
  }
  const m = meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' && v ? v : v == null ? null : String(v));
  return {
    name: str(m.name),
    description: str(m.description),
    content: lines
      .slice(end + 1)
      .join('\n')
      .trim(),
  };
}

/** A companion file path: relative, normalized, no `..`, no absolute or drive paths. */
function normalizeCompanionPath(p: string): string {
  const unix = p.replace(/\\/g, '/').trim();
  const norm = path.posix.normalize(unix).replace(/^(\.\/)+/, '');
  if (!norm || norm === '.' || norm.startsWith('/') || /^[a-zA-Z]:/.test(norm) || norm.split('/').includes('..') || /[\u0000-\u001f]/.test(norm)) {
    throw bad(
      'Invalid companion file path',
      `Companion file path '${p}' must be a relative path inside the skill bundle`,
      'Use a relative path such as references/guide.md',
    );
  }
  return norm;
}

const MIME: Record<string, string> = {
  '.md': 'text/markdown',
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.py': 'text/x-python',
  '.js': 'text/javascript',
  '.ts': 'text/plain',
  '.html': 'text/html',
  '.csv': 'text/csv',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
};

function companionFiles(payloads: Array<{ path: string; encoding: 'text' | 'base64'; content: string }>): CompanionFile[] {
  const seen = new Set<string>();
  let total = 0;
  const out: CompanionFile[] = [];
  for (const f of payloads) {
    const p = normalizeCompanionPath(f.path);
    if (p.toLowerCase() === 'skill.md') {
      throw bad(
        'Invalid companion file path',
        "Companion files cannot use the reserved path 'SKILL.md'",
        'Keep the main skill instructions in the skill content field and store only supporting files here',
      );
    }
    if (seen.has(p))
      throw bad(
        'Duplicate companion file path',
        `Companion file path '${p}' was provided more than once`,
        'Ensure each bundled file path is unique within the skill',
      );
    seen.add(p);
    let size: number;
    if (f.encoding === 'base64') {
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(f.content)) {
        throw bad('Invalid companion file', `Companion file '${p}' is not valid base64`, "Send base64 content or use encoding 'text'");
      }
      size = Buffer.from(f.content, 'base64').length;
    } else size = Buffer.byteLength(f.content, 'utf8');
    if (size > BUNDLE_MAX_FILE_SIZE_BYTES) {
      throw bad('Companion file too large', `Companion file '${p}' has ${size} bytes; the limit is ${BUNDLE_MAX_FILE_SIZE_BYTES}`, 'Split or shrink the file');
    }
    total += size;
    out.push({
      path: p,
      mime_type: MIME[path.posix.extname(p).toLowerCase()] ?? 'application/octet-stream',
      encoding: f.encoding,
      size_bytes: size,
      content: f.content,
    });
  }
  if (out.length > BUNDLE_MAX_FILE_COUNT)
    throw bad('Too many companion files', `At most ${BUNDLE_MAX_FILE_COUNT} companion files are allowed`, 'Remove some files');
  if (total > BUNDLE_MAX_TOTAL_SIZE_BYTES) {
    throw bad('Skill bundle too large', `Companion files total ${total} bytes; the limit is ${BUNDLE_MAX_TOTAL_SIZE_BYTES}`, 'Remove or shrink some files');
  }
  return out;
}

const INSTRUCTIONS_SYSTEM = [
  'You write instructions for an AI assistant "skill": a reusable, self-contained set of directions the assistant loads when a task calls for it.',
  'Answer with the instructions only, in Markdown, without a preamble and without a YAML frontmatter. Use these sections:',
  '## Overview (one sentence on what the skill enables)',
  '## Important (only rules that are truly critical, as bullet points; leave the section out when there are none)',
  '## Instructions (numbered steps "### Step N: <action>", each with an explanation, a concrete example and the expected result)',
  '## Examples (at least two: the situation, what the user says, the actions, the result)',
  '## Troubleshooting (common problems: cause and solution; leave it out when there is nothing useful to say)',
  'Be specific and practical; do not invent tools or facts the description does not support.',
].join('\n');

export class SkillService {
  constructor(
    private readonly store: SkillStore,
    private readonly llm: LlmService,
    private assistants: SkillAssistants = noSkillAssistants,
  ) {}

  useAssistants(a: SkillAssistants): void {
    this.assistants = a;
  }

  // ── access ──

  private async getOr404(id: string): Promise<SkillRecord> {
    const s = await this.store.get(id);
    if (!s) throw skillNotFound(id);
    return s;
  }

  private require(user: AuthUser, s: SkillRecord, action: Ability): void {
    if (!abilities(user, skillAccess(s)).includes(action)) {
      throw new ApiError(
        403,
        PERMISSION_DENIED,
        `User does not have ${action} access to skill '${s.name}'`,
        'Contact the skill owner or project manager to request access',
      );
    }
  }

  async readable(id: string, user: AuthUser): Promise<SkillRecord> {
    const s = await this.getOr404(id);
    this.require(user, s, 'read');
    return s;
  }

  /** Skills by id the user may read (missing and unreadable ones are left out), in the order asked. */
  async readableMany(ids: string[], user: AuthUser): Promise<SkillRecord[]> {
    const found = await this.store.getMany(ids);
    return ids.map((id) => found.find((s) => s.id === id)).filter((s): s is SkillRecord => !!s && abilities(user, skillAccess(s)).includes('read'));
  }

  // ── responses ──

  private async assistantCounts(user: AuthUser): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const a of await this.assistants.usingSkill(null, user)) for (const id of new Set(a.skill_ids)) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  listItem(s: SkillRecord, user: AuthUser, assistantsCount: number, attached = false) {
    return {
      id: s.id,
      name: s.name,
      description: s.description,
      project: s.project,
      visibility: s.visibility,
      created_by: { ...s.created_by, user_id: s.created_by.id },
      categories: s.categories.filter((c) => (SKILL_CATEGORIES as readonly string[]).includes(c)),
      createdDate: s.created_date,
      updatedDate: s.updated_date,
      is_attached: attached,
      assistants_count: assistantsCount,
      user_abilities: abilities(user, skillAccess(s)),
      unique_likes_count: s.unique_likes_count,
      unique_dislikes_count: s.unique_dislikes_count,
    };
  }

  private async detail(s: SkillRecord, user: AuthUser) {
    const count = (await this.assistants.usingSkill(s.id, user)).length;
    const { is_attached: _a, ...base } = this.listItem(s, user, count);
    return {
      ...base,
      content: s.content,
      display_name: null,
      toolkits: s.toolkits,
      mcp_servers: s.mcp_servers,
      companion_files: s.companion_files.map(({ content: _c, ...meta }) => meta),
      enabled_builtin_subagents: s.enabled_builtin_subagents,
    };
  }

  // ── listing ──

  async list(user: AuthUser, o: ListOptions) {
    const f = o.filters;
    const scope = typeof f.scope === 'string' ? f.scope : undefined;
    let project: string[] | undefined;
    let marketplace: 'default' | 'exclude' | 'include' = 'default';
    let visibility = typeof f.visibility === 'string' ? f.visibility : undefined;
    let derivedVisibility: string | undefined;
    if (scope === 'marketplace') derivedVisibility = 'public';
    else if (scope === 'project') marketplace = 'exclude';
    else if (scope === 'project_with_marketplace') marketplace = 'include';
    else if (scope && user.projects.includes(scope)) project = [scope];
    if (f.project) project = Array.isArray(f.project) ? f.project.filter((p): p is string => typeof p === 'string' && !!p) : [String(f.project)];
    if (marketplace === 'include' && !project?.length) {
      throw bad(
        'Invalid scope configuration',
        "The 'project_with_marketplace' scope requires a 'project' filter to be specified",
        "Add a 'project' filter with at least one project name",
      );
    }
    if (!visibility && derivedVisibility) visibility = derivedVisibility;
    if (visibility && !['private', 'project', 'public'].includes(visibility)) {
      throw bad('Invalid visibility value', 'Visibility must be one of: private, project, public', 'Check the visibility filter value');
    }
    let categories: string[] | undefined;
    if (f.categories) {
      if (!Array.isArray(f.categories)) throw bad('Invalid categories format', 'Categories must be an array of strings', 'Check the categories filter format');
      const wrong = f.categories.find((c) => !(SKILL_CATEGORIES as readonly unknown[]).includes(c));
      if (wrong !== undefined) {
        throw bad(
          'Invalid category value',
          `Invalid category in list: '${String(wrong)}' is not a valid SkillCategory`,
          `Categories must be one of: ${SKILL_CATEGORIES.join(', ')}`,
        );
      }
      categories = f.categories as string[];
    }
    const search = typeof f.search === 'string' && f.search ? f.search.toLowerCase() : undefined;
    const createdBy = typeof f.created_by === 'string' && f.created_by ? f.created_by : undefined;
    let sortBy = o.sortBy;
    if (!sortBy) sortBy = scope === 'marketplace' || visibility === 'public' ? 'assistants_count' : 'created_date';

    let rows = await this.store.accessible(viewerOf(user));
    rows = rows.filter((s) => {
      if (visibility && s.visibility !== visibility) return false;
      if (marketplace === 'exclude' && s.visibility === 'public') return false;
      if (project?.length) {
        const inProject = project.includes(s.project);
        // With marketplace included, public skills of any project come along; a relevance sort shows the user's own everywhere.
        if (!inProject && !(marketplace === 'include' && s.visibility === 'public') && !(sortBy === 'relevance' && s.created_by.id === user.id)) return false;
        // A named project (scope = project name) shows its non-public skills only.
        if (scope && scope === project[0] && !f.project && s.visibility === 'public') return false;
      }
      if (categories?.length && !categories.some((c) => s.categories.includes(c))) return false;
      if (search && !s.name.toLowerCase().includes(search)) return false;
      if (createdBy && s.created_by.name !== createdBy && s.created_by.username !== createdBy) return false;
      return true;
    });
    const counts = await this.assistantCounts(user);
    if (sortBy === 'assistants_count') rows.sort((a, b) => (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0) || b.created_date.localeCompare(a.created_date));
    else if (sortBy === 'relevance') rows.sort((a, b) => relevanceRank(a, user) - relevanceRank(b, user) || b.created_date.localeCompare(a.created_date));
    const attached = new Set(o.assistantId ? ((await this.assistants.get(o.assistantId))?.skill_ids ?? []) : []);
    const total = rows.length;
    const slice = rows.slice(o.page * o.perPage, (o.page + 1) * o.perPage);
    return {
      skills: slice.map((s) => this.listItem(s, user, counts.get(s.id) ?? 0, attached.has(s.id))),
      page: o.page,
      perPage: o.perPage,
      total,
      pages: Math.ceil(total / o.perPage),
    };
  }

  async users(user: AuthUser) {
    const seen = new Map<string, SkillRecord['created_by']>();
    for (const s of await this.store.accessible(viewerOf(user))) if (!seen.has(s.created_by.id)) seen.set(s.created_by.id, s.created_by);
    return [...seen.values()].map((u) => ({ ...u, user_id: u.id })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(id: string, user: AuthUser) {
    return this.detail(await this.readable(id, user), user);
  }

  // ── writes ──

  async create(body: CreateSkillBody, user: AuthUser) {
    if (!canAccessProject(user, body.project)) {
      throw new ApiError(
        403,
        PERMISSION_DENIED,
        `You don't have access to project '${body.project}'`,
        'Only admins or project members can create skills in a project',
      );
    }
    if (await this.store.byNameAuthorProject(body.name, user.id, body.project)) {
      throw new ApiError(
        409,
        'Skill name already exists',
        `A skill named '${body.name}' already exists for this user in project '${body.project}'`,
        'Choose a different name or update the existing skill',
      );
    }
    const s: SkillRecord = {
      id: randomUUID(),
      name: body.name,
      description: body.description,
      content: body.content,
      project: body.project,
      visibility: body.visibility,
      created_by: { id: user.id, username: user.username, name: user.name || user.username },
      categories: body.categories,
      toolkits: body.toolkits,
      mcp_servers: body.mcp_servers as Array<Record<string, unknown>>,
      companion_files: companionFiles(body.companion_files),
      enabled_builtin_subagents: body.enabled_builtin_subagents,
      unique_likes_count: 0,
      unique_dislikes_count: 0,
      created_date: new Date().toISOString(),
      updated_date: null,
    };
    try {
      await this.store.insert(s);
    } catch (err) {
      // Two creates racing past the check: the unique index decides.
      if (await this.store.byNameAuthorProject(body.name, user.id, body.project)) {
        throw new ApiError(
          409,
          'Skill name already exists',
          `A skill named '${body.name}' already exists for this user in project '${body.project}'`,
          'Choose a different name or update the existing skill',
        );
      }
      throw err;
    }
    return this.detail(s, user);
  }

  async update(id: string, body: UpdateSkillBody, user: AuthUser) {
    const s = await this.getOr404(id);
    this.require(user, s, 'write');
    let project = s.project;
    if (body.project && body.project !== s.project) {
      if (!canAccessProject(user, body.project)) {
        throw new ApiError(
          403,
          PERMISSION_DENIED,
          `You don't have access to project '${body.project}'`,
          'Only admins or project members can move skills to a project',
        );
      }
      project = body.project;
    }
    const name = body.name ?? s.name;
    if (name !== s.name || project !== s.project) {
      if (await this.store.byNameAuthorProject(name, s.created_by.id, project, s.id)) {
        throw new ApiError(
          409,
          'Skill name already exists',
          `A skill named '${name}' already exists in project '${project}'`,
          'Choose a different name or project',
        );
      }
    }
    const next: SkillRecord = {
      ...s,
      name,
      project,
      description: body.description ?? s.description,
      content: body.content ?? s.content,
      visibility: body.visibility ?? s.visibility,
      categories: body.categories ?? s.categories,
      toolkits: body.toolkits ?? s.toolkits,
      mcp_servers: (body.mcp_servers as Array<Record<string, unknown>> | null | undefined) ?? s.mcp_servers,
      companion_files: body.companion_files ? companionFiles(body.companion_files) : s.companion_files,
      enabled_builtin_subagents: body.enabled_builtin_subagents ?? s.enabled_builtin_subagents,
      updated_date: new Date().toISOString(),
    };
    await this.store.update(next);
    return this.detail(next, user);
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    const s = await this.getOr404(id);
    this.require(user, s, 'delete');
    // The skill leaves every assistant that has it.
    for (const a of await this.assistants.usingSkill(id, user)) {
      await this.assistants.setSkillIds(
        a.id,
        a.skill_ids.filter((x) => x !== id),
      );
    }
    await this.store.delete(id);
  }

  async import(body: { file_content: string; filename: string; project: string; visibility: Visibility }, user: AuthUser) {
    let text: string;
    try {
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(body.file_content)) throw new Error('Incorrect padding or non-base64 characters');
      text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body.file_content, 'base64'));
    } catch (err) {
      throw bad('Invalid file encoding', `Failed to decode file: ${(err as Error).message}`, 'Ensure the file is base64-encoded');
    }
    const r = parseFrontmatter(text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'));
    if (!r.name || !r.description) throw bad(INVALID_SKILL_FORMAT, MISSING_FRONTMATTER_FIELDS, "Add 'name' and 'description' fields to the YAML frontmatter");
    if (!NAME_PATTERN.test(r.name))
      throw bad('Invalid skill name', `Name '${r.name}' is not valid kebab-case`, 'Name must be lowercase letters, numbers, and hyphens only.');
    if (r.content.length < MIN_CONTENT_LENGTH) {
      throw bad('Invalid skill content', `Content is too short (${r.content.length} characters). Minimum is 100 characters.`, 'Add more content to the skill');
    }
    if (r.content.length > MAX_CONTENT_LENGTH) {
      throw bad(
        'Invalid skill content',
        `Content is too long (${r.content.length} characters). Maximum is ${MAX_CONTENT_LENGTH} characters.`,
        'Shorten the skill',
      );
    }
    if (r.description.length < 10 || r.description.length > 1000) {
      throw bad('Invalid skill description', 'Description must have between 10 and 1000 characters', 'Adjust the description in the YAML frontmatter');
    }
    return this.create(
      {
        name: r.name,
        description: r.description,
        content: r.content,
        project: body.project,
        visibility: body.visibility,
        categories: [],
        toolkits: [],
        mcp_servers: [],
        companion_files: [],
        enabled_builtin_subagents: [],
      },
      user,
    );
  }

  async export(id: string, user: AuthUser): Promise<{ content: string; filename: string }> {
    const s = await this.readable(id, user);
    return { content: `---\nname: ${s.name}\ndescription: ${s.description}\n---\n\n${s.content}\n`, filename: `${s.name}.md` };
  }

  // ── companion files ──

  async companionList(id: string, user: AuthUser) {
    const s = await this.readable(id, user);
    return s.companion_files.map(({ content: _c, ...meta }) => meta);
  }

  async companionFile(id: string, p: string, user: AuthUser): Promise<CompanionFile> {
    const s = await this.readable(id, user);
    const norm = normalizeCompanionPath(p);
    const f = s.companion_files.find((x) => x.path === norm);
    if (!f) {
      throw new ApiError(
        404,
        'Companion file not found',
        `No companion file found at path '${norm}' for skill '${s.name}'`,
        'List available companion files for this skill and retry with one of those paths',
      );
    }
    return f;
  }

  // ── assistants ──

  private async writableAssistant(assistantId: string, user: AuthUser) {
    const a = await this.assistants.get(assistantId);
    if (!a) throw assistantNotFound(assistantId);
    if (!(await this.assistants.abilities(assistantId, user)).includes('write')) {
      throw new ApiError(403, PERMISSION_DENIED, 'User does not own this assistant', "You do not have permission to modify this assistant's skill attachments");
    }
    return a;
  }

  async attach(assistantId: string, skillId: string, user: AuthUser): Promise<void> {
    const a = await this.writableAssistant(assistantId, user);
    await this.readable(skillId, user);
    if (!a.skill_ids.includes(skillId)) await this.assistants.setSkillIds(a.id, [...a.skill_ids, skillId]);
  }

  async detach(assistantId: string, skillId: string, user: AuthUser): Promise<void> {
    const a = await this.writableAssistant(assistantId, user);
    if (a.skill_ids.includes(skillId))
      await this.assistants.setSkillIds(
        a.id,
        a.skill_ids.filter((x) => x !== skillId),
      );
  }

  async bulkAttach(skillId: string, assistantIds: string[], user: AuthUser) {
    await this.readable(skillId, user);
    let success = 0;
    const failures: Array<{ assistant_id: string; reason: string }> = [];
    for (const id of assistantIds) {
      const a = await this.assistants.get(id);
      if (!a) {
        failures.push({ assistant_id: id, reason: `Assistant not found with ID '${id}'` });
        continue;
      }
      if (!(await this.assistants.abilities(id, user)).includes('write')) {
        failures.push({ assistant_id: id, reason: 'You do not have permission to modify this assistant' });
        continue;
      }
      if (!a.skill_ids.includes(skillId)) {
        await this.assistants.setSkillIds(id, [...a.skill_ids, skillId]);
        success++;
      }
    }
    return {
      message: `Skill attached to ${success} of ${assistantIds.length} assistants`,
      success_count: success,
      total_requested: assistantIds.length,
      failures,
    };
  }

  async assistantSkills(assistantId: string, user: AuthUser) {
    const a = await this.assistants.get(assistantId);
    if (!a) throw assistantNotFound(assistantId);
    if (!a.skill_ids.length) return [];
    const skills = await this.readableMany(a.skill_ids, user);
    const counts = await this.assistantCounts(user);
    return skills.map((s) => this.listItem(s, user, counts.get(s.id) ?? 0, true));
  }

  async skillAssistants(skillId: string, user: AuthUser) {
    await this.readable(skillId, user);
    return (await this.assistants.usingSkill(skillId, user)).filter((a) => a.readable).map((a) => a.item);
  }

  // ── reactions and marketplace ──

  async react(id: string, reaction: 'like' | 'dislike' | null, user: AuthUser) {
    await this.readable(id, user);
    const current = await this.store.reaction(id, user.id);
    const next = reaction && current?.reaction !== reaction ? reaction : null;
    await this.store.setReaction(id, user.id, next, new Date().toISOString());
    const s = await this.getOr404(id);
    return { success: true, reaction: next, like_count: s.unique_likes_count, dislike_count: s.unique_dislikes_count, error: null };
  }

  async publish(id: string, user: AuthUser, categories: string[] | null | undefined): Promise<void> {
    const s = await this.getOr404(id);
    if (!abilities(user, skillAccess(s)).includes('write')) {
      throw new ApiError(
        403,
        PERMISSION_DENIED,
        'Only the skill owner or administrators can publish skills to marketplace',
        'Contact the skill owner or project manager to request access',
      );
    }
    await this.store.update({ ...s, visibility: 'public', categories: categories ?? s.categories, updated_date: new Date().toISOString() });
  }

  async unpublish(id: string, user: AuthUser): Promise<void> {
    const s = await this.getOr404(id);
    if (!abilities(user, skillAccess(s)).includes('write')) {
      throw new ApiError(
        403,
        PERMISSION_DENIED,
        'Only the skill owner or administrators can unpublish skills from marketplace',
        'Contact the skill owner or project manager to request access',
      );
    }
    await this.store.update({ ...s, visibility: 'private', updated_date: new Date().toISOString() });
  }

  config() {
    return {
      max_content_length: MAX_CONTENT_LENGTH,
      min_content_length: MIN_CONTENT_LENGTH,
      bundle_seed_max_file_count: BUNDLE_MAX_FILE_COUNT,
      bundle_seed_max_file_size_bytes: BUNDLE_MAX_FILE_SIZE_BYTES,
      bundle_seed_max_total_size_bytes: BUNDLE_MAX_TOTAL_SIZE_BYTES,
    };
  }

  // ── events ──

  async recordEvent(body: SkillEventBody, user: AuthUser, headers: { cli?: string; client?: string }) {
    const slug = body.skill_slug || (body.skill_name ? slugOf(body.skill_name) : null) || null;
    const skillId = body.skill_id || (slug ? (body.source ? `${body.source}/${slug}` : slug) : null);
    const id = randomUUID();
    await this.store.insertEvent({
      id,
      created_at: new Date().toISOString(),
      user_id: user.id,
      user_email: user.email || null,
      session_id: body.session_id,
      agent: body.agent || 'codemie-skills',
      agent_version: body.agent_version ?? null,
      client_type: headers.client?.slice(0, 64) ?? null,
      cli_version: headers.cli?.slice(0, 64) ?? null,
      repository: body.repository ?? null,
      branch: body.branch ?? null,
      project: body.project ?? null,
      command: body.command,
      status: body.status,
      scope: body.scope ?? null,
      error_code: body.error_code ?? null,
      agent_selection_mode: body.agent_selection_mode ?? null,
      target_agents: JSON.stringify(body.target_agents ?? []),
      source: body.source ?? null,
      skill_slug: slug,
      skill_id: skillId,
      attributes: body.attributes ? JSON.stringify(body.attributes) : null,
    });
    return { id, success: true, message: `Skill event '${body.command}/${body.status}' recorded` };
  }

  /** One load of an attached skill by an assistant (the `skill` tool): an event with command `use`. */
  async recordUse(s: SkillRecord, ctx: { user: AuthUser; assistantId: string; project: string; conversationId?: string; success: boolean; error?: string }) {
    await this.store.insertEvent({
      id: randomUUID(),
      created_at: new Date().toISOString(),
      user_id: ctx.user.id,
      user_email: ctx.user.email || null,
      session_id: ctx.conversationId ?? '',
      agent: 'codemie-assistant',
      agent_version: null,
      client_type: null,
      cli_version: null,
      repository: null,
      branch: null,
      project: ctx.project,
      command: 'use',
      status: ctx.success ? 'completed' : 'failed',
      scope: null,
      error_code: ctx.error ? ctx.error.slice(0, 128) : null,
      agent_selection_mode: null,
      target_agents: JSON.stringify([ctx.assistantId]),
      source: 'codemie',
      skill_slug: s.name,
      skill_id: s.id,
      attributes: JSON.stringify({ assistant_id: ctx.assistantId }),
    });
  }

  async eventLog(user: AuthUser, q: { from?: string; to?: string; limit: number; offset: number }) {
    const { rows, total } = await this.store.events(
      { commands: ['add', 'remove'], userId: user.isAdmin ? null : user.id, from: q.from, to: q.to },
      q.limit,
      q.offset,
    );
    return {
      data: rows.map((e) => ({
        skill_slug: e.skill_slug,
        source: e.source,
        target_agents: JSON.parse(e.target_agents || '[]') as string[],
        date: e.created_at,
        command: e.command,
        user_id: e.user_id,
        user_email: e.user_email,
      })),
      pagination: { page: Math.floor(q.offset / q.limit), per_page: q.limit, total, pages: Math.ceil(total / q.limit) },
    };
  }

  private aggregate(rows: Array<{ slug: string; command: string; agent: string; source: string | null; n: number }>) {
    const map = new Map<
      string,
      { skill_slug: string; installs: number; removals: number; by_agent: Record<string, number>; by_source: Record<string, number>; uses: number }
    >();
    for (const r of rows) {
      let e = map.get(r.slug);
      if (!e) map.set(r.slug, (e = { skill_slug: r.slug, installs: 0, removals: 0, by_agent: {}, by_source: {}, uses: 0 }));
      if (r.command === 'add') {
        e.installs += r.n;
        e.by_agent[r.agent || 'unknown'] = (e.by_agent[r.agent || 'unknown'] ?? 0) + r.n;
        e.by_source[r.source || 'unknown'] = (e.by_source[r.source || 'unknown'] ?? 0) + r.n;
      } else if (r.command === 'remove') e.removals += r.n;
      else if (r.command === 'use') e.uses += r.n;
    }
    return [...map.values()];
  }

  async stats(q: { from?: string; to?: string; limit: number; offset: number }) {
    const all = this.aggregate(await this.store.eventCounts({ commands: ['add', 'remove', 'use'], from: q.from, to: q.to }));
    all.sort((a, b) => b.installs - a.installs || b.uses - a.uses || a.skill_slug.localeCompare(b.skill_slug));
    const total = all.length;
    return {
      data: all.slice(q.offset, q.offset + q.limit),
      pagination: { page: Math.floor(q.offset / q.limit), per_page: q.limit, total, pages: Math.ceil(total / q.limit) },
    };
  }

  async slugStats(slug: string) {
    const [e] = this.aggregate(await this.store.eventCounts({ commands: ['add', 'remove', 'use'], slug }));
    if (!e) throw new ApiError(404, 'Skill not found', `No events found for skill '${slug}'`, 'Verify the skill slug is correct.');
    const { skill_slug: _s, ...counts } = e;
    return counts;
  }

  // ── instructions ──

  async generateInstructions(
    body: { description?: string | null; existing_instructions?: string | null; skill_name?: string | null; llm_model?: string | null },
    signal: AbortSignal,
    requestId?: string,
  ) {
    const fail = (err: unknown) =>
      new ApiError(
        500,
        'Failed to generate instructions',
        `An error occurred while generating instructions: ${err instanceof ApiError ? String(err.details ?? err.message) : (err as Error).message}`,
        'Try refining your description or using a different model.',
      );
    const description = body.description?.trim() || null;
    const existing = body.existing_instructions?.trim() || null;
    const name = body.skill_name?.trim() || null;
    const mode = existing ? 'refine' : 'generate';
    // Input problems are the caller's (400); the reference answers 500 for every failure of this route.
    const invalid = (details: string) =>
      new ApiError(400, 'Failed to generate instructions', details, 'Try refining your description or using a different model.');
    let model: string;
    try {
      model = this.llm.resolveModel(body.llm_model).base_name;
    } catch (err) {
      throw invalid(err instanceof ApiError ? String(err.details ?? err.message) : (err as Error).message);
    }
    if (mode === 'generate' && !description) throw invalid('A description (or existing instructions to refine) is required');
    const ask =
      mode === 'refine'
        ? [
            'Improve these existing skill instructions: keep what is right, fix what is unclear or missing, and keep the section structure.',
            description ? `What the author wants changed:\n${description}` : 'The author asked for a general quality review.',
            `Existing instructions:\n${existing}`,
          ]
        : [name ? `Skill name: ${name}` : '', `What the skill is for:\n${description}`];
    const end = await runToEnd(
      this.llm.runAgent({
        model,
        system: INSTRUCTIONS_SYSTEM,
        messages: [{ role: 'user', content: ask.filter(Boolean).join('\n\n') }],
        temperature: 0.7,
        signal,
      }),
    );
    if (end.type === 'error') throw fail(end.error);
    const instructions = end.text
      .trim()
      .replace(/^```(?:markdown|md)?\n([\s\S]*)\n```$/, '$1')
      .slice(0, MAX_CONTENT_LENGTH);
    if (!instructions) throw fail(new Error('The model returned no instructions'));
    return { instructions, metadata: { model, mode, request_id: requestId ?? null, length: instructions.length } };
  }
}
