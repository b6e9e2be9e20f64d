//! The Lua scripts of the Redis store: each write is one script that checks
//! everything before it writes anything, so a refused call writes nothing
//! (see the parent module for the key layout and why).

use ::redis::Script;
use std::sync::LazyLock;

/// KEYS: meta. ARGV: header record.
/// Returns 1 when created, 0 when the session already exists.
/// The registry (`wz:v1:sessions`) is written before, by its own command:
/// a script touches one session's slot only (Redis Cluster rules).
pub(super) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
",
    )
});

/// KEYS: meta, log, claims, counters, fence, owner.
/// ARGV: fencing token ('' = a single node, without a lease), first_seq,
///   number of records, then 5 per record:
///   data, flags ("c" = has claim, "n" = has count), claim key, claim value, count key.
/// Returns {'ok'} | {'not_found'} | {'fenced', <why>} | {'conflict', <stored len>} |
///   {'claimed', <key>, <holder>} | {'corrupt', <message>}.
/// The fencing check comes before the sequence check: a stale owner is told
/// to step down, not to read the log back and try again.
pub(crate) static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'not_found'}
end
if ARGV[1] == '' then
  local owner = redis.call('GET', KEYS[6])
  if owner then
    return {'fenced', 'node ' .. string.sub(owner, (string.find(owner, ' ', 1, true) or 0) + 1) .. ' owns the session'}
  end
else
  local fence = redis.call('GET', KEYS[5])
  if fence ~= ARGV[1] then
    return {'fenced', 'fencing token ' .. ARGV[1] .. ' is stale (latest ' .. (fence or 'none') .. ')'}
  end
end
local len = redis.call('XLEN', KEYS[2])
if len > 0 then
  local want = string.format('%d-0', len)
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if last[1][1] ~= want then
    return {'corrupt', 'log of ' .. string.format('%d', len) .. ' events ends at id ' .. last[1][1] .. ', not ' .. want}
  end
end
if ARGV[2] ~= string.format('%d', len + 1) then
  return {'conflict', string.format('%d', len)}
end
local n = tonumber(ARGV[3])
local claimed = {}
local counted = {}
for i = 0, n - 1 do
  local at = 4 + i * 5
  local flags = ARGV[at + 1]
  if string.find(flags, 'c', 1, true) then
    local key = ARGV[at + 2]
    local holder = claimed[key]
    if holder == nil then
      holder = redis.call('HGET', KEYS[3], key)
    end
    if holder then
      return {'claimed', key, holder}
    end
    claimed[key] = ARGV[at + 3]
  end
  if string.find(flags, 'n', 1, true) then
    local key = ARGV[at + 4]
    if not counted[key] then
      local v = redis.call('HGET', KEYS[4], key)
      if v and not (string.match(v, '^%d+$') and #v <= 18) then
        return {'corrupt', 'counter ' .. key .. ' holds ' .. v .. ', not a count'}
      end
      counted[key] = true
    end
  end
end
-- Everything is checked: from here on no command can fail.
for i = 0, n - 1 do
  local at = 4 + i * 5
  redis.call('XADD', KEYS[2], string.format('%d-0', len + 1 + i), 'd', ARGV[at])
  local flags = ARGV[at + 1]
  if string.find(flags, 'c', 1, true) then
    redis.call('HSET', KEYS[3], ARGV[at + 2], ARGV[at + 3])
  end
  if string.find(flags, 'n', 1, true) then
    redis.call('HINCRBY', KEYS[4], ARGV[at + 4], 1)
  end
end
return {'ok'}
",
    )
});

/// KEYS: meta, creds. ARGV: principal, hash, principal, hash, ...
/// Returns 1, or 0 when the session does not exist.
pub(super) static PUT_CREDENTIALS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
",
    )
});

/// KEYS: meta, attachments. ARGV: id, bytes.
/// Returns 1 when stored (or the same bytes were there), 0 when the session
/// does not exist, 2 when the id holds other bytes.
pub(super) static PUT_ATTACHMENT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held == false then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
if held == ARGV[2] then
  return 1
end
return 2
",
    )
});

/// KEYS: meta, log, creds, claims, counters, attachments.
/// ARGV: header, number of events, number of credential pairs, number of
///   claim pairs, then the events, the credential pairs, the claim pairs and
///   the counter pairs.
/// Returns 1 when imported, 0 when the session exists, 2 when keys of the
/// session exist without its header (nothing is written then: an `XADD`
/// onto a leftover log would fail half-way through the script).
pub(super) static IMPORT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]) > 0 then
  return 2
end
redis.call('SET', KEYS[1], ARGV[1])
local events = tonumber(ARGV[2])
local creds_end = 4 + events + 2 * tonumber(ARGV[3])
local claims_end = creds_end + 2 * tonumber(ARGV[4])
for i = 1, events do
  redis.call('XADD', KEYS[2], string.format('%d-0', i), 'd', ARGV[4 + i])
end
for i = 5 + events, creds_end, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
for i = creds_end + 1, claims_end, 2 do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
end
for i = claims_end + 1, #ARGV, 2 do
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1])
end
return 1
",
    )
});

/// KEYS: meta, claims, counters. ARGV: number of claims, then the claim
/// pairs, then the counter pairs. Returns 1, or 0 when the session does not exist.
pub(super) static RESET_DERIVED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"#!lua
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('DEL', KEYS[2], KEYS[3])
local claims_end = 1 + 2 * tonumber(ARGV[1])
for i = 2, claims_end, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
for i = claims_end + 1, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
return 1
",
    )
});
