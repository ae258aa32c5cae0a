/**
 * A local stand-in for Langfuse's OTel ingestion endpoint (POST /api/public/otel/v1/traces,
 * OTLP/HTTP JSON, Basic auth with the public/secret key). Records every span it receives so
 * tests can assert on what the platform exports. `mode = 'hang'` never answers (a down/slow Langfuse).
 */
import http from 'node:http';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

function value(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return null;
}

export interface LangfuseReceiver {
  url: string;
  publicKey: string;
  secretKey: string;
  spans: ReceivedSpan[];
  /** Raw bodies, to check that nothing secret was exported anywhere. */
  rawBodies: string[];
  mode: 'ok' | 'hang';
  rejectedAuth: number;
  close(): Promise<void>;
}

export async function startLangfuseReceiver(): Promise<LangfuseReceiver> {
  const publicKey = 'pk-lf-test';
  const secretKey = 'sk-lf-test';
  const expectedAuth = `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}`;
  const hanging = new Set<http.ServerResponse>();
  const state: LangfuseReceiver = {
    url: '',
    publicKey,
    secretKey,
    spans: [],
    rawBodies: [],
    mode: 'ok',
    rejectedAuth: 0,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const plainOtlp = req.url === '/v1/traces'; // a plain OTLP/HTTP collector endpoint (no Langfuse auth)
      if (req.method !== 'POST' || (req.url !== '/api/public/otel/v1/traces' && !plainOtlp)) {
        res.writeHead(404).end();
        return;
      }
      if (state.mode === 'hang') {
        hanging.add(res);
        return;
      }
      if (!plainOtlp && req.headers.authorization !== expectedAuth) {
        state.rejectedAuth++;
        res.writeHead(401).end();
        return;
      }
      if (!String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end('this receiver only speaks OTLP/HTTP JSON');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      state.rawBodies.push(body);
      const doc = JSON.parse(body) as {
        resourceSpans?: { scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: { key: string; value: OtlpValue }[] }[] }[] }[];
      };
      for (const rs of doc.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) {
            state.spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, value(a.value)])),
            });
          }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}

/** Env that points the platform's tracer at the receiver. */
export function langfuseEnv(r: LangfuseReceiver): Record<string, string> {
  return { LANGFUSE_PUBLIC_KEY: r.publicKey, LANGFUSE_SECRET_KEY: r.secretKey, LANGFUSE_HOST: r.url };
}
