import { ProblemView } from '../components/ProblemView';
import { StatusBadge } from '../components/StatusBadge';
import { useSession } from '../session';
import { usePoll } from '../use-poll';

type Item = { id: string; custom_id: string; status: string; updated_at: string };

/** An LLM batch's items, grouped by status (all pages, following Link rel=next). */
export function BatchItems({ id, live }: { id: string; live: boolean }) {
  const { client } = useSession();
  const items = usePoll(
    async (signal) => {
      const all: Item[] = [];
      for await (const page of client.pages('/api/batches/{id}/items', { limit: 1000 }, { path: { id }, signal }))
        all.push(...page);
      return all;
    },
    `items:${id}`,
    live ? 3000 : null,
  );
  const groups = new Map<string, Item[]>();
  for (const item of items.data ?? []) groups.set(item.status, [...(groups.get(item.status) ?? []), item]);
  return (
    <>
      <h2>Batch items</h2>
      <ProblemView error={items.error} />
      {[...groups].map(([status, list]) => (
        <details key={status} className="batch-group">
          <summary>
            <StatusBadge status={status} /> {list.length}
          </summary>
          <ul>
            {list.map((i) => (
              <li key={i.id}>
                <code>{i.custom_id}</code> {i.updated_at}
              </li>
            ))}
          </ul>
        </details>
      ))}
    </>
  );
}
