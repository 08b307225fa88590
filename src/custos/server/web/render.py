"""Rendering pages: one Jinja2 environment over the package's templates, autoescaped.

Every page gets the signed-in user (if any) and the CSRF token for its forms.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.filters import do_urlencode
from markupsafe import Markup

from custos import __version__
from custos.server.auth import csrf
from custos.server.rbac import Principal

TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    422: "Check the form",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


@lru_cache(maxsize=16384)
def _quote_path(text: str) -> str:
    return quote(text, safe="/")


def urlencode(value: Any) -> str:
    """Jinja's `urlencode` (a string quoted as a URL path: "/" kept), remembered per string:
    pages link to the same few thousand system and control ids, and Jinja's own filter was a
    fifth of a long page's time."""
    return _quote_path(value) if isinstance(value, str) else do_urlencode(value)


def template_dir() -> str:
    return str(resources.files("custos.server.web") / "templates")


def static_dir() -> str:
    return str(resources.files("custos.server.web") / "static")


class Pages:
    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(template_dir()),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["urlencode"] = urlencode

    def warm(self) -> None:
        """Compile every template now rather than on each new process's first page views."""
        for name in self._env.list_templates(extensions=["html"]):
            self._env.get_template(name)

    def fragment(self, name: str, **values: Any) -> Markup:
        """A template rendered alone (no layout, nothing about the caller), for parts of a page
        worth keeping between requests."""
        # Safe: the environment autoescapes, so the output is HTML with every value escaped.
        return Markup(self._env.get_template(name).render(**values))  # noqa: S704

    def render(
        self,
        name: str,
        *,
        principal: Principal | None = None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        token = (
            csrf.token_for(principal.session_token) if principal and principal.session_token else ""
        )
        html = self._env.get_template(name).render(
            user=principal.username if principal else None,
            csrf_token=token,
            version=__version__,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        title = TITLES.get(status, "Error")
        return self.render("error.html", status=status, title=title, message=message)
