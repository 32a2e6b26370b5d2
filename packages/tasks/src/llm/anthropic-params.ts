import { z } from 'zod';

/**
 * Anthropic Messages create params (the subset this service forwards), strict: an unknown field is a 400 naming
 * it. Content blocks and tools are passed through as the provider defines them (their `type` is required), so
 * new block kinds need no change here; everything the service itself reads is checked.
 */
const block = z.looseObject({ type: z.string().min(1).max(100) });
const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

const messageParam = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string().min(1), z.array(block).min(1)]),
});

const tool = z.looseObject({ name: z.string().min(1).max(128) });

const toolChoice = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('tool'), name: z.string().min(1).max(128), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('none') }),
]);

export const anthropicMessageParamsSchema = z.strictObject({
  model: z.string().min(1).max(256),
  max_tokens: z.number().int().min(1).max(1_000_000),
  messages: z.array(messageParam).min(1).max(100_000),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string().min(1)).max(8192).optional(),
  tools: z.array(tool).max(10_000).optional(),
  tool_choice: toolChoice.optional(),
  metadata: z.strictObject({ user_id: z.string().max(256).nullable().optional() }).optional(),
});
export type AnthropicMessageParams = z.output<typeof anthropicMessageParamsSchema>;

/** Anthropic's stop reasons as the job's `stop_reason`: the same words, except `max_tokens` (API.md). */
export function runStopReason(providerStopReason: string | null): string {
  if (providerStopReason === null) return 'end_turn';
  return providerStopReason === 'max_tokens' ? 'max_tokens_exceeded' : providerStopReason;
}
