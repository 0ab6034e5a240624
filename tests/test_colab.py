"""Colab 的用法：一个笔记本被单独复制到空目录里运行，公共代码和数据都从网上下载。

这里的“网”是 127.0.0.1 上的本地服务器，提供仓库里的 ptnotes.py 和蚂蚁/蜜蜂压缩包；
笔记本通过环境变量 PTNOTES_PY_URL / PTNOTES_HYMENOPTERA_URL 找到它（与 Colab 里的默认地址只差这两个变量）。
"""

import json
import shutil

import nbformat
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = "01_setup.ipynb"


def stdout_of(nb, needle):
    for cell in nb.cells:
        if cell.cell_type == "code" and needle in cell.source:
            return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    raise AssertionError(f"no cell containing {needle!r}")


def test_notebook_alone_runs_like_in_colab(tmp_path, monkeypatch, http_server):
    base, served, requested = http_server
    shutil.copy(ROOT / "chapters" / "ptnotes.py", served / "ptnotes.py")
    shutil.copy(ROOT / "data" / "hymenoptera_data.tar.gz", served / "hymenoptera_data.tar.gz")
    workdir = tmp_path / "content"
    workdir.mkdir()
    shutil.copy(ROOT / "chapters" / NOTEBOOK, workdir / NOTEBOOK)
    monkeypatch.setenv("PTNOTES_PY_URL", f"{base}/ptnotes.py")
    monkeypatch.setenv("PTNOTES_HYMENOPTERA_URL", f"{base}/hymenoptera_data.tar.gz")

    stored = nbformat.read(workdir / NOTEBOOK, as_version=4)
    fresh = nbformat.read(workdir / NOTEBOOK, as_version=4)
    NotebookClient(fresh, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()

    assert requested == ["/ptnotes.py", "/hymenoptera_data.tar.gz"]
    assert {p.name for p in workdir.iterdir()} - {"__pycache__"} == {NOTEBOOK, "ptnotes.py", "data"}
    assert (workdir / "data" / "hymenoptera_data" / "val" / "bees").is_dir()
    # 数据单元的输出与仓库里（离线运行时）保存的输出相同：用的是同一份数据
    stored_counts = stdout_of(stored, "ptnotes.hymenoptera()")
    fresh_counts = stdout_of(fresh, "ptnotes.hymenoptera()")
    assert "下载蚂蚁/蜜蜂数据集" in fresh_counts
    assert fresh_counts.splitlines()[-5:] == stored_counts.splitlines()[-5:]
    assert "train/ants: 124 files" in stored_counts
