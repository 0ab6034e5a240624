"""全书 PDF（make pdf 的结果，_build/pdf/pytorch-shizhan-biji.pdf）：页数合理，书签按目录指向每一章，
每章标题印在它的第一页，参考答案全部印出，图都嵌进去了，公式由 MathJax 排好，汉字用的是中文字体；
网站首页的“全书 PDF”链接指向同一个文件。"""

import json
import os
import re
import time
import unicodedata

import nbformat
import pytest

from conftest import ROOT, has_code, load_tool, toc_entries

BUILD = ROOT / os.environ.get("PTNOTES_BUILD", "_build")
NAME = "pytorch-shizhan-biji.pdf"
PDF = BUILD / "pdf" / NAME
SITE = BUILD / "html"
CHAPTERS = [doc for doc in toc_entries() if doc.startswith("chapters/") and has_code(doc)]   # 只有文字的章节页除外


@pytest.fixture(scope="module")
def reader():
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover
        pytest.fail("没有 pypdf：运行 make venv（按 requirements.txt 安装）")
    assert PDF.is_file(), "没有找到全书 PDF：先运行 make pdf（make test 会自动先生成）"
    return PdfReader(PDF)


_raw_text = {}


def raw_text(reader, index):
    if index not in _raw_text:
        _raw_text[index] = reader.pages[index].extract_text() or ""
    return _raw_text[index]


def page_text(reader, index):
    """第 index 页（从 0 数）的文字：NFKC 归一（全角标点等），去掉所有空白。"""
    return squeeze(raw_text(reader, index))


def squeeze(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def doc_title(doc):
    if doc.startswith("chapters/"):
        nb = nbformat.read(ROOT / f"{doc}.ipynb", as_version=4)
        # 书签里是渲染后的文字：标题里的代码名（`nn.Module`）没有反引号
        return nb.cells[0].source.splitlines()[0].lstrip("# ").strip().replace("`", "")
    for line in (ROOT / f"{doc}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{doc}.md 没有一级标题")


def bookmarks(reader):
    """[(标题, 页码), ...]：书签按顺序展开（部分与章）。"""
    out = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return out


def chapter_ranges(reader):
    """{文档名: (第一页, 最后一页)}，按书签算（从 0 数）。"""
    marks = dict(bookmarks(reader))
    docs = toc_entries()[1:]
    starts = [marks[doc_title(doc)] for doc in docs]
    ends = [s - 1 for s in starts[1:]] + [len(reader.pages) - 1]
    return dict(zip(docs, zip(starts, ends)))


def test_page_count_and_size(reader):
    pages = len(reader.pages)
    size = PDF.stat().st_size / 2**20
    print(f"{PDF.relative_to(BUILD.parent) if BUILD.parent in PDF.parents else PDF}：{pages} 页，{size:.1f} MiB")
    docs = len(toc_entries())
    # 现在 110 个页面约 810 页（小节页短，只有文字的章节页一两页）；全部挤成几页（打印样式坏了）
    # 或一页只剩几行（分页坏了）都会超出这个范围
    assert 4 * docs <= pages <= 40 * docs
    assert 2 <= size <= 60


def test_bookmarks_follow_the_toc_and_each_chapter_starts_with_its_title(reader):
    start = time.perf_counter()
    marks = bookmarks(reader)
    titles = [t for t, _ in marks]
    for doc in toc_entries()[1:]:
        assert doc_title(doc) in titles, f"没有“{doc_title(doc)}”的书签"
    ranges = chapter_ranges(reader)
    previous = -1
    for doc, (first, last) in ranges.items():
        assert first > previous, f"{doc} 的书签顺序不对"
        previous = first
        assert squeeze(doc_title(doc)) in page_text(reader, first), f"第 {first + 1} 页不是“{doc_title(doc)}”的开头"
        if doc in CHAPTERS:
            assert last - first + 1 >= 3, f"{doc} 只有 {last - first + 1} 页"
    print(f"{len(marks)} 个书签；检查各章首页用了 {time.perf_counter() - start:.1f} 秒")


def test_text_is_searchable(reader):
    """PDF 里的字能搜索、能复制：没有被记成部首的汉字（如把“用”记成 ⽤ U+2F64，tools/pdf.py 的 fix_to_unicode）。"""
    pages = [first for first, _ in chapter_ranges(reader).values()] + [1, 2]
    radicals = sorted({ch for i in pages for ch in raw_text(reader, i) if 0x2E80 <= ord(ch) <= 0x2FDF})
    assert not radicals, f"这些字在 PDF 里是部首，搜不到：{radicals}"
    assert "使用" in "".join(raw_text(reader, i) for i in pages)


def solution_count(doc):
    nb = nbformat.read(ROOT / f"{doc}.ipynb", as_version=4)
    return sum(
        c.cell_type == "code" and "hide-cell" in c.metadata.get("tags", []) and c.source.startswith("# 参考答案")
        for c in nb.cells
    )


def test_every_solution_is_printed(reader):
    """折叠在网页上的参考答案，在 PDF 里全部展开：从每章最后一页往前找，每个「# 参考答案 N」都在。"""
    start = time.perf_counter()
    missing = []
    for doc, (first, last) in chapter_ranges(reader).items():
        if doc not in CHAPTERS:
            continue
        wanted = {f"#参考答案{n}" for n in range(1, solution_count(doc) + 1)}
        assert wanted, f"{doc} 没有参考答案"
        text = ""
        for index in range(last, max(first, last - 15) - 1, -1):
            text = page_text(reader, index) + text
            if all(w in text for w in wanted):
                break
        missing += [f"{doc}: {w}" for w in sorted(wanted) if w not in text]
    assert not missing, f"PDF 里没有这些参考答案：{missing}"
    print(f"参考答案都在；用了 {time.perf_counter() - start:.1f} 秒")


def resources(reader):
    """每一页（包括页里的表单 XObject）用到的图片编号和字体名。"""
    images, fonts = set(), set()

    def walk(res, seen):
        if res is None:
            return
        res = res.get_object()
        for font in (res.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            name = descriptor.get_object().get("/FontName") if descriptor else font.get("/BaseFont")
            fonts.add(str(name).split("+")[-1])
        for ref in (res.get("/XObject") or {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                images.add(ref.idnum)
            elif xobject.get("/Subtype") == "/Form" and ref.idnum not in seen:
                seen.add(ref.idnum)
                walk(xobject.get("/Resources"), seen)

    for page in reader.pages:
        walk(page.get("/Resources"), set())
    return images, fonts


def test_figures_math_and_chinese_fonts_are_embedded(reader):
    images, fonts = resources(reader)
    figures = 0
    for doc in CHAPTERS:
        nb = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "remove-cell" not in cell["metadata"].get("tags", []):
                figures += sum("image/png" in o.get("data", {}) for o in cell["outputs"])
    print(f"{len(images)} 张图（各章的图 {figures} 张）；字体：{sorted(fonts)}")
    assert len(images) >= figures > 0
    assert any(f.startswith("NotoSansCJK") for f in fonts), "汉字没有用 Noto Sans CJK（装 fonts-noto-cjk）"
    assert any(f.startswith("MathJax_") for f in fonts), "PDF 里没有 MathJax 的字体：打印前公式没有排好"


def test_site_links_to_the_pdf():
    assert (SITE / "intro.html").is_file(), "没有找到 _build/html：先运行 make book"
    page = (SITE / "intro.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"#]+\.pdf)"', page)
    assert links == [NAME], f"首页应当恰好有一个指向 {NAME} 的链接，现在是 {links}"
    copy = SITE / links[0]
    assert copy.is_file(), f"网站里没有 {links[0]}：先 make book 再 make pdf"
    assert copy.read_bytes() == PDF.read_bytes(), "网站里的 PDF 不是最新的那一份：重新运行 make pdf"




def test_print_style_wraps_code_and_expands_solutions():
    """打印样式的几条关键规则还在（代码换行、展开折叠、不印导航）。"""
    pdf = load_tool("pdf")
    css = re.sub(r"\s+", " ", pdf.PRINT_CSS)
    assert "white-space: pre-wrap !important" in css and "overflow: visible !important" in css
    assert "details, details > * { display: block !important; }" in css
    assert ".bd-sidebar-primary" in css and "details:not(.solution) > summary { display: none !important; }" in css
    assert "d.open = true" in pdf.PRINT_JS
