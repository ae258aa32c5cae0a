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

export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  const baseTransform = createJsonSchemaTransform({ skipList: ['/docs', '/docs/*'] });
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
          return { ...(f.array ? { type: 'array', items: one } : one), ...(f.description ? { description: f.description } : {}) };
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
    transformObject: createJsonSchemaTransformObject({}),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const spec = () => app.swagger();
  for (const url of ['/openapi.json', `${API_PREFIXES.reference}/openapi.json`]) {
    app.get(url, { config: { public: true }, schema: { hide: true } }, async () => spec());
  }
}
