"""给一个班交上来的学生版笔记本评分（make grade SUBMISSIONS=文件夹）。

用法：.venv/bin/python tools/grade.py 文件夹 [--out _build/grades] [--cell-timeout 300] [--timeout 1800]
                                    [--memory-gb 6] [--jobs 1]

文件夹里（可以分子文件夹）每个 `*_student.ipynb` 是一份作业。每份作业这样评：

* **检查用原来的**：从 chapters/ 里那一章重新生成学生版（tools/student.py），正文、检查都来自仓库；
  作业里只取答案单元（以及学生紧接着加在它下面的代码单元）的代码，填进去。学生改了正文、改了或删了自检单元、
  重新定义 `self_check`，都不影响分数：评分时不用 `self_check`，每个检查单元换成原来的检查代码，
  结尾打印一个每次评分随机生成的标记；只有标记打印出来、单元没有出错，这一段才算通过。
* **每份作业一个进程**：在自己的临时目录里运行（`ptnotes.py` 和数据的副本：删文件只删副本），
  每个单元最多 --cell-timeout 秒（死循环被打断，只丢那一题的分），整份最多 --timeout 秒；
  内存（数据段）最多 --memory-gb GiB（超大的分配失败，只丢那一题的分）；Linux 上用 `unshare -n` 断网
  （评分进程和内核在一个新的网络命名空间里，只有自己的 127.0.0.1），做不到时打印一行说明并照常评分。
* **答案里改动全局环境的代码**（给 `torch.xxx` 之类重新赋值、`get_ipython`、`builtins`、删文件……）不扣分，
  但在成绩表的「需要复查」一栏和反馈里写明，请老师看一眼：同一个进程里的代码总能想办法骗过检查，这一栏就是为此准备的。

输出（--out，默认 _build/grades/）：
* `gradebook.csv`：每份作业一行：学号、文件、章、每个练习的得分、总分、满分、需要复查的原因；
* `feedback/学号_章.md`：给学生的中文反馈：每个练习通过没有、没通过时是哪条检查（数值显示成 …，不泄露答案），
  以及学生写的文字回答（问「为什么」的练习，老师读）。

为什么不用 nbgrader 或 otter-grader：见 CONTRIBUTING.md「评分」。
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import csv
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import student  # noqa: E402
import quiz  # noqa: E402  章末测验（NN_quiz_student.ipynb）：检查由 quizzes/NN.yml 重建

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "_build" / "grades"
WORK = ROOT / "_build" / "grade_work"     # 和 data/ 在同一个文件系统上：数据用硬链接复制
SANDBOX: list[str] = []                    # 断网的命令前缀（main 里探测）

# 答案里出现这些写法时，请老师复查（不扣分）
SUSPICIOUS = {
    "get_ipython": "用到了 get_ipython（可以改动内核）",
    "builtins": "改动或读取 builtins",
    "sys.modules": "改动 sys.modules",
    "set_custom_exc": "改动内核的异常处理",
    "rmtree": "删除文件夹",
    "os.remove": "删除文件",
    "os.unlink": "删除文件",
    "subprocess": "运行外部命令",
    "self_check": "重新定义或调用了 self_check（评分不用它）",
    "globals()": "改动全局变量表",
}


@dataclass
class Result:
    file: str
    chapter: str = ""
    student_id: str = ""
    points: dict[str, float] = field(default_factory=dict)   # {"1": 1.0, ...}
    max_points: float = 0
    review: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    written: dict[int, str] = field(default_factory=dict)
    error: str = ""

    @property
    def total(self) -> float:
        return round(sum(self.points.values()), 2)


def role(cell) -> dict:
    return cell.get("metadata", {}).get("ptnotes_student", {})


def safe_id(text: str) -> str:
    """学号或文件夹名 → 能做文件名的一段（反馈文件 学号_章.md）。"""
    return re.sub(r"[^\w.-]", "_", text)[:64]


def chapter_of(nb, path: Path) -> str:
    meta = nb.metadata.get("ptnotes_student", {})
    name = meta.get("chapter") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not re.fullmatch(r"(?:[0-9]{2}[a-z]?|lab[0-9]+|capstone)_[a-z0-9_]+", name):
        name = path.name.removesuffix(".ipynb").removesuffix("_student")
    if not (ROOT / "chapters" / f"{name}.ipynb").is_file() and not quiz.is_quiz(name):
        raise ValueError(f"认不出这是哪一章的学生版（{path.name}）：文件名应是 NN_name_student.ipynb（实验：labN_name_student.ipynb）")
    return name


def student_id_of(nb, path: Path) -> tuple[str, bool]:
    """作业里学号单元的 STUDENT_ID；没填时用文件夹名或文件名，第二个值是 False。"""
    for cell in nb.cells:
        if role(cell).get("role") == "student-id":
            try:
                for node in ast.parse(cell.source).body:
                    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STUDENT_ID"
                                                            for t in node.targets):
                        value = ast.literal_eval(node.value)
                        if str(value).strip():
                            return safe_id(str(value).strip()), True
            except (SyntaxError, ValueError):
                pass
    fallback = path.parent.name if path.parent.name not in ("", ".") else path.stem
    return safe_id(fallback), False


def answers_of(nb) -> dict[tuple[int, int], str]:
    """{(练习, 部分): 代码}：答案单元，加上学生紧接着加在它下面的代码单元（没有 ptnotes_student 角色的）。"""
    found: dict[tuple[int, int], list[str]] = {}
    current = None
    for cell in nb.cells:
        r = role(cell)
        if r.get("role") == "answer":
            current = (int(r.get("exercise", 0)), int(r.get("part", 1)))
            found.setdefault(current, []).append(cell.source)
        elif r:
            current = None
        elif current is not None and cell.cell_type == "code":
            found[current].append(cell.source)
    return {k: "\n\n".join(v) for k, v in found.items()}


def written_of(nb) -> dict[int, str]:
    out = {}
    for cell in nb.cells:
        r = role(cell)
        if r.get("role") == "written":
            text = cell.source.split("：", 1)[-1].strip() if cell.source.startswith("**练习") else cell.source.strip()
            out[int(r.get("exercise", 0))] = text
    return out


def review_notes(source: str) -> list[str]:
    """答案里改动全局环境的写法（请老师复查）。"""
    notes = [why for token, why in SUSPICIOUS.items() if token in source]
    try:
        tree = ast.parse(student.python_source(source))
    except SyntaxError:
        return notes
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            base = target
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(target, ast.Attribute) and isinstance(base, ast.Name) and base.id in {
                    "torch", "nn", "F", "np", "numpy", "math", "ptnotes", "copy", "random", "os", "sys", "time"}:
                notes.append(f"给库函数重新赋值：{ast.unparse(target)} = …")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
            notes.append("用 setattr 改动对象（可能是库函数）")
    return list(dict.fromkeys(notes))


# 第一个答案之前记下库的模块和几个基类的属性；每个检查之前把被答案改掉的放回去
# （`torch.allclose = lambda *a, **k: True` 这样的答案骗不过检查）。名字带着每次评分随机的标记
SNAPSHOT = """\
import sys as _sys
{snap} = {{(_name, None): dict(vars(_module)) for _name, _module in list(_sys.modules.items())
          if _module is not None and _name.split(".")[0] in ("torch", "numpy", "math", "builtins", "copy", "random")}}
import torch as _torch
{snap}.update({{(None, _cls): dict(vars(_cls)) for _cls in (_torch.Tensor, _torch.nn.Module)}})
"""
RESTORE = """\
for (_name, _cls), _saved in {snap}.items():
    _owner = _cls if _cls is not None else __import__("sys").modules.get(_name)
    for _key, _value in _saved.items():
        try:
            if _owner is not None and _owner.__dict__.get(_key, None) is not _value:
                setattr(_owner, _key, _value)
        except (AttributeError, TypeError):
            pass"""


def grading_notebook(original, found, chapter: str, answers: dict[tuple[int, int], str], nonce: str):
    """原章（original，练习 found）的学生版，答案单元换成作业里的答案，检查单元换成原来的检查代码 + 标记。
    返回 (笔记本, 检查单元的 [(下标, 练习, 部分)], 答案单元的 [(下标, 练习, 部分)])。"""
    fresh = student.student_notebook(original, f"{chapter}.ipynb")
    checks = {(s.exercise, s.part): student.joined(original, s.checks) for s in found.steps}
    snap = f"_snapshot_{nonce.replace('-', '_')}"
    cells, marks, answer_at = [], [], []
    for cell in fresh.cells:
        r = role(cell)
        if r.get("role") == "answer":
            key = (r["exercise"], r["part"])
            if not answer_at:   # 第一个答案之前
                cells.append(nbformat.v4.new_code_cell(SNAPSHOT.format(snap=snap)))
            answer_at.append((len(cells), *key))
            cells.append(nbformat.v4.new_code_cell(answers.get(key, ""), metadata={"grade": "answer"}))
        elif r.get("role") == "check":
            key = (r["exercise"], r["part"])
            source = (f"# 评分：练习 {key[0]}（第 {key[1]} 部分）\n{RESTORE.format(snap=snap)}\n"
                      f"{checks[key]}\nprint({nonce!r}, {key[0]}, {key[1]})\n")
            marks.append((len(cells), *key))
            cells.append(nbformat.v4.new_code_cell(source, metadata={"grade": "check"}))
        elif r.get("role") in ("helper", "guide", "student-id", "written"):
            continue
        else:
            cells.append(cell)
    fresh.cells = cells
    return fresh, marks, answer_at


def sandbox_prefix() -> list[str]:
    """断网的命令前缀：Linux 上 unshare -n（root）或 unshare -rn；都不行时返回 []。"""
    if not shutil.which("unshare"):
        return []
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            pass
    return []


def loopback_up() -> None:
    """新的网络命名空间里只有一个关着的 lo：打开它，内核和评分进程之间的 127.0.0.1 才通（外面的网络仍然不通）。"""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0)))[1]   # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))                            # SIOCSIFFLAGS, IFF_UP


def prepare_data() -> None:
    """先在仓库里把数据解压好（和 make test 一样），每份作业的目录里只放硬链接的副本。"""
    sys.path.insert(0, str(ROOT / "chapters"))
    import ptnotes  # noqa: E402

    ptnotes.hymenoptera()
    ptnotes.cifar10_tensors(True)
    ptnotes.cifar10_tensors(False)


def copy_tree(source: Path, target: Path) -> None:
    """硬链接复制（删副本不影响原件）；跨文件系统时真复制。"""
    try:
        shutil.copytree(source, target, copy_function=os.link)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)


def grade_one(path: Path, args) -> Result:
    """在子进程里评一份作业（资源限制和超时只作用于它）。"""
    # 整个评分子进程（连同它启动的内核）在断了网的网络命名空间里，只有它自己的 127.0.0.1
    command = [*SANDBOX, sys.executable, str(Path(__file__).resolve()), "--one", str(path), *(["--netns"] if SANDBOX else []),
               "--cell-timeout", str(args.cell_timeout), "--memory-gb", str(args.memory_gb)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return Result(file=str(path), error=f"整份作业超过 {args.timeout} 秒，没有评完")
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        data = json.loads(last[0])
    except json.JSONDecodeError:
        return Result(file=str(path), error=f"评分进程出错：{(done.stderr.strip().splitlines() or ['?'])[-1][:200]}")
    data["written"] = {int(k): v for k, v in data.get("written", {}).items()}
    return Result(**data)


def last_error(outputs) -> tuple[str, str] | None:
    """单元输出里最后一个错误的 (类型, 信息的第一行)；没有错误时 None。"""
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return None
    return errors[-1].get("ename", ""), (str(errors[-1].get("evalue", "")).strip().splitlines() or [""])[0]


def explain(outputs, nonce: str) -> tuple[bool, str]:
    """一个检查单元的输出 → (通过?, 没通过时的一句中文)。"""
    error = last_error(outputs)
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    if error is None:
        return (True, "") if nonce in text else (False, "检查没有运行完")
    name, value = error
    if name == "NameError":
        missing = re.search(r"name '([^']+)'", value)
        return False, f"还没有定义 {missing.group(1) if missing else value}"
    if name == "AssertionError":
        return False, "检查不成立" + (f"（{value}）" if value else "")
    if name == "CellTimeoutError":
        return False, "运行超时"
    return False, f"运行检查时出错：{name}: {value[:160]}"


def run_one(path: Path, cell_timeout: int, memory_gb: float) -> Result:
    """（子进程里）评一份作业。"""
    from nbclient import NotebookClient

    result = Result(file=str(path))
    try:
        submission = nbformat.read(path, as_version=4)
        result.chapter = chapter_of(submission, path)
    except Exception as error:    # 坏文件、认不出的章
        result.error = f"读不了这份作业：{str(error).splitlines()[0][:160]}"
        result.student_id = safe_id(path.parent.name or path.stem)
        return result
    result.student_id, filled = student_id_of(submission, path)
    if not filled:
        result.review.append("没有填学号，用了文件夹名或文件名")
    if quiz.is_quiz(result.chapter):    # 测验：“原章”是由 YAML 生成的教师版（tools/quiz.py）
        original = quiz.teacher_notebook(result.chapter)
    else:
        original = nbformat.read(ROOT / "chapters" / f"{result.chapter}.ipynb", as_version=4)
    found = student.find_exercises(original, result.chapter)
    answers = answers_of(submission)
    nonce = "GRADE-" + secrets.token_hex(12)
    nb, marks, answer_at = grading_notebook(original, found, result.chapter, answers, nonce)
    result.review += review_notes("\n".join(answers.values()))
    result.written = written_of(submission)
    result.max_points = student.POINTS * len(found.numbers)

    WORK.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grade-", dir=WORK))
    try:
        (work / "chapters").mkdir()
        shutil.copy2(ROOT / "chapters" / "ptnotes.py", work / "chapters" / "ptnotes.py")
        copy_tree(ROOT / "data", work / "data")     # ptnotes 在 chapters/ 的上一级找 data/
        try:
            import resource     # 只有 Linux 和 macOS 有；别处不限内存
            limit = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        except (ImportError, ValueError, OSError):
            result.review.append("这台机器上没能限制内存")
        env_closed = "http://127.0.0.1:9"
        os.environ.update({"PTNOTES_DATA_URL": env_closed + "/data", "PTNOTES_PY_URL": env_closed + "/ptnotes.py",
                           "http_proxy": env_closed, "https_proxy": env_closed, "MPLBACKEND": "agg"})
        # 学生写的单元（答案、它后面的检查）最多 cell_timeout 秒；正文是仓库里的，和 nbval 一样最多 900 秒
        client = NotebookClient(nb, kernel_name="python3", allow_errors=True,
                                timeout_func=lambda cell: cell_timeout if cell.metadata.get("grade") else max(cell_timeout, 900),
                                interrupt_on_timeout=True, record_timing=False,
                                resources={"metadata": {"path": str(work / "chapters")}})
        try:
            client.execute()
        except Exception as error:    # 内核死掉（比如被内存限制杀掉）：没运行到的检查算没通过
            result.review.append(f"内核中途退出：{type(error).__name__}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    crashed = {}
    for index, exercise, part in answer_at:
        error = last_error(nb.cells[index].get("outputs", []))
        if error is not None:
            name, value = error
            crashed[(exercise, part)] = (f"超过 {cell_timeout} 秒，被打断" if name == "KeyboardInterrupt"
                                         else f"{name}: {value[:120]}")
    parts = {}
    for index, exercise, part in marks:
        ok, why = explain(nb.cells[index].get("outputs", []), nonce)
        if not ok and (exercise, part) in crashed:
            why += f"（你的答案单元运行时出错：{crashed[(exercise, part)]}）"
        parts.setdefault(exercise, []).append((part, ok, why))
    for exercise in found.numbers:
        got = parts.get(exercise, [])
        share = student.POINTS / max(len(got), 1)
        result.points[str(exercise)] = round(sum(share for _, ok, _ in got if ok), 2)
        for part, ok, why in got:
            label = f"练习 {exercise}" + (f"（第 {part} 部分）" if len(got) > 1 else "")
            result.feedback.append(f"- {label}：" + ("✔ 通过" if ok else f"✘ 没通过：{why}"))
    return result


def write_reports(results: list[Result], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    feedback = out / "feedback"
    shutil.rmtree(feedback, ignore_errors=True)
    feedback.mkdir()
    numbers = sorted({int(k) for r in results for k in r.points}) or [1]
    book = out / "gradebook.csv"
    with book.open("w", newline="", encoding="utf-8-sig") as f:   # utf-8-sig：Excel 打开时中文不乱码
        writer = csv.writer(f)
        writer.writerow(["学号", "文件", "章", *[f"练习{n}" for n in numbers], "总分", "满分", "需要复查"])
        for r in sorted(results, key=lambda r: (r.student_id, r.chapter, r.file)):
            notes = "；".join(([r.error] if r.error else []) + r.review)
            writer.writerow([r.student_id, Path(r.file).name, r.chapter,
                             *[r.points.get(str(n), "") for n in numbers], r.total, r.max_points, notes])
            if not r.student_id:
                continue
            lines = [f"# {r.chapter} 的作业反馈", "", f"学号：{r.student_id}　得分：{r.total:g} / {r.max_points:g}", ""]
            if r.error:
                lines += [f"这份作业没有评完：{r.error}", ""]
            lines += r.feedback
            if r.written:
                lines += ["", "## 你的文字回答（老师会读）", ""]
                lines += [f"- 练习 {n}：{text or '（没有写）'}" for n, text in sorted(r.written.items())]
            if r.review:
                lines += ["", "## 老师会再看一眼", "", *[f"- {note}" for note in r.review]]
            (feedback / f"{r.student_id}_{r.chapter}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return book


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--cell-timeout", type=int, default=300, help="每个单元最多几秒（默认 300）")
    parser.add_argument("--timeout", type=int, default=1800, help="每份作业最多几秒（默认 1800）")
    parser.add_argument("--memory-gb", type=float, default=6, help="每份作业的内存上限（GiB，默认 6）")
    parser.add_argument("--jobs", type=int, default=1, help="同时评几份（默认 1）")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--netns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        if args.netns:
            loopback_up()
        result = run_one(args.one, args.cell_timeout, args.memory_gb)
        print(json.dumps(result.__dict__, ensure_ascii=False))
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error("给一个放着作业的文件夹：make grade SUBMISSIONS=文件夹")
    files = sorted(p for p in args.submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not files:
        parser.error(f"{args.submissions} 里没有 .ipynb 文件")
    SANDBOX[:] = sandbox_prefix()
    if not SANDBOX:
        print("注意：这台机器不能给评分进程断网（没有可用的 unshare），照常评分。", file=sys.stderr)
    prepare_data()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = list(pool.map(lambda p: grade_one(p, args), files))
    book = write_reports(results, args.out)
    for r in sorted(results, key=lambda r: r.file):
        state = r.error or f"{r.total:g} / {r.max_points:g}"
        print(f"{r.student_id or '?'}\t{r.chapter or '?'}\t{state}" + (f"\t需要复查：{'；'.join(r.review)}" if r.review else ""))
    print(f"成绩表：{book}；反馈：{book.parent / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
