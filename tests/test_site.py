"""构建出的网站（make book 的结果）：每页都在、输出和图都在、公式和搜索离线可用、Colab 按钮指向正确的笔记本。"""

import html
import json
import re

import pytest

from conftest import ROOT, toc_entries

SITE = ROOT / "_build" / "html"


@pytest.fixture(scope="module", autouse=True)
def built_site():
    assert (SITE / "index.html").is_file(), "没有找到 _build/html：先运行 make book（make test 会自动先构建）"


CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("page", toc_entries())
def test_every_page_is_built(page):
    assert (SITE / f"{page}.html").is_file()


def shown_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "remove-cell" not in c["metadata"].get("tags", [])]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_pages_show_the_stored_outputs_and_figures(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    page = (SITE / "chapters" / f"{path.stem}.html").read_text(encoding="utf-8")
    figures = sum("image/png" in o.get("data", {}) for c in shown_cells(nb) for o in c["outputs"])
    assert len(re.findall(r'<img[^>]+src="\.\./_images/[0-9a-f]+\.png"', page)) == figures
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for cell in shown_cells(nb):
        for o in cell["outputs"]:
            if o["output_type"] == "stream" and o["name"] == "stdout":
                first = next((l.strip() for l in "".join(o["text"]).splitlines() if l.strip()), "")
                assert first in text, f"stored output not on the page: {first!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_hidden_checks_are_not_on_the_page(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    page = (SITE / "chapters" / f"{path.stem}.html").read_text(encoding="utf-8")
    removed = [c for c in nb["cells"] if "remove-cell" in c["metadata"].get("tags", [])]
    assert removed
    shown = len(re.findall(r'class="cell (?:tag_[\w-]+ )*docutils container"', page))
    assert shown == len(shown_cells(nb)), "every code cell but the remove-cell ones is on the page"
    assert "tag_remove-cell" not in page


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_button_opens_this_notebook(path):
    page = (SITE / "chapters" / f"{path.stem}.html").read_text(encoding="utf-8")
    assert f"https://colab.research.google.com/github/ptnotes/pytorch-shizhan-biji/blob/main/chapters/{path.name}" in page


def test_math_renders_offline():
    pages = [p.read_text(encoding="utf-8") for p in SITE.rglob("*.html")]
    assert not any("cdn.jsdelivr.net/npm/mathjax" in p for p in pages)
    assert any('src="../_static/mathjax/tex-chtml-full.js' in p for p in pages)
    assert (SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()


def test_chinese_search_index():
    index = (SITE / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(re.search(r'"terms":\s*(\{.*?\})\s*,\s*"titles"', index).group(1))
    chinese = [t for t in terms if re.fullmatch(r"[\u4e00-\u9fff]+", t)]
    assert {"张量", "安装"} <= set(chinese) and len(chinese) > 100, "jieba 没有装上时中文词条是空的"
