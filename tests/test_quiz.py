"""章末测验（quizzes/NN.yml，tools/quiz.py）：每一章都有一份、格式和规则都对、预测题的答案来自运行代码；
网站上的测验页在目录里各章的最后；学生版测验笔记本用学生版的自检工具，make grade 能给它评分。

在浏览器里点选项的检查见 tests/test_quiz_browser.py。
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time

import nbformat
import pytest
import yaml

from conftest import ROOT, toc_entries

sys.path.insert(0, str(ROOT / "tools"))
import quiz  # noqa: E402
import student  # noqa: E402

CHAPTERS = list(quiz.ALL_CHAPTERS)          # 17 章，每章一份
ERRATA = quiz.errata_chapters()


def _load(chapter: int) -> dict:
    path = quiz.path_of(chapter)
    if not path.is_file():
        pytest.fail(f"quizzes/{chapter:02d}.yml 还没有写：每一章都要有一份测验", pytrace=False)
    return quiz.load(chapter)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda n: f"{n:02d}")
def test_quiz_follows_the_format_and_the_rules(chapter):
    """8–10 道题，至少 3 道 predict、1 道 bug，有勘误框的章至少 1 道 note；每题的键、选项（3–4 个、互不相同）、
    答案下标、see 指向的页面都对；正确答案的位置有变化。"""
    data = _load(chapter)
    found = quiz.problems(data, chapter, ERRATA)
    assert not found, "\n".join(found)


def test_errata_list_is_read_from_the_appendix():
    """哪些章有勘误框，来自 appendix/errata.md（tools/errata.py 由各章的勘误框生成），不是写死的。"""
    assert {1, 2, 3, 4, 5} <= ERRATA
    assert all(1 <= n <= 17 for n in ERRATA)


def test_the_rules_catch_a_broken_quiz():
    """检查本身管用：题数、题型、重复选项、越界的答案、不存在的页面、没有 note 都会被指出。"""
    good = {"kind": "predict", "prompt": "打印什么？", "code": "print(1)", "choices": ["1", "2", "3"], "answer": 0,
            "explain": "就是 1。", "see": "02a_create"}
    bad = [dict(good, choices=["1", "1", "2"]), dict(good, answer=3), dict(good, see="99z_nothing"),
           dict(good, kind="essay"), dict(good, prompt="**粗体**？")]
    found = quiz.problems({"chapter": 2, "questions": bad}, 2, {2})
    text = "\n".join(found)
    for needle in ("8–10 道题", "至少 1 道 bug", "至少要有 1 道 note", "重复", "answer 应是",
                   "不存在", "kind", "只能用反引号"):
        assert needle in text, (needle, text)
    assert quiz.problems({"chapter": 3, "questions": [good] * 8}, 2, set())[0].startswith("quizzes/02.yml：chapter")


@pytest.fixture(scope="module")
def runs():
    """全部测验里要运行的代码（predict 题和带 raises 的题）在一个运行器进程里各自独立地运行一次（tools/quiz.py：
    先导入 torch，每段代码在 fork 出来的子进程里、全新的命名空间里运行）。"""
    jobs = [(n, i, q) for n in quiz.existing() for i, q in enumerate(quiz.load(n)["questions"], 1)
            if isinstance(q, dict) and isinstance(q.get("code"), str) and (q.get("kind") == "predict" or "raises" in q)]
    start = time.perf_counter()
    results = quiz.run_snippets([q["code"] for _, _, q in jobs] + ISOLATION)
    seconds = time.perf_counter() - start
    print(f"\n运行了 {len(jobs)} 段测验代码（和 {len(ISOLATION)} 段检查运行器本身的代码），用时 {seconds:.1f} 秒")
    return {(n, i): (q, r) for (n, i, q), r in zip(jobs, results)}, results[len(jobs):]


# 检查运行器本身：与测验代码在同一次运行里，排在最后
ISOLATION = [
    "import torch\nsecret = 1\ntorch.set_default_dtype(torch.float64)\nprint(torch.ones(1).dtype)",
    "import torch\nprint('secret' in globals(), torch.ones(1).dtype)",
    "raise KeyError('x')",
    "print('before')\nraise ValueError",
]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda n: f"{n:02d}")
def test_predict_answers_come_from_running_the_code(runs, chapter):
    """predict 题：代码的 stdout（去掉末尾空白）等于标出的选项，且不等于其他任何选项；预期报错的选项写成
    「报错：异常类名」，代码抛出这个异常（之前什么也没打印）。带 raises 的题，代码抛出的正是这个异常。"""
    _load(chapter)
    results, _ = runs
    problems = []
    for (n, i), (q, result) in sorted(results.items()):
        if n != chapter:
            continue
        here = f"quizzes/{n:02d}.yml 第 {i} 题"
        shown = f"stdout={result['stdout'].rstrip()!r}，异常={result['error']}"
        if "raises" in q and result["error"] != q["raises"]:
            problems.append(f"{here}：应当抛出 {q['raises']}，实际 {shown}")
        if q["kind"] == "predict" and isinstance(q.get("answer"), int) and 0 <= q["answer"] < len(q["choices"]):
            if not quiz.matches(result, q["choices"][q["answer"]]):
                problems.append(f"{here}：标出的答案是 {q['choices'][q['answer']]!r}，运行结果是 {shown}")
            others = [c for k, c in enumerate(q["choices"]) if k != q["answer"] and quiz.matches(result, c)]
            if others:
                problems.append(f"{here}：运行结果也等于别的选项 {others}")
    assert not problems, "\n".join(problems)


def test_snippets_do_not_share_state(runs):
    """每段代码看不到别的代码留下的变量和全局设置（torch.set_default_dtype 之类），并且报错的类名被认出来。"""
    _, results = runs
    assert [r["stdout"].rstrip() for r in results[:2]] == ["torch.float64", "False torch.float32"]
    assert quiz.matches(results[2], "报错：KeyError") and not quiz.matches(results[2], "报错：ValueError")
    assert not quiz.matches(results[3], "报错：ValueError"), "报错之前打印了东西：不算「报错」这个选项"


# ---------------------------------------------------------------- 网站上的测验页与目录

@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda n: f"{n:02d}")
def test_quiz_page_renders_its_yaml(chapter):
    """quizzes/NN.md：标题「# 第 N 章测验」，一句用法，一个渲染 NN.yml 的 quiz 指令。"""
    text = (ROOT / "quizzes" / f"{chapter:02d}.md").read_text(encoding="utf-8")
    assert text.startswith(f"# 第 {chapter} 章测验\n")
    assert re.search(rf"^```\{{quiz\}} {chapter:02d}\.yml\n```$", text, re.M)


def test_each_quiz_is_the_last_page_of_its_chapter_in_the_toc():
    """目录里第 N 章的测验紧跟在这一章最后一页的后面（第 14 章最后是在 GPU 上记录的 14a、14b）。"""
    entries = toc_entries()
    for chapter in CHAPTERS:
        assert f"quizzes/{chapter:02d}" in entries, f"_toc.yml 里没有 quizzes/{chapter:02d}"
        at = entries.index(f"quizzes/{chapter:02d}")
        pages = [i for i, e in enumerate(entries) if re.match(rf"chapters/{chapter:02d}[a-z]?_", e)]
        assert at == max(pages) + 1, f"quizzes/{chapter:02d} 应当紧跟在 {entries[max(pages)]} 后面"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part_of = {e["file"]: p["caption"] for p in toc["parts"] for e in p["chapters"]}
    for chapter in CHAPTERS:
        first = next(e for e in entries if re.match(rf"chapters/{chapter:02d}[a-z]?_", e))
        assert part_of[f"quizzes/{chapter:02d}"] == part_of[first], "测验和它那一章在同一部分里"


def test_the_extension_and_script_are_registered():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["local_extensions"].get("quiz") == "_ext"
    script = (ROOT / "_static" / "quiz.js").read_text(encoding="utf-8")
    assert "http" not in script and "import(" not in script, "测验的脚本不从网络加载任何东西"


# ---------------------------------------------------------------- 学生版测验笔记本与评分

def test_make_student_writes_one_quiz_notebook_per_chapter(tmp_path):
    assert quiz.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [quiz.student_name(n) for n in quiz.existing()]
    for path in tmp_path.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        roles = [c.metadata.get("ptnotes_student", {}).get("role") for c in nb.cells]
        n = len(quiz.load(int(path.name[:2]))["questions"])
        assert roles.count("answer") == roles.count("check") == n and roles.count("helper") == 1
        assert roles.count("student-id") == 1 and "written" not in roles
        assert not [c for c in nb.cells if "参考答案" in c.source or {"remove-cell", "hide-cell"} & set(c.metadata.get("tags", []))]
        assert nb.metadata["ptnotes_student"]["points"] == n
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "tools/quiz.py --out _build/student" in makefile.split("\nstudent:", 1)[1].split("\n\n", 1)[0]


QUIZ_FOR_KERNEL = 2   # 在内核里从头运行的一章（其余各章的自检代码与它由同一个函数生成）


def _answer_cell(nb, number: int) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("ptnotes_student", {}) == {"role": "answer", "exercise": number, "part": 1})


def test_quiz_notebook_gives_immediate_feedback_in_a_kernel():
    """学生版测验：从头运行（Run All）不出错；每题没作答、答错、答对时，自检单元各给一句中文反馈
    （没有 traceback）：答错时说“不对”并给出解释，答对时是「✔ 练习 N 通过」；预测题后面的代码单元能运行。"""
    from nbclient import NotebookClient

    data = quiz.load(QUIZ_FOR_KERNEL)
    nb = quiz.student_quiz(QUIZ_FOR_KERNEL)
    expected = []
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        r = cell.metadata.get("ptnotes_student", {})
        if r.get("role") != "check":
            continue
        n = r["exercise"]
        q = data["questions"][n - 1]
        right = quiz.LETTERS[q["answer"]]
        wrong = quiz.LETTERS[(q["answer"] + 1) % len(q["choices"])]
        expected.append((cell, "empty", n))
        for letter, want in ((wrong.lower(), "wrong"), ("E", "invalid"), (f" {right.lower()} ", "right")):
            cells.append(nbformat.v4.new_code_cell(f'答案_{n} = "{letter}"'))
            again = nbformat.v4.new_code_cell(cell.source)
            cells.append(again)
            expected.append((again, want, n))
    nb.cells = cells
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=120, record_timing=False,
                   resources={"metadata": {"path": str(ROOT / "chapters")}}).execute()
    print(f"第 {QUIZ_FOR_KERNEL} 章测验在内核里运行（{len(expected)} 次自检）：{time.perf_counter() - start:.1f} 秒")
    problems = []
    for cell, want, n in expected:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        explain = quiz.one_line(data["questions"][n - 1]["explain"])
        if "Traceback" in text or len(text.splitlines()) > 6:
            problems.append(f"第 {n} 题（{want}）：反馈太长或带 traceback：{text!r}")
        if want == "empty" and not text.startswith(f"✘ 练习 {n} 还没通过") or want == "empty" and "还没有作答" not in text:
            problems.append(f"第 {n} 题没作答：{text!r}")
        if want == "wrong" and not (text.startswith(f"✘ 练习 {n} 还没通过") and f"说明：不对。{explain}" in text):
            problems.append(f"第 {n} 题答错：应当说“不对”并给出解释：{text!r}")
        if want == "invalid" and "只能填" not in text:
            problems.append(f"第 {n} 题填了不存在的字母：{text!r}")
        if want == "right" and not re.fullmatch(rf"答对了。{re.escape(explain)}（讲解见「[^」]+」）\n✔ 练习 {n} 通过（1 分）\n", text):
            problems.append(f"第 {n} 题答对：{text!r}")
    runs = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# 作答并自检之后")]
    assert len(runs) == sum(q["kind"] == "predict" for q in data["questions"])
    for cell in runs:
        if any(o.output_type == "error" for o in cell.outputs):
            problems.append(f"预测题后面的代码单元出错：{cell.source[:80]!r}")
    assert not problems, "\n".join(problems)


def test_make_grade_scores_a_quiz_like_any_student_copy(tmp_path):
    """make grade：全对的测验得满分，全空的得 0 分；检查由 quizzes/NN.yml 重建（tools/grade.py 调 quiz.teacher_notebook），
    所以学生删了自检单元也不影响分数。"""
    chapter = 1
    data = quiz.load(chapter)
    folder = tmp_path / "class"
    for sid, fill in (("q01", True), ("q02", False)):
        nb = quiz.student_quiz(chapter)
        for cell in nb.cells:
            r = cell.metadata.get("ptnotes_student", {})
            if r.get("role") == "student-id":
                cell.source = cell.source.replace('STUDENT_ID = ""', f'STUDENT_ID = "{sid}"')
            if r.get("role") == "answer" and fill:
                letter = quiz.LETTERS[data["questions"][r["exercise"] - 1]["answer"]]
                cell.source = cell.source.replace(f'答案_{r["exercise"]} = ""', f'答案_{r["exercise"]} = "{letter}"')
        if fill:
            nb.cells = [c for c in nb.cells if c.metadata.get("ptnotes_student", {}).get("role") != "check"]
        (folder / sid).mkdir(parents=True)
        nbformat.write(nb, folder / sid / quiz.student_name(chapter))
    out = tmp_path / "grades"
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    start = time.perf_counter()
    done = subprocess.run(["make", "--no-print-directory", "grade", f"SUBMISSIONS={folder}", f"GRADES={out}",
                           "GRADE_FLAGS=--cell-timeout 60 --jobs 2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    print(done.stdout[-2000:], done.stderr[-2000:], f"\nmake grade：{time.perf_counter() - start:.1f} 秒")
    assert done.returncode == 0
    with (out / "gradebook.csv").open(encoding="utf-8-sig") as f:
        rows = {row["学号"]: row for row in csv.DictReader(f)}
    n = len(data["questions"])
    assert float(rows["q01"]["总分"]) == n == float(rows["q01"]["满分"]), rows["q01"]
    assert float(rows["q02"]["总分"]) == 0 and rows["q02"]["章"] == quiz.quiz_name(chapter)
    feedback = (out / "feedback" / f"q02_{quiz.quiz_name(chapter)}.md").read_text(encoding="utf-8")
    assert f"得分：0 / {n}" in feedback and "还没有作答" in feedback
