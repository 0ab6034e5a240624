"""教师页（appendix/teacher.md）与每章的「最后验证」一行。

* 教师页里生成的部分（课程安排、各章目标、学生版示例）与 _toc.yml、各章笔记本和 appendix/run_times.json 一致；
* 目录里的每一章都记录了产生它的输出的那次运行（make run 写进元数据 ptnotes_verified），而且之后没有被改过；
* 构建出的网站上，每章标题下和教师页上都有这一行；
* tools/run_notebook.py 确实记录这些信息，_ext/verified_line.py 在缺少或过期时让构建失败。
"""

import json
import re
import sys

import nbformat
import pytest
import yaml

from conftest import ROOT, load_module, toc_entries

sys.path.insert(0, str(ROOT / "tools"))
import run_notebook  # noqa: E402
import teacher  # noqa: E402

SITE = ROOT / "_build" / "html"
CHAPTERS = [e for e in toc_entries() if re.fullmatch(r"chapters/\d\d_\w+", e)]   # 各章本身，不含小节页（14a_...）


verified_line = load_module(ROOT / "_ext" / "verified_line.py", "verified_line_under_test")


def test_teacher_page_is_in_the_appendix_and_registered():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    appendix = next(p for p in toc["parts"] if p["caption"] == "附录")
    assert "appendix/teacher" in [e["file"] for e in appendix["chapters"]]
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["local_extensions"].get("verified_line") == "_ext", \
        "_config.yml 的 sphinx: local_extensions: 里要有 verified_line: _ext"


def test_generated_parts_are_current():
    page = teacher.PAGE.read_text(encoding="utf-8")
    try:
        expected = teacher.render(page)
    except teacher.TeacherPageError as e:
        pytest.fail(str(e))
    assert page == expected, "appendix/teacher.md 的生成部分不是最新的：运行 make teacher（先 make times 测出运行时间）"


def test_run_times_cover_exactly_the_toc_chapters():
    times = json.loads(teacher.TIMES.read_text(encoding="utf-8"))["chapters"]
    # 每一章运行的页：章节页（只有文字时除外）和它的小节页（在 GPU 上记录的除外）
    stems = [p for c in CHAPTERS for p in teacher.chapter_info(c.removeprefix("chapters/"))["pages"]]
    missing = [s for s in stems if s not in times]
    assert not missing, f"appendix/run_times.json 里没有 {missing}：运行 make times，再运行 make teacher"
    for stem in stems:
        assert times[stem]["seconds"] > 0 and re.fullmatch(r"\d{4}-\d\d-\d\d", times[stem]["date"])


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_records_the_run_its_outputs_came_from(chapter):
    try:
        text = verified_line.verified_text(ROOT / f"{chapter}.ipynb")
    except verified_line.ExtensionError as e:
        pytest.fail(str(e))
    assert text.startswith("最后验证：") and "torch " in text and "torchvision " in text and "数值配置" in text


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_site_shows_the_verified_line(chapter):
    assert (SITE / "index.html").is_file(), "没有找到 _build/html：先运行 make book（make test 会自动先构建）"
    line = verified_line.verified_text(ROOT / f"{chapter}.ipynb")
    page = (SITE / f"{chapter}.html").read_text(encoding="utf-8")
    plain = verified_line.plain_text(ROOT / f"{chapter}.ipynb")
    folded = re.search(r"</h1>\s*<details class=\"ptnotes-verified\"><summary>(.*?)</summary>\s*<p>(.*?)</p></details>", page)
    assert folded and folded.groups() == (plain, line), "章标题下面应是一句白话，点开是「最后验证」一行"
    assert "torch " in plain and ("CPU" in plain or "GPU" in plain)
    assert f'<p class="ptnotes-verified">{line}</p>' in (SITE / "appendix" / "teacher.html").read_text(encoding="utf-8")


def tiny_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 0. 测试"),
                nbformat.v4.new_code_cell("x = 6 * 7\nprint(x)"),
                nbformat.v4.new_code_cell("x + 1")]
    nbformat.write(nb, path)


def test_run_notebook_records_versions_and_fingerprint(tmp_path):
    path = tmp_path / "00_tiny.ipynb"
    tiny_notebook(path)
    run_notebook.run(path)
    nb = nbformat.read(path, as_version=4)
    assert len(nb.cells) == 3, "探测单元不能留在笔记本里"
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]
    meta = nb.metadata[run_notebook.METADATA_KEY]
    import torch
    import torchvision
    assert meta["torch"] == torch.__version__ and meta["torchvision"] == torchvision.__version__.split("+")[0]
    assert meta["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["threads"] >= 1 and meta["cpu_capability"] and re.fullmatch(r"\d{4}-\d\d-\d\d", meta["date"])
    assert meta["sha256"] == run_notebook.content_sha256(nb)
    line = verified_line.verified_text(path)
    assert line.startswith(f"最后验证：{meta['date']}，Python {meta['python']}，torch {meta['torch']}")
    # 之后改了输出而没有重新运行：构建失败，并给出修复命令
    nb.cells[1].outputs[0]["text"] = "43\n"
    nbformat.write(nb, path)
    with pytest.raises(verified_line.ExtensionError, match="make run NB="):
        verified_line.verified_text(path)
    # 改 markdown 或不改变输出的代码（如更新引导代码）不影响
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs[0]["text"] = "42\n"
    nb.cells[0].source = "# 0. 改过标题"
    nb.cells[1].source = "x = 42  # 改过注释\nprint(x)"
    nbformat.write(nb, path)
    assert verified_line.verified_text(path) == line


def test_build_fails_without_the_metadata(tmp_path):
    path = tmp_path / "00_tiny.ipynb"
    tiny_notebook(path)
    with pytest.raises(verified_line.ExtensionError, match="没有 ptnotes_verified 元数据.*make run NB="):
        verified_line.verified_text(path)


DEFAULT = ("PTNOTES_NUM_THREADS=(unset), OMP_NUM_THREADS=(unset), ATEN_CPU_CAPABILITY=(unset), "
           "MKL_ENABLE_INSTRUCTIONS=(unset), ONEDNN_MAX_CPU_ISA=(unset), PYTHONWARNINGS=default")
STRESS = ("PTNOTES_NUM_THREADS=3, OMP_NUM_THREADS=(unset), ATEN_CPU_CAPABILITY=avx2, "
          "MKL_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2, PYTHONWARNINGS=default")


def test_run_times_were_measured_with_default_settings():
    """教师页的运行时间是学生自己运行时的速度（make times），不是 make test 那种更慢的比对配置。"""
    times = json.loads(teacher.TIMES.read_text(encoding="utf-8"))["chapters"]
    wrong = [stem for stem, entry in times.items() if not teacher.default_settings(entry.get("numerics", ""))]
    assert not wrong, f"这些章的运行时间不是在默认设置下测的：{wrong}；运行 make times，再运行 make teacher"


def test_make_teacher_merges_only_passed_measurements(tmp_path, monkeypatch):
    monkeypatch.setattr(teacher, "TIMES", tmp_path / "run_times.json")
    teacher.TIMES.write_text(json.dumps({"chapters": {"01_setup": {"seconds": 5.0, "date": "2026-01-01"}}}))
    measured = tmp_path / "nbval_seconds.json"
    measured.write_text(json.dumps({"notebooks": {
        "chapters/02_tensors.ipynb": {"seconds": 12.3, "date": "2026-02-02", "passed": True, "numerics": DEFAULT, "cpus": 2},
        "chapters/03_autograd.ipynb": {"seconds": 9.9, "date": "2026-02-02", "passed": False, "numerics": DEFAULT, "cpus": 2},
        # make test 的配置（3 个线程、AVX2 内核）测的秒数不代表课上的运行时间，不采用
        "chapters/04_dataset_dataloader.ipynb": {"seconds": 30.0, "date": "2026-02-02", "passed": True,
                                                 "numerics": STRESS, "cpus": 2},
    }}))
    assert teacher.merge_times(measured) == ["02_tensors"]
    chapters = json.loads(teacher.TIMES.read_text())["chapters"]
    assert chapters == {"01_setup": {"seconds": 5.0, "date": "2026-01-01"},
                        "02_tensors": {"seconds": 12.3, "date": "2026-02-02", "numerics": DEFAULT, "cpus": 2}}
    with pytest.raises(teacher.TeacherPageError, match="make times"):
        teacher.merge_times(tmp_path / "missing.json")
