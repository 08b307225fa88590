"""The REST API under /api/v1 (JSON; errors as `{"error": "..."}`)."""
