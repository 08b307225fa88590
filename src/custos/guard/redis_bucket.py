"""Token buckets shared by several guard replicas: the bucket maths of `bucket` as one Lua
script, which Redis runs atomically, on Redis' own clock (replicas' clocks may differ). A
bucket expires once it would be full again anyway."""

from __future__ import annotations

from typing import Any

from custos.guard.bucket import Taken

# KEYS[1] the bucket; ARGV rate, burst, cost. Returns {allowed, retry_after as a string}
# (Lua numbers come back as integers, so the fraction travels as text).
SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(retry)}
"""


class RedisBuckets:
    def __init__(self, url: str, prefix: str = "custos:guard:bucket:") -> None:
        import redis.asyncio as aioredis

        self._client: Any = aioredis.Redis.from_url(url)
        self._script: Any = self._client.register_script(SCRIPT)
        self.prefix = prefix

    async def take(self, key: str, rate: float, burst: float) -> Taken:
        allowed, retry = await self._script(keys=[self.prefix + key], args=[rate, burst, 1])
        return Taken(bool(int(allowed)), float(retry))

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
