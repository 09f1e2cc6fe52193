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

type scripts struct {
	putItem, deleteItem, acquireLock, releaseLock *redis.Script
}

func newScripts() scripts {
	return scripts{
		putItem:     redis.NewScript(putItemScript),
		deleteItem:  redis.NewScript(deleteItemScript),
		acquireLock: redis.NewScript(acquireLockScript),
		releaseLock: redis.NewScript(releaseLockScript),
	}
}
