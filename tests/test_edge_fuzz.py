"""A property-based fuzz of the program's edge, where operators' files come in: stack files
(pks_monitoring.stack_file), the settings (Settings.from_raw, the offline render's main) and the
dashboards folder (pks_monitoring.dashboards). Whatever the input, the outcome is accepted
settings (a render) or one SettingsError line (exit 2 with one `error:` line); never another
exception, never a traceback.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pks_monitoring.dashboards import load_dashboards
from pks_monitoring.offline.render import main
from pks_monitoring.settings import MANIFESTS_ENV, Settings, SettingsError
from pks_monitoring.stack_file import read_config
from tests.helpers.settings import BASE


def fuzz(examples: int) -> settings:
    # Bounded in examples, not time: the machine is shared, and a slow example is no failure.
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def assert_one_line(error: BaseException, starts: str = "") -> None:
    """The property: whatever went wrong is one SettingsError line (no other exception)."""
    assert isinstance(error, SettingsError), repr(error)
    line = str(error)
    assert line and "\n" not in line and line.startswith(starts), line


# --- values: what YAML and JSON can carry, the lax and the huge included ------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["true", "1.30", "2024-01-01", "[secret]", "0x1F", "~", "-", "a" * 5000]),
)
keys = st.one_of(st.text(max_size=12), st.sampled_from(["replicas", "enabled", "type", "name", "secure"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)

# --- stack file texts: valid documents, then the nasty classes, then mutations of either ---------

NASTY = [
    "- a\n",
    "plain\n",
    "config: [a, b]\n",
    "config:\n  k: 1\n  k: 2\n",
    "config:\n  1: a\n",
    "config:\n  ? [a]\n  : b\n",
    "config:\n  on: yes\n",
    "config:\n  k: 2024-01-01\n",
    "config:\n  k: !!binary aGk=\n",
    "config:\n  k: !!set {a, b}\n",
    "config:\n  k: !!python/object/apply:os.getcwd []\n",
    "config:\n  k: !!python/name:os.system\n",
    "config:\n  k: !!omap [a: 1]\n",
    "config:\n  k: !!float abc\n",
    "config:\n  k: !custom x\n",
    "config:\n  a: &x {b: 1}\n  c:\n    <<: *x\n",
    "config:\n  k: &a [*a]\n",
    "config:\n  k: *nowhere\n",
    "config:\n  k: " + "[" * 200 + "]" * 200 + "\n",
    "config:\n  k: " + "{a: " * 100 + "1" + "}" * 100 + "\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8)),
    "config:\n\tk: 1\n",
    "config:\n  k: \x00\x07\n",
    "config:\n  k: '\n",
    "%YAML 1.1\n---\nconfig: {}\n",
    "a: 1\n---\nb: 2\n",
    "\ufeffconfig:\n  k: v\n",
]
documents = st.builds(
    lambda config, extra: yaml.safe_dump({"config": config, **extra}, allow_unicode=True),
    st.dictionaries(keys, values, max_size=4),
    st.dictionaries(keys, values, max_size=2),
)
texts = st.one_of(
    documents, st.sampled_from(NASTY), st.text(alphabet=string.printable + "&*!|>{}[]", max_size=80)
)


@st.composite
def stack_file_bytes(draw: st.DrawFn) -> bytes:
    data = draw(texts).encode()
    if draw(st.booleans()):  # a mutation: some bytes replaced, non-UTF-8 ones included
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at + 1 :]
    return data


@fuzz(400)
@given(stack_file_bytes())
def test_a_stack_file_is_a_config_or_one_line(data):
    with tempfile.TemporaryDirectory() as folder:
        stack = Path(folder) / "Pulumi.fuzz.yaml"
        stack.write_bytes(data)
        try:
            config = read_config(stack)
        except Exception as error:
            assert_one_line(error, f"{stack}: ")
        else:
            assert isinstance(config, dict) and all(isinstance(k, str) for k in config)
            json.dumps(config)  # plain data: what the engine's JSON can carry


# --- settings: any value under any key of the stack's config -----------------------------------

TOP_KEYS = sorted(
    {f"pks-monitoring:{f.alias or n}" for n, f in Settings.model_fields.items() if n != "kubernetes"}
    | {"kubernetes:context", "kubernetes:kubeconfig", "pks-monitoring:workloads", "pks-monitoring:nope"}
)


def field_names(model: Any) -> list[str]:
    """Every field alias of the settings models, so generated mappings reach deep settings."""
    seen: set[str] = set()
    stack = [model]
    while stack:
        current = stack.pop()
        for name, field in getattr(current, "model_fields", {}).items():
            seen.add(field.alias or name)
            for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
                for inner in (arg, *getattr(arg, "__args__", ())):
                    if hasattr(inner, "model_fields") and inner not in stack:
                        stack.append(inner)
    return sorted(seen)


setting_keys = st.one_of(st.sampled_from(field_names(Settings)), keys)
setting_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(setting_keys, inner, max_size=4)),
    max_leaves=10,
)


@fuzz(400)
@given(st.dictionaries(st.one_of(st.sampled_from(TOP_KEYS), keys), setting_values, min_size=1, max_size=3))
def test_settings_are_accepted_or_one_line(monkeypatch, changes):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)
    try:
        Settings.from_raw({**BASE, **changes})
    except Exception as error:
        assert_one_line(error)


@pytest.mark.slow
@fuzz(8)
@given(st.dictionaries(st.sampled_from(TOP_KEYS), setting_values, min_size=1, max_size=2))
def test_the_render_ends_in_files_or_exit_2_with_one_line(
    write_stack, tmp_path, capsys, monkeypatch, changes
):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)
    stack = write_stack({key: value for key, value in changes.items() if value is not None})
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "out"  # one per example: tmp_path is shared
    code = main(["--config", str(stack), "--out", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert not out.exists()
    else:
        assert (
            err.count("\n") == 1 and err.startswith(f"rendered {out}: ") and (out / "outputs.json").is_file()
        )


# --- dashboards: a folder of generated files ---------------------------------------------------

dashboard_names = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,50}", fullmatch=True),
    st.text(alphabet=string.ascii_letters + string.digits + "-_. \n", min_size=1, max_size=50),
).filter(lambda n: "/" not in n and n not in (".", ".."))
dashboard_models = st.fixed_dictionaries(
    {},
    optional={
        "uid": st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True), scalars, values),
        "title": st.one_of(st.text(max_size=20), scalars, values),
        "panels": values,
    },
)
dashboard_bytes = st.one_of(
    dashboard_models.map(lambda m: json.dumps(m).encode()),
    values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
)


@fuzz(300)
@given(st.dictionaries(dashboard_names, dashboard_bytes, max_size=4))
def test_a_dashboards_folder_is_dashboards_or_one_line(files):
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            (Path(folder) / f"{name}.json").write_bytes(data)
        try:
            dashboards = load_dashboards(Path(folder))
        except Exception as error:
            assert_one_line(error)
        else:
            assert len(dashboards) == len(files)


def test_a_deeply_nested_dashboard_is_one_line(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SettingsError):
        load_dashboards(tmp_path)
