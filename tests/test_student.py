"""学生版笔记本（tools/student.py，make student）：去掉了参考答案，每个练习后面的自检单元会用中文说对不对。

最贵的测试 test_self_checks 每章只运行一次内核：先运行正文，然后对每个练习依次运行
没动过的自检（必须报告“还没通过”，一两行中文，没有 traceback）、贴进去的参考答案、再一次自检（必须「✔ 通过」）。
只测一章：make test-student NB=chapters/07_nn_module.ipynb。
"""

import ast
import contextlib
import re
import io
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import student  # noqa: E402

CHAPTERS = student.toc_chapters()


def role(cell):
    return cell.metadata.get("ptnotes_student", {})


def checks_of(cell) -> str:
    """自检单元里传给 self_check 的检查代码。"""
    call = ast.parse(cell.source).body[-1].value
    return student.unpack(ast.literal_eval(call.args[1]))


def points_of(cell) -> float:
    call = ast.parse(cell.source).body[-1].value
    return next(ast.literal_eval(k.value) for k in call.keywords if k.arg == "points")


@pytest.fixture(scope="module")
def copies():
    """每章的（原笔记本, 学生版）。"""
    result = {}
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        result[path.stem] = (nb, student.student_notebook(nb, path.name))
    return result


def test_every_toc_chapter_has_a_student_copy(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert student.main(["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == sorted(f"{p.stem}_student.ipynb" for p in CHAPTERS), "make student 应为 _toc.yml 里的每一章写一份学生版"
    for path in tmp_path.glob("*.ipynb"):
        nbformat.validate(nbformat.read(path, as_version=4))
    print(out.getvalue())


@pytest.mark.parametrize("name", [p.stem for p in CHAPTERS])
def test_student_copy_shape(copies, name):
    nb, copy = copies[name]
    found = student.find_exercises(nb, name)
    # 正文原样保留（包括输出）
    assert [c for c in copy.cells[: found.heading + 1]] == nb.cells[: found.heading + 1]
    # 没有参考答案、没有讲解、没有隐藏的检查
    sources = [c.source for c in copy.cells]
    assert not any(student.ANSWER.match(s) for s in sources)
    for i in [i for s in found.steps for i in s.answers] + found.discussions:
        assert nb.cells[i].source not in sources, f"答案或讲解留在了学生版里：{nb.cells[i].source[:80]!r}"
    after = copy.cells[found.heading + 1:]
    assert not [c for c in after if "remove-cell" in student.tags(c)]
    # 每个练习（的每一段）：一个空答案单元，紧跟一个自检单元，检查与原来的隐藏检查相同
    roles = [role(c).get("role") for c in copy.cells]
    assert roles.count("helper") == 1 and roles.count("guide") == 1 and roles.count("student-id") == 1
    assert roles.index("helper") < roles.index("answer") and roles.index("student-id") < roles.index("answer")
    meta = copy.metadata["ptnotes_student"]
    assert meta["chapter"] == name and meta["exercises"] == found.numbers and meta["points"] == len(found.numbers)
    # 问「为什么」的练习：自检后面有一个写文字回答的 markdown 单元；教师版在参考答案后面有讲解
    assert roles.count("written") == len(meta["written"])
    for n in meta["written"]:
        at = next(i for i, c in enumerate(copy.cells) if role(c) == {"role": "written", "exercise": n})
        assert copy.cells[at].cell_type == "markdown" and role(copy.cells[at - 1])["role"] == "check"
    for step in found.steps:
        at = next(i for i, c in enumerate(copy.cells)
                  if role(c) == {"role": "answer", "exercise": step.exercise, "part": step.part})
        answer, check = copy.cells[at], copy.cells[at + 1]
        assert role(check) == {"role": "check", "exercise": step.exercise, "part": step.part}
        assert answer.source.startswith(f"# 练习 {step.label}：") and not answer.outputs
        code = [line for line in answer.source.splitlines() if not line.startswith("#")]
        assert code in ([], [code[0] if code else ""]) and all(l.startswith("for _name in [") for l in code), \
            "答案单元里只有提示（和清掉正文里同名变量的一行）"
        assert checks_of(check).strip() == student.joined(nb, step.checks).strip()
        assert student.joined(nb, step.checks).strip() not in check.source, "学生版里的检查代码压缩过，不直接显示"
        parts = sum(1 for s in found.steps if s.exercise == step.exercise)
        assert abs(points_of(check) * parts - student.POINTS) < 0.02
        assert max(len(line) for line in check.source.splitlines()) <= 80, "自检单元的行要短（手机上不用左右滚动）"
        assert len(check.source.splitlines()) <= 4 + len(student.pack(checks_of(check))) // student.PACKED_WIDTH


@pytest.mark.parametrize("name", [p.stem for p in CHAPTERS])
def test_exercise_text_names_what_the_check_reads(copies, name):
    """练习的契约：自检从答案里读的每个名字，题目里都用代码格式写出来了；问「为什么」的练习，教师版有参考讲解。"""
    nb, _ = copies[name]
    gaps = student.contract_gaps(nb, name)
    assert not gaps, f"{name}: 题目里没写出自检要读的名字（写成 `name`，并说明类型、单位、从 0 还是 1 数起）：{gaps}"
    missing = student.discussion_gaps(nb, name)
    assert not missing, f"{name}: 练习 {missing} 要学生用文字回答，参考答案之后要有一个讲解的 markdown 单元"


def run_helper(checks, **names):
    namespace = dict(names)
    exec(student.HELPER, namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        namespace["self_check"](3, checks)
    return out.getvalue()


def test_self_check_messages():
    assert run_helper("assert answer == 42\nassert isinstance(answer, int)", answer=42) == "✔ 练习 3 通过（1 分）\n"
    assert run_helper("assert answer == 42") == (
        "✘ 练习 3 还没通过：还没有定义 answer。先在上面的答案单元里写好并运行它，再运行本单元。\n")
    text = run_helper("assert answer > 0\nfor v in values:\n    assert v < 3, f'{v} 太大'", answer=1, values=[1, 5])
    assert text == "✘ 练习 3 还没通过：这条检查不成立——\n    assert v < …\n  说明：5 太大\n"
    text = run_helper("assert len(answer) == 2", answer=7)
    assert text == ("✘ 练习 3 还没通过：运行这条检查时出错——\n    assert len(answer) == …\n"
                    "  TypeError: object of type 'int' has no len()\n")
    assert "Traceback" not in text
    # 期望值不显示：检查里的数值和字符串都变成 …（压缩的检查也能运行）
    text = run_helper(student.pack('assert names == ["imageNotFound.gif"]'), names=[])
    assert text == "✘ 练习 3 还没通过：这条检查不成立——\n    assert names == […]\n" and "gif" not in text
    text = run_helper('for v in values:\n    assert f"{v}!" == "3!", f"{v} 不对"', values=[1])
    assert text == "✘ 练习 3 还没通过：这条检查不成立——\n    assert … == …\n  说明：1 不对\n"


def pasted_run(copy, answers):
    """学生版 + 每个自检单元后面贴上参考答案和同一个自检单元；返回 (笔记本, [(单元, 期望)])。"""
    nb = nbformat.from_dict(copy)
    cells, expected = [], []
    for cell in nb.cells:
        cells.append(cell)
        r = role(cell)
        if r.get("role") == "check":
            expected.append((cell, "fail", r))
            for source in answers[(r["exercise"], r["part"])]:
                cells.append(nbformat.v4.new_code_cell(source))
            again = nbformat.v4.new_code_cell(cell.source)
            cells.append(again)
            expected.append((again, "pass", r))
    nb.cells = cells
    return nb, expected


def label(r):
    return str(r["exercise"]) if r["part"] == 1 else f"{r['exercise']}（第 {r['part']} 部分）"


@pytest.fixture(scope="module")
def spawn_kernels(tmp_path_factory):
    """学生版在 spawn 下运行：内核启动时（IPython 的 startup 脚本）把子进程的启动方式设成 spawn，
    和 Windows、macOS 上一样。nbval 的比对（tests/test_alone.py）用 Linux 默认的 fork，所以每一页两种方式都从头运行过。"""
    import os

    folder = tmp_path_factory.mktemp("ipython_spawn")
    startup = folder / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-spawn.py").write_text('import multiprocessing\nmultiprocessing.set_start_method("spawn", force=True)\n')
    saved = os.environ.get("IPYTHONDIR")
    os.environ["IPYTHONDIR"] = str(folder)
    yield
    if saved is None:
        os.environ.pop("IPYTHONDIR", None)
    else:
        os.environ["IPYTHONDIR"] = saved


# make test 用 pytest-xdist 在两个进程里运行（--dist loadscope：一个类或一个模块的测试在同一个进程里）。
# 最贵的这个测试按页分成两个类，两个进程各跑一半（隔一页取一页，长短页两边都有）
NAMES = [p.stem for p in CHAPTERS]


class TestSelfChecksA:
    @pytest.mark.parametrize("name", NAMES[0::2])
    def test_self_checks(self, copies, name, spawn_kernels):
        self_checks(copies, name)


class TestSelfChecksB:
    @pytest.mark.parametrize("name", NAMES[1::2])
    def test_self_checks(self, copies, name, spawn_kernels):
        self_checks(copies, name)


def self_checks(copies, name):
    """正文 → 每个练习：没动过的自检（失败，友好）→ 贴上参考答案 → 自检（通过）。每章只跑一次内核，
    子进程用 spawn 启动（像 Windows、macOS）：正文里的多进程例子也要在那里跑得通。"""
    nb, copy = copies[name]
    run, expected = pasted_run(copy, student.reference_answers(nb, name))
    client = NotebookClient(run, kernel_name="python3", timeout=900, record_timing=False,
                            resources={"metadata": {"path": str(ROOT / "chapters")}})
    start = time.perf_counter()
    run.cells.insert(0, nbformat.v4.new_code_cell(
        'import multiprocessing\nassert multiprocessing.get_start_method() == "spawn", multiprocessing.get_start_method()'))
    client.execute()
    print(f"{name}: {time.perf_counter() - start:.1f} s for the body and {len(expected) // 2} self-checks")
    problems = []
    for cell, want, r in expected:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        other = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stdout")]
        if other:
            problems.append(f"练习 {label(r)}: 自检单元输出了 stdout 以外的东西：{other[:1]}")
        if want == "pass" and not re.fullmatch(rf"✔ 练习 {re.escape(label(r))} 通过（[\d.]+ 分）\n", text):
            problems.append(f"练习 {label(r)}: 贴上参考答案后自检没有通过：{text!r}")
        if want == "fail":
            if not text.startswith(f"✘ 练习 {label(r)} 还没通过："):
                problems.append(f"练习 {label(r)}: 没做的练习，自检却没有报告失败：{text!r}")
            if "Traceback" in text or len(text.splitlines()) > 9:
                problems.append(f"练习 {label(r)}: 失败信息太长或带 traceback：{text!r}")
    assert not problems, "\n".join(problems)


def test_lab_narrative_between_exercises_is_kept():
    """实验页（chapters/lab1_images 等）在练习之间用 `### ` 小标题写说明和接着运行的代码：学生版保留它们，只去掉讲解单元。"""
    def cell(kind, source, tags=()):
        c = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        if tags:
            c.metadata["tags"] = list(tags)
        return c

    nb = nbformat.v4.new_notebook(cells=[
        cell("md", "# 实验 9：示例"), cell("md", "## 练习"), cell("md", "**练习 1.** 写 `a`。"),
        cell("code", "# 参考答案 1\na = 1", ["hide-cell"]), cell("code", "assert a == 1", ["remove-cell"]),
        cell("md", "参考讲解"), cell("md", "### 下一步\n\n说明"), cell("code", "print(a)"),
        cell("md", "**练习 2.** 写 `b`。"), cell("code", "# 参考答案 2\nb = 2", ["hide-cell"]),
        cell("code", "assert b == 2", ["remove-cell"]), cell("md", "## 小结\n\n- 总结")])
    sources = [c.source for c in student.student_notebook(nb, "lab9_demo.ipynb").cells]
    assert "### 下一步\n\n说明" in sources and "print(a)" in sources and "## 小结\n\n- 总结" in sources
    assert "参考讲解" not in sources and "a = 1" not in "\n".join(sources)
