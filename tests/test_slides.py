"""每章的课件（tools/slides.py，make slides）：生成到临时目录，先查文件，再在真实浏览器里逐页翻一遍。

文件：每一章都有一套，页数合理（标题页、本章目标、本章各节、每节的标题页和小结、本章小结都在）；引用的每张图都在；
没有从网上加载的东西（没有 http(s):// 的资源、没有 CDN）；隐藏的检查和参考答案不上课件；全部生成用时 < 20 秒；
教师页链接每一套课件（../slides/NN.html，网站构建时由 _ext/site_slides.py 写进 _build/html/slides/）。

浏览器：Debian 的 Chromium（/usr/bin/chromium，Playwright 驱动，与 tests/test_browser.py 相同，不用 playwright install），
1280×720 的窗口里打开每一套（127.0.0.1 上提供，别处的请求被拦下并记录），用 → 键逐页翻，每一页检查：
只有这一页看得见、16:9、有内容；图加载了（naturalWidth > 0）；公式排好了、没有 merror；没有东西伸出画面或被截掉
（内容区、代码框不滚动，每个元素都在幻灯片的框里）；正文的字不小于 24 px、代码不小于 14 px。
另外：控制台没有错误、没有失败的请求；网址的 #n 打开第 n 页、翻页时跟着变；← 往回翻，手机上左右滑动翻页；打印时一页一张。
"""

from __future__ import annotations

import functools
import re
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT, load_tool

SLIDES = load_tool("slides")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUILD_SECONDS = 20
CHAPTERS = SLIDES.chapters()


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    started = time.perf_counter()
    made = SLIDES.build(out)
    seconds = time.perf_counter() - started
    print(f"\n课件：{len(made)} 套、{sum(d['slides'] for d in made)} 页，生成用时 {seconds:.1f} 秒")
    for d in made:
        print(f"  {d['file']}  {d['slides']:3d} 页  {d['title']}")
    assert seconds < BUILD_SECONDS, f"生成全部课件用了 {seconds:.1f} 秒（上限 {BUILD_SECONDS} 秒）"
    return out, made


def test_every_chapter_has_a_deck(decks):
    out, made = decks
    assert [d["number"] for d in made] == [int(c[:2]) for c, _ in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))
    index = (out / "index.html").read_text(encoding="utf-8")
    for d, (chapter, sections) in zip(made, CHAPTERS):
        page = (out / d["file"]).read_text(encoding="utf-8")
        kinds = re.findall(r'<section class="slide ([a-z ]+)"', page)
        assert len(kinds) == d["slides"]
        pages = sections + ([chapter] if SLIDES.section_content(chapter)["cells"] else [])
        assert kinds.count("title section") == d["sections"] == len(pages), d["file"]
        assert 3 * len(pages) + 4 <= d["slides"] <= 12 * len(pages) + 8, f"{d['file']}：{d['slides']} 页"
        assert kinds[0] == "title" and kinds[-1] == "list closing", d["file"]
        for heading in ("本章目标", "本章各节", "小结", "本章小结"):
            assert f">{heading}" in page, f"{d['file']} 没有「{heading}」"
        assert page.count('<pre class="code"') >= len(pages), f"{d['file']}：有的节没有代码"
        assert f'href="{d["file"]}"' in index and d["title"] in index


def test_assets_are_local_and_exist(decks):
    out, made = decks
    for d in made:
        page = (out / d["file"]).read_text(encoding="utf-8")
        refs = re.findall(r'\b(?:src|href)="([^"#]*)"', page)
        assert not [r for r in refs if re.match(r"^(https?:)?//", r)], f"{d['file']} 从网上加载：{refs}"
        assert "cdn" not in page.lower()
        for ref in refs:
            if ref and not ref.startswith("data:"):
                assert (out / ref).is_file(), f"{d['file']} 引用的 {ref} 不存在"
        images = re.findall(r'<img src="(img/[^"]+)"', page)
        assert sorted(images) == sorted(f"img/{name}" for name in d["images"])
        assert len(set(images)) == len(images)
    for name in ("slides.css", "slides.js"):
        assert not re.search(r"https?://", (out / name).read_text(encoding="utf-8")), name
    assert (out / "mathjax" / "tex-chtml.js").is_file()
    assert (out / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
    css = (out / "slides.css").read_text(encoding="utf-8")
    assert '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif' in css
    assert "@font-face" not in css and "@import" not in css


def test_hidden_cells_stay_off_the_slides(decks):
    """隐藏的检查（remove-cell）、参考答案（hide-cell）、引导代码都不上课件；每节最多 KEY_CELLS_PER_SECTION 个单元。"""
    out, made = decks
    for chapter, sections in CHAPTERS:
        for stem in [chapter] + sections:
            content = SLIDES.section_content(stem)
            assert len(content["cells"]) <= SLIDES.KEY_CELLS_PER_SECTION
            for item in content["cells"]:
                tags = item["cell"]["metadata"].get("tags", [])
                assert not any(t.startswith(("remove-", "hide-")) for t in tags), (stem, tags)
                assert "PTNOTES_URL" not in SLIDES.source(item["cell"])
            if stem in sections:
                assert content["cells"], f"{stem}：没有选出关键代码"
                assert content["summary"], f"{stem}：没有 `## 小结`"
    text = "".join((out / d["file"]).read_text(encoding="utf-8") for d in made)
    for hidden in ("参考答案", "自动检查", "PTNOTES_URL", "ptnotes.setup"):
        assert hidden not in text, hidden


def test_teacher_page_links_every_deck():
    page = (ROOT / "appendix" / "teacher.md").read_text(encoding="utf-8")
    assert "make slides" in page
    for chapter, _ in CHAPTERS:
        assert f'href="../slides/{chapter[:2]}.html"' in page, f"教师页没有链接第 {int(chapter[:2])} 章的课件"
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+site_slides: _ext$", config, re.MULTILINE), "_config.yml 没有登记 _ext/site_slides.py"


# ---------------------------------------------------------------- 浏览器

CHECK_JS = """() => {
  const problems = [];
  const current = [...document.querySelectorAll('.slide')].filter(s => getComputedStyle(s).display !== 'none');
  if (current.length !== 1) return {problems: [`看得见的幻灯片有 ${current.length} 张`]};
  const s = current[0];
  const frame = s.getBoundingClientRect();
  if (Math.abs(frame.width / frame.height - 16 / 9) > 0.01) problems.push(`不是 16:9：${frame.width}×${frame.height}`);
  if (frame.left < -1 || frame.top < -1 || frame.right > innerWidth + 1 || frame.bottom > innerHeight + 1)
    problems.push('幻灯片伸出了窗口');
  if (!s.innerText.trim() && !s.querySelector('img')) problems.push('空白页');
  const body = s.querySelector('.body');
  if (s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1) problems.push('幻灯片的内容溢出');
  if (body.scrollHeight > body.clientHeight + 1) problems.push(`内容区放不下：${body.scrollHeight} > ${body.clientHeight}`);
  for (const pre of s.querySelectorAll('pre')) {
    if (pre.scrollWidth > pre.clientWidth + 1 || pre.scrollHeight > pre.clientHeight + 1)
      problems.push(`代码框里有被藏住的部分：${pre.textContent.slice(0, 40)}`);
    if (parseFloat(getComputedStyle(pre).fontSize) < 14) problems.push(`代码字太小：${getComputedStyle(pre).fontSize}`);
  }
  for (const el of s.querySelectorAll('*')) {
    if (el.closest('mjx-assistive-mml')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (r.left < frame.left - 1 || r.top < frame.top - 1 || r.right > frame.right + 1 || r.bottom > frame.bottom + 1) {
      problems.push(`<${el.tagName.toLowerCase()}> 伸出了幻灯片：${(el.textContent || el.getAttribute('src') || '').slice(0, 40)}`);
      break;
    }
  }
  for (const el of s.querySelectorAll('li, p:not(.crumb), figcaption, h1, h2')) {
    if (el.closest('mjx-container')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 23.5) problems.push(`正文的字小于 24 px（${size} px）：${el.textContent.slice(0, 30)}`);
  }
  for (const img of s.querySelectorAll('img'))
    if (!img.complete || !img.naturalWidth) problems.push(`图没有加载：${img.getAttribute('src')}`);
  if (s.querySelector('mjx-merror, [data-mjx-error]')) problems.push('公式有错误（merror）');
  for (const m of s.querySelectorAll('span.math, div.math'))
    if (!m.querySelector('mjx-container')) problems.push(`公式没有排版：${m.textContent.slice(0, 40)}`);
  return {problems, hash: location.hash, images: s.querySelectorAll('img').length,
          maths: s.querySelectorAll('mjx-container').length};
}"""


@pytest.fixture(scope="module")
def browser_page(decks):
    from test_browser import _ensure_chromium

    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    out, _ = decks

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1, locale="zh-CN")
    problems: list[str] = []

    def route(route):
        if route.request.url.startswith(url + "/"):
            route.continue_()
        else:
            problems.append(f"发往别处的请求：{route.request.url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"控制台 {m.type}: {m.text[:200]}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"JavaScript 错误: {str(e)[:200]}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: problems.append(f"请求失败: {r.url} ({r.failure})"))
    try:
        yield url, page, problems
    finally:
        context.close()
        browser.close()
        playwright.stop()
        server.shutdown()
        server.server_close()


def _open(page, address):
    page.goto(address, wait_until="load")
    page.wait_for_function("document.documentElement.dataset.ready === '1'", timeout=20000)


def test_every_slide_renders_in_chromium(decks, browser_page):
    url, page, problems = browser_page
    _, made = decks
    started = time.perf_counter()
    found: list[str] = []
    total_images = total_maths = 0
    for d in made:
        _open(page, f"{url}/{d['file']}")
        for n in range(d["slides"]):
            if n:
                page.keyboard.press("ArrowRight")
            result = page.evaluate(CHECK_JS)
            if result.get("hash") not in (None, f"#{n + 1}"):
                found.append(f"{d['file']} 第 {n + 1} 页：网址是 {result.get('hash')}")
            found += [f"{d['file']} 第 {n + 1} 页：{p}" for p in result["problems"]]
            total_images += result.get("images", 0)
            total_maths += result.get("maths", 0)
        found += [f"{d['file']}：{p}" for p in problems]
        problems.clear()
    print(f"\n浏览器里翻了 {sum(d['slides'] for d in made)} 页（{total_images} 张图、{total_maths} 个公式），"
          f"用时 {time.perf_counter() - started:.1f} 秒")
    assert total_images and total_maths
    assert found == [], "\n".join(found[:30])


def test_navigation_hash_and_print(decks, browser_page, tmp_path):
    url, page, problems = browser_page
    _, made = decks
    deck = made[1]
    _open(page, f"{url}/{deck['file']}#3")
    assert page.evaluate("slidesState()")["current"] == 2
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("[slidesState().current, location.hash]") == [1, "#2"]
    page.keyboard.press("End")
    assert page.evaluate("slidesState().current") == deck["slides"] - 1
    page.keyboard.press("Home")
    page.keyboard.press("PageDown")
    page.keyboard.press(" ")
    assert page.evaluate("slidesState().current") == 2
    assert page.locator(".counter").inner_text() == f"3 / {deck['slides']}"
    # 手机上向左滑是下一页，向右滑是上一页
    swipe = """([x0, x1]) => {
      const touch = x => new Touch({identifier: 1, target: document.body, clientX: x, clientY: 300});
      document.body.dispatchEvent(new TouchEvent('touchstart', {touches: [touch(x0)], bubbles: true}));
      document.body.dispatchEvent(new TouchEvent('touchend', {changedTouches: [touch(x1)], bubbles: true}));
      return slidesState().current;
    }"""
    assert page.evaluate(swipe, [900, 500]) == 3
    assert page.evaluate(swipe, [500, 900]) == 2
    # 打印：一页一张幻灯片
    from pypdf import PdfReader

    pdf = tmp_path / "deck.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) == deck["slides"]
    box = reader.pages[0].mediabox
    assert abs(float(box.width) / float(box.height) - 16 / 9) < 0.01
    assert problems == []
