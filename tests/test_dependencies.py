"""The service installs only what it runs on; the test tools have a lock of their own that `make test` adds."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+", line), f"{name}: not an exact pin: {line!r}"
        package, version = line.split("==")
        pins[_normalized(package)] = version
    return pins


def _normalized(requirement: str) -> str:
    """A distribution's name as pip compares them: `pyjwt[crypto]>=2.8; ...` → `pyjwt`."""
    name = re.split(r"[\[<>=!;~ ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_runtime_and_test_locks_are_apart() -> None:
    runtime, test = _lock("requirements.lock"), _lock("requirements-test.lock")
    assert not set(runtime) & set(test), "a package is pinned in both locks"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert {_normalized(r) for r in project["dependencies"]} <= set(runtime)
    # A test tool may also be something the service runs on (httpx comes with Litestar): then it is pinned once.
    assert {_normalized(r) for r in project["optional-dependencies"]["test"]} <= set(test) | set(runtime)
    for tool in ("pytest", "ruff", "mypy", "import-linter", "pymagento", "mozurestsdk", "aiosmtpd"):
        assert tool not in runtime, f"{tool} would be installed by `make run` and into the image"
