"""章末测验（quizzes/NN.yml）：检查格式、运行预测题的代码、生成学生版的测验笔记本。

用法：.venv/bin/python tools/quiz.py [--out _build/student] [--check] [章号 ...]
      不给章号时处理 quizzes/ 里的每一份测验；写出 <out>/NN_quiz_student.ipynb（make student 也调用它）。
      --check：只检查（格式、规则，并运行每道预测题的代码，比对标出的答案），不写笔记本。

一章一个 YAML 文件：`chapter: N` 和 `questions:` 列表，8–10 道题。每题有 kind —— predict（预测输出）、bug（找错）、
note（「笔记说……对吗？」，来自本章的勘误框，引用笔记原话）或 concept（概念）—— 和 prompt（一两句中文，只用反引号标
行内代码）、choices（3 或 4 个互不相同的字符串；predict 的选项是候选的输出，预期报错写成「报错：异常类名」）、
answer（正确选项的下标，从 0 数）、explain（答完后显示的一到三句解释）、see（讲这一点的那一页，chapters/ 里的文件名去掉
.ipynb）；predict 和 bug 还有 code（predict 的代码在 CPU 上运行、打印答案），bug 可以有 raises（运行 code 必须抛出的
异常类名）。每章至少 3 道 predict、1 道 bug，有勘误框的章（appendix/errata.md）至少 1 道 note。同一份题目用在三个地方：

* 网站：quizzes/NN.md 里的 ```{quiz}``` 指令（_ext/quiz.py）把题目画成按钮，_static/quiz.js 点了马上给出对错和解释；
* 学生版笔记本：每题一个答案单元（`答案_N = ""`，填字母）和一个自检单元，用的就是学生版的自检工具
  （tools/student.py 的 `self_check`、压缩的检查、分数）。这里先在内存里把测验写成一章“教师版”笔记本
  （`## 练习` 下面每题一个 `# 参考答案 N` 单元和一个 remove-cell 检查单元），再交给 student.student_notebook；
  make grade（tools/grade.py）评分时用同一个 teacher_notebook() 从 YAML 重新生成检查，所以测验和各章的作业一样评分；
* 测试：tests/test_quiz.py 检查格式，并在新进程里运行每道预测题的代码：输出必须等于标出的选项，且不等于其他选项。
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
QUIZ_DIR = ROOT / "quizzes"
CHAPTERS_DIR = ROOT / "chapters"
DEFAULT_OUT = ROOT / "_build" / "student"
ALL_CHAPTERS = range(1, 18)

KINDS = {"predict": "预测输出", "bug": "找错", "note": "笔记说得对吗", "concept": "概念"}
LETTERS = "ABCD"
KEYS = {"kind", "prompt", "code", "choices", "answer", "explain", "see", "raises"}
REQUIRED = {"kind", "prompt", "choices", "answer", "explain", "see"}
ERROR_CHOICE = re.compile(r"报错：([A-Za-z_][A-Za-z0-9_.]*)")
HAN = re.compile(r"[\u4e00-\u9fff]")
SNIPPET_SECONDS = 20      # 一段代码最多运行这么久（规则是 2 秒以内；留足慢机器的余量）

QUIZ_NAME = re.compile(r"(\d\d)_quiz")


# ---------------------------------------------------------------- 读取

def path_of(chapter: int) -> Path:
    return QUIZ_DIR / f"{chapter:02d}.yml"


def existing() -> list[int]:
    """有测验的章号（quizzes/NN.yml 存在）。"""
    return [n for n in ALL_CHAPTERS if path_of(n).is_file()]


def load(chapter: int) -> dict:
    return yaml.safe_load(path_of(chapter).read_text(encoding="utf-8"))


def quiz_name(chapter: int) -> str:
    """测验在学生版、评分里的“章名”：01_quiz（学生版文件 01_quiz_student.ipynb）。"""
    return f"{chapter:02d}_quiz"


def chapter_of_name(name: str) -> int | None:
    """"01_quiz" → 1；不是测验的名字（或没有这一章的 YAML）时 None。"""
    match = QUIZ_NAME.fullmatch(name)
    if not match or not path_of(int(match.group(1))).is_file():
        return None
    return int(match.group(1))


def is_quiz(name: str) -> bool:
    return chapter_of_name(name) is not None


def errata_chapters() -> set[int]:
    """appendix/errata.md「按章统计」里勘误条数大于 0 的章（由各章的勘误框生成）。"""
    text = (ROOT / "appendix" / "errata.md").read_text(encoding="utf-8")
    found = set()
    for stem, count in re.findall(r"^\|\s*\{doc\}`[^`]*<\.\./chapters/(\d\d)[a-z]?_\w+>`\s*\|\s*(\d+)\s*\|", text, re.M):
        if int(count) > 0:
            found.add(int(stem))
    return found


def page_title(stem: str) -> str:
    """chapters/<stem>.ipynb 的标题（第一个单元的第一行，去掉 #）。"""
    nb = json.loads((CHAPTERS_DIR / f"{stem}.ipynb").read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"]).strip().splitlines()[0]
    return first.lstrip("#").strip()


def chapter_title(chapter: int) -> str:
    """第 N 章的章节页标题，如「2. 张量」。"""
    pages = sorted(CHAPTERS_DIR.glob(f"{chapter:02d}_*.ipynb"))
    return page_title(pages[0].stem) if pages else f"{chapter}."


def one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------- 格式与规则

def problems(data, chapter: int, errata: set[int] | None = None) -> list[str]:
    """一份测验不符合格式或规则的地方（不运行代码）；空列表表示没有问题。"""
    where = f"quizzes/{chapter:02d}.yml"
    if not isinstance(data, dict):
        return [f"{where}：顶层应是一个字典（chapter、questions）"]
    out = []
    if set(data) != {"chapter", "questions"}:
        out.append(f"{where}：顶层的键应是 chapter 和 questions，实际 {sorted(data)}")
    if data.get("chapter") != chapter:
        out.append(f"{where}：chapter 应是 {chapter}，实际 {data.get('chapter')!r}")
    questions = data.get("questions")
    if not isinstance(questions, list):
        return out + [f"{where}：questions 应是一个列表"]
    if not 8 <= len(questions) <= 10:
        out.append(f"{where}：应有 8–10 道题，实际 {len(questions)} 道")
    kinds = [q.get("kind") for q in questions if isinstance(q, dict)]
    if kinds.count("predict") < 3:
        out.append(f"{where}：至少 3 道 predict，实际 {kinds.count('predict')} 道")
    if kinds.count("bug") < 1:
        out.append(f"{where}：至少 1 道 bug")
    errata = errata_chapters() if errata is None else errata
    if chapter in errata and kinds.count("note") < 1:
        out.append(f"{where}：第 {chapter} 章有勘误框（appendix/errata.md），至少要有 1 道 note")
    answers = []
    for number, q in enumerate(questions, 1):
        here = f"{where} 第 {number} 题"
        if not isinstance(q, dict):
            out.append(f"{here}：应是一个字典")
            continue
        missing, extra = REQUIRED - set(q), set(q) - KEYS
        if missing or extra:
            out.append(f"{here}：缺少 {sorted(missing)}，多出 {sorted(extra)}")
            continue
        kind = q["kind"]
        if kind not in KINDS:
            out.append(f"{here}：kind 是 {kind!r}，应是 {list(KINDS)} 之一")
        for key in ("prompt", "explain", "see"):
            if not isinstance(q[key], str) or not q[key].strip():
                out.append(f"{here}：{key} 应是非空字符串")
        if not all(isinstance(q[key], str) for key in ("prompt", "explain", "see")):
            continue
        prompt = q["prompt"]
        if not HAN.search(prompt) or not HAN.search(q["explain"]):
            out.append(f"{here}：prompt 和 explain 用中文写")
        if "\n" in prompt.strip() or "**" in prompt or "](" in prompt or prompt.count("`") % 2:
            out.append(f"{here}：prompt 是一两句话，只能用反引号标出行内代码（不换行、不用其他 Markdown）")
        if kind == "note" and "笔记" not in prompt:
            out.append(f"{here}：note 题的 prompt 引用笔记的原话（「笔记说：……」）")
        if not (CHAPTERS_DIR / f"{q['see']}.ipynb").is_file():
            out.append(f"{here}：see 指向的页面 chapters/{q['see']}.ipynb 不存在")
        code = q.get("code")
        if kind in ("predict", "bug") and not (isinstance(code, str) and code.strip()):
            out.append(f"{here}：{kind} 题要有 code")
        if code is not None:
            if not isinstance(code, str):
                out.append(f"{here}：code 应是字符串")
            else:
                try:
                    compile(code, here, "exec")
                except SyntaxError as error:
                    out.append(f"{here}：code 不是合法的 Python：{error}")
        if "raises" in q and (not isinstance(q["raises"], str) or not re.fullmatch(r"[A-Za-z_][\w.]*", q["raises"])
                              or not isinstance(code, str)):
            out.append(f"{here}：raises 应是一个异常类名，并且题目有 code")
        choices = q["choices"]
        if not isinstance(choices, list) or not 3 <= len(choices) <= 4 or not all(isinstance(c, str) and c.strip()
                                                                                   for c in choices):
            out.append(f"{here}：choices 应是 3 或 4 个非空字符串")
            continue
        if len(set(choices)) != len(choices):
            out.append(f"{here}：choices 有重复")
        if any(re.search(r"笔记 ?00\d", c) for c in choices):
            out.append(f"{here}：选项里不写「笔记 00X」（网站把它变成链接，按钮里不能放链接）：在 prompt 里引用笔记")
        answer = q["answer"]
        if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(choices):
            out.append(f"{here}：answer 应是 0 到 {len(choices) - 1} 的整数")
            continue
        answers.append(answer)
    if len(questions) >= 3 and len(set(answers)) < 2:
        out.append(f"{where}：正确答案的位置要有变化（现在都是第 {answers[0] + 1 if answers else '?'} 个）")
    return out


# ---------------------------------------------------------------- 运行代码

# 运行器：先导入 torch，然后每段代码在 fork 出来的子进程里、全新的命名空间里运行（互相看不到对方的状态，
# 也不会改动彼此的全局设置），stdout 被接住。不能 fork 的系统上，每段代码单独启动一个 Python。
RUNNER = r"""
import contextlib, io, json, os, signal, sys, time

def run(code):
    start = time.perf_counter()
    out = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<quiz>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except BaseException as e:
        error = type(e).__name__
    return {"stdout": out.getvalue(), "error": error, "seconds": round(time.perf_counter() - start, 3)}

if len(sys.argv) > 2 and sys.argv[1] == "--one":
    print(json.dumps(run(json.loads(sys.argv[2]))))
    sys.exit(0)
# 常用的重模块只在这里导入一次（torchvision 在慢机器上要好几秒）；每段代码在 fork 出来的子进程里运行，
# 导入过的模块子进程直接可用，各段代码自己定义的变量和改动的设置互不相见
import importlib
for name in ("torch", "numpy", "PIL.Image", "torch.utils.data", "torchvision", "torchvision.transforms",
             "torchvision.transforms.v2", "torch.utils.tensorboard"):
    try:
        importlib.import_module(name)
    except Exception:
        pass
codes, limit = json.load(sys.stdin), int(sys.argv[1])
results = []
for code in codes:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        signal.alarm(limit)
        data = json.dumps(run(code)).encode()
        with os.fdopen(write, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    results.append(json.loads(data) if data else {"stdout": "", "error": f"超时（{limit} 秒）或进程崩溃（状态 {status}）"})
print(json.dumps(results))
"""


def run_snippets(codes: list[str], limit: int = SNIPPET_SECONDS) -> list[dict]:
    """在一个新的 Python 进程里运行每段代码（各自独立）；返回 [{"stdout": ..., "error": 异常类名或 None}]。"""
    if not codes:
        return []
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if hasattr(os, "fork"):
        done = subprocess.run([sys.executable, "-c", RUNNER, str(limit)], input=json.dumps(codes),
                              capture_output=True, text=True, timeout=limit * len(codes) + 60, env=env, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"测验代码的运行器出错：{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    results = []
    for code in codes:
        try:
            done = subprocess.run([sys.executable, "-c", RUNNER, "--one", json.dumps(code)], capture_output=True,
                                  text=True, timeout=limit + 30, env=env, cwd=ROOT)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        except (subprocess.TimeoutExpired, IndexError, ValueError):
            results.append({"stdout": "", "error": f"超时（{limit} 秒）或进程崩溃"})
    return results


def expected_error(choice: str) -> str | None:
    match = ERROR_CHOICE.fullmatch(choice)
    return match.group(1) if match else None


def matches(result: dict, choice: str) -> bool:
    """代码的运行结果是不是这个选项：stdout 去掉末尾空白后与选项相同；或者选项是「报错：Name」、
    代码抛出 Name 且之前什么也没打印。"""
    error = expected_error(choice)
    if error is not None:
        return result["error"] == error and not result["stdout"].strip()
    return result["error"] is None and result["stdout"].rstrip() == choice


def truth_problems(data, chapter: int) -> tuple[list[str], int]:
    """运行每道 predict 题和带 raises 的题的代码，比对答案；返回 (问题, 运行了几段)。"""
    where = f"quizzes/{chapter:02d}.yml"
    jobs = [(n, q) for n, q in enumerate(data["questions"], 1) if q["kind"] == "predict" or "raises" in q]
    results = run_snippets([q["code"] for _, q in jobs])
    out = []
    for (number, q), result in zip(jobs, results):
        here = f"{where} 第 {number} 题"
        shown = f"stdout={result['stdout'].rstrip()!r}，异常={result['error']}"
        if "raises" in q and result["error"] != q["raises"]:
            out.append(f"{here}：代码应当抛出 {q['raises']}，实际 {shown}")
        if q["kind"] != "predict":
            continue
        right = q["choices"][q["answer"]]
        if not matches(result, right):
            out.append(f"{here}：标出的答案是 {right!r}，运行结果是 {shown}")
        others = [c for i, c in enumerate(q["choices"]) if i != q["answer"] and matches(result, c)]
        if others:
            out.append(f"{here}：运行结果也等于别的选项 {others}")
    return out, len(jobs)


# ---------------------------------------------------------------- 笔记本

GUIDE = """\
**怎样做这份测验（学生版）**：先在下面的「学号」单元里填上你的学号，从头运行全部单元（Run All）。然后逐题作答：
把你选的字母填进这一题的答案单元（例如 `答案_1 = "B"`），运行它，再运行下面的自检单元——✔ 表示答对了，
✘ 会说明为什么不对，解释后面写着讲这一点的那一节。预测输出的题，自检之后可以运行题目后面的代码，亲眼看看输出。
每题 {points} 分，本测验共 {total} 分。交作业时交这个笔记本本身（不要改文件名）；老师评分时（make grade）只读你的答案单元。"""


def _choice_markdown(letter: str, choice: str, kind: str) -> str:
    if kind == "predict":
        if "\n" in choice or "`" in choice:
            return f"**{letter}.**\n\n```text\n{choice}\n```"
        return f"**{letter}.** `{choice}`"
    return f"**{letter}.** {one_line(choice)}"


def _guarded(code: str) -> str:
    """会报错的代码：包进 try，打印错误的类型和信息，笔记本仍能从头运行到尾。"""
    body = "\n".join(("    " + line) if line.strip() else "" for line in code.rstrip("\n").splitlines())
    return f"try:\n{body}\nexcept Exception as error:\n    print(f\"报错：{{type(error).__name__}}: {{error}}\")\n"


def check_source(number: int, q: dict) -> str:
    """第 number 题的检查（学生版里压缩后交给 self_check；评分时原样运行）。"""
    letters = LETTERS[: len(q["choices"])]
    name = f"答案_{number}"
    allowed = "、".join(letters)
    see = f"（讲解见「{page_title(q['see'])}」）"
    explain = one_line(q["explain"])
    empty = f'还没有作答：在上面的答案单元里填一个字母，例如 {name} = "A"，运行它，再运行本单元。'
    wrong_letter = f"只能填 {allowed} 中的一个字母。"
    wrong = "不对。" + explain + see
    right = "答对了。" + explain + see
    return (
        f"assert isinstance({name}, str) and {name}.strip(), {empty!r}\n"
        f"assert {name}.strip().upper() in {tuple(letters)!r}, {wrong_letter!r}\n"
        f"assert {name}.strip().upper() == {LETTERS[q['answer']]!r}, {wrong!r}\n"
        f"print({right!r})\n"
    )


def teacher_notebook(chapter: int | str):
    """测验写成一章“教师版”笔记本（带参考答案和 remove-cell 检查），格式与各章的 `## 练习` 相同，
    student.student_notebook 由它生成学生版，grade.py 由它重建检查。chapter 可以是章号或 "01_quiz"。"""
    if isinstance(chapter, str):
        number = chapter_of_name(chapter)
        if number is None:
            raise ValueError(f"没有这份测验：{chapter}")
        chapter = number
    data = load(chapter)
    errors = problems(data, chapter)
    if errors:
        raise ValueError("\n".join(errors))
    questions = data["questions"]
    new_md, new_code_cell = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        new_md(f"# 第 {chapter} 章测验：{chapter_title(chapter).split(' ', 1)[-1]}\n\n"
               f"共 {len(questions)} 道题：预测输出、找错、判断笔记里的说法。网站上的同一份测验点一下就有反馈；"
               f"这里把答案填进答案单元，用自检单元检查。", id="quiz-title"),
        new_md("## 练习\n\n每题选一个字母。", id="quiz-exercises"),
    ]
    for number, q in enumerate(questions, 1):
        letters = LETTERS[: len(q["choices"])]
        parts = [f"**练习 {number}.**（{KINDS[q['kind']]}）{one_line(q['prompt'])}"]
        if q.get("code"):
            parts.append(f"```python\n{q['code'].rstrip()}\n```")
        parts += [_choice_markdown(letter, choice, q["kind"]) for letter, choice in zip(letters, q["choices"])]
        quoted = "、".join(f'"{x}"' for x in letters)
        parts.append(f"把你选的字母填进 `答案_{number}`（{quoted} 之一）。")
        cells.append(new_md("\n\n".join(parts), id=f"quiz-question-{number}"))
        cells.append(new_code_cell(f"# 参考答案 {number}\n答案_{number} = \"{LETTERS[q['answer']]}\"\n",
                                   metadata={"tags": ["hide-cell"]}, id=f"quiz-answer-{number}"))
        cells.append(new_code_cell(check_source(number, q), metadata={"tags": ["remove-cell"]}, id=f"quiz-check-{number}"))
        if q["kind"] == "predict":
            code = q["code"].rstrip("\n") + "\n"
            if expected_error(q["choices"][q["answer"]]):
                code = _guarded(code)
            cells.append(new_code_cell("# 作答并自检之后，运行本单元，看看实际的输出\n" + code, id=f"quiz-run-{number}"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["ptnotes_quiz"] = {"chapter": chapter}
    return nb


def student_quiz(chapter: int):
    """学生版测验笔记本：student.student_notebook 生成（同样的自检工具、压缩的检查、分数和学号单元），
    说明换成测验的说明，答案单元里写好 `答案_N = ""`，不加写文字回答的单元。"""
    sys.path.insert(0, str(ROOT / "tools"))
    import student

    teacher = teacher_notebook(chapter)
    out = student.student_notebook(teacher, f"{quiz_name(chapter)}.ipynb")
    meta = out.metadata["ptnotes_student"]
    cells = []
    for cell in out.cells:
        r = cell.metadata.get("ptnotes_student", {})
        if r.get("role") == "written":
            continue
        if r.get("role") == "guide":
            cell.source = GUIDE.format(points=student.POINTS, total=f"{meta['points']:g}")
        if r.get("role") == "answer":
            n = r["exercise"]
            letters = "、".join(f'"{x}"' for x in LETTERS[: len(load(chapter)["questions"][n - 1]["choices"])])
            cell.source = f"# 练习 {n}：把你选的字母（{letters} 之一）填进引号里，运行本单元，再运行下面的自检单元。\n答案_{n} = \"\"\n"
        cells.append(cell)
    out.cells = cells
    meta["written"] = []
    meta["quiz"] = chapter
    nbformat.validate(out)
    return out


def student_name(chapter: int) -> str:
    return f"{quiz_name(chapter)}_student.ipynb"


def write_students(out: Path, chapters: list[int] | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in chapters or existing():
        target = out / student_name(chapter)
        nbformat.write(student_quiz(chapter), target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=int, help="默认：quizzes/ 里的每一份测验")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="学生版的输出目录（默认 _build/student）")
    parser.add_argument("--check", action="store_true", help="只检查格式并运行预测题的代码，不写笔记本")
    args = parser.parse_args(argv)
    chapters = args.chapters or existing()
    if args.check:
        failed = []
        for chapter in chapters:
            data = load(chapter)
            found = problems(data, chapter)
            ran = 0
            if not found:
                found, ran = truth_problems(data, chapter)
            print(f"quizzes/{chapter:02d}.yml：{len(data.get('questions', []))} 道题，运行了 {ran} 段代码，"
                  + ("通过" if not found else f"{len(found)} 个问题"))
            failed += found
        for line in failed:
            print("  " + line)
        return 1 if failed else 0
    for target in write_students(args.out, chapters):
        shown = target.resolve().relative_to(ROOT) if target.resolve().is_relative_to(ROOT) else target
        print(f"{shown}: 测验（学生版）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
