"""安装的版本与 requirements.txt 的锁定版本一致（笔记本里不断言版本，这里检查）。"""

import importlib.metadata
import re
from pathlib import Path

import pytest

from conftest import ROOT, toc_entries

PINS = [tuple(m.groups()) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)]


def test_requirements_are_all_pinned():
    lines = [l for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert len(lines) == len(PINS) and len(PINS) >= 10, lines


@pytest.mark.parametrize("name,version", PINS, ids=[n for n, _ in PINS])
def test_installed_version_matches_the_pin(name, version):
    installed = importlib.metadata.version(name)
    assert installed.split("+")[0] == version, f"{name}: installed {installed}, pinned {version}"


def test_minimum_torch_in_ptnotes_is_older_than_the_pin():
    from conftest import load_ptnotes

    ptnotes = load_ptnotes(ROOT / "chapters")
    ptnotes.check_torch()  # 锁定的版本满足课程的最低要求
    pinned = dict(PINS)["torch"]
    assert tuple(map(int, ptnotes.MIN_TORCH.split("."))) <= tuple(map(int, pinned.split(".")[:2]))


# 学生包的依赖（requirements-student.txt，make student-bundle）：只有运行各页要用的包，版本与 requirements.txt 相同
STUDENT_REQUIREMENTS = ROOT / "requirements-student.txt"
STUDENT_PINS = [tuple(m.groups()) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", STUDENT_REQUIREMENTS.read_text(), re.M)]
# 生成网站、PDF 和测试的工具：学生用不着（nbconvert 不在这里：jupyterlab 的 jupyter-server 依赖它）
AUTHORING = {"jupyter-book", "sphinx", "myst-nb", "myst-parser", "sphinx-book-theme", "pydata-sphinx-theme", "nbval",
             "pytest", "pytest-xdist", "playwright", "pypdf", "jieba", "jupytext", "jupyter-cache", "sphinx-thebe"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(names) -> set[str]:
    """这些包和它们（在本机的 .venv 里）递归依赖的包，按本机的平台取舍带条件的依赖，不含附加依赖（extras）。"""
    from packaging.requirements import Requirement

    seen, todo = set(), [normalized(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(normalized(requirement.name))
    return seen


def imported_modules() -> dict[str, set[str]]:
    """各页代码单元和 ptnotes.py 导入的顶层模块 → 导入它的文件；%%writefile 写出的模块是本页自己的，不算。"""
    import ast

    import nbformat

    sources: list[tuple[str, str]] = [("ptnotes.py", (ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8"))]
    local = {"ptnotes"}
    for entry in toc_entries():
        if not entry.startswith("chapters/"):
            continue
        path = ROOT / f"{entry}.ipynb"
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            lines = cell.source.splitlines()
            if lines and lines[0].startswith("%%writefile"):
                local.add(Path(lines[0].split()[-1]).stem)
                lines = lines[1:]
            code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
            sources.append((path.name, code))
    found: dict[str, set[str]] = {}
    for name, code in sources:
        for node in ast.walk(ast.parse(code, name)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.split(".")[0], set()).add(name)
    return {m: files for m, files in found.items() if m not in local}


def test_student_requirements_are_pinned_like_the_course():
    lines = [l for l in STUDENT_REQUIREMENTS.read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert len(lines) == len(STUDENT_PINS), lines
    course = dict(PINS)
    locked = dict(m.groups() for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "constraints.txt").read_text(), re.M))
    for name, version in STUDENT_PINS:
        assert course.get(name, locked.get(name)) == version, f"{name}=={version} 与 requirements.txt/constraints.txt 不同"
    assert {"torch", "torchvision", "jupyterlab", "ipykernel"} <= {n for n, _ in STUDENT_PINS}


def test_student_requirements_leave_out_the_authoring_tools():
    listed = {normalized(n) for n, _ in STUDENT_PINS}
    assert not listed & AUTHORING, sorted(listed & AUTHORING)
    pulled = requirement_closure(listed) & AUTHORING
    assert not pulled, f"这些写作工具被学生的依赖间接装上了：{sorted(pulled)}"


def test_every_module_the_pages_import_comes_with_the_student_requirements():
    import sys

    provided = requirement_closure(n for n, _ in STUDENT_PINS)
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module, files in sorted(imported_modules().items()):
        if module in sys.stdlib_module_names:
            continue
        if not {normalized(d) for d in distributions.get(module, [])} & provided:
            missing[module] = sorted(files)[:3]
    assert not missing, f"各页导入了这些模块，requirements-student.txt（和它的依赖）里却没有提供它们的包：{missing}"
    # 确实看到了各页的导入（包括只从依赖来的 PIL、packaging）
    assert {"torch", "torchvision", "tensorboard", "matplotlib", "numpy", "tqdm", "PIL", "packaging",
            "efficientnet_lite_pytorch"} <= set(imported_modules())
