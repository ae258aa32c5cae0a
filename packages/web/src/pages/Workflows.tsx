/**
 * Workflows: a YAML editor validated by the server as you type (the problem shown at its line),
 * the graph of the states, runs with input and tags watched live (states light up as the stream
 * reports them), interrupts answered, past executions.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, stream, type Execution, type ExecutionState, type Page, type Thought, type Workflow } from '../api';
import { ThoughtView, listOf } from './Chat';

interface Check {
  valid: boolean;
  errors: Array<{ message: string; line: number | null }>;
  states: Array<{ id: string; next: string[]; interrupt_before: boolean }>;
}

const NEW_YAML = `assistants:
  - id: helper
    system_prompt: You answer briefly.
states:
  - id: answer
    assistant_id: helper
    task: "Answer: {{user_input}}"
    next:
      state_id: end
`;

const COLORS: Record<string, string> = {
  'In Progress': '#cfdcff',
  Succeeded: '#c9ecd2',
  Failed: '#f8c9c9',
  Interrupted: '#ffe3a8',
  Aborted: '#f8c9c9',
};

/** States in layers (longest path from the first state), drawn as boxes with arrows. */
export function Graph({ states, status }: { states: Check['states']; status: Record<string, string> }) {
  const layout = useMemo(() => {
    const ids = states.map((s) => s.id);
    const depth: Record<string, number> = {};
    if (ids.length) depth[ids[0]] = 0;
    // Breadth-first from the entry state; a state keeps its first (shortest) depth, so cycles end.
    const queue = ids.length ? [ids[0]] : [];
    while (queue.length) {
      const id = queue.shift()!;
      for (const n of states.find((s) => s.id === id)?.next ?? []) {
        const t = n === 'end' ? 'end' : n;
        if (depth[t] === undefined) {
          depth[t] = depth[id] + 1;
          if (t !== 'end') queue.push(t);
        }
      }
    }
    for (const id of ids) depth[id] ??= 0;
    const maxD = Math.max(0, ...Object.values(depth));
    if (depth.end !== undefined) depth.end = maxD;
    const layers: string[][] = [];
    for (const [id, d] of Object.entries(depth)) (layers[d] ??= []).push(id);
    const pos: Record<string, { x: number; y: number }> = {};
    const W = 150;
    const H = 44;
    const width = Math.max(1, ...layers.map((l) => l?.length ?? 0)) * (W + 30) + 20;
    layers.forEach((l, d) => l?.forEach((id, i) => (pos[id] = { x: 10 + i * (W + 30) + (width - 20 - l.length * (W + 30)) / 2, y: 10 + d * (H + 40) })));
    return { pos, W, H, width, height: layers.length * (H + 40) + 10 };
  }, [states]);
  if (!states.length) return null;
  const { pos, W, H } = layout;
  return (
    <svg
      role="img"
      aria-label="Workflow graph"
      width="100%"
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      style={{ maxHeight: '26rem', background: '#fff', border: '1px solid #d9dde3', borderRadius: 5 }}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8594" />
        </marker>
      </defs>
      {states.flatMap((s) =>
        s.next.map((n) => {
          const a = pos[s.id];
          const b = pos[n];
          if (!a || !b) return null;
          const back = b.y <= a.y;
          return (
            <path
              key={`${s.id}->${n}`}
              d={
                back
                  ? `M ${a.x + W} ${a.y + H / 2} C ${a.x + W + 40} ${a.y + H / 2}, ${b.x + W + 40} ${b.y + H / 2}, ${b.x + W} ${b.y + H / 2}`
                  : `M ${a.x + W / 2} ${a.y + H} L ${b.x + W / 2} ${b.y}`
              }
              fill="none"
              stroke="#7a8594"
              markerEnd="url(#arrow)"
            />
          );
        }),
      )}
      {Object.entries(pos).map(([id, p]) => (
        <g key={id} data-state={id} data-status={status[id] ?? ''}>
          <rect
            x={p.x}
            y={p.y}
            width={W}
            height={H}
            rx={id === 'end' ? 22 : 6}
            fill={COLORS[status[id]] ?? (id === 'end' ? '#eef0f3' : '#f7f8fa')}
            stroke="#7a8594"
          />
          <text x={p.x + W / 2} y={p.y + 18} textAnchor="middle" fontSize="13" fontWeight="600">
            {id}
          </text>
          <text x={p.x + W / 2} y={p.y + 34} textAnchor="middle" fontSize="11" fill="#5f6b7a">
            {status[id] ?? (states.find((s) => s.id === id)?.interrupt_before ? 'asks before running' : '')}
          </text>
        </g>
      ))}
    </svg>
  );
}

function YamlEditor({ value, onChange, badLine }: { value: string; onChange: (v: string) => void; badLine: number | null }) {
  const lines = value.split('\n').length;
  const ta = useRef<HTMLTextAreaElement>(null);
  return (
    <div className="editor">
      <div className="gutter" aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <div key={i} className={badLine === i + 1 ? 'bad' : ''}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        id="yaml"
        ref={ta}
        aria-label="YAML"
        spellCheck={false}
        value={value}
        rows={lines + 1}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Tab') {
            e.preventDefault();
            const el = e.currentTarget;
            const s = el.selectionStart;
            const next = value.slice(0, s) + '  ' + value.slice(el.selectionEnd);
            onChange(next);
            requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
          }
        }}
      />
    </div>
  );
}

const TERMINAL = ['Succeeded', 'Failed', 'Aborted', 'Interrupted'];

export function WorkflowsPage({ route }: { route: string[] }) {
  const [list, setList] = useState<Workflow[]>([]);
  const [selected, setSelected] = useState<string | null>(route[0] ?? null);
  const [name, setName] = useState('');
  const [project, setProject] = useState('demo');
  const [yaml, setYaml] = useState('');
  const [check, setCheck] = useState<Check | null>(null);
  const [message, setMessage] = useState('');
  const [input, setInput] = useState('');
  const [tags, setTags] = useState('');
  const [execs, setExecs] = useState<Execution[]>([]);
  const [exec, setExec] = useState<Execution | null>(null);
  const [status, setStatus] = useState<Record<string, string>>({});
  const [thoughts, setThoughts] = useState<Thought[]>([]);
  const [output, setOutput] = useState('');
  const [running, setRunning] = useState(false);
  const [answer, setAnswer] = useState('');

  const loadList = () =>
    api<Page<Workflow>>('/workflows?per_page=100')
      .then((p) => setList(listOf<Workflow>(p)))
      .catch((e: Error) => setMessage(e.message));
  useEffect(() => void loadList(), []);

  const loadExecs = (id: string) => api<Page<Execution>>(`/workflows/${id}/executions?per_page=20`).then((p) => setExecs(listOf<Execution>(p)));

  useEffect(() => {
    setExec(null);
    setStatus({});
    setThoughts([]);
    setOutput('');
    if (!selected) return;
    if (selected === 'new') {
      setName('My workflow');
      setYaml(NEW_YAML);
      setExecs([]);
      return;
    }
    api<Workflow>(`/workflows/id/${selected}`)
      .then((w) => {
        setName(w.name);
        setProject(w.project);
        setYaml(w.yaml_config ?? '');
      })
      .catch((e: Error) => setMessage(e.message));
    void loadExecs(selected);
  }, [selected]);

  // Validation as you type: the server's own checks, 300 ms after the last keystroke.
  useEffect(() => {
    if (!yaml) return setCheck(null);
    const c = new AbortController();
    const t = setTimeout(() => {
      api<Check>('/workflows/validate', { method: 'POST', body: { yaml_config: yaml }, signal: c.signal })
        .then(setCheck)
        .catch(() => undefined);
    }, 300);
    return () => {
      clearTimeout(t);
      c.abort();
    };
  }, [yaml]);

  async function save() {
    setMessage('');
    try {
      if (selected === 'new' || !selected) {
        const r = await api<{ data: Workflow }>('/workflows', { method: 'POST', body: { name, project, yaml_config: yaml } });
        setMessage('Saved.');
        await loadList();
        location.hash = `#/workflows/${r.data.id}`;
        setSelected(r.data.id);
      } else {
        await api(`/workflows/${selected}`, { method: 'PUT', body: { name, project, yaml_config: yaml } });
        setMessage('Saved.');
        await loadList();
      }
    } catch (e) {
      setMessage((e as Error).message);
    }
  }

  const onChunk = (ch: import('../api').StreamChunk) => {
    if (ch.workflow_execution_id && !exec) setExec((e) => e ?? ({ execution_id: ch.workflow_execution_id } as Execution));
    const ws = ch.workflow_state;
    if (ws) {
      const st = ws.event_type === 'state_start' ? 'In Progress' : ws.event_type === 'state_interrupted' ? 'Interrupted' : ws.status;
      setStatus((s) => ({ ...s, [ws.name || ws.id]: st }));
    }
    if (ch.thought) setThoughts((all) => [...all.filter((t) => t.id !== ch.thought!.id), ch.thought!]);
    if (ch.last && ch.generated != null) setOutput(typeof ch.generated === 'string' ? ch.generated : JSON.stringify(ch.generated, null, 2));
  };

  async function refreshExec(id: string, wfId: string) {
    const [e, states] = await Promise.all([
      api<Execution>(`/workflows/${wfId}/executions/${id}`),
      api<Page<ExecutionState> | ExecutionState[]>(`/workflows/${wfId}/executions/${id}/states?per_page=100`),
    ]);
    setExec(e);
    const st: Record<string, string> = {};
    for (const s of listOf<ExecutionState>(states)) st[s.state_id || s.name] = s.status;
    if (e.overall_status === 'Succeeded') st.end = 'Succeeded';
    setStatus(st);
    if (e.output) setOutput(e.output);
    return e;
  }

  // An execution opened from the list while it is still running (started elsewhere, or before a reload) is polled until it ends.
  useEffect(() => {
    if (running || !exec?.overall_status || exec.overall_status !== 'In Progress' || !selected || selected === 'new') return;
    const t = setTimeout(() => void refreshExec(exec.execution_id, selected).catch(() => undefined), 1000);
    return () => clearTimeout(t);
  }, [exec, running, selected]);

  async function follow(path: string, method: string, body: unknown, wfId: string) {
    setRunning(true);
    let id: string | null = null;
    try {
      await stream(path, { method, body }, (ch) => {
        if (ch.workflow_execution_id) id = ch.workflow_execution_id;
        onChunk(ch);
      });
    } catch (e) {
      setMessage((e as Error).message);
    } finally {
      setRunning(false);
    }
    if (id) await refreshExec(id, wfId);
    await loadExecs(wfId);
  }

  async function run() {
    if (!selected || selected === 'new') return;
    setStatus({});
    setThoughts([]);
    setOutput('');
    setExec(null);
    setMessage('');
    const tagList = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    await follow(`/workflows/${selected}/executions`, 'POST', { user_input: input, stream: true, tags: tagList }, selected);
  }

  async function resume() {
    if (!selected || !exec) return;
    setThoughts([]);
    await follow(`/workflows/${selected}/executions/${exec.execution_id}/resume?stream=true`, 'PUT', answer ? { user_input: answer } : {}, selected);
    setAnswer('');
  }

  const badLine = check && !check.valid ? (check.errors[0]?.line ?? null) : null;
  const execStatus = exec?.overall_status;
  return (
    <div className="split">
      <aside className="card">
        <div className="row">
          <h2 style={{ flex: 1 }}>Workflows</h2>
          <button
            className="secondary"
            onClick={() => {
              location.hash = '#/workflows/new';
              setSelected('new');
            }}
          >
            New workflow
          </button>
        </div>
        <ul className="list" aria-label="Workflows">
          {list.map((w) => (
            <li key={w.id}>
              <button
                aria-current={w.id === selected}
                onClick={() => {
                  location.hash = `#/workflows/${w.id}`;
                  setSelected(w.id);
                }}
              >
                {w.name}
              </button>
            </li>
          ))}
        </ul>
        {execs.length ? (
          <>
            <h3>Past executions</h3>
            <ul className="list" aria-label="Executions">
              {execs.map((e) => (
                <li key={e.execution_id}>
                  <button aria-current={e.execution_id === exec?.execution_id} onClick={() => selected && void refreshExec(e.execution_id, selected)}>
                    <span className={`status ${e.overall_status}`}>{e.overall_status}</span>{' '}
                    <span className="muted">{e.date?.slice(0, 19).replace('T', ' ')}</span>
                  </button>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </aside>
      {selected ? (
        <section className="card">
          <div className="grid2">
            <div>
              <label htmlFor="wf-name">Name</label>
              <input id="wf-name" value={name} onChange={(e) => setName(e.target.value)} />
            </div>
            <div>
              <label htmlFor="wf-project">Project</label>
              <input id="wf-project" value={project} onChange={(e) => setProject(e.target.value)} />
            </div>
          </div>
          <div className="grid2">
            <div>
              <label htmlFor="yaml">YAML</label>
              <YamlEditor value={yaml} onChange={setYaml} badLine={badLine} />
              <p aria-live="polite" className={check?.valid ? 'muted' : 'error'} data-testid="validation">
                {check
                  ? check.valid
                    ? `Valid: ${check.states.length} state${check.states.length === 1 ? '' : 's'}`
                    : `${check.errors[0]?.message ?? 'Invalid'}`
                  : ''}
              </p>
              <div className="row">
                <button onClick={() => void save()}>Save</button>
                {message ? <span role="status">{message}</span> : null}
              </div>
            </div>
            <div>
              <h3>Graph</h3>
              <Graph states={check?.valid ? check.states : []} status={status} />
              {selected !== 'new' ? (
                <>
                  <label htmlFor="wf-input">Input</label>
                  <textarea id="wf-input" rows={2} value={input} onChange={(e) => setInput(e.target.value)} />
                  <label htmlFor="wf-tags">Tags (comma-separated)</label>
                  <input id="wf-tags" value={tags} onChange={(e) => setTags(e.target.value)} />
                  <div className="row" style={{ marginTop: '.6rem' }}>
                    <button onClick={() => void run()} disabled={running}>
                      Run
                    </button>
                    {running && exec ? (
                      <button className="secondary" onClick={() => void api(`/workflows/${selected}/executions/${exec.execution_id}/abort`, { method: 'PUT' })}>
                        Abort
                      </button>
                    ) : null}
                    {execStatus ? (
                      <span className={`status ${execStatus}`} data-testid="execution-status">
                        {execStatus}
                      </span>
                    ) : running ? (
                      <span className="status InProgress">Running</span>
                    ) : null}
                  </div>
                  {execStatus === 'Interrupted' && !running ? (
                    <div className="card" style={{ marginTop: '.6rem' }}>
                      <p>The workflow is waiting for you before the next state.</p>
                      <label htmlFor="wf-answer">Your answer (optional)</label>
                      <textarea id="wf-answer" rows={2} value={answer} onChange={(e) => setAnswer(e.target.value)} />
                      <button onClick={() => void resume()} style={{ marginTop: '.5rem' }}>
                        Continue
                      </button>
                    </div>
                  ) : null}
                  {thoughts.length ? <h3>Thoughts</h3> : null}
                  {thoughts.map((t) => (
                    <ThoughtView key={t.id} t={t} />
                  ))}
                  {output ? (
                    <>
                      <h3>Output</h3>
                      <pre className="out" data-testid="execution-output">
                        {output}
                      </pre>
                    </>
                  ) : null}
                </>
              ) : (
                <p className="muted">Save the workflow to run it.</p>
              )}
            </div>
          </div>
        </section>
      ) : (
        <section className="card">
          <p>Pick a workflow, or create one.</p>
        </section>
      )}
    </div>
  );
}

export { TERMINAL };
