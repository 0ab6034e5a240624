"""离线包（make bundle）：一个 zip，解开到空目录里就能运行，不用联网。

学生包（make student-bundle）：发给学生的 zip，学生版代替带参考答案的原章，只有运行课程所需的依赖。
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import zipfile

import nbformat
import pytest

from conftest import ROOT, toc_entries
from webserver import closed_url, offline_env

TOP = "pytorch-shizhan-biji-offline"
CHAPTER = "05f_v2_datasets.ipynb"  # 两份数据都用到（5.6 节）


def make_zip(target: str, variable: str, output):
    """make target variable=output（不带外层 make 的并行设置），返回 output。"""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    result = subprocess.run(["make", "--no-print-directory", target, f"{variable}={output}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    print(result.stdout.strip())
    return output


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """用 make bundle 生成离线包（输出到临时目录，不碰 _build/）。"""
    return make_zip("bundle", "BUNDLE", tmp_path_factory.mktemp("bundle") / "offline.zip")


def test_bundle_holds_every_chapter_ptnotes_data_requirements_and_a_readme(bundle):
    chapters = [entry.removeprefix("chapters/") + ".ipynb" for entry in toc_entries() if entry.startswith("chapters/")]
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert all(name.startswith(f"{TOP}/") for name in names)
        files = {name.removeprefix(f"{TOP}/"): name for name in names}
        assert set(files) == {"README.md", "ptnotes.py", "requirements.txt", "constraints.txt", "data/SHA256SUMS",
                              "data/hymenoptera_data.tar.gz", "data/cifar10_jpg.tar.gz", *chapters}
        for name in chapters:
            assert zf.read(files[name]) == (ROOT / "chapters" / name).read_bytes(), name
        assert zf.read(files["ptnotes.py"]) == (ROOT / "chapters" / "ptnotes.py").read_bytes()
        for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines():
            sha, name = line.split()
            assert hashlib.sha256(zf.read(files[f"data/{name}"])).hexdigest() == sha
        for name in ("requirements.txt", "constraints.txt"):
            assert zf.read(files[name]) == (ROOT / name).read_bytes()
        readme = zf.read(files["README.md"]).decode("utf-8")
    assert "pip install -r requirements.txt -c constraints.txt" in readme
    assert "## 数据在哪里" in readme and "不联网" in readme
    print(f"{bundle.stat().st_size / 1e6:.1f} MB")


@pytest.mark.alone
def test_a_chapter_runs_offline_from_the_unzipped_bundle(bundle, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    notebook = folder / TOP / CHAPTER
    code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    assert "ptnotes.hymenoptera(" in code and "ptnotes.cifar10(" in code
    # 任何下载都会失败：课程仓库的地址指向关着的端口，别的 HTTP(S) 走一个关着的代理
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env = offline_env(env)
    env["PTNOTES_PY_URL"] = closed_url() + "/chapters/ptnotes.py"
    env["PTNOTES_DATA_URL"] = closed_url() + "/data"
    result = subprocess.run(["make", "--no-print-directory", "test-notebooks", f"NB={notebook}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # 用的是包里 data/ 的压缩包，解压在它旁边
    assert (folder / TOP / "data" / "hymenoptera_data" / ".ptnotes-complete").is_file()
    assert sorted(p.name for p in (folder / TOP / "data").iterdir() if p.is_file()) == [
        "SHA256SUMS", "cifar10_jpg.tar.gz", "hymenoptera_data.tar.gz"]


# 学生包（make student-bundle）：发给学生的 zip，学生版代替原章，没有参考答案
STUDENT_TOP = "pytorch-shizhan-biji-student"
AUTHORING = ("jupyter-book", "sphinx", "myst", "nbval", "pytest", "playwright", "pypdf", "jieba", "jupytext", "xdist")


def make_student_bundle(output):
    return make_zip("student-bundle", "STUDENT_BUNDLE", output)


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory):
    """用 make student-bundle 生成学生包（输出到临时目录，不碰 _build/）。"""
    return make_student_bundle(tmp_path_factory.mktemp("student-bundle") / "student.zip")


def test_student_bundle_holds_student_copies_overviews_ptnotes_data_and_lean_requirements(student_bundle):
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import student

    pages = [ROOT / f"{entry}.ipynb" for entry in toc_entries() if entry.startswith("chapters/")]
    exercises = set(student.toc_chapters())
    overviews = [p.name for p in pages if p not in exercises]
    copies = [student.student_name(p) for p in pages if p in exercises]
    import quiz
    quizzes = {quiz.student_name(n): n for n in quiz.existing()}     # 每章一份测验的学生版（tools/quiz.py）
    assert "02_tensors.ipynb" in overviews and "01_setup_student.ipynb" in copies
    with zipfile.ZipFile(student_bundle) as zf:
        names = zf.namelist()
        assert all(name.startswith(f"{STUDENT_TOP}/") for name in names)
        files = {name.removeprefix(f"{STUDENT_TOP}/"): name for name in names}
        assert set(files) == {"README.md", "ptnotes.py", "requirements.txt", "data/SHA256SUMS",
                              "data/hymenoptera_data.tar.gz", "data/cifar10_jpg.tar.gz", *overviews, *copies, *quizzes}
        assert len(names) == len(files)
        # 学生版与 make student 写出的相同；概览页只有文字，原样放入
        for path in pages:
            if path in exercises:
                nb = nbformat.reads(zf.read(files[student.student_name(path)]).decode("utf-8"), as_version=4)
                assert nb == student.student_notebook(nbformat.read(path, as_version=4), path.name), path.name
            else:
                assert zf.read(files[path.name]) == path.read_bytes(), path.name
                assert not any(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells), path.name
        for name, number in quizzes.items():
            assert nbformat.reads(zf.read(files[name]).decode("utf-8"), as_version=4) == quiz.student_quiz(number), name
        assert zf.read(files["ptnotes.py"]) == (ROOT / "chapters" / "ptnotes.py").read_bytes()
        for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines():
            sha, name = line.split()
            assert hashlib.sha256(zf.read(files[f"data/{name}"])).hexdigest() == sha
        assert zf.read(files["data/SHA256SUMS"]) == (ROOT / "data" / "SHA256SUMS").read_bytes()
        requirements = zf.read(files["requirements.txt"]).decode("utf-8")
        readme = zf.read(files["README.md"]).decode("utf-8")
    assert requirements == (ROOT / "requirements-student.txt").read_text(encoding="utf-8")
    pinned = [line.split("==")[0].lower() for line in requirements.splitlines() if "==" in line and not line.startswith("#")]
    assert "torch" in pinned and "jupyterlab" in pinned
    assert not [n for n in pinned if any(tool in n for tool in AUTHORING)], pinned
    # 说明：安装（CPU 版 torch、国内镜像）、运行、不含答案、交作业
    torch_pin = next(line for line in requirements.splitlines() if line.startswith("torch=="))
    for text in (f"pip install {torch_pin} torchvision==", "--index-url https://download.pytorch.org/whl/cpu",
                 "pip install -r requirements.txt", "https://pypi.tuna.tsinghua.edu.cn/simple",
                 "https://mirrors.aliyun.com/pypi/simple/", "https://mirrors.aliyun.com/pytorch-wheels/cpu/",
                 "jupyter lab", "不含参考答案", "STUDENT_ID", "不要改文件名", "`data/`"):
        assert text in readme, text
    assert "constraints.txt" not in readme
    print(f"学生包：{len(names)} 个文件，{student_bundle.stat().st_size / 1e6:.1f} MB")


def test_student_bundle_has_no_answers(student_bundle):
    with zipfile.ZipFile(student_bundle) as zf:
        notebooks = {name: nbformat.reads(zf.read(name).decode("utf-8"), as_version=4)
                     for name in zf.namelist() if name.endswith(".ipynb")}
    assert len(notebooks) > 50
    for name, nb in notebooks.items():
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not [c.source[:60] for c in code if "参考答案" in c.source], name
        assert not [c for c in nb.cells if c.source.lstrip().startswith("# 参考答案")], name
        if not code:
            continue   # 只有文字的概览页
        # 学生版的结构：`## 练习` 后面是各练习的答案单元和自检单元（检查看得见），没有隐藏的单元
        heading = next(i for i, c in enumerate(nb.cells)
                       if c.cell_type == "markdown" and re.search(r"^## 练习\s*$", c.source, re.M))
        after = nb.cells[heading + 1:]
        assert not [c.source[:60] for c in after if {"remove-cell", "hide-cell"} & set(c.metadata.get("tags", []))], name
        roles = [c.metadata.get("ptnotes_student", {}).get("role") for c in after]
        assert "answer" in roles and "check" in roles, name
        ids = [c for c in nb.cells if c.metadata.get("ptnotes_student", {}).get("role") == "student-id"]
        assert len(ids) == 1 and "STUDENT_ID" in ids[0].source, name   # 说明里让学生在这里填学号


def test_student_bundle_is_reproducible(student_bundle, tmp_path):
    again = make_student_bundle(tmp_path / "again.zip")
    assert again.read_bytes() == student_bundle.read_bytes()
