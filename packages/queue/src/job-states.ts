import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * BullMQ's getStateV2 script (bullmq 6.7, what Queue.getJobState runs on Redis >= 6.0.6) looped over many
 * job ids, so a sweep learns the states of all its candidates in one command and one round trip instead of
 * one per id. Same checks in the same order, so each answer is what getJobState would say
 * (test/integration/callback-sweep-batching.test.ts compares the two).
 */
const STATES_SCRIPT = `
local rcall = redis.call
local out = {}
for i, id in ipairs(ARGV) do
  local state = "unknown"
  if rcall("ZSCORE", KEYS[1], id) then state = "completed"
  elseif rcall("ZSCORE", KEYS[2], id) then state = "failed"
  elseif rcall("ZSCORE", KEYS[3], id) then state = "delayed"
  elseif rcall("ZSCORE", KEYS[8], id) then state = "prioritized"
  elseif rcall("LPOS", KEYS[4], id) then state = "active"
  elseif rcall("LPOS", KEYS[5], id) then state = "waiting"
  elseif rcall("LPOS", KEYS[6], id) then state = "waiting"
  elseif rcall("ZSCORE", KEYS[7], id) then state = "waiting-children"
  end
  out[i] = state
end
return out
`;

const STATE_KEYS = ['completed', 'failed', 'delayed', 'active', 'wait', 'paused', 'waiting-children', 'prioritized'];

/** The BullMQ states of `ids` ('unknown' where the queue holds no entry), in their order, in one command. */
export async function jobStates(queue: Queue, client: Redis, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const keys = STATE_KEYS.map((k) => queue.toKey(k));
  return (await client.eval(STATES_SCRIPT, keys.length, ...keys, ...ids)) as string[];
}
