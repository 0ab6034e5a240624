"""评分（make grade，tools/grade.py）：一个虚构的班交上来 12.3 节（12c_batchnorm）的作业。

班里有：参考答案、换了名字和写法的正确答案、错的、空的、把输出写死的、死循环、超大的内存分配、
重新定义 self_check 和改动库函数的、删文件的、学号没填的、坏文件。成绩表和反馈要与下面 EXPECTED 一致。
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import student  # noqa: E402

CHAPTER = "12c_batchnorm"

REFERENCE = student.reference_answers(nbformat.read(ROOT / "chapters" / f"{CHAPTER}.ipynb", as_version=4))
RIGHT_1, RIGHT_2 = ("\n\n".join(REFERENCE[(n, 1)]) for n in (1, 2))

# 同样正确，换了名字和写法
OTHER_1 = '''
def my_bn(t, eps=1e-5):
    axes = [d for d in range(t.dim()) if d != 1]
    mu = t.mean(dim=axes, keepdim=True)
    var = ((t - mu) ** 2).mean(dim=axes, keepdim=True)
    return (t - mu) / torch.sqrt(var + eps)
'''
OTHER_2 = '''
def without_bias(seq):
    lin, norm = seq[0], seq[1]
    fresh = nn.Linear(lin.in_features, lin.out_features, bias=False)
    with torch.no_grad():
        fresh.weight.copy_(lin.weight)
    return nn.Sequential(fresh, copy.deepcopy(norm))
'''
WRONG_1 = '''
def my_bn(x, eps=1e-5):          # 用了无偏方差，还只在第 0 维上求
    return (x - x.mean(0, keepdim=True)) / torch.sqrt(x.var(0, keepdim=True) + eps)
'''
WRONG_2 = '''
def without_bias(model):         # 直接改了原模型
    model[0].bias = None
    return model
'''
# 写死：只对题目里看得到的输入给出“答案”
HARD_1 = '''
_seen = torch.randn(4, 3)
def my_bn(x, eps=1e-5):
    return torch.zeros_like(x)
'''
HARD_2 = '''
def without_bias(model):
    return nn.Sequential(nn.Linear(5, 3, bias=False), nn.BatchNorm1d(3))
'''
LOOP = "while True:\n    pass\n"
HOG = "huge = torch.ones(3 * 2**30)   # 12 GiB\nhuge += 1\n"
CHEAT = '''
def self_check(*args, **kwargs):
    print("✔ 练习 1 通过（1 分）")
torch.allclose = lambda *a, **k: True
def my_bn(x, eps=1e-5):
    return x
'''
DELETE = '''
import os, shutil
shutil.rmtree("../data", ignore_errors=True)
os.remove("ptnotes.py")
'''

# 学号 → (练习 1 的答案, 练习 2 的答案, 期望的得分, 「需要复查」里应有的字)
CLASS = {
    "s01": (RIGHT_1, RIGHT_2, [1, 1], None),
    "s02": (OTHER_1, OTHER_2, [1, 1], None),
    "s03": (WRONG_1, WRONG_2, [0, 0], None),
    "s04": ("", "", [0, 0], None),
    "s05": (HARD_1, HARD_2, [0, 0], None),
    "s06": (LOOP, RIGHT_2, [0, 1], None),
    "s07": (HOG + RIGHT_1, RIGHT_2, [0, 1], None),
    "s08": (CHEAT, RIGHT_2, [0, 1], "torch.allclose"),   # 改动的库函数在检查前被放回去
    "a00": (DELETE + RIGHT_1, RIGHT_2, [1, 1], "删除"),     # 排在最前面：删的是副本，后面的作业照常评
}


def submission(student_id: str, answer1: str, answer2: str, fill_id: bool = True):
    nb = student.student_notebook(nbformat.read(ROOT / "chapters" / f"{CHAPTER}.ipynb", as_version=4), f"{CHAPTER}.ipynb")
    for cell in nb.cells:
        r = cell.metadata.get("ptnotes_student", {})
        if r.get("role") == "student-id" and fill_id:
            cell.source = cell.source.replace('STUDENT_ID = ""', f'STUDENT_ID = "{student_id}"')
        if r.get("role") == "answer":
            cell.source += {1: answer1, 2: answer2}[r["exercise"]]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for sid, (a1, a2, _, _) in CLASS.items():
        (folder / sid).mkdir()
        nbformat.write(submission(sid, a1, a2), folder / sid / f"{CHAPTER}_student.ipynb")
    # 学号没填（用文件夹名），正文被改坏、自检单元被删（都不影响分数）
    nb = submission("", RIGHT_1, RIGHT_2, fill_id=False)
    nb.cells = [c for c in nb.cells if c.metadata.get("ptnotes_student", {}).get("role") != "check"]
    for cell in nb.cells:
        if cell.cell_type == "code" and "ptnotes_student" not in cell.metadata and "import" in cell.source:
            cell.source += "\nraise SystemExit('正文被改坏了')\n"
            break
    (folder / "s09").mkdir()
    nbformat.write(nb, folder / "s09" / f"{CHAPTER}_student.ipynb")
    (folder / "s10").mkdir()
    (folder / "s10" / f"{CHAPTER}_student.ipynb").write_text("{不是 JSON", encoding="utf-8")
    out = tmp_path_factory.mktemp("grades")
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    done = subprocess.run(["make", "--no-print-directory", "grade", f"SUBMISSIONS={folder}", f"GRADES={out}",
                           "GRADE_FLAGS=--cell-timeout 20 --memory-gb 4 --jobs 2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    print(done.stdout[-4000:], done.stderr[-3000:])
    assert done.returncode == 0
    with (out / "gradebook.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return out, {row["学号"]: row for row in rows}, done.stdout


def test_the_gradebook_scores_every_kind_of_answer(graded):
    out, rows, _ = graded
    print((out / "gradebook.csv").read_text(encoding="utf-8-sig"))
    for sid, (_, _, points, review) in CLASS.items():
        row = rows[sid]
        assert [float(row["练习1"]), float(row["练习2"])] == points, (sid, row)
        assert float(row["总分"]) == sum(points) and float(row["满分"]) == 2
        if review:
            assert review in row["需要复查"], (sid, row["需要复查"])
    assert not rows["s01"]["需要复查"] and not rows["s02"]["需要复查"]
    # 学号没填：用文件夹名，写明；改坏的正文和删掉的自检单元不算数
    assert [float(rows["s09"]["练习1"]), float(rows["s09"]["练习2"])] == [1, 1] and "学号" in rows["s09"]["需要复查"]
    # 坏文件：一行说明，不中断全班的评分
    assert "读不了" in rows["s10"]["需要复查"] and rows["s10"]["总分"] == "0"


def test_feedback_is_chinese_and_does_not_reveal_the_checks(graded):
    out, _, _ = graded
    text = (out / "feedback" / f"s03_{CHAPTER}.md").read_text(encoding="utf-8")
    assert "得分：0 / 2" in text and "练习 1：✘ 没通过：检查不成立" in text
    assert "BatchNorm" not in text and "_shape" not in text   # 检查代码不出现在反馈里
    text = (out / "feedback" / f"s06_{CHAPTER}.md").read_text(encoding="utf-8")
    assert "练习 1：✘ 没通过" in text and "超过 20 秒，被打断" in text and "练习 2：✔ 通过" in text
    text = (out / "feedback" / f"s07_{CHAPTER}.md").read_text(encoding="utf-8")
    assert "练习 1：✘ 没通过" in text and "RuntimeError" in text and "练习 2：✔ 通过" in text
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        f"{sid}_{CHAPTER}.md" for sid in [*CLASS, "s09"]) + ["s10_.md"]


def test_the_repository_is_untouched(graded):
    assert (ROOT / "chapters" / "ptnotes.py").is_file()
    assert (ROOT / "data" / "SHA256SUMS").is_file() and (ROOT / "data" / "hymenoptera_data.tar.gz").is_file()


def test_a_lab_submission_is_recognised_like_a_chapter(tmp_path):
    """实验和大作业（chapters/lab1_images 等）的学生版和各章一样评分：从元数据 ptnotes_student.chapter 或文件名认出是哪一页。"""
    import grade

    lab = nbformat.v4.new_notebook(metadata={"ptnotes_student": {"chapter": "lab1_images"}})
    assert grade.chapter_of(lab, tmp_path / "renamed.ipynb") == "lab1_images"
    assert grade.chapter_of(nbformat.v4.new_notebook(), tmp_path / "lab1_images_student.ipynb") == "lab1_images"
    with pytest.raises(ValueError):
        grade.chapter_of(nbformat.v4.new_notebook(), tmp_path / "lab9_nothing_student.ipynb")
