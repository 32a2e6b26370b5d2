import { unwrap } from '@jobs/client';
import { ProblemView } from '../components/ProblemView';
import { useSession } from '../session';
import { usePoll } from '../use-poll';

const ms = (ns: number | null) => (ns === null ? '—' : `${(ns / 1e6).toFixed(1)} ms`);

/** A run's steps (with time to first token) and messages, asked for again while the run goes on. */
export function RunDetails({ id, live }: { id: string; live: boolean }) {
  const { client } = useSession();
  const path = { params: { path: { id } } };
  const steps = usePoll(
    async (signal) => unwrap(await client.GET('/api/runs/{id}/steps', { ...path, signal })),
    `steps:${id}`,
    live ? 2000 : null,
  );
  const messages = usePoll(
    async (signal) => unwrap(await client.GET('/api/runs/{id}/messages', { ...path, signal })),
    `messages:${id}`,
    live ? 2000 : null,
  );
  return (
    <>
      <h2>Steps</h2>
      <ProblemView error={steps.error} />
      {steps.data && (
        <div className="table-wrap">
          <table className="steps">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Model</th>
                <th scope="col">Stop reason</th>
                <th scope="col">Tokens in/out</th>
                <th scope="col">TTFT</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {steps.data.map((s) => (
                <tr key={s.id}>
                  <td>
                    <code>{s.id.slice(0, 13)}…</code>
                  </td>
                  <td>{s.model}</td>
                  <td>{s.stop_reason ?? '—'}</td>
                  <td>
                    {s.usage.input_tokens}/{s.usage.output_tokens}
                  </td>
                  <td>{ms(s.ttft_ns)}</td>
                  <td>{ms(s.duration_ns)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Messages</h2>
      <ProblemView error={messages.error} />
      <ol className="messages">
        {messages.data?.map((m) => (
          <li key={m.id}>
            <strong>{m.role}</strong>
            <pre tabIndex={0}>{typeof m.content === 'string' ? m.content : JSON.stringify(m.content, null, 2)}</pre>
          </li>
        ))}
      </ol>
    </>
  );
}
