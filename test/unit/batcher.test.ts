import { Batcher } from '../../packages/db/src/batcher';

/** A run function that records its batches and answers when told to. */
function recorder() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((i) => i * 10);
  };
  const openAll = async () => {
    while (gates.length) gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, run, openAll };
}

describe('Batcher', () => {
  it('sends a lone call alone, at once', async () => {
    const r = recorder();
    const b = new Batcher(r.run);
    const out = b.add(1);
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([[1]]);
    await r.openAll();
    await expect(out).resolves.toBe(10);
  });

  it('groups the calls that arrive while the flushes in flight run, keeping each answer with its caller', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 1, maxBatch: 3 });
    const first = b.add(1);
    await new Promise((res) => setImmediate(res));
    const later = [2, 3, 4, 5, 6].map((i) => b.add(i));
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([[1]]);
    await r.openAll();
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    await r.openAll();
    expect(r.batches).toEqual([[1], [2, 3, 4], [5, 6]]);
    await r.openAll();
    await expect(Promise.all([first, ...later])).resolves.toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('never puts two items with the same key in one batch', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 1 }, (i: number) => String(i % 2));
    const all = [1, 2, 3, 4].map((i) => b.add(i));
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([[1, 2]]);
    await r.openAll();
    expect(r.batches).toEqual([[1, 2], [3, 4]]);
    await r.openAll();
    await expect(Promise.all(all)).resolves.toEqual([10, 20, 30, 40]);
  });

  it('answers repeats of a key from one run when told to share them (reads)', async () => {
    const r = recorder();
    const b = new Batcher(r.run, { maxInFlight: 1, repeats: 'share' }, (i: number) => String(i));
    const first = b.add(7);
    await new Promise((res) => setImmediate(res));
    const later = [7, 7, 8, 7].map((i) => b.add(i));
    await new Promise((res) => setImmediate(res));
    await r.openAll();
    expect(r.batches).toEqual([[7], [7, 8]]);
    await r.openAll();
    await expect(Promise.all([first, ...later])).resolves.toEqual([70, 70, 70, 80, 70]);
  });

  it('fails only the item that fails: a failed batch is retried item by item', async () => {
    const seen: number[][] = [];
    const b = new Batcher(async (items: number[]) => {
      seen.push(items);
      if (items.includes(2)) throw new Error('bad item 2');
      return items.map((i) => i * 10);
    });
    const all = [1, 2, 3].map((i) => b.add(i).then((v) => ({ v }), (e: Error) => ({ e: e.message })));
    await expect(Promise.all(all)).resolves.toEqual([{ v: 10 }, { e: 'bad item 2' }, { v: 30 }]);
    expect(seen[0]).toEqual([1, 2, 3]);
    expect(seen.slice(1).sort()).toEqual([[1], [2], [3]]);
  });
});
