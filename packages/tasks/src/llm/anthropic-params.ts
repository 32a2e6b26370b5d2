import { z } from 'zod';

/**
 * Anthropic Messages create params, strict: an unknown field is a 400 naming it. Content blocks and tools are passed through as the provider defines them (their `type` is required), so
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

const thinking = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('enabled'),
    // The documented floor; the provider also wants it below max_tokens, which it checks itself.
    budget_tokens: z.number().int().min(1024),
    display: z.enum(['summarized', 'omitted']).nullable().optional(),
  }),
  z.strictObject({ type: z.literal('adaptive'), display: z.enum(['summarized', 'omitted']).nullable().optional() }),
  z.strictObject({ type: z.literal('disabled') }),
  z.strictObject({ type: z.literal('between_tools') }),
]);

const cacheControl = z.strictObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });

const container = z.union([
  z.string().min(1).max(256),
  z.strictObject({
    id: z.string().min(1).max(256).nullable().optional(),
    skills: z
      .array(z.strictObject({ type: z.enum(['anthropic', 'custom']), skill_id: z.string().min(1).max(256), version: z.string().min(1).max(256).optional() }))
      .nullable()
      .optional(),
  }),
]);

const outputConfig = z.strictObject({
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullable().optional(),
  // The JSON schema itself is the provider's to judge.
  format: z.strictObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }).nullable().optional(),
});

/**
 * The body params of the SDK's `MessageCreateParams` (@anthropic-ai/sdk 1.12), plus `temperature`, `top_p` and
 * `top_k`, which issue 12 promised and the API still takes. Left out on purpose: `stream` (the worker always
 * streams; a caller's value would fight it) and the header params `workspace_id` and `user_profile_id`, which
 * choose whose account a request runs on: that is the operator's key's business, not a job input's.
 */
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
  thinking: thinking.optional(),
  service_tier: z.enum(['auto', 'standard_only']).optional(),
  speed: z.enum(['standard', 'fast']).nullable().optional(),
  cache_control: cacheControl.nullable().optional(),
  container: container.nullable().optional(),
  diagnostics: z.strictObject({ previous_message_id: z.string().min(1).max(256).nullable().optional() }).nullable().optional(),
  inference_geo: z.string().min(1).max(64).nullable().optional(),
  output_config: outputConfig.optional(),
});
export type AnthropicMessageParams = z.output<typeof anthropicMessageParamsSchema>;

/** Anthropic's stop reasons as the job's `stop_reason`: the same words, except `max_tokens` (API.md). */
export function runStopReason(providerStopReason: string | null): string {
  if (providerStopReason === null) return 'end_turn';
  return providerStopReason === 'max_tokens' ? 'max_tokens_exceeded' : providerStopReason;
}
