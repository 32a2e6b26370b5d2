import { ApiError } from '@jobs/client';

/** An error as the API states it (RFC 9457 problem document): its status, detail and every named field. */
export function ProblemView({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  if (error instanceof ApiError) {
    const { problem } = error;
    return (
      <div role="alert" className="problem">
        <strong>
          {error.status} {problem.title ?? 'Error'}
        </strong>
        {problem.detail && <p>{problem.detail}</p>}
        {error.errors.length > 0 && (
          <ul>
            {error.errors.map((e) => (
              <li key={`${e.path}:${e.message}`}>
                <code>{e.path}</code>: {e.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  return (
    <div role="alert" className="problem">
      <strong>Error</strong>
      <p>{error instanceof Error ? error.message : String(error)}</p>
    </div>
  );
}
