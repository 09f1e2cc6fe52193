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

type scripts struct {
	putItem, deleteItem, acquireLock, releaseLock *redis.Script
	removeTenant, putIntent, throttle             *redis.Script
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
	}
}
