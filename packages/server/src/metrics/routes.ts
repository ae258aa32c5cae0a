/**
 * GET /metrics (Prometheus text format), public like the reference's metrics port. With
 * CODEMIE_METRICS_PORT set it is served on that separate port instead of the API port.
 */
import http from 'node:http';
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute, RawBody } from '../api/route.js';

export function metricsModule(infra: Infra): Module<null> {
  const { config, metrics } = infra;
  return {
    name: 'metrics',
    services: null,
    routes:
      config.metricsPort !== undefined
        ? []
        : [
            defineRoute({
              method: 'GET',
              path: '/metrics',
              root: true,
              access: 'public',
              tags: ['metrics'],
              summary: 'Prometheus metrics (text exposition format)',
              responses: { 200: { contentType: 'text/plain', description: 'Prometheus text format 0.0.4', schema: z.string() } },
              handler: async () => new RawBody(metrics.registry.contentType, await metrics.registry.metrics()),
            }),
          ],
    async started() {
      if (config.metricsPort === undefined) return;
      const server = http.createServer(async (req, res) => {
        if (req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
      });
      await new Promise<void>((resolve) => server.listen(config.metricsPort, config.host, resolve));
      infra.log.info(`metrics on http://${config.host}:${(server.address() as { port: number }).port}/metrics`);
      infra.onClose.push(() => new Promise<void>((r) => server.close(() => r())));
    },
  };
}
