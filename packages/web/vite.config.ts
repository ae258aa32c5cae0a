// The console is served by the server at `/` (packages/server/src/console/module.ts), its assets at /assets/.
// `npm run dev -w packages/web` proxies the API and the IdP to a server on CODEMIE_DEV_SERVER (default :8080).
import { defineConfig } from 'vite';

const target = process.env.CODEMIE_DEV_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  esbuild: { jsx: 'automatic' },
  server: { proxy: { '/v1': target, '/auth': target } },
});
