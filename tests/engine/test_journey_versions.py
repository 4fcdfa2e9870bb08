"""social-incubator version 2 (issue 13): the bundled file gained indicators under a new
version; version 1 stays bundled byte for byte, so a database that published it before
upgrades with ``bompao init`` and keeps its projects on version 1. Version 3 (issue 14, the
call) did the same to version 2, and the partner journeys' version 2 to their version 1."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bompao.definitions import JourneyCatalog, bundled_dir
from bompao.engine import Engine

OLD_SHA256 = "b8245d88778f657708c8f1899d43ff669a841286c53275fac87076a56c89a13e"
"""The sha256 of social-incubator@1 as bompao shipped it before indicators: what every
database that published it holds (a published version never changes)."""


V2_SHA256 = "873206808a884f7126f5b68404b04ddd4d1025a29fe09300918a8630497a5d5c"
"""The sha256 of social-incubator@2 as bompao shipped it before the call (issue 14)."""
EARLIER = {"social-incubator-1.yaml": OLD_SHA256, "social-incubator-2.yaml": V2_SHA256}


def test_version_1_is_kept_byte_for_byte() -> None:
    earlier = bundled_dir() / "earlier" / "social-incubator-1.yaml"
    assert hashlib.sha256(earlier.read_bytes()).hexdigest() == OLD_SHA256
    catalog = JourneyCatalog()
    assert catalog.get("social-incubator@1").indicators == {}
    assert set(catalog.get("social-incubator@2").indicators) >= {
        "people_reached", "partners_engaged", "volunteers", "income", "still_operating"}
    assert catalog.get("social-incubator").version == 3
    for name, digest in EARLIER.items():
        assert hashlib.sha256((bundled_dir() / "earlier" / name).read_bytes()
                              ).hexdigest() == digest, name
    for key in ("university-incubator", "local-government-incubator"):
        assert catalog.get(f"{key}@1").doc.extends == "social-incubator@1"
        assert catalog.get(key).doc.extends == "social-incubator@3"


def test_init_on_a_database_that_published_the_old_version_1(store_url: str, cli: Any
                                                              ) -> None:
    # a database as the release before this one left it: only the old v1 published
    old = Engine.from_url(store_url, catalog=JourneyCatalog(bundled=False))
    old.publish((bundled_dir() / "earlier" / "social-incubator-1.yaml").read_text("utf-8"))
    before = old.create_project("social-incubator", "Before the upgrade")
    old.close()

    code, out, err = cli("--db", store_url, "--json", "init")
    assert (code, err) == (0, ""), err
    code, out, _ = cli("--db", store_url, "--json", "journeys", "list")
    versions = sorted((r["journey"], r["version"]) for r in json.loads(out)
                      if r["journey"] == "social-incubator")
    assert versions == [("social-incubator", 1), ("social-incubator", 2),
                        ("social-incubator", 3)]
    # a second init changes nothing and refuses nothing
    assert cli("--db", store_url, "init")[0] == 0

    engine = Engine.from_url(store_url)
    try:
        assert engine.get(before.id).version == 1
        after = engine.create_project("social-incubator", "After the upgrade")
        assert after.version == 3
        assert "people_reached" in engine.indicators(after.id)
        assert engine.indicators(before.id) == {}
    finally:
        engine.close()
