"""教师页（appendix/teacher.md）里由数据生成的部分：课程安排表、各章目标、每章测得的运行时间。

用法：.venv/bin/python tools/teacher.py [--times _build/nbval_seconds.json] [--check]
      （一般用 make teacher：先把最近一次 make times 测得的秒数抄进 appendix/run_times.json，再重写教师页）

* 教师页里 `% BEGIN generated: NAME` 与 `% END generated: NAME` 之间的内容由本工具生成，其余是手写的。
* 生成的内容只来自：`_toc.yml`（有哪些章、属于哪个部分、顺序）、各章笔记本（标题、`## 本章目标`、
  正文里指向前面各章的 {doc} 链接 = 先修；第一章的练习 1 在学生版里的样子，由 tools/student.py 生成）
  和 `appendix/run_times.json`（nbval 测得的每章秒数）。
* `--times FILE`：把 FILE（conftest.py 在每次 nbval 运行后写的 _build/nbval_seconds.json）里通过了的
  笔记本的秒数并进 appendix/run_times.json。
* `--check`：不写文件，生成的部分不是最新时退出码为 1（tests/test_teacher.py 做同样的检查）。
* 每章的「最后验证」一行不在这里生成：页面上写 ```` ```{verified-line} chapters/NN_name ```` ````，
  构建时由 _ext/verified_line.py 从笔记本的元数据里读出来。
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import student  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "appendix" / "teacher.md"
TIMES = ROOT / "appendix" / "run_times.json"
BLOCK = re.compile(r"(% BEGIN generated: (\w+)[^\n]*\n)(.*?)(% END generated: \2\n)", re.DOTALL)
DOC_LINK = re.compile(r"\{doc\}`(?:[^`<]*<)?(?:\.\./chapters/)?(\d\d[a-z]?_\w+)>?`")
CHAPTERS_PER_WEEK = 2


class TeacherPageError(RuntimeError):
    """生成教师页需要的数据缺失或不一致（信息里写明怎么修）。"""


def toc_chapters() -> list[tuple[str, str]]:
    """[(部分标题, 'NN_name')]，按目录顺序。只有各章本身；一章的小节页（如 14a_...）不单独占一行，
    在 GPU 上记录的两页由本页「在 GPU 上」一节的运行记录（tools/gpu_report.py）列出。"""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [(part["caption"], e["file"].removeprefix("chapters/"))
            for part in toc["parts"] for e in part["chapters"]
            if re.fullmatch(r"chapters/\d\d_\w+", e["file"])]


def section_pages(stem: str) -> list[str]:
    """一章的小节页（目录里 'NNx_name'，按顺序），不含在 GPU 上记录的页（它们的运行时间在 GPU 上测）。"""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [e["file"].removeprefix("chapters/") for part in toc["parts"] for e in part["chapters"]
             if re.fullmatch(rf"chapters/{stem[:2]}[a-z]_\w+", e["file"])]
    return [p for p in pages if not nbformat.read(ROOT / "chapters" / f"{p}.ipynb", as_version=4)
            .metadata.get("ptnotes", {}).get("gpu_page")]


def chapter_info(stem: str) -> dict:
    nb = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    sections = section_pages(stem)
    everything = "\n".join([markdown] + [c.source for p in sections
                                        for c in nbformat.read(ROOT / "chapters" / f"{p}.ipynb", as_version=4).cells
                                        if c.cell_type == "markdown"])
    title = markdown.lstrip().splitlines()[0].removeprefix("# ").strip()
    goals_text = re.split(r"^## 本章目标\s*$", markdown, maxsplit=1, flags=re.MULTILINE)
    if len(goals_text) != 2:
        raise TeacherPageError(f"chapters/{stem}.ipynb: 没有 `## 本章目标`")
    goals, current = [], None
    for line in re.split(r"^#", goals_text[1], maxsplit=1, flags=re.MULTILINE)[0].splitlines():
        if line.startswith("- "):
            current = line[2:].strip()
            goals.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            goals[-1] += " " + line.strip()          # 一条目标折成了几行
    if not goals:
        raise TeacherPageError(f"chapters/{stem}.ipynb: `## 本章目标` 下面没有 `- ` 开头的条目")
    number = int(stem[:2])
    refs = sorted({int(m[:2]) for m in DOC_LINK.findall(everything) if int(m[:2]) < number})   # 章号；小节页的链接算它那一章
    has_code = any(c.cell_type == "code" for c in nb.cells)      # 分成小节的一章，章节页只有文字，不运行
    return {"stem": stem, "number": number, "title": title, "goals": goals, "refs": refs,
            "pages": ([stem] if has_code else []) + sections}


def prerequisites(stem: str, info: dict, order: list[str]) -> list[str]:
    """直接先修：正文链接到的前面各章，去掉“先修的先修”；一章都没链接时是目录里的上一章。"""
    def direct(s):
        refs = [r for r in info[s]["refs"] if r in info]
        if not refs and order.index(s) > 0:
            refs = [order[order.index(s) - 1]]
        return refs

    def closure(s, seen=None):
        seen = set() if seen is None else seen
        for r in direct(s):
            if r not in seen:
                seen.add(r)
                closure(r, seen)
        return seen

    refs = direct(stem)
    return [r for r in refs if not any(r in closure(o) for o in refs if o != r)]


def weeks(chapters: list[tuple[str, str]]) -> list[tuple[int, str, list[str]]]:
    """按目录顺序每周两章，一周不跨两个部分：[(周, 部分, [章])]。"""
    result = []
    for caption, stem in chapters:
        if result and result[-1][1] == caption and len(result[-1][2]) < CHAPTERS_PER_WEEK:
            result[-1][2].append(stem)
        else:
            result.append((len(result) + 1, caption, [stem]))
    return result


def load_times() -> dict:
    if not TIMES.is_file():
        raise TeacherPageError(f"没有 {TIMES.relative_to(ROOT)}：先运行 make times，再运行 make teacher")
    return json.loads(TIMES.read_text(encoding="utf-8"))


# 学生自己运行时的默认数值设置：这些环境变量都没有设（PYTHONWARNINGS 不影响速度）。make times 就是这样运行的；
# make test 用 3 个线程和 AVX2 内核比对，训练较重的章节慢得多，那里的秒数不代表课上的运行时间。
SPEED_VARS = ("PTNOTES_NUM_THREADS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
              "ONEDNN_MAX_CPU_ISA")


def default_settings(numerics: str) -> bool:
    """conftest.py 记下的数值配置（"NAME=value, ..."）是不是学生自己运行时的默认设置。"""
    values = dict(item.split("=", 1) for item in numerics.split(", ") if "=" in item)
    return all(values.get(name, "(unset)") == "(unset)" for name in SPEED_VARS)


def merge_times(measured: Path) -> list[str]:
    """把 nbval 在默认设置下（make times）测得的、通过了的每章秒数并进 appendix/run_times.json；返回更新了的章。"""
    if not measured.is_file():
        raise TeacherPageError(f"没有 {measured}：它由 nbval 运行后写出，先运行 make times")
    record = json.loads(measured.read_text(encoding="utf-8"))
    times = json.loads(TIMES.read_text(encoding="utf-8")) if TIMES.is_file() else {}
    chapters = times.setdefault("chapters", {})
    updated, skipped = [], []
    for path, entry in record.get("notebooks", {}).items():
        stem = Path(path).stem
        if not entry.get("passed") or not path.startswith("chapters/"):
            continue
        if not default_settings(entry.get("numerics", "")):
            skipped.append(stem)
            continue
        new = {k: entry[k] for k in ("seconds", "date", "numerics", "cpus") if k in entry}
        if chapters.get(stem) != new:
            chapters[stem] = new
            updated.append(stem)
    if skipped:
        print(f"{measured}: 这些章的秒数不是在默认设置下测的（make test 的配置），没有采用：{', '.join(skipped)}；"
              "要更新它们，运行 make times", file=sys.stderr)
    times["chapters"] = dict(sorted(chapters.items()))
    TIMES.write_text(json.dumps(times, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return updated


def duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} 秒" if seconds < 60 else f"{seconds // 60} 分 {seconds % 60:02d} 秒"


def link(stem: str, text: str | None = None) -> str:
    return f"{{doc}}`{text} <../chapters/{stem}>`" if text else f"{{doc}}`../chapters/{stem}`"


def generated_blocks() -> dict[str, str]:
    chapters = toc_chapters()
    info = {stem: chapter_info(stem) for _, stem in chapters}
    by_number = {ch["number"]: stem for stem, ch in info.items()}
    for ch in info.values():
        ch["refs"] = [by_number[n] for n in ch["refs"] if n in by_number]
    measured = load_times().get("chapters", {})
    missing = [page for _, stem in chapters for page in info[stem]["pages"] if page not in measured]
    if missing:
        raise TeacherPageError(f"appendix/run_times.json 里没有这些章的运行时间：{', '.join(missing)}。"
                               f"先运行 make times（nbval 在默认设置下测出它们），再运行 make teacher")
    # 一章的运行时间 = 章节页加上它的各个小节页（每一页单独运行时的秒数之和）
    times = {stem: {"seconds": sum(measured[p]["seconds"] for p in info[stem]["pages"]),
                    **{k: v for k, v in measured[info[stem]["pages"][0]].items() if k != "seconds"}}
             for _, stem in chapters}
    pages = [p for _, stem in chapters for p in info[stem]["pages"]]
    order = [stem for _, stem in chapters]
    plan = weeks(chapters)
    week_of = {stem: week for week, _, stems in plan for stem in stems}

    rows = ["| 周 | 章 | 先修 | 运行时间 |", "| --- | --- | --- | --- |"]
    for week, _, stems in plan:
        for stem in stems:
            refs = prerequisites(stem, info, order)
            prereq = "、".join(link(r, str(info[r]["number"])) for r in refs) if refs else "无"
            if refs:
                prereq = f"第 {prereq} 章"
            rows.append(f"| {week} | {link(stem)} | {prereq} | {duration(times[stem]['seconds'])} |")
    total = sum(times[stem]["seconds"] for stem in order)
    rows.append(f"| 共 {len(plan)} 周 | {len(order)} 章 | | 合计 {duration(total)} |")
    dates = sorted({measured[p]["date"] for p in pages})
    configs = sorted({measured[p].get("numerics", "") for p in pages})
    cpus = sorted({str(measured[p]["cpus"]) for p in pages if "cpus" in measured[p]})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} 至 {dates[-1]}"
    syllabus = "\n".join(rows) + (
        f"\n\n运行时间是 {when} 用 `make times` 测的：nbval 在默认设置下（PyTorch 默认的线程数和内核，和学生自己运行时一样）"
        "从头运行每章、逐个比对输出所用的时间"
        + (f"（{'、'.join(cpus)} 核 CPU" if cpus else "（")
        + f"，数值配置 `{'`；`'.join(configs)}`）。\n")

    goals = []
    for week, caption, stems in plan:
        for stem in stems:
            ch = info[stem]
            goals.append(f"### {ch['title']}\n")
            goals.append(f"第 {week} 周（{caption}），{link(stem, '打开本章')}，运行约 {duration(times[stem]['seconds'])}。\n")
            goals.extend(f"- {g}" for g in ch["goals"])
            goals.append(f"\n```{{verified-line}} chapters/{stem}\n```\n")
    return {"syllabus": syllabus, "goals": "\n".join(goals), "example": example(order[0])}


def example(stem: str) -> str:
    """学生版里一章练习 1 的答案单元和自检单元（与 make student 写出的完全相同）。"""
    copy = student.student_notebook(nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4), stem)
    cells = [c for c in copy.cells if c.metadata.get("ptnotes_student", {}).get("exercise") == 1
             and c.metadata["ptnotes_student"]["part"] == 1]
    return "\n".join(f"```python\n{c.source.strip()}\n```\n" for c in cells)


def render(page: str) -> str:
    """把页面里每个生成块换成最新内容。"""
    blocks = generated_blocks()
    found = {m.group(2) for m in BLOCK.finditer(page)}
    if found != set(blocks):
        raise TeacherPageError(f"{PAGE.relative_to(ROOT)} 里的生成块是 {sorted(found)}，应为 {sorted(blocks)}")
    return BLOCK.sub(lambda m: m.group(1) + blocks[m.group(2)].rstrip("\n") + "\n" + m.group(4), page)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=Path, help="先把这个文件（_build/nbval_seconds.json）里的秒数并进 run_times.json")
    parser.add_argument("--check", action="store_true", help="只检查，不写文件")
    args = parser.parse_args(argv)
    try:
        if args.times and not args.check:
            updated = merge_times(args.times)
            print(f"{TIMES.relative_to(ROOT)}: 更新了 {len(updated)} 章的运行时间" + (f"（{', '.join(updated)}）" if updated else ""))
        page = PAGE.read_text(encoding="utf-8")
        new = render(page)
    except TeacherPageError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 1
    if args.check:
        if new != page:
            print(f"{PAGE.relative_to(ROOT)} 的生成部分不是最新的：运行 make teacher", file=sys.stderr)
            return 1
        print(f"{PAGE.relative_to(ROOT)} 是最新的")
        return 0
    if new != page:
        PAGE.write_text(new, encoding="utf-8")
        print(f"{PAGE.relative_to(ROOT)}: 已更新")
    else:
        print(f"{PAGE.relative_to(ROOT)}: 本来就是最新的")
    return 0


if __name__ == "__main__":
    sys.exit(main())
