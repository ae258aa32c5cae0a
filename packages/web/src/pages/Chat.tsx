/** Chat: pick an assistant, stream its answer with thoughts and tool calls as they happen, stop, continue a conversation. */
import { useEffect, useRef, useState } from 'react';
import { api, stream, type Assistant, type Thought } from '../api';

interface Msg {
  role: 'user' | 'assistant';
  text: string;
  thoughts: Thought[];
  error?: string;
  streaming?: boolean;
}

interface ConvItem {
  id: string;
  name: string;
  date: string;
  initial_assistant_id: string | null;
  assistant_ids: string[];
}

interface LlmModel {
  base_name: string;
  label?: string;
  default?: boolean;
}

export function listOf<T>(v: unknown): T[] {
  if (Array.isArray(v)) return v as T[];
  const d = (v as { data?: unknown })?.data;
  return Array.isArray(d) ? (d as T[]) : [];
}

/** The reference streams the answer itself as a thought of this author too; the console shows it as the answer. */
const ANSWER_AUTHOR = 'Codemie Thoughts';

/** Puts a streamed thought in place: the same id updates it, a parent id nests it. */
function upsert(list: Thought[], t: Thought): Thought[] {
  const i = list.findIndex((x) => x.id === t.id);
  if (i >= 0) {
    const prev = list[i];
    const merged = {
      ...prev,
      ...t,
      message: t.in_progress && prev.in_progress ? prev.message + t.message : t.message || prev.message,
      children: prev.children,
    };
    return list.map((x, j) => (j === i ? merged : x));
  }
  if (t.parent_id) {
    const pi = list.findIndex((x) => x.id === t.parent_id);
    if (pi >= 0) return list.map((x, j) => (j === pi ? { ...x, children: upsert(x.children ?? [], t) } : x));
  }
  return [...list, t];
}

export function ThoughtView({ t }: { t: Thought }) {
  const tool = t.author_type === 'Tool';
  return (
    <details className={`thought ${t.in_progress ? '' : 'done'}`} open={t.in_progress}>
      <summary>
        {tool ? 'Tool' : t.author_type}: <strong>{t.author_name}</strong> {t.in_progress ? '…' : t.error ? '(failed)' : ''}
      </summary>
      {t.input_text ? <div className="muted">Input: {t.input_text}</div> : null}
      {t.message ? <div>{t.message}</div> : null}
      {(t.children ?? []).map((c) => (
        <ThoughtView key={c.id} t={c} />
      ))}
    </details>
  );
}

export function ChatPage({ route }: { route: string[] }) {
  const [assistants, setAssistants] = useState<Assistant[]>([]);
  const [assistantId, setAssistantId] = useState<string>('');
  const [models, setModels] = useState<LlmModel[]>([]);
  const [model, setModel] = useState('');
  const [convs, setConvs] = useState<ConvItem[]>([]);
  const [convId, setConvId] = useState<string | null>(route[0] ?? null);
  const [msgs, setMsgs] = useState<Msg[]>([]);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const ctrl = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  /** A conversation this page just created: its (empty) history is not loaded over the turn in progress. */
  const created = useRef<string | null>(null);

  const loadConvs = () =>
    api<unknown>('/conversations')
      .then((v) => setConvs(listOf<ConvItem>(v)))
      .catch(() => undefined);

  useEffect(() => {
    api<unknown>('/assistants?per_page=100&scope=visible_to_user')
      .then((v) => {
        const list = listOf<Assistant>(v);
        setAssistants(list);
        if (list.length && !assistantId) setAssistantId(list[0].id);
      })
      .catch((e: Error) => setError(e.message));
    api<unknown>('/llm_models')
      .then((v) => setModels(listOf<LlmModel>(v)))
      .catch(() => undefined);
    void loadConvs();
  }, []);

  useEffect(() => {
    if (!convId || created.current === convId) return;
    api<{ history: Array<{ role: string; message: string; thoughts: Thought[] | null; assistantId: string | null }>; initial_assistant_id: string | null }>(
      `/conversations/${convId}`,
    )
      .then((c) => {
        setMsgs(
          c.history.map((h) => ({
            role: h.role.toLowerCase() === 'user' ? 'user' : 'assistant',
            text: h.message,
            thoughts: (h.thoughts ?? []).filter((t) => t.author_name !== ANSWER_AUTHOR),
          })),
        );
        if (c.initial_assistant_id) setAssistantId(c.initial_assistant_id);
      })
      .catch((e: Error) => setError(e.message));
  }, [convId]);

  useEffect(() => {
    // (Braces: newer browsers return a promise from scrollIntoView, and an effect may return only a clean-up function.)
    bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [msgs]);

  const newChat = () => {
    setConvId(null);
    setMsgs([]);
    location.hash = '#/chat';
  };

  const patchLast = (f: (m: Msg) => Msg) => setMsgs((all) => all.map((m, i) => (i === all.length - 1 ? f(m) : m)));

  async function send(e: React.FormEvent) {
    e.preventDefault();
    const question = text.trim();
    if (!question || !assistantId || busy) return;
    setText('');
    setError('');
    setBusy(true);
    setMsgs((all) => [...all, { role: 'user', text: question, thoughts: [] }, { role: 'assistant', text: '', thoughts: [], streaming: true }]);
    const c = new AbortController();
    ctrl.current = c;
    try {
      let id = convId;
      if (!id) {
        const conv = await api<{ id: string }>('/conversations', { method: 'POST', body: { initial_assistant_id: assistantId } });
        id = conv.id;
        created.current = id;
        setConvId(id);
        history.replaceState(null, '', `#/chat/${id}`);
      }
      await stream(
        `/assistants/${assistantId}/model`,
        { body: { text: question, conversation_id: id, stream: true, ...(model ? { llm_model: model } : {}) }, signal: c.signal },
        (ch) => {
          if (ch.thought && ch.thought.author_name !== ANSWER_AUTHOR) patchLast((m) => ({ ...m, thoughts: upsert(m.thoughts, ch.thought!) }));
          if (ch.generated_chunk) patchLast((m) => ({ ...m, text: m.text + ch.generated_chunk }));
          if (ch.last) {
            const final = typeof ch.generated === 'string' ? ch.generated : ch.generated != null ? JSON.stringify(ch.generated, null, 2) : null;
            const err = ch.agent_error || ch.execution_error;
            patchLast((m) => ({
              ...m,
              text: final ?? m.text,
              streaming: false,
              error: err ? String(typeof err === 'string' ? err : JSON.stringify(err)) : undefined,
            }));
          }
        },
      );
    } catch (err) {
      const aborted = (err as Error).name === 'AbortError';
      patchLast((m) => ({ ...m, streaming: false, error: aborted ? 'Stopped.' : (err as Error).message }));
    } finally {
      patchLast((m) => ({ ...m, streaming: false }));
      setBusy(false);
      ctrl.current = null;
      void loadConvs();
    }
  }

  const current = assistants.find((a) => a.id === assistantId);
  return (
    <div className="split">
      <aside className="card">
        <label htmlFor="assistant">Assistant</label>
        <select
          id="assistant"
          value={assistantId}
          onChange={(e) => {
            setAssistantId(e.target.value);
            newChat();
          }}
        >
          {assistants.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
        {models.length ? (
          <>
            <label htmlFor="model">Model</label>
            <select id="model" value={model} onChange={(e) => setModel(e.target.value)}>
              <option value="">Assistant's default</option>
              {models.map((m) => (
                <option key={m.base_name} value={m.base_name}>
                  {m.label ?? m.base_name}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <div className="row" style={{ marginTop: '.8rem' }}>
          <button className="secondary" onClick={newChat}>
            New chat
          </button>
        </div>
        <h3>Conversations</h3>
        <ul className="list" aria-label="Conversations">
          {convs.map((c) => (
            <li key={c.id}>
              <button
                aria-current={c.id === convId}
                onClick={() => {
                  setConvId(c.id);
                  location.hash = `#/chat/${c.id}`;
                }}
              >
                {c.name || 'Untitled'} <span className="muted">{c.date?.slice(0, 10)}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section className="card" aria-label="Chat">
        <h2>{current?.name ?? 'Chat'}</h2>
        {current?.description ? <p className="muted">{current.description}</p> : null}
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <div className="messages" aria-live="polite">
          {msgs.length === 0 && current?.conversation_starters?.length ? (
            <div className="row">
              {current.conversation_starters.map((s) => (
                <button key={s} className="secondary" onClick={() => setText(s)}>
                  {s}
                </button>
              ))}
            </div>
          ) : null}
          {msgs.map((m, i) => (
            <div key={i} className={`msg ${m.role}`} data-role={m.role} data-streaming={m.streaming ? 'true' : undefined}>
              {m.thoughts.map((t) => (
                <ThoughtView key={t.id} t={t} />
              ))}
              <div className="text">{m.text || (m.streaming ? '…' : '')}</div>
              {m.error ? <div className="error">{m.error}</div> : null}
            </div>
          ))}
          <div ref={bottom} />
        </div>
        <form className="composer" onSubmit={send}>
          <div className="field">
            <label htmlFor="message">Message</label>
            <textarea
              id="message"
              rows={2}
              value={text}
              onChange={(e) => setText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) void send(e);
              }}
            />
          </div>
          {busy ? (
            <button type="button" className="secondary" onClick={() => ctrl.current?.abort()}>
              Stop
            </button>
          ) : (
            <button type="submit" disabled={!assistantId}>
              Send
            </button>
          )}
        </form>
      </section>
    </div>
  );
}
