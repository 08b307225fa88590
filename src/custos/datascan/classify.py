"""Classification levels, what each type of data requires, and the findings a data scan
raises. Pure.

The suggested classification of a column is the lowest level its content requires (so a
column with nothing found suggests `public`: the business may still need more); a dataset's is
its highest column's. Rules (docs/data.md):

- restricted: payment cards, national identifiers, bank accounts (IBAN), credentials;
- confidential: other data about a person (email, phone, name, date of birth, IP address);
- public: nothing of the above found.
"""

from __future__ import annotations

from collections.abc import Iterable

from custos.findings import Finding, Severity

LEVELS = ("public", "internal", "confidential", "restricted")
REQUIRES = {
    "card": "restricted", "ssn": "restricted", "nino": "restricted", "iban": "restricted",
    "secret": "restricted",
    "email": "confidential", "phone": "confidential", "name": "confidential",
    "dob": "confidential", "ip": "confidential",
}  # fmt: skip
LABELS = {
    "email": "email addresses", "phone": "phone numbers", "card": "payment card numbers",
    "iban": "bank account numbers (IBAN)", "ssn": "US Social Security numbers",
    "nino": "UK National Insurance numbers", "ip": "IP addresses", "dob": "dates of birth",
    "name": "person names", "secret": "credentials (API keys, tokens, private keys)",
}  # fmt: skip
CONTROLS = {
    "data/credential": ("custos:ai:ml-secrets", "iso27002:2022:5.17", "iso27002:2022:8.12"),
    "data/restricted-plaintext": (
        "custos:ai:dataset-pii", "custos:ai:encryption-at-rest", "iso27002:2022:8.24",
        "iso27002:2022:8.11", "iso27002:2022:5.34",
    ),
    "data/classification-below-content": (
        "custos:ai:data-classification", "iso27002:2022:5.12", "iso27002:2022:5.13",
    ),
    "data/personal-data": ("custos:ai:dataset-pii", "iso27002:2022:5.34", "iso27002:2022:8.11"),
}  # fmt: skip
RULE_HELP = {
    "data/credential": "A credential (API key, token, private key) is stored in a dataset.",
    "data/restricted-plaintext": (
        "Restricted personal data (cards, national ids, bank accounts) is readable in plaintext."
    ),
    "data/classification-below-content": (
        "The declared classification is lower than the content requires."
    ),
    "data/personal-data": "Personal data was found; check it is needed, minimised and masked.",
}
SEVERITY = {
    "data/credential": Severity.high,
    "data/restricted-plaintext": Severity.medium,
    "data/classification-below-content": Severity.medium,
    "data/personal-data": Severity.low,
}


def rank(level: str) -> int:
    return LEVELS.index(level)


def suggested(kinds: Iterable[str]) -> str:
    """The lowest level that data of these types requires."""
    return max((REQUIRES[k] for k in kinds), key=rank, default="public")


def _finding(rule: str, message: str, location: str, severity: Severity | None = None) -> Finding:
    return Finding(rule, severity or SEVERITY[rule], message, location, CONTROLS[rule])


def findings(
    location: str,
    columns: dict[str, list[str]],
    declared: str | None,
    encrypted: bool = False,
    labels: dict[str, tuple[str, ...]] | None = None,
) -> list[Finding]:
    """The findings of one file: `columns` maps each column to the types found in it,
    `declared` is the asset's classification (None: not declared), `encrypted` whether the
    data is stored encrypted (then restricted content is not a plaintext finding), `labels`
    the kinds of credentials per column (named in the finding, never the values)."""
    found: list[Finding] = []
    secrets = [c for c, kinds in columns.items() if "secret" in kinds]
    if secrets:
        kinds_of = sorted({k for c in secrets for k in (labels or {}).get(c, ())})
        which = f" ({', '.join(kinds_of)})" if kinds_of else ""
        found.append(_finding("data/credential",
                              f"credentials in column(s) {_names(secrets)}{which}",
                              location))  # fmt: skip
    restricted = {
        c: [k for k in kinds if REQUIRES[k] == "restricted" and k != "secret"]
        for c, kinds in columns.items()
    }
    restricted = {c: ks for c, ks in restricted.items() if ks}
    if restricted and not encrypted:
        what = "; ".join(f"{c}: {', '.join(LABELS[k] for k in ks)}" for c, ks in restricted.items())
        message = f"restricted data stored in plaintext ({what})"
        found.append(_finding("data/restricted-plaintext", message, location))
    personal = {
        c: [k for k in kinds if REQUIRES[k] == "confidential"] for c, kinds in columns.items()
    }
    personal = {c: ks for c, ks in personal.items() if ks}
    if personal:
        what = "; ".join(f"{c}: {', '.join(LABELS[k] for k in ks)}" for c, ks in personal.items())
        found.append(_finding("data/personal-data", f"personal data ({what})", location))
    needed = suggested(k for kinds in columns.values() for k in kinds)
    if declared is not None and rank(declared) < rank(needed):
        gap = rank(needed) - rank(declared)
        severity = Severity.high if gap >= 2 else Severity.medium
        found.append(_finding(
            "data/classification-below-content",
            f"declared {declared}, but the content requires {needed}", location, severity,
        ))  # fmt: skip
    return found


def _names(columns: list[str]) -> str:
    shown = ", ".join(columns[:5])
    return shown + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")
