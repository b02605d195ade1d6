from pathlib import Path

import pytest

from pks_monitoring.fleet.health import Unreadable, kubectl_where, problems, wait_healthy

NS = "monitoring-a"
PROMETHEUS = f"/apis/monitoring.coreos.com/v1/namespaces/{NS}/prometheuses/k8s"
ALERTMANAGER = f"/apis/monitoring.coreos.com/v1/namespaces/{NS}/alertmanagers/main"
TARGETS = f"/api/v1/namespaces/{NS}/services/prometheus-k8s:web/proxy/api/v1/targets?state=active"


def resource(generation=3, **conditions):
    """A custom resource as the API server returns it; conditions type -> (status, observedGeneration)."""
    return {
        "metadata": {"generation": generation},
        "status": {
            "conditions": [
                {"type": t, "status": s, "observedGeneration": g, "reason": "Why" if s != "True" else ""}
                for t, (s, g) in conditions.items()
            ]
        },
    }


HEALTHY = resource(Available=("True", 3), Reconciled=("True", 3))


def target(health="up", job="node-exporter", error=""):
    return {"labels": {"job": job, "instance": "node-1"}, "health": health, "lastError": error}


class FakeApi:
    """The paths the gate reads, as the API server would answer them; a missing one is a 404."""

    def __init__(self, **bodies):
        self.bodies = {
            PROMETHEUS: HEALTHY,
            ALERTMANAGER: HEALTHY,
            TARGETS: {"data": {"activeTargets": [target()]}},
        }
        self.bodies.update({globals()[k]: v for k, v in bodies.items()})
        self.reads: list[str] = []

    def __call__(self, path):
        self.reads.append(path)
        if path not in self.bodies:
            raise Unreadable(f"GET {path}: NotFound")
        return self.bodies[path]


def test_reconciled_resources_and_targets_up_are_healthy():
    api = FakeApi()
    assert problems(api, NS) == []
    assert api.reads == [PROMETHEUS, ALERTMANAGER, TARGETS]


@pytest.mark.parametrize(
    "bodies, words",
    [
        ({"PROMETHEUS": resource(Reconciled=("True", 3))}, "Prometheus k8s: no Available condition yet"),
        (
            {"ALERTMANAGER": resource(Available=("False", 3), Reconciled=("True", 3))},
            "Alertmanager main: Available is False (Why)",
        ),
        (
            {"PROMETHEUS": resource(Available=("True", 2), Reconciled=("True", 3))},
            "Prometheus k8s: Available is for generation 2, the spec is at 3",
        ),
        ({"TARGETS": {"data": {"activeTargets": []}}}, "no active targets"),
        (
            {"TARGETS": {"data": {"activeTargets": [target(), target("down", "app", "connection refused")]}}},
            "target app node-1: down (connection refused)",
        ),
    ],
)
def test_each_unhealthy_thing_is_named(bodies, words):
    found = problems(FakeApi(**bodies), NS)
    assert len(found) == 1
    assert words in found[0]


def test_a_resource_that_is_not_there_is_a_problem_not_a_crash():
    api = FakeApi()
    del api.bodies[ALERTMANAGER]
    assert problems(api, NS) == [f"GET {ALERTMANAGER}: NotFound"]


def test_targets_are_not_read_when_told_there_is_no_prometheus_running():
    api = FakeApi(TARGETS={"data": {"activeTargets": []}})
    assert problems(api, NS, targets=False) == []
    assert TARGETS not in api.reads


def test_the_gate_waits_for_the_operator_then_gives_up_with_the_last_problems():
    api = FakeApi(PROMETHEUS=resource(Reconciled=("True", 3)))
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds
        if now[0] >= 10:  # the operator reconciles after 10 s
            api.bodies[PROMETHEUS] = HEALTHY

    assert wait_healthy(api, NS, timeout=30, interval=5, clock=lambda: now[0], sleep=sleep) is None
    assert now[0] == 10

    api.bodies[PROMETHEUS] = resource(Reconciled=("True", 3))
    now[0] = 0.0
    result = wait_healthy(
        api, NS, timeout=8, interval=5, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    assert (
        result
        == "not healthy after 8 s: Prometheus k8s: no Available condition yet (is prometheus-operator running?)"
    )


def test_kubectl_is_aimed_by_the_stacks_port_forward_output():
    forward = "kubectl --context 'site a' -n monitoring port-forward svc/prometheus-k8s 9090"
    assert kubectl_where(forward, None) == ["--context", "site a"]
    assert kubectl_where(forward, Path("/k/b")) == ["--kubeconfig", "/k/b", "--context", "site a"]
    by_kubeconfig = (
        'kubectl --kubeconfig "$STACK_KUBECONFIG" -n monitoring port-forward svc/prometheus-k8s 9090'
    )
    assert kubectl_where(by_kubeconfig, Path("/k/b")) == ["--kubeconfig", "/k/b"]
    with pytest.raises(Unreadable, match="give the stack a kubeconfig in the fleet file"):
        kubectl_where(by_kubeconfig, None)
