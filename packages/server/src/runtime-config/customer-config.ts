/**
 * The platform's runtime capabilities for clients (`GET /v1/config`), as the reference's
 * customer-config: components `{id, settings: {enabled, availableForExternal, ...}}` from a YAML
 * file (CODEMIE_CUSTOMER_CONFIG; built-in defaults otherwise), a few of them *declared* for
 * editing at run time (`/v1/config/declarations`), and components computed from the server's own
 * state. Resolution, field by field: computed component (never overridable) > stored override
 * (a dynamic-config row `CUSTOMER_CONFIG__<ID>` holding a JSON object) > YAML. `GET /v1/config`
 * lists the components that are enabled after that.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from '../api/errors.js';
import type { DynamicConfigService } from './dynamic-config.js';

export interface Component {
  id: string;
  settings: { enabled: boolean; [k: string]: unknown };
}

/** What ships when no CODEMIE_CUSTOMER_CONFIG is given: the features this platform has. */
export const DEFAULT_COMPONENTS: Component[] = [
  { id: 'adminActions', settings: { enabled: true } },
  { id: 'mcpConnect', settings: { enabled: true } },
  { id: 'features:userAbilityToCreateProject', settings: { enabled: true } },
  { id: 'features:webSearch', settings: { enabled: false, name: 'Web Search', description: 'Web search tools in chat' } },
  { id: 'features:dynamicCodeInterpreter', settings: { enabled: false, name: 'Code Interpreter' } },
  { id: 'features:costCenters', settings: { enabled: false } },
  { id: 'features:budgetManagement', settings: { enabled: false } },
  {
    id: 'mcpCustomServersDisabled',
    settings: {
      enabled: false,
      name: 'MCP Custom Servers Disabled',
      description: 'When enabled, only MCP servers of the catalog may be used; custom inline MCP server configurations are not permitted.',
    },
  },
  { id: 'chatDisclaimer', settings: { enabled: false, text: '' } },
  { id: 'banner', settings: { enabled: false, message: '', linkLabel: '', linkRoute: '' } },
];

// ── declarations: components editable at run time ──

export type FieldType = 'switch' | 'input' | 'textarea';

export interface FieldDeclaration {
  name: string;
  type: FieldType;
  label: string;
  description: string | null;
  required: boolean;
  max_length: number | null;
  pattern: string | null;
  pattern_message: string | null;
  markup: 'plain' | 'markdown';
}

export interface SettingDeclaration {
  component_id: string;
  label: string;
  description: string | null;
  fields: FieldDeclaration[];
}

const field = (f: Partial<FieldDeclaration> & Pick<FieldDeclaration, 'name' | 'type' | 'label'>): FieldDeclaration => ({
  description: null,
  required: false,
  max_length: null,
  pattern: null,
  pattern_message: null,
  markup: 'plain',
  ...f,
});

export const DECLARATIONS: SettingDeclaration[] = [
  {
    component_id: 'chatDisclaimer',
    label: 'Chat disclaimer',
    description: 'A short notice shown under the chat input to every user.',
    fields: [
      field({ name: 'enabled', type: 'switch', label: 'Show the disclaimer' }),
      field({
        name: 'text',
        type: 'textarea',
        label: 'Text',
        description: 'Markdown; block markup is flattened where it is shown.',
        max_length: 1000,
        markup: 'markdown',
      }),
    ],
  },
  {
    component_id: 'banner',
    label: 'Banner',
    description: 'A notice across the top of the application for every user.',
    fields: [
      field({ name: 'enabled', type: 'switch', label: 'Show the banner' }),
      field({ name: 'message', type: 'textarea', label: 'Message', description: 'Plain text.', max_length: 1000 }),
      field({ name: 'linkLabel', type: 'input', label: 'Link label', description: 'The link shows only when label and target are both set.', max_length: 100 }),
      field({ name: 'linkRoute', type: 'input', label: 'Link target', description: 'A path in the application or a full URL.', max_length: 200 }),
    ],
  },
  {
    component_id: 'features:webSearch',
    label: 'Web search',
    description: 'Web search tools in chat.',
    fields: [field({ name: 'enabled', type: 'switch', label: 'Enable web search' })],
  },
  {
    component_id: 'mcpCustomServersDisabled',
    label: 'MCP Custom Servers Disabled',
    description: 'When on, only MCP servers of the catalog may be used; custom inline MCP server configurations are not permitted.',
    fields: [field({ name: 'enabled', type: 'switch', label: 'Restrict to catalog MCP servers' })],
  },
];

export const OVERRIDE_PREFIX = 'CUSTOMER_CONFIG__';

/** `features:webSearch` → `CUSTOMER_CONFIG__FEATURES__WEB_SEARCH` (the reference's key derivation). */
export function overrideKey(componentId: string): string {
  const snake = (seg: string) =>
    seg
      .replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toUpperCase();
  return OVERRIDE_PREFIX + componentId.split(':').map(snake).join('__');
}

const declarationById = new Map(DECLARATIONS.map((d) => [d.component_id, d]));
const declarationByKey = new Map(DECLARATIONS.map((d) => [overrideKey(d.component_id), d]));

/** Reads a customer-config YAML: `components: [{id, settings: {enabled, ...}}]`. */
export function parseCustomerConfig(text: string, source: string): Component[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const comps = (doc as { components?: unknown } | null)?.components;
  if (!doc || typeof doc !== 'object' || !Array.isArray(comps) || !comps.length) {
    throw new Error(`${source}: expected a mapping with a non-empty 'components' list`);
  }
  return comps.map((c, i) => {
    const item = c as { id?: unknown; settings?: unknown };
    if (typeof item?.id !== 'string' || !item.id) throw new Error(`${source}: components[${i}].id must be a non-empty string`);
    const s = item.settings as Record<string, unknown> | undefined;
    if (!s || typeof s !== 'object' || Array.isArray(s) || typeof s.enabled !== 'boolean') {
      throw new Error(`${source}: components[${i}] (${item.id}): settings must be a mapping with a boolean 'enabled'`);
    }
    return { id: item.id, settings: { ...s, enabled: s.enabled } };
  });
}

export function loadCustomerConfig(file: string | undefined): Component[] {
  if (!file) return DEFAULT_COMPONENTS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`CODEMIE_CUSTOMER_CONFIG: cannot read ${file}: ${(err as Error).message}`);
  }
  return parseCustomerConfig(text, `CODEMIE_CUSTOMER_CONFIG (${file})`);
}

// ── validation of a declared component's settings ──

const UNSAFE_SCHEMES = ['javascript:', 'data:', 'vbscript:'];

function htmlUnescape(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);?/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);?/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(
      /&(lt|gt|quot|apos|amp|colon|tab|newline);/gi,
      (m: string, n: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&', colon: ':', tab: '\t', newline: '\n' })[n.toLowerCase()] ?? m,
    );
}

/** What a browser would see as the scheme: entities decoded, whitespace and control characters gone, lower case. */
const compact = (s: string) =>
  htmlUnescape(s)
    .replace(/[\s\u0000-\u001f\u007f]+/g, '')
    .toLowerCase();

/** Markdown fields: script/style/iframe blocks removed, other tags stripped (their text kept), entities decoded. */
export function sanitizeMarkdown(s: string): string {
  const noBlocks = s.replace(/<(script|style|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
  return htmlUnescape(noBlocks.replace(/<\/?[A-Za-z][^>]*>/g, ''));
}

export function validateSettings(decl: SettingDeclaration, settings: Record<string, unknown>): Record<string, unknown> {
  const declared = new Set(decl.fields.map((f) => f.name));
  const unknown = Object.keys(settings)
    .filter((k) => !declared.has(k))
    .sort();
  if (unknown.length) throw badRequest('Unknown configuration fields', `Fields not declared for '${decl.component_id}': ${unknown.join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const f of decl.fields) {
    if (!(f.name in settings)) throw badRequest('Missing configuration field', `Field '${f.name}' is required by the declaration`);
    const v = settings[f.name];
    if (f.type === 'switch') {
      if (typeof v !== 'boolean') throw badRequest('Invalid configuration value', `Field '${f.name}' must be of type bool`);
      out[f.name] = v;
      continue;
    }
    if (typeof v !== 'string') throw badRequest('Invalid configuration value', `Field '${f.name}' must be of type str`);
    const text = f.markup === 'markdown' ? sanitizeMarkdown(v) : v;
    if (f.required && !text.trim()) throw badRequest('Missing configuration value', `Field '${f.name}' cannot be empty`);
    if (f.max_length !== null && text.length > f.max_length) {
      throw badRequest('Configuration value too long', `Field '${f.name}' exceeds its limit of ${f.max_length} characters`);
    }
    if (f.pattern && text && !new RegExp(f.pattern).test(text)) {
      throw badRequest('Invalid configuration value', f.pattern_message ?? `Field '${f.name}' does not match ${f.pattern}`);
    }
    const flat = compact(text);
    if (UNSAFE_SCHEMES.some((s) => flat.startsWith(s)))
      throw badRequest('Unsafe link in configuration value', `Field '${f.name}' uses a disallowed URL scheme`);
    if (f.markup === 'markdown' && UNSAFE_SCHEMES.some((s) => flat.includes(`](${s}`))) {
      throw badRequest('Unsafe link in configuration value', `Field '${f.name}' contains a link with a disallowed scheme`);
    }
    out[f.name] = text;
  }
  return out;
}

export const settingNotFound = (id: string) => new ApiError(404, 'Setting not found', `Component '${id}' is not declared as dynamic configuration`);

// ── the service ──

export interface CustomerConfigDeps {
  /** The YAML components (replaced by `load`). */
  components: Component[];
  dynamic: DynamicConfigService;
  /** Components computed from the server's state (never overridable). */
  runtime: () => Component[];
  /** How long the overrides are kept before they are read again (other processes' writes). */
  ttlMs?: number;
  onError?: (err: Error) => void;
}

const dropNulls = (s: Record<string, unknown>) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null && v !== undefined));

export class CustomerConfigService {
  private cached?: { until: number; overrides: Map<string, Record<string, unknown>> };
  private version = 0;

  /** Replaces the YAML components (the module loads the file at start-up). */
  load(components: Component[]): void {
    this.d.components = components;
  }

  constructor(private readonly d: CustomerConfigDeps) {
    d.dynamic.onChange((key) => {
      if (key.startsWith(OVERRIDE_PREFIX)) {
        this.cached = undefined;
        this.version++;
      }
    });
  }

  /** Stored overrides by component id: only declared components, only declared fields, only JSON objects. */
  private async readOverrides(): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const row of await this.d.dynamic.list(OVERRIDE_PREFIX)) {
      const decl = declarationByKey.get(row.key);
      if (!decl) continue;
      let v: unknown;
      try {
        v = JSON.parse(row.value);
      } catch {
        continue;
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) continue;
      const fields = new Set(decl.fields.map((f) => f.name));
      out.set(decl.component_id, Object.fromEntries(Object.entries(v).filter(([k]) => fields.has(k))));
    }
    return out;
  }

  private async overrides(): Promise<Map<string, Record<string, unknown>>> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.overrides;
    const version = this.version;
    try {
      const overrides = await this.readOverrides();
      if (version === this.version) this.cached = { until: Date.now() + (this.d.ttlMs ?? 10_000), overrides };
      return overrides;
    } catch (err) {
      // The database failing: the last good snapshot, else YAML only.
      this.d.onError?.(err as Error);
      return this.cached?.overrides ?? new Map();
    }
  }

  /** Every component with overrides applied (YAML order, then override-only ones, then computed ones). */
  async resolved(): Promise<Component[]> {
    const overrides = await this.overrides();
    const runtime = this.d.runtime();
    const runtimeIds = new Set(runtime.map((c) => c.id));
    const out: Component[] = [];
    const seen = new Set<string>();
    for (const c of this.d.components) {
      if (runtimeIds.has(c.id)) continue;
      seen.add(c.id);
      const o = overrides.get(c.id);
      out.push({ id: c.id, settings: { availableForExternal: true, ...c.settings, ...(o ?? {}) } as Component['settings'] });
    }
    for (const [id, o] of overrides) {
      if (seen.has(id) || runtimeIds.has(id)) continue;
      out.push({ id, settings: { enabled: false, availableForExternal: true, ...o } as Component['settings'] });
    }
    for (const c of runtime) out.push({ id: c.id, settings: { availableForExternal: true, ...c.settings } });
    return out;
  }

  /** `GET /v1/config`: the enabled components, null settings left out. */
  async enabled(): Promise<Component[]> {
    return (await this.resolved())
      .filter((c) => c.settings.enabled === true)
      .map((c) => ({ id: c.id, settings: dropNulls(c.settings) as Component['settings'] }));
  }

  /** For other domains: a component's `enabled` after overrides (unknown components are off). */
  async isComponentEnabled(id: string): Promise<boolean> {
    return (await this.resolved()).find((c) => c.id === id)?.settings.enabled === true;
  }

  async declarations() {
    const overrides = await this.readOverrides();
    return DECLARATIONS.map((decl) => {
      const yaml: Record<string, unknown> = this.d.components.find((c) => c.id === decl.component_id)?.settings ?? {};
      const o = overrides.get(decl.component_id);
      const value: Record<string, unknown> = {};
      for (const f of decl.fields) value[f.name] = o && f.name in o ? o[f.name] : f.name in yaml ? yaml[f.name] : f.type === 'switch' ? false : '';
      return { component_id: decl.component_id, label: decl.label, description: decl.description, overridden: !!o, value, fields: decl.fields };
    });
  }

  declaration(id: string) {
    const decl = declarationById.get(id);
    if (!decl) throw settingNotFound(id);
    return decl;
  }

  async save(id: string, settings: Record<string, unknown>, actorId: string) {
    const decl = this.declaration(id);
    const stored = validateSettings(decl, settings);
    const before = await this.d.dynamic.put(overrideKey(id), JSON.stringify(stored), 'string', decl.label, actorId);
    return { settings: stored, before: before?.value ?? null };
  }

  async reset(id: string): Promise<string | null> {
    this.declaration(id);
    const removed = await this.d.dynamic.removeIfPresent(overrideKey(id));
    return removed?.value ?? null;
  }
}
