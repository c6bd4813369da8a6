"""openapi.yaml is the contract: it must equal what the app generates."""

from __future__ import annotations

import httpx

from service.applications.behaviors import Behavior
from service.cli import render_openapi
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
