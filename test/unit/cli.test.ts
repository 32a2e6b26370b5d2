import { PassThrough } from 'node:stream';
import { ProgressLine } from '../../apps/cli/src/progress-bar';
import { readSse, type SseMessage } from '../../apps/cli/src/sse';

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of readSse(stream(chunks))) out.push(m);
  return out;
}

describe('CLI SSE reader', () => {
  it('parses messages split across chunks, skips comments and joins multi-line data', async () => {
    const msgs = await collect(['event: sta', 'tus\nid: 1\ndata: {"to":', '"pending"}\n\n: keep-alive\n\n', 'event: status\r\nid: 2\r\ndata: a\r\ndata: b\r\n\r\n', 'data: tail-without-blank-line']);
    expect(msgs).toEqual([
      { event: 'status', id: '1', data: '{"to":"pending"}' },
      { event: 'status', id: '2', data: 'a\nb' },
    ]);
  });
});

describe('CLI progress line', () => {
  const capture = () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    return { out, text: () => text };
  };

  it('redraws in place on a terminal and ends with a newline', () => {
    const c = capture();
    const line = new ProgressLine(c.out, true, 10);
    line.render('running', 50, 'half');
    line.render('running', 50, 'half');
    line.render('completed', 100, null);
    line.done();
    expect(c.text()).toBe('\rrunning   [#####-----]  50% half\x1b[K\rcompleted [##########] 100%\x1b[K\n');
  });

  it('prints one line per change when not a terminal, without a bar before any progress', () => {
    const c = capture();
    const line = new ProgressLine(c.out, false, 4);
    line.render('pending', null, null);
    line.render('running', 0, null);
    line.render('running', 0, null);
    line.render('running', 130, 'over');
    expect(c.text()).toBe('pending\nrunning   [----]   0%\nrunning   [####] 100% over\n');
  });
});
