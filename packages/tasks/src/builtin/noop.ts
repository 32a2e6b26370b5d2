import { z } from 'zod';
import { defineTask } from '../task';

/** Returns at once; the benchmark task. */
export const noopTask = defineTask({
  name: 'noop',
  input: z.strictObject({}),
  async run() {
    return { result: {} };
  },
});
