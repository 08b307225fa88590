"""Gateway and serving configurations, read statically: LiteLLM proxy configs, Kong declarative
configs and Envoy AI Gateway resources (docs/runtime.md). Every file is parsed with the safe
YAML loader; nothing is imported, executed, resolved or sent anywhere.

Layout: `model` (documents, findings, reports), `rules` (the rule table, secrets and URLs; pure
functions), one module per product (`litellm`, `kong`, `envoy`), `discover` (which files are
gateway configs, by content), `scan` (the pipeline) and `sarif`.
"""
