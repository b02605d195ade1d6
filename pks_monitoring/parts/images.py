"""Images (`images`): every image the stack runs comes from the registry mirror (or its
override), and every pod pulls with the pull secret, for clusters that reach no public registry.

Where images are: the containers and init containers of every pod template (and of the
Prometheus and Alertmanager resources, which prometheus-operator merges into the pods it builds),
the `image` of those two resources (the main container the operator starts), and the
operator's `--prometheus-config-reloader` flag (the sidecar it adds to both).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pulumi

from pks_monitoring.manifests import Manifest, Transformation
from pks_monitoring.parts.part import Added, Part, PartPlan, StackInputs
from pks_monitoring.settings import PROJECT, SettingsError
from pks_monitoring.settings.apps import DEMO_APP_IMAGE
from pks_monitoring.settings.images import ImagesSettings
from pks_monitoring.workloads import OPERATED, pod_spec

PULL_SECRET = "pks-monitoring-registry"
RELOADER_FLAG = "--prometheus-config-reloader="
# A reference without a registry host is Docker Hub's, and a one-component path its library's.
_DOCKER_HUB, _LIBRARY = "docker.io", "library"


def split(reference: str) -> tuple[str, str, str]:
    """(registry host, path, tag and/or digest as written: ':v1', '@sha256:...') of an image
    reference, with Docker Hub's implicit host and library made explicit."""
    name, at, digest = reference.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    name, suffix = (name[:colon], name[colon:]) if colon > slash else (name, "")
    suffix += at + digest
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest, suffix
    return _DOCKER_HUB, name if rest else f"{_LIBRARY}/{name}", suffix


def source_repository(reference: str) -> str:
    host, path, _ = split(reference)
    return f"{host}/{path}"


def normalized(reference: str) -> str:
    """The reference with its registry host and Docker Hub's library spelled out, as a copy
    tool (skopeo, crane) takes it."""
    host, path, suffix = split(reference)
    return f"{host}/{path}{suffix}"


def mirrored(reference: str, images: ImagesSettings) -> str:
    """The image to run for `reference`: its override, else from the mirror, else itself."""
    host, path, suffix = split(reference)
    override = images.overrides.get(f"{host}/{path}")
    if override is not None:
        return override
    return f"{images.registry}/{path}{suffix}" if images.registry else reference


def _containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("containers", "initContainers"):
        yield from (c for c in pod.get(key) or [] if isinstance(c, dict))


def _image_slots(obj: Manifest) -> Iterator[tuple[Any, Any]]:
    """(holder, key) of every image an object names: a field (`image`), or an argument (an index
    of `args`, whose value is the flag and the image)."""
    pod = pod_spec(obj)
    if pod is None:
        return
    if obj["kind"] in OPERATED and "image" in pod:
        yield pod, "image"
    for container in _containers(pod):
        if "image" in container:
            yield container, "image"
        args = container.get("args") or []
        for i, arg in enumerate(args):
            if isinstance(arg, str) and arg.startswith(RELOADER_FLAG):
                yield args, i


def images_in(obj: Manifest) -> Iterator[str]:
    for holder, key in _image_slots(obj):
        value = holder[key]
        yield value[len(RELOADER_FLAG) :] if isinstance(key, int) else value


def use_mirror(obj: Manifest, *, images: ImagesSettings) -> None:
    for holder, key in _image_slots(obj):
        if isinstance(key, int):
            holder[key] = RELOADER_FLAG + mirrored(holder[key][len(RELOADER_FLAG) :], images)
        else:
            holder[key] = mirrored(holder[key], images)


def use_pull_secret(obj: Manifest) -> None:
    """Every pod pulls with the stack's registry login (Prometheus and Alertmanager: their
    resources' spec.imagePullSecrets, which the operator puts on their pods)."""
    pod = pod_spec(obj)
    if pod is not None:
        secrets = [s for s in pod.get("imagePullSecrets") or [] if s.get("name") != PULL_SECRET]
        pod["imagePullSecrets"] = [*secrets, {"name": PULL_SECRET}]


def pull_secret(namespace: str, images: ImagesSettings) -> Manifest:
    """The `kubernetes.io/dockerconfigjson` Secret of the registry login; its content is a Pulumi
    secret from here on."""
    login = images.pull_secret
    assert login is not None
    server = login.server or split(f"{images.registry}/x")[0]
    password = login.password.get_secret_value()
    auth = base64.b64encode(f"{login.username}:{password}".encode()).decode()
    config = {"auths": {server: {"username": login.username, "password": password, "auth": auth}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": PULL_SECRET, "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": pulumi.Output.secret(json.dumps(config, sort_keys=True))},
    }


def check_overrides(images: ImagesSettings, pulled: Iterable[str]) -> None:
    """An override names an image the stack pulls, or it is a typo that silently does nothing."""
    known = sorted({source_repository(image) for image in pulled})
    for source in images.overrides:
        if source not in known:
            raise SettingsError(
                f"{PROJECT}:images.overrides: {source} is no image this stack runs; "
                f"the keys are source repositories without tag: {', '.join(known)}"
            )


def pulled_images(plans: Iterable[PartPlan], upstream: Iterable[Manifest]) -> dict[str, str]:
    """Every image the stack's pods run -> the upstream image it stands for, as the stack applies
    upstream's objects (every part's patches on a copy of each object that makes pods): what an
    air-gapped site mirrors."""
    before = [p for plan in plans if plan.name != PART.name for p in plan.patches]
    mirroring = [p for plan in plans if plan.name == PART.name for p in plan.patches]
    pulled: dict[str, str] = {}
    for obj in upstream:
        if pod_spec(obj) is None:
            continue
        source = copy.deepcopy(obj)
        for patch in before:
            patch(source)
        applied = copy.deepcopy(source)
        for patch in mirroring:
            patch(applied)
        pulled.update(zip(images_in(applied), images_in(source)))
    return dict(sorted(pulled.items()))


def patches(inputs: StackInputs) -> list[Transformation]:
    images = inputs.settings.images
    upstream = [image for obj in inputs.upstream.objects for image in images_in(obj)]
    demo = [DEMO_APP_IMAGE] if inputs.settings.demo_app.enabled else []
    check_overrides(images, [*upstream, *demo])
    transformations: list[Transformation] = []
    if images.registry or images.overrides:
        transformations.append(lambda obj: use_mirror(obj, images=images))
    if images.pull_secret:
        transformations.append(use_pull_secret)
    return transformations


def objects(inputs: StackInputs) -> list[Added]:
    images = inputs.settings.images
    return [Added(pull_secret(inputs.namespace, images), awaited=True)] if images.pull_secret else []


PART = Part("images", patches, objects)
