/**
 * Knowledge-base benchmark (run: `npx tsx bench/knowledge.ts [--db postgres] [--docs 10000] [--queries 300] [--runs 3]`).
 *
 * 1. Indexing: N generated documents uploaded in one request (10 zip archives of N/10 files each)
 *    through POST /v1/index/knowledge_base/file; the clock runs from the request to the row's
 *    `completed` (extraction, chunking, embedding with the local all-MiniLM-L6-v2 model, storing,
 *    full-text index) → chunks/s.
 * 2. Retrieval on a labelled query set (each query has one right document): latency p50/p95 and
 *    recall@5 of full-text, vector and hybrid (RRF) ranking, through the service the search tool
 *    uses (the query embedding included). Three kinds of query, a third each: an exact record code
 *    (words only full-text matches), a paraphrase with synonyms (meaning only vectors match), and a
 *    person's name with a paraphrased job (both help).
 *
 * Needs the local embeddings model (eval "$(bash scripts/fetch-embedding-model.sh)") or
 * `--embeddings test` (the test LLM server's hashed bag of words, for a quick run);
 * PostgreSQL: TEST_DATABASE_URL (scripts/services.sh start postgres).
 */
import { performance } from 'node:perf_hooks';
import { makeZip, multipartBody } from '../packages/server/test/knowledge-fixtures.js';
import { startTestPlatform, testAuthHeaders } from '../packages/server/test/helpers.js';
import { startTestLlmServer, TEST_LLM_API_KEY } from '../packages/server/test/llm-server.js';
import type { SearchMode } from '../packages/server/src/knowledge/search.js';

const arg = (name: string, def: string) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : def);
const db = arg('db', 'sqlite') as 'sqlite' | 'postgres';
const N = Number(arg('docs', '10000'));
const Q = Number(arg('queries', '300'));
const RUNS = Number(arg('runs', '3'));
const embeddings = arg('embeddings', 'local');

// ── deterministic corpus ──
let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];

const PROFESSIONS: Array<[string, string]> = [
  ['physician', 'doctor'], ['attorney', 'lawyer'], ['carpenter', 'woodworker'], ['chef', 'cook'], ['pilot', 'aviator'],
  ['teacher', 'educator'], ['nurse', 'caregiver'], ['architect', 'building designer'], ['plumber', 'pipe fitter'], ['baker', 'pastry maker'],
  ['journalist', 'reporter'], ['firefighter', 'fire rescuer'], ['pharmacist', 'druggist'], ['veterinarian', 'animal doctor'], ['electrician', 'wiring technician'],
  ['librarian', 'archivist'], ['dentist', 'tooth doctor'], ['farmer', 'grower'], ['photographer', 'camera artist'], ['accountant', 'bookkeeper'],
  ['surgeon', 'operating doctor'], ['mechanic', 'car repairer'], ['translator', 'interpreter'], ['gardener', 'landscaper'], ['tailor', 'dressmaker'],
];
const CITIES: Array<[string, string]> = [
  ['Lisbon', 'the Portuguese capital'], ['Madrid', 'the Spanish capital'], ['Paris', 'the French capital'], ['Berlin', 'the German capital'], ['Rome', 'the Italian capital'],
  ['Vienna', 'the Austrian capital'], ['Warsaw', 'the Polish capital'], ['Athens', 'the Greek capital'], ['Dublin', 'the Irish capital'], ['Oslo', 'the Norwegian capital'],
  ['Tokyo', 'the Japanese capital'], ['Cairo', 'the Egyptian capital'], ['Lima', 'the Peruvian capital'], ['Ottawa', 'the Canadian capital'], ['Canberra', 'the Australian capital'],
  ['Nairobi', 'the Kenyan capital'], ['Hanoi', 'the Vietnamese capital'], ['Seoul', 'the Korean capital'], ['Prague', 'the Czech capital'], ['Helsinki', 'the Finnish capital'],
];
const HOBBIES: Array<[string, string]> = [
  ['sailing', 'boating'], ['painting', 'making art with brushes'], ['chess', 'board strategy games'], ['jogging', 'running'], ['knitting', 'making wool garments'],
  ['fishing', 'angling'], ['hiking', 'mountain walks'], ['cycling', 'riding a bike'], ['gardening', 'growing flowers'], ['singing', 'vocal music'],
  ['baking bread', 'making loaves'], ['birdwatching', 'observing birds'], ['swimming', 'doing laps in the pool'], ['pottery', 'shaping clay'], ['dancing', 'ballroom moves'],
  ['stargazing', 'looking at constellations'], ['skiing', 'downhill snow sports'], ['reading novels', 'fiction books'], ['woodcarving', 'whittling'], ['photography', 'taking pictures'],
];
const FIRST = 'Marta Jonas Aiko Pedro Lena Omar Sofia Ivan Chloe Mateo Nina Tariq Elsa Hugo Zara Felix Ines Raul Greta Yusuf Clara Bruno Leila Oskar Mila Dario Freya Emil Noor Anton Vera Kenji Alma Rafael Ida Samir Livia Theo Maren Luca'.split(' ');
const LAST = 'Kowalski Silva Tanaka Moreau Novak Haddad Larsen Rossi Fischer Petrov Okafor Jensen Costa Nagy Dubois Weber Santos Horvat Lindqvist Mendes Bauer Ortiz Varga Keller Sato Ivanova Murphy Romero Sokolov Richter Duarte Kim Berger Sousa Andersen Molina Kovac Hansen Reyes Vogel'.split(' ');

interface Doc {
  name: string;
  text: string;
  queries: string[];
}

function corpus(n: number): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < n; i++) {
    const [prof, profSyn] = PROFESSIONS[i % PROFESSIONS.length];
    const [city, cityPara] = CITIES[Math.floor(i / PROFESSIONS.length) % CITIES.length];
    const [hobby, hobbySyn] = HOBBIES[Math.floor(i / (PROFESSIONS.length * CITIES.length)) % HOBBIES.length];
    const person = `${pick(FIRST)} ${pick(LAST)}`;
    const code = `${String.fromCharCode(65 + Math.floor(rand() * 26))}${String.fromCharCode(65 + Math.floor(rand() * 26))}${Math.floor(1000 + rand() * 9000)}`;
    docs.push({
      name: `person-${String(i).padStart(5, '0')}.txt`,
      text: `${person} is a ${prof} based in ${city}. In the evenings this person enjoys ${hobby}. Employee record ${code}.`,
      queries: [`Whose employee record is ${code}?`, `Which ${profSyn} living in ${cityPara} likes ${hobbySyn}?`, `${person}, the ${profSyn} from ${cityPara}: what do they do for fun?`],
    });
  }
  return docs;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs: number[]) => pct(xs, 50);

const llm = await startTestLlmServer({ instant: true });
const env: Record<string, string> = { CODEMIE_WORKER_CONCURRENCY: '4', CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: '0', CODEMIE_BODY_LIMIT: String(200 * 1024 * 1024) };
if (embeddings === 'local') {
  if (!process.env.CODEMIE_LOCAL_EMBEDDING_MODEL) throw new Error('eval "$(bash scripts/fetch-embedding-model.sh)" first (or --embeddings test)');
  env.CODEMIE_LOCAL_EMBEDDING_MODEL = process.env.CODEMIE_LOCAL_EMBEDDING_MODEL;
} else {
  env.CODEMIE_LLM_MODELS = JSON.stringify({
    models: [{ base_name: 'test-model', provider: 'openai-compatible', base_url: llm.baseUrl, api_key: TEST_LLM_API_KEY }],
    embeddings: [{ base_name: 'test-embedding', provider: 'openai-compatible', base_url: llm.baseUrl, api_key: TEST_LLM_API_KEY, default: true }],
  });
}
const p = await startTestPlatform({ db, testAuth: true, env });
const user = testAuthHeaders({ id: 'bench', username: 'bench', name: 'Bench', projects: ['bench'] });
const docs = corpus(N);
const svc = p.services.knowledge.service;

console.log(`knowledge bench: ${db}, ${N} documents, embeddings: ${embeddings}, ${RUNS} runs`);
const indexRates: number[] = [];
const byMode: Record<SearchMode, { p50: number[]; p95: number[]; recall: number[] }> = {
  fulltext: { p50: [], p95: [], recall: [] },
  vector: { p50: [], p95: [], recall: [] },
  hybrid: { p50: [], p95: [], recall: [] },
};
let dsId = '';
for (let run = 0; run < RUNS; run++) {
  // 1. indexing (a fresh knowledge base per run)
  const per = Math.ceil(N / 10);
  const parts = Array.from({ length: Math.ceil(N / per) }, (_, z) => ({
    name: `part-${z}.zip`,
    data: makeZip(docs.slice(z * per, (z + 1) * per).map((d) => ({ name: d.name, data: d.text }))),
    type: 'application/zip',
  }));
  const body = multipartBody(parts);
  if (dsId) await p.app.inject({ method: 'DELETE', url: `/v1/index/${dsId}`, headers: user });
  const t0 = performance.now();
  const res = await p.app.inject({ method: 'POST', url: `/v1/index/knowledge_base/file?name=bench-kb-${run}&project_name=bench&description=people`, payload: body.payload, headers: { ...user, ...body.headers } });
  if (res.statusCode !== 200) throw new Error(res.body);
  const row0 = await p.infra.store.db.selectFrom('datasources').select('id').where('repo_name', '=', `bench-kb-${run}`).executeTakeFirstOrThrow();
  dsId = row0.id;
  for (;;) {
    const r = await svc.store.get(dsId);
    if (r?.completed || r?.error) break;
    await new Promise((x) => setTimeout(x, 200));
  }
  const seconds = (performance.now() - t0) / 1000;
  const row = (await svc.store.get(dsId))!;
  if (row.error) throw new Error(row.text);
  const chunks = Number(row.current_chunks_state);
  indexRates.push(chunks / seconds);
  console.log(`run ${run + 1}: indexed ${chunks} chunks in ${seconds.toFixed(1)} s = ${(chunks / seconds).toFixed(0)} chunks/s (vectors: ${row.embedding_dims ?? 'none'})`);

  // 2. retrieval: Q queries, a third of each kind, spread over the corpus
  const labelled = Array.from({ length: Q }, (_, i) => {
    const target = docs[Math.floor((i * 7919) % N)];
    return { q: target.queries[i % 3], want: target.name };
  });
  for (const mode of ['fulltext', 'vector', 'hybrid'] as const) {
    await svc.rank(row, labelled[0].q, 5, mode); // warm-up
    const times: number[] = [];
    let hits = 0;
    for (const { q, want } of labelled) {
      const s = performance.now();
      const top = await svc.rank(row, q, 5, mode);
      times.push(performance.now() - s);
      if (top.some((h) => h.source === want)) hits++;
    }
    byMode[mode].p50.push(median(times));
    byMode[mode].p95.push(pct(times, 95));
    byMode[mode].recall.push(hits / labelled.length);
    console.log(`  ${mode.padEnd(8)} p50 ${median(times).toFixed(1)} ms  p95 ${pct(times, 95).toFixed(1)} ms  recall@5 ${(hits / labelled.length).toFixed(3)}`);
  }
}
console.log(`\nmedians of ${RUNS} runs (${db}, ${N} documents, ${Q} queries, embeddings: ${embeddings}):`);
console.log(`indexing: ${median(indexRates).toFixed(0)} chunks/s`);
console.log('| mode | p50 ms | p95 ms | recall@5 |');
console.log('|---|---|---|---|');
for (const mode of ['fulltext', 'vector', 'hybrid'] as const) {
  const m = byMode[mode];
  console.log(`| ${mode} | ${median(m.p50).toFixed(1)} | ${median(m.p95).toFixed(1)} | ${median(m.recall).toFixed(3)} |`);
}
await p.stop();
await llm.close();
