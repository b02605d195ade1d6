"""What Prometheus and Alertmanager parse, parsed as they parse it: Go regular expressions (RE2,
anchored), label names, Alertmanager matchers and `group_by`, and file_sd paths. Each function
returns what the tool would read, or raises a ValueError with the tool's reason in our words.

Regular expressions compile with google-re2, the library Go's regexp syntax was taken from, not
with Python's `re` (lookarounds, backreferences, possessive quantifiers: all refused by Go)."""

from __future__ import annotations

import re2

# Label names as Prometheus' model.LabelName.IsValid and Alertmanager's group_by take them
# (the classic names; UTF-8 ones need quoting that these keys do not offer).
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
# One matcher as Alertmanager's classic parser (pkg/labels ParseMatcher) reads it: label, operator
# (`=~` before `=`), the value up to trailing whitespace. Run with RE2, so `\s` and `$` are Go's.
_MATCHER = r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$"
# What prometheus discovery/file takes as a file_sd path (patFileSDName): a JSON or YAML file,
# a `*` only in the last path element.
FILE_SD_PATH = r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$"


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 logs each refused pattern to stderr: ours is one line
    return options


_OPTIONS = _options()


def _re2_problem(pattern: str) -> str | None:
    """Why RE2 refuses `pattern`, None if it compiles."""
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    return None


def _go_only_refuses(pattern: str) -> str | None:
    """What RE2 takes and Go's regexp refuses: `\\C` (any byte), and `(?<name>` before Go 1.22
    (in Alertmanager's and Prometheus' older builds)."""
    escaped = False
    for index, char in enumerate(pattern):
        if escaped:
            if char == "C":
                return "invalid escape sequence: \\C"
            escaped = False
        elif char == "\\":
            escaped = True
        elif pattern.startswith("(?<", index) and not pattern.startswith(("(?<=", "(?<!"), index):
            return "named group (?<name>...): write (?P<name>...)"
    return None


def go_regex_problem(pattern: str) -> str | None:
    """Why Prometheus or Alertmanager would refuse `pattern` as a regex, None if both take it.
    Both anchor it (`^(?:pattern)$`, which takes `a)(b` too), so that is what is compiled; the
    reason given is the pattern's own where it has one."""
    if _re2_problem(f"^(?:{pattern})$") is None:
        return _go_only_refuses(pattern)
    return _re2_problem(pattern) or _re2_problem(f"^(?:{pattern})$")


def _matcher_value(raw: str) -> str:
    """The value of one matcher after Alertmanager's unescaping (`\\"`, `\\\\`, `\\n`); a quote
    that does not close the value is refused, as Alertmanager refuses it."""
    quoted = raw.startswith('"')
    text = raw[1:] if quoted else raw
    value, escaped, closed = [], False, not quoted
    for index, char in enumerate(text):
        if escaped:
            escaped = False
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(char, "\\" + char))
        elif char == "\\" and index < len(text) - 1:
            escaped = True
        elif char == '"':
            if closed or index < len(text) - 1:
                raise ValueError('has an unescaped double quote inside its value (write \\")')
            closed = True
        else:
            value.append(char)
    if not closed:
        raise ValueError("opens a quoted value it does not close")
    return "".join(value)


def _tokens(text: str) -> list[str]:
    """`text` split as Alertmanager's ParseMatchers splits it: at commas outside quotes, an
    optional `{` `}` around the whole and one trailing comma dropped."""
    text = text.removeprefix("{").removesuffix("}")
    tokens, token, inside, escaped = [], "", False, False
    for char in text:
        if char == ",":
            if not inside:
                tokens.append(token)
                token = ""
                continue
        elif char == '"':
            inside, escaped = (not inside, False) if not escaped else (inside, False)
        elif char == "\\":
            escaped = not escaped
        else:
            escaped = False
        token += char
    if token.strip():
        tokens.append(token.strip())
    return tokens


def alertmanager_matchers(text: str) -> list[tuple[str, str, str]]:
    """The (label, operator, value) matchers in one `matchers` entry as Alertmanager reads it
    (several may share an entry, comma-separated); a ValueError says why Alertmanager would
    refuse it. An entry with no matcher at all is refused too: Alertmanager takes it and the
    route then matches every alert."""
    matchers = []
    for token in _tokens(text):
        found = re2.search(_MATCHER, token, options=_OPTIONS)
        if found is None:
            raise ValueError(
                f"{token!r} is not a matcher; write <label> <op> <value> (label: letters, digits, "
                '_ and :, not first a digit; op one of =~ !~ != =), e.g. alertname =~ "Kube.*"'
            )
        label, operator, raw = found.group(1), found.group(2), found.group(3)
        try:
            value = _matcher_value(raw)
        except ValueError as error:
            raise ValueError(f"{token!r} {error}") from None
        problem = go_regex_problem(value) if operator in ("=~", "!~") else None
        if problem is not None:
            raise ValueError(f"{token!r}: its regex does not compile in Go's syntax ({problem})")
        matchers.append((label, operator, value))
    if not matchers:
        raise ValueError(f"{text!r} holds no matcher; write <label> <op> <value>")
    return matchers


def alertmanager_group_by(labels: list[str]) -> list[str]:
    """`labels` if Alertmanager takes them as a route's group_by: label names, each once, or
    `...` (every label) alone."""
    for label in labels:
        if label != "..." and re2.fullmatch(LABEL_NAME, label, options=_OPTIONS) is None:
            raise ValueError(f"{label!r} is not a label name (or '...', every label)")
    if "..." in labels and len(labels) > 1:
        raise ValueError("'...' groups by every label already: give it alone or list the labels")
    twice = next((label for label in labels if labels.count(label) > 1), None)
    if twice is not None:
        raise ValueError(f"{twice!r} is listed twice; list each label once")
    return labels


def _glob_problem(pattern: str) -> str | None:
    """Why Go's filepath.Glob (promtool, Prometheus) would find `pattern` malformed: a `[` class
    not closed or empty, a range without an end, a trailing backslash."""
    index, size = 0, len(pattern)

    def class_char(at: int) -> int:
        # One character of a class (escaped or not); -1 where Go's getEsc refuses one.
        if at >= size or pattern[at] in "-]":
            return -1
        if pattern[at] == "\\":
            at += 1
            if at >= size:
                return -1
        return at + 1

    while index < size:
        char = pattern[index]
        if char == "\\":
            if index + 1 >= size:
                return "a trailing backslash"
            index += 2
        elif char == "[":
            index += 2 if pattern.startswith("[^", index) else 1
            ranges = 0
            while index >= size or pattern[index] != "]" or not ranges:
                index = class_char(index)
                if index > 0 and index < size and pattern[index] == "-":
                    index = class_char(index + 1)
                if index < 0:
                    return "a [...] class not closed, empty, or with a range missing an end"
                ranges += 1
            index += 1
        else:
            index += 1
    return None


def file_sd_path(path: str) -> str:
    """`path` if Prometheus takes it as a file_sd file (a glob in the last element only, a
    .json/.yml/.yaml name) and promtool finds its glob well-formed."""
    if re2.fullmatch(FILE_SD_PATH, path, options=_OPTIONS) is None:
        raise ValueError(
            f"{path!r} is not a path Prometheus reads targets from: a .json, .yml or .yaml file, "
            "with a * only in the last path element (e.g. /etc/prometheus/targets/*.json)"
        )
    problem = _glob_problem(path)
    if problem is not None:
        raise ValueError(f"{path!r} is a malformed glob ({problem})")
    return path
