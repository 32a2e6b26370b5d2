import { useState, type FormEvent } from 'react';
import { unwrap } from '@jobs/client';
import { Link } from '../components/Link';
import { ProblemView } from '../components/ProblemView';
import { StatusBadge } from '../components/StatusBadge';
import { useSession } from '../session';
import { uploadFile } from '../upload';
import { usePoll } from '../use-poll';

export function SourcesView() {
  const { client } = useSession();
  const sources = usePoll(async (signal) => unwrap(await client.GET('/api/sources', { signal })), 'sources', null);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      unwrap(await client.POST('/api/sources', { body: { name: name.trim() } }));
      setName('');
      sources.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="sources-title">
      <h1 id="sources-title">Sources and files</h1>
      <form className="inline-form" onSubmit={create}>
        <label>
          New source name
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">Create source</button>
      </form>
      <ProblemView error={error ?? sources.error} />
      <ul>
        {sources.data?.map((s) => (
          <li key={s.id}>
            <Link to={`/sources/${encodeURIComponent(s.id)}`}>{s.name}</Link> <code>{s.id}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A source's files through the pipeline (pending, parsing, embedding, completed or error), and an upload form. */
export function SourceView({ id }: { id: string }) {
  const { client, authHeaders } = useSession();
  const files = usePoll(
    async (signal) =>
      unwrap(
        await client.GET('/api/sources/{id}/files', {
          params: { path: { id }, query: { check_status_updates: true } },
          signal,
        }),
      ),
    `files:${id}`,
    2000,
  );
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const upload = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setSent(0);
    try {
      await uploadFile({ baseUrl: client.baseUrl, headers: authHeaders, sourceId: id, file, onProgress: setSent });
      setSent(1);
      files.reload();
    } catch (err) {
      setSent(null);
      setError(err);
    }
  };
  return (
    <section aria-labelledby="source-title">
      <h1 id="source-title">Source files</h1>
      <p>
        <code>{id}</code>
      </p>
      <form className="inline-form" onSubmit={upload}>
        <label>
          File
          <input name="file" type="file" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="submit" disabled={!file || (sent !== null && sent < 1)}>
          Upload
        </button>
        {sent !== null && <progress aria-label="Upload progress" max={1} value={sent} />}
      </form>
      <ProblemView error={error ?? files.error} />
      {files.data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">State</th>
                <th scope="col">Chunks embedded</th>
              </tr>
            </thead>
            <tbody>
              {files.data.map((f) => (
                <tr key={f.id}>
                  <td>{f.name}</td>
                  <td>{f.mime_type}</td>
                  <td>{f.size_bytes} B</td>
                  <td>
                    <StatusBadge status={f.status} /> {f.error_message ?? ''}
                  </td>
                  <td>
                    {f.chunks_embedded}/{f.total_chunks ?? '?'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
