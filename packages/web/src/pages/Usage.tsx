/**
 * Usage. The platform has no analytics API yet (issue #25), so these charts are computed in the
 * browser from what the API already returns: the caller's conversations and the executions of the
 * workflows they can see, with the tokens recorded on each execution.
 */
import { useEffect, useState } from 'react';
import { api, type Execution, type Page, type Workflow } from '../api';
import { listOf } from './Chat';
import { BarChart } from './charts';

interface Conv {
  date: string;
  very_first_msg_at: string | null;
}

function lastDays(n: number): string[] {
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10));
  return out;
}

export function UsagePage() {
  const [convs, setConvs] = useState<Conv[] | null>(null);
  const [execs, setExecs] = useState<Execution[] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    api<unknown>('/conversations')
      .then((v) => setConvs(listOf<Conv>(v)))
      .catch((e: Error) => setError(e.message));
    (async () => {
      const wfs = listOf<Workflow>(await api<Page<Workflow>>('/workflows?per_page=100'));
      const all = await Promise.all(
        wfs.map((w) =>
          api<Page<Execution>>(`/workflows/${w.id}/executions?per_page=100`)
            .then((p) => listOf<Execution>(p))
            .catch(() => []),
        ),
      );
      setExecs(all.flat());
    })().catch((e: Error) => setError(e.message));
  }, []);

  const days = lastDays(14);
  const perDay = (dates: string[]) => days.map((d) => ({ label: d.slice(5), value: dates.filter((x) => x.slice(0, 10) === d).length }));
  const statuses = ['Succeeded', 'Failed', 'Interrupted', 'In Progress', 'Aborted'];
  const tokens = (e: Execution) => {
    const u = e.tokens_usage as { input_tokens?: number; output_tokens?: number } | null;
    return (u?.input_tokens ?? 0) + (u?.output_tokens ?? 0);
  };
  return (
    <div>
      <h2>Usage</h2>
      <p className="muted">Computed from your conversations and the workflow executions you can see (the analytics API is not on this server yet).</p>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <div className="grid2">
        {convs ? <BarChart title="Conversations started per day" data={perDay(convs.map((c) => c.very_first_msg_at ?? c.date))} /> : <p>Loading…</p>}
        {execs ? <BarChart title="Workflow executions per day" data={perDay(execs.map((e) => e.date))} /> : <p>Loading…</p>}
        {execs ? (
          <BarChart
            title="Workflow executions by status"
            data={statuses.map((s) => ({ label: s, value: execs.filter((e) => e.overall_status === s).length }))}
          />
        ) : null}
        {execs ? (
          <BarChart
            title="Workflow tokens per day"
            data={days.map((d) => ({ label: d.slice(5), value: execs.filter((e) => e.date.slice(0, 10) === d).reduce((n, e) => n + tokens(e), 0) }))}
          />
        ) : null}
      </div>
    </div>
  );
}
