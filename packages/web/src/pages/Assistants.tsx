/** Assistants: list and search, create and edit (name, description, prompt, model, project, sub-assistants, sharing). */
import { useEffect, useState } from 'react';
import { api, type Assistant } from '../api';
import { listOf } from './Chat';

interface Form {
  name: string;
  description: string;
  system_prompt: string;
  llm_model_type: string;
  project: string;
  shared: boolean;
  conversation_starters: string;
  assistant_ids: string[];
}

const EMPTY: Form = {
  name: '',
  description: '',
  system_prompt: '',
  llm_model_type: '',
  project: 'demo',
  shared: true,
  conversation_starters: '',
  assistant_ids: [],
};

export function AssistantsPage() {
  const [list, setList] = useState<Assistant[]>([]);
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [form, setForm] = useState<Form>(EMPTY);
  const [models, setModels] = useState<Array<{ base_name: string; label?: string }>>([]);
  const [message, setMessage] = useState('');

  const load = () =>
    api<unknown>('/assistants?per_page=100&scope=visible_to_user')
      .then((v) => setList(listOf<Assistant>(v)))
      .catch((e: Error) => setMessage(e.message));
  useEffect(() => {
    void load();
    api<unknown>('/llm_models')
      .then((v) => setModels(listOf(v)))
      .catch(() => undefined);
  }, []);

  const edit = async (id: string | null) => {
    setMessage('');
    setEditing(id ?? 'new');
    if (!id) return setForm(EMPTY);
    const a = await api<Assistant>(`/assistants/id/${id}`);
    setForm({
      name: a.name,
      description: a.description ?? '',
      system_prompt: a.system_prompt ?? '',
      llm_model_type: a.llm_model_type ?? '',
      project: a.project,
      shared: !!a.shared,
      conversation_starters: (a.conversation_starters ?? []).join('\n'),
      assistant_ids: a.assistant_ids ?? [],
    });
  };

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const body = {
      ...form,
      llm_model_type: form.llm_model_type || null,
      conversation_starters: form.conversation_starters
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean),
    };
    try {
      if (editing === 'new') {
        await api('/assistants', { method: 'POST', body });
        setMessage('Assistant created.');
      } else {
        await api(`/assistants/${editing}`, { method: 'PUT', body });
        setMessage('Assistant saved.');
      }
      setEditing(null);
      await load();
    } catch (err) {
      setMessage((err as Error).message);
    }
  }

  const shown = list.filter((a) => !search || `${a.name} ${a.description ?? ''}`.toLowerCase().includes(search.toLowerCase()));
  const set = (k: keyof Form) => (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
    setForm({ ...form, [k]: e.target.value });
  return (
    <div className="split">
      <aside className="card">
        <div className="row">
          <h2 style={{ flex: 1 }}>Assistants</h2>
          <button className="secondary" onClick={() => void edit(null)}>
            New assistant
          </button>
        </div>
        <label htmlFor="a-search">Search</label>
        <input id="a-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <ul className="list" aria-label="Assistants" style={{ marginTop: '.5rem' }}>
          {shown.map((a) => (
            <li key={a.id}>
              <button aria-current={a.id === editing} onClick={() => void edit(a.id)}>
                {a.name} <span className="muted">{a.project}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section className="card">
        {message ? <p role="status">{message}</p> : null}
        {editing ? (
          <form onSubmit={save}>
            <h2>{editing === 'new' ? 'New assistant' : `Edit ${form.name}`}</h2>
            <div className="grid2">
              <div>
                <label htmlFor="a-name">Name</label>
                <input id="a-name" required value={form.name} onChange={set('name')} />
              </div>
              <div>
                <label htmlFor="a-project">Project</label>
                <input id="a-project" required value={form.project} onChange={set('project')} />
              </div>
            </div>
            <label htmlFor="a-desc">Description</label>
            <input id="a-desc" value={form.description} onChange={set('description')} />
            <label htmlFor="a-prompt">System prompt</label>
            <textarea id="a-prompt" rows={6} value={form.system_prompt} onChange={set('system_prompt')} />
            <div className="grid2">
              <div>
                <label htmlFor="a-model">Model</label>
                <select id="a-model" value={form.llm_model_type} onChange={set('llm_model_type')}>
                  <option value="">Default model</option>
                  {models.map((m) => (
                    <option key={m.base_name} value={m.base_name}>
                      {m.label ?? m.base_name}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label htmlFor="a-shared">
                  <input
                    id="a-shared"
                    type="checkbox"
                    style={{ width: 'auto' }}
                    checked={form.shared}
                    onChange={(e) => setForm({ ...form, shared: e.target.checked })}
                  />{' '}
                  Shared with the project
                </label>
              </div>
            </div>
            <label htmlFor="a-starters">Conversation starters (one a line)</label>
            <textarea id="a-starters" rows={3} value={form.conversation_starters} onChange={set('conversation_starters')} />
            <label htmlFor="a-subs">Sub-assistants</label>
            <select
              id="a-subs"
              multiple
              value={form.assistant_ids}
              onChange={(e) => setForm({ ...form, assistant_ids: [...e.target.selectedOptions].map((o) => o.value) })}
            >
              {list
                .filter((a) => a.id !== editing)
                .map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
            </select>
            <div className="row" style={{ marginTop: '.8rem' }}>
              <button type="submit">Save</button>
              <button type="button" className="secondary" onClick={() => setEditing(null)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <p>Pick an assistant to edit it, or create one.</p>
        )}
      </section>
    </div>
  );
}
