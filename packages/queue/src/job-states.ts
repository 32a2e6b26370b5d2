import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from './redis';

/**
 * BullMQ's getState (getStateV2: same checks, same precedence) for many ids in one call, so the reconciler and
 * the callback sweep need one round trip per page of rows instead of one per row. BullMQ finds an id in the wait list with LPOS,
 * a scan of the list per id: with a long backlog that is rows x backlog. Here a long list is read once per call
 * (in chunks, stopping when every id is found) and LPOS is kept for short lists and few ids. One answer more
 * than BullMQ's: `missing` when the id is nowhere and has no job hash either (a plain add restores it), where
 * BullMQ says `unknown` for both.
 */
const STATES_SCRIPT = `
local rcall = redis.call
local out = {}
local pending = {}
local npending = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local s
  if rcall("ZSCORE", KEYS[1], id) then s = "completed"
  elseif rcall("ZSCORE", KEYS[2], id) then s = "failed"
  elseif rcall("ZSCORE", KEYS[3], id) then s = "delayed"
  elseif rcall("ZSCORE", KEYS[8], id) then s = "prioritized" end
  if s then out[i - 1] = s else pending[id] = i - 1; npending = npending + 1 end
end
local function lists(key, state)
  if npending == 0 then return end
  local len = rcall("LLEN", key)
  if len == 0 then return end
  if npending <= 16 or npending * len <= 50000 then
    for id, idx in pairs(pending) do
      if rcall("LPOS", key, id) then out[idx] = state; pending[id] = nil; npending = npending - 1 end
    end
    return
  end
  local from = 0
  while from < len and npending > 0 do
    for _, id in ipairs(rcall("LRANGE", key, from, from + 999)) do
      local idx = pending[id]
      if idx then out[idx] = state; pending[id] = nil; npending = npending - 1 end
    end
    from = from + 1000
  end
end
lists(KEYS[4], "active")
lists(KEYS[5], "waiting")
lists(KEYS[6], "waiting")
for i = 2, #ARGV do
  if not out[i - 1] then
    local id = ARGV[i]
    if rcall("ZSCORE", KEYS[7], id) then out[i - 1] = "waiting-children"
    elseif rcall("EXISTS", ARGV[1] .. id) == 1 then out[i - 1] = "unknown"
    else out[i - 1] = "missing" end
  end
end
return out`;

/** KEYS of STATES, in its order (BullMQ's key names). */
const STATE_KEYS = ['completed', 'failed', 'delayed', 'active', 'wait', 'paused', 'waiting-children', 'prioritized'] as const;

/**
 * The BullMQ states of `ids`, in their order, in one command: what getJobState would say for each, except that an
 * id with no trace at all is `missing` (BullMQ says `unknown` for it and for an id whose job hash is left over).
 */
export async function jobStates(queue: Queue, client: Redis, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const keys = STATE_KEYS.map((type) => queue.toKey(type));
  return (await client.eval(STATES_SCRIPT, keys.length, ...keys, queue.toKey(''), ...ids)) as string[];
}
