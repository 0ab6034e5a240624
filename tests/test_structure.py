"""目录与笔记本的结构：每个笔记本都在目录里、都是从头到尾运行后保存的、都有一章该有的部分。"""

import json
import re
import sys

import pytest
import yaml

from conftest import ROOT, gpu_page, toc_entries

NOTEBOOKS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))


def test_every_toc_entry_exists():
    for entry in toc_entries():
        matches = [p for p in ROOT.glob(entry + ".*") if p.suffix in {".md", ".ipynb"}]
        assert len(matches) == 1, f"_toc.yml names {entry}, found {matches}"


def test_every_notebook_is_in_the_toc():
    listed = set(toc_entries())
    missing = [p.name for p in NOTEBOOKS if str(p.relative_to(ROOT).with_suffix("")) not in listed]
    assert NOTEBOOKS and not missing, f"not in _toc.yml: {missing}"


LAB = re.compile(r"(?:lab(\d+)|capstone)_\w+")   # 实验（lab1_images …）与大作业（capstone_…）：跨几章，没有章号


def course_order(doc: str):
    """目录里各页的顺序：按文件名（章号、章节页、小节页），只有在 GPU 上记录的页（元数据 ptnotes.gpu_page，如 14a、14b）
    排在本章其余各节之后：它们在 GPU 上实测前面各节讲的内容。实验按编号排在各章之后，大作业最后。"""
    lab = LAB.fullmatch(doc.removeprefix("chapters/"))
    if lab:
        return (2, 0, False, doc) if lab.group(1) is None else (1, int(lab.group(1)), False, doc)
    return 0, doc[: len("chapters/NN")], gpu_page(doc), doc


def test_toc_parts_in_course_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    order = ["基础", "数据", "模型", "训练", "实验与大作业", "附录"]
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == [c for c in order if c in captions], captions
    for part in toc["parts"]:     # 实验与大作业都在「实验与大作业」这一部分里，这一部分里只有它们
        labs = [LAB.fullmatch(e["file"].removeprefix("chapters/")) is not None for e in part["chapters"]]
        assert all(labs) if part["caption"] == "实验与大作业" else not any(labs), f"{part['caption']}: 实验与大作业放在「实验与大作业」部分"
    chapters = [e["file"] for part in toc["parts"] for e in part["chapters"] if e["file"].startswith("chapters/")]
    assert chapters == sorted(chapters, key=course_order), "chapters must appear in numeric order (GPU pages last in their chapter)"


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_as_one_clean_run(path):
    code = [c for c in cells(path) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), f"execution counts {counts}: re-run with make run NB={path.relative_to(ROOT)}"
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, "a stored output is an error"


ADDRESS = re.compile(r"0x[0-9a-fA-F]{8,}")
MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/work/|site-packages|/tmp/)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_show_no_addresses_or_machine_paths(path):
    for c in cells(path):
        for o in c.get("outputs", []):
            text = "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
            assert not ADDRESS.search(text), f"memory address in output: {text[:120]!r}"
            assert not MACHINE_PATH.search(text), f"machine path in output: {text[:120]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_shape(path):
    nb = cells(path)
    md = "\n".join("".join(c["source"]) for c in nb if c["cell_type"] == "markdown")
    if LAB.fullmatch(path.stem):
        lab_shape(path, nb, md)
        return
    number = int(path.name[:2])
    section = re.match(r"\d\d[a-z]_", path.name)       # 一章的小节页（如 14a_...）：标题 '# N.M 标题'，没有本章目标
    if not section and not any(c["cell_type"] == "code" for c in nb):
        # 分成小节的一章（如 02_tensors）：章节页只有文字：为什么、本章目标、本章各节（链接到每一个小节页）
        assert md.lstrip().startswith(f"# {number}. "), "title cell must be '# N. 标题'"
        assert "## 本章目标" in md and "## 本章各节" in md, "a chapter page without code needs 本章目标 and 本章各节"
        sections = sorted((p.stem for p in NOTEBOOKS if re.match(rf"{number:02d}[a-z]_", p.name)),
                          key=lambda stem: course_order(f"chapters/{stem}"))
        assert sections, "a chapter page without code must have section pages"
        listing = md.split("## 本章各节", 1)[1].split("\n## ", 1)[0]        # 「本章各节」这一节：本章自己的小节页，按顺序
        linked = list(dict.fromkeys(re.findall(rf"\{{doc\}}`(?:[^`<]*<)?({number:02d}[a-z]_\w+)>?`", listing)))
        assert linked == sections, f"本章各节 must link every section page in order: {linked} vs {sections}"
        return
    if section:
        assert re.match(rf"# {number}\.\d+ ", md.lstrip()), "title cell of a section page must be '# N.M 标题'"
    else:
        assert md.lstrip().startswith(f"# {number}. "), "title cell must be '# N. 标题'"
    for heading in ("## 小结", "## 练习") if section else ("## 本章目标", "## 小结", "## 练习"):
        assert heading in md, f"missing {heading}"
    tags = [set(c.get("metadata", {}).get("tags", [])) for c in nb]
    answers = [c for c, t in zip(nb, tags) if "hide-cell" in t and "".join(c["source"]).lstrip().startswith("# 参考答案")]
    least = 2 if section else 3                          # 小节页短，两个练习就够
    assert least <= len(answers), f"练习 needs at least {least} 参考答案 cells (hide-cell, starting with '# 参考答案')"
    checks = [t for t in tags if "remove-cell" in t]
    assert checks, "claims must be checked by asserts in remove-cell cells"


def lab_shape(path, nb, md):
    """实验（lab1_images …）与大作业（capstone_…）：标题 '# 实验 N：标题'（N 与文件名相同）或 '# 大作业：标题'，
    开头用 {doc} 链接它用到的各章；`## 练习` 下面至少三个参考答案（hide-cell，'# 参考答案 N' 开头）和 remove-cell 检查，
    之后是 `## 小结`。"""
    lab = LAB.fullmatch(path.stem)
    title = f"# 实验 {int(lab.group(1))}：" if lab.group(1) else "# 大作业："
    assert md.lstrip().startswith(title), f"title cell must be '{title}标题'"
    assert re.search(r"^## 练习\s*$", md, re.M) and re.search(r"^## 小结\s*$", md, re.M), "a lab needs ## 练习 and ## 小结"
    intro = re.split(r"^## 练习\s*$", md, maxsplit=1, flags=re.M)[0]
    assert re.search(r"\{doc\}`(?:[^`<]*<)?\d\d[a-z]?_\w+>?`", intro), "the intro must link the chapters the lab draws on with {doc}"
    heading = next(i for i, c in enumerate(nb) if c["cell_type"] == "markdown" and re.search(r"^## 练习\s*$", "".join(c["source"]), re.M))
    tags = [set(c.get("metadata", {}).get("tags", [])) for c in nb]
    answers = [i for i, (c, t) in enumerate(zip(nb, tags))
               if "hide-cell" in t and "".join(c["source"]).lstrip().startswith("# 参考答案")]
    assert len(answers) >= 3 and min(answers) > heading, "a lab needs at least 3 参考答案 cells (hide-cell) under ## 练习"
    assert any("remove-cell" in t for t in tags[heading:]), "answers must be checked by asserts in remove-cell cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernelspec(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_ptnotes_bootstrap_is_the_same_everywhere_and_points_at_this_repo():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    expected = f'PTNOTES_URL = "https://raw.githubusercontent.com/{repo}/{config["repository"]["branch"]}/chapters/ptnotes.py"'
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    snippet = guide.split("```python\n", 1)[1].split("```", 1)[0].strip().splitlines()[1:]  # 去掉 import 行
    assert expected in snippet
    users = 0
    for path in NOTEBOOKS:
        code = "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "code")
        if "import ptnotes" in code:
            users += 1
            assert "\n".join(snippet) in code, f"{path.name}: the ptnotes bootstrap differs from CONTRIBUTING.md"
    assert users >= 4


WARNING_LINE = re.compile(r"\b\w*Warning\b")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_show_no_warnings(path):
    """make run 和 nbval 都用 PYTHONWARNINGS=default 运行：存下的输出里不能有警告。

    正文要讲的警告在单元里用 warnings.catch_warnings(record=True) 接住再打印到 stdout；
    stderr 上出现的警告文字都是没人处理的。
    """
    for number, c in enumerate((c for c in cells(path) if c["cell_type"] == "code"), 1):
        for o in c.get("outputs", []):
            if o["output_type"] == "stream" and o["name"] == "stderr":
                text = "".join(o["text"])
                assert not WARNING_LINE.search(text), f"code cell {number} shows a warning on stderr: {text[:300]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_exact_version_asserts_in_notebooks(path):
    """版本由 tests/test_versions.py 检查；笔记本里断言确切版本会让 Colab 里的读者卡住。"""
    for c in cells(path):
        src = "".join(c["source"])
        assert not re.search(r"assert[^\n]*__version__[^\n]*==", src), f"exact version assert: {src[:120]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_checks_are_folded_for_colab_and_jupyterlab(path):
    """学生在 Colab、JupyterLab 里看到的是讲解，不是光秃秃的 assert：每个隐藏的检查折叠成一行标题（tools/fold_checks.py）。"""
    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    import fold_checks

    nb = nbformat.read(path, as_version=4)
    bare = [i for i, c in enumerate(nb.cells) if fold_checks.is_check(c) and not fold_checks.folded(c)]
    assert not bare, f"cells {bare}: run tools/fold_checks.py"
