/**
 * Usage: the server's analytics (`/v1/analytics/*`) with its time, project and user filters, and
 * the activity log (`/v1/admin/activity-events`). The server decides what each caller sees:
 * administrators and auditors everything, project administrators their projects, anyone else their
 * own usage; the activity log is for administrators and auditors (a 403 says so).
 */
import { useEffect, useState } from 'react';
import { api, ApiFailure, type Schemas } from '../api';
import { BarChart } from './charts';

type Tabular = Schemas['AnalyticsTabularResponse'];
type Summaries = Schemas['AnalyticsSummariesResponse'];
type ActivityPage = Schemas['PaginatedActivityEvents'];

const PERIODS = [
  ['last_24_hours', 'Last 24 hours'],
  ['last_7_days', 'Last 7 days'],
  ['last_30_days', 'Last 30 days'],
  ['last_60_days', 'Last 60 days'],
  ['last_year', 'Last year'],
] as const;

const TABLES = [
  ['assistants-chats', 'Assistants'],
  ['workflows', 'Workflows'],
  ['tools-usage', 'Tools'],
  ['projects-spending', 'Spending per project'],
] as const;

interface Filters {
  period: string;
  projects: string;
  users: string;
}

/** A section's state: loading, its data, or why it could not be shown. */
type Loaded<T> = { data?: T; error?: string };

function failure(e: unknown, what: string): string {
  if (e instanceof ApiFailure && e.status === 403) return `You are not allowed to see ${what}.`;
  return `${what[0]!.toUpperCase()}${what.slice(1)} could not be loaded: ${(e as Error).message}`;
}

function useLoad<T>(path: string | null, what: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({});
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState({});
    api<T>(path)
      .then((data) => live && setState({ data }))
      .catch((e) => live && setState({ error: failure(e, what) }));
    return () => {
      live = false;
    };
  }, [path, what]);
  return state;
}

function Status({ state }: { state: Loaded<unknown> }) {
  if (state.error)
    return (
      <p role="alert" className="error">
        {state.error}
      </p>
    );
  return state.data ? null : <p className="muted">Loading…</p>;
}

const fmt = (v: unknown, format?: string) => {
  if (typeof v === 'number') {
    // Single calls cost fractions of a cent: small amounts keep four decimals.
    if (format === 'currency') return `$${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 4 : 2)}`;
    return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
};

function Table({ title, state }: { title: string; state: Loaded<Tabular> }) {
  const t = state.data?.data;
  return (
    <section className="card">
      <h3>{title}</h3>
      <Status state={state} />
      {t && !t.rows.length ? <p className="muted">Nothing in this period.</p> : null}
      {t && t.rows.length ? (
        <div className="scroll-x">
          <table aria-label={title}>
            <thead>
              <tr>
                {t.columns.map((c) => (
                  <th key={c.id} title={c.description}>
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {t.rows.map((r, i) => (
                <tr key={i}>
                  {t.columns.map((c) => (
                    <td key={c.id} data-col={c.id}>
                      {fmt(r[c.id], c.format)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Chart({ title, state, label, value }: { title: string; state: Loaded<Tabular>; label: string; value: string }) {
  const rows = state.data?.data.rows ?? [];
  return (
    <section className="card">
      <Status state={state} />
      {state.data ? (
        rows.length ? (
          <BarChart title={title} data={rows.slice(0, 12).map((r) => ({ label: String(r[label] ?? '—'), value: Number(r[value] ?? 0) }))} />
        ) : (
          <p className="muted">
            <strong>{title}</strong>: nothing in this period.
          </p>
        )
      ) : null}
    </section>
  );
}

function ActivityLog() {
  const [offset, setOffset] = useState(0);
  const limit = 20;
  const state = useLoad<ActivityPage>(`/admin/activity-events?limit=${limit}&offset=${offset}`, 'the activity log (administrators and auditors only)');
  const p = state.data;
  return (
    <section className="card">
      <h3>Activity log</h3>
      <Status state={state} />
      {p ? (
        <>
          <div className="scroll-x">
            <table aria-label="Activity log">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>Event</th>
                  <th>Entity</th>
                </tr>
              </thead>
              <tbody>
                {p.data.map((e) => (
                  <tr key={e.id} data-event={e.event_type}>
                    <td>{new Date(e.created_at).toLocaleString()}</td>
                    <td title={e.actor_email ?? undefined}>{e.actor_name ?? e.actor_id ?? ''}</td>
                    <td>{e.event_type}</td>
                    <td>{[e.entity_type, e.entity_id].filter(Boolean).join(': ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row">
            <button className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>
              Newer
            </button>
            <span className="muted">{p.pagination.total ? `${offset + 1}–${offset + p.data.length} of ${p.pagination.total}` : 'No events.'}</span>
            <button className="secondary" disabled={offset + limit >= p.pagination.total} onClick={() => setOffset(offset + limit)}>
              Older
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

export function UsagePage() {
  const [draft, setDraft] = useState<Filters>({ period: 'last_30_days', projects: '', users: '' });
  const [applied, setApplied] = useState<Filters>(draft);
  const qs = new URLSearchParams({ time_period: applied.period });
  if (applied.projects.trim()) qs.set('projects', applied.projects.trim());
  if (applied.users.trim()) qs.set('users', applied.users.trim());
  const q = qs.toString();
  const summaries = useLoad<Summaries>(`/analytics/summaries?${q}`, 'the usage totals');
  const models = useLoad<Tabular>(`/analytics/llms-usage?${q}&per_page=50`, 'model usage');
  const users = useLoad<Tabular>(`/analytics/users-spending?${q}&per_page=50`, 'spending per user');
  const tables = {
    'assistants-chats': useLoad<Tabular>(`/analytics/assistants-chats?${q}&per_page=50`, 'assistant usage'),
    workflows: useLoad<Tabular>(`/analytics/workflows?${q}&per_page=50`, 'workflow usage'),
    'tools-usage': useLoad<Tabular>(`/analytics/tools-usage?${q}&per_page=50`, 'tool usage'),
    'projects-spending': useLoad<Tabular>(`/analytics/projects-spending?${q}&per_page=50`, 'spending per project'),
  };
  const shown = [
    'total_money_spent',
    'total_tokens',
    'total_input_tokens',
    'total_output_tokens',
    'unique_assistants_invoked',
    'unique_workflows_invoked',
    'mcps_invoked',
    'webhooks_invoked',
  ];
  const metrics = (summaries.data?.data.metrics ?? []).filter((m) => shown.includes(m.id));

  return (
    <div className="usage">
      <h2>Usage</h2>
      <form
        className="row filters"
        aria-label="Usage filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(draft);
        }}
      >
        <label>
          Time period
          <select
            value={draft.period}
            onChange={(e) => {
              const next = { ...draft, period: e.target.value };
              setDraft(next);
              setApplied(next);
            }}
          >
            {PERIODS.map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Projects (comma-separated)
          <input value={draft.projects} onChange={(e) => setDraft({ ...draft, projects: e.target.value })} />
        </label>
        <label>
          Users (comma-separated)
          <input value={draft.users} onChange={(e) => setDraft({ ...draft, users: e.target.value })} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <p className="muted">Administrators and auditors see everyone's usage, project administrators their projects', everyone else their own.</p>
      <section className="card" aria-label="Totals">
        <Status state={summaries} />
        {metrics.length ? (
          <dl className="metrics">
            {metrics.map((m) => (
              <div key={m.id} data-metric={m.id} data-value={String(m.value)} title={m.description}>
                <dt>{m.label}</dt>
                <dd>{fmt(m.value, m.format)}</dd>
              </div>
            ))}
          </dl>
        ) : null}
      </section>
      <div className="grid2">
        <Chart title="Model calls by model" state={models} label="model_name" value="total_requests" />
        <Chart title="Money spent per user ($)" state={users} label="user_email" value="total_cost_usd" />
        {TABLES.map(([id, title]) => (
          <Table key={id} title={title} state={tables[id]} />
        ))}
      </div>
      <ActivityLog />
    </div>
  );
}
