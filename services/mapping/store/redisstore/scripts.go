package redisstore

import "github.com/redis/go-redis/v9"

// Scripts run atomically in Redis and are replicated and written to the AOF
// as one unit, so an item and its index entries never diverge, even when the
// server dies mid-request. Every key a script touches is passed in KEYS.

// putItemScript: KEYS item, external index, order index;
// ARGV expected revision, new external id, wix id, encoded item.
// Returns {"ok", rev} | {"rev", stored revision} | {"ext", owning wix id}.
const putItemScript = `
local cur = redis.call('HMGET', KEYS[1], 'rev', 'ext')
local rev = tonumber(cur[1]) or 0
if rev ~= tonumber(ARGV[1]) then
  return {'rev', tostring(rev)}
end
local ext, wix = ARGV[2], ARGV[3]
if ext ~= '' then
  local owner = redis.call('HGET', KEYS[2], ext)
  if owner and owner ~= wix then
    return {'ext', owner}
  end
end
local old = cur[2]
if old and old ~= '' and old ~= ext and redis.call('HGET', KEYS[2], old) == wix then
  redis.call('HDEL', KEYS[2], old)
end
if ext ~= '' then
  redis.call('HSET', KEYS[2], ext, wix)
end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'ext', ext, 'data', ARGV[4])
redis.call('ZADD', KEYS[3], 0, wix)
return {'ok', tostring(rev + 1)}
`

// deleteItemScript: KEYS item, external index, order index; ARGV wix id.
// Returns 1 if the item existed.
const deleteItemScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local ext = redis.call('HGET', KEYS[1], 'ext')
if ext and ext ~= '' and redis.call('HGET', KEYS[2], ext) == ARGV[1] then
  redis.call('HDEL', KEYS[2], ext)
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`

// acquireLockScript: KEYS lock; ARGV owner, ttl in ms. Returns 1 if owner holds it now.
const acquireLockScript = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`

// releaseLockScript: KEYS lock; ARGV owner. Returns 1 if it released.
const releaseLockScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`

// protoWithoutLua defines without(msg, field): the encoded protobuf message
// msg minus every top-level occurrence of field. It walks the wire format
// just far enough to find field boundaries and copies everything else byte
// for byte, unknown fields included, so a script can change a record without
// knowing its schema. Appending an encoded field to a message sets that field
// (the last occurrence of a scalar wins), which is how scripts set one.
const protoWithoutLua = `
local function varint(s, i)
  local v, m = 0, 1
  while true do
    local b = string.byte(s, i)
    if not b then error('truncated protobuf varint') end
    i = i + 1
    v = v + (b % 128) * m
    if b < 128 then return v, i end
    m = m * 128
  end
end

local function without(msg, field)
  local out, i, n = {}, 1, #msg
  while i <= n do
    local start, key, wire, value, len = i
    key, i = varint(msg, i)
    wire = key % 8
    if wire == 0 then
      value, i = varint(msg, i)
    elseif wire == 1 then
      i = i + 8
    elseif wire == 2 then
      len, i = varint(msg, i)
      i = i + len
    elseif wire == 5 then
      i = i + 4
    else
      error('unsupported protobuf wire type ' .. wire)
    end
    if i > n + 1 then error('truncated protobuf field') end
    if math.floor(key / 8) ~= field then
      out[#out + 1] = string.sub(msg, start, i - 1)
    end
  end
  return table.concat(out)
end
`

// removeTenantScript: KEYS tenant, links, connections; ARGV the encoded
// tenant to create when there is none, the tenant state field number and
// that field encoded as REMOVED, the link state field number and that field
// encoded as PAUSED, the connection credentials field number.
// Returns the stored tenant.
const removeTenantScript = protoWithoutLua + `
local tenant = redis.call('GET', KEYS[1])
if tenant then
  tenant = without(tenant, tonumber(ARGV[2])) .. ARGV[3]
else
  tenant = ARGV[1]
end
redis.call('SET', KEYS[1], tenant)
local links = redis.call('HGETALL', KEYS[2])
for i = 1, #links, 2 do
  local v = without(links[i + 1], tonumber(ARGV[4])) .. ARGV[5]
  if v ~= links[i + 1] then
    redis.call('HSET', KEYS[2], links[i], v)
  end
end
local conns = redis.call('HGETALL', KEYS[3])
for i = 1, #conns, 2 do
  local v = without(conns[i + 1], tonumber(ARGV[6]))
  if v ~= conns[i + 1] then
    redis.call('HSET', KEYS[3], conns[i], v)
  end
end
return tenant
`

// putIntentScript: KEYS intent; ARGV creation time, the encoded intent
// without it, ttl in ms. A live intent keeps its creation time.
// Returns the creation time stored.
const putIntentScript = `
local created = redis.call('HGET', KEYS[1], 'created') or ARGV[1]
redis.call('HSET', KEYS[1], 'created', created, 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return created
`

// throttleScript runs store.Rate.Take on the server's clock, so replicas
// with skewed clocks still share one bucket correctly. Times are integer
// microseconds, exact in Lua's doubles (store.MaxThrottleWindow keeps them
// below 2^53); string.format writes them without the exponent tostring uses.
// KEYS bucket; ARGV emission interval in µs, burst, cost.
// Returns {1, 0} when allowed, else {0, µs until the cost fits}.
const throttleScript = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local next = math.max(tat, now) + cost * interval
local allow_at = next - burst * interval
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.ceil((next - now) / 1000))
return {1, 0}
`

// deleteLinkScript: KEYS links, order index, external index, log, then the
// key of every item of the link; ARGV link id, then the Wix id of every item,
// in the order of their keys. The caller read the ids from the order index;
// if it changed since, nothing is deleted and the caller reads it again.
// Returns {"ok", links left} | {"missing"} | {"changed"}.
const deleteLinkScript = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return {'missing'}
end
if redis.call('ZCARD', KEYS[2]) ~= #ARGV - 1 then
  return {'changed'}
end
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    return {'changed'}
  end
end
for i = 5, #KEYS do
  redis.call('DEL', KEYS[i])
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HDEL', KEYS[1], ARGV[1])
return {'ok', tostring(redis.call('HLEN', KEYS[1]))}
`

// appendLogScript: KEYS links, log; ARGV link id, encoded entry, most
// entries kept. Returns 0 when the link does not exist (nothing written).
const appendLogScript = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return 1
`

// shareJobLua starts both share job scripts. Their ARGV begin with the
// numbers of the states RUNNING, PAUSED and DONE and the time of the write
// in Unix nanoseconds (kept as a string: doubles would round it).
// settle is store.SettleShareJob; record returns the job's hash fields in
// the order of jobFields.
const shareJobLua = `
local RUNNING, PAUSED, DONE, NOW = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]

local function settle(state, total, done, failed, prev_state, prev_finished)
  if (state == RUNNING or state == PAUSED) and done + failed >= total then
    state = DONE
  end
  if state ~= DONE then
    return state, ''
  end
  if prev_state == DONE and prev_finished and prev_finished ~= '' then
    return state, prev_finished
  end
  return state, NOW
end

local function record(key)
  return redis.call('HMGET', key, 'data', 'rev', 'state', 'total', 'done', 'failed', 'created', 'updated', 'finished')
end
`

// putShareJobScript: KEYS job, the tenant's job ids; ARGV (after the
// common four) expected revision, encoded job, state, total, job id.
// Returns {"ok", record...} | {"rev", stored revision}.
const putShareJobScript = shareJobLua + `
local cur = redis.call('HMGET', KEYS[1], 'rev', 'state', 'done', 'failed', 'created', 'finished')
local rev = tonumber(cur[1]) or 0
if rev ~= tonumber(ARGV[5]) then
  return {'rev', tostring(rev)}
end
local done, failed, total = tonumber(cur[3]) or 0, tonumber(cur[4]) or 0, tonumber(ARGV[8])
local state, finished = settle(tonumber(ARGV[7]), total, done, failed, tonumber(cur[2]), cur[6])
redis.call('HSET', KEYS[1], 'data', ARGV[6], 'rev', rev + 1, 'state', state, 'total', total,
  'done', done, 'failed', failed, 'created', cur[5] or NOW, 'updated', NOW, 'finished', finished)
redis.call('SADD', KEYS[2], ARGV[9])
return {'ok', unpack(record(KEYS[1]))}
`

// countShareItemScript: KEYS job, the job's item outcomes; ARGV (after
// the common four) item id, outcome ("done" or "failed").
// Returns {"ok", record...} | {"missing"}.
const countShareItemScript = shareJobLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'missing'}
end
local item, outcome = ARGV[5], ARGV[6]
local prev = redis.call('HGET', KEYS[2], item)
local cur = redis.call('HMGET', KEYS[1], 'rev', 'state', 'total', 'done', 'failed', 'finished')
local done, failed = tonumber(cur[4]), tonumber(cur[5])
if not prev and outcome == 'failed' then
  failed = failed + 1
elseif not prev then
  done = done + 1
elseif prev == 'failed' and outcome == 'done' then
  failed, done = failed - 1, done + 1
else
  return {'ok', unpack(record(KEYS[1]))}
end
redis.call('HSET', KEYS[2], item, outcome)
local state = tonumber(cur[2])
local settled, finished = settle(state, tonumber(cur[3]), done, failed, state, cur[6])
redis.call('HSET', KEYS[1], 'rev', tonumber(cur[1]) + 1, 'state', settled, 'done', done, 'failed', failed,
  'updated', NOW, 'finished', finished)
return {'ok', unpack(record(KEYS[1]))}
`

type scripts struct {
	putItem, deleteItem, acquireLock, releaseLock *redis.Script
	removeTenant, putIntent, throttle             *redis.Script
	deleteLink, appendLog                         *redis.Script
	putShareJob, countShareItem                   *redis.Script
}

func newScripts() scripts {
	return scripts{
		putItem:      redis.NewScript(putItemScript),
		deleteItem:   redis.NewScript(deleteItemScript),
		acquireLock:  redis.NewScript(acquireLockScript),
		releaseLock:  redis.NewScript(releaseLockScript),
		removeTenant: redis.NewScript(removeTenantScript),
		putIntent:    redis.NewScript(putIntentScript),
		throttle:     redis.NewScript(throttleScript),

		deleteLink:     redis.NewScript(deleteLinkScript),
		appendLog:      redis.NewScript(appendLogScript),
		putShareJob:    redis.NewScript(putShareJobScript),
		countShareItem: redis.NewScript(countShareItemScript),
	}
}
