import type Anthropic from '@anthropic-ai/sdk';
import { TaskError, type RunRecord } from '@jobs/core';
import { defineTask } from '../task';
import { anthropicMessageParamsSchema, runStopReason, type AnthropicMessageParams } from '../llm/anthropic-params';
import { llmApiError } from '../llm/llm-api-error';
import { StreamProgress } from '../llm/stream-progress';

const PROGRESS_EVERY_MS = 250;

/**
 * `anthropic.message`: one LLM call as a run. Streams through the SDK with the attempt's AbortSignal (a cancel
 * closes the HTTP stream), records the time to the first content delta and the total duration, and returns the
 * assistant message with the step and messages the runner writes together with `completed`.
 * The SDK's own retries are off: a failed call is a failed attempt, retried by the job's policy (max_attempts,
 * backoff_ms, the provider's retry-after), so `attempts` tells how many calls were made.
 */
export const anthropicMessageTask = defineTask({
  name: 'anthropic.message',
  jobType: 'run',
  input: anthropicMessageParamsSchema,
  async run({ input, signal, clients, logger, reportProgress, recordTtft, recordResponseDuration }) {
    const client = clients.anthropic;
    if (!client) {
      throw new TaskError('Anthropic is not configured on this worker (set ANTHROPIC_API_KEY, or ANTHROPIC_BASE_URL)', {
        code: 'anthropic_not_configured',
        stopReason: 'llm_api_error',
        permanent: true,
      });
    }
    const progress = new StreamProgress(input.max_tokens, reportProgress, (err) => void logger.warn('progress report failed', { err: String(err) }), PROGRESS_EVERY_MS);
    let ttftWrite: Promise<void> = Promise.resolve();
    const started = process.hrtime.bigint();
    let ttft: bigint | null = null;
    let message: Anthropic.Messages.Message & { parsed_output?: unknown };
    try {
      const stream = client.messages.stream(input as Anthropic.Messages.MessageStreamParams, { signal, maxRetries: 0 });
      stream.on('streamEvent', (event) => {
        if (event.type === 'content_block_delta') {
          if (ttft === null) {
            ttft = process.hrtime.bigint() - started;
            // Recorded while the reply still streams, so a watcher sees it at once; awaited before returning.
            ttftWrite = recordTtft(ttft).catch((err: unknown) => void logger.warn('recording ttft failed', { err: String(err) }));
          }
          const d = event.delta;
          progress.delta(d.type === 'text_delta' ? d.text : d.type === 'input_json_delta' ? d.partial_json : d.type === 'thinking_delta' ? d.thinking : '');
        } else if (event.type === 'message_delta') {
          progress.delta('', event.usage.output_tokens);
        }
      });
      message = await stream.finalMessage();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw llmApiError(err);
    }
    const duration = process.hrtime.bigint() - started;
    await Promise.all([progress.settle(), ttftWrite, recordResponseDuration(duration)]);
    const stopReason = runStopReason(message.stop_reason);
    // finalMessage() adds the SDK's own `parsed_output`; the result is the provider's assistant message.
    const { parsed_output: _parsed, ...reply } = message;
    return { result: reply, stopReason, run: runRecord(input, reply, stopReason, ttft, duration) };
  },
});

function runRecord(input: AnthropicMessageParams, message: Anthropic.Messages.Message, stopReason: string, ttft: bigint | null, duration: bigint): RunRecord {
  return {
    step: {
      provider: 'anthropic',
      model: message.model,
      stop_reason: stopReason,
      usage: { ...stripNulls(message.usage), input_tokens: message.usage.input_tokens, output_tokens: message.usage.output_tokens },
      ttft_ns: ttft,
      duration_ns: duration,
    },
    // Content is always a block array, as the provider reads a string content.
    messages: [
      ...input.messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content })),
      { role: 'assistant', content: message.content },
    ],
  };
}

function stripNulls(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}
