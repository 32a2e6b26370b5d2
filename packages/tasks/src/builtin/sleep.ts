import { z } from 'zod';
import { abortableDelay, defineTask } from '../task';

/** Waits (honouring its AbortSignal), reports progress in steps, and fails on request: the test task. */
export const sleepTask = defineTask({
  name: 'sleep',
  input: z.strictObject({
    ms: z.number().int().min(0).max(86_400_000),
    fail: z.boolean().default(false),
    progress_steps: z.number().int().min(1).max(1000).optional(),
  }),
  async run({ input, signal, reportProgress }) {
    const steps = input.progress_steps ?? 1;
    for (let i = 1; i <= steps; i++) {
      await abortableDelay(input.ms / steps, signal);
      if (input.progress_steps) await reportProgress((i / steps) * 100, `step ${i} of ${steps}`);
    }
    if (input.fail) throw new Error('sleep task failed on request');
    return { result: { slept_ms: input.ms } };
  },
});
