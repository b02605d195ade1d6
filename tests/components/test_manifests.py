"""The kube-prometheus release in use: parsing as the provider does, and the checks on it."""
from __future__ import annotations

import pytest
import yaml

from components.manifests import REQUIRED_OBJECTS, KubePrometheus, iter_objects, load_documents
from components.settings import SettingsError

CRD_WITH_EQUALS = "setup/0alertmanagerConfigCustomResourceDefinition.yaml"


def enums(value):
    """Every `enum` list in a schema."""
    if isinstance(value, dict):
        if isinstance(value.get("enum"), list):
            yield value["enum"]
        for child in value.values():
            yield from enums(child)
    elif isinstance(value, list):
        for child in value:
            yield from enums(child)


def test_the_equals_scalar_parses_as_the_provider_reads_it(manifests_dir):
    text = (manifests_dir / CRD_WITH_EQUALS).read_text()
    # PyYAML's safe loader refuses the YAML 1.1 "value" tag that a bare `=` resolves to ...
    with pytest.raises(yaml.constructor.ConstructorError):
        list(yaml.safe_load_all(text))
    # ... the provider's decoder reads it as the string "=", and so does ours.
    crd = load_documents(text)[0]
    assert crd["kind"] == "CustomResourceDefinition"
    assert ["!=", "=", "=~", "!~"] in list(enums(crd))
    assert load_documents("a: [=, =~]\n") == [{"a": ["=", "=~"]}]


def test_every_upstream_document_parses(kube_prometheus):
    assert len(kube_prometheus.crd_files) == 10
    assert kube_prometheus.namespace == "monitoring"
    found = {(o["kind"], o["metadata"]["name"]) for o in kube_prometheus.objects}
    assert set(REQUIRED_OBJECTS) <= found


def test_lists_expand_to_their_items():
    listing = {"kind": "RoleBindingList", "items": [{"kind": "RoleBinding", "metadata": {"name": "a"}},
                                                    {"kind": "RoleBinding", "metadata": {"name": "b"}}]}
    assert [o["metadata"]["name"] for o in iter_objects(listing)] == ["a", "b"]


def test_a_directory_that_is_not_kube_prometheus_is_refused(tmp_path):
    (tmp_path / "x.yaml").write_text("kind: ConfigMap\n")
    with pytest.raises(SettingsError, match=r"^pks-monitoring:kubePrometheus.manifests: .* is not a kube-prometheus manifests/ directory"):
        KubePrometheus.open(tmp_path)
    (tmp_path / "setup").mkdir()
    (tmp_path / "setup" / "ns.yaml").write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(SettingsError, match="has no Namespace or no CustomResourceDefinitions"):
        KubePrometheus.open(tmp_path)
