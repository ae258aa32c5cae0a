/**
 * GET /metrics (Prometheus text format), public like the reference's metrics port. With
 * CODEMIE_METRICS_PORT set it is served on that separate port instead of the API port.
 */
import http from 'node:http';
import type { DomainModule } from '../context.js';

export const metricsModule: DomainModule = {
  name: 'metrics',
  rootRoutes(app, ctx) {
    if (ctx.config.metricsPort !== undefined) return;
    app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });
  },
  async started(ctx) {
    if (ctx.config.metricsPort === undefined) return;
    const server = http.createServer(async (req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
      res.end(await ctx.metrics.registry.metrics());
    });
    await new Promise<void>((resolve) => server.listen(ctx.config.metricsPort, ctx.config.host, resolve));
    ctx.log.info(`metrics on http://${ctx.config.host}:${(server.address() as { port: number }).port}/metrics`);
    ctx.onClose.push(() => new Promise<void>((r) => server.close(() => r())));
  },
};
