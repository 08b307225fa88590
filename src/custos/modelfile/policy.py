"""Which globals a pickle may import: the allow-list first, then the knowledge base of gadgets.

`Policy.classify(module, name)` gives every name a pickle imports a `Verdict`:

1. denied by the user's policy file: critical (`pickle/dangerous-global`);
2. exactly on the allow-list (built-in or the user's): allowed, nothing is reported;
3. in the knowledge base (data/policy.yaml): critical. The name is checked as written, in its
   Python 2 spelling mapped as the Unpickler maps it, with `__builtin__`/`__builtins__` read as
   `builtins` and `.__call__` stripped, and every attribute walk inside a dotted name is checked
   on its own (`site` + `os.system` reaches `os.system`). Walks through interpreter internals
   (`__globals__`, `__subclasses__`, ...) and names of execution primitives are critical too;
4. on a user wildcard (`mypkg.*`): allowed;
5. suspicious, high (`pickle/suspicious-global`): names that are not plain identifier paths
   (whitespace, look-alike letters, stray dots), other dunder walks, loader-like names, modules
   imported as objects, and any standard-library name not on the allow-list;
6. anything else: medium (`pickle/unknown-global`).

A user policy file is YAML: `allow:` and `deny:` lists of `module.name`, `module:name` or
`package.*` entries, validated with clear `file:line` errors.
"""

from __future__ import annotations

import _compat_pickle
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from custos.findings import Severity

RULE_ALLOWED = "pickle/allowed-global"
RULE_DANGEROUS = "pickle/dangerous-global"
RULE_SUSPICIOUS = "pickle/suspicious-global"
RULE_UNKNOWN = "pickle/unknown-global"

BUILTIN_ALIASES = frozenset({"builtins", "__builtin__", "__builtins__"})
_IDENT_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Letters that look like ASCII ones (Cyrillic, Greek, Latin extensions NFKC leaves alone).
_CONFUSABLE = str.maketrans(
    "аеорсухіјѕԁԛԝӏАВЕКМНОРСТХІЈЅαεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧɑɡıȷ",
    "aeopcyxijsdqwlABEKMHOPCTXIJSaeikvoptuxABEZHIKMNOPTYXagij",
)
STDLIB = frozenset(sys.stdlib_module_names) | {
    "__builtin__",
    "__builtins__",
    "exceptions",
    *_compat_pickle.IMPORT_MAPPING,
}


@dataclass(frozen=True)
class Verdict:
    """What the policy says about one imported name."""

    severity: Severity
    rule: str
    reason: str
    tags: frozenset[str] = frozenset()  # "loader": its bytes arguments are scanned as files

    @property
    def allowed(self) -> bool:
        return self.rule == RULE_ALLOWED


def join(module: str, name: str) -> str:
    """`module.name`, or the module itself when the name is empty (an imported module)."""
    return f"{module}.{name}" if name else module


def canonical(module: str, name: str) -> tuple[str, str]:
    """The name the Unpickler ends up with: Python 2 names mapped, builtins aliases read as
    `builtins`, trailing `.__call__` (the same callable) removed."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    if module in BUILTIN_ALIASES:
        module = "builtins"
    while name.endswith(".__call__"):
        name = name[: -len(".__call__")]
    return module, name


def name_problems(module: str, name: str) -> list[str]:
    """Why `module`/`name` is not a plain identifier path (empty when it is)."""
    problems = []
    for label, text in (("module", module), ("name", name)):
        if label == "name" and text == "":
            continue
        if _IDENT_PATH.match(text):
            continue
        if text == "":
            problems.append("empty module name")
        elif any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text):
            problems.append(f"{label} {text!r} contains whitespace or control characters")
        elif not text.isascii():
            problems.append(f"{label} {text!r} contains non-ASCII characters")
        else:
            problems.append(f"{label} {text!r} is not a dotted identifier")
    return problems


def cleaned(text: str) -> str:
    """What a tricked-up name imitates: NFKC, invisible characters and whitespace removed,
    look-alike letters folded to ASCII, stray dots dropped."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_CONFUSABLE)
    text = "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] == "C"))
    return ".".join(part for part in text.split(".") if part)


@dataclass(frozen=True)
class KnowledgeBase:
    """The built-in allow-list and gadget knowledge base (data/policy.yaml)."""

    allow: dict[str, str]  # full name -> why it is allowed
    danger_exact: dict[str, str]  # full name -> why it is dangerous
    danger_prefix: dict[str, str]  # module -> why it and everything under it is dangerous
    loaders: frozenset[str]
    scanned_loaders: frozenset[str]
    gadget_critical: frozenset[str]
    gadget_high: frozenset[str]
    internals: frozenset[str]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> KnowledgeBase:
        allow: dict[str, str] = {}
        for group, spec in data["allow"].items():
            for full in _names(spec["names"]):
                allow[full] = f"allow-listed ({group}): {_oneline(spec['reason'])}"
        exact: dict[str, str] = {}
        prefix: dict[str, str] = {}
        for category, spec in data["dangerous"].items():
            why = f"{category}: {_oneline(spec['reason'])}"
            for module in spec.get("modules", []):
                prefix.setdefault(module, why)
            for full in _names(spec.get("names", {})):
                exact.setdefault(full, why)
        loaders = frozenset(_names(data["loaders"]))
        for full in loaders:
            exact.setdefault(full, "loader: deserializes its argument, which can run any code")
        return cls(
            allow=allow,
            danger_exact=exact,
            danger_prefix=prefix,
            loaders=loaders,
            scanned_loaders=frozenset(_names(data["scanned_loaders"])),
            gadget_critical=frozenset(data["gadget_names"]["critical"]),
            gadget_high=frozenset(data["gadget_names"]["high"]),
            internals=frozenset(data["internals"]),
        )

    def lookup(self, parts: list[str]) -> str | None:
        """Why the dotted path `parts` is dangerous (exact name or under a dangerous module)."""
        full = ".".join(parts)
        if full in self.danger_exact:
            return self.danger_exact[full]
        for end in range(len(parts), 0, -1):
            why = self.danger_prefix.get(".".join(parts[:end]))
            if why is not None:
                return why
        return None


def _names(spec: dict[str, list[str]]) -> list[str]:
    return [f"{module}.{name}" for module, names in spec.items() for name in names]


def _oneline(text: str) -> str:
    return " ".join(str(text).split())


@lru_cache(maxsize=1)
def builtin_knowledge() -> KnowledgeBase:
    """The knowledge base shipped with Custos: data/policy.yaml, loaded from its JSON copy
    (scripts/build-policy-json.py; a test keeps them equal) to spare every scan PyYAML's
    import."""
    text = (Path(__file__).parent / "data" / "policy.json").read_text("utf-8")
    return KnowledgeBase.from_data(json.loads(text))


@dataclass
class Policy:
    """The allow-list, the knowledge base and the user's additions, with a per-name cache."""

    knowledge: KnowledgeBase
    allow_exact: frozenset[str] = frozenset()
    allow_prefix: tuple[str, ...] = ()
    deny_exact: frozenset[str] = frozenset()
    deny_prefix: tuple[str, ...] = ()
    source: str = "the built-in policy"
    _cache: dict[tuple[str, str], Verdict] = field(default_factory=dict, repr=False)

    @classmethod
    def default(cls) -> Policy:
        return cls(builtin_knowledge())

    @classmethod
    def from_entries(
        cls,
        allow: list[str] | tuple[str, ...] = (),
        deny: list[str] | tuple[str, ...] = (),
        source: str = "the policy file",
    ) -> Policy:
        """A policy with user entries (`module.name`, `module:name`, `package.*`)."""
        from custos.modelfile.policy_file import PolicyFile  # pydantic only for user files

        validated = PolicyFile(allow=list(allow), deny=list(deny))
        allow_exact, allow_prefix = _split_entries(validated.allow)
        deny_exact, deny_prefix = _split_entries(validated.deny)
        return cls(builtin_knowledge(), allow_exact, allow_prefix, deny_exact, deny_prefix, source)

    @classmethod
    def load(cls, path: Path | str) -> Policy:
        """Read a user policy file; raises custos.errors.DataError naming file and line."""
        from custos.modelfile.policy_file import read_policy_file

        parsed = read_policy_file(Path(path))
        return cls.from_entries(parsed.allow, parsed.deny, source=str(path))

    def classify(self, module: str, name: str) -> Verdict:
        """The verdict for `module`/`name` as a pickle spells them (GLOBAL's two lines,
        STACK_GLOBAL's two strings; an empty name means the module object itself)."""
        key = (module, name)
        verdict = self._cache.get(key)
        if verdict is None:
            verdict = self._classify(module, name)
            if len(self._cache) < 1 << 16:
                self._cache[key] = verdict
        return verdict

    def _classify(self, module: str, name: str) -> Verdict:
        kb = self.knowledge
        raw = join(module, name)
        canon_module, canon_name = canonical(module, name)
        canon = join(canon_module, canon_name)
        problems = name_problems(module, name)
        tags = frozenset({"loader"}) if canon in kb.loaders | kb.scanned_loaders else frozenset()
        for path in (raw, canon):
            if path in self.deny_exact or _under(path, self.deny_prefix):
                return Verdict(Severity.critical, RULE_DANGEROUS, f"denied by {self.source}", tags)
        if not problems:
            for path in (raw, canon):
                if path in self.allow_exact:
                    return Verdict(Severity.info, RULE_ALLOWED, f"allowed by {self.source}", tags)
                if path in kb.allow:
                    return Verdict(Severity.info, RULE_ALLOWED, kb.allow[path], tags)
            if canon in kb.scanned_loaders:
                return Verdict(
                    Severity.info, RULE_ALLOWED, "loads nested data, which is scanned", tags
                )
        for mod, nam in {(module, name), (canon_module, canon_name)}:
            why = self._danger(mod, nam)
            if why is not None:
                return Verdict(Severity.critical, RULE_DANGEROUS, why, tags)
        if not problems and _under(canon, self.allow_prefix):
            return Verdict(Severity.info, RULE_ALLOWED, f"allowed by {self.source}", tags)
        return self._suspicious(module, name, canon_module, canon_name, problems, tags)

    def _danger(self, module: str, name: str) -> str | None:
        kb = self.knowledge
        mod_parts = module.split(".")
        name_parts = name.split(".") if name else []
        while name_parts and name_parts[-1] == "__call__":
            name_parts.pop()
        parts = mod_parts + name_parts
        if parts[0] in BUILTIN_ALIASES:
            parts[0] = "builtins"
        why = kb.lookup(parts)
        if why is not None:
            return why
        for seg in name_parts:
            if seg in kb.internals:
                return f"attribute walk through {seg}, which reaches interpreter internals"
        for start in range(len(mod_parts), len(parts)):
            sub = parts[start:]
            if sub[0] in BUILTIN_ALIASES:
                sub = ["builtins", *sub[1:]]
            why = kb.lookup(sub)
            if why is not None:
                return f"attribute walk to {'.'.join(sub)}: {why}"
        if name_parts and name_parts[-1] in kb.gadget_critical:
            return f"named like an execution or import primitive ({name_parts[-1]})"
        return None

    def _suspicious(
        self,
        module: str,
        name: str,
        canon_module: str,
        canon_name: str,
        problems: list[str],
        tags: frozenset[str],
    ) -> Verdict:
        kb = self.knowledge

        def high(reason: str) -> Verdict:
            return Verdict(Severity.high, RULE_SUSPICIOUS, reason, tags)

        if problems:
            text = "; ".join(problems)
            mimic_module, mimic_name = cleaned(module), cleaned(name)
            if mimic_module and (mimic_module, mimic_name) != (module, name):
                looks = self._danger(*canonical(mimic_module, mimic_name))
                if looks is not None:
                    imitated = join(mimic_module, mimic_name)
                    return high(f"{text}; imitates {imitated} ({looks})")
            return high(f"{text}: not a name Python would import")
        folded = module.lower()
        if folded != module:
            looks = self._danger(*canonical(folded, name))
            if looks is not None:
                return high(
                    f"case variant of {join(folded, name)} (imported on case-insensitive file "
                    f"systems): {looks}"
                )
        segments = canon_name.split(".") if canon_name else []
        dunder = [s for s in segments if len(s) > 4 and s.startswith("__") and s.endswith("__")]
        if dunder:
            return high(f"attribute walk through {dunder[0]}")
        if segments and segments[-1] in kb.gadget_high:
            return high(f"named like a loader, runner or attribute accessor ({segments[-1]})")
        if not canon_name:
            return high("imports a module object rather than a class or function")
        if canon_module.split(".")[0] in STDLIB:
            return high(
                "standard-library name outside the allow-list: the stdlib is where published "
                "gadget chains come from"
            )
        return Verdict(Severity.medium, RULE_UNKNOWN, "not on the allow-list", tags)


def _split_entries(entries: list[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    exact: set[str] = set()
    prefix: list[str] = []
    for entry in entries:
        if entry.endswith(".*"):
            prefix.append(entry[:-2])
        else:
            exact.add(entry.replace(":", "."))
    return frozenset(exact), tuple(prefix)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)
