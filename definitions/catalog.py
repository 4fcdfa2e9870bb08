"""Find journeys by key: the bundled ones plus any directories the user adds.

The catalog only reads files; compiling a journey resolves its ``extends`` through
the same catalog. A ``(key, version)`` found twice with different content is a
problem reported for the later file: a published version never changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bompao.definitions.extends import parse_ref
from bompao.definitions.functions import CelFunction, plugin_functions
from bompao.definitions.messages import Message
from bompao.definitions.source import Source, load_yaml
from bompao.errors import DefinitionError, LoadError, NotFound, UsageError

if TYPE_CHECKING:
    from bompao.definitions.compiled import CompiledJourney

__all__ = ["BUNDLED", "CatalogEntry", "JourneyCatalog", "bundled_dir", "read_file"]

BUNDLED = "bundled"


def bundled_dir() -> Path:
    """The directory of the journeys shipped with bompao."""
    return Path(str(resources.files("bompao.journeys")))


def read_file(path: Path) -> bytes:
    """Read a journey file, refusing what is not a readable file.

    Raises:
        NotFound: the path does not exist or is not a file.
        UsageError: the file cannot be read.
    """
    if not path.exists():
        raise NotFound(Message("file.missing", path=str(path)))
    if not path.is_file():
        raise NotFound(Message("file.not_a_file", path=str(path)))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {str(path)!r}: {exc.strerror}") from None


@dataclass(frozen=True)
class CatalogEntry:
    """A journey file the catalog found."""

    key: str
    version: int
    path: Path
    source: Source
    origin: str


class JourneyCatalog:
    """Journeys by ``(key, version)`` from the bundled directory and extra directories.

    Args:
        directories: extra directories, searched after the bundled one.
        bundled: include the journeys shipped with bompao.
    """

    def __init__(self, directories: Sequence[str | Path] = (), *, bundled: bool = True,
                 functions: Sequence[CelFunction] | None = None) -> None:
        self.directories = [Path(d) for d in directories]
        self.functions = list(plugin_functions() if functions is None else functions)
        self.bundled = bundled
        self._entries: dict[tuple[str, int], CatalogEntry] | None = None
        self._compiled: dict[tuple[str, int], CompiledJourney] = {}
        self.problems: list[DefinitionError] = []

    @classmethod
    def from_env(cls, directories: Iterable[str | Path] = (), *,
                 functions: Sequence[CelFunction] | None = None) -> JourneyCatalog:
        """A catalog of the bundled journeys, ``$BOMPAO_JOURNEYS`` and ``directories``."""
        extra = [d for d in os.environ.get("BOMPAO_JOURNEYS", "").split(os.pathsep) if d]
        return cls([*extra, *directories], functions=functions)

    def add_function(self, function: CelFunction) -> None:
        """Let expressions call ``function`` (journeys compiled later see it)."""
        self.functions.append(function)
        self._compiled.clear()

    def entries(self) -> dict[tuple[str, int], CatalogEntry]:
        """Every journey found, keyed by ``(key, version)``.

        Raises:
            NotFound: an extra directory does not exist.
        """
        if self._entries is None:
            self._entries = {}
            if self.bundled:
                self._scan(bundled_dir(), BUNDLED)
                # versions a newer bundled file superseded: still published and resolvable
                # (``extends: social-incubator@1``), byte for byte as they were shipped
                self._scan(bundled_dir() / "earlier", BUNDLED)
            for directory in self.directories:
                if not directory.is_dir():
                    raise NotFound(Message("file.no_journeys_dir", path=str(directory)))
                self._scan(directory, str(directory))
        return self._entries

    def _scan(self, directory: Path, origin: str) -> None:
        assert self._entries is not None
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        for path in files:
            try:
                source = load_yaml(read_file(path), str(path))
            except (LoadError, UsageError) as exc:
                if isinstance(exc, LoadError):
                    self.problems.append(exc)
                continue
            key, version = source.data.get("journey"), source.data.get("version")
            if not isinstance(key, str) or not isinstance(version, int) or isinstance(
                    version, bool):
                continue
            previous = self._entries.get((key, version))
            if previous is not None:
                if previous.source.text != source.text:
                    self.problems.append(LoadError.at(
                        str(path), 1, 1, f"journey '{key}@{version}' is also in "
                        f"{str(previous.path)!r} with different content; a published "
                        "version never changes: give this one a new version"))
                continue
            self._entries[(key, version)] = CatalogEntry(key, version, path, source, origin)

    def latest(self, key: str) -> int:
        """The highest version of ``key``.

        Raises:
            NotFound: no journey has this key.
        """
        versions = [v for (k, v) in self.entries() if k == key]
        if not versions:
            names = sorted({k for k, _ in self.entries()})
            known = ", ".join(names) if names else Message("none")
            raise NotFound(Message("journey.unknown", name=key, known=known))
        return max(versions)

    def entry(self, key: str, version: int | None = None) -> CatalogEntry:
        """The entry for ``key`` at ``version`` (latest when None).

        Raises:
            NotFound: no such journey or version.
        """
        latest = self.latest(key)
        version = latest if version is None else version
        found = self.entries().get((key, version))
        if found is None:
            have = sorted(v for (k, v) in self.entries() if k == key)
            listing = ", ".join(f"{key}@{v}" for v in have) if have else Message("none")
            raise NotFound(Message("journey.unknown_version", name=key, version=version,
                                   known=listing))
        return found

    def resolve(self, key: str, version: int) -> Source:
        """The loaded source of ``key@version`` (the resolver for ``extends``).

        Raises:
            NotFound: no such journey or version.
        """
        return self.entry(key, version).source

    def get(self, ref: str) -> CompiledJourney:
        """Compile ``KEY`` (latest version) or ``KEY@VERSION``, once.

        Raises:
            NotFound: no such journey.
            DefinitionError: the journey is invalid.
        """
        key, version = parse_ref(ref)
        entry = self.entry(key, version)
        cache_key = (entry.key, entry.version)
        if cache_key not in self._compiled:
            from bompao.definitions.pipeline import compile_source  # noqa: PLC0415 - cycle

            self._compiled[cache_key] = compile_source(entry.source, resolve=self.resolve,
                                                       functions=self.functions)
        return self._compiled[cache_key]
