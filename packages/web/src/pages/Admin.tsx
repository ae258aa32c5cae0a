/** Admin: projects and users with their roles and projects (platform admins). */
import { useEffect, useState } from 'react';
import { api, type Schemas } from '../api';
import { listOf } from './Chat';

export function AdminPage() {
  const [projects, setProjects] = useState<Schemas['ProjectListItem'][]>([]);
  const [users, setUsers] = useState<Schemas['AdminUserListItem'][]>([]);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [msg, setMsg] = useState('');
  const load = () => {
    api<unknown>('/projects?per_page=100')
      .then((v) => setProjects(listOf(v)))
      .catch((e: Error) => setError(e.message));
    api<unknown>('/admin/users?per_page=100')
      .then((v) => setUsers(listOf(v)))
      .catch((e: Error) => setError(e.message));
  };
  useEffect(load, []);
  async function create(e: React.FormEvent) {
    e.preventDefault();
    try {
      await api('/projects', { method: 'POST', body: { name, description: '' } });
      setMsg(`Project ${name} created.`);
      setName('');
      load();
    } catch (err) {
      setMsg((err as Error).message);
    }
  }
  return (
    <div className="grid2">
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <section className="card">
        <h2>Projects</h2>
        <form className="row" onSubmit={create}>
          <label htmlFor="p-name" style={{ margin: 0 }}>
            New project
          </label>
          <input id="p-name" style={{ flex: 1 }} value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit" disabled={!name}>
            Create
          </button>
        </form>
        {msg ? <p role="status">{msg}</p> : null}
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Members</th>
              <th>Assistants</th>
              <th>Workflows</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.name}>
                <td>{p.name}</td>
                <td>{p.user_count}</td>
                <td>{(p.counters as { assistants_count?: number } | null)?.assistants_count ?? ''}</td>
                <td>{(p.counters as { workflows_count?: number } | null)?.workflows_count ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Users</h2>
        <table>
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Projects</th>
              <th>Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.username}
                  <div className="muted">{u.email}</div>
                </td>
                <td>{u.is_admin ? 'admin' : u.is_maintainer ? 'maintainer' : u.is_auditor ? 'auditor' : 'user'}</td>
                <td>{u.projects.map((p) => (p as { name: string }).name).join(', ')}</td>
                <td>{u.last_login_at?.slice(0, 16).replace('T', ' ') ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
