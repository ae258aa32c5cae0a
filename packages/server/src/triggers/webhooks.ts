/**
 * `POST /v1/webhooks/{webhook_id}` (routers/webhook.py and triggers/bindings/webhook.py of the
 * reference): no user authentication; the Webhook integration whose `webhook_id` matches is
 * verified and its target (workflow or assistant) started with the raw payload as input, as the
 * integration's owner. Order and answers follow the reference:
 *
 * 1. rate limit per webhook id (WEBHOOK_RATE_LIMIT_*: 10 per 60 s) → 429 + Retry-After;
 * 2. unknown id or `is_enabled` false → 400 "Webhook with ID '<id>' not found or not enabled";
 * 3. verification, by what the integration configures and the request carries:
 *    - `github_webhook_secret`: X-Hub-Signature-256 (HMAC-SHA256 of the body; SHA-1 only when
 *      `github_require_sha256` is false) → 401 "Invalid GitHub webhook signature" / "Missing GitHub
 *      webhook signature header"; `github_event_filter` → 400 for other X-GitHub-Event values;
 *    - `gitlab_webhook_token`: X-Gitlab-Token, compared in constant time → 401; `gitlab_event_filter`
 *      (merge request actions) → 200 "Webhook received, event filtered out" for other actions;
 *    - `webhook_secret` (this server's signed scheme, with replay protection): X-Codemie-Timestamp
 *      (unix seconds) and X-Codemie-Signature `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`;
 *      a timestamp outside ±CODEMIE_WEBHOOK_SIGNATURE_TOLERANCE_SECONDS or a signature already
 *      seen within that window → 401;
 *    - `secure_header_name` + `secure_header_value`: that header must carry the value → 401
 *      "Invalid security header";
 *    - nothing configured: accepted with a warning (the reference's backward compatibility).
 *    Unlike the reference, a request that matches none of the configured schemes is refused (the
 *    reference falls through to "no security" when, say, only a GitHub secret is set and the request
 *    has no GitHub headers).
 * 4. unknown target → 404 "Workflow with id '<id>' not found" / "Assistant with id '<id>' not found".
 *
 * Every call, accepted or refused, is one row of `webhook_invocations`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { defineRoute, type Route } from '../api/route.js';
import type { Config } from '../config/config.js';
import type { RouteScope } from '../module.js';
import { newRowId } from '../store/ids.js';
import type { Database } from '../store/schema.js';
import { stringValue, truthy, valueOf } from '../integrations/kinds.js';
import type { Integration, IntegrationService } from '../integrations/service.js';
import type { Launched, Launcher } from './launch.js';
import type { UsageRecorder } from '../analytics/recorder.js';

export const WEBHOOK_INVOKED_SUCCESSFULLY = 'Webhook invoked successfully';
export const WEBHOOK_EVENT_FILTERED = 'Webhook received, event filtered out';
const notFoundOrDisabled = (id: string) => `Webhook with ID '${id}' not found or not enabled`;

export const SIGNATURE_HEADER = 'x-codemie-signature';
export const TIMESTAMP_HEADER = 'x-codemie-timestamp';

/** The signature this server expects for a body sent at `timestamp` (seconds): senders compute the same. */
export function signWebhook(secret: string, timestamp: number | string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const RATE_LUA = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n";

/** A fixed window per key, in Redis when there is one (every process shares it), else in memory. */
export class WindowCounter {
  private readonly local = new Map<string, { count: number; until: number }>();
  constructor(
    private readonly redis: Redis | undefined,
    private readonly namespace: string,
  ) {}

  /** [allowed, retry-after seconds]. */
  async hit(key: string, max: number, windowSeconds: number): Promise<[boolean, number]> {
    if (this.redis) {
      const k = `${this.namespace}:${key}`;
      // One script: the counter never outlives its window even if this process dies mid-way.
      const n = Number(await this.redis.eval(RATE_LUA, 1, k, String(windowSeconds)));
      if (n <= max) return [true, 0];
      return [false, Math.max(await this.redis.ttl(k), 1)];
    }
    const now = Date.now();
    let e = this.local.get(key);
    if (!e || e.until <= now) {
      e = { count: 0, until: now + windowSeconds * 1000 };
      this.local.set(key, e);
      if (this.local.size > 10_000) for (const [k, v] of this.local) if (v.until <= now) this.local.delete(k);
    }
    e.count++;
    return e.count <= max ? [true, 0] : [false, Math.max(1, Math.ceil((e.until - now) / 1000))];
  }

  /** True the first time `key` is seen within `ttlSeconds` (replay protection). */
  async first(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.redis) return (await this.redis.set(`${this.namespace}:seen:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
    const now = Date.now();
    const e = this.local.get(`seen:${key}`);
    if (e && e.until > now) return false;
    this.local.set(`seen:${key}`, { count: 1, until: now + ttlSeconds * 1000 });
    return true;
  }
}

interface Outcome {
  status: number;
  cause?: string;
  method?: string;
  launched?: Launched;
}

export interface WebhookDeps {
  db: Kysely<Database>;
  integrations: IntegrationService;
  launcher: Launcher;
  config: Config;
  log: FastifyBaseLogger;
  counter: WindowCounter;
  /** Usage accounting (analytics): an invocation of a known integration is one `webhook` record. */
  usage?: Pick<UsageRecorder, 'record'>;
}

export class WebhookService {
  constructor(private readonly deps: WebhookDeps) {}

  private async record(webhookId: string, i: Integration | undefined, o: Outcome): Promise<void> {
    const id = newRowId();
    try {
      await this.deps.db
        .insertInto('webhook_invocations')
        .values({
          id,
          webhook_id: webhookId.slice(0, 255),
          integration_id: i?.id ?? null,
          project_name: i?.projectName ?? null,
          user_id: i?.userId ?? null,
          status_code: o.status,
          success: o.status < 300 ? 1 : 0,
          error_cause: o.cause ?? null,
          verification_method: o.method ?? null,
          resource_type: i ? (stringValue(i.values, 'resource_type') ?? null) : null,
          resource_id: i ? (stringValue(i.values, 'resource_id') ?? null) : null,
          run_id: o.launched?.runId ?? null,
          created_at: new Date().toISOString(),
        })
        .execute();
      // Refusals of unknown ids have no owner or project: they stay in webhook_invocations only.
      if (i && this.deps.usage) {
        await this.deps.usage.record({
          key: `webhook:${id}`,
          kind: 'webhook',
          user: { id: i.userId, username: i.owner?.username ?? i.createdBy.username },
          project: i.projectName,
          webhookAlias: i.alias,
          status: o.status < 300 ? 'success' : 'error',
          errorClass: o.status < 300 ? null : (o.cause ?? `http_${o.status}`).slice(0, 100),
        });
      }
    } catch (err) {
      this.deps.log.error({ err, webhookId }, 'could not record a webhook invocation');
    }
  }

  private fail(
    webhookId: string,
    i: Integration | undefined,
    status: number,
    cause: string,
    message: string,
    method?: string,
    headers: Record<string, string> = {},
  ): Promise<never> {
    return this.record(webhookId, i, { status, cause, method }).then(() => {
      throw new ApiError(status, message, null, null, headers);
    });
  }

  async invoke(webhookId: string, req: FastifyRequest, raw: Buffer): Promise<{ message: string; data: Record<string, unknown> }> {
    const cfg = this.deps.config;
    if (cfg.webhookRateLimitEnabled) {
      let verdict: [boolean, number] = [true, 0];
      try {
        verdict = await this.deps.counter.hit(`rate:${webhookId}`, cfg.webhookRateLimitMaxRequests, cfg.webhookRateLimitWindowSeconds);
      } catch (err) {
        // As the reference: a limiter that cannot answer does not block the webhook.
        this.deps.log.error({ err, webhookId }, 'webhook rate limiter unavailable');
      }
      if (!verdict[0]) {
        this.deps.log.warn({ webhookId, retryAfter: verdict[1] }, 'webhook rate limit exceeded');
        return this.fail(
          webhookId,
          undefined,
          429,
          'rate_limited',
          `Webhook rate limit exceeded: maximum ${cfg.webhookRateLimitMaxRequests} requests per ${cfg.webhookRateLimitWindowSeconds} seconds allowed.`,
          undefined,
          { 'retry-after': String(verdict[1]) },
        );
      }
    }
    const i = await this.deps.integrations.byWebhookId(webhookId);
    if (!i) {
      this.deps.log.warn({ webhookId }, 'webhook not found');
      return this.fail(webhookId, undefined, 400, 'webhook_not_found', notFoundOrDisabled(webhookId));
    }
    if (!truthy(valueOf(i.values, 'is_enabled'))) {
      this.deps.log.warn({ webhookId, project: i.projectName }, 'webhook disabled');
      return this.fail(webhookId, i, 400, 'webhook_disabled', notFoundOrDisabled(webhookId));
    }
    const verdict = await this.verify(webhookId, i, req, raw);
    if (verdict === 'filtered') {
      await this.record(webhookId, i, { status: 200, cause: 'event_filtered', method: 'gitlab_token' });
      return { message: WEBHOOK_EVENT_FILTERED, data: { id: i.id, alias: i.alias } };
    }
    const resourceType = stringValue(i.values, 'resource_type') ?? '';
    const resourceId = stringValue(i.values, 'resource_id') ?? '';
    if (resourceType !== 'workflow' && resourceType !== 'assistant') {
      if (resourceType === 'datasource') {
        return this.fail(webhookId, i, 403, 'unsupported_resource_type', 'Triggering datasources by webhook is not supported on this server.', verdict);
      }
      return this.fail(webhookId, i, 400, 'unsupported_resource_type', `Unsupported resource type '${resourceType}'`, verdict);
    }
    const payload = raw.toString('utf8');
    let launched: Launched;
    try {
      if (!(await this.deps.launcher.belongs(resourceType, resourceId, i.projectName))) {
        const label = resourceType === 'workflow' ? 'Workflow' : 'Assistant';
        return this.fail(webhookId, i, 404, 'target_not_found', `${label} with id '${resourceId}' not found`, verdict);
      }
      launched = await this.deps.launcher.launch(resourceType, resourceId, payload, { kind: 'webhook', integration: i });
    } catch (err) {
      if (err instanceof ApiError) {
        await this.record(webhookId, i, { status: err.status, cause: 'launch_failed', method: verdict });
        throw err;
      }
      this.deps.log.error({ err, webhookId }, 'webhook processing failed');
      return this.fail(webhookId, i, 500, 'launch_failed', 'Webhook processing failed', verdict);
    }
    await this.record(webhookId, i, { status: 200, method: verdict, launched });
    this.deps.log.info({ webhookId, project: i.projectName, resourceType, resourceId, runId: launched.runId }, 'webhook invoked');
    return {
      message: WEBHOOK_INVOKED_SUCCESSFULLY,
      data: { id: i.id, alias: i.alias, project_name: i.projectName, resource_type: resourceType, resource_id: resourceId, run_id: launched.runId },
    };
  }

  /** The verification method that passed, or 'filtered'; throws 400/401 otherwise. */
  private async verify(webhookId: string, i: Integration, req: FastifyRequest, raw: Buffer): Promise<string> {
    const h = req.headers;
    const header = (name: string) => {
      const v = h[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const github = stringValue(i.values, 'github_webhook_secret');
    const gitlab = stringValue(i.values, 'gitlab_webhook_token');
    const own = stringValue(i.values, 'webhook_secret');
    const headerName = stringValue(i.values, 'secure_header_name');
    const headerValue = stringValue(i.values, 'secure_header_value');
    const isGithub = !!(
      header('x-hub-signature-256') ||
      header('x-hub-signature') ||
      header('x-github-event') ||
      (header('user-agent') ?? '').includes('GitHub-Hookshot')
    );
    const isGitlab = !!(header('x-gitlab-event') || header('x-gitlab-token'));
    const schemes: Array<[string, () => Promise<string>]> = [];
    if (github) schemes.push(['github_signature', () => this.verifyGithub(webhookId, i, github, header, raw)]);
    if (gitlab) schemes.push(['gitlab_token', () => this.verifyGitlab(webhookId, i, gitlab, header, raw)]);
    if (own) schemes.push(['signature', () => this.verifyOwn(webhookId, i, own, header, raw)]);
    if (headerName && headerValue) schemes.push(['legacy_header', () => this.verifyHeader(webhookId, i, header(headerName), headerValue)]);
    if (!schemes.length) {
      this.deps.log.warn(
        { webhookId, project: i.projectName },
        'webhook has no security configuration: accepted (configure webhook_secret or a secure header)',
      );
      return 'none';
    }
    const matches = (m: string) =>
      (m === 'github_signature' && isGithub) ||
      (m === 'gitlab_token' && isGitlab) ||
      (m === 'signature' && !!header(SIGNATURE_HEADER)) ||
      (m === 'legacy_header' && !!headerName && header(headerName) !== undefined);
    const chosen = schemes.find(([m]) => matches(m)) ?? schemes[0];
    return chosen[1]();
  }

  private async verifyGithub(webhookId: string, i: Integration, secret: string, header: (n: string) => string | undefined, raw: Buffer): Promise<string> {
    const method = 'github_signature';
    const requireSha256 =
      valueOf(i.values, 'github_require_sha256') === undefined || valueOf(i.values, 'github_require_sha256') === null
        ? true
        : truthy(valueOf(i.values, 'github_require_sha256'));
    const s256 = header('x-hub-signature-256');
    const s1 = header('x-hub-signature');
    if (s256) {
      const expected = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
      if (!safeEqual(s256, expected)) return this.fail(webhookId, i, 401, 'github_signature_verification_failed', 'Invalid GitHub webhook signature', method);
    } else if (s1 && !requireSha256) {
      const expected = `sha1=${createHmac('sha1', secret).update(raw).digest('hex')}`;
      if (!safeEqual(s1, expected)) return this.fail(webhookId, i, 401, 'github_signature_verification_failed', 'Invalid GitHub webhook signature', method);
    } else {
      return this.fail(webhookId, i, 401, 'github_signature_verification_failed', 'Missing GitHub webhook signature header', method);
    }
    const filter = stringValue(i.values, 'github_event_filter');
    if (filter) {
      const allowed = filter
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const event = header('x-github-event');
      if (!event || !allowed.includes(event)) {
        return this.fail(webhookId, i, 400, 'github_event_not_allowed', `GitHub event type '${event ?? ''}' is not allowed for this webhook`, method);
      }
    }
    return method;
  }

  private async verifyGitlab(webhookId: string, i: Integration, token: string, header: (n: string) => string | undefined, raw: Buffer): Promise<string> {
    const method = 'gitlab_token';
    if (!safeEqual(header('x-gitlab-token') ?? '', token)) return this.fail(webhookId, i, 401, 'gitlab_token_invalid', 'Invalid GitLab webhook token', method);
    const filter = stringValue(i.values, 'gitlab_event_filter');
    if (filter && header('x-gitlab-event') === 'Merge Request Hook') {
      const allowed = filter
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean);
      let action = '';
      try {
        action = String((JSON.parse(raw.toString('utf8')) as { object_attributes?: { action?: string } }).object_attributes?.action ?? '');
      } catch {
        /* not JSON: no action */
      }
      if (!allowed.includes(action.toLowerCase())) return 'filtered';
    }
    return method;
  }

  private async verifyOwn(webhookId: string, i: Integration, secret: string, header: (n: string) => string | undefined, raw: Buffer): Promise<string> {
    const method = 'signature';
    const sig = header(SIGNATURE_HEADER);
    const ts = header(TIMESTAMP_HEADER);
    if (!sig || !ts) return this.fail(webhookId, i, 401, 'signature_missing', 'Missing webhook signature header', method);
    const tolerance = this.deps.config.webhookSignatureToleranceSeconds;
    const t = Number(ts);
    if (!/^\d{1,12}$/.test(ts) || Math.abs(Date.now() / 1000 - t) > tolerance) {
      return this.fail(webhookId, i, 401, 'signature_expired', 'Webhook signature timestamp is outside the allowed window', method);
    }
    if (!safeEqual(sig, signWebhook(secret, ts, raw))) return this.fail(webhookId, i, 401, 'invalid_signature', 'Invalid webhook signature', method);
    // A valid signature is accepted once: a replayed delivery carries the same one.
    if (!(await this.deps.counter.first(`${webhookId}:${sig}`, tolerance * 2))) {
      return this.fail(webhookId, i, 401, 'replayed', 'Webhook delivery was already received (replay)', method);
    }
    return method;
  }

  private async verifyHeader(webhookId: string, i: Integration, got: string | undefined, expected: string): Promise<string> {
    if (!got || !safeEqual(got, expected)) return this.fail(webhookId, i, 401, 'invalid_security_header', 'Invalid security header', 'legacy_header');
    return 'legacy_header';
  }
}

const webhookParams = z.object({ webhook_id: z.string().min(1).max(255) });
const webhookAnswer = z.object({ message: z.string(), data: z.record(z.string(), z.unknown()) }).meta({ id: 'WebhookResponse' });

export function webhookScope(svc: WebhookService): RouteScope {
  const routes: Route[] = [
    defineRoute({
      method: 'POST',
      path: '/webhooks/:webhook_id',
      tags: ['Webhooks'],
      summary: 'Invoke a webhook: starts its workflow or assistant with the request body as input',
      description:
        'No user authentication: the Webhook integration is verified by GitHub HMAC (X-Hub-Signature-256), GitLab token (X-Gitlab-Token), ' +
        "this server's signature (X-Codemie-Timestamp + X-Codemie-Signature: sha256=HMAC(secret, '<timestamp>.<body>')) or a secure header. " +
        'See docs/triggers.md.',
      access: 'public',
      params: webhookParams,
      responses: { 200: webhookAnswer },
      errors: [400, 401, 403, 404, 429],
      async handler({ params, req }) {
        const raw = Buffer.isBuffer(req.body)
          ? req.body
          : Buffer.from(typeof req.body === 'string' ? req.body : req.body === undefined ? '' : JSON.stringify(req.body));
        return svc.invoke(params.webhook_id, req, raw);
      },
    }),
  ];
  return {
    routes,
    setup(app: FastifyInstance) {
      // The body is verified as the sender signed it: every content type arrives as raw bytes.
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
    },
  };
}
