import { z } from 'zod';
import { idOf, jsonValue, timestamp } from './common';

/** One LLM call of a run. */
export const StepSchema = z
  .strictObject({
    id: idOf('step'),
    run_id: idOf('job'),
    provider: z.string(),
    model: z.string(),
    stop_reason: z.string().nullable(),
    usage: z
      .looseObject({ input_tokens: z.number().int().min(0), output_tokens: z.number().int().min(0) })
      .meta({
        description:
          "The provider's usage object: input_tokens and output_tokens, and whatever else the provider reports",
      }),
    ttft_ns: z.number().int().nullable(),
    duration_ns: z.number().int().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'Step' });

/** A message of a run, in conversation order; content blocks as given. */
export const MessageSchema = z
  .strictObject({
    id: idOf('message'),
    run_id: idOf('job'),
    step_id: idOf('step').nullable(),
    role: z.string(),
    content: jsonValue.meta({ description: 'A string or an array of content blocks, as given' }),
    created_at: timestamp,
  })
  .meta({ id: 'Message' });
