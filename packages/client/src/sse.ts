import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** The messages of a Server-Sent Events body, parsed by eventsource-parser; cancels the body when left early. */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => parsed.push(message) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
      while (parsed.length) yield parsed.shift()!;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
