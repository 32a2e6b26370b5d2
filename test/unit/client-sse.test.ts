import { sseMessages } from '../../packages/client/src/sse';

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

describe('client SSE reader', () => {
  it('parses messages split across chunks, skips comments and joins multi-line data', async () => {
    const msgs: { event?: string; id?: string; data: string }[] = [];
    for await (const m of sseMessages(stream(['event: sta', 'tus\nid: 1\ndata: {"to":', '"pending"}\n\n: keep-alive\n\n', 'event: status\r\nid: 2\r\ndata: a\r\ndata: b\r\n\r\n', 'data: tail-without-blank-line']))) {
      msgs.push({ event: m.event, id: m.id, data: m.data });
    }
    expect(msgs).toEqual([
      { event: 'status', id: '1', data: '{"to":"pending"}' },
      { event: 'status', id: '2', data: 'a\nb' },
    ]);
  });
});
