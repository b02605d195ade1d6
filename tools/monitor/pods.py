"""A pod of the cluster played by a process on this machine.

kwok keeps the stack's pods Running without running anything. To run what one of them would run,
the Pod is read (the operator's StatefulSet made it; admission added its service-account volume)
and what the kubelet does before starting a container is done here:
- every volume is written under `<root>/volumes/<volume>`: Secret and ConfigMap keys as files,
  emptyDir as an empty folder, a projected volume's sources together (the service-account token
  from a TokenRequest bound to the pod, as the kubelet asks for it, kube-root-ca.crt, the
  namespace);
- `$(VAR)` in the container's args is expanded from its env (values and downward-API fields);
- a path in its args under one of its mountPaths is rewritten into that volume's local folder.
A sidecar's job the played process needs done first (the config-reloader's unpacking of the
generated config) is done the same way (`reload_config`). Nothing in the cluster changes.

Usage (tools/local-cluster.sh monitor; kubectl on PATH, KUBECONFIG set):
  python -m tools.monitor.pods --namespace NS --pod NAME --container NAME --root DIR \
      --argv-out FILE [--listen HOST:PORT [--listen-flag FLAG]] [--network TABLE [--port NAME]] \
      [--set=FLAG=VALUE ...] [--drop=FLAG ...] [--reload CONTAINER] [--outside-the-pod] \
      [--kubeconfig-out FILE] --api-server URL [--proxy URL]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tools.monitor import outside_the_pod, pod_network

# Where the kubelet mounts a pod's service-account credentials (client-go's in-cluster config).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

Read = Callable[[str, str], dict[str, Any]]  # (kind, name) in the pod's namespace -> object
Token = Callable[[int, str | None], str]  # (expirationSeconds, audience) -> a token for the pod
Mounts = list[tuple[str, Path]]  # (mountPath, local folder), longest mountPath first


class PodError(Exception):
    """What cannot be played here; one line."""


def find_container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod["spec"]
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        if container["name"] == name:
            return container  # type: ignore[no-any-return]
    names = [c["name"] for c in spec["containers"]]
    raise PodError(f"pod {pod['metadata']['name']} has no container {name!r} (it has {', '.join(names)})")


def field_value(pod: dict[str, Any], path: str) -> str:
    """A downward-API fieldRef: metadata.name, status.podIP, metadata.labels['x'], ..."""
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return str(pod["metadata"].get(match[1], {}).get(match[2], ""))
    value: Any = pod
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return str(value)


_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: a defined VAR is replaced, an undefined one kept as it is,
    `$$` is a literal `$`."""

    def value(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        return env.get(match[1], match[0])

    return _REFERENCE.sub(value, text)


def container_env(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """The container's env as the kubelet gives it: values (which may refer to earlier ones) and
    fieldRefs. Other sources are not played: a pod of the stack that needs one is refused."""
    env: dict[str, str] = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = expand(var["value"], env)
        elif "fieldRef" in (var.get("valueFrom") or {}):
            env[var["name"]] = field_value(pod, var["valueFrom"]["fieldRef"]["fieldPath"])
        else:
            raise PodError(
                f"env {var['name']} of container {container['name']}: only values and fieldRefs are played"
            )
    return env


def _keys(data: dict[str, bytes], items: list[dict[str, Any]] | None) -> dict[str, bytes]:
    if not items:
        return dict(data)
    return {item["path"]: data[item["key"]] for item in items if item["key"] in data}


def _object_data(obj: dict[str, Any]) -> dict[str, bytes]:
    if obj["kind"] == "Secret":
        return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
    data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return data


def _source_files(pod: dict[str, Any], source: dict[str, Any], read: Read, token: Token) -> dict[str, bytes]:
    if "secret" in source:
        ref = source["secret"]
        return _keys(_object_data(read("secret", ref.get("secretName") or ref["name"])), ref.get("items"))
    if "configMap" in source:
        ref = source["configMap"]
        return _keys(_object_data(read("configmap", ref["name"])), ref.get("items"))
    if "serviceAccountToken" in source:
        ref = source["serviceAccountToken"]
        return {ref["path"]: token(int(ref.get("expirationSeconds", 3600)), ref.get("audience")).encode()}
    if "downwardAPI" in source:
        return {
            item["path"]: field_value(pod, item["fieldRef"]["fieldPath"]).encode()
            for item in source["downwardAPI"]["items"]
            if "fieldRef" in item
        }
    raise PodError(f"pod {pod['metadata']['name']}: a volume source of kind {sorted(source)} is not played")


def volume_files(pod: dict[str, Any], volume: dict[str, Any], read: Read, token: Token) -> dict[str, bytes]:
    """The files of one volume (relative path -> content); an emptyDir has none."""
    if "emptyDir" in volume:
        return {}
    if "projected" in volume:
        files: dict[str, bytes] = {}
        for source in volume["projected"]["sources"]:
            files.update(_source_files(pod, source, read, token))
        return files
    return _source_files(pod, volume, read, token)


def write_volumes(pod: dict[str, Any], root: Path, read: Read, token: Token) -> None:
    """Every volume of the pod under root/volumes/<name>, written anew (0600 files: tokens,
    receiver URLs and passwords are among them)."""
    for volume in pod["spec"].get("volumes", []):
        folder = root / "volumes" / volume["name"]
        if folder.exists() and "emptyDir" not in volume:
            for old in sorted(folder.rglob("*"), reverse=True):
                old.unlink() if not old.is_dir() else old.rmdir()
        folder.mkdir(parents=True, exist_ok=True)
        for relative, content in volume_files(pod, volume, read, token).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_bytes(content)


def mounts(container: dict[str, Any], root: Path) -> Mounts:
    found = [
        (m["mountPath"].rstrip("/") or "/", root / "volumes" / m["name"] / m.get("subPath", ""))
        for m in container.get("volumeMounts", [])
    ]
    return sorted(found, key=lambda m: len(m[0]), reverse=True)


def local_path(path: str, where: Mounts) -> str:
    """`path` as the container sees it -> the file on this machine (unchanged outside mounts)."""
    for mount_path, local in where:
        if path == mount_path or path.startswith(mount_path + "/"):
            return str(local) + path[len(mount_path) :]
    return path


def localize(value: Any, where: Mounts) -> Any:
    """Every absolute path in a config (strings, recursively) rewritten by `local_path`."""
    if isinstance(value, dict):
        return {k: localize(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [localize(v, where) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return local_path(value, where)
    return value


def localize_args(args: list[str], where: Mounts) -> list[str]:
    """`--flag=/path` and bare `/path` arguments rewritten by `local_path`."""
    out = []
    for arg in args:
        flag, eq, value = arg.partition("=")
        out.append(f"{flag}={local_path(value, where)}" if eq else local_path(arg, where))
    return out


def set_flag(args: list[str], flag: str, value: str | None) -> list[str]:
    """args with every `flag[=...]` replaced by `flag=value` (removed when value is None)."""
    kept = [a for a in args if a != flag and not a.startswith(flag + "=")]
    return kept if value is None else [*kept, f"{flag}={value}"]


def container_args(pod: dict[str, Any], container: dict[str, Any], where: Mounts) -> list[str]:
    """The container's command line (args; the image's entrypoint is the binary run here), with
    `$(VAR)` expanded and paths localized."""
    env = container_env(pod, container)
    return localize_args([expand(a, env) for a in container.get("args", [])], where)


def flag_value(args: list[str], flag: str) -> str | None:
    return next((a.partition("=")[2] for a in args if a.startswith(flag + "=")), None)


def reload_config(pod: dict[str, Any], reloader: dict[str, Any], root: Path) -> Path:
    """What prometheus-config-reloader does before the main container starts: --config-file
    (gzipped by the operator) unpacked, its `$(VAR)`s expanded from the reloader's env, written
    to --config-envsubst-file. Returns that file (local)."""
    where = mounts(reloader, root)
    args = container_args(pod, reloader, where)
    source, target = flag_value(args, "--config-file"), flag_value(args, "--config-envsubst-file")
    if not source or not target:
        raise PodError(f"container {reloader['name']} has no --config-file and --config-envsubst-file")
    data = Path(source).read_bytes()
    if source.endswith(".gz"):
        data = gzip.decompress(data)
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)
    out.write_text(expand(data.decode(), container_env(pod, reloader)))
    return out


def kubeconfig(api_server: str, where: Mounts) -> dict[str, Any]:
    """A kubeconfig with the pod's own service-account credentials (in a pod: in-cluster config)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "pod",
                "cluster": {
                    "server": api_server,
                    "certificate-authority": local_path(f"{SERVICE_ACCOUNT_DIR}/ca.crt", where),
                },
            }
        ],
        "users": [{"name": "pod", "user": {"tokenFile": local_path(f"{SERVICE_ACCOUNT_DIR}/token", where)}}],
        "contexts": [{"name": "pod", "context": {"cluster": "pod", "user": "pod"}}],
        "current-context": "pod",
    }


def container_port(container: dict[str, Any], name: str | None) -> int:
    ports = container.get("ports", [])
    port = next((p for p in ports if name is None or p.get("name") == name), None)
    if port is None:
        raise PodError(f"container {container['name']} has no port {name or ''}".rstrip())
    return int(port["containerPort"])


# --- the cluster, through kubectl -------------------------------------------------------------
def kubectl(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(["kubectl", *args], capture_output=True, text=True, input=stdin)
    if result.returncode != 0:
        raise PodError(f"kubectl {' '.join(args[:4])}: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout


def cluster_reader(namespace: str) -> Read:
    return lambda kind, name: json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json"))


def pod_token(pod: dict[str, Any]) -> Token:
    """A TokenRequest for the pod's service account, bound to the pod, as the kubelet makes it."""
    meta = pod["metadata"]

    def token(seconds: int, audience: str | None) -> str:
        args = [
            "create",
            "token",
            pod["spec"].get("serviceAccountName", "default"),
            "-n",
            meta["namespace"],
            f"--duration={max(seconds, 600)}s",
            "--bound-object-kind=Pod",
            f"--bound-object-name={meta['name']}",
            f"--bound-object-uid={meta['uid']}",
        ]
        return kubectl(*args, *([f"--audience={audience}"] if audience else [])).strip()

    return token


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.monitor.pods", description=__doc__.split("\n")[0])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--pod", required=True)
    parser.add_argument("--container", required=True)
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--argv-out", required=True, type=Path, help="the command line, NUL-separated")
    parser.add_argument("--listen", help="HOST:PORT the played process listens on")
    parser.add_argument("--listen-flag", help="the flag that sets it (e.g. --web.listen-address)")
    parser.add_argument("--port", help="the container port it stands for (name; default the first)")
    parser.add_argument("--network", type=Path, help="pod-network table: <podIP>:<port> -> --listen")
    parser.add_argument("--set", action="append", default=[], help="FLAG=VALUE (VALUE may be empty)")
    parser.add_argument("--drop", action="append", default=[], help="FLAG, removed from the args")
    parser.add_argument("--reload", help="the config-reloader container to do the job of first")
    parser.add_argument(
        "--outside-the-pod", action="store_true", help="fix up the Prometheus config of --config.file"
    )
    parser.add_argument("--kubeconfig-out", type=Path, help="write a kubeconfig with the pod's credentials")
    parser.add_argument("--api-server", required=True)
    parser.add_argument("--proxy", help="the pod network's proxy URL (for --outside-the-pod)")
    opts = parser.parse_args(argv)
    try:
        pod = cluster_reader(opts.namespace)("pod", opts.pod)
        if not pod.get("status", {}).get("podIP"):
            raise PodError(f"pod {opts.pod} has no IP yet")
        container = find_container(pod, opts.container)
        write_volumes(pod, opts.root, cluster_reader(opts.namespace), pod_token(pod))
        where = mounts(container, opts.root)
        if opts.reload:
            reload_config(pod, find_container(pod, opts.reload), opts.root)
        args = container_args(pod, container, where)
        if opts.outside_the_pod:
            path = Path(flag_value(args, "--config.file") or "")
            if not path.is_file():
                raise PodError(f"container {opts.container} has no --config.file that was written")
            config = yaml.safe_load(path.read_text())
            fixed = outside_the_pod.prepare(
                localize(config, where),
                api_server=opts.api_server,
                token_file=local_path(f"{SERVICE_ACCOUNT_DIR}/token", where),
                ca_file=local_path(f"{SERVICE_ACCOUNT_DIR}/ca.crt", where),
                proxy_url=opts.proxy,
            )
            path.write_text(yaml.safe_dump(fixed, sort_keys=False))
        if opts.kubeconfig_out:
            opts.kubeconfig_out.touch(mode=0o600)
            opts.kubeconfig_out.write_text(yaml.safe_dump(kubeconfig(opts.api_server, where)))
        for setting in opts.set:
            flag, _, value = setting.partition("=")
            args = set_flag(args, flag, value)
        for flag in opts.drop:
            args = set_flag(args, flag, None)
        if opts.listen and opts.listen_flag:
            args = set_flag(args, opts.listen_flag, opts.listen)
        if opts.network and opts.listen:
            address = f"{pod['status']['podIP']}:{container_port(container, opts.port)}"
            pod_network.add_route(opts.network, address, opts.listen, f"{opts.namespace}/{opts.pod}")
        opts.argv_out.write_bytes(b"".join(a.encode() + b"\0" for a in args))
    except (PodError, OSError, KeyError, ValueError) as error:
        print(f"pods: {opts.namespace}/{opts.pod}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
