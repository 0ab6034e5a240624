"""离线包（make bundle）：一个 zip，解开到空目录里就能运行，不用联网。"""

from __future__ import annotations

import hashlib
import os
import subprocess
import zipfile

import nbformat
import pytest

from conftest import ROOT, toc_entries
from webserver import closed_url, offline_env

TOP = "pytorch-shizhan-biji-offline"
CHAPTER = "05f_v2_datasets.ipynb"  # 两份数据都用到（5.6 节）


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """用 make bundle 生成离线包（输出到临时目录，不碰 _build/）。"""
    output = tmp_path_factory.mktemp("bundle") / "offline.zip"
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    result = subprocess.run(["make", "--no-print-directory", "bundle", f"BUNDLE={output}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    print(result.stdout.strip())
    return output


def test_bundle_holds_every_chapter_ptnotes_data_requirements_and_a_readme(bundle):
    chapters = [entry.removeprefix("chapters/") + ".ipynb" for entry in toc_entries() if entry.startswith("chapters/")]
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert all(name.startswith(f"{TOP}/") for name in names)
        files = {name.removeprefix(f"{TOP}/"): name for name in names}
        assert set(files) == {"README.md", "ptnotes.py", "requirements.txt", "constraints.txt", "data/SHA256SUMS",
                              "data/hymenoptera_data.tar.gz", "data/cifar10_jpg.tar.gz", *chapters}
        for name in chapters:
            assert zf.read(files[name]) == (ROOT / "chapters" / name).read_bytes(), name
        assert zf.read(files["ptnotes.py"]) == (ROOT / "chapters" / "ptnotes.py").read_bytes()
        for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines():
            sha, name = line.split()
            assert hashlib.sha256(zf.read(files[f"data/{name}"])).hexdigest() == sha
        for name in ("requirements.txt", "constraints.txt"):
            assert zf.read(files[name]) == (ROOT / name).read_bytes()
        readme = zf.read(files["README.md"]).decode("utf-8")
    assert "pip install -r requirements.txt -c constraints.txt" in readme
    assert "## 数据在哪里" in readme and "不联网" in readme
    print(f"{bundle.stat().st_size / 1e6:.1f} MB")


@pytest.mark.alone
def test_a_chapter_runs_offline_from_the_unzipped_bundle(bundle, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    notebook = folder / TOP / CHAPTER
    code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    assert "ptnotes.hymenoptera(" in code and "ptnotes.cifar10(" in code
    # 任何下载都会失败：课程仓库的地址指向关着的端口，别的 HTTP(S) 走一个关着的代理
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env = offline_env(env)
    env["PTNOTES_PY_URL"] = closed_url() + "/chapters/ptnotes.py"
    env["PTNOTES_DATA_URL"] = closed_url() + "/data"
    result = subprocess.run(["make", "--no-print-directory", "test-notebooks", f"NB={notebook}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # 用的是包里 data/ 的压缩包，解压在它旁边
    assert (folder / TOP / "data" / "hymenoptera_data" / ".ptnotes-complete").is_file()
    assert sorted(p.name for p in (folder / TOP / "data").iterdir() if p.is_file()) == [
        "SHA256SUMS", "cifar10_jpg.tar.gz", "hymenoptera_data.tar.gz"]
