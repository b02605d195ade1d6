"""examples/app-team: an app team's project reading this stack through a StackReference.

It runs under the mock engine (preview=False) as `pulumi up` would run it, the StackReference
answered with the outputs this stack exports. Its objects land in the app's namespace through its
explicit provider, bound to the service account and following the discovery role the reference
hands over; it creates no dashboard object, and its dashboard passes the checks this repository's
dashboards/ applies, so the pull request its README asks for goes through.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS

from pks_monitoring.dashboards import DASHBOARDS_DIR, load_dashboards, shipped_dashboards
from pks_monitoring.offline import mock_engine
from pks_monitoring.offline.mock_engine import Recorder, Registration
from pks_monitoring.offline.render import plain
from pks_monitoring.settings import PROJECT_ROOT, SettingsError
from tests.helpers.app_monitor import ENDPOINT_SLICE_GRANTS, ENDPOINTS_GRANTS, grants, objects
from tests.helpers.dashboards import (
    ALL_CLUSTERS,
    BUILT_INS,
    SOMEWHERE,
    check_rules,
    every_query,
    filter_problems,
    has_data,
    panel_queries,
    substitute,
    variable_queries,
)
from tests.helpers.micrometer import APP
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

EXAMPLE = PROJECT_ROOT / "examples" / "app-team"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
MONITORING_STACK = "organization/pks-monitoring/demo"
# This stack's outputs (README "Stack outputs"), in a namespace other than the default and the
# example's, so what the example binds to can only have come from the reference.
OUTPUTS = {
    "namespace": "observability",
    "prometheusUrl": "http://prometheus-k8s.observability.svc:9090",
    "alertmanagerUrl": "http://alertmanager-main.observability.svc:9093",
    "grafanaUrl": "http://grafana.observability.svc:3000",
    "prometheusServiceAccount": {"namespace": "observability", "name": "prometheus-k8s"},
    "prometheusServiceDiscoveryRole": "EndpointSlice",
    "portForward": {"prometheus": "kubectl -n observability port-forward svc/prometheus-k8s 9090"},
}
SUBJECT = {"kind": "ServiceAccount", "namespace": "observability", "name": "prometheus-k8s"}
APP_OBJECTS = {
    ("ServiceMonitor", "shop", "orders"),
    ("Role", "shop", "orders-prometheus-discovery"),
    ("RoleBinding", "shop", "orders-prometheus-discovery"),
}


@dataclass
class StackReferences(Recorder):
    """The mock provider, also answering a StackReference as the engine does: the referenced
    stack's outputs, the secret ones wrapped as secrets and named in secretOutputNames."""

    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret_outputs: frozenset[str] = frozenset()

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.typ != STACK_REFERENCE:
            return resource_id, state
        if args.resource_id not in self.stacks:
            raise ValueError(f"unknown stack {args.resource_id!r}")
        outputs = self.stacks[args.resource_id]
        return resource_id, {
            "name": args.resource_id,
            "outputs": {
                k: rpc.wrap_rpc_secret(v) if k in self.secret_outputs else v for k, v in outputs.items()
            },
            "secretOutputNames": sorted(self.secret_outputs & outputs.keys()),
        }


def example_config() -> dict[str, str]:
    """Pulumi.dev.yaml of the example as the engine hands it over (structured values as JSON)."""
    config = yaml.safe_load((EXAMPLE / "Pulumi.dev.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


@pytest.fixture
def run_example(monkeypatch):
    """Runs examples/app-team/__main__.py (or a copy, `example`) as its own project (`app-team`, so
    `pulumi.Config()` reads its keys) with the StackReference mocked; `config_changes` maps keys to
    new values (None removes the key). Returns the mock_engine Run."""

    def run(
        outputs=OUTPUTS, *, secret_outputs=(), config_changes=None, stack=MONITORING_STACK, example=EXAMPLE
    ):
        config = example_config()
        for key, value in (config_changes or {}).items():
            if value is None:
                config.pop(key)
            else:
                config[key] = value
        # The example is another project, and its StackReference needs an answer.
        project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())["name"]
        mocks = StackReferences(stacks={stack: outputs}, secret_outputs=frozenset(secret_outputs))
        try:
            return mock_engine.run_program(
                config, [], program=example / "__main__.py", project=project, mocks=mocks
            )
        except BaseException:
            cancel_leftover_tasks()
            raise

    return run


def cancel_leftover_tasks() -> None:
    """What a program that failed after registering resources leaves behind (the real engine
    ends the process): their tasks on the event loop and the SDK's list of Outputs to await,
    which set_mocks does not reset. Left there, they fail the next run with this run's error."""
    loop = asyncio.get_event_loop()
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    with SETTINGS.lock:
        SETTINGS.outputs.clear()
    SETTINGS.rpc_manager.clear()
    gc.collect()  # the SDK's unawaited coroutines warn now, in the test that failed, not later


def without_explicit_provider(resources: list[Registration], provider_urn: str) -> list[str]:
    """The Kubernetes objects not sent through `provider_urn` (e.g. the default provider)."""
    return [r.name for r in resources if not (r.provider or "").startswith(provider_urn + "::")]


def test_objects_land_in_the_app_namespace_bound_to_the_referenced_service_account(
    run_example, manifests_dir
):
    run = run_example()
    found = objects(run.recorder)
    assert set(found) == APP_OBJECTS

    reference = next(r for r in run.recorder.resources if r.type == STACK_REFERENCE)
    assert reference.name == MONITORING_STACK
    binding = found["RoleBinding", "shop", "orders-prometheus-discovery"]
    assert binding["subjects"] == [SUBJECT]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "orders-prometheus-discovery",
    }
    assert grants(found["Role", "shop", "orders-prometheus-discovery"]) == ENDPOINT_SLICE_GRANTS
    service_monitor = found["ServiceMonitor", "shop", "orders"]
    assert service_monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "orders"}}
    assert service_monitor["spec"]["namespaceSelector"] == {"matchNames": ["shop"]}
    assert service_monitor["spec"]["endpoints"][0]["port"] == "http"

    schemas = crd_schemas(manifests_dir)
    assert validate_custom(service_monitor, schemas) == []
    for kind in ("Role", "RoleBinding"):
        assert validate_core(found[kind, "shop", "orders-prometheus-discovery"]) == [], kind


def test_role_follows_the_referenced_discovery_role(run_example):
    found = objects(run_example({**OUTPUTS, "prometheusServiceDiscoveryRole": "Endpoints"}).recorder)
    role = found["Role", "shop", "orders-prometheus-discovery"]
    assert grants(role) == ENDPOINTS_GRANTS != ENDPOINT_SLICE_GRANTS
    assert not any(resource == "endpointslices" for _, resource, _ in grants(role))


def test_another_monitoring_stack_is_another_service_account(run_example):
    account = {"namespace": "monitoring", "name": "prometheus-main"}
    found = objects(run_example({**OUTPUTS, "prometheusServiceAccount": account}).recorder)
    assert found["RoleBinding", "shop", "orders-prometheus-discovery"]["subjects"] == [
        {"kind": "ServiceAccount", **account}
    ]


def test_every_kubernetes_object_goes_through_the_explicit_provider(run_example):
    run = run_example()
    (provider,) = [r for r in run.recorder.resources if r.type == "pulumi:providers:kubernetes"]
    assert provider.inputs["context"] == "demo"
    urn = next(urn for urn in run.monitor.resources if urn.endswith("::app-team-k8s"))
    resources = run.recorder.kubernetes_objects()
    assert len(resources) == 3 and without_explicit_provider(resources, urn) == []
    # The check bites: an object on the default provider is named.
    stray = Registration("kubernetes:core/v1:ConfigMap", "stray", {}, "", True)
    assert without_explicit_provider([*resources, stray], urn) == ["stray"]
    # ...and the project refuses the default provider, as this one does.
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert project["config"]["pulumi:disable-default-providers"]["value"] == ["kubernetes"]
    # It runs in this repository's venv, which has everything it imports.
    assert (EXAMPLE / project["runtime"]["options"]["virtualenv"]).resolve() == (
        PROJECT_ROOT / ".venv"
    ).resolve()


def test_a_secret_output_stays_secret(run_example):
    run = run_example(secret_outputs={"prometheusServiceAccount"})
    (binding,) = [r for r in run.recorder.kubernetes_objects() if r.type.endswith(":RoleBinding")]
    assert rpc.is_rpc_secret(binding.inputs["subjects"])
    assert plain(rpc.unwrap_rpc_secret(binding.inputs["subjects"])) == [SUBJECT]
    # Not secret in the stack, not secret here.
    (binding,) = [r for r in run_example().recorder.kubernetes_objects() if r.type.endswith(":RoleBinding")]
    assert not rpc.is_rpc_secret(binding.inputs["subjects"])


# A run that fails after registering resources leaves coroutines of the SDK never awaited.
failed_run = pytest.mark.filterwarnings("ignore:coroutine 'Output:RuntimeWarning")


@failed_run
def test_a_stack_without_the_discovery_role_output_fails_naming_it(run_example):
    older = {k: v for k, v in OUTPUTS.items() if k != "prometheusServiceDiscoveryRole"}
    with pytest.raises(KeyError, match="prometheusServiceDiscoveryRole"):
        run_example(older)


def test_the_reference_names_the_configured_stack(run_example):
    run = run_example(
        stack="acme/pks-monitoring/prod",
        config_changes={"app-team:monitoringStack": "acme/pks-monitoring/prod"},
    )
    assert [r.name for r in run.recorder.resources if r.type == STACK_REFERENCE] == [
        "acme/pks-monitoring/prod"
    ]
    assert set(objects(run.recorder)) == APP_OBJECTS


@failed_run
def test_a_stack_other_than_the_configured_one_is_not_read(run_example):
    with pytest.raises(ValueError, match="unknown stack 'organization/pks-monitoring/demo'"):
        run_example(stack="organization/pks-monitoring/prod")


def test_bad_app_config_is_one_line_naming_the_key(run_example):
    app = json.loads(example_config()["app-team:app"])
    with pytest.raises(SettingsError) as caught:
        run_example(config_changes={"app-team:app": json.dumps({**app, "port": 8080})})
    assert str(caught.value).startswith("app-team:app.port: 8080 is a port number")
    assert "\n" not in str(caught.value)


def test_no_cluster_is_one_line(run_example):
    with pytest.raises(SettingsError, match=r"^kubernetes:context: no cluster to deploy to; "):
        run_example(config_changes={"kubernetes:context": None})


# ---------------------------------------------------------------- the dashboard


def test_dashboard_is_an_output_not_an_object(run_example):
    """Grafana reads only the dashboards the monitoring stack mounts: the example creates no
    ConfigMap (nothing would read it) and tells what the monitoring stack will serve once the file
    is in its dashboards/, in the namespace the reference names."""
    run = run_example()
    assert not [r for r in run.recorder.kubernetes_objects() if r.type.endswith(":ConfigMap")]
    assert run.outputs["dashboards"] == [
        {
            "file": "dashboards/shop-service-level.json",
            "uid": "shop-service-level",
            "title": "Shop / Service level",
            "configMap": "observability/grafana-dashboard-shop-service-level",
        }
    ]


def test_a_broken_dashboard_stops_the_program_naming_the_file(run_example, tmp_path):
    copy = tmp_path / "examples" / "app-team"
    shutil.copytree(EXAMPLE, copy)
    (copy / "dashboards" / "shop-service-level.json").write_text('{"title": "Shop / Service level"}')
    with pytest.raises(SettingsError, match=r"/dashboards/shop-service-level\.json: no `uid`"):
        run_example(example=copy)


@pytest.fixture(scope="module")
def example_dashboards():
    return load_dashboards(EXAMPLE / "dashboards")


def test_dashboard_loads_next_to_ours_and_upstreams(tmp_path, kube_prometheus, example_dashboards):
    """What the pull request to dashboards/ goes through: the repository's dashboards, upstream's
    and the example's, with no name, uid or title twice."""
    for path in [*DASHBOARDS_DIR.glob("*.json"), *(EXAMPLE / "dashboards").glob("*.json")]:
        shutil.copy(path, tmp_path)
    together = load_dashboards(tmp_path, shipped=shipped_dashboards(kube_prometheus.objects))
    assert {d.uid for d in example_dashboards} <= {d.uid for d in together}
    # The check bites: a title the repository already uses is refused.
    clash = json.loads(example_dashboards[0].text) | {"title": "Spring Boot / Micrometer"}
    (tmp_path / "shop-service-level.json").write_text(json.dumps(clash))
    with pytest.raises(SettingsError, match="title 'Spring Boot / Micrometer' is also the title of"):
        load_dashboards(tmp_path, shipped=shipped_dashboards(kube_prometheus.objects))


def test_dashboard_queries_parse_and_select_the_app(tmp_path, example_dashboards):
    queries = every_query(example_dashboards)
    assert len(queries) == 9  # 5 panels, 4 query variables
    result = check_rules(tmp_path / "queries.yaml", {k: substitute(v, SOMEWHERE) for k, v in queries.items()})
    assert result.returncode == 0, result.stdout + result.stderr
    problems = {
        name: p for name, expr in panel_queries(example_dashboards[0]).items() if (p := filter_problems(expr))
    }
    assert not problems, problems
    # The check bites: a panel that forgot the job matcher is named.
    unscoped = panel_queries(example_dashboards[0])
    name = next(iter(unscoped))
    assert filter_problems(unscoped[name].replace('job="$job", ', ""))


def test_dashboard_answers_for_a_micrometer_app_and_only_for_it(
    app_prometheus, spring_boot_app, example_dashboards
):
    """A real Prometheus scraping a stand-in for a Spring Boot app on 127.0.0.1 (the fixture of
    tests/components/test_dashboards.py): every panel has data, every variable finds the app, and
    another namespace, job or instance gets nothing."""
    (dashboard,) = example_dashboards
    # A cluster's own Prometheus: no series has the cluster label, Grafana offers only All.
    app = {**APP, "instance": spring_boot_app, "cluster": None}
    variables = {**BUILT_INS, **APP, **ALL_CLUSTERS, "instance": spring_boot_app}
    queries = panel_queries(dashboard)
    empty = {
        name: expr
        for name, expr in queries.items()
        if not has_data(app_prometheus, substitute(expr, variables))
    }
    assert not empty, empty
    for name, (variable, expr) in variable_queries(dashboard).items():
        found = {
            sample["metric"].get(variable) for sample in app_prometheus.vector(substitute(expr, variables))
        }
        assert found == {app[variable]}, (name, found)
    for variable in app:
        other = {**variables, variable: "other"}
        leaking = {
            name: expr for name, expr in queries.items() if app_prometheus.vector(substitute(expr, other))
        }
        assert not leaking, (variable, leaking)
