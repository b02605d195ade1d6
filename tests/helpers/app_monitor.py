"""AppMonitor helpers: the objects a mock run registered, and the grants a Role gives."""

from __future__ import annotations

from pks_monitoring.offline.render import plain

READ = {"get", "list", "watch"}


def objects(mocks) -> dict[tuple[str, str, str], dict]:
    """(kind, namespace, name) -> the object as the API server gets it."""
    found = {}
    for r in mocks.kubernetes_objects():
        obj = plain(r.inputs)
        found[obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]] = obj
    return found


def grants(role: dict) -> set[tuple[str, str, str]]:
    """A Role's rules as (API group, resource, verb) triples."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def needed(group: str, resource: str) -> set[tuple[str, str, str]]:
    """get/list/watch on the discovery role's objects, Services and Pods: nothing else."""
    return {(g, r, v) for g, r in ((group, resource), ("", "services"), ("", "pods")) for v in READ}


ENDPOINT_SLICE_GRANTS = needed("discovery.k8s.io", "endpointslices")


ENDPOINTS_GRANTS = needed("", "endpoints")
