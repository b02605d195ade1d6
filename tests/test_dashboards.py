"""Grafana dashboards as code (`pks_monitoring.dashboards`, mounted by `pks_monitoring.parts.grafana`).

- Loading: every dashboards/*.json, each bad file one SettingsError line naming it and the fix.
- The ConfigMaps and the transformation of the upstream `grafana` Deployment (mounted as upstream
  mounts its own dashboards, checksum annotation), schema-validated, with property tests.
- Every dashboard query, after template-variable substitution, parses (`promtool check rules`), and
  a real Prometheus scraping a stand-in for a Spring Boot app on 127.0.0.1 (serving
  tests/fixtures/micrometer_metrics.txt, Micrometer's Prometheus output) answers each with data.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pks_monitoring.dashboards as dashboards_module
import pks_monitoring.project_files as project_files
from pks_monitoring.dashboards import DASHBOARDS_DIR, Dashboard, load_dashboards, shipped_dashboards
from pks_monitoring.parts.grafana import (
    CHECKSUM_ANNOTATION,
    PROVIDER_PATH,
    dashboard_config_map,
    dashboards_checksum,
    mount_dashboards,
)
from pks_monitoring.settings import SettingsError
from tests.helpers.dashboards import (
    ALL_CLUSTERS,
    BUILT_INS,
    FILTERS,
    SOMEWHERE,
    check_rules,
    every_query,
    filter_problems,
    has_data,
    panel_queries,
    panels,
    substitute,
    variable_queries,
)
from tests.helpers.manifests import kinds, manifest, names, values
from tests.helpers.micrometer import APP, FIXTURE, scaled
from tests.helpers.prometheus_tools import missing
from tests.helpers.schemas import validate_core
from tests.helpers.settings import one_line_error


@pytest.fixture(scope="module")
def shipped(kube_prometheus) -> list[Dashboard]:
    return shipped_dashboards(kube_prometheus.objects)


@pytest.fixture(scope="module")
def ours(shipped) -> list[Dashboard]:
    return load_dashboards(DASHBOARDS_DIR, shipped=shipped)


@pytest.fixture
def grafana(kube_prometheus) -> dict[str, Any]:
    return copy.deepcopy(kube_prometheus.find("Deployment", "grafana"))


def write(directory: Path, files: dict[str, Any]) -> Path:
    """Dashboard files in `directory`: a dict value is dumped as JSON, a str written as is."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return directory


def model(uid: str = "u1", title: str = "T1", **more: Any) -> dict[str, Any]:
    return {"uid": uid, "title": title, "schemaVersion": 39, "panels": [], **more}


# ---------------------------------------------------------------- loading and validation


def test_project_dashboards_load(ours, shipped, kube_prometheus):
    assert [x.file_name for x in ours] == sorted(p.name for p in DASHBOARDS_DIR.glob("*.json"))
    spring = next(x for x in ours if x.name == "spring-boot-micrometer")
    assert spring.uid == "pks-spring-boot"
    assert spring.text == (DASHBOARDS_DIR / "spring-boot-micrometer.json").read_text()
    # As many as upstream's Grafana mounts dashboard ConfigMaps (33 in v0.18.0, 32 in v0.16.0).
    mounted = [
        v
        for v in kube_prometheus.find("Deployment", "grafana")["spec"]["template"]["spec"]["volumes"]
        if (v.get("configMap") or {}).get("name", "").startswith("grafana-dashboard-")
    ]
    assert len(shipped) == len(mounted) >= 30
    assert {x.name for x in shipped}.isdisjoint(x.name for x in ours)


def test_loads_every_json_file_sorted_and_keeps_the_text(tmp_path):
    text = '{\n  "title": "B",\n  "uid": "b"\n}\n'
    write(tmp_path, {"b.json": text, "a.json": model("a", "A"), "README.md": "not a dashboard"})
    loaded = load_dashboards(tmp_path)
    assert [(x.name, x.uid, x.title) for x in loaded] == [("a", "a", "A"), ("b", "b", "B")]
    assert loaded[1].text == text
    assert load_dashboards(tmp_path / "empty") == []


@pytest.mark.parametrize(
    "files, bad, words",
    [
        (
            {"bad.json": '{"uid": "x", "title": '},
            "bad.json",
            "not JSON (Expecting value at line 1 column 23)",
        ),
        ({"bad.json": "[1, 2]"}, "bad.json", "a JSON list, not a dashboard object"),
        ({"bad.json": model(uid=None)}, "bad.json", "no `uid`; give the dashboard a unique uid"),
        ({"bad.json": model(uid="")}, "bad.json", "no `uid`; give the dashboard a unique uid"),
        ({"bad.json": model(uid="has space")}, "bad.json", "is not one Grafana accepts"),
        ({"bad.json": model(uid="x" * 41)}, "bad.json", "at most 40"),
        ({"bad.json": model(title=" ")}, "bad.json", "no `title`; give the dashboard a title"),
        (
            {"a.json": model("same", "A"), "b.json": model("same", "B")},
            "b.json",
            "uid 'same' is also the uid of",
        ),
        (
            {"a.json": model("a", "Same"), "b.json": model("b", "Same")},
            "b.json",
            "title 'Same' is also the title of",
        ),
        ({"My Board.json": model()}, "My Board.json", "rename the file"),
        ({f"{'x' * 46}.json": model()}, f"{'x' * 46}.json", "at most 45"),
    ],
)
def test_bad_dashboard_is_one_line_naming_the_file(tmp_path, files, bad, words):
    write(tmp_path, files)
    message = one_line_error(lambda: load_dashboards(tmp_path), str(tmp_path / bad), words)
    if "also the" in message:
        assert message.endswith(
            f"of {tmp_path / 'a.json'}; give each dashboard its own {'uid' if 'uid' in words else 'title'}"
        ), message


@pytest.mark.parametrize(
    "content, file_name, words",
    [
        (
            model("alertmanager-overview", "Mine"),
            "mine.json",
            "uid 'alertmanager-overview' is also the uid of kube-prometheus' alertmanager-overview.json",
        ),
        (
            model("mine", "Node Exporter / Nodes"),
            "mine.json",
            "is also the title of kube-prometheus' nodes.json",
        ),
        (
            model("mine", "Mine"),
            "nodes.json",
            "name 'nodes' is also the name of kube-prometheus' nodes.json; rename the file",
        ),
    ],
)
def test_clash_with_an_upstream_dashboard_is_refused(tmp_path, shipped, content, file_name, words):
    write(tmp_path, {file_name: content})
    with pytest.raises(SettingsError, match=re.escape(words)):
        load_dashboards(tmp_path, shipped=shipped)
    assert load_dashboards(tmp_path)  # on its own the file is fine


def test_files_in_the_project_are_named_relative_to_it(tmp_path, monkeypatch):
    monkeypatch.setattr(project_files, "PROJECT_ROOT", tmp_path.resolve())
    write(tmp_path / "dashboards", {"foo.json": {"title": "Foo"}})
    with pytest.raises(SettingsError) as caught:
        load_dashboards(tmp_path / "dashboards")
    assert str(caught.value) == "dashboards/foo.json: no `uid`; give the dashboard a unique uid"


# ---------------------------------------------------------------- reading safely

# What the API server allows in a ConfigMap's data (k8s pkg/apis/core/validation ValidateConfigMap:
# the bytes of the values of `data` and `binaryData` added up, at most core.MaxSecretSize).
API_SERVER_DATA_LIMIT = 1048576


def api_server_data_size(config_map: dict[str, Any]) -> int:
    """The total ValidateConfigMap compares with the limit: every value's bytes, keys not counted."""
    data, binary = config_map.get("data") or {}, config_map.get("binaryData") or {}
    return sum(len(v.encode()) for v in data.values()) + sum(
        len(base64.b64decode(v)) for v in binary.values()
    )


def padded(size: int, filler: str = " ") -> bytes:
    """A valid dashboard of exactly `size` bytes (UTF-8), padded with `filler` in its description."""
    head = json.dumps(model("big", "Big", description=""))[:-2]  # ends in `"description": "`
    filler_bytes = len(filler.encode())
    room = size - len(head.encode()) - 2
    assert room >= 0 and room % filler_bytes == 0
    text = head + filler * (room // filler_bytes) + '"}'
    assert len(text.encode()) == size
    return text.encode()


def load_in_a_child(directory: Path, limit: str = "") -> subprocess.CompletedProcess:
    """load_dashboards(directory) in a child Python (after the `limit` statement), killed after a
    minute; its stdout is the SettingsError line, a crash is a traceback on stderr."""
    script = (
        f"import resource, sys; from pathlib import Path\n{limit}\n"
        "from pks_monitoring.dashboards import load_dashboards\n"
        "from pks_monitoring.settings import SettingsError\n"
        "try:\n    load_dashboards(Path(sys.argv[1]))\n"
        "except SettingsError as error:\n    print(error)\n"
    )
    package_root = Path(dashboards_module.__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-c", script, str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=package_root,
        check=False,
    )


@pytest.mark.parametrize("filler", [" ", "é"])
def test_the_size_limit_is_the_api_servers(tmp_path, filler):
    (tmp_path / "big.json").write_bytes(padded(API_SERVER_DATA_LIMIT, filler))
    (dashboard,) = load_dashboards(tmp_path)
    assert api_server_data_size(dashboard_config_map(dashboard, "monitoring")) == API_SERVER_DATA_LIMIT
    # One byte more (for "é": fewer characters than the limit, more bytes) is refused.
    over = API_SERVER_DATA_LIMIT + len(filler.encode())
    (tmp_path / "big.json").write_bytes(padded(over, filler))
    one_line_error(lambda: load_dashboards(tmp_path), str(tmp_path / "big.json"), f"{over} bytes, more than")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    # A sparse file of 64 GiB: read whole, it would fail (MemoryError) under the 2 GiB address
    # space the child gets; refused from its size, it is one line.
    with open(tmp_path / "huge.json", "wb") as file:
        file.truncate(64 << 30)
    done = load_in_a_child(tmp_path, "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))")
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]
    assert (
        done.stdout
        == f"{tmp_path / 'huge.json'}: {64 << 30} bytes, more than a ConfigMap's data may hold (1048576 bytes, 1 MiB); split the dashboard\n"
    )


def test_a_symlink_is_refused_wherever_it_points(tmp_path):
    outside = tmp_path / "outside"
    write(outside, {"secret-looking.json": model("stolen", "Stolen")})
    folder = write(tmp_path / "dashboards", {"a.json": model("a", "A")})
    for link, target in (
        ("inside.json", folder / "a.json"),
        ("outside.json", outside / "secret-looking.json"),
        ("zero.json", Path("/dev/zero")),
        ("dangling.json", tmp_path / "missing.json"),
    ):
        (folder / link).symlink_to(target)
        message = one_line_error(
            lambda: load_dashboards(folder),
            str(folder / link),
            "a symlink; keep only regular dashboard JSON files",
        )
        assert str(target) not in message  # where it points is never shown
        (folder / link).unlink()
    assert [d.name for d in load_dashboards(folder)] == ["a"]


def test_a_symlink_in_the_project_is_named_as_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(project_files, "PROJECT_ROOT", tmp_path.resolve())
    write(tmp_path / "private", {"notes.json": model("notes", "Notes")})
    (write(tmp_path / "dashboards", {}) / "board.json").symlink_to(tmp_path / "private" / "notes.json")
    with pytest.raises(SettingsError) as caught:
        load_dashboards(tmp_path / "dashboards")
    assert str(caught.value).startswith("dashboards/board.json: a symlink; ")


def test_a_dashboards_folder_that_is_a_symlink_or_a_file_is_refused(tmp_path):
    real = write(tmp_path / "real", {"a.json": model("a", "A")})
    (tmp_path / "linked").symlink_to(real)
    one_line_error(lambda: load_dashboards(tmp_path / "linked"), str(tmp_path / "linked"), "not a folder")
    (tmp_path / "file").write_text("{}")
    one_line_error(lambda: load_dashboards(tmp_path / "file"), str(tmp_path / "file"), "not a folder")


def test_only_regular_files_are_read(tmp_path):
    (tmp_path / "folder.json").mkdir()
    one_line_error(lambda: load_dashboards(tmp_path), str(tmp_path / "folder.json"), "not a regular file")
    (tmp_path / "folder.json").rmdir()
    # A fifo: opened blocking, the read would wait for a writer forever; the child is killed after
    # the timeout, which fails the test.
    os.mkfifo(tmp_path / "fifo.json")
    done = load_in_a_child(tmp_path)
    assert done.stdout.startswith(f"{tmp_path / 'fifo.json'}: not a regular file"), done.stderr[-2000:]
    (tmp_path / "fifo.json").unlink()
    try:
        os.mknod(tmp_path / "zero.json", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        missing("no permission to create a device node here")
    one_line_error(lambda: load_dashboards(tmp_path), str(tmp_path / "zero.json"), "not a regular file")


@pytest.mark.parametrize(
    "file_name, content, words",
    [
        ("board\n.json", model("board", "Board"), "rename the file"),
        ("board.json", model("board\n", "Board"), "is not one Grafana accepts"),
    ],
)
def test_names_and_uids_with_a_trailing_newline_are_refused(tmp_path, file_name, content, words):
    write(tmp_path, {file_name: content})
    shown = str(tmp_path / file_name)
    one_line_error(lambda: load_dashboards(tmp_path), shown if shown.isprintable() else repr(shown), words)


# ---------------------------------------------------------------- ConfigMaps


def test_config_map_is_named_and_keyed_like_upstream(ours, kube_prometheus):
    spring = next(x for x in ours if x.name == "spring-boot-micrometer")
    config_map = dashboard_config_map(spring, "observability")
    assert config_map["metadata"]["name"] == "grafana-dashboard-spring-boot-micrometer"
    assert config_map["metadata"]["namespace"] == "observability"
    assert config_map["metadata"]["labels"]["app.kubernetes.io/part-of"] == "pks-monitoring"
    assert config_map["data"] == {"spring-boot-micrometer.json": spring.text}
    upstream = kube_prometheus.find("ConfigMap", "grafana-dashboard-nodes")
    assert list(upstream["data"]) == ["nodes.json"]  # the same <name> / <name>.json layout
    for dashboard in ours:
        assert validate_core(dashboard_config_map(dashboard, "monitoring")) == []
    broken = dashboard_config_map(spring, "monitoring")
    broken["data"]["spring-boot-micrometer.json"] = {"not": "a string"}
    assert validate_core(broken)


# ---------------------------------------------------------------- the Grafana Deployment


def test_upstream_layout_is_what_we_mirror(kube_prometheus):
    providers = json.loads(kube_prometheus.find("ConfigMap", "grafana-dashboards")["data"]["dashboards.yaml"])
    assert [p["options"]["path"] for p in providers["providers"]] == [PROVIDER_PATH]
    pod = kube_prometheus.find("Deployment", "grafana")["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "grafana"]
    for dashboard in shipped_dashboards(kube_prometheus.objects):
        volume = dashboard.config_map_name
        assert {"configMap": {"name": volume}, "name": volume} in pod["volumes"]
        assert {
            "mountPath": f"{PROVIDER_PATH}/{dashboard.name}",
            "name": volume,
            "readOnly": False,
        } in container["volumeMounts"]


def test_mount_dashboards_on_the_upstream_deployment(grafana, ours, tmp_path):
    extra = load_dashboards(write(tmp_path, {"team-a.json": model("team-a", "Team A")}))
    dashboards = [*ours, *extra]
    expected = copy.deepcopy(grafana)
    pod = expected["spec"]["template"]
    for dashboard in dashboards:
        name = f"grafana-dashboard-{dashboard.name}"
        pod["spec"]["volumes"].append({"configMap": {"name": name}, "name": name})
        pod["spec"]["containers"][0]["volumeMounts"].append(
            {
                "mountPath": f"/grafana-dashboard-definitions/0/{dashboard.name}",
                "name": name,
                "readOnly": False,
            }
        )
    pod["metadata"]["annotations"]["checksum/dashboards"] = dashboards_checksum(dashboards)

    mount_dashboards(grafana, dashboards=dashboards)
    assert grafana == expected
    volumes = grafana["spec"]["template"]["spec"]["volumes"]
    mounts = grafana["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert len({v["name"] for v in volumes}) == len(volumes)
    assert len({m["mountPath"] for m in mounts}) == len(mounts)
    assert validate_core(grafana) == []
    mounts[-1]["mountpath"] = mounts[-1].pop("mountPath")
    assert validate_core(grafana)


def test_a_changed_dashboard_changes_the_checksum(grafana, tmp_path):
    def checksum(files: dict[str, Any]) -> str:
        deployment = copy.deepcopy(grafana)
        mount_dashboards(deployment, dashboards=load_dashboards(write(tmp_path, files)))
        return deployment["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION]

    first = checksum({"a.json": model("a", "A"), "b.json": model("b", "B")})
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert checksum({}) == first  # same files: same checksum
    changed = checksum({"b.json": model("b", "B", description="one more line")})
    assert changed != first
    (tmp_path / "b.json").unlink()
    assert checksum({}) not in (first, changed)  # a removed dashboard rolls Grafana too


def test_no_dashboards_leave_the_deployment_alone(grafana):
    before = copy.deepcopy(grafana)
    mount_dashboards(grafana, dashboards=[])
    assert grafana == before


some_dashboards = st.lists(
    st.builds(
        Dashboard,
        name=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True),
        uid=st.just("u"),
        title=st.just("t"),
        text=st.text(max_size=40),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda x: x.name,
)
not_grafana_deployments = st.builds(
    lambda kind, name, ns, body: {**manifest(kind, name, ns), "spec": body},
    kinds,
    st.one_of(st.just("grafana"), names),
    names,
    st.dictionaries(names, values, max_size=4),
).filter(lambda o: (o["kind"], o["metadata"]["name"]) != ("Deployment", "grafana"))


@pytest.mark.slow
@settings(max_examples=300)
@given(not_grafana_deployments, some_dashboards)
def test_mount_dashboards_touches_nothing_but_the_grafana_deployment(obj, dashboards):
    before = copy.deepcopy(obj)
    mount_dashboards(obj, dashboards=dashboards)
    assert obj == before


@settings(max_examples=100)
@given(some_dashboards)
def test_mount_dashboards_only_adds_to_the_grafana_deployment(kube_prometheus, dashboards):
    upstream = kube_prometheus.find("Deployment", "grafana")
    obj = copy.deepcopy(upstream)
    mount_dashboards(obj, dashboards=dashboards)
    pod = obj["spec"]["template"]
    volumes, mounts = pod["spec"]["volumes"], pod["spec"]["containers"][0]["volumeMounts"]
    added = len(dashboards)
    assert [v["configMap"]["name"] for v in volumes[-added:]] == [x.config_map_name for x in dashboards]
    assert [m["mountPath"] for m in mounts[-added:]] == [f"{PROVIDER_PATH}/{x.name}" for x in dashboards]
    assert pod["metadata"]["annotations"].pop(CHECKSUM_ANNOTATION) == dashboards_checksum(dashboards[::-1])
    del volumes[-added:], mounts[-added:]
    assert obj == upstream


# ---------------------------------------------------------------- the queries


@pytest.mark.slow
def test_every_dashboard_query_parses(tmp_path, ours):
    queries = every_query(ours)
    assert len(queries) >= 40
    result = check_rules(tmp_path / "queries.yaml", {k: substitute(v, SOMEWHERE) for k, v in queries.items()})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"SUCCESS: {len(queries)} rules found" in output


@pytest.mark.slow
def test_promtool_rejects_a_broken_query(tmp_path, ours):
    queries = {k: substitute(v, SOMEWHERE) for k, v in every_query(ours).items()}
    name = next(iter(queries))
    queries[name] = queries[name].replace("}", "", 1)  # an unclosed selector
    result = check_rules(tmp_path / "broken.yaml", queries)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "parse error" in output


def test_substitution_knows_every_variable_it_replaces():
    assert (
        substitute('rate(x{job="$job"}[$__rate_interval]) ${datasource} [[job]]', SOMEWHERE)
        == 'rate(x{job="hello-pks"}[30s]) prometheus hello-pks'
    )
    with pytest.raises(AssertionError, match=r"unknown template variable \$region"):
        substitute('up{region="$region"}', SOMEWHERE)


def test_every_panel_query_filters_by_cluster_namespace_job_and_instance(ours):
    problems = {
        name: p
        for dashboard in ours
        for name, expr in panel_queries(dashboard).items()
        if (p := filter_problems(expr))
    }
    assert not problems, problems
    f = ", ".join(FILTERS)
    assert filter_problems(f"sum(rate(a{{{f}}}[5m])) / sum(rate(b{{{f}}}[5m]))") == []
    assert filter_problems(f"a{{{f}}} / b") == ["b has no selector"]
    assert filter_problems('rate(a{job="$job"}[5m])') == [
        'a{job="$job"} lacks cluster=~"$cluster"',
        'a{job="$job"} lacks namespace="$namespace"',
        'a{job="$job"} lacks instance=~"$instance"',
    ]


def test_spring_boot_dashboard_model(ours):
    spring = json.loads(next(x for x in ours if x.name == "spring-boot-micrometer").text)
    assert spring["uid"] == "pks-spring-boot" and spring["schemaVersion"] >= 39
    variables = {v["name"]: v for v in spring["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    assert {n: v["type"] for n, v in variables.items() if n != "datasource"} == {
        "cluster": "query",
        "namespace": "query",
        "job": "query",
        "instance": "query",
    }
    # One cluster (its own Prometheus, no cluster label) or a central store's many: All matches
    # series with and without the label.
    assert (variables["cluster"]["includeAll"], variables["cluster"]["allValue"]) == (True, ".*")
    shown = [p for p in panels(spring) if p["type"] != "row"]
    assert {p["type"] for p in shown} == {"timeseries", "stat"}
    assert len({p["id"] for p in panels(spring)}) == len(list(panels(spring)))
    for panel in shown:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"]), panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"]), panel["title"]
    exprs = " ".join(t["expr"] for p in shown for t in p["targets"])
    for metric in (
        "jvm_memory_used_bytes",
        "jvm_memory_committed_bytes",
        "jvm_memory_max_bytes",
        "jvm_gc_pause_seconds_count",
        "jvm_gc_pause_seconds_sum",
        "jvm_gc_pause_seconds_max",
        "jvm_threads_live_threads",
        "jvm_threads_daemon_threads",
        "jvm_threads_peak_threads",
        "jvm_threads_states_threads",
        "jvm_classes_loaded_classes",
        "process_cpu_usage",
        "system_cpu_usage",
        "system_load_average_1m",
        "http_server_requests_seconds_count",
        "http_server_requests_seconds_sum",
        "http_server_requests_seconds_bucket",
        "http_server_requests_seconds_max",
        "process_uptime_seconds",
        "process_files_open_files",
        "process_files_max_files",
    ):
        assert metric in exprs, metric


# ---------------------------------------------------------------- end to end on loopback


def test_scaled_grows_counters_only():
    text = FIXTURE.read_text()
    twice = dict(
        line.rsplit(" ", 1) for line in scaled(text, 2).splitlines() if line and not line.startswith("#")
    )
    once = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert once.keys() == twice.keys()
    changed = {
        series for series in once if float(once[series]) * 2 == float(twice[series]) != float(once[series])
    }
    assert "jvm_classes_unloaded_classes_total" in changed
    assert any(s.startswith("http_server_requests_seconds_bucket{") and 'le="+Inf"' in s for s in changed)
    assert any(s.startswith("jvm_gc_pause_seconds_sum{") for s in changed)
    assert not any(
        s.startswith(("jvm_memory_used_bytes", "jvm_gc_pause_seconds_max", "process_uptime")) for s in changed
    )


@pytest.mark.slow
def test_prometheus_scrapes_the_fixture_cleanly(app_prometheus, spring_boot_app):
    (target,) = app_prometheus.targets()
    assert target["health"] == "up" and target["lastError"] == "", target
    assert target["labels"] == {**APP, "instance": spring_boot_app}


@pytest.mark.slow
def test_every_dashboard_query_returns_data(app_prometheus, spring_boot_app, ours):
    variables = {**BUILT_INS, **APP, **ALL_CLUSTERS, "instance": spring_boot_app}
    queries = {
        name: substitute(expr, variables)
        for dashboard in ours
        for name, expr in panel_queries(dashboard).items()
    }
    assert len(queries) >= 40
    empty = {name: expr for name, expr in queries.items() if not has_data(app_prometheus, expr)}
    assert not empty, empty


@pytest.mark.slow
def test_template_variables_find_the_app(app_prometheus, spring_boot_app, ours):
    variables = {**BUILT_INS, **APP, **ALL_CLUSTERS, "instance": spring_boot_app}
    # A cluster's own Prometheus: no series has the cluster label, Grafana offers only All.
    expected = {**APP, "instance": spring_boot_app, "cluster": None}
    for dashboard in ours:
        for name, (variable, expr) in variable_queries(dashboard).items():
            found = {
                sample["metric"].get(variable)
                for sample in app_prometheus.vector(substitute(expr, variables))
            }
            assert found == {expected[variable]}, (name, expr, found)


@pytest.mark.slow
@pytest.mark.parametrize("variable", ["cluster", "namespace", "job", "instance"])
def test_no_query_answers_for_another_app(app_prometheus, spring_boot_app, ours, variable):
    variables = {**BUILT_INS, **APP, **ALL_CLUSTERS, "instance": spring_boot_app, variable: "other"}
    leaking = {
        name: expr
        for dashboard in ours
        for name, expr in panel_queries(dashboard).items()
        if app_prometheus.vector(substitute(expr, variables))
    }
    assert not leaking, leaking


@pytest.mark.slow
def test_names_micrometer_does_not_use_find_nothing(app_prometheus):
    """The check can fail: names of other JVM exporters (the Prometheus Java client's hotspot
    collectors, Micrometer before 1.0) are not in Micrometer's output."""
    for expr in (
        'jvm_memory_bytes_used{job="hello-pks"}',
        'jvm_gc_collection_seconds_count{job="hello-pks"}',
        'http_server_requests_count{job="hello-pks"}',
        'jvm_memory_used{job="hello-pks"}',
    ):
        assert app_prometheus.vector(expr) == [], expr
