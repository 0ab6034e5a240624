"""构建出的网站（make book 的结果）：每页都在、输出和图都在、公式和搜索离线可用、Colab 按钮指向正确的笔记本；
每页的脚本不重复加载、界面是中文、答案按钮是「参考答案 N」、小节锚点可读（在浏览器里的检查见 test_browser.py）。"""

import html
import json
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, has_code, toc_entries

# 默认检查 make book 的结果；PTNOTES_SITE_DIR 可以指向另一次构建的 html 目录
SITE = Path(os.environ.get("PTNOTES_SITE_DIR", ROOT / "_build" / "html")).resolve()


@pytest.fixture(scope="module", autouse=True)
def built_site():
    assert (SITE / "index.html").is_file(), "没有找到 _build/html：先运行 make book（make test 会自动先构建）"


CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb") if has_code(p))   # 只有文字的章节页除外


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


@pytest.mark.parametrize("page", toc_entries())
def test_every_image_has_real_alt_text(page):
    """每张图都有说出内容的替代文字：画的图用 {figure} 的 :alt:，笔记本输出里的图取紧跟的那段话（_ext/site_theme.py
    第 7 项）；不能是文件路径（Sphinx 的默认值），也不能是空的。"""
    body = (SITE / f"{page}.html").read_text(encoding="utf-8")
    body = body[body.find('<article class="bd-article">'):]
    for tag in re.findall(r"<img[^>]*>", body):
        alt = html.unescape((re.search(r'alt="([^"]*)"', tag) or [None, ""])[1]).strip()
        assert len(alt) >= 4 and not re.search(r"\.(png|svg|jpe?g|gif)$", alt) and "_images/" not in alt, \
            f"{page}：图的替代文字是 {alt!r}：{tag[:160]}"


@pytest.mark.parametrize("page", toc_entries())
def test_inline_math_keeps_its_punctuation(page):
    """行内公式后面紧跟的中文标点和公式在同一个不折行的 span 里（_ext/site_theme.py 第 6 项）：行首不会是「。」。"""
    body = (SITE / f"{page}.html").read_text(encoding="utf-8")
    loose = re.findall(r'(?<!<span class="site-nobreak">)<span class="math notranslate nohighlight">[^<]*</span>[，。、；：！？）]',
                       body)
    assert not loose, f"{page}：公式和后面的标点可能被拆到两行：{loose[:3]}"
    if page == "chapters/10e_kl_div":
        assert '<span class="site-nobreak"><span class="math notranslate nohighlight">' in body


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
    assert any('src="../_static/mathjax/tex-chtml.js' in p for p in pages)
    assert (SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()


def test_chinese_search_index():
    index = (SITE / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(re.search(r'"terms":\s*(\{.*?\})\s*,\s*"titles"', index).group(1))
    chinese = [t for t in terms if re.fullmatch(r"[\u4e00-\u9fff]+", t)]
    assert {"张量", "安装"} <= set(chinese) and len(chinese) > 100, "jieba 没有装上时中文词条是空的"


def _page(page: str) -> str:
    return (SITE / f"{page}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", toc_entries())
def test_every_script_loads_once(page):
    """MathJax 只作为 mathjax_path 加载一次（ui/、a11y/ 组件由它按需加载，不能作为 <script> 出现）；
    同一个文件、同一段内联脚本都只出现一次（重复的 `const THEBE_JS_URL` 曾让每页报 SyntaxError）。"""
    text = _page(page)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", text, flags=re.S)
    sources = [re.search(r'src="([^"?]+)', attrs).group(1) for attrs, _ in scripts if 'src="' in attrs]
    assert [s for s in sources if "/mathjax/" in s and not s.endswith("/mathjax/tex-chtml.js")] == []
    assert len(sources) == len(set(sources)), sorted(s for s in sources if sources.count(s) > 1)
    inline = [body.strip() for attrs, body in scripts if 'src="' not in attrs and body.strip()]
    assert len(inline) == len(set(inline)), sorted({b[:80] for b in inline if inline.count(b) > 1})
    assert not (ROOT / "_static" / "mathjax").exists(), "MathJax 放在 _vendor/mathjax：_static/ 里的 *.js 会被加到每一页"


ENGLISH_UI = ["Show code cell", "Hide code cell", "Toggle primary sidebar", "Toggle secondary sidebar",
              "Toggle hidden content", "Launch interactive content", "Color mode", "System Settings",
              "Search this book", "Link to this heading", "Click to show", "Print to PDF", 'aria-label="Main"',
              'aria-label="Page"']


@pytest.mark.parametrize("page", toc_entries())
def test_one_menu_button_and_chinese_interface(page):
    """只有一个 ≡（.primary-toggle）：pydata-sphinx-theme 0.17 只给第一个挂点击处理；界面文字是中文。"""
    text = _page(page)
    assert len(re.findall(r'class="[^"]*\bprimary-toggle\b', text)) == 1
    assert [e for e in ENGLISH_UI if e in text] == []
    assert '<link rel="icon" href="' in text


@pytest.mark.parametrize("page", [p for p in toc_entries() if has_code(p)])
def test_solution_buttons_name_their_exercise(page):
    """每个答案单元（hide-cell，源码以 `# 参考答案 N` 开头）的按钮是「参考答案 N」，展开后是「收起参考答案 N」。"""
    nb = json.loads((ROOT / f"{page}.ipynb").read_text(encoding="utf-8"))
    numbers = [m.group(1) for c in nb["cells"] if c["cell_type"] == "code" and "hide-cell" in c["metadata"].get("tags", [])
               for m in [re.match(r"#\s*参考答案\s*(\d+)", "".join(c["source"]).lstrip())] if m]
    assert numbers, "每章都有练习答案"
    text = _page(page)
    shown = re.findall(r'<details class="[^"]*\bsolution\b[^"]*" id="参考答案-(\d+)">\s*<summary>\s*'
                       r'<p class="collapsed admonition-title">参考答案 (\d+)</p>\s*'
                       r'<p class="expanded admonition-title">收起参考答案 (\d+)</p>', text)
    assert shown == [(n, n, n) for n in numbers]


@pytest.mark.parametrize("page", toc_entries())
def test_section_anchors_are_readable(page):
    """小节的 id 来自标题文字（#本章目标），不是 #id8；本页目录的每个链接都指向页面上的一节。"""
    text = _page(page)
    ids = re.findall(r'<section\b[^>]*\bid="([^"]+)"', text)
    assert ids and [i for i in ids if re.fullmatch(r"id\d+", i)] == []
    assert len(ids) == len(set(ids))
    # 搜索页用 querySelector('#id') 取摘要：以数字开头的 id 不是合法的 CSS 选择器（JavaScript 报错）
    assert [i for i in ids if i[:1].isdigit()] == []
    toc = re.findall(r'class="reference internal nav-link" href="#([^"]+)"', text)
    assert set(toc) <= set(ids), set(toc) - set(ids)


@pytest.mark.parametrize("page", toc_entries())
def test_internal_links_resolve(page):
    """页面上每个站内链接都指向存在的文件，带 #锚点 的还要指向那一页上存在的 id（可读锚点改过 id 以后仍然成立）。"""
    import urllib.parse

    here = SITE / f"{page}.html"
    text = here.read_text(encoding="utf-8")
    broken = []
    for href in set(re.findall(r'<a\b[^>]*\bhref="([^"]*)"', text)):
        href = html.unescape(href)
        if re.match(r"^[a-z][a-z0-9+.-]*:", href) or href.startswith("//"):
            continue  # 站外链接（Colab、GitHub）不在这里查
        path, _, fragment = href.partition("#")
        target = (here.parent / urllib.parse.unquote(path)).resolve() if path else here
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(href)
        elif fragment and target.suffix == ".html":
            ids = set(re.findall(r'\bid="([^"]+)"', target.read_text(encoding="utf-8")))
            if html.unescape(urllib.parse.unquote(fragment)) not in {html.unescape(i) for i in ids}:
                broken.append(href)
    assert broken == [], f"{page}.html 里指不到东西的链接：{sorted(broken)[:10]}"


LICENSE_LINE = "文字与图片按 CC BY-SA 4.0、代码按 MIT 许可证发布。"


def test_license_file_names_both_licences():
    """LICENSE 先用中英文说明分工（文字与图片 CC BY-SA 4.0，代码 MIT，_vendor/ 和 data/ 另算），再附两份全文。"""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    head = text.split("MIT License (code", 1)[0]
    for needle in ("CC BY-SA 4.0", "MIT", "_vendor/", "data/README.md", "Text and figures", "Code"):
        assert needle in head, needle
    assert "Copyright (c) 2026 PyTorch 实战笔记 contributors" in text
    assert "Permission is hereby granted, free of charge" in text                          # MIT 全文
    assert "Creative Commons Attribution-ShareAlike 4.0 International Public\nLicense" in text  # CC BY-SA 全文
    assert "Section 8 -- Interpretation." in text


@pytest.mark.parametrize("page", toc_entries() + ["search", "genindex"])
def test_every_footer_carries_the_licence(page):
    """每页页脚是许可说明（_config.yml 的 html.extra_footer），不是主题的「版权所有」；两个链接指向 CC 的许可页和
    课程仓库里的 LICENSE（与 _config.yml 的 repository.url 一致）。只是链接，不从站外加载东西（test_browser.py 检查请求）。"""
    import yaml

    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    footer = _page(page).split('<footer class="bd-footer-content">', 1)[1].split("</footer>", 1)[0]
    line = re.search(r'<p class="ptnotes-license">(.*?)</p>', footer, flags=re.S)
    assert line, f"{page}：页脚里没有许可说明"
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", "", line.group(1))).split()) == LICENSE_LINE
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/deed.zh-hans"' in footer
    assert f'href="{repo}/blob/main/LICENSE"' in footer
    assert "版权所有" not in _page(page)
