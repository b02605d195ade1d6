"""Runs the Pulumi program under the SDK's mock engine and records what it would apply.

The mocks stand in for the Kubernetes provider as it behaves: `kubernetes:yaml:decode` parses
YAML as the provider's decoder does (the `=` scalar included), a `yaml/v2` ConfigGroup expands its
files into the objects the provider would create (in a process of its own, as the provider does),
and every resource's state is its inputs.
Secrets stay wrapped as the engine sends them, so whoever writes them out can tell which they are.
"""

from __future__ import annotations

import json
import runpy
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.offline.yaml_objects import read_objects_elsewhere
from pks_monitoring.settings import PROJECT, PROJECT_ROOT, SECRET_PLACEHOLDER
from pks_monitoring.stack_file import ENGINE_STACK_FILE, is_secure, read_config

YAML_V2_COMPONENTS = ("kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile")


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: Optional[str]
    custom: bool


@dataclass
class Recorder(mocks.Mocks):
    """The mock provider: records every registration and every invoke."""

    resources: list[Registration] = field(default_factory=list)
    invokes: list[str] = field(default_factory=list)

    def call(self, args: mocks.MockCallArgs) -> Any:  # the SDK takes a dict or a tuple
        self.invokes.append(args.token)
        if args.token == "kubernetes:yaml:decode":
            return {"result": load_documents(args.args["text"])}
        raise NotImplementedError(f"no mock for invoke {args.token}")

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(
            Registration(args.typ, args.name, args.inputs, args.provider, bool(args.custom))
        )
        if args.typ in YAML_V2_COMPONENTS:
            return f"{args.name}_id", {"resources": self._expand(args)}
        return f"{args.name}_id", dict(args.inputs)

    def _expand(self, args: mocks.MockResourceArgs) -> list[str]:
        """What the provider does for a yaml/v2 component: one child per object in its files."""
        files = args.inputs.get("files") or [args.inputs["file"]]
        names = []
        for obj in read_objects_elsewhere(files):
            group_version = obj["apiVersion"] if "/" in obj["apiVersion"] else f"core/{obj['apiVersion']}"
            self.resources.append(
                Registration(
                    f"kubernetes:{group_version}:{obj['kind']}",
                    f"{args.name}:{obj['metadata']['name']}",
                    obj,
                    args.provider,
                    True,
                )
            )
            names.append(obj["metadata"]["name"])
        return names

    def kubernetes_objects(self) -> list[Registration]:
        """The Kubernetes objects, not providers or the yaml components that group them."""
        return [
            r
            for r in self.resources
            if r.custom and r.type.startswith("kubernetes:") and ":yaml" not in r.type
        ]


def reveal(value: Any) -> Any:
    """`value` with every secret unwrapped: what the provider would receive (for tests that
    check what reaches the cluster inside a secret)."""
    if rpc.is_rpc_secret(value):
        return reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


class DuplicateUrnError(Exception):
    """Two resources of one run share a URN (type, name and parent type): the engine's error."""


@dataclass(frozen=True)
class Options:
    """The resource options the engine acts on at delete time, as it resolves them: a resource
    that does not set one takes its parent's (the children of a yaml/v2 component too, which the
    provider registers without options of their own)."""

    protect: bool = False
    retain_on_delete: bool = False


class RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, also keeping what the engine would know beyond inputs: the stack
    outputs, each resource's dependencies, the names it was known by before (aliases; the
    engine derives its children's from them) and its delete-time options (by type and name). Like the
    engine, it refuses a second resource with the URN of one already registered (the SDK's mock
    takes both). The URN is the SDK mock's, whose type part names the parent's type only, not the
    engine's whole chain: stricter than the engine for grandchildren, which this program does not
    nest that deep."""

    stack_outputs: dict[str, Any]
    dependencies: dict[tuple[str, str], list[str]]
    aliases: dict[tuple[str, str], list[str]]
    options: dict[tuple[str, str], Options]

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder
        self.stack_outputs = {}
        self.dependencies = {}
        self.aliases = {}
        self.options = {}
        self._options_by_urn: dict[str, Options] = {}
        self._urns: set[str] = set()
        self._urns_lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        self._claim(urn, request.type)
        self.dependencies[request.type, request.name] = list(request.dependencies)
        self.aliases[request.type, request.name] = [
            a.spec.name for a in request.aliases if a.HasField("spec")
        ]
        inherited = self._options_by_urn.get(request.parent, Options())
        options = Options(
            request.protect if request.HasField("protect") else inherited.protect,
            request.retainOnDelete if request.HasField("retainOnDelete") else inherited.retain_on_delete,
        )
        self._options_by_urn[urn] = self.options[request.type, request.name] = options
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type in YAML_V2_COMPONENTS:  # its children, which Recorder._expand names
            for child in self.recorder.resources:
                if child.name.startswith(f"{request.name}:"):
                    self.options[child.type, child.name] = options
        return response

    def _claim(self, urn: str, type_: str) -> None:
        # Not the stack: run_program registers its own after set_mocks' one, with the same URN.
        if type_ == "pulumi:pulumi:Stack":
            return
        # The SDK registers from a thread pool: the check and the claim are one step.
        with self._urns_lock:
            if urn in self._urns:
                raise DuplicateUrnError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
            self._urns.add(urn)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def project_config() -> dict[str, Any]:
    """Pulumi.yaml's project config, full keys to values, as every stack inherits it."""
    merged: dict[str, Any] = {}
    for key, spec in read_config(PROJECT_ROOT / "Pulumi.yaml").items():
        value = spec.get("value", spec.get("default")) if isinstance(spec, dict) else spec
        if value is not None:
            merged[key if ":" in key else f"{PROJECT}:{key}"] = value
    return merged


def stack_config(stack_file: Path) -> tuple[dict[str, str], list[str]]:
    """Config as the engine hands it to the program: Pulumi.yaml's project config overlaid with
    the stack file's; structured values as JSON; `secure:` values, which only the Pulumi CLI can
    decrypt, replaced by the placeholder and their keys marked secret."""
    merged = project_config()
    merged.update(read_config(stack_file))

    config, secret_keys = {}, []
    for key, value in merged.items():
        value, secret = _replace_secure(value)
        if secret:
            secret_keys.append(key)
        config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


def _replace_secure(value: Any) -> tuple[Any, bool]:
    if is_secure(value):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = {k: _replace_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_replace_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _run_path(program: Path) -> None:
    runpy.run_path(str(program), run_name="__main__")


@dataclass
class Run:
    recorder: Recorder
    monitor: RecordingMonitor
    outputs: dict[str, Any]


def run_program(
    config: dict[str, str],
    secret_keys: list[str],
    *,
    stack: str = "dev",
    preview: bool = False,
    program: Path = PROJECT_ROOT / "__main__.py",
    project: str = PROJECT,
    mocks: Optional[Recorder] = None,
    stack_file: Optional[Path] = None,
) -> Run:
    """Run `program` (of `project`) as `pulumi up` (or `preview`) would, against `mocks`;
    `stack_file`: the file `config` was read from, which the program reads too (for what the
    engine's config does not say: which leaves are `secure:`, which scalars are strings)."""
    recorder = mocks or Recorder()
    monitor = RecordingMonitor(recorder)
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys)
    # set_mocks made a root stack for tests that build resources directly; a program runs in a
    # stack of its own, which registers the exports as the engine's stack outputs.
    settings.set_root_resource(None)  # type: ignore[arg-type]
    told = ENGINE_STACK_FILE.set(stack_file)
    try:
        _sync_await(run_in_stack(lambda: _run_path(program)))
    finally:
        ENGINE_STACK_FILE.reset(told)
        # A run that fails leaves its unfinished outputs in the SDK's settings, which set_mocks
        # does not reset: the next run in this process would await them and fail with this error.
        settings.SETTINGS.outputs = set()
    return Run(recorder, monitor, monitor.stack_outputs)
