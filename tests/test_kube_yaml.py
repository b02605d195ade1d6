"""Kubernetes YAML read as the provider reads it."""

from __future__ import annotations

import pytest
import yaml

from pks_monitoring.kube_yaml import iter_objects, load_documents, read_objects

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


@pytest.mark.slow
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


def test_lists_expand_to_their_items():
    listing = {
        "kind": "RoleBindingList",
        "items": [
            {"kind": "RoleBinding", "metadata": {"name": "a"}},
            {"kind": "RoleBinding", "metadata": {"name": "b"}},
        ],
    }
    assert [o["metadata"]["name"] for o in iter_objects(listing)] == ["a", "b"]


def test_files_are_read_in_order_with_lists_expanded(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "kind: ConfigMap\nmetadata: {name: one}\n---\n---\nkind: Secret\nmetadata: {name: two}\n"
    )
    (tmp_path / "b.yaml").write_text(
        "kind: ConfigMapList\nitems:\n- {kind: ConfigMap, metadata: {name: three}}\n- {kind: ConfigMap, metadata: {name: four}}\n"
    )
    objects = read_objects([tmp_path / "a.yaml", str(tmp_path / "b.yaml")])
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ConfigMap", "one"),
        ("Secret", "two"),
        ("ConfigMap", "three"),
        ("ConfigMap", "four"),
    ]
