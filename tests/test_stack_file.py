"""Stack files read strictly: every shape Pulumi's YAML would not take the same way is one line
naming the file and the key, in the loader and as the offline render's exit 2."""

from __future__ import annotations

import os

import pytest

from pks_monitoring.offline.render import main
from pks_monitoring.settings import MANIFESTS_ENV, SettingsError
from pks_monitoring.stack_file import (
    MAX_ALIASES,
    MAX_DEPTH,
    StackFileError,
    engine_stack_file,
    read_config,
    read_document,
)

NESTED = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
# Ten levels of nine aliases each: 9**10 leaves once expanded, from a file of a few hundred bytes.
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)

# (file text, the key the line names, words it says)
BAD_TEXTS = [
    ("- a\n- b\n", "", "is a list; it must be a mapping"),
    ("just text\n", "", "is a string; it must be a mapping"),
    ("config:\n  - a\n", "", "config: is a list; it must be a mapping"),
    ("config: 3\n", "", "config: is an integer"),
    ("config:\n  p:cluster: a\n  p:cluster: b\n", "config", "'p:cluster' appears twice"),
    ("config:\n  p:x:\n    a: 1\n    a: 2\n", "p:x", "'a' appears twice"),
    ("config:\n  1: a\n", "config", "a key that is an integer"),
    ("config:\n  p:x:\n    on: 1\n", "p:x", "a key that is a bool"),
    ("config:\n  p:x:\n    ? [a]\n    : 1\n", "p:x", "a key that is a mapping or a list"),
    ("config:\n  p:cluster: 2024-01-01\n", "p:cluster", "!!timestamp"),
    ("config:\n  p:x:\n    at: 2024-01-01 10:00:00\n", "p:x.at", "!!timestamp"),
    ("config:\n  p:x: !!binary aGVsbG8=\n", "p:x", "!!binary"),
    ("config:\n  p:x: !!set {a, b}\n", "p:x", "!!set"),
    ("config:\n  p:x: !!python/object/apply:os.system [ls]\n", "p:x", "!!python/object/apply"),
    ("config:\n  p:x: !custom a\n", "p:x", "tagged !custom"),
    ("config:\n  p:x: !!int abc\n", "p:x", "not a valid int"),
    ("config:\n  p:a: &a {b: 1}\n  p:c:\n    <<: *a\n", "p:c", "merge key"),
    (f"config:\n  p:x: {NESTED}\n", "p:x" + "[0]" * (MAX_DEPTH - 2), f"deeper than {MAX_DEPTH}"),
    ("config:\n  ? " + "{a: " * 40 + "1" + "}" * 40 + "\n  : 1\n", "config", f"deeper than {MAX_DEPTH}"),
    (BOMB, "a2[7]", "too many aliases"),  # not under config: even a key the program never reads
    ("config:\n  p:x: &a [*a]\n", "p:x[0]", "an alias inside the value it names"),
    ("config:\n  p:x: \x00\n", "", "not valid YAML"),
    ("config:\n  p:x: [\n", "", "not valid YAML (line 3, column 1)"),
    ("a: 1\n---\nb: 2\n", "", "not valid YAML"),
]


def assert_one_line(error: SettingsError, file, key: str, words: str) -> None:
    line = str(error)
    assert "\n" not in line, line
    assert line.startswith(f"{file}: {key + ': ' if key else ''}"), line
    assert words in line, line


@pytest.mark.parametrize("text, key, words", BAD_TEXTS)
def test_bad_shapes_are_one_line_naming_the_file_and_the_key(text, key, words, tmp_path):
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(text)
    with pytest.raises(StackFileError) as raised:
        read_config(stack)
    assert_one_line(raised.value, stack, key, words)


def test_aliases_within_the_budget_are_read(tmp_path):
    stack = tmp_path / "Pulumi.ok.yaml"
    uses = ", ".join(["*t"] * MAX_ALIASES)
    stack.write_text(f"config:\n  p:t: &t {{a: [1, 2.5, true, null, x]}}\n  p:u: [{uses}]\n")
    config = read_config(stack)
    assert config["p:u"] == [{"a": [1, 2.5, True, None, "x"]}] * MAX_ALIASES
    stack.write_text(f"config:\n  p:t: &t x\n  p:u: [{uses}, *t]\n")
    with pytest.raises(StackFileError, match="p:u\\[16\\]: too many aliases"):
        read_config(stack)


def test_non_utf8_bytes_are_named(tmp_path):
    stack = tmp_path / "Pulumi.latin1.yaml"
    data = b"config:\n  p:x: caf\xe9\n"
    stack.write_bytes(data)
    with pytest.raises(StackFileError) as raised:
        read_config(stack)
    assert_one_line(raised.value, stack, "", f"byte {data.index(0xE9)} is not UTF-8")


def test_paths_that_are_not_files_are_refused(tmp_path):
    loop = tmp_path / "Pulumi.loop.yaml"
    os.symlink(tmp_path / "Pulumi.other.yaml", loop)
    os.symlink(loop, tmp_path / "Pulumi.other.yaml")
    for path, words in [
        (tmp_path, "not a regular file"),
        (os.devnull, "not a regular file"),
        (loop, "cannot be read (Too many levels of symbolic links)"),
        (tmp_path / "Pulumi.none.yaml", "cannot be read (No such file or directory)"),
    ]:
        with pytest.raises(StackFileError) as raised:
            read_document(path)
        assert_one_line(raised.value, path, "", words)


def test_empty_files_and_configs_are_empty(tmp_path):
    for text in ("", "config:\n", "secretsprovider: passphrase\n"):
        (tmp_path / "Pulumi.empty.yaml").write_text(text)
        assert read_config(tmp_path / "Pulumi.empty.yaml") == {}


def test_the_program_finds_the_stack_file_where_the_cli_does(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\n")
    assert engine_stack_file(tmp_path, "dev") is None
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert engine_stack_file(tmp_path, "dev") == tmp_path / "Pulumi.dev.yaml"
    (tmp_path / "Pulumi.yaml").write_text("name: p\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n")
    assert engine_stack_file(tmp_path, "dev") == tmp_path / "stacks" / "Pulumi.dev.yaml"


@pytest.mark.parametrize("text, key, words", [BAD_TEXTS[4], BAD_TEXTS[9], BAD_TEXTS[19]])
def test_the_render_exits_2_with_the_line(text, key, words, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(text)
    assert main(["--config", str(stack), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {stack}: "), err
    assert words in err, err
    assert not (tmp_path / "out").exists()


def test_a_newline_in_a_file_name_or_key_stays_on_the_line(tmp_path):
    stack = tmp_path / "Pulumi.a\nb.yaml"
    stack.write_text('config:\n  "p:x\\ny": 2024-01-01\n')
    with pytest.raises(StackFileError) as raised:
        read_config(stack)
    assert str(raised.value) == f"{str(stack)!r}: 'p:x\\ny': " + (
        "a value tagged !!timestamp is not taken; a YAML date or time; quote it to make it a string"
    )
