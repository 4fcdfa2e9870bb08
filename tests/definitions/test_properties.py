"""Property tests: a broken journey is compiled or refused with positions, nothing else.

2,000 examples in all (issue 2 asks for at least 2,000 in CI), split by cost: full
compiles of mutated bundled journeys are the slow ones, whole random documents the
fast ones.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from typing import TypeVar

import strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bompao.definitions import CompiledJourney, JourneyCatalog, compile_journey, load_yaml
from bompao.errors import DefinitionError

T = TypeVar("T")
YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a new line
FILE = "mutant.yaml"
CATALOG = JourneyCatalog()
CHEAP = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def assert_compiles_or_is_refused_with_positions(text: str | bytes) -> None:
    """The property: a :class:`CompiledJourney`, or a DefinitionError whose every
    diagnostic has a file, a line and a column, and a one-line message."""
    outcome = _outcome(lambda: compile_journey(text, file=FILE, resolve=CATALOG.resolve))
    if isinstance(outcome, CompiledJourney):
        assert sum(stage.initial for stage in outcome.stages.values()) == 1
        return
    assert outcome.diagnostics, "a DefinitionError without diagnostics"
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    last_line = len(YAML_LINE_BREAK.split(raw))
    for diagnostic in outcome.diagnostics:
        assert isinstance(diagnostic.file, str)
        assert diagnostic.file
        assert diagnostic.line >= 1, str(diagnostic)
        assert diagnostic.column >= 1, str(diagnostic)
        assert diagnostic.message.strip(), str(diagnostic)
        assert "\n" not in diagnostic.message, str(diagnostic)
        if diagnostic.file == FILE:
            assert diagnostic.line <= last_line, str(diagnostic)


def _outcome(run: Callable[[], T]) -> T | DefinitionError:
    """What ``run`` returns, or the DefinitionError it raises; any other exception fails
    the test with its traceback."""
    try:
        return run()
    except DefinitionError as exc:
        return exc
    except Exception as exc:
        raise AssertionError(
            f"{type(exc).__name__} escaped instead of a DefinitionError:\n"
            f"{traceback.format_exc()}") from None


@settings(CHEAP, max_examples=300)
@given(strategies.journey_mutants("data"))
def test_structural_mutants(mutant: strategies.Mutant) -> None:
    """Dropped keys, values of another type, unknown keys — anywhere in the document."""
    assert_compiles_or_is_refused_with_positions(mutant.text)


@settings(CHEAP, max_examples=400)
@given(strategies.journey_mutants("text"))
def test_text_mutants(mutant: strategies.Mutant) -> None:
    """The text cut short, random characters or random bytes spliced in."""
    assert_compiles_or_is_refused_with_positions(mutant.text)


@settings(CHEAP, max_examples=700)
@given(st.one_of(strategies.random_bytes, strategies.random_unicode))
def test_random_documents(document: str | bytes) -> None:
    assert_compiles_or_is_refused_with_positions(document)


@settings(CHEAP, max_examples=400)
@given(st.one_of(strategies.random_unicode, strategies.random_bytes,
                 strategies.yaml_values.map(str)))
def test_load_yaml_gives_data_or_a_load_error(document: str | bytes) -> None:
    outcome = _outcome(lambda: load_yaml(document, FILE))
    if isinstance(outcome, DefinitionError):
        assert outcome.diagnostics
        assert all(d.file == FILE and d.line >= 1 and d.column >= 1
                   for d in outcome.diagnostics)
    else:
        assert isinstance(outcome.data, dict)


@settings(CHEAP, max_examples=200)
@given(strategies.bundled_texts(), st.data())
def test_every_prefix_ending_at_a_line_break(bundled: tuple[str, str],
                                             data: st.DataObject) -> None:
    """Files cut between lines (a partial save) parse as YAML, so they reach the later
    stages: extends, the schema and the checks."""
    _name, text = bundled
    breaks = [i for i, char in enumerate(text) if char == "\n"]
    at = data.draw(st.sampled_from(breaks))
    assert_compiles_or_is_refused_with_positions(text[:at + 1])
