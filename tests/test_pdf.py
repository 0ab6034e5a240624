"""全书 PDF（make pdf 的结果，_build/pdf/pytorch-shizhan-biji.pdf）：页数合理，书签按目录指向每一章，
每个链接都指向 PDF 里的位置或网址，目录印着页码，没有比版心宽（被截掉）的公式、代码、表格和图，
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


def test_every_link_goes_somewhere_inside_the_pdf_or_to_a_website(reader):
    """单页 HTML 里的链接写成 intro.html#…，直接打印出来是构建机器上的 file:// 路径（读者点了打不开）；
    tools/pdf.py 打印前把它们换成页内锚点。这里读出 PDF 里的每个链接：要么指向 PDF 里存在的位置，要么是网址；
    「笔记 00X」的链接都落在附录「五份源笔记」里，勘误链接都落在某一章里。"""
    pdf = load_tool("pdf")
    pages = pdf.destinations(reader)
    links = pdf.pdf_links(reader)
    bad = pdf.bad_links(reader, pages)
    assert not bad, f"{len(bad)} 个链接不在 PDF 里、也不是网址：{bad[:5]}"
    internal = [target for _, kind, target in links if kind == "dest"]
    ranges = chapter_ranges(reader)
    first, last = ranges["appendix/notes"]
    notes = [t for t in internal if t.startswith("note-")]
    assert len(notes) >= 300, f"只有 {len(notes)} 个「笔记 00X」链接"
    assert all(first <= pages[t] <= last for t in notes), "有「笔记 00X」链接没有指向附录「五份源笔记」"
    errata = [t for t in internal if t.startswith("errata-")]
    assert len(errata) >= 50, f"只有 {len(errata)} 个勘误链接"
    chapters = [r for doc, r in ranges.items() if doc.startswith("chapters/")]
    assert all(any(a <= pages[t] <= b for a, b in chapters) for t in errata), "有勘误链接没有指向某一章"
    print(f"{len(links)} 个链接：{len(internal)} 个指向 PDF 里的位置（笔记 {len(notes)}、勘误 {len(errata)}），"
          f"{len(links) - len(internal)} 个网址")


def test_contents_pages_show_page_numbers(reader):
    """目录页上每个条目的右端印着它指向的那一页的页码（与页脚的页码相同，从 1 数）。"""
    pdf = load_tool("pdf")
    pages = pdf.destinations(reader)
    intro = pages["pdf-intro"]
    assert 1 <= intro <= 6, f"目录有 {intro} 页？"
    links = pdf.pdf_links(reader)
    wanted = [pages[target] + 1 for index, kind, target in links if index < intro and kind == "dest"]
    printed = []

    def visit(text, cm, tm, font, size):
        if font and font.get("/BaseFont") == "/Helvetica" and text.strip().isdigit():
            printed.append(int(text))

    for index in range(intro):
        reader.pages[index].extract_text(visitor_text=visit)
    assert len(wanted) >= len(toc_entries()), f"目录里只有 {len(wanted)} 个链接"
    assert printed == wanted, f"目录页上印的页码 {printed[:8]}… 与链接指向的页 {wanted[:8]}… 不一致"
    # 页码递增：目录按书的顺序
    assert printed == sorted(printed)


def test_nothing_is_wider_than_the_printed_page():
    """tools/pdf.py 打印前在打印样式、A4 版心宽度下量过每个公式、代码框、表格和图，比版心宽的记在 overflow.json。"""
    report = PDF.parent / "overflow.json"
    assert report.is_file(), "没有 _build/pdf/overflow.json：重新运行 make pdf"
    assert abs(report.stat().st_mtime - PDF.stat().st_mtime) < 900, "overflow.json 不是这一份 PDF 的：重新运行 make pdf"
    wide = json.loads(report.read_text(encoding="utf-8"))
    assert wide == [], "这些东西比 PDF 的版心宽，打印出来被截掉（长公式拆成对齐的几行）：\n" + "\n".join(wide)


def test_the_width_check_finds_what_is_too_wide(tmp_path):
    """overflow.json 的量法本身：一个不折行的长代码框和一张过宽的表，在版心宽度下都要被找出来。"""
    pdf = load_tool("pdf")
    from playwright.sync_api import sync_playwright

    page = tmp_path / "wide.html"
    page.write_text('<html><body style="margin:0"><span id="document-chapters/99_demo"></span>'
                    '<pre style="white-space:pre;overflow:auto">' + "x = 1; " * 200 + "</pre>"
                    '<table><tr><td style="white-space:nowrap">' + "很长的表格 " * 100 + "</td></tr></table>"
                    "<p>短的一段</p></body></html>", encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=pdf.find_chromium(), args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page(viewport={"width": pdf.PRINT_WIDTH_PX, "height": 800})
            tab.goto(page.as_uri())
            wide = tab.evaluate(pdf.OVERFLOW_JS)
        finally:
            browser.close()
    assert len(wide) == 2 and wide[0].startswith("chapters/99_demo：pre") and "table" in wide[1], wide


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
