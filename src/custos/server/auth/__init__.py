"""Authentication primitives: password hashing, session and API token secrets, CSRF, throttling.

Pure functions over secrets and times; the database side is `custos.store.auth_store`.
"""
