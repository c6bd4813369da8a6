"""Case-insensitive Kibo addresses, which Kibo's older SDKs rely on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from litestar.openapi.spec import Parameter

from service.http.kibo.conventions import RESPONSE_FIELDS

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Receive, Scope, Send

KIBO_PREFIX = "/api/"


@dataclass(slots=True)
class _Node:
    """One level of the route templates: static segments by their lower-case form, and parameters."""

    static: dict[str, tuple[str, _Node]] = field(default_factory=dict)
    int_param: _Node | None = None
    str_param: _Node | None = None
    terminal: bool = False


def _add_template(root: _Node, template: str) -> None:
    node = root
    for segment in template.strip("/").split("/"):
        if segment.startswith("{"):
            kind = "int_param" if segment.endswith(":int}") else "str_param"
            child = getattr(node, kind) or _Node()
            setattr(node, kind, child)
        else:
            child = node.static.setdefault(segment.lower(), (segment, _Node()))[1]
        node = child
    node.terminal = True


def _canonical(node: _Node, segments: list[str], start: int) -> list[str] | None:
    """The segments with their static parts in the routes' case, if some template matches them all."""
    if start == len(segments):
        return [] if node.terminal else None
    segment = segments[start]
    static = node.static.get(segment.lower())
    if static is not None:
        rest = _canonical(static[1], segments, start + 1)
        if rest is not None:
            return [static[0], *rest]
    for param, fits in ((node.int_param, segment.isascii() and segment.isdigit()), (node.str_param, segment != "")):
        if param is not None and fits:
            rest = _canonical(param, segments, start + 1)
            if rest is not None:
                return [segment, *rest]  # a value: never changed
    return None


class KiboCaseMiddleware:
    """Pure ASGI: matches `/api/...` paths and query parameter names case-insensitively, as Kibo does.

    Kibo's Python SDK (`mozurestsdk`) lower-cases the whole address it calls (`/add-account-and-login`,
    `?refreshtoken=`). Static path segments and query parameter names are put back in the case the
    routes declare; path parameters and query values are left exactly as they came. Both lists are
    taken once from the app's own routes and OpenAPI parameters.
    """

    def __init__(self, app: Litestar) -> None:
        self.app: ASGIApp = app
        self.routes = _Node()
        for route in app.routes:
            if route.path.startswith(KIBO_PREFIX):
                _add_template(self.routes, route.path)
        names = {RESPONSE_FIELDS}
        for path, item in (app.openapi_schema.paths or {}).items():
            if path.startswith(KIBO_PREFIX):
                for operation in (item.get, item.put, item.post, item.delete, item.patch):
                    parameters = operation.parameters if operation else None
                    names.update(p.name for p in parameters or () if isinstance(p, Parameter) and p.param_in == "query")
        lowered = [n.lower() for n in names]
        # A name that differs from another only by case could not be told apart: leave such names alone.
        self.query_names = {n.lower().encode(): n.encode() for n in names if lowered.count(n.lower()) == 1}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["path"].startswith(KIBO_PREFIX):
            self._canonicalize(scope)
        await self.app(scope, receive, send)

    def _canonicalize(self, scope: Scope) -> None:
        path: str = scope["path"]
        segments = path[len(KIBO_PREFIX) :].rstrip("/").split("/")
        canonical = _canonical(self.routes, ["api", *segments], 0)
        if canonical is not None and canonical[1:] != segments:
            canonical = canonical[1:]
            scope["path"] = KIBO_PREFIX + "/".join(canonical) + ("/" if path.endswith("/") else "")
            raw: bytes | None = scope.get("raw_path")
            if raw is not None:
                raw_segments = raw.split(b"/")  # b"", b"api", then the segments, percent-encoded
                if len(raw_segments) >= 2 + len(segments):
                    for i, (old, new) in enumerate(zip(segments, canonical, strict=False)):
                        if old != new:
                            raw_segments[2 + i] = new.encode()
                    scope["raw_path"] = b"/".join(raw_segments)
        query: bytes = scope.get("query_string", b"")
        if query:
            pairs = query.split(b"&")
            for i, pair in enumerate(pairs):
                name, sep, value = pair.partition(b"=")
                wanted = self.query_names.get(name.lower())
                if wanted is not None and wanted != name:
                    pairs[i] = wanted + sep + value
            scope["query_string"] = b"&".join(pairs)
