/** The console's shell: sign-in state, navigation (hash routes, so the server serves one page), pages. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { auth } from './auth';
import { ChatPage } from './pages/Chat';
import { WorkflowsPage } from './pages/Workflows';
import { AssistantsPage } from './pages/Assistants';
import { UsagePage } from './pages/Usage';
import { AdminPage } from './pages/Admin';

const PAGES = [
  { id: 'chat', label: 'Chat' },
  { id: 'assistants', label: 'Assistants' },
  { id: 'workflows', label: 'Workflows' },
  { id: 'usage', label: 'Usage' },
  { id: 'admin', label: 'Admin' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

let version = 0;
const subscribe = (fn: () => void) =>
  auth.onChange(() => {
    version++;
    fn();
  });

function useHashRoute(): [PageId, string[]] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/');
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const on = () => setParts(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const page = (PAGES.find((p) => p.id === parts[0])?.id ?? 'chat') as PageId;
  return [page, parts.slice(1)];
}

export function App() {
  useSyncExternalStore(subscribe, () => version);
  const [phase, setPhase] = useState<'loading' | 'ready' | 'failed'>('loading');
  const [failure, setFailure] = useState('');
  const [page, rest] = useHashRoute();
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    auth
      .start()
      .then(() => setPhase('ready'))
      .catch((err: Error) => {
        setFailure(err.message);
        setPhase('failed');
      });
  }, []);

  if (phase === 'failed')
    return (
      <main className="center">
        <p role="alert">The console could not start: {failure}</p>
      </main>
    );
  if (!auth.signedIn) {
    return (
      <main className="center">
        <div className="card narrow">
          <h1>CodeMie</h1>
          {phase === 'loading' ? <p>Loading…</p> : null}
          {auth.error ? (
            <p role="alert" className="error">
              {auth.error}
            </p>
          ) : null}
          {phase === 'ready' ? (
            <>
              <p>You are signed out.</p>
              <button onClick={() => void auth.signIn()}>Sign in</button>
            </>
          ) : null}
        </div>
      </main>
    );
  }
  return (
    <div className="shell">
      <header className="top">
        <button className="menu-toggle" aria-label="Menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
          ☰
        </button>
        <strong className="brand">CodeMie</strong>
        <nav aria-label="Main" className={menuOpen ? 'open' : ''}>
          {PAGES.filter((p) => p.id !== 'admin' || auth.isAdmin).map((p) => (
            <a key={p.id} href={`#/${p.id}`} aria-current={page === p.id ? 'page' : undefined} onClick={() => setMenuOpen(false)}>
              {p.label}
            </a>
          ))}
        </nav>
        <span className="who" title={auth.claims?.email}>
          {auth.claims?.preferred_username}
        </span>
        <button className="secondary" onClick={() => void auth.signOut()}>
          Sign out
        </button>
      </header>
      <main className="content">
        {page === 'chat' && <ChatPage route={rest} />}
        {page === 'assistants' && <AssistantsPage />}
        {page === 'workflows' && <WorkflowsPage route={rest} />}
        {page === 'usage' && <UsagePage />}
        {page === 'admin' && <AdminPage />}
      </main>
    </div>
  );
}
