/** Marketplace (publish, validate, unpublish) and reactions of assistants (reference §2.1.8–2.1.9). */
import { z } from 'zod';
import { defineRoute, type Route } from '../api/route.js';
import { messageSchema } from '../api/schemas.js';
import type { MarketplaceService } from './marketplace.js';
import type { AssistantService } from './service.js';
import type { UsageService } from './usage.js';

const idParams = z.object({ assistant_id: z.string().min(1).max(100) });

const publishBody = z
  .object({
    categories: z.array(z.string().min(1).max(300)).min(1).max(3),
    sub_assistants_settings: z
      .array(
        z.object({
          assistant_id: z.string().min(1),
          is_global: z.boolean().default(true),
          toolkits: z.array(z.unknown()).nullish(),
          mcp_servers: z.array(z.unknown()).nullish(),
          categories: z.array(z.string()).max(3).default([]),
        }),
      )
      .default([]),
    ignore_recommendations: z.boolean().default(false),
  })
  .meta({ id: 'PublishToMarketplace' });

const reactionResult = z.object({
  success: z.boolean(),
  reaction: z.enum(['like', 'dislike']).nullable(),
  like_count: z.number().int(),
  dislike_count: z.number().int(),
  error: z.string().nullable(),
});

export function marketplaceRoutes(assistants: AssistantService, marketplace: MarketplaceService, usage: UsageService): Route[] {
  const tags = ['assistants'];
  return [
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/marketplace/publish/validate',
      tags,
      summary: 'Check an assistant (and its sub-assistants) before publishing: inline credentials that would be shared',
      params: idParams,
      responses: {
        200: z.object({
          requires_confirmation: z.boolean(),
          message: z.string(),
          inline_credentials: z.array(z.record(z.string(), z.unknown())),
          assistant_id: z.string(),
          sub_assistants: z.array(z.record(z.string(), z.unknown())),
          prompt_variables: z.array(z.record(z.string(), z.unknown())),
        }),
      },
      errors: [403, 404],
      handler: ({ params, user }) => marketplace.validate(params.assistant_id, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/marketplace/publish',
      tags,
      summary: 'Publish to the marketplace with 1–3 categories (sub-assistants published along unless kept private)',
      params: idParams,
      body: publishBody.nullish(),
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      handler: async ({ params, body, user }) => ({ message: await marketplace.publish(params.assistant_id, body ?? undefined, user) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/marketplace/unpublish',
      tags,
      summary: 'Remove from the marketplace (sub-assistants stay as they are)',
      params: idParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => ({ message: await marketplace.unpublish(params.assistant_id, user) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/reactions',
      tags,
      summary: "Like or dislike (the same reaction again clears it; needs read access)",
      params: idParams,
      body: z.object({ reaction: z.enum(['like', 'dislike'], { error: "Input should be 'like' or 'dislike'" }) }),
      responses: { 200: reactionResult },
      errors: [403, 404],
      handler: async ({ params, body, user }) => usage.react(await assistants.getReadable(params.assistant_id, user), user, body.reaction),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/assistants/:assistant_id/reactions',
      tags,
      summary: "Clear the caller's reaction",
      params: idParams,
      responses: { 200: reactionResult },
      errors: [403, 404],
      handler: async ({ params, user }) => usage.removeReaction(await assistants.getReadable(params.assistant_id, user), user),
    }),
  ];
}
