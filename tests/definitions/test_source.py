"""Safe YAML loading: positions, strings that stay strings, and refusals of hostile input."""

from __future__ import annotations

import pytest

from bompao.definitions import load_yaml
from bompao.definitions import source as source_module
from bompao.definitions.source import MAX_BYTES, MAX_DEPTH, MAX_NODES
from bompao.errors import DefinitionError, LoadError

DOC = """\
# a comment
journey: tiny
version: 1
stages:
  start:
    initial: true
    title: {en: "Start", th: 'เริ่ม'}
  done: {final: true}
transitions:
  - trigger: go
    from: [start]
    to: done
    gate:
      expr: |
        true &&
          true
"""


def test_positions_of_keys_and_values() -> None:
    source = load_yaml(DOC, "tiny.yaml")
    assert source.file == "tiny.yaml"
    assert source.text == DOC
    assert source.data["stages"]["start"]["title"] == {"en": "Start", "th": "เริ่ม"}

    def at(path: tuple[str | int, ...], *, key: bool = False) -> tuple[int, int]:
        mark = source.mark(path, key=key)
        assert mark.file == "tiny.yaml"
        return mark.line, mark.column

    assert at(("journey",)) == (2, 10)
    assert at(("journey",), key=True) == (2, 1)
    assert at(("stages", "start"), key=True) == (5, 3)
    assert at(("stages", "start", "initial")) == (6, 14)
    assert at(("stages", "start", "title", "th")) == (7, 30)
    assert at(("stages", "done")) == (8, 9)
    assert at(("transitions", 0)) == (10, 5)
    assert at(("transitions", 0, "from", 0)) == (11, 12)
    assert at(("transitions", 0, "gate", "expr")) == (14, 13)
    # a missing step points at the nearest ancestor that exists
    assert at(("stages", "start", "follow_ups", 3)) == (6, 5)
    assert at(("nowhere",)) == (2, 1)


def test_scalar_styles_are_kept_for_mapping_positions_inside_them() -> None:
    source = load_yaml(DOC, "tiny.yaml")
    assert source.mark(("stages", "start", "title", "en")).style == '"'
    assert source.mark(("stages", "start", "title", "th")).style == "'"
    block = source.mark(("transitions", 0, "gate", "expr"))
    assert (block.style, block.indent) == ("|", 8)
    assert source.mark(("journey",)).style is None


def test_diagnostic_at_a_path() -> None:
    source = load_yaml(DOC, "tiny.yaml")
    assert str(source.diagnostic(("transitions", 0, "to"), "nope")) == \
        "tiny.yaml:12:9: error: nope"
    assert str(source.diagnostic(("stages", "done"), "here", key=True)) == \
        "tiny.yaml:8:3: error: here"


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On",
                                  "OFF", "Y", "N"])
def test_yes_no_on_off_stay_strings(word: str) -> None:
    data = load_yaml(f"a: {word}\nb: [{word}]\n{word}: 1\n").data
    assert data == {"a": word, "b": [word], word: 1}


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("false", False), ("True", True), ("FALSE", False), ("12", 12),
    ("0x10", 16), ("1_000", 1000), ("1.5", 1.5), ("~", None), ("null", None),
    ("2026-01-31", "2026-01-31"), ("2026-01-31T09:00:00+07:00", "2026-01-31T09:00:00+07:00"),
    ('"yes"', "yes"), ("'12'", "12"),
])
def test_only_true_and_false_are_booleans_and_dates_stay_strings(text: str,
                                                                 value: object) -> None:
    loaded = load_yaml(f"a: {text}\n").data["a"]
    assert loaded == value
    assert type(loaded) is type(value)


def test_merge_keys_are_resolved_and_local_keys_win() -> None:
    data = load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n").data
    assert data["c"] == {"x": 3, "y": 2}


def test_a_bom_is_ignored() -> None:
    assert load_yaml("\ufeffa: 1\n".encode()).data == {"a": 1}
    assert load_yaml(b"\xef\xbb\xbfa: 1\n").data == {"a": 1}


# --- size ----------------------------------------------------------------------------------

def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the YAML parser must not run on an oversized document")

    monkeypatch.setattr(source_module, "_Loader", refuse)


def _ten_megabytes() -> str:
    # valid YAML that would take PyYAML minutes to parse: 10 MB of small mappings
    head = "journey: big\nversion: 1\nstages:\n"
    line = "  s{:07d}: {{title: {{en: x, th: y}}}}\n"
    count = (10 * 1024 * 1024 - len(head)) // len(line.format(0)) + 1
    return head + "".join(line.format(i) for i in range(count))


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_a_ten_megabyte_document_is_refused_before_parsing(
        monkeypatch: pytest.MonkeyPatch, as_bytes: bool) -> None:
    text = _ten_megabytes()
    size = len(text.encode())
    assert size > 10 * 1024 * 1024
    _no_parsing(monkeypatch)
    with pytest.raises(LoadError) as caught:
        load_yaml(text.encode() if as_bytes else text, "big.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        (f"big.yaml:1:1: error: the document is {size:,} bytes; the limit is "
        f"{MAX_BYTES:,} bytes")]


def test_the_limit_counts_utf8_bytes_not_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: " + "ก" * (MAX_BYTES // 3 + 10)  # fewer characters than MAX_BYTES, more bytes
    assert len(text) < MAX_BYTES < len(text.encode())
    _no_parsing(monkeypatch)
    with pytest.raises(LoadError, match="the limit is 1,048,576 bytes"):
        load_yaml(text)


def test_a_document_at_the_limit_is_parsed() -> None:
    head = "a: 1\n"
    text = head + "#" * (MAX_BYTES - len(head) - 1) + "\n"
    assert len(text.encode()) == MAX_BYTES
    assert load_yaml(text).data == {"a": 1}


# --- alias bombs and nesting -------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True))


def test_billion_laughs_is_refused_with_a_position() -> None:
    assert len(BOMB) < 1000  # a small document that expands to 10**9 nodes
    with pytest.raises(LoadError) as caught:
        load_yaml(BOMB, "bomb.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == (f"the document expands to more than {MAX_NODES:,} nodes "
                                  "(aliases repeated too often?)")
    assert diagnostic.file == "bomb.yaml"
    assert 1 <= diagnostic.line <= BOMB.count("\n")
    assert 1 <= diagnostic.column <= len(BOMB.splitlines()[diagnostic.line - 1])


def test_a_few_aliases_are_fine() -> None:
    data = load_yaml("roles: &r [coach, committee]\nother: *r\n").data
    assert data["other"] == ["coach", "committee"]


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n"], ids=["list", "mapping"])
def test_a_recursive_alias_is_refused(text: str) -> None:
    with pytest.raises(LoadError, match=f"nests deeper than {MAX_DEPTH} levels"):
        load_yaml(text)


def test_deep_flow_nesting_is_refused_with_a_position() -> None:
    depth = MAX_DEPTH + 10
    with pytest.raises(LoadError) as caught:
        load_yaml("a: " + "[" * depth + "]" * depth, "deep.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert str(diagnostic) == (f"deep.yaml:1:{3 + MAX_DEPTH + 1}: error: the document nests "
                               f"deeper than {MAX_DEPTH} levels")


def test_deep_block_nesting_is_refused_with_a_position() -> None:
    text = "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, MAX_DEPTH + 5))
    with pytest.raises(LoadError, match=f"nests deeper than {MAX_DEPTH} levels") as caught:
        load_yaml(text, "deep.yaml")
    assert caught.value.line > MAX_DEPTH // 2


def test_nesting_beyond_pythons_recursion_limit_is_a_load_error() -> None:
    depth = 5000
    with pytest.raises(LoadError) as caught:
        load_yaml("a: " + "{a: " * depth + "}" * depth, "deeper.yaml")
    assert caught.value.diagnostics[0].file == "deeper.yaml"
    assert "nest" in caught.value.diagnostics[0].message


# --- what is not a journey mapping -----------------------------------------------------------

MAPPING_NEEDED = "the document must be a mapping with 'journey', 'version' and 'stages', not "


@pytest.mark.parametrize(("text", "expected"), [
    ("- idea\n- validation\n", f"f.yaml:1:1: error: {MAPPING_NEEDED}a list"),
    ("\n\n  - idea\n", f"f.yaml:3:3: error: {MAPPING_NEEDED}a list"),
    ("just text\n", f"f.yaml:1:1: error: {MAPPING_NEEDED}a single value"),
    ("42\n", f"f.yaml:1:1: error: {MAPPING_NEEDED}a single value"),
    ("~\n", f"f.yaml:1:1: error: {MAPPING_NEEDED}a single value"),
    ("", ("f.yaml:1:1: error: the document is empty; a journey is a mapping with 'journey', "
         "'version' and 'stages'")),
    ("# only a comment\n\n", ("f.yaml:1:1: error: the document is empty; a journey is a "
                            "mapping with 'journey', 'version' and 'stages'")),
], ids=["list", "indented-list", "text", "number", "null", "empty", "comment"])
def test_non_mapping_roots_are_refused(text: str, expected: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml(text, "f.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [expected]


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\n---\nb: 2\n", "f.yaml:2:1: error: invalid YAML: but found another document"),
    ("a: [1, 2\n", ("f.yaml:1:4: error: invalid YAML: the '[' at line 1 is never closed; "
                   "add ']' at the end of its value")),
    ("a: 1\n b: 2\n", "f.yaml:2:3: error: invalid YAML: mapping values are not allowed here"),
    ("a: *nowhere\n", ("f.yaml:1:4: error: invalid YAML: '*nowhere' is a YAML alias, but no "
                      "anchor '&nowhere' is defined above it; to write the text itself, put "
                      "it in quotes: \"*nowhere\"")),
    ("1: one\n", "f.yaml:1:1: error: keys must be text; got 1 (int)"),
    ("? [a]\n: b\n", "f.yaml:1:3: error: keys must be text; got ['a'] (list)"),
    ("a: 1\na: 2\n", "f.yaml:2:1: error: duplicate key 'a' (first at line 1)"),
    ("c:\n  <<: 5\n", ("f.yaml:2:7: error: invalid merge key: expected a mapping or list of "
                      "mappings for merging, but found scalar")),
], ids=["two-documents", "unclosed", "bad-indent", "undefined-alias", "int-key", "list-key",
        "duplicate", "bad-merge"])
def test_malformed_yaml_is_a_positioned_load_error(text: str, expected: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml(text, "f.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [expected]


# --- encodings and characters ------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "offset"), [
    (b"journey: \xff\xfe x\n", 9), (b"\x80", 0), (b"a: caf\xc3\n", 6),
    ("a: ไทย\n".encode("utf-16"), 0),
], ids=["ff-fe", "lone-continuation", "truncated-sequence", "utf-16"])
def test_invalid_utf8_bytes_are_refused(raw: bytes, offset: int) -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml(raw, "bytes.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        f"bytes.yaml:1:1: error: the document is not UTF-8 text (bad byte at offset {offset})"]


def test_utf8_thai_text_loads() -> None:
    data = load_yaml("title: {th: ระบบบ่มเพาะ}\n".encode()).data
    assert data == {"title": {"th": "ระบบบ่มเพาะ"}}


@pytest.mark.parametrize("text", [
    "journey: a\x00b\n", "journey: a\x07b\n", "journey: a\x7fb\n", "journey: a\x85b\n",
    "journey: \ud800\n", "a: 1\nb: \x1b[31m\n",
], ids=["nul", "bell", "delete", "nel-c1", "lone-surrogate", "escape"])
def test_characters_yaml_forbids_are_a_load_error(text: str) -> None:
    """PyYAML's reader refuses these while the loader is being built: a LoadError with a
    position, never ``yaml.reader.ReaderError``."""
    with pytest.raises(LoadError) as caught:
        load_yaml(text, "chars.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.file == "chars.yaml"
    assert diagnostic.line >= 1
    assert diagnostic.column >= 1
    assert "\n" not in diagnostic.message


def test_the_first_lone_surrogate_is_named_where_it_is() -> None:
    with pytest.raises(LoadError) as caught:
        load_yaml("a: 1\nb: xไ\udc80y \ud800\n", "s.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        "s.yaml:2:6: error: the document contains a lone surrogate (U+DC80)"]
    with pytest.raises(LoadError) as caught:  # the size is refused first
        load_yaml("a: \ud800\n" + "#" * (1024 * 1024), "s.yaml")
    assert "bytes; the limit is" in str(caught.value.diagnostics[0])


def test_the_same_characters_as_bytes_are_a_load_error() -> None:
    with pytest.raises(LoadError):
        load_yaml(b"journey: a\x00b\n", "chars.yaml")


def test_load_errors_are_definition_errors_with_one_line_messages() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_yaml("a: [1,\n", "f.yaml")
    assert isinstance(caught.value, LoadError)
    assert all("\n" not in d.message for d in caught.value.diagnostics)
    assert caught.value.exit_code == 1
