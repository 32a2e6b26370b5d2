/**
 * The Lua of fair dispatch (docs/architecture.md, "Fair share across organizations"). Every script gets the
 * base of the fair keys as ARGV[1] and one real key of that base as KEYS[1], so a cluster client routes it to
 * the slot of the queue prefix's hash tag, where every other key it builds lives too.
 *
 * Keys under the base B:
 *   B:job            hash  job id → JSON {o: org, t: task, p: priority, s: score, k?: key, l?: limit}, for every staged job
 *   B:q:<org>        zset  the organization's jobs ready to dispatch, by score (priority · 2^40 + arrival sequence)
 *   B:orgs           zset  organizations with ready jobs and room to run them, by virtual time
 *   B:held           zset  organizations with ready jobs at their max_concurrency, by the virtual time they had
 *   B:clock          string the virtual time of the last pick: where an organization that becomes active starts
 *   B:due            zset  staged jobs not due yet (run_at, retry backoff), by due time in ms
 *   B:run:<org>      zset  the organization's dispatched jobs, by lease expiry in ms
 *   B:kr:<org>:<key> zset  dispatched jobs holding a slot of the concurrency key, by lease expiry
 *   B:kp:<org>:<key> zset  jobs parked because their key was full, by score
 *   B:parked         set   JSON [org, key] of every non-empty parked set
 *   B:cfg            hash  w:<org> → weight, m:<org> → max_concurrency (mirrored from Postgres)
 *   B:cap            hash  worker id → "concurrency:expiry ms" (the automatic backlog target)
 *   B:known          set   organizations that may have waiting or running jobs (the per-organization gauges)
 *   B:bull, B:lease  string the jobs queue's BullMQ key prefix and the slot lease (ms), for the lease pruning
 */
const COMMON = `
local rcall = redis.call
local B = ARGV[1]
local K = { job = B .. ':job', orgs = B .. ':orgs', held = B .. ':held', clock = B .. ':clock', due = B .. ':due',
  parked = B .. ':parked', cfg = B .. ':cfg', cap = B .. ':cap', known = B .. ':known', seq = B .. ':seq' }
local function q(org) return B .. ':q:' .. org end
local function run(org) return B .. ':run:' .. org end
local function kr(org, key) return B .. ':kr:' .. org .. ':' .. key end
local function kp(org, key) return B .. ':kp:' .. org .. ':' .. key end
local function fmt(x) return string.format('%.17g', x) end
-- Drops slots whose lease ran out (a dead worker's). A dispatched job still waiting in BullMQ for a worker renews
-- nothing yet, so its lease is extended instead: its slot must not go to another job while it waits its turn.
-- B:bull and B:lease are the jobs queue's key prefix and the lease, set by every dispatch.
local function prune(key, now)
  local lapsed = rcall('ZRANGEBYSCORE', key, '-inf', now)
  if #lapsed == 0 then return end
  local bull = rcall('GET', B .. ':bull')
  local lease = tonumber(rcall('GET', B .. ':lease') or '0')
  for _, id in ipairs(lapsed) do
    if bull and lease > 0 and (rcall('ZSCORE', bull .. 'prioritized', id) or rcall('LPOS', bull .. 'wait', id)) then
      rcall('ZADD', key, fmt(now + lease), id)
    else
      rcall('ZREM', key, id)
    end
  end
end
local function orgMax(org) return tonumber(rcall('HGET', K.cfg, 'm:' .. org)) end
local function orgWeight(org) return tonumber(rcall('HGET', K.cfg, 'w:' .. org)) or 1 end
local function clock() return tonumber(rcall('GET', K.clock) or '0') end
-- An organization that becomes active starts at the current virtual time (the least of the active ones, or
-- that of the last pick when none is active): idle time earns no credit.
local function activate(org)
  if not rcall('ZSCORE', K.orgs, org) and not rcall('ZSCORE', K.held, org) then
    local start = clock()
    local top = rcall('ZRANGE', K.orgs, 0, 0, 'WITHSCORES')
    if #top > 0 then start = math.max(start, tonumber(top[2])) end
    rcall('ZADD', K.orgs, fmt(start), org)
  end
end
local function ready(id, m, score)
  rcall('ZADD', q(m.o), score, id)
  activate(m.o)
end
-- Moves parked jobs of a key back to their organization, as many as the key has free slots.
local function unpark(org, key, now)
  local pk = kp(org, key)
  local head = rcall('ZRANGE', pk, 0, 0)
  if #head == 0 then rcall('SREM', K.parked, cjson.encode({org, key})) return 0 end
  local mj = rcall('HGET', K.job, head[1])
  local limit = 1
  if mj then limit = cjson.decode(mj).l or 1 end
  local kk = kr(org, key)
  prune(kk, now)
  local free = limit - rcall('ZCARD', kk)
  if free <= 0 then return 0 end
  local items = rcall('ZRANGE', pk, 0, free - 1, 'WITHSCORES')
  for i = 1, #items, 2 do
    rcall('ZREM', pk, items[i])
    if rcall('HEXISTS', K.job, items[i]) == 1 then rcall('ZADD', q(org), items[i + 1], items[i]) end
  end
  if #items > 0 then activate(org) end
  if rcall('ZCARD', pk) == 0 then rcall('SREM', K.parked, cjson.encode({org, key})) end
  return #items / 2
end
-- An organization held at its max_concurrency goes back to the round once it has room (or no bound any more).
local function unhold(org, now)
  local vt = rcall('ZSCORE', K.held, org)
  if not vt then return 0 end
  local max = orgMax(org)
  if max then
    prune(run(org), now)
    if rcall('ZCARD', run(org)) >= max then return 0 end
  end
  rcall('ZREM', K.held, org)
  rcall('ZADD', K.orgs, fmt(math.max(tonumber(vt), clock())), org)
  return 1
end
`;

/** ARGV: base, now, then (id, org, task, priority, key or '', limit or 0, due ms or 0) per job. Returns how many were staged. */
export const STAGE = `${COMMON}
local now = tonumber(ARGV[2])
local n = (#ARGV - 2) / 7
local first = rcall('INCRBY', K.seq, n) - n
local staged = 0
for i = 0, n - 1 do
  local b = 3 + i * 7
  local id, org = ARGV[b], ARGV[b + 1]
  -- A job already staged keeps its place.
  if rcall('HEXISTS', K.job, id) == 0 then
    local prio = tonumber(ARGV[b + 3])
    local score = string.format('%.0f', prio * 1099511627776 + first + i + 1)
    local m = { o = org, t = ARGV[b + 2], p = prio, s = score }
    if ARGV[b + 4] ~= '' then m.k = ARGV[b + 4]; m.l = tonumber(ARGV[b + 5]) end
    rcall('HSET', K.job, id, cjson.encode(m))
    rcall('SADD', K.known, org)
    local dueAt = tonumber(ARGV[b + 6])
    if dueAt > now then rcall('ZADD', K.due, dueAt, id) else ready(id, m, score) end
    staged = staged + 1
  end
end
return staged`;

/**
 * ARGV: base, BullMQ key prefix of the jobs queue, now, lease ms, backlog (-1: as many as the live workers'
 * slots), most picks, count of released slots, then (id, org, key or '') per released slot. Releases first (ended
 * attempts, batched by the worker), then jobs are added until as many wait in BullMQ as there are idle slots, or as
 * the backlog when that is more. Returns {deferred, id, task, org, priority, key, limit, id, ...}: the jobs to add.
 */
export const DISPATCH = `${COMMON}
local bull, now, lease, extra, most = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local released = tonumber(ARGV[7])
rcall('SET', B .. ':bull', bull)
rcall('SET', B .. ':lease', lease)
for i = 8, 7 + released * 3, 3 do
  local id, org, key = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  rcall('ZREM', run(org), id)
  if key ~= '' then
    rcall('ZREM', kr(org, key), id)
    unpark(org, key, now)
  end
  unhold(org, now)
end
for _, id in ipairs(rcall('ZRANGEBYSCORE', K.due, '-inf', now, 'LIMIT', 0, 1000)) do
  rcall('ZREM', K.due, id)
  local mj = rcall('HGET', K.job, id)
  if mj then local m = cjson.decode(mj); ready(id, m, m.s) end
end
local caps = rcall('HGETALL', K.cap)
local total = 0
for i = 1, #caps, 2 do
  local c, e = string.match(caps[i + 1], '^(%d+):(%d+)$')
  if not c or tonumber(e) < now then rcall('HDEL', K.cap, caps[i]) else total = total + tonumber(c) end
end
if extra < 0 then extra = total end
-- Enough waiting for every idle slot, or the backlog, whichever is more: a newcomer waits behind at most that many.
local idle = total - rcall('LLEN', bull .. 'active')
local n = math.min(math.max(extra, idle) - rcall('ZCARD', bull .. 'prioritized') - rcall('LLEN', bull .. 'wait'), most)
local out = { 0 }
local pops = 0
while pops < n do
  local top = rcall('ZRANGE', K.orgs, 0, 0, 'WITHSCORES')
  if #top == 0 then break end
  local org, vt = top[1], tonumber(top[2])
  local qk, rk = q(org), run(org)
  local max = orgMax(org)
  local full = false
  if max then
    prune(rk, now)
    full = rcall('ZCARD', rk) >= max
  end
  if full then
    rcall('ZREM', K.orgs, org)
    rcall('ZADD', K.held, top[2], org)
  else
    local id, m
    while true do
      local head = rcall('ZRANGE', qk, 0, 0, 'WITHSCORES')
      if #head == 0 then break end
      local mj = rcall('HGET', K.job, head[1])
      if not mj then
        rcall('ZREM', qk, head[1])
      else
        local jm = cjson.decode(mj)
        local room = true
        if jm.k then
          local kk = kr(org, jm.k)
          prune(kk, now)
          room = rcall('ZCARD', kk) < jm.l
        end
        if room then id = head[1]; m = jm; break end
        -- The key is full: the job waits beside the queue until a slot of its key is released.
        rcall('ZREM', qk, head[1])
        rcall('ZADD', kp(org, jm.k), head[2], head[1])
        rcall('SADD', K.parked, cjson.encode({org, jm.k}))
      end
    end
    if not id then
      rcall('ZREM', K.orgs, org)
    else
      pops = pops + 1
      rcall('ZREM', qk, id)
      local exp = now + lease
      -- Slots an earlier delivery of this id still holds stay with it if this pick turns out to be a skip.
      local hadRun = rcall('ZSCORE', rk, id)
      local hadKey = m.k and rcall('ZSCORE', kr(org, m.k), id)
      rcall('ZADD', rk, exp, id)
      if m.k then rcall('ZADD', kr(org, m.k), exp, id) end
      rcall('SET', K.clock, top[2])
      if rcall('ZCARD', qk) == 0 then rcall('ZREM', K.orgs, org) else rcall('ZADD', K.orgs, fmt(vt + 1 / orgWeight(org)), org) end
      local jk = bull .. id
      local add = true
      if rcall('EXISTS', jk) == 1 then
        if rcall('ZSCORE', bull .. 'completed', id) or rcall('ZSCORE', bull .. 'failed', id) then
          -- The entry of an earlier attempt: BullMQ would ignore an add under its id.
          rcall('ZREM', bull .. 'completed', id)
          rcall('ZREM', bull .. 'failed', id)
          rcall('DEL', jk, jk .. ':logs')
        elseif rcall('LPOS', bull .. 'active', id) then
          -- Its worker is still finishing the previous delivery: the job is staged again for a moment later.
          add = false
          if not hadRun then rcall('ZREM', rk, id) end
          if m.k and not hadKey then rcall('ZREM', kr(org, m.k), id) end
          -- Not a turn: the organization keeps its virtual time.
          if rcall('ZSCORE', K.orgs, org) then rcall('ZADD', K.orgs, top[2], org) end
          rcall('ZADD', K.due, now + 100, id)
          out[1] = out[1] + 1
          id = nil
        else
          -- Waiting or delayed already: that delivery comes back to staging (or runs) by itself.
          add = false
          if not hadRun then rcall('ZREM', rk, id) end
          if m.k and not hadKey then rcall('ZREM', kr(org, m.k), id) end
          if rcall('ZSCORE', K.orgs, org) then rcall('ZADD', K.orgs, top[2], org) end
        end
      end
      if id then rcall('HDEL', K.job, id) end
      if add then
        out[#out + 1] = id; out[#out + 1] = m.t; out[#out + 1] = org; out[#out + 1] = m.p
        out[#out + 1] = m.k or ''; out[#out + 1] = m.l or 0
      end
    end
  end
end
return out`;

/**
 * ARGV: base, now, lease ms, id, org, key or '', limit or 0. Before a delivery runs: the job keeps the slots it
 * holds (renewed) or takes free ones. Returns 1, or -1 when there is no room (it must be staged again).
 */
export const ADMIT = `${COMMON}
local now, lease, id, org, key, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local rk = run(org)
if not rcall('ZSCORE', rk, id) then
  local max = orgMax(org)
  if max then
    prune(rk, now)
    if rcall('ZCARD', rk) >= max then return -1 end
  end
end
local kk
if key ~= '' then
  kk = kr(org, key)
  if not rcall('ZSCORE', kk, id) then
    prune(kk, now)
    if rcall('ZCARD', kk) >= limit then return -1 end
  end
end
local exp = now + lease
rcall('ZADD', rk, exp, id)
if kk then rcall('ZADD', kk, exp, id) end
return 1`;

/** ARGV: base, now, lease ms, then (id, org, key or '') per running job: leases of slots still held are extended. */
export const RENEW = `${COMMON}
local exp = tonumber(ARGV[2]) + tonumber(ARGV[3])
for i = 4, #ARGV, 3 do
  rcall('ZADD', run(ARGV[i + 1]), 'XX', exp, ARGV[i])
  if ARGV[i + 2] ~= '' then rcall('ZADD', kr(ARGV[i + 1], ARGV[i + 2]), 'XX', exp, ARGV[i]) end
end
return 1`;

/** ARGV: base, now, then (id, org, key or '') per ended attempt. Frees the slots and lets waiting jobs of the key in. */
export const RELEASE = `${COMMON}
local now = tonumber(ARGV[2])
local moved = 0
for i = 3, #ARGV, 3 do
  local id, org, key = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  rcall('ZREM', run(org), id)
  if key ~= '' then
    rcall('ZREM', kr(org, key), id)
    moved = moved + unpark(org, key, now)
  end
  moved = moved + unhold(org, now)
end
return moved`;

/** ARGV: base, ids...: staged jobs leave staging (cancel, delete, expiry). */
export const UNSTAGE = `${COMMON}
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local mj = rcall('HGET', K.job, id)
  if mj then
    local m = cjson.decode(mj)
    rcall('ZREM', q(m.o), id)
    if m.k then rcall('ZREM', kp(m.o, m.k), id) end
    rcall('ZREM', K.due, id)
    rcall('HDEL', K.job, id)
    n = n + 1
  end
end
return n`;

/**
 * ARGV: base, now. The periodic pass: keys and organizations whose slots ran out of lease let their waiting
 * jobs in. Returns jobs and orgs let in.
 */
export const MAINTAIN = `${COMMON}
local now = tonumber(ARGV[2])
local moved = 0
for _, member in ipairs(rcall('SMEMBERS', K.parked)) do
  local pair = cjson.decode(member)
  moved = moved + unpark(pair[1], pair[2], now)
end
for _, org in ipairs(rcall('ZRANGE', K.held, 0, -1)) do moved = moved + unhold(org, now) end
return moved`;

/** ARGV: base, now. Returns {org, waiting, running, ...} for organizations with either; forgets the others. */
export const GAUGES = `${COMMON}
local now = tonumber(ARGV[2])
local parked = {}
for _, member in ipairs(rcall('SMEMBERS', K.parked)) do
  local pair = cjson.decode(member)
  parked[pair[1]] = (parked[pair[1]] or 0) + rcall('ZCARD', kp(pair[1], pair[2]))
end
local out = {}
for _, org in ipairs(rcall('SMEMBERS', K.known)) do
  prune(run(org), now)
  local waiting = rcall('ZCARD', q(org)) + (parked[org] or 0)
  local running = rcall('ZCARD', run(org))
  if waiting + running == 0 then
    rcall('SREM', K.known, org)
  else
    out[#out + 1] = org; out[#out + 1] = waiting; out[#out + 1] = running
  end
end
return out`;

/** ARGV: base, '1' to replace every setting (else only the organizations given), then (org, weight, max or '') triples. */
export const SETTINGS = `${COMMON}
if ARGV[2] == '1' then rcall('DEL', K.cfg) end
for i = 3, #ARGV, 3 do
  local org = ARGV[i]
  if ARGV[i + 1] == '1' then rcall('HDEL', K.cfg, 'w:' .. org) else rcall('HSET', K.cfg, 'w:' .. org, ARGV[i + 1]) end
  if ARGV[i + 2] == '' then rcall('HDEL', K.cfg, 'm:' .. org) else rcall('HSET', K.cfg, 'm:' .. org, ARGV[i + 2]) end
end
return 1`;
