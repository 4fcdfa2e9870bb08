"""Diagrams drawn right (issue 15): the start arrow, the active stage, the Mermaid title,
DOT escaping checked by the real Graphviz, Thai edge titles, single spaces."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bompao.definitions import bundled_dir, compile_journey, load_path
from bompao.definitions.diagram import diagram

SOCIAL = load_path(bundled_dir() / "social-incubator.yaml")
UNIVERSITY_FILE = bundled_dir() / "university-incubator.yaml"
QUOTES = r"""
journey: quotes
version: 1
title: {en: 'A "quoted" \ title:  with: colons'}
stages:
  start: {initial: true, title: {en: 'Start \ "here"'}}
  done: {final: true, title: {en: 'Done  [x]'}}
transitions:
  - trigger: go
    from: start
    to: done
    gate: {expr: "true", says: {en: 'Say "yes" \n and C:\path'}}
"""


def test_without_a_project_no_stage_is_active() -> None:
    mermaid = diagram(SOCIAL, "mermaid")
    assert re.findall(r"^\s*Class \w+ (\w+)$", mermaid, re.MULTILINE) == \
        ["s_default"] * len(SOCIAL.stages)
    assert "[*] --> idea" in mermaid
    assert "darksalmon" not in diagram(SOCIAL, "dot").split("edge [", 1)[1]


@pytest.mark.parametrize("current", ["validation", "stalled", "idea"])
def test_a_project_highlights_its_stage_and_the_start_stays(current: str) -> None:
    mermaid = diagram(SOCIAL, "mermaid", current=current)
    active = re.findall(r"^\s*Class (\w+) s_active$", mermaid, re.MULTILINE)
    assert active == [current]
    assert re.findall(r"\[\*\] --> (\w+)", mermaid) == ["idea"]
    dot = diagram(SOCIAL, "dot", current=current)
    assert re.findall(r"^\t(\w+) \[[^\n]*darksalmon", dot, re.MULTILINE) == [current]


def test_an_unknown_current_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage 'nowhere'"):
        diagram(SOCIAL, "mermaid", current="nowhere")


def test_the_mermaid_title_is_front_matter_with_title() -> None:
    journey = compile_journey(QUOTES, file="q.yaml")
    text = diagram(journey, "mermaid")
    front = text.split("---\n")[1]
    assert yaml.safe_load(front) == {"title": "A 'quoted' \\ title with colons (quotes@1)"}
    assert yaml.safe_load(diagram(SOCIAL, "mermaid").split("---\n")[1]) == {
        "title": "Social Incubator (social-incubator@3)"}


def _labels(text: str) -> list[str]:
    """Mermaid's stage and edge labels."""
    states = re.findall(r'^\s*state "([^"]*)" as', text, re.MULTILINE)
    edges = re.findall(r"^\s*\w+ --> \w+: (.*)$", text, re.MULTILINE)
    return states + edges


def test_no_label_has_a_double_space() -> None:
    for journey in (SOCIAL, compile_journey(QUOTES, file="q.yaml")):
        for lang in ("en", "th"):
            labels = _labels(diagram(journey, "mermaid", lang=lang))
            assert labels
            assert [label for label in labels if "  " in label or label != label.strip()] == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is installed by .ci/run")
def test_dot_labels_escape_backslashes_and_quotes_as_graphviz_reads_them(
        tmp_path: Path) -> None:
    journey = compile_journey(QUOTES, file="q.yaml")
    source = tmp_path / "q.dot"
    source.write_text(diagram(journey, "dot"), encoding="utf-8")
    svg = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True,
                         check=True)
    assert svg.stderr == ""
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.stdout)]
    assert sorted(texts) == sorted([
        'A "quoted" \\ title: with: colons (quotes@1)', 'Start \\ "here"', "Done [x]",
        'go [Say "yes" \\n and C:\\path]'])


def test_thai_edges_carry_the_transitions_thai_titles() -> None:
    university = load_path(UNIVERSITY_FILE, resolve=_bundled)
    text = diagram(university, "mermaid", lang="th")
    assert "validation --> ethics_review: ส่งพิจารณาจริยธรรม [" in text
    assert "ethics_review --> test_run: ผ่านการพิจารณาจริยธรรมและเริ่มทดลองทำ [" in text
    english = diagram(university, "mermaid", lang="en")
    assert "validation --> ethics_review: start_test_run [" in english


def _bundled(key: str, version: int) -> object:
    from bompao.definitions import JourneyCatalog  # noqa: PLC0415

    return JourneyCatalog().resolve(key, version)
