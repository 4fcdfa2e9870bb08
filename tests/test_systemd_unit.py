"""The systemd template unit of docs/operations.md is valid for any instance name.

``systemd-analyze verify`` checks the unit as written in the docs (with ``ExecStart``
pointing at this checkout's ``bompao``), for instances ``1``, ``12`` and ``eu-west``;
and the unit never builds a port from the instance name (``947%i`` made instance 12
ask for port 94712).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def unit_text() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("bompao-scheduler@.service"):]
    return section[section.index("```ini\n") + 7:section.index("\n```", section.index("```ini"))]


def test_the_unit_uses_the_instance_name_only_as_text() -> None:
    unit = unit_text()
    assert "--metrics-port" not in unit
    assert not re.search(r"\d%i|%i\d", unit)
    assert "ExecStart=/opt/bompao/bin/bompao scheduler run --name %H-%i" in unit
    docs = DOCS.read_text(encoding="utf-8")
    assert "useradd --system" in docs
    assert "install -d -o bompao -g bompao" in docs


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
@pytest.mark.parametrize("instance", ["1", "12", "eu-west"])
def test_systemd_analyze_verifies_the_unit(tmp_path: Path, instance: str) -> None:
    bompao = Path(sys.executable).with_name("bompao")
    assert bompao.exists(), "the bompao console script is not installed beside python"
    unit = unit_text().replace("/opt/bompao/bin/bompao", str(bompao))
    # the user the docs create may not exist on a test machine: verify checks it
    unit = unit.replace("User=bompao", "User=root").replace("Group=bompao", "Group=root")
    path = tmp_path / "bompao-scheduler@.service"
    path.write_text(unit, encoding="utf-8")
    instance_unit = tmp_path / f"bompao-scheduler@{instance}.service"
    instance_unit.symlink_to(path)
    result = subprocess.run(["systemd-analyze", "verify", str(instance_unit)],
                            capture_output=True, text=True, timeout=60, check=False)
    problems = [line for line in result.stderr.splitlines()
                if "bompao-scheduler" in line and "network-online" not in line
                and "postgresql.service" not in line]
    assert result.returncode == 0, result.stderr
    assert problems == [], result.stderr
