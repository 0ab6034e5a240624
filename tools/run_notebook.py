"""从头到尾运行笔记本并把输出存回文件（作者在提交前用）。

用法：.venv/bin/python tools/run_notebook.py chapters/02_tensors.ipynb [更多笔记本或目录]
（一般用 make run NB=...：它先去掉测试用的数值配置变量，并设 PYTHONWARNINGS=default。）

内核的工作目录是笔记本所在目录（与 Jupyter、nbval 相同），内核就是本虚拟环境的 Python。
不记录执行时间戳，执行计数从 1 连续编号，这样重新运行后的差异只有真正变了的输出。

运行结束时，在同一个内核里再问一次运行环境，记进笔记本元数据 `ptnotes_verified`：日期、Python、
torch、torchvision 的版本和数值配置（线程数、CPU 内核指令集、相关环境变量、有没有 GPU），以及全部输出的
sha256。网站上每章的「最后验证」一行就读它（_ext/verified_line.py）；之后输出被改过（手工编辑、在 Jupyter 里
重新运行了几个单元再保存）而没有用本工具重新运行时，sha256 对不上，构建会失败。只改 markdown、元数据或不改变
输出的代码（例如 tools/bootstrap.py 更新引导代码）不影响它；改了代码本来就要 make run（CONTRIBUTING.md）。
"""

import hashlib
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
METADATA_KEY = "ptnotes_verified"

# 在笔记本的内核里运行（所以版本和线程数就是产生输出的那个进程的），结果打印成一行 JSON
PROBE = r'''
def _ptnotes_probe():
    import datetime, importlib.metadata, json, os, platform
    import torch
    env = {n: os.environ[n] for n in ("PTNOTES_NUM_THREADS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY",
                                      "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA") if n in os.environ}
    return json.dumps({
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": importlib.metadata.version("torchvision"),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "env": env,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    })
print(_ptnotes_probe())
'''


def content_sha256(nb) -> str:
    """全部代码单元的输出（按顺序）的指纹：输出变了它就变；源码、markdown 和元数据不参与。"""
    cells = [c.get("outputs", []) for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256(json.dumps(cells, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
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
    probe = nb.cells.pop()
    text = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream" and o.name == "stdout")
    verified = json.loads(text)
    verified["sha256"] = content_sha256(nb)
    nb.metadata[METADATA_KEY] = verified
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        paths = sorted(Path(arg).glob("*.ipynb")) if Path(arg).is_dir() else [Path(arg)]
        for path in paths:
            print(f"{path}: {run(path):.1f} s", flush=True)
