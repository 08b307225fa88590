"""Custos' multi-user server: FastAPI app, authentication, role-based access, REST API, web UI.

`create_app(settings)` in `custos.server.app` builds the application; `custos serve` runs it under
uvicorn. Every piece of state (users, sessions, login attempts, tokens) lives in the database, so
several app processes on one PostgreSQL behave as one. See docs/server.md.
"""
