"""nbval 的清洗文件真的被用上了：同一个笔记本不用它会失败，用它才通过；真正的差异用了它照样失败。"""

import re
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from conftest import ROOT

SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def stored(source, text):
    cell = new_code_cell(source, execution_count=None)
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return cell


def nbval(path, *extra):
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(path.parent),
           "--nbval", "--nbval-current-env", *extra, str(path)]
    return subprocess.run(cmd, cwd=path.parent, capture_output=True, text=True, timeout=300)


def write(tmp_path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(nb.cells, 1):
        cell.execution_count = i
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    return path


def varying_cells():
    return [
        stored("print(object())", "<object object at 0x7f00deadbeef>\n"),
        stored("import torch\nprint(torch.__version__)", "2.14.1+cpu\n"),
        stored("import tempfile\nprint(tempfile.mkdtemp())", "/tmp/tmpabc123\n"),
    ]


def test_varying_outputs_fail_without_the_sanitize_file(tmp_path):
    result = nbval(write(tmp_path, varying_cells()))
    assert result.returncode == 1, result.stdout
    assert re.search(r"3 failed", result.stdout), result.stdout


def test_the_sanitize_file_makes_them_pass(tmp_path):
    result = nbval(write(tmp_path, varying_cells()), "--nbval-sanitize-with", str(SANITIZE))
    assert result.returncode == 0, result.stdout
    assert re.search(r"3 passed", result.stdout), result.stdout


def test_real_differences_still_fail_with_the_sanitize_file(tmp_path):
    cells = [stored("print(1 + 1)", "3\n"), stored("print('loss 0.1234')", "loss 0.1235\n")]
    result = nbval(write(tmp_path, cells), "--nbval-sanitize-with", str(SANITIZE))
    assert result.returncode == 1
    assert re.search(r"2 failed", result.stdout), result.stdout


def test_make_test_runs_strict_nbval_with_this_file():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--nbval-lax" not in makefile
    line = next(l for l in makefile.splitlines() if l.startswith("NBVAL"))
    assert "--nbval " in line + " " and "--nbval-sanitize-with tests/nbval_sanitize.cfg" in line
