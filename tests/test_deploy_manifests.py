"""deploy/: the Kubernetes manifests, validated offline against a pinned Kubernetes version's schemas, and the
compose files.

Without a kustomize binary here, `render` builds each kustomization the way kustomize does for the little
these use (resources, patches of mappings, images); with `kubectl` on the PATH, a test checks that
`kubectl kustomize` renders the same.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.platform.config import ConfigError, load_settings
from service.platform.redis_url import parse_redis_url
from tests.conftest import ROOT, SECRETS_KEY

# The oldest Kubernetes the manifests are for; kubernetes-validate carries the schemas of each version.
KUBERNETES_VERSION = "1.33.0"
KUBERNETES = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
OVERLAY = KUBERNETES / "overlays" / "redis-cluster"
KUSTOMIZATIONS = [KUBERNETES, BASE, *sorted(p for p in (KUBERNETES / "overlays").iterdir() if p.is_dir())]
# What `render` knows how to build; anything else in a kustomization.yaml needs teaching here first.
RENDERED_FIELDS = {"apiVersion", "kind", "resources", "patches", "images"}
# A version with at least major.minor (7.4.1, 16.4, 3.11-slim), or a digest: never latest or a bare major.
KUBECTL = shutil.which("kubectl")
PINNED = re.compile(r"^[^:@\s]+(:\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$")


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """A strategic merge patch made of mappings only: lists would need kustomize's merge keys."""
    for key, value in patch.items():
        assert not isinstance(value, list), f"{key}: a patch of a list needs real kustomize"
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])


def render(directory: Path) -> list[dict[str, Any]]:
    spec = kustomization(directory)
    docs: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        docs += render(path) if path.is_dir() else list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    for entry in spec.get("patches", []):
        patch = yaml.safe_load((directory / entry["path"]).read_text(encoding="utf-8"))
        targets = [d for d in docs if (d["kind"], d["metadata"]["name"]) == (patch["kind"], patch["metadata"]["name"])]
        assert len(targets) == 1, f"{entry['path']} patches {len(targets)} objects"
        _merge(targets[0], patch)
    for image in spec.get("images", []):
        for container in (c for doc in docs for c in _containers(doc)):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image['newName']}:{image['newTag']}"
    return docs


def find(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (doc,) = (d for d in docs if d["kind"] == kind)
    return doc


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_kustomization_lists_exactly_the_files_beside_it(directory: Path) -> None:
    spec = kustomization(directory)
    assert set(spec) <= RENDERED_FIELDS, set(spec) - RENDERED_FIELDS
    resources = spec.get("resources", [])
    listed = [r for r in resources if (directory / r).is_file()] + [p["path"] for p in spec.get("patches", [])]
    present = [p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml"]
    assert sorted(listed) == sorted(present)
    assert all((directory / r / "kustomization.yaml").is_file() for r in resources if not (directory / r).is_file())


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_object_is_valid_for_the_pinned_kubernetes(directory: Path) -> None:
    docs = render(directory)
    assert len(docs) == 7
    for doc in docs:
        # strict: a field the schema does not know (a typo, or one newer than the pinned version) fails too.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(KUBECTL is None, reason="no kubectl to render with real kustomize")
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_kubectl_kustomize_renders_what_render_does(directory: Path) -> None:
    assert KUBECTL is not None
    printed = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=True)

    def key(doc: dict[str, Any]) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    assert sorted(yaml.safe_load_all(printed.stdout), key=key) == sorted(render(directory), key=key)


def _assert_locked_down(pod: dict[str, Any], data_dir: str) -> None:
    """Non-root as the image's user, no privilege to gain, nothing written outside its emptyDir volumes."""
    uid = int(re.search(r"--uid (\d+)", (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")).group(1))
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
    scratch = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = [m["mountPath"] for m in container["volumeMounts"] if m["name"] in scratch]
    assert "/tmp" in mounts and any(data_dir.startswith(f"{m}/") for m in mounts), (mounts, data_dir)  # noqa: S108


def test_the_deployment_serves_and_the_job_migrates_locked_down() -> None:
    docs = render(KUBERNETES)
    config = find(docs, "ConfigMap")["data"]
    deployment, job = find(docs, "Deployment"), find(docs, "Job")
    for pod in (deployment["spec"]["template"]["spec"], job["spec"]["template"]["spec"]):
        _assert_locked_down(pod, config["GATEHOUSE_DATA_DIR"])
        (container,) = pod["containers"]
        assert container["envFrom"] == [
            {"configMapRef": {"name": find(docs, "ConfigMap")["metadata"]["name"]}},
            {"secretRef": {"name": find(docs, "Secret")["metadata"]["name"]}},
        ]
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert server["command"] == ["gatehouse", "serve"] and migrate["command"] == ["gatehouse", "migrate"]
    assert server["image"] == migrate["image"] and PINNED.match(server["image"])
    assert config["GATEHOUSE_MIGRATE_ON_START"] == "false"  # the Job migrates, once per release
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_probes_service_budget_and_autoscaler_find_the_pods() -> None:
    docs = render(KUBERNETES)
    deployment, config = find(docs, "Deployment"), find(docs, "ConfigMap")["data"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": int(config["PORT"])}]
    probes = {name: container[name]["httpGet"] for name in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert probes == {
        "startupProbe": {"path": "/health/live", "port": "http"},
        "readinessProbe": {"path": "/health/ready", "port": "http"},
        "livenessProbe": {"path": "/health/live", "port": "http"},
    }
    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))["paths"]
    assert {"/health/live", "/health/ready"} <= set(contract)
    grace = int(config["GATEHOUSE_SHUTDOWN_GRACE_SECONDS"]) + container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["spec"]["terminationGracePeriodSeconds"] > grace
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert "replicas" not in deployment["spec"]  # the autoscaler's to set
    service, budget, autoscaler = (
        find(docs, "Service"),
        find(docs, "PodDisruptionBudget"),
        find(docs, "HorizontalPodAutoscaler"),
    )
    assert service["spec"]["selector"] == labels and service["spec"]["ports"][0]["targetPort"] == "http"
    assert budget["spec"]["selector"]["matchLabels"] == labels
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert autoscaler["spec"]["minReplicas"] >= 2  # one pod's loss, or a drain under the budget, is no outage


class _Recording(dict[str, str]):
    """An environment that notes each variable Gatehouse reads."""

    read: set[str]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def _settings_env(docs: list[dict[str, Any]], **override: str) -> _Recording:
    env = _Recording({**find(docs, "ConfigMap")["data"], **find(docs, "Secret")["stringData"], **override})
    env.read = set()
    return env


def test_the_configmap_and_secret_hold_settings_gatehouse_reads() -> None:
    docs = render(KUBERNETES)
    with pytest.raises(ConfigError, match="GATEHOUSE_SECRETS_KEY"):  # the placeholder cannot run by mistake
        load_settings(_settings_env(docs))
    env = _settings_env(docs, GATEHOUSE_SECRETS_KEY=SECRETS_KEY)
    settings = load_settings(env)
    assert set(env) <= env.read, set(env) - env.read  # no key that no setting reads (a typo, a retired name)
    assert settings.migrate_on_start is False and settings.workers == 2 and not settings.embedded
    assert (settings.db_pool.min_size, settings.db_pool.max_size) == (2, 10)


def test_the_redis_cluster_overlay_changes_only_redis_url() -> None:
    base, overlay = render(KUBERNETES), render(OVERLAY)
    redis_url = find(overlay, "Secret")["stringData"].pop("REDIS_URL")
    assert redis_url.startswith("redis+cluster://") and redis_url.count(",") >= 2
    assert len(parse_redis_url(redis_url).nodes) == 3  # a URL Gatehouse starts with
    find(base, "Secret")["stringData"].pop("REDIS_URL")
    assert overlay == base


@pytest.mark.parametrize("path", sorted((ROOT / "deploy").glob("compose*.yaml")), ids=lambda p: p.name)
def test_compose_files_parse_and_pin_their_images(path: Path) -> None:
    services = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
    for name, service in services.items():
        assert "build" in service or PINNED.match(service["image"]), (name, service.get("image"))


def test_the_sentinel_compose_file_is_compose_yaml_with_a_watched_primary() -> None:
    plain = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))["services"]
    services = yaml.safe_load((ROOT / "deploy" / "compose.sentinel.yaml").read_text(encoding="utf-8"))["services"]
    environment = dict(services["gatehouse"]["environment"])
    match = re.fullmatch(r"redis\+sentinel://([^/]+)/(\w+)", environment.pop("REDIS_URL"))
    assert match, services["gatehouse"]["environment"]["REDIS_URL"]
    sentinels, primary_name = [h.split(":")[0] for h in match.group(1).split(",")], match.group(2)
    assert parse_redis_url(match.group(0)).primary_name == primary_name  # a URL Gatehouse starts with
    assert len(sentinels) == 3 and set(sentinels) <= set(services)
    for sentinel in sentinels:
        assert f"sentinel monitor {primary_name} redis-primary 6379 2" in " ".join(services[sentinel]["command"])
    assert services["redis-replica"]["command"][3:6] == ["--replicaof", "redis-primary", "6379"]
    assert {k: v for k, v in plain["gatehouse"]["environment"].items() if k != "REDIS_URL"} == environment
