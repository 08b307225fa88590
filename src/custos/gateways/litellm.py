"""LiteLLM proxy configs (`config.yaml`): `model_list`, `general_settings`, `litellm_settings`,
`router_settings`, `guardrails` and `environment_variables`.

What the file can show, and so what is judged: client authentication (master key, custom auth,
JWT or OAuth2), routes made public, per-key limits and budgets set as defaults for the keys the
proxy issues (`default_key_generate_params`, `upperbound_key_generate_params`,
`default_team_settings`), logging (callbacks, or spend logs in the database), guardrails, and
the URLs of the model deployments. Keys and teams created later through the API carry their
own limits, which live in the proxy's database, not here.
"""

from __future__ import annotations

from typing import Any

from custos.gateways.model import Config, Doc, Where
from custos.gateways.rules import (
    Collector,
    as_dict,
    as_list,
    find_secrets,
    has_value,
    is_false,
    is_true,
    plaintext_url,
)

HINT = "reference it as os.environ/NAME (or a secret manager)"
# Callbacks that filter or moderate rather than log.
GUARD_CALLBACKS = frozenset({
    "presidio", "lakera_prompt_injection", "llamaguard_moderations", "llmguard_moderations",
    "hide_secrets", "detect_prompt_injection", "google_text_moderation", "openai_moderations",
    "azure_content_safety", "aporia", "bedrock_guardrails", "guardrails_ai", "aim", "pangea",
})  # fmt: skip
# Management API and UI route prefixes: making any of them public opens the proxy's admin.
ADMIN_ROUTES = (
    "/key", "/user", "/team", "/model", "/config", "/global", "/spend", "/customer", "/end_user",
    "/organization", "/budget", "/credentials", "/guardrails", "/ui", "/sso", "/settings",
    "/cache", "/health/services",
)  # fmt: skip
KEY_DEFAULTS = ("default_key_generate_params", "upperbound_key_generate_params")
LIMIT_FIELDS = ("rpm_limit", "tpm_limit", "max_parallel_requests")
PROXY_BUDGETS = ("max_budget", "max_end_user_budget", "max_internal_user_budget")
ENV_SECRET_PARTS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "DSN")


def analyse(config: Config, found: Collector) -> dict[str, Any]:
    """Findings for one LiteLLM config; returns what it says about itself (facts)."""
    doc = config.docs[0]
    data = as_dict(doc.data)
    general = as_dict(data.get("general_settings"))
    settings = as_dict(data.get("litellm_settings"))
    env = as_dict(data.get("environment_variables"))
    models = [m for m in as_list(data.get("model_list")) if isinstance(m, dict)]
    facts: dict[str, Any] = {"models": len(models)}

    find_secrets(doc, found, HINT, _env_secret)
    facts["authentication"] = _authentication(doc, general, env, found)
    _public_routes(doc, general, found)
    facts["per_key_limits"] = _limits(doc, data, settings, models, found)
    facts["budgets"] = _budgets(doc, settings, found)
    facts["logging"] = _logging(doc, data, general, settings, env, found)
    facts["guardrails"] = _guardrails(doc, data, settings, found)
    _upstreams(doc, settings, found)
    return facts


def _section(data: dict[str, Any], name: str) -> Where:
    """Where a finding about a missing setting points: the section it belongs in, if the
    file has it, else the top of the file."""
    return (name,) if name in data else ()


def _env_secret(where: Where, key: str | None) -> bool:
    return (
        len(where) == 2
        and where[0] == "environment_variables"
        and key is not None
        and any(part in key.upper() for part in ENV_SECRET_PARTS)
    )


def _authentication(
    doc: Doc, general: dict[str, Any], env: dict[str, Any], found: Collector
) -> list[str]:
    ways = []
    if has_value(general.get("master_key")) or has_value(env.get("LITELLM_MASTER_KEY")):
        ways.append("master key")
    if has_value(general.get("custom_auth")):
        ways.append("custom auth")
    if is_true(general.get("enable_jwt_auth")) or has_value(general.get("litellm_jwtauth")):
        ways.append("JWT")
    if is_true(general.get("enable_oauth2_auth")) or is_true(
        general.get("enable_oauth2_proxy_auth")
    ):
        ways.append("OAuth2")
    if not ways:
        data = as_dict(doc.data)
        found.add("gateway/no-auth", doc, _section(data, "general_settings"),
                  "no master_key, custom_auth or JWT/OAuth2 authentication: the proxy, its key "
                  "management API and its admin UI answer anyone (unless LITELLM_MASTER_KEY is "
                  "set where it runs)")  # fmt: skip
    return ways


def _public_routes(doc: Doc, general: dict[str, Any], found: Collector) -> None:
    for index, route in enumerate(as_list(general.get("public_routes"))):
        if not isinstance(route, str):
            continue
        path = "/" + route.strip().lstrip("/")
        admin = (
            "management" in route.lower()
            or "admin" in route.lower()
            or any(path == prefix or path.startswith(f"{prefix}/") for prefix in ADMIN_ROUTES)
        )
        if admin:
            found.add("gateway/admin-exposed", doc, ("general_settings", "public_routes", index),
                      f"general_settings.public_routes makes {route!r} reachable without a "
                      "key: it is a management route")  # fmt: skip


def _limits(
    doc: Doc,
    data: dict[str, Any],
    settings: dict[str, Any],
    models: list[dict[str, Any]],
    found: Collector,
) -> list[str]:
    limits = [
        f"{section}.{name}"
        for section in KEY_DEFAULTS
        for name in LIMIT_FIELDS
        if has_value(as_dict(settings.get(section)).get(name))
    ]
    for index, team in enumerate(as_list(settings.get("default_team_settings"))):
        limits += [f"default_team_settings[{index}].{name}" for name in LIMIT_FIELDS
                   if has_value(as_dict(team).get(name))]  # fmt: skip
    if not limits:
        deployment = any(
            has_value(as_dict(m.get("litellm_params")).get(k))
            for m in models
            for k in ("rpm", "tpm")
        )
        note = (
            " (the rpm/tpm of model_list entries cap each deployment as a whole, not each client)"
            if deployment
            else ""
        )
        found.add("gateway/no-rate-limit", doc, _section(data, "litellm_settings"),
                  "no per-key rpm_limit, tpm_limit or max_parallel_requests in "
                  "litellm_settings.default_key_generate_params (or upperbound_key_generate_"
                  f"params, default_team_settings){note}")  # fmt: skip
    return limits


def _budgets(doc: Doc, settings: dict[str, Any], found: Collector) -> list[str]:
    budgets = [name for name in PROXY_BUDGETS if has_value(settings.get(name))]
    budgets += [f"{section}.max_budget" for section in KEY_DEFAULTS
                if has_value(as_dict(settings.get(section)).get("max_budget"))]  # fmt: skip
    budgets += [f"default_team_settings[{i}].max_budget"
                for i, team in enumerate(as_list(settings.get("default_team_settings")))
                if has_value(as_dict(team).get("max_budget"))]  # fmt: skip
    if not budgets:
        found.add("gateway/no-budget", doc, _section(as_dict(doc.data), "litellm_settings"),
                  "no max_budget for the proxy, its keys, teams or end users "
                  "(litellm_settings.max_budget, default_key_generate_params.max_budget, "
                  "max_end_user_budget)")  # fmt: skip
    return budgets


def _callbacks(settings: dict[str, Any]) -> list[str]:
    names = []
    for field in ("callbacks", "success_callback", "failure_callback"):
        names += [str(c) for c in as_list(settings.get(field)) if has_value(c)]
    return names


def _logging(
    doc: Doc,
    data: dict[str, Any],
    general: dict[str, Any],
    settings: dict[str, Any],
    env: dict[str, Any],
    found: Collector,
) -> list[str]:
    sinks = [c for c in _callbacks(settings) if c.lower() not in GUARD_CALLBACKS]
    database = has_value(general.get("database_url")) or has_value(env.get("DATABASE_URL"))
    spend_off = is_true(general.get("disable_spend_logs"))
    if database and not spend_off:
        sinks.append("spend logs (database)")
    if not sinks:
        if spend_off:
            where: Where = ("general_settings", "disable_spend_logs")
            why = "spend logs are switched off (general_settings.disable_spend_logs)"
        else:
            where = _section(data, "litellm_settings")
            why = "no database_url for spend logs (unless DATABASE_URL is set where it runs)"
        found.add("gateway/logging-off", doc, where,
                  f"no logging callback (litellm_settings.callbacks / success_callback) and "
                  f"{why}: requests are not recorded")  # fmt: skip
    return sinks


def _guardrails(
    doc: Doc, data: dict[str, Any], settings: dict[str, Any], found: Collector
) -> list[str]:
    names = []
    for entry in as_list(data.get("guardrails")):
        params = as_dict(as_dict(entry).get("litellm_params"))
        names.append(str(params.get("guardrail") or as_dict(entry).get("guardrail_name")))
    for entry in as_list(settings.get("guardrails")):  # the older layout: name -> callbacks
        names += [str(k) for k in as_dict(entry)] if isinstance(entry, dict) else [str(entry)]
    names += [c for c in _callbacks(settings) if c.lower() in GUARD_CALLBACKS]
    if not names:
        found.add("gateway/no-guardrail", doc, _section(data, "guardrails"),
                  "no guardrails (prompt injection, PII masking) in `guardrails:` or "
                  "litellm_settings callbacks")  # fmt: skip
    return names


def _upstreams(doc: Doc, settings: dict[str, Any], found: Collector) -> None:
    for index, entry in enumerate(as_list(as_dict(doc.data).get("model_list"))):
        if not isinstance(entry, dict):
            continue
        params = as_dict(entry.get("litellm_params"))
        name = entry.get("model_name", index)
        base = params.get("api_base")
        if plaintext_url(base):
            found.add("gateway/upstream-plaintext", doc,
                      ("model_list", index, "litellm_params", "api_base"),
                      f"model {name!r} is called over plain HTTP ({base})")  # fmt: skip
        if is_false(params.get("ssl_verify")):
            found.add("gateway/upstream-tls-unverified", doc,
                      ("model_list", index, "litellm_params", "ssl_verify"),
                      f"model {name!r}: ssl_verify is false")  # fmt: skip
    if is_false(settings.get("ssl_verify")):
        found.add("gateway/upstream-tls-unverified", doc, ("litellm_settings", "ssl_verify"),
                  "litellm_settings.ssl_verify is false: no upstream certificate is "
                  "verified")  # fmt: skip
