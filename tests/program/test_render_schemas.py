"""The dev stack's render is valid against the Kubernetes and kube-prometheus CRD schemas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.offline.render import render
from pks_monitoring.settings import PROJECT_ROOT, SECRET_PLACEHOLDER
from tests.conftest import UPSTREAM
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom, validate_render

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

MANIFESTS = UPSTREAM
CUSTOM_KINDS = {"Prometheus", "Alertmanager", "PrometheusRule", "ServiceMonitor"}


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "dev"
    render(PROJECT_ROOT / "Pulumi.dev.yaml", out)
    return out


@pytest.fixture(scope="module")
def schemas() -> dict:
    return crd_schemas(MANIFESTS)


def _objects(out_dir: Path) -> list[dict[str, Any]]:
    return [obj for p in sorted((out_dir / "k8s").rglob("*.yaml")) for obj in load_documents(p.read_text())]


def _first(out_dir: Path, kind: str) -> dict[str, Any]:
    """A deep copy of the first rendered object of a kind, free to mutate."""
    path = next(iter(sorted((out_dir / "k8s").glob(f"*/{kind}_*.yaml"))), None)
    assert path is not None, f"the render has no {kind}"
    return copy.deepcopy(load_documents(path.read_text())[0])


def test_render_is_schema_valid(out_dir: Path) -> None:
    errors = validate_render(out_dir, MANIFESTS)
    assert errors == [], f"{len(errors)} schema errors:\n" + "\n".join(errors[:20])


def test_validation_covers_core_and_custom_resources(out_dir: Path) -> None:
    objects = _objects(out_dir)
    custom = {o["kind"] for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/")}
    core = [o for o in objects if not o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert core, "no core objects rendered"
    assert custom >= CUSTOM_KINDS, f"missing custom resources: {sorted(CUSTOM_KINDS - custom)}"


def test_crd_schemas_cover_the_custom_kinds(schemas: dict) -> None:
    assert {
        kind for (api_version, kind) in schemas if api_version == "monitoring.coreos.com/v1"
    } >= CUSTOM_KINDS


# Negative tests: the validators do fail, so an empty error list above means something.


def test_core_rejects_wrong_type(out_dir: Path) -> None:
    deployment = _first(out_dir, "Deployment")
    assert validate_core(deployment) == []  # the control: unmodified, it is valid
    deployment["spec"]["replicas"] = "two"
    errors = validate_core(deployment)
    assert errors and "spec.replicas" in errors[0], errors


def test_core_strict_rejects_unknown_field(out_dir: Path) -> None:
    deployment = _first(out_dir, "Deployment")
    deployment["spec"]["bogus"] = 1
    errors = validate_core(deployment)
    assert errors and "bogus" in errors[0], errors


def test_custom_rejects_wrong_type(out_dir: Path, schemas: dict) -> None:
    prometheus = _first(out_dir, "Prometheus")
    assert validate_custom(prometheus, schemas) == []
    prometheus["spec"]["replicas"] = "x"
    errors = validate_custom(prometheus, schemas)
    assert any(e.startswith("spec.replicas:") for e in errors), errors


def test_custom_rejects_unknown_field(out_dir: Path, schemas: dict) -> None:
    # The API server drops (or, with strict field validation, refuses) fields a CRD lacks.
    prometheus = _first(out_dir, "Prometheus")
    prometheus["spec"]["retentionSizee"] = "10GB"
    errors = validate_custom(prometheus, schemas)
    assert any("retentionSizee" in e for e in errors), errors


def test_custom_rejects_unknown_kind(schemas: dict) -> None:
    obj = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Bogus", "metadata": {"name": "x"}}
    errors = validate_custom(obj, schemas)
    assert errors and "no CRD defines" in errors[0], errors


def test_core_rejects_unknown_kind() -> None:
    assert validate_core({"apiVersion": "v1", "kind": "Bogus", "metadata": {"name": "x"}})


def test_rendered_secrets_are_whole_objects_that_validate(out_dir: Path) -> None:
    secrets = [load_documents(p.read_text())[0] for p in sorted((out_dir / "k8s").rglob("Secret_*.yaml"))]
    names = {s["metadata"]["name"] for s in secrets}
    assert {"alertmanager-main", "additional-scrape-configs", "grafana-admin", "grafana-config"} <= names
    for secret in secrets:
        assert isinstance(secret["stringData"], dict), secret["metadata"]["name"]
        assert validate_core(secret) == [], secret["metadata"]["name"]
    # The negative control: a Secret masked whole, as the render once wrote it, is refused.
    masked = {**secrets[0], "stringData": SECRET_PLACEHOLDER}
    errors = validate_core(masked)
    assert errors and errors[0].startswith("stringData"), errors
