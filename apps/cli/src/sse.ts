import { createParser } from 'eventsource-parser';

export interface SseMessage {
  event: string;
  /** The last event id seen on the stream (it carries over to messages that set none, as in an EventSource). */
  id: string | null;
  data: string;
}

/** The messages of a Server-Sent Events body, parsed by eventsource-parser (comments and keep-alives skipped). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let lastId: string | null = null;
  let ready: SseMessage[] = [];
  const parser = createParser({
    onEvent: (e) => {
      if (e.id !== undefined) lastId = e.id;
      ready.push({ event: e.event ?? 'message', id: lastId, data: e.data });
    },
  });
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      const batch = ready;
      ready = [];
      yield* batch;
    }
  } finally {
    reader.releaseLock();
  }
}
