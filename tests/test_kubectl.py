"""The stack outputs' kubectl commands, pasted into a real shell with a kubectl that reports the
argv it got."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from pydantic import SecretStr

from pks_monitoring.kubectl import kubectl
from pks_monitoring.settings.provider import KubernetesTarget


@pytest.fixture
def pasted(tmp_path):
    """Runs a command line in bash, as an operator's paste would, with `kubectl` recording argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)

    def paste(line: str, env: dict[str, str] | None = None) -> list[str]:
        result = subprocess.run(
            ["bash", "-c", line],
            env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", **(env or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout)

    return paste


PORT_FORWARD = ("-n", "monitoring", "port-forward", "svc/grafana", "3000")


@pytest.mark.parametrize("context", ["demo", "my cluster", "x$(touch pwned)", "it's; rm -rf ~", "a\nb"])
def test_the_context_reaches_kubectl_as_one_word_and_runs_nothing(pasted, tmp_path, context):
    line = kubectl(KubernetesTarget(context=context), *PORT_FORWARD)
    assert pasted(line) == ["--context", context, *PORT_FORWARD]
    assert not (tmp_path / "pwned").exists()


def test_a_kubeconfig_only_stack_names_the_kubeconfigs_context(pasted):
    kubeconfig = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "tkgi demo"})
    line = kubectl(KubernetesTarget(kubeconfig=SecretStr(kubeconfig)), *PORT_FORWARD)
    assert pasted(line) == ["--context", "tkgi demo", *PORT_FORWARD]


@pytest.mark.parametrize(
    "kubeconfig", ["/home/ops/.kube/demo.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "Config"})]
)
def test_a_kubeconfig_without_a_context_is_named_never_the_current_one(pasted, kubeconfig):
    """A path, or contents without current-context: the command says to use the stack's
    kubeconfig and never prints the (secret) setting."""
    line = kubectl(KubernetesTarget(kubeconfig=SecretStr(kubeconfig)), *PORT_FORWARD)
    assert kubeconfig not in line
    assert pasted(line, {"STACK_KUBECONFIG": "/tmp/k"}) == ["--kubeconfig", "/tmp/k", *PORT_FORWARD]
