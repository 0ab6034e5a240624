"""把 `make gpu` 的记录（appendix/gpu_runs.json 里 mode 为 cuda 的）写成一段 Markdown：每一页最近一次在 GPU 上的结果，
放进第 14 章和教师页里两处标记之间：

    <!-- BEGIN generated: gpu-runs（tools/gpu_report.py 生成，make gpu 更新，不要手改） -->
    ...
    <!-- END generated: gpu-runs -->

用法：python3 tools/gpu_report.py [--check]
      --check：不写文件，有一处不是最新的就以 1 退出（tests/test_gpu.py 做同样的检查）。
只用标准库（GPU 机器上也能运行）。
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "appendix" / "gpu_runs.json"
TARGETS = [ROOT / "chapters" / "14_gpu.ipynb", ROOT / "appendix" / "teacher.md"]
BEGIN = "<!-- BEGIN generated: gpu-runs（tools/gpu_report.py 生成，make gpu 更新，不要手改） -->"
END = "<!-- END generated: gpu-runs -->"
BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)


def cuda_records() -> list[dict]:
    if not RECORDS.is_file():
        return []
    return [r for r in json.loads(RECORDS.read_text(encoding="utf-8")) if r.get("mode") == "cuda"]


def latest_per_page(records: list[dict]) -> dict[str, tuple[int, dict]]:
    """每一页最近一次在 GPU 上运行的结果：{路径: (第几次运行，从 1 数, 结果)}。"""
    found: dict[str, tuple[int, dict]] = {}
    for number, record in enumerate(records, 1):
        for path, result in record["pages"].items():
            found[path] = (number, result)
    return found


def page_title(path: str) -> str:
    """页面的标题（笔记本第一个 markdown 单元的第一行，去掉 #）。"""
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    source = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
    return source.splitlines()[0].lstrip("# ").strip()


def toc_order(paths) -> list[str]:
    text = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    order = [f"{name}.ipynb" for name in re.findall(r"file:\s*(chapters/\S+)", text)]
    return [p for p in order if p in paths] + sorted(p for p in paths if p not in order)


def render(records: list[dict], link_prefix: str) -> str:
    if not records:
        return "还没有在 GPU 上运行过 `make gpu`。"
    per_page = latest_per_page(records)
    last = records[-1]
    ok = sum(result["ok"] for _, result in per_page.values())
    numbers = sorted({number for number, _ in per_page.values()})
    lines = [
        f"一共运行过 {len(records)} 次，最近一次在 {last['date']}：{last['device']}，torch {last['torch']}，CUDA {last['cuda']}，"
        f"Python {last['python']}；{last['cpus']} 个 CPU 核，GPU 页单独运行，其余各页每次并行 {last['jobs']} 页、"
        f"每页 {last['threads_per_page']} 个线程。下表是每一页最近一次的结果（第 {'、'.join(map(str, numbers))} 次运行）："
        f"{len(per_page)} 页中 {ok} 页从头到尾运行通过，包括隐藏的检查。",
        "",
        "| 页面 | 结果 | 秒数 | 第几次运行 |",
        "| --- | --- | ---: | ---: |",
    ]
    for path in toc_order(per_page):
        number, result = per_page[path]
        status = "通过" if result["ok"] else f"失败：{result.get('error') or ''}".replace("|", "\\|")
        lines.append(f"| {{doc}}`{page_title(path)} <{link_prefix}{Path(path).stem}>` | {status} | {result['seconds']:.0f} | {number} |")
    with_runs = [(number, r) for number, r in enumerate(records, 1) if r.get("cifar10_fast", {}).get("runs")]
    if with_runs:
        number, record = with_runs[-1]
        runs = record["cifar10_fast"]["runs"]
        accs = [r["test_acc"] for r in runs]
        secs = [r["train_seconds"] for r in runs]
        name = record["cifar10_fast"].get("config", {}).get("name", "")
        lines += ["", f"{{doc}}`{link_prefix}14b_cifar10_fast` 的 CIFAR-10 配方（第 {number} 次运行，选定的配置是 {name}）："
                      f"{len(runs)} 次训练，平均测试准确率 {100 * sum(accs) / len(accs):.2f} %（{100 * min(accs):.2f}–{100 * max(accs):.2f} %），"
                      f"每次训练 {min(secs):.2f}–{max(secs):.2f} 秒。"]
    return "\n".join(lines)


def block(records, link_prefix: str) -> str:
    return f"{BEGIN}\n{render(records, link_prefix)}\n{END}"


def update(path: Path, record, check: bool) -> bool:
    """返回这个文件是否已经是最新的。"""
    prefix = "" if path.suffix == ".ipynb" else "../chapters/"
    new_block = block(record, prefix)
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "markdown" and BEGIN in source:
                new = BLOCK.sub(lambda _: new_block, source)
                if new == source:
                    return True
                if not check:
                    lines = new.splitlines(keepends=True)
                    cell["source"] = lines
                    path.write_text(json.dumps(nb, sort_keys=True, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                return False
        raise SystemExit(f"{path.relative_to(ROOT)}：找不到 {BEGIN}")
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text:
        raise SystemExit(f"{path.relative_to(ROOT)}：找不到 {BEGIN}")
    new = BLOCK.sub(lambda _: new_block, text)
    if new == text:
        return True
    if not check:
        path.write_text(new, encoding="utf-8")
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="write the latest make gpu record into chapter 14 and the teacher's page")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    records = cuda_records()
    stale = [p for p in TARGETS if not update(p, records, args.check)]
    if stale and args.check:
        print("不是最新的（运行 python3 tools/gpu_report.py）：" + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    for p in stale:
        print(f"updated {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
