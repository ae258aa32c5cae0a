/**
 * OpenAPI 3.1 generated from the routes' zod schemas. Routes are mounted twice
 * (/v1 and /code-assistant-api/v1); only the /v1 copy is documented, with both
 * base paths listed as servers.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { API_PREFIXES } from './prefixes.js';

type OpenApiDoc = { paths?: unknown; components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>;

/**
 * Drops the component schemas no operation refers to: zod's registry holds an input and an output
 * variant of every named schema, and most are used one way only.
 */
function pruneComponents(doc: OpenApiDoc): OpenApiDoc {
  const schemas = doc.components?.schemas;
  if (!schemas) return doc;
  const used = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/')) {
        const name = x.slice('#/components/schemas/'.length);
        if (!used.has(name)) {
          used.add(name);
          visit(schemas[name]);
        }
      } else visit(x);
    }
  };
  visit(doc.paths);
  return { ...doc, components: { ...doc.components, schemas: Object.fromEntries(Object.entries(schemas).filter(([k]) => used.has(k))) } };
}

export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  const baseTransform = createJsonSchemaTransform({ skipList: ['/docs', '/docs/*'] });
  const baseTransformObject = createJsonSchemaTransformObject({});
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Codemie',
        version,
        description: 'Open, self-hostable implementation of the CodeMie platform API. Every route is also served under /code-assistant-api.',
      },
      servers: [{ url: '/' }, { url: '/code-assistant-api', description: 'Reference-compatible base path' }],
      components: {
        securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ BearerAuth: [] }],
    },
    transform: (input) => {
      const out = baseTransform(input);
      const hidden = input.url.startsWith(API_PREFIXES.reference) || input.url.endsWith('openapi.json');
      const schema = { ...(out.schema as object), ...(hidden ? { hide: true } : {}) } as typeof out.schema & Record<string, unknown>;
      if (input.route.config?.public) (schema as { security?: unknown[] }).security = [];
      const d = input.route.config?.descriptor;
      if (d?.multipart) {
        // Multipart bodies are read by the handler, not validated by a schema: documented here.
        const fields = Object.entries(d.multipart.fields);
        const prop = (f: (typeof fields)[number][1]) => {
          const one = f.type === 'binary' ? { type: 'string', format: 'binary' } : { type: 'string' };
          return {
            ...(f.array ? { type: 'array', items: one, ...(f.maxItems ? { maxItems: f.maxItems } : {}) } : one),
            ...(f.description ? { description: f.description } : {}),
          };
        };
        schema.consumes = ['multipart/form-data'];
        schema.body = {
          type: 'object',
          properties: Object.fromEntries(fields.map(([k, f]) => [k, prop(f)])),
          required: fields.filter(([, f]) => f.required).map(([k]) => k),
        };
      }
      if (d?.form) schema.consumes = ['application/x-www-form-urlencoded'];
      return { ...out, schema };
    },
    transformObject: (doc) => pruneComponents(baseTransformObject(doc) as OpenApiDoc) as ReturnType<typeof baseTransformObject>,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const spec = () => app.swagger();
  for (const url of ['/openapi.json', `${API_PREFIXES.reference}/openapi.json`]) {
    app.get(url, { config: { public: true }, schema: { hide: true } }, async () => spec());
  }
}
