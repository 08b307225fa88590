"""`Catalog`: every framework, control and mapping, indexed for lookup and search."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping as MappingType
from types import MappingProxyType

from custos.catalog.model import Control, ControlId, Framework, FrameworkId, Mapping
from custos.errors import UnknownIdError


class Catalog:
    """An immutable, indexed view of the loaded catalog (built by `custos.catalog.loader`)."""

    def __init__(
        self,
        frameworks: MappingType[FrameworkId, Framework],
        controls: MappingType[ControlId, Control],
        mappings: tuple[Mapping, ...],
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.frameworks: MappingType[FrameworkId, Framework] = MappingProxyType(dict(frameworks))
        self.controls: MappingType[ControlId, Control] = MappingProxyType(dict(controls))
        self.mappings = mappings
        self.warnings = warnings
        children: dict[ControlId, list[ControlId]] = {}
        for control in self.controls.values():
            if control.parent is not None:
                children.setdefault(control.parent, []).append(control.id)
        self._children = {key: tuple(value) for key, value in children.items()}
        outgoing: dict[ControlId, list[Mapping]] = {}
        incoming: dict[ControlId, list[Mapping]] = {}
        for m in mappings:
            outgoing.setdefault(m.source, []).append(m)
            if m.target is not None:
                incoming.setdefault(m.target, []).append(m)
        self._outgoing = {key: tuple(value) for key, value in outgoing.items()}
        self._incoming = {key: tuple(value) for key, value in incoming.items()}

    # -- lookup -----------------------------------------------------------------------------

    def control(self, control_id: str) -> Control:
        """The control with this id; UnknownIdError with suggestions otherwise."""
        found = self.controls.get(ControlId(control_id))
        if found is not None:
            return found
        close = difflib.get_close_matches(control_id, list(self.controls), n=3, cutoff=0.75)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownIdError(f"unknown control id {control_id!r}{hint}")

    def framework(self, key: str) -> Framework:
        """A framework by id (`iso27002`) or by control prefix (`iso27002:2022`)."""
        found = self.frameworks.get(FrameworkId(key))
        if found is not None:
            return found
        for framework in self.frameworks.values():
            if framework.prefix == key:
                return framework
        known = ", ".join(sorted(self.frameworks))
        raise UnknownIdError(f"unknown framework {key!r}; known frameworks: {known}")

    def framework_of(self, control: Control) -> Framework:
        return self.frameworks[control.framework]

    def children(self, control_id: str) -> list[Control]:
        return [self.controls[c] for c in self._children.get(ControlId(control_id), ())]

    def ancestors(self, control_id: str) -> list[Control]:
        """Parents from the nearest up to the root (may cross frameworks)."""
        result: list[Control] = []
        current = self.controls.get(ControlId(control_id))
        while current is not None and current.parent is not None:
            parent = self.controls.get(current.parent)
            if parent is None or parent in result:
                break
            result.append(parent)
            current = parent
        return result

    def framework_controls(self, framework_id: str, *, groups: bool = False) -> list[Control]:
        """The framework's nodes in file order; group nodes only when asked for."""
        framework = self.framework(framework_id)
        nodes = (self.controls[c] for c in framework.control_ids)
        return [c for c in nodes if groups or not c.group]

    def count(self, framework_id: str) -> int:
        """Number of controls (not group nodes) in a framework."""
        return len(self.framework_controls(framework_id))

    def kinds(self, framework_id: str) -> dict[str, int]:
        """Number of nodes per kind, groups included (e.g. tactic: 16, technique: 170)."""
        return dict(Counter(c.kind for c in self.framework_controls(framework_id, groups=True)))

    def mappings_from(self, control_id: str) -> tuple[Mapping, ...]:
        return self._outgoing.get(ControlId(control_id), ())

    def mappings_to(self, control_id: str) -> tuple[Mapping, ...]:
        return self._incoming.get(ControlId(control_id), ())

    # -- search -----------------------------------------------------------------------------

    def search(
        self, text: str, *, framework: str | None = None, limit: int | None = None
    ) -> list[Control]:
        """Controls whose id, title, guidance or statement contain every word of `text`.

        Ranked: id matches, then title matches, then the rest; ties keep catalog order.
        """
        words = [w.casefold() for w in text.split()]
        if not words:
            return []
        scope = (
            self.framework_controls(framework, groups=True)
            if framework
            else list(self.controls.values())
        )
        ranked: list[tuple[int, int, Control]] = []
        for order, control in enumerate(scope):
            ident = control.id.casefold()
            title = control.title.casefold()
            body = " ".join(
                part for part in (control.guidance, control.statement, control.rationale) if part
            ).casefold()
            haystack = f"{ident} {title} {body}"
            if not all(word in haystack for word in words):
                continue
            if all(word in ident for word in words):
                rank = 0
            elif all(word in title for word in words):
                rank = 1
            else:
                rank = 2
            ranked.append((rank, order, control))
        ranked.sort(key=lambda item: (item[0], item[1]))
        found = [control for _, _, control in ranked]
        return found[:limit] if limit is not None else found
