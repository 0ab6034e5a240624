"""make test 比对笔记本时用的数值配置确实和 make run 记录时的不同，并且真的作用到了内核上。

做法和 test_sanitize.py 一样：一个探针笔记本打印内核里的线程数、CPU 指令集和警告设置。
用 make run 记录的输出，在 make test-notebooks 下必须失败（配置不同）；
存着“测试配置”输出的副本，在 make test-notebooks 下必须通过（配置真的被用上了）。
"""

import os
import shutil
import subprocess

import nbformat

from conftest import ROOT

PROBE = """\
import os
import sys
import ptnotes
import torch
ptnotes.setup()
print("threads:", torch.get_num_threads())
print("cpu capability:", torch.backends.cpu.get_cpu_capability())
print("mkl/onednn isa:", os.environ.get("MKL_ENABLE_INSTRUCTIONS"), os.environ.get("ONEDNN_MAX_CPU_ISA"))
print("warnings:", sys.warnoptions)
"""


def make(*args, env=None):
    clean = {k: v for k, v in os.environ.items()
             if k not in {"OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "PTNOTES_NUM_THREADS", "MKL_ENABLE_INSTRUCTIONS",
                          "ONEDNN_MAX_CPU_ISA", "MAKEFLAGS", "MAKELEVEL"}}
    clean.update(env or {})
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=600)


def probe_notebook(folder):
    shutil.copy(ROOT / "chapters" / "ptnotes.py", folder / "ptnotes.py")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def stdout(path):
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")


def with_output(path, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    nb.cells[0].execution_count = 1
    nbformat.write(nb, path)


def test_make_test_compares_under_another_numerical_configuration(tmp_path):
    path = probe_notebook(tmp_path)
    recorded = make("run", f"NB={path}")
    assert recorded.returncode == 0, recorded.stderr
    recorded_out = stdout(path)
    assert "warnings: ['default']" in recorded_out and "mkl/onednn isa: None None" in recorded_out

    # make run 记录的输出在 make test 的配置下比对失败：两种配置确实不同
    compared = make("test-notebooks", f"NB={path}")
    assert compared.returncode != 0, compared.stdout[-2000:]

    # 存着测试配置应有输出的副本通过：3 个线程、ATen/MKL/oneDNN 都限于 AVX2、PYTHONWARNINGS=default 真的到了内核里
    with_output(path, "threads: 3\ncpu capability: AVX2\nmkl/onednn isa: AVX2 AVX2\nwarnings: ['default']\n")
    compared = make("test-notebooks", f"NB={path}")
    assert compared.returncode == 0, compared.stdout[-2000:]
    assert "PTNOTES_NUM_THREADS=3" in compared.stdout and "ATEN_CPU_CAPABILITY=avx2" in compared.stdout


def test_command_line_overrides_reach_the_kernel(tmp_path):
    path = probe_notebook(tmp_path)
    with_output(path, "threads: 1\ncpu capability: AVX2\nmkl/onednn isa: AVX2 AVX2\nwarnings: ['default']\n")
    compared = make("test-notebooks", f"NB={path}", env={"OMP_NUM_THREADS": "1"})
    assert compared.returncode == 0, compared.stdout[-2000:]
