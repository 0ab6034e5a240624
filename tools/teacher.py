"""教师页（appendix/teacher.md）里由数据生成的部分：一学期 16 周的安排（每周的页面、课堂和课后时间、要准备的）、
各章目标、每页测得的运行时间。

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


def gpu_pages(stem: str) -> list[str]:
    """一章里在 GPU 上记录的页（如 14a、14b）：课上展示网站上记录的结果，不在 CPU 上运行。"""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [e["file"].removeprefix("chapters/") for part in toc["parts"] for e in part["chapters"]
             if re.fullmatch(rf"chapters/{stem[:2]}[a-z]_\w+", e["file"])]
    return [p for p in pages if p not in section_pages(stem)]


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
            "pages": ([stem] if has_code else []) + sections, "gpu_pages": gpu_pages(stem)}


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


# 一学期 16 周（教师页「一学期的安排」）：哪一周讲哪几章、做哪个实验、哪几周复习和做大作业，是这里写定的；
# 每一周的页面、课堂和课后时间、运行时间、需要什么，都由各页笔记本和 run_times.json 算出来。
# 条目：'NN_name' 一章（章节页和它的各个小节页）；'NNx_name' 单独排的一个小节页（第 17 章「常见错误」的各节
# 排在讲到相关内容的那几周，当作复习）；'labN_name'/'capstone_name' 实验或大作业（chapters/ 里的一页）；
# FIXED 里的条目：期中、期末复习，大作业的制作和展示。
SEMESTER = [
    ["01_setup", "02_tensors"],
    ["03_autograd"],
    ["04_dataset_dataloader"],
    ["05_transforms", "06_tensorboard"],
    ["lab1_images", "07_nn_module"],
    ["08_layers"],
    ["09_init", "10_losses"],
    ["lab2_debug", "review", "17_pitfalls", "17a_shapes", "17b_autograd"],
    ["11_optim"],
    ["12_bn_and_gradients", "17c_modules"],
    ["13_train_cifar10", "lab3_tuning", "17d_train_eval", "17e_data_loading"],
    ["14_gpu", "17f_devices_dtypes"],
    ["15_save_load_finetune", "capstone_finetune"],
    ["16_inference", "17g_save_load"],
    ["project"],
    ["present", "final"],
]

# 时间的估计（分钟）。课堂：老师讲解正文（每分钟约 CLASS_CHARS 字）、演示每个代码单元（CELL_MINUTES，
# 加上它在 2 核 CPU 上实际的运行时间）；课后：学生复习正文（每分钟约 HOME_CHARS 字）、做每个练习（EXERCISE_MINUTES，
# 要写文字回答的再加 WRITTEN_MINUTES）、每章一份测验（QUIZ_MINUTES）。实验、复习和大作业的时间按下面的固定值。
CLASS_CHARS, CELL_MINUTES, HOME_CHARS = 200, 0.75, 400
EXERCISE_MINUTES, WRITTEN_MINUTES, QUIZ_MINUTES = 10, 5, 15
LAB_CLASS, LAB_TASK = 30, 20                   # 实验：课上讲任务、开个头；课后每个任务约 20 分钟
FIXED = {"review": ("期中复习：讲评测验和实验", 45, 60), "project": ("大作业：制作与答疑", 90, 240),
         "present": ("大作业：展示与互评", 120, 60), "final": ("期末复习", 60, 60)}
CAPSTONE_HOME = 120                           # 布置大作业那一周：收集图片、跑通参考流程


def prose_and_cells(nb) -> tuple[int, int, int, int]:
    """一页的（讲解的字数、演示的代码单元数、练习数、要写文字回答的练习数）。
    讲解 = 「练习」以前的文字（不算每页一样的「准备」一节、代码块和链接地址）；演示 = 其间看得见的代码单元。"""
    chars = cells = 0
    skip = done = False
    for c in nb.cells:
        tags = set(c.metadata.get("tags", []))
        if c.cell_type == "markdown":
            if re.search(r"^## 练习\s*$", c.source, re.MULTILINE):
                done = True
            if re.match(r"\s*## ", c.source):
                skip = c.source.lstrip().startswith("## 准备")
            if done or skip:
                continue
            text = re.sub(r"```.*?```", "", c.source, flags=re.DOTALL)
            text = re.sub(r"\{doc\}`[^`]*`", "链接", text)
            chars += len(re.sub(r"\s", "", text))
        elif not (done or skip or tags & {"remove-cell", "hide-cell", "remove-input"}) and c.source.strip():
            cells += 1
    if any(c.cell_type == "code" and student.ANSWER.match(c.source) for c in nb.cells):
        found = student.find_exercises(nb)
        exercises = len(found.numbers)
        written = sum(1 for text in student.statements(nb, found).values() if student.WRITTEN.search(text))
    else:
        exercises = written = 0
    return chars, cells, exercises, written


def round5(minutes: float) -> int:
    return max(5, int(5 * round(minutes / 5)))


NEEDS = [  # （代码里出现的名字，需要什么）：由各页的代码决定这一周要准备什么（表下有说明）
    (("cifar10",), "CIFAR-10"),
    (("hymenoptera",), "蚂蚁/蜜蜂"),
    (("lite0", "efficientnet"), "预训练权重"),
    (("SummaryWriter", "tensorboard"), "TensorBoard"),
]


def page_plan(stem: str, measured: dict) -> dict:
    """一页的课堂、课后分钟数，运行秒数和需要的东西。"""
    nb = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    chars, cells, exercises, written = prose_and_cells(nb)
    seconds = measured[stem]["seconds"] if stem in measured else 0.0
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    needs = [what for names, what in NEEDS if any(n in code for n in names)]
    title = next(c.source for c in nb.cells if c.cell_type == "markdown").lstrip().splitlines()[0].removeprefix("# ")
    lab = stem.startswith(("lab", "capstone"))
    if lab:
        class_min, home_min = LAB_CLASS, exercises * LAB_TASK + (CAPSTONE_HOME if stem.startswith("capstone") else 0)
    else:
        class_min = round5(chars / CLASS_CHARS + cells * CELL_MINUTES + seconds / 60)
        home_min = round5(chars / HOME_CHARS + exercises * EXERCISE_MINUTES + written * WRITTEN_MINUTES)
    return {"stem": stem, "title": title.strip(), "class": class_min, "home": home_min, "seconds": seconds,
            "needs": needs, "gpu": bool(nb.metadata.get("ptnotes", {}).get("gpu_page")), "lab": lab}


def quiz_exists(number: int) -> bool:
    return (ROOT / "quizzes" / f"{number:02d}.yml").is_file()


def chapter_pages(stem: str, info: dict) -> list[str]:
    """一章在课上要讲的全部页，按目录顺序：章节页、各小节页、在 GPU 上记录的页。"""
    pages = info[stem]["pages"] + info[stem]["gpu_pages"]
    return pages if pages and pages[0] == stem else [stem] + pages


def semester_rows(info: dict, measured: dict) -> list[dict]:
    """SEMESTER 的每一周：{'week', 'items': [(种类, 名字, [页])], 'class', 'home', 'needs', 'gpu', 'run'}。
    一章写成 'NN_name' 时，这一周讲它的全部页，除了 SEMESTER 里单独排到别的周的小节页（如第 17 章的各节
    排在讲到相关内容的那几周）。每一页不多不少排一次，一章的页按目录顺序。"""
    owner = {page: stem for stem in info for page in chapter_pages(stem, info)}
    named = [item for week in SEMESTER for item in week]
    singles = {item for item in named if item in owner and item not in info}
    chapters = [item for item in named if item in info]
    if sorted(chapters) != sorted(info):
        raise TeacherPageError(f"tools/teacher.py 的 SEMESTER 要不多不少地列出每一章：{chapters} 对 {list(info)}")
    weeks, placed = [], []
    for number, items in enumerate(SEMESTER, start=1):
        week = {"week": number, "items": [], "class": 0, "home": 0, "needs": [], "gpu": False, "run": 0.0}
        for item in items:
            if item in FIXED:
                label, class_min, home_min = FIXED[item]
                week["items"].append(("fixed", label, []))
                week["class"] += class_min
                week["home"] += home_min
                continue
            if item in info:
                stems = [p for p in chapter_pages(item, info) if p not in singles]
                week["items"].append(("chapter", item, [page_plan(p, measured) for p in stems]))
                if quiz_exists(info[item]["number"]):
                    week["home"] += QUIZ_MINUTES
            elif item in owner:
                stems = [item]
                week["items"].append(("page", item, [page_plan(item, measured)]))
            else:
                if not (ROOT / "chapters" / f"{item}.ipynb").is_file():
                    raise TeacherPageError(f"tools/teacher.py 的 SEMESTER 写了 {item}，但 chapters/{item}.ipynb 不存在")
                if item not in measured:
                    raise TeacherPageError(f"appendix/run_times.json 里没有 {item} 的运行时间：先运行 "
                                           f"make times NB=chapters/{item}.ipynb，再运行 make teacher")
                stems = [item]
                week["items"].append(("lab", item, [page_plan(item, measured)]))
            placed += stems
            for p in week["items"][-1][2]:
                week["class"] += p["class"]
                week["run"] += p["seconds"]
                week["home"] += p["home"]
                week["needs"] += [n for n in p["needs"] if n not in week["needs"]]
                week["gpu"] |= p["gpu"]
        weeks.append(week)
    expected = [page for stem in info for page in chapter_pages(stem, info)]
    course = [p for p in placed if p in owner]
    if sorted(course) != sorted(expected) or any(
            [p for p in course if owner[p] == stem] != chapter_pages(stem, info) for stem in info):
        raise TeacherPageError("tools/teacher.py 的 SEMESTER：每一页要排一次，一章的页按目录顺序")
    return weeks


def clock(minutes: int) -> str:
    """表里的时长：时:分（2:55），窄的一栏放得下。"""
    return f"{minutes // 60}:{minutes % 60:02d}"


def hours(minutes: int) -> str:
    return f"{minutes // 60} 小时 {minutes % 60} 分" if minutes % 60 and minutes >= 60 else (
        f"{minutes // 60} 小时" if minutes >= 60 else f"{minutes} 分钟")


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
    plan = semester_rows(info, measured)
    week_of = {item: w["week"] for w in plan for kind, item, _ in w["items"] if kind == "chapter"}
    semester, weeks_text = semester_blocks(plan, info)
    dates = sorted({measured[p]["date"] for p in pages})
    configs = sorted({measured[p].get("numerics", "") for p in pages})
    cpus = sorted({str(measured[p]["cpus"]) for p in pages if "cpus" in measured[p]})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} 至 {dates[-1]}"
    weeks_text += (
        f"\n运行时间是 {when} 用 `make times` 测的：nbval 在默认设置下（PyTorch 默认的线程数和内核，和学生自己运行时一样）"
        "从头运行每页、逐个比对输出所用的时间"
        + (f"（{'、'.join(cpus)} 核 CPU" if cpus else "（")
        + f"，数值配置 `{'`；`'.join(configs)}`）。\n")
    captions = dict((stem, caption) for caption, stem in chapters)
    order = [stem for _, stem in chapters]

    goals = []
    for stem in order:
        ch = info[stem]
        goals.append(f"### {ch['title']}\n")
        refs = prerequisites(stem, info, order)
        prereq = f"先修第 {'、'.join(link(r, str(info[r]['number'])) for r in refs)} 章" if refs else "没有先修"
        goals.append(f"第 {week_of[stem]} 周（{captions[stem]}），{prereq}，{link(stem, '打开本章')}，"
                     f"运行约 {duration(times[stem]['seconds'])}。\n")
        goals.extend(f"- {g}" for g in ch["goals"])
        goals.append(f"\n```{{verified-line}} chapters/{stem}\n```\n")
    return {"semester": semester, "weeks": weeks_text, "goals": "\n".join(goals), "example": example(order[0])}


def item_label(kind: str, item: str, pages: list[dict], info: dict) -> str:
    if kind == "chapter":
        return f"第 {info[item]['number']} 章 {link(item, info[item]['title'].split(' ', 1)[1])}"
    if kind in ("lab", "page"):
        return link(item, pages[0]["title"])
    return item


def semester_blocks(plan: list[dict], info: dict) -> tuple[str, str]:
    """（一眼看完的 16 周总表，逐周的页面清单）。"""
    rows = ["| 周 | 内容 | 课堂（时:分） | 课后（时:分） | 要准备的 |", "| --- | --- | --- | --- | --- |"]
    detail = []
    for w in plan:
        labels = [item_label(kind, item, pages, info) for kind, item, pages in w["items"]]
        needs = "、".join(w["needs"] + (["GPU 有更好（不必需）"] if w["gpu"] else [])) or "—"
        rows.append(f"| {w['week']} | {'；'.join(labels)} | {clock(w['class'])} | {clock(w['home'])} | {needs} |")
        detail.append(f"**第 {w['week']} 周**（课堂约 {hours(w['class'])}，课后约 {hours(w['home'])}"
                      + (f"，全部代码在 2 核 CPU 上运行约 {duration(w['run'])}" if w["run"] else "") + "）\n")
        for kind, item, pages in w["items"]:
            if kind == "fixed":
                detail.append(f"- {item}")
                continue
            def line(p):
                note = "，在 GPU 上记录，课上展示网站上的结果" if p["gpu"] else (
                    f"，运行 {duration(p['seconds'])}" if p["seconds"] >= 1 else "")
                return f"{link(p['stem'], p['title'])}：课堂 {p['class']} 分钟，课后 {p['home']} 分钟{note}"
            if kind != "chapter":
                detail.append(f"- {line(pages[0])}" + ("（复习：这一节的报错在前面几章讲过）" if kind == "page" else ""))
                continue
            head = item_label(kind, item, pages, info)
            if quiz_exists(info[item]["number"]):
                head += f"（课后另有本章测验，约 {QUIZ_MINUTES} 分钟）"
            detail.append(f"- {head}")
            detail.extend(f"  - {line(p)}" for p in pages)
        detail.append("")
    total_class = sum(w["class"] for w in plan)
    total_home = sum(w["home"] for w in plan)
    rows.append(f"| 共 {len(plan)} 周 | {sum(1 for w in plan for k, *_ in w['items'] if k == 'chapter')} 章、"
                f"{sum(1 for w in plan for k, i, _ in w['items'] if k == 'lab' and i.startswith('lab'))} 个实验、1 个大作业 | "
                f"{clock(total_class)} | {clock(total_home)} | |")
    def weeks_of(test):
        return "、".join(str(w["week"]) for w in plan if any(test(kind, item) for kind, item, _ in w["items"]))
    rows.append(f"\n实验在第 {weeks_of(lambda k, i: k == 'lab' and i.startswith('lab'))} 周布置，下一周交；"
                f"大作业在第 {weeks_of(lambda k, i: k == 'lab' and i.startswith('capstone'))} 周布置，"
                f"第 {weeks_of(lambda k, i: i == FIXED['project'][0])} 周制作，第 {weeks_of(lambda k, i: i == FIXED['present'][0])} 周展示；"
                f"期中复习在第 {weeks_of(lambda k, i: i == FIXED['review'][0])} 周。")
    busiest = sorted(plan, key=lambda w: -w["class"])[:3]
    rows.append("课堂时间最多的三周：" + "、".join(f"第 {w['week']} 周（{hours(w['class'])}）" for w in busiest)
                + "；课后时间最多的三周：" + "、".join(f"第 {w['week']} 周（{hours(w['home'])}）"
                                               for w in sorted(plan, key=lambda w: -w["home"])[:3]) + "。")
    return "\n".join(rows) + "\n", "\n".join(detail)


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
