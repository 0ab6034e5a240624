"""安装的版本与 requirements.txt 的锁定版本一致（笔记本里不断言版本，这里检查）。"""

import importlib.metadata
import re

import pytest

from conftest import ROOT

PINS = [tuple(m.groups()) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)]


def test_requirements_are_all_pinned():
    lines = [l for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert len(lines) == len(PINS) and len(PINS) >= 10, lines


@pytest.mark.parametrize("name,version", PINS, ids=[n for n, _ in PINS])
def test_installed_version_matches_the_pin(name, version):
    installed = importlib.metadata.version(name)
    assert installed.split("+")[0] == version, f"{name}: installed {installed}, pinned {version}"


def test_minimum_torch_in_ptnotes_is_older_than_the_pin():
    from conftest import load_ptnotes

    ptnotes = load_ptnotes(ROOT / "chapters")
    ptnotes.check_torch()  # 锁定的版本满足课程的最低要求
    pinned = dict(PINS)["torch"]
    assert tuple(map(int, ptnotes.MIN_TORCH.split("."))) <= tuple(map(int, pinned.split(".")[:2]))
