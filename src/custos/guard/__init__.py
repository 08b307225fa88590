"""`custos guard`: a thin reverse proxy in front of a self-hosted model server (docs/runtime.md,
"Guard"). Pure parts: `keys` (API-key hashing and verification, JWT), `bucket` (token-bucket
maths, in process), `harden` (top-k and rounding of probability vectors), `audit` (JSON Lines
and their ledger batches), `extraction` (online PRADA per key). Adapters: `redis_bucket` (one
bucket shared by replicas, a Lua script), `metrics` (Prometheus), `app` (Starlette, aiohttp
upstream client). `extra` finds the optional `guard` extra without importing it.
"""
