"""学生版笔记本：去掉参考答案，每个练习后面加一个自检单元（make student）。

用法：.venv/bin/python tools/student.py [--out _build/student] [chapters/07_nn_module.ipynb ...]
      不给笔记本时处理 _toc.yml 里的每一章，写出 <out>/NN_name_student.ipynb
      （文件名与原章不同：放进离线包里和各章并排时不会覆盖原章）。

每章的 `## 练习` 部分是这样的（CONTRIBUTING.md「笔记本的固定结构」）：每个练习有一个以 `# 参考答案 N`
开头的 hide-cell 代码单元，紧跟的 remove-cell 单元用 assert 检查答案的结论。学生版里：

* 正文（`## 练习` 之前的一切，包括保存的输出）原样保留；练习的题目和题目给出的代码也保留；
* 每个参考答案（可能跨几个单元）换成一个空的答案单元，里面只有一句中文提示，
  并列出自检要用到的、应由答案定义的名字；
* 答案后面的讲解（参考答案与检查之间或之后、不是下一题题目的 markdown 单元）去掉，它们会泄露答案；
* 隐藏的检查变成一个看得见的短自检单元 `self_check(N, r\"\"\"assert ...\"\"\")`：逐条运行检查，
  全部成立时打印「✔ 练习 N 通过」，否则用一句中文说明哪条检查不成立、哪个名字还没定义，不打印 traceback；
* `self_check` 定义在 `## 练习` 后面的一个单元里（在 Colab 里折叠显示），所以每份学生版单独就能用。

生成的单元在元数据 `ptnotes_student` 里标明角色（guide / helper / answer / check）和练习编号，
tests/test_student.py 据此把参考答案贴回去做测试。结构不符合约定时报错并说明是哪一章、哪个单元。
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fold_checks import strip_title  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "_build" / "student"

ANSWER = re.compile(r"\A\s*#\s*参考答案\s*(\d+)")
STATEMENT = re.compile(r"\A\s*(?:\*\*)?练习\s*\d+")   # 「**练习 2.** ……」：下一题的题目，不是讲解
EXERCISES_HEADING = re.compile(r"^## 练习\s*$", re.MULTILINE)
SECTION = re.compile(r"\A\s*###? ")     # 练习之后的新一节（如 `## 探索` 的开放问题），或实验页里练习之间的小标题
                                         # （`### 第二步：……` 开头的说明）：保留，不当作讲解去掉

GUIDE = """\
**怎样做练习（学生版）**：先在下面的「学号」单元里填上你的学号，再从头运行全章（Run All），然后逐个练习：
在「答案」单元里写代码并运行，再运行它下面的「自检」单元。看到 ✔ 就对了；看到 ✘ 时，它会告诉你哪条检查没有成立，
或者哪个名字还没有定义（为了不泄露答案，检查里的具体数值显示成 …）。题目里用代码格式写出的名字，就是自检要读的名字。
自检只检查练习要求的结论；同一个练习可以有不同的写法。每个练习 {points} 分，本页共 {total} 分。
问「为什么」的练习，自检后面还有一个写文字回答的单元，老师会读。
交作业时交这个笔记本本身（不要改文件名）。老师评分时（make grade）只用你的答案单元（和你紧接着加在它下面的单元）：
正文从原章重新运行，检查用原来的，所以改动正文或自检单元不会改变分数。"""

# 实验和大作业（labN_…、capstone_…）里，练习之间给定的代码会用到你前面写的函数：Run All 会停在第一个这样的单元
LAB_GUIDE = """
实验里，练习之间给定的代码单元会用到你在前面的练习里写的函数或结果：还没做的时候 Run All 会停在第一个这样的单元
（`NameError`），这是正常的。做法是从头运行到「练习」标题，然后按顺序做：写好一个练习、自检通过，再运行它后面给定的单元。"""

STUDENT_ID = """\
# 学号：在引号里填上你的学号，运行本单元
STUDENT_ID = ""
"""

WRITTEN_CELL = "**练习 {n} 的文字回答**（双击这里，把这一行换成你的回答）："

# 每个练习的分数：几段的练习，各段平分
POINTS = 1

# 学生版的自检单元里，检查代码压缩后用 base64 写出：学生看不到检查里的期望值（仍可解开，只是不会顺眼看到）
PACKED = "ptn:"
PACKED_WIDTH = 64   # 压缩后的字符串分成几行写，每行这么宽：手机上的代码框不用左右滚动

# 学生版里唯一的公共代码：放在笔记本里，复制出去的单个笔记本也能用。
HELPER = '''\
#@title 自检工具：先运行本单元（不用读懂它）
def self_check(exercise, checks, points=1):
    """逐条运行练习的检查：全部成立时打印 ✔ 和分数，否则用一句话说明哪里不对（不打印 traceback，不显示期望值）。"""
    import ast
    import base64
    import traceback
    import zlib

    if checks.startswith("ptn:"):
        checks = zlib.decompress(base64.b64decode(checks[4:])).decode("utf-8")
    filename = f"<练习 {exercise} 的检查>"
    tree = ast.parse(checks, filename)

    class Hide(ast.NodeTransformer):
        def visit_Constant(self, node):   # 期望的数值和字符串显示成 …
            if isinstance(node.value, (bool, type(None))):
                return node
            return ast.copy_location(ast.Name("…", ast.Load()), node)

        def visit_JoinedStr(self, node):  # f"…{x}…" 整个显示成 …
            return ast.copy_location(ast.Name("…", ast.Load()), node)

    for statement in tree.body:
        try:
            exec(compile(ast.Module([statement], type_ignores=[]), filename, "exec"), globals())
        except Exception as error:
            lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
            line = lines[-1] if lines else statement.lineno
            failed = [s for s in ast.walk(statement) if isinstance(s, ast.stmt) and s.lineno <= line <= s.end_lineno]
            node = failed[-1] if failed else statement
            if isinstance(node, ast.Assert):
                node = ast.Assert(node.test, None)   # 说明另外显示
            try:
                where = ast.unparse(Hide().visit(ast.parse(ast.unparse(node))))
            except Exception:
                where = "（第 %d 行的检查）" % line
            where = "\\n".join("    " + l for l in where.splitlines()[:6])
            message = (str(error).strip().splitlines() or [""])[0]
            if isinstance(error, NameError):
                name = getattr(error, "name", None) or message
                print(f"✘ 练习 {exercise} 还没通过：还没有定义 {name}。先在上面的答案单元里写好并运行它，再运行本单元。")
            elif isinstance(error, AssertionError):
                print(f"✘ 练习 {exercise} 还没通过：这条检查不成立——\\n{where}")
                if message:
                    print(f"  说明：{message}")
            else:
                print(f"✘ 练习 {exercise} 还没通过：运行这条检查时出错——\\n{where}\\n  {type(error).__name__}: {message}")
            return
    print(f"✔ 练习 {exercise} 通过（{points:g} 分）")
'''


class StructureError(ValueError):
    """一章的 `## 练习` 部分不符合约定（信息里写明是哪一章、哪个单元）。"""


@dataclass
class Step:
    """一个练习的一段：参考答案单元（一个或几个）和紧跟的检查单元。"""

    exercise: int
    part: int = 1
    answers: list[int] = field(default_factory=list)
    checks: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.exercise) if self.part == 1 else f"{self.exercise}（第 {self.part} 部分）"


@dataclass
class Exercises:
    heading: int                      # `## 练习` 所在的单元
    steps: list[Step]
    discussions: list[int]            # 去掉的讲解单元

    @property
    def numbers(self) -> list[int]:
        return sorted({s.exercise for s in self.steps})


def toc_chapters() -> list[Path]:
    """目录里有练习的每一页；分成小节的一章的章节页（如 02_tensors）只有文字，没有练习，不在其中。"""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [e["file"] for part in toc["parts"] for e in part["chapters"]]
    paths = [ROOT / f"{f}.ipynb" for f in files if f.startswith("chapters/")]
    return [p for p in paths if any(c.cell_type == "code" for c in nbformat.read(p, as_version=4).cells)]


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def find_exercises(nb, name: str = "notebook") -> Exercises:
    """找出 `## 练习` 之后的参考答案、检查和讲解单元。"""
    cells = nb.cells
    heading = next((i for i, c in enumerate(cells)
                    if c.cell_type == "markdown" and EXERCISES_HEADING.search(c.source)), None)
    if heading is None:
        raise StructureError(f"{name}: 没有 `## 练习` 标题")
    steps: list[Step] = []
    discussions: list[int] = []
    open_step: Step | None = None     # 还能接检查或讲解的那一段
    for i in range(heading + 1, len(cells)):
        cell = cells[i]
        where = f"{name}: 单元 {i}"
        match = ANSWER.match(cell.source) if cell.cell_type == "code" else None
        if match:
            if "hide-cell" not in tags(cell):
                raise StructureError(f"{where}: 参考答案单元要有 hide-cell 标签")
            number = int(match.group(1))
            last = steps[-1] if steps else None
            if open_step is not None and open_step.exercise == number and not open_step.checks:
                open_step.answers.append(i)                     # 同一个答案的下一个单元
                continue
            if open_step is not None and not open_step.checks:
                raise StructureError(f"{where}: 练习 {open_step.exercise} 的参考答案后面没有 remove-cell 检查单元")
            if last is not None and last.exercise == number:
                open_step = Step(number, last.part + 1, [i])   # 同一个练习的第二段
            else:
                expected = last.exercise + 1 if last else 1
                if number != expected:
                    raise StructureError(f"{where}: 参考答案 {number}，应为参考答案 {expected}")
                open_step = Step(number, 1, [i])
            steps.append(open_step)
        elif cell.cell_type == "code" and "remove-cell" in tags(cell) and open_step is not None:
            open_step.checks.append(i)
        elif cell.cell_type == "markdown" and open_step is not None and not STATEMENT.match(cell.source) \
                and not SECTION.match(cell.source):
            discussions.append(i)
        elif cell.cell_type == "code" and open_step is not None and not open_step.checks:
            open_step.answers.append(i)                         # 参考答案的后续代码单元
        else:
            if open_step is not None and not open_step.checks:
                raise StructureError(f"{where}: 练习 {open_step.exercise} 的参考答案后面没有 remove-cell 检查单元")
            open_step = None                                    # 题目或题目给出的代码：保留
    if open_step is not None and not open_step.checks:
        raise StructureError(f"{name}: 练习 {open_step.exercise} 的参考答案后面没有 remove-cell 检查单元")
    if not steps:
        raise StructureError(f"{name}: `## 练习` 后面没有以 `# 参考答案 N` 开头的 hide-cell 单元")
    return Exercises(heading, steps, discussions)


STATEMENT_ITEM = re.compile(r"(?m)^(?:\*\*)?(?:练习\s*)?(\d+)[.．、]")
# 题目要学生用文字回答（为什么、说说……）：学生版在自检后面给一个写回答的 markdown 单元
WRITTEN = re.compile(r"为什么|说说|解释|原因|谈谈")


def statements(nb, found: Exercises) -> dict[int, str]:
    """{练习编号: 题目文字}：`## 练习` 标题之后的编号列表（`1. ……`），或单独的「**练习 N.**」单元。"""
    texts = [nb.cells[found.heading].source.split("## 练习", 1)[1]]
    texts += [c.source for c in nb.cells[found.heading + 1:]
              if c.cell_type == "markdown" and STATEMENT.match(c.source)]
    out: dict[int, str] = {}
    for text in texts:
        parts = STATEMENT_ITEM.split(text)
        for k in range(1, len(parts), 2):
            out.setdefault(int(parts[k]), parts[k + 1])
    return out


def checked_names(nb, step: Step) -> list[str]:
    """自检从答案里读的名字（学生版答案单元里列出的就是它们）。"""
    return names_read(joined(nb, step.answers), joined(nb, step.checks))


def names_read(answer_source: str, check_source: str) -> list[str]:
    """检查读到、答案绑定的名字，按在检查里出现的顺序。"""
    answer = set(bound_names(python_source(answer_source)))
    return [n for n in loaded_names(check_source) if n in answer]


def discussion_gaps(nb, name: str = "notebook") -> list[int]:
    """要文字回答的练习里，教师版（参考答案之后）没有讲解单元的练习编号。"""
    found = find_exercises(nb, name)
    missing = []
    for n, text in statements(nb, found).items():
        if not WRITTEN.search(text):
            continue
        first = min(s.answers[0] for s in found.steps if s.exercise == n)
        following = [s.answers[0] for s in found.steps if s.exercise > n]
        end = min(following) if following else len(nb.cells)
        if not [i for i in found.discussions if first < i < end]:
            missing.append(n)
    return missing


def contract_gaps(nb, name: str = "notebook") -> list[str]:
    """练习的「契约」：自检读的每个名字都要在题目里用代码格式写出（`name`），学生才知道答案要叫什么。
    返回没写出的，如 ["练习 2: rm"]。"""
    found = find_exercises(nb, name)
    texts = statements(nb, found)
    gaps = []
    for step in found.steps:
        text = texts.get(step.exercise)
        if text is None:
            gaps.append(f"练习 {step.exercise}: 找不到题目")
            continue
        for n in checked_names(nb, step):
            if not re.search(rf"`[^`\n]*(?<![\w.]){re.escape(n)}\b[^`\n]*`", text):
                gaps.append(f"练习 {step.label}: {n}")
    return gaps


def bound_names(source) -> list[str]:
    """一段代码（源码或 ast 节点）在顶层（不算函数体、类体和推导式内部）绑定的名字，按出现顺序。"""
    names: list[str] = []

    class Visitor(ast.NodeVisitor):
        def add(self, name):
            if name not in names:
                names.append(name)

        def visit_FunctionDef(self, node):
            self.add(node.name)
            for d in node.decorator_list:
                self.visit(d)

        visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

        def visit_Lambda(self, node):
            pass

        def visit_ListComp(self, node):
            pass

        visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Store):
                self.add(node.id)

        def visit_alias(self, node):
            self.add((node.asname or node.name).split(".")[0])

    Visitor().visit(ast.parse(source) if isinstance(source, str) else source)
    return names


def created_names(source: str) -> set[str]:
    """答案先赋值、后使用的名字（第一次出现就是赋值，不读它以前的值）。

    只有这些名字可以在答案单元开头清掉；`labels = labels[:10]` 这样要读旧值的名字不能清。
    函数体里读到的名字也算“读”（保守）。
    """
    bound: set[str] = set()
    read_first: set[str] = set()
    for statement in ast.parse(source).body:
        loads = {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        loads |= {n.target.id for n in ast.walk(statement) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
        read_first |= loads - bound
        bound |= set(bound_names(statement))
    return bound - read_first


def loaded_names(source: str) -> list[str]:
    """一段检查代码读到、但自己（包括推导式和 lambda 里）没有赋值的名字，按出现顺序。"""
    tree = ast.parse(source)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in ast.walk(n.args) if isinstance(a, ast.arg)}
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in stored:
            if node.id not in names:
                names.append(node.id)
    return sorted(names, key=lambda n: re.search(rf"\b{re.escape(n)}\b", source).start())


def string_literal(text: str) -> str:
    """把检查代码写成一个好读的字符串字面量（能用原始三引号时就用它）。"""
    body = "\n" + text.strip("\n") + "\n"
    for quote in ('"""', "'''"):
        literal = f"r{quote}{body}{quote}"
        if quote not in body:
            try:
                if ast.literal_eval(literal) == body:
                    return literal
            except (SyntaxError, ValueError):
                pass
    return repr(body)


def python_source(source: str) -> str:
    """单元源码里的 IPython 语法（%magic、!shell）换成普通 Python，好让 ast 解析。"""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def answer_cell(step: Step, answer_source: str, check_source: str, earlier: set[str]):
    """空的答案单元。earlier：答案之前的单元（正文、前面的练习）绑定过的名字。

    答案要重新创建、正文里却已经有的名字（例如正文和答案都有 `used`），在答案单元里先清掉：
    否则没做练习时，自检会拿正文里的同名变量来检查，可能误报通过。
    """
    expected = names_read(answer_source, check_source)
    created = created_names(python_source(answer_source))
    shadowed = [n for n in expected if n in earlier and n in created]
    lines = [f"# 练习 {step.label}：在这里写你的答案，运行本单元，再运行下面的自检单元。"]
    if expected:
        lines.append("# 自检会用到这些名字：" + "、".join(expected))
    if shadowed:
        lines.append("# 正文里已经有同名的变量，下一行先把它们清掉，你的答案要重新创建它们：")
        lines.append(f"for _name in {shadowed!r}: globals().pop(_name, None)")
    cell = nbformat.v4.new_code_cell("\n".join(lines) + "\n", id=f"student-answer-{step.exercise}-{step.part}")
    cell.metadata["ptnotes_student"] = {"role": "answer", "exercise": step.exercise, "part": step.part}
    return cell


def pack(check_source: str) -> str:
    """检查代码 → 学生版自检单元里的字符串（zlib + base64，前缀 PACKED）。"""
    return PACKED + base64.b64encode(zlib.compress(check_source.encode("utf-8"), 9)).decode("ascii")


def unpack(text: str) -> str:
    return zlib.decompress(base64.b64decode(text.removeprefix(PACKED))).decode("utf-8") if text.startswith(PACKED) else text


def step_points(found: Exercises, step: Step) -> float:
    """一段的分数：练习 POINTS 分，几段平分（保留两位小数）。"""
    parts = sum(1 for s in found.steps if s.exercise == step.exercise)
    return round(POINTS / parts, 2)


def check_cell(step: Step, check_source: str, points: float = POINTS):
    label = step.exercise if step.part == 1 else repr(step.label)
    packed = pack(check_source)
    pieces = "\n".join(f'    "{packed[i:i + PACKED_WIDTH]}"' for i in range(0, len(packed), PACKED_WIDTH))
    source = (f"# 自检：运行本单元，检查练习 {step.label}（检查的代码压缩过，不显示期望值）\n"
              f"self_check({label}, (\n{pieces}\n), points={points:g})")
    compile(source, f"<self-check {step.label}>", "exec")
    cell = nbformat.v4.new_code_cell(source, id=f"student-check-{step.exercise}-{step.part}")
    cell.metadata["ptnotes_student"] = {"role": "check", "exercise": step.exercise, "part": step.part}
    return cell


def joined(nb, indices: list[int]) -> str:
    """几个检查单元的代码接在一起（去掉 tools/fold_checks.py 加的 #@title 标题行）。"""
    return "\n\n".join(strip_title(nb.cells[i].source).strip("\n") for i in indices)


def student_notebook(nb, name: str = "notebook"):
    """由一章的笔记本生成学生版（不改动传入的 nb）。"""
    found = find_exercises(nb, name)
    out = copy.deepcopy(nb)
    first_of = {s.answers[0]: s for s in found.steps}
    dropped = {i for s in found.steps for i in s.answers + s.checks} | set(found.discussions)
    texts = statements(nb, found)
    written = {n for n, text in texts.items() if WRITTEN.search(text)}
    last_part = {s.exercise: s.part for s in found.steps}
    total = POINTS * len(found.numbers)
    lab = Path(str(name)).stem.startswith(("lab", "capstone"))
    guide = nbformat.v4.new_markdown_cell(GUIDE.format(points=POINTS, total=f"{total:g}") + (LAB_GUIDE if lab else ""),
                                          id="student-guide")
    guide.metadata["ptnotes_student"] = {"role": "guide"}
    student_id = nbformat.v4.new_code_cell(STUDENT_ID, id="student-id")
    student_id.metadata["ptnotes_student"] = {"role": "student-id"}
    helper = nbformat.v4.new_code_cell(HELPER, id="student-helper")
    helper.metadata.update({"ptnotes_student": {"role": "helper"}, "cellView": "form",
                            "jupyter": {"source_hidden": True}})
    cells = []
    earlier: set[str] = set()
    for i, cell in enumerate(nb.cells):
        if i in first_of:
            step = first_of[i]
            answer_source, check_source = joined(nb, step.answers), joined(nb, step.checks)
            cells += [answer_cell(step, answer_source, check_source, earlier),
                      check_cell(step, check_source, step_points(found, step))]
            if step.exercise in written and step.part == last_part[step.exercise]:
                text = nbformat.v4.new_markdown_cell(WRITTEN_CELL.format(n=step.exercise), id=f"student-written-{step.exercise}")
                text.metadata["ptnotes_student"] = {"role": "written", "exercise": step.exercise}
                cells.append(text)
        elif i not in dropped:
            cells.append(copy.deepcopy(cell))
        if cell.cell_type == "code":
            earlier.update(bound_names(python_source(cell.source)))
        if i == found.heading:
            cells += [guide, student_id, helper]
    out.cells = cells
    out.metadata["ptnotes_student"] = {"chapter": name.removesuffix(".ipynb"), "points": total,
                                       "exercises": found.numbers, "written": sorted(written)}
    nbformat.validate(out)
    return out


def reference_answers(nb, name: str = "notebook") -> dict[tuple[int, int], list[str]]:
    """{(练习, 部分): 参考答案各单元的代码}：测试把它们贴进学生版的答案单元。"""
    found = find_exercises(nb, name)
    return {(s.exercise, s.part): [nb.cells[i].source for i in s.answers] for s in found.steps}


def student_name(path: Path) -> str:
    return f"{path.stem}_student.ipynb"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="默认：_toc.yml 里的每一章")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="输出目录（默认 _build/student）")
    args = parser.parse_args(argv)
    paths = args.notebooks or toc_chapters()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        found = find_exercises(nb, path.name)
        student = student_notebook(nb, path.name)
        target = args.out / student_name(path)
        nbformat.write(student, target)
        extra = f"，去掉 {len(found.discussions)} 个讲解单元" if found.discussions else ""
        shown = target.resolve().relative_to(ROOT) if target.resolve().is_relative_to(ROOT) else target
        print(f"{shown}: {len(found.numbers)} 个练习{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
