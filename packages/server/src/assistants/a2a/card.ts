/**
 * The agent card of an assistant: the A2A v1.0 card (supportedInterfaces: JSON-RPC at v1.0 and
 * v0.3) with the v0.3 top-level fields (`url`, `preferredTransport`, `protocolVersion`) and the
 * reference's fields (`authentication`, `capabilities.stateTransitionHistory`, `project_name`, …)
 * merged in, so A2A v1.0 clients, v0.3 clients and the CodeMie Python SDK all read it.
 */
import { A2A_PROTOCOL_VERSION, AgentCard } from '@a2a-js/sdk';
import { toolTitle } from '../../wire/thought.js';
import type { AssistantRecord } from '../repo.js';

export interface CardOptions {
  /** The JSON-RPC endpoint of this assistant (absolute URL). */
  url: string;
  organization: string;
  providerUrl: string;
}

interface Skill {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples: string[];
  inputModes: string[];
  outputModes: string[];
}

const kebab = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[\s_]+/g, '-')
    .toLowerCase();

/** One skill per tool of the assistant's toolkits; a general "conversation" skill when it has none. */
function skillsOf(a: AssistantRecord): Skill[] {
  const out: Skill[] = [];
  for (const tk of (a.data.toolkits as Array<Record<string, any>>) ?? []) {
    for (const t of (tk.tools as Array<Record<string, any>>) ?? []) {
      const name = String(t.name ?? '');
      if (!name) continue;
      out.push({
        id: name.toLowerCase().replace(/\s+/g, '_'),
        name: String(t.label || toolTitle(name)),
        description: String(t.user_description || t.description || ''),
        tags: [...name.split('_').filter(Boolean).map(kebab), kebab(String(tk.label || tk.toolkit || ''))].filter(Boolean),
        examples: [],
        inputModes: ['text'],
        outputModes: ['text'],
      });
    }
  }
  if (!out.length) {
    out.push({ id: 'conversation', name: 'Conversation', description: 'General conversation ability', tags: [], examples: [], inputModes: ['text'], outputModes: ['text'] });
  }
  return out;
}

/** The card as the A2A SDK types it (what the request handler serves and validates versions against). */
export function agentCard(a: AssistantRecord, o: CardOptions): AgentCard {
  return {
    name: a.name,
    description: a.description,
    supportedInterfaces: [
      { url: o.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION },
      { url: o.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    provider: { organization: o.organization, url: o.providerUrl },
    version: '1.0.0',
    documentationUrl: undefined,
    capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: { bearer: { scheme: { $case: 'httpAuthSecurityScheme', value: { description: 'A CodeMie access token', scheme: 'Bearer', bearerFormat: 'JWT' } } } },
    securityRequirements: [],
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills: skillsOf(a).map((s) => ({ ...s, securityRequirements: [] })),
    signatures: [],
    iconUrl: (a.data.icon_url as string) || undefined,
  } as unknown as AgentCard;
}

/** The wire card: v1.0 JSON plus the v0.3 and reference fields. */
export function agentCardJson(a: AssistantRecord, o: CardOptions): Record<string, unknown> {
  const v1 = AgentCard.toJSON(agentCard(a, o)) as Record<string, unknown>;
  const skills = skillsOf(a).map((s) => ({ ...s, examples: null, tags: s.tags.length ? s.tags : null }));
  return {
    ...v1,
    url: o.url,
    provider: { organization: o.organization, url: o.providerUrl },
    preferredTransport: 'JSONRPC',
    protocolVersion: '0.3.0',
    additionalInterfaces: [],
    documentationUrl: null,
    capabilities: { ...((v1.capabilities as object) ?? {}), streaming: false, pushNotifications: false, stateTransitionHistory: true },
    authentication: { schemes: ['Bearer'], credentials: null },
    defaultInputModes: ['text'],
    defaultOutputModes: ['text'],
    skills,
    project_name: null,
    integration_id: null,
    user_id: null,
    bedrock_agentcore: false,
  };
}
