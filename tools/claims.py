"""检查一章的结论是否“稳”：换几组随机种子和线程数重新运行笔记本，列出每一个失败的断言。

用法：.venv/bin/python tools/claims.py chapters/06_tensorboard.ipynb [--seeds 0,1,2] [--threads 1,2,3]
      （或 make claims NB=chapters/06_tensorboard.ipynb）

训练结果随 CPU 型号和线程数而变，所以正文的说法由隐藏单元（remove-cell）里的 assert 检查。
这些 assert 要在任何机器上都成立，而不只是在记录输出的那台机器上。本工具：

* 默认运行四种配置：(种子 0, 1 线程)、(种子 1, 2 线程, 基线 CPU 内核)、(种子 2, 3 线程)、
  (种子 3, 2 线程)；给了 --seeds 或 --threads 时运行它们的全部组合。
* “种子 k”的意思是：笔记本里每一次播种（torch.manual_seed、torch.Generator().manual_seed、
  random.seed、numpy.random.seed / default_rng，包括 ptnotes.setup() 里的）都加上 k。
  这通过在第一个单元之前插入一个（不保存的）单元实现，笔记本本身不用改。
* 线程数通过 PTNOTES_NUM_THREADS 传给 ptnotes.setup()；笔记本不会被保存，也不改动。
* 出错的单元照样往下运行（allow_errors），最后列出每种配置下出错的单元：
  单元序号、标签、第一行代码和错误信息。全部通过时退出码为 0，否则为 1。
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

SEED_SHIFT = '''
import random as _claims_random
import numpy as _claims_np
import torch as _claims_torch

_CLAIMS_OFFSET = {offset}

def _claims_shifted(seed):
    # 只移动整数种子；DataLoader 的工作进程用数组给 NumPy 播种，保持原样
    if isinstance(seed, (int, _claims_np.integer)) and not isinstance(seed, bool):
        return int(seed) + _CLAIMS_OFFSET
    return seed

def _claims_wrap(function):
    def wrapper(seed=None, *args, **kwargs):
        return function(_claims_shifted(seed), *args, **kwargs)
    return wrapper

_claims_random.seed = _claims_wrap(_claims_random.seed)
_claims_np.random.seed = _claims_wrap(_claims_np.random.seed)
_claims_np.random.default_rng = _claims_wrap(_claims_np.random.default_rng)
_claims_torch.manual_seed = _claims_wrap(_claims_torch.manual_seed)
_claims_torch.random.manual_seed = _claims_torch.manual_seed

class _ClaimsGenerator(_claims_torch.Generator):
    def manual_seed(self, seed):
        return super().manual_seed(_claims_shifted(seed))

_claims_torch.Generator = _ClaimsGenerator
'''

DEFAULT_CONFIGS = [(0, 1, None), (1, 2, "default"), (2, 3, None), (3, 2, None)]


def run_once(path: Path, seed: int, threads: int, capability: str | None, timeout: int):
    nb = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell(SEED_SHIFT.format(offset=seed))
    nb.cells.insert(0, probe)
    env_backup = dict(os.environ)
    os.environ["PTNOTES_NUM_THREADS"] = str(threads)
    os.environ["PYTHONWARNINGS"] = "default"
    os.environ["PTNOTES_COURSE_RUN"] = "1"
    os.environ.pop("OMP_NUM_THREADS", None)
    if capability:
        os.environ["ATEN_CPU_CAPABILITY"] = capability
    else:
        os.environ.pop("ATEN_CPU_CAPABILITY", None)
    try:
        client = NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=True,
                                record_timing=False,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    failures = []
    number = 0
    for cell in nb.cells[1:]:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        number += 1
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                tags = ",".join(cell.metadata.get("tags", [])) or "-"
                first = cell.source.strip().splitlines()[0][:70]
                message = f"{out.ename}: {out.evalue}".splitlines()[0][:160]
                failures.append((number, tags, first, message))
    return seconds, failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--seeds", help="comma-separated seed offsets, e.g. 0,1,2")
    parser.add_argument("--threads", help="comma-separated thread counts, e.g. 1,2,3")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.seeds or args.threads:
        seeds = [int(s) for s in (args.seeds or "0").split(",")]
        threads = [int(t) for t in (args.threads or "2").split(",")]
        configs = [(s, t, None) for s, t in itertools.product(seeds, threads)]
    else:
        configs = DEFAULT_CONFIGS
    failed_any = False
    print(f"{args.notebook}: {len(configs)} runs")
    for seed, threads, capability in configs:
        label = f"seed +{seed}, {threads} threads" + (f", ATEN_CPU_CAPABILITY={capability}" if capability else "")
        seconds, failures = run_once(args.notebook, seed, threads, capability, args.timeout)
        status = "ok" if not failures else f"{len(failures)} failing cell(s)"
        print(f"  [{label}] {seconds:.0f} s: {status}", flush=True)
        for number, tags, first, message in failures:
            failed_any = True
            print(f"      cell {number} [{tags}] {first}\n          -> {message}", flush=True)
    print("all claims held" if not failed_any else "SOME CLAIMS FAILED")
    return 1 if failed_any else 0


if __name__ == "__main__":
    sys.exit(main())
