"""从头到尾运行笔记本并把输出存回文件（作者在提交前用）。

用法：.venv/bin/python tools/run_notebook.py chapters/02_tensors.ipynb [更多笔记本或目录]
（一般用 make run NB=...：它先去掉测试用的数值配置变量，并设 PYTHONWARNINGS=default。）

内核的工作目录是笔记本所在目录（与 Jupyter、nbval 相同），内核就是本虚拟环境的 Python。
不记录执行时间戳，执行计数从 1 连续编号，这样重新运行后的差异只有真正变了的输出。
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = KERNELSPEC
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=900,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        paths = sorted(Path(arg).glob("*.ipynb")) if Path(arg).is_dir() else [Path(arg)]
        for path in paths:
            print(f"{path}: {run(path):.1f} s", flush=True)
