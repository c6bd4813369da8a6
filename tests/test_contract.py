"""The documented contract: openapi.yaml equals what the app generates; the README lists every error code."""

from __future__ import annotations

import re

import httpx

from service.applications.behaviors import Behavior
from service.cli import render_openapi
from service.errors import ErrorCode
from tests.conftest import ROOT


def test_openapi_yaml_matches_the_app() -> None:
    committed = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    assert committed == render_openapi(), "openapi.yaml is stale: run `make openapi` and commit the result"


def test_openapi_lists_behaviors_as_an_enum() -> None:
    import yaml

    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    enums = [s.get("enum") for s in schema["components"]["schemas"].values() if s.get("title") == "Behavior"]
    assert sorted(enums[0]) == sorted(b.value for b in Behavior)


async def test_interactive_docs_are_served(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    served = await client.get("/docs/openapi.json")
    assert served.status_code == 200 and "/admin/v1/tenants" in served.json()["paths"]


def test_readme_lists_every_error_code() -> None:
    """The README's table of error codes is the enumeration in service/errors.py, no more, no less."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([A-Z0-9_]+)` \| [0-9, ]+ \|", section, flags=re.MULTILINE)
    assert len(listed) == len(set(listed)), "a code is listed twice"
    assert set(listed) == {code.value for code in ErrorCode}


def test_error_codes_come_from_the_enumeration() -> None:
    """No string literal stands in for an error code: each `code=` names a member of ErrorCode."""
    literals = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "service").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bcode=[\"']", line)
    ]
    assert literals == []
