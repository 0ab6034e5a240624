"""全书 PDF：把整本书构建成一个单页 HTML，再用 Chromium 离线打印成 PDF（make pdf）。

    python tools/pdf.py                  # 写出 _build/pdf/pytorch-shizhan-biji.pdf，并复制进网站 _build/html/
    python tools/pdf.py --build-dir /tmp/x --site-dir /tmp/y/_build/html   # 换别的目录（多人共用一个工作区时）

步骤：
1. ``jupyter-book build --builder singlehtml``（严格模式，用笔记本里保存的输出，不运行代码）到 _build/pdf/site/；
2. 在单页 HTML 旁边写一个 print.html：去掉重复加载的 MathJax 脚本，加上打印样式（去掉导航栏和侧栏、
   代码和输出自动换行、每章另起一页、页脚印页码）和一小段脚本（展开折叠起来的参考答案）；
3. Debian 的 Chromium（由 Playwright 驱动）无界面打开 print.html，等 MathJax 排好公式，在打印样式、版心宽度下
   量一遍有没有公式、代码、表格或图比版心宽（记在 _build/pdf/overflow.json），再打印成 A4 的 PDF
   （不带无障碍标签树：它让文件大一倍）；
4. 用 pypdf 检查每个链接都指向 PDF 里的位置或网址（单页 HTML 里的 intro.html#… 在打印前换成了页内锚点），
   在目录页上每个条目的右端印上页码，按目录加上书签（部分 → 章），书签指向 Chromium 为每一章留下的命名目标 document-<章>；
   并修正字体的 ToUnicode 表：Noto CJK 里“用”“一”“大”等字和康熙部首（⽤ U+2F64……）共用一个字形，
   Chromium 把这些字记成了部首，PDF 里就搜不到“使用”、复制出来的字也不对；按字体的 cmap 换回正常的汉字；
5. 网站已经构建过（_build/html/ 存在）时，把 PDF 复制到 _build/html/pytorch-shizhan-biji.pdf，首页的链接指向它。

需要系统软件 chromium 和 fonts-noto-cjk（Debian：apt-get install chromium fonts-noto-cjk）。
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "pytorch-shizhan-biji.pdf"
OUT_DIR = ROOT / "_build" / "pdf"
SITE_DIR = ROOT / "_build" / "html"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FIX_SYSTEM = "sudo apt-get install -y chromium fonts-noto-cjk"

PRINT_CSS = r"""
/* 打印样式：只在 tools/pdf.py 生成的 print.html 里使用 */
@page {
  size: A4;
  margin: 16mm 14mm 18mm 14mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; color: #666; }
}
html, body { background: #fff !important; }
body {
  font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif;
  font-size: 10.5pt;
  -webkit-print-color-adjust: exact;
  print-color-adjust: exact;
}
code, pre, kbd, samp, .highlight pre {
  font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace !important;
}
/* 网页上的导航、按钮、侧栏一概不印 */
#pst-skip-link, #pst-back-to-top, #pst-search-dialog, .bd-header, .bd-header-article, .header-article-items,
.bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article, .bd-footer-content,
.prev-next-area, .footer-article-items, .headerlink, button.copybtn, .toggle-button,
.pst-async-banner-revealer, .sidebar-toggle, .bd-search, .search-button, .theme-switch-button,
.dropdown-launch-buttons, .article-header-buttons, #rtd-footer-container, .d-print-none {
  display: none !important;
}
.bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container, .bd-article,
.bd-page-width {
  max-width: none !important;
  width: 100% !important;
  margin: 0 !important;
  padding: 0 !important;
  display: block !important;
}
/* 代码和输出：长行自动换行，不在页面右边被截掉；不要滚动条和高度限制 */
pre, .highlight pre, .output pre, .cell_output pre, div.highlight {
  white-space: pre-wrap !important;
  overflow-wrap: anywhere !important;
  word-break: break-all !important;
  overflow: visible !important;
  max-height: none !important;
}
.cell_output, .output, .cell_input, .cell, div.output_area, .output_area, .output.text_html,
.pst-scrollable-table-container, .table-wrapper {
  max-height: none !important;
  overflow: visible !important;
}
pre { font-size: 8.5pt; line-height: 1.35; }
/* 折叠起来的参考答案：打印时展开，标题印成“参考答案 N”；其他折叠的单元不印按钮文字 */
details, details > * { display: block !important; }
details.hide { border: none !important; box-shadow: none !important; padding: 0 !important; }
details > summary { list-style: none !important; }
details > summary::marker, details > summary::-webkit-details-marker, details > summary::before { display: none !important; content: none !important; }
details:not(.solution) > summary { display: none !important; }
details.solution > summary .expanded { display: none !important; }
/* 章标题下的「本页的输出……」：只印那句白话，不印点开后的版本细节 */
details.ptnotes-verified > summary { display: block !important; color: #666; font-size: 9pt; }
details.ptnotes-verified > p { display: none !important; }
details.solution > summary .collapsed { display: block !important; font-weight: bold; margin: 0.8em 0 0.3em 0; }
/* 图和表 */
img { max-width: 100% !important; height: auto !important; break-inside: avoid; }
figure, .cell_output img { break-inside: avoid; }
table { width: 100% !important; table-layout: auto; font-size: 9pt; }
td, th { word-break: break-word; overflow-wrap: anywhere; white-space: normal !important; }
h1, h2, h3, h4, h5 { break-after: avoid; }
.admonition { break-inside: avoid; }
/* 代码单元不要把边框留在上一页、内容挪到下一页 */
.cell_input, div.highlight { break-inside: avoid; }
/* 目录：紧凑，单独一页 */
#jb-print-docs-body h1 { font-size: 22pt; margin: 0 0 10pt 0; }
#jb-print-toc h2 { font-size: 15pt; margin: 0 0 6pt 0; }
#jb-print-toc p.caption { font-weight: bold; margin: 7pt 0 2pt 0; }
#jb-print-toc ul { margin: 0; padding-left: 1.4em; }
#jb-print-toc li { margin: 0; line-height: 1.55; padding-right: 3em; }  /* 右边留给 tools/pdf.py 印的页码 */
/* 每一章（每个文档）另起一页 */
#jb-print-docs-body { break-after: page; }
.pdf-new-page { break-before: page; }
a { color: inherit; text-decoration: none; }
"""

# 打印前在页面里运行：展开所有折叠内容，固定浅色主题，每章另起一页
PRINT_JS = r"""
document.documentElement.dataset.theme = "light";
document.documentElement.dataset.mode = "light";
for (const d of document.querySelectorAll("details")) d.open = true;
for (const h of document.querySelectorAll("#jb-print-toc h2")) h.textContent = "目录";
// 前言（首页）也进目录；链接让 Chromium 给它留一个命名目标 pdf-intro，书签“前言”指向它
const intro = document.querySelector("article.bd-article > section");
const tocNav = document.querySelector("#jb-print-toc nav");
if (intro && tocNav) {
  const anchor = document.createElement("span");
  anchor.id = "pdf-intro";
  intro.prepend(anchor);
  const list = document.createElement("ul");
  list.innerHTML = '<li><a class="reference internal" href="#pdf-intro">前言</a></li>';
  tocNav.prepend(list);
}
// 表格里很短的格子（“第 2 章”“笔记 003”“查看”）不折行，把宽度留给长的说明文字
for (const c of document.querySelectorAll("td, th")) {
  if (c.textContent.trim().length <= 8) c.style.setProperty("white-space", "nowrap", "important");
}
// 链接：单页 HTML 里指向本书其他位置的链接写成 intro.html#…（单页 HTML 的文件名），打印出来是一个 file:// 网址，
// 换成页内锚点，PDF 里就是跳到那一页；指向本机文件的链接（如首页的“全书 PDF”）去掉链接，只留文字。http(s) 链接不动
for (const a of document.querySelectorAll("a[href]")) {
  const href = a.getAttribute("href");
  if (href.startsWith("intro.html#")) a.setAttribute("href", href.slice("intro.html".length));
  else if (href === "intro.html") a.setAttribute("href", "#pdf-intro");
  else if (!/^(#|https?:)/.test(href)) {
    const span = document.createElement("span");
    span.append(...a.childNodes);
    a.replaceWith(span);
  }
}
for (const s of document.querySelectorAll('span[id^="document-"]')) {
  // 章的锚点（PDF 的命名目标，书签指向它）挪进新的一页，而不是留在上一页的末尾
  const next = s.nextElementSibling;
  if (next) { next.classList.add("pdf-new-page"); next.prepend(s); }
}
"""


def fail(message: str) -> None:
    print(f"make pdf 失败：{message}", file=sys.stderr)
    sys.exit(1)


def find_chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    fail(f"没有找到 Chromium（{', '.join(CHROMIUM_CANDIDATES)}）。安装：{FIX_SYSTEM}")
    raise AssertionError


def check_cjk_fonts() -> None:
    fc_list = shutil.which("fc-list")
    out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True).stdout if fc_list else ""
    if not out.strip():
        fail(f"系统里没有中文字体，PDF 里的汉字会变成方框。安装：{FIX_SYSTEM}")


def build_singlehtml(site: Path) -> Path:
    """严格构建单页 HTML，返回它的 intro.html。"""
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--builder",
        "singlehtml",
        "--path-output",
        str(site),
        "-W",
        "-n",
        "--keep-going",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-6000:], sep="\n", file=sys.stderr)
        fail("单页 HTML 构建失败（见上面的输出）")
    page = site / "_build" / "singlehtml" / "intro.html"
    if not page.is_file():
        fail(f"单页 HTML 构建后没有 {page}")
    return page


def write_print_page(page: Path) -> Path:
    html = page.read_text(encoding="utf-8")
    # Jupyter Book 1.x 把 _static/ 下的每个 .js 都当作脚本加载：MathJax 会被加载两次，它的 a11y/ui 部件也被当成普通脚本。
    # 只留带 defer 的那一个（Sphinx 的 mathjax_path）。
    html = re.sub(r'\s*<script src="_static/mathjax/[^"]+"></script>', "", html)
    if html.count("_static/mathjax/tex-chtml.js") != 1:
        fail("单页 HTML 里找不到（唯一的）MathJax 脚本 _static/mathjax/tex-chtml.js")
    html = html.replace("</head>", '<link rel="stylesheet" href="print.css" />\n</head>', 1)
    html = html.replace("</body>", f"<script>{PRINT_JS}</script>\n</body>", 1)
    (page.parent / "print.css").write_text(PRINT_CSS, encoding="utf-8")
    out = page.parent / "print.html"
    out.write_text(html, encoding="utf-8")
    return out


# A4 减去左右页边距（14 mm + 14 mm）的版心宽度，CSS 像素（96 px = 1 英寸）
PRINT_WIDTH_PX = round((210 - 28) / 25.4 * 96)

# 等网页字体加载完、MathJax 排好公式（之后才能量尺寸、截图、打印）；tests/test_browser.py 也用它
SETTLE_JS = """async () => {
    await document.fonts.ready;
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}"""

# 一个公式（mjx-container）是否被截掉了一段，right 是它所在的栏的右边界。陈列公式自己是一个可以横向滚动的框，
# 内容比框宽就是被截掉了；行内公式不会折行，伸出栏的右边就会被截掉（容差 2 px：MathJax 的字宽估算与实际字形差一点点）。
# tests/test_browser.py 在网页上用同一个判断
MATH_CUT_JS = """(m, right) => m.getAttribute('display') === 'true'
    ? (m.scrollWidth > m.clientWidth + 1 || m.getBoundingClientRect().right > right + 1)
    : m.getBoundingClientRect().right > right + 2"""

# 打印前在打印样式下量一遍：哪个公式、代码框、表格或图比版心宽（打印出来会被截掉，或在纸上印出滚动条）
OVERFLOW_JS = r"""() => {
  const out = [];
  const right = document.body.getBoundingClientRect().right;
  const cut = """ + MATH_CUT_JS + r""";
  const where = e => { const d = document.querySelectorAll('span[id^="document-"]');
    let doc = ''; for (const x of d) { if (x.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING) doc = x.id.slice(9); } return doc; };
  for (const m of document.querySelectorAll('mjx-container')) {
    if (m.offsetParent === null) continue;
    const display = m.getAttribute('display') === 'true';
    if (cut(m, right)) out.push(`${where(m)}：${display ? '陈列' : '行内'}公式宽 ${Math.round(m.scrollWidth)} px（版心 ${Math.round(m.clientWidth)} px）：`
                       + (m.querySelector('mjx-assistive-mml') || m).textContent.slice(0, 50));
  }
  for (const b of document.querySelectorAll('pre, table, img')) {
    if (b.offsetParent === null) continue;
    if (b.scrollWidth > b.clientWidth + 1 || b.getBoundingClientRect().right > right + 1)
      out.push(`${where(b)}：${b.tagName.toLowerCase()} 比版心宽（${Math.round(b.scrollWidth)} px）：` + (b.textContent || b.getAttribute('src') || '').trim().slice(0, 50));
  }
  return out;
}"""


def print_pdf(chromium: str, page: Path, pdf: Path) -> list[str]:
    """用 Playwright 驱动 Chromium 打印（不下载 Playwright 自带的浏览器）：等 MathJax 排好公式，量一遍有没有东西比版心宽，
    再打印成 A4 的 PDF（不带无障碍标签树：它让文件大一倍）。返回比版心宽的东西（空表示都放得下）。"""
    from playwright.sync_api import sync_playwright

    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_suffix(".pdf.tmp")
    partial.unlink(missing_ok=True)
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--allow-file-access-from-files"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            tab = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1000})
            tab.set_default_timeout(600_000)
            tab.emulate_media(media="print")
            tab.goto(page.as_uri(), wait_until="load")
            tab.evaluate(SETTLE_JS)
            wide = tab.evaluate(OVERFLOW_JS)
            tab.pdf(path=str(partial), prefer_css_page_size=True, print_background=True, tagged=False, outline=False)
        finally:
            browser.close()
    if not partial.is_file() or partial.stat().st_size < 100_000:
        fail("Chromium 没有打印出 PDF")
    partial.replace(pdf)
    return wide


def toc_entries(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """单页 HTML 打印目录（#jb-print-toc）里的 [(部分标题, [(文档名, 章标题), ...]), ...]，按书的顺序。"""
    toc = html[html.find('id="jb-print-toc"') :]
    toc = toc[: toc.find("</nav>")]
    parts: list[tuple[str, list[tuple[str, str]]]] = []
    pattern = r'<span class="caption-text">([^<]+)</span>|<a class="reference internal[^"]*" href="#document-([^"]+)">([^<]+)</a>'
    for m in re.finditer(pattern, toc):
        if m.group(1):
            parts.append((html_unescape(m.group(1)), []))
        elif parts:
            parts[-1][1].append((m.group(2), html_unescape(m.group(3))))
    return parts


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text).strip()


def radical_map() -> dict[int, int]:
    """{部首码位: 汉字码位}：Noto Sans CJK SC 里与部首（U+2E80–U+2FDF）共用同一个字形的统一汉字。"""
    from fontTools.ttLib import TTCollection

    found = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True).stdout
    mapping: dict[int, int] = {}
    if found.endswith((".ttc", ".otc")):
        fonts = [f for f in TTCollection(found, lazy=True).fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC"]
        if fonts:
            cmap = fonts[0].getBestCmap()
            by_glyph: dict[str, list[int]] = {}
            for code, glyph in cmap.items():
                by_glyph.setdefault(glyph, []).append(code)
            for code, glyph in cmap.items():
                if 0x2E80 <= code <= 0x2FDF:
                    same = [c for c in by_glyph[glyph] if 0x3400 <= c <= 0x9FFF]
                    if same:
                        mapping[code] = min(same)
    for code in range(0x2F00, 0x2FD6):  # 康熙部首：Unicode 的兼容分解就是对应的汉字
        mapping.setdefault(code, ord(unicodedata.normalize("NFKC", chr(code))))
    return mapping


def fix_to_unicode(writer) -> tuple[int, int]:
    """把各字体 ToUnicode 表（bfchar）里映射到部首的字换成汉字。返回（改了的条目数，剩下没法换的条目数）。"""
    from pypdf.generic import NameObject

    mapping = radical_map()
    fixed = left = 0
    seen: set[int] = set()

    def fix_font(font) -> None:
        nonlocal fixed, left
        font = font.get_object()
        cmap_ref = font.get(NameObject("/ToUnicode"))
        if cmap_ref is None or cmap_ref.idnum in seen:
            return
        seen.add(cmap_ref.idnum)
        stream = cmap_ref.get_object()
        text = stream.get_data().decode("latin-1")

        def repl(m: re.Match) -> str:
            nonlocal fixed, left
            code = int(m.group(2), 16)
            if not 0x2E80 <= code <= 0x2FDF:
                return m.group(0)
            if code in mapping:
                fixed += 1
                return f"{m.group(1)}<{mapping[code]:04X}>"
            left += 1
            return m.group(0)

        def block(m: re.Match) -> str:  # 只改 bfchar 块里“<字形码> <Unicode>”的后一半
            return re.sub(r"^(\s*<[0-9A-Fa-f]+>\s*)<([0-9A-Fa-f]{4})>", repl, m.group(0), flags=re.M)

        new = re.sub(r"beginbfchar.*?endbfchar", block, text, flags=re.S)
        if new != text:
            stream.set_data(new.encode("latin-1"))

    def walk(resources, forms: set[int]) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            fix_font(font)
        for ref in (resources.get("/XObject") or {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form" and ref.idnum not in forms:
                forms.add(ref.idnum)
                walk(xobject.get("/Resources"), forms)

    for page in writer.pages:
        walk(page.get("/Resources"), set())
    return fixed, left


def destinations(reader) -> dict[str, int]:
    """{命名目标（不带 /）: 页码（从 0 数）}：Chromium 为每个被链接的 id 留下的位置。"""
    return {name.lstrip("/"): reader.get_destination_page_number(dest) for name, dest in reader.named_destinations.items()}


def pdf_links(reader) -> list[tuple[int, str, str]]:
    """PDF 里每个链接：(页码（从 0 数）, 种类 "dest" 或 "uri", 目标)。"""
    links = []
    for index, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            if annot.get("/Dest") is not None:
                links.append((index, "dest", str(annot["/Dest"]).lstrip("/")))
            elif action is not None and action.get("/S") == "/GoTo":
                links.append((index, "dest", str(action.get("/D")).lstrip("/")))
            elif action is not None and action.get("/S") == "/URI":
                links.append((index, "uri", str(action.get("/URI"))))
            else:
                links.append((index, "other", str(action)))
    return links


def bad_links(reader, pages: dict[str, int]) -> list[str]:
    """不在 PDF 里、也不是网址的链接（例如打印时留下的 file:// 路径），以及指向不存在的位置的链接。"""
    bad = []
    for index, kind, target in pdf_links(reader):
        if kind == "dest" and target not in pages:
            bad.append(f"第 {index + 1} 页：指向 PDF 里不存在的位置 {target}")
        elif kind == "uri" and not target.startswith(("https://", "http://")):
            bad.append(f"第 {index + 1} 页：{target}")
        elif kind == "other":
            bad.append(f"第 {index + 1} 页：不认识的链接 {target}")
    return bad


# 目录页码：Chromium 打印时不支持 CSS 的 target-counter()，目录里的条目本来没有页码。打印以后，目录页上每个
# 链接的矩形和它指向的页都已知，在矩形的右端写上那一页的页码（与页脚的页码相同，从 1 数）。数字用 PDF 的标准字体
# Helvetica（阅读器都自带，不用嵌入）。
TOC_FONT = "/PtnotesPageNumber"
TOC_FONT_SIZE = 9.5


def add_toc_page_numbers(writer, pages: dict[str, int]) -> int:
    from pypdf import PageObject
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    intro = pages["pdf-intro"]  # 目录在前言之前
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }))
    count = 0
    # 页码右对齐到目录条目链接的最右端（“前言”的链接只有两个字宽，不能按它自己的右端）
    right = max((float(ref.get_object()["/Rect"][2]) for index in range(intro)
                 for ref in writer.pages[index].get("/Annots") or []), default=0.0)
    for index in range(intro):
        page = writer.pages[index]
        rows = []
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            target = pages.get(str(annot.get("/Dest", "")).lstrip("/"))
            if annot.get("/Subtype") != "/Link" or target is None:
                continue
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            number = str(target + 1)
            width = 0.556 * TOC_FONT_SIZE * len(number)  # Helvetica 的数字都是 556/1000 em 宽
            baseline = y0 + (y1 - y0 - 0.7 * TOC_FONT_SIZE) / 2
            rows.append(f"BT {TOC_FONT} {TOC_FONT_SIZE} Tf 1 0 0 1 {right - width:.2f} {baseline:.2f} Tm ({number}) Tj ET")
        if not rows:
            continue
        box = page.mediabox
        overlay = PageObject.create_blank_page(width=float(box.width), height=float(box.height))
        overlay[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject(TOC_FONT): font})})
        stream = DecodedStreamObject()
        stream.set_data(("0.25 g\n" + "\n".join(rows)).encode("ascii"))
        overlay[NameObject("/Contents")] = writer._add_object(stream)
        page.merge_page(overlay)
        count += len(rows)
    if not count:
        fail("目录页上没有找到指向各章的链接，印不上页码")
    return count


def add_bookmarks(pdf: Path, page: Path) -> int:
    """按目录给 PDF 加书签：目录、前言、各部分、各章。返回书签数；某一章找不到位置时报错。"""
    import logging

    from pypdf import PdfReader, PdfWriter

    # Chromium 写的交叉引用表比对象少几个，pypdf 每次读都警告一句（无害，重写后的文件是对的）
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    parts = toc_entries(page.read_text(encoding="utf-8"))
    if not parts:
        fail("单页 HTML 里没有找到打印目录 #jb-print-toc")
    reader = PdfReader(pdf)
    pages = destinations(reader)
    broken = bad_links(reader, pages)
    if broken:
        fail(f"PDF 里有 {len(broken)} 个链接不指向书里的位置或网址：" + "；".join(broken[:5]))
    writer = PdfWriter(clone_from=reader)
    count = 2
    writer.add_outline_item(title="目录", page_number=0)
    if "pdf-intro" not in pages:
        fail("PDF 里找不到前言的位置（命名目标 pdf-intro）")
    writer.add_outline_item(title="前言", page_number=pages["pdf-intro"])
    for caption, chapters in parts:
        missing = [name for name, _ in chapters if f"document-{name}" not in pages]
        if missing:
            fail(f"PDF 里找不到这些章的位置（命名目标 document-…）：{missing}")
        first = pages[f"document-{chapters[0][0]}"]
        parent = writer.add_outline_item(title=caption, page_number=first)
        count += 1
        for name, title in chapters:
            writer.add_outline_item(title=title, page_number=pages[f"document-{name}"], parent=parent)
            count += 1
    numbered = add_toc_page_numbers(writer, pages)
    print(f"目录：{numbered} 个条目印上了页码")
    fixed, left = fix_to_unicode(writer)
    if left:
        fail(f"PDF 里有 {left} 个字被记成了部首，找不到对应的汉字（radical_map）")
    print(f"ToUnicode：{fixed} 个被记成部首的字换回了汉字")
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({"/Title": "PyTorch 实战笔记", "/Author": "PyTorch 实战笔记编写组"})
    partial = pdf.with_suffix(".pdf.tmp")
    with open(partial, "wb") as f:
        writer.write(f)
    partial.replace(pdf)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=OUT_DIR, help="单页 HTML 和 PDF 写在这里（默认 _build/pdf）")
    parser.add_argument("--site-dir", type=Path, default=SITE_DIR, help="PDF 复制进这个网站目录（默认 _build/html）")
    args = parser.parse_args(argv)
    args.build_dir = args.build_dir.resolve()
    pdf = args.build_dir / NAME

    chromium = find_chromium()
    check_cjk_fonts()
    start = time.perf_counter()
    page = build_singlehtml(args.build_dir / "site")
    built = time.perf_counter()
    print_page = write_print_page(page)
    wide = print_pdf(chromium, print_page, pdf)
    # 比版心宽的东西记在 PDF 旁边（tests/test_pdf.py 检查它是空的），也打印出来
    (args.build_dir / "overflow.json").write_text(json.dumps(wide, ensure_ascii=False, indent=1), encoding="utf-8")
    for item in wide:
        print(f"警告：比版心宽，打印时会被截掉：{item}", file=sys.stderr)
    bookmarks = add_bookmarks(pdf, print_page)
    printed = time.perf_counter()
    size = pdf.stat().st_size / 2**20
    print(
        f"写好了 {os.path.relpath(pdf, ROOT)}（{size:.1f} MiB）："
        f"单页 HTML {built - start:.0f} 秒，打印 {printed - built:.0f} 秒，{bookmarks} 个书签"
    )
    if args.site_dir.is_dir():
        shutil.copy2(pdf, args.site_dir / NAME)
        print(f"已复制到 {os.path.relpath(args.site_dir / NAME, ROOT)}（首页的“全书 PDF”链接指向它）")
    else:
        print(f"还没有 {os.path.relpath(args.site_dir, ROOT)}：先 make book 再 make pdf，网站上的 PDF 链接才有文件")
    return 0


if __name__ == "__main__":
    sys.exit(main())
