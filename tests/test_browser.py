"""网站在真实浏览器里：Debian 的 Chromium（/usr/bin/chromium），由 Playwright（PyPI）驱动，不用 playwright install。

测试自己在 127.0.0.1 上提供 _build/html（make test 先构建它），目录（_toc.yml）里的每一页在 1280 px（桌面）
和 390 px（手机）宽时各打开一次，检查：
- 控制台没有错误，没有失败的请求，没有发往 127.0.0.1 以外的请求（这些请求被拦下并记录）；
- 页面不左右滚动，代码框、输出框和公式里的内容不藏在右边（公式：陈列公式的框、行内公式伸出正文栏）；
- ≡ 按钮能打开和关上章节目录（手机上是弹出的目录，桌面上是收起/展开侧栏，收起后顶栏里仍有搜索按钮）；
  手机上“本页目录”按钮也能开关，点了其中一个小节后目录自己关上；下载菜单里有「全书 PDF」；
- 每个练习答案的按钮是「参考答案 N」，编号与练习一致，点开能看到代码（手机宽度上逐个点；桌面上一次全部打开）；
- 每张图按栏宽显示，点一下按原始大小显示（手机宽度上每张都点，桌面上点第一张）；手机上图里的字不小于 MIN_FIGURE_TEXT_PX（估算，见下）；
- 界面上没有主题留下的英文按钮文字。
make test-browser（PTNOTES_SCREENSHOTS=1）还把每页两种宽度的整页截图（JPEG）写在 _build/screenshots/
（desktop-1280/、phone-390/），供人看；make test 不拍。
另外：小节锚点可读（#本章目标），能跳过去。
搜索：SEARCH_TABLE 里每个学习者会输入的词（概念、API 名、报错信息），结果的第一页就是讲它的那一页，
摘要是讲解的文字；结果表打印在测试输出里。

没有 Chromium 时：以 root 运行且有 apt-get（CI）就自动安装，否则测试失败并给出要运行的那一条命令，从不跳过。
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import ROOT, load_tool, toc_entries

PDF_TOOL = load_tool("pdf")  # 与 PDF 共用的两段页面脚本：等排版完成（SETTLE_JS）、公式是否被截掉（MATH_CUT_JS）

# 默认检查 make book 的结果；PTNOTES_SITE_DIR 可以指向另一次构建的 html 目录（截图写在它旁边的 screenshots/）
SITE = Path(os.environ.get("PTNOTES_SITE_DIR", ROOT / "_build" / "html")).resolve()
SHOTS = SITE.parent / "screenshots"
SCREENSHOTS = os.environ.get("PTNOTES_SCREENSHOTS") == "1"
CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = ["chromium", "fonts-noto-cjk"]
INSTALL_COMMAND = "sudo apt-get install -y " + " ".join(APT_PACKAGES)
# TOOLCHAIN.md：这样启动的 Chromium 不会自己联网（更新、同步、QUIC）
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PAGES = toc_entries()

# 手机上图里最小的字至少这么高（CSS 像素）。估算：图是 matplotlib 以 dpi 100 画的（inline 后端的默认值），
# 字号取画图单元源码里最小的 fontsize=/labelsize=/size=（没写时是默认的 10 pt），
# 高度 = 字号 / 72 × 100 × 显示宽度 / 原始宽度。8 英寸宽的图（约 790 px）在 390 px 的手机上缩到 0.45 倍，
# 10 pt 的字只剩 6 px；图宽 6.4 英寸（matplotlib 的默认）时是 7.9 px。
MIN_FIGURE_TEXT_PX = 7.0
FIGURE_DPI = 100
NAMED_SIZES = {"xx-small": 5.79, "x-small": 6.94, "small": 8.33, "medium": 10.0, "large": 12.0}

# 学习者会输入的词（概念、API 名、报错信息）→ 讲它的那一页：结果的第一页必须是其中之一（第一个是主要讲它的那一节；
# 宽泛的概念也认它的章节页）。至少 30 个查询；不在目录里的页面不算。
SEARCH_TABLE = [
    ("广播", ["chapters/02d_broadcasting"]),
    ("切片", ["chapters/02b_indexing"]),
    ("索引", ["chapters/02b_indexing"]),
    ("keepdim", ["chapters/02b_indexing"]),
    ("permute", ["chapters/02b_indexing"]),
    ("视图", ["chapters/02c_views"]),
    ("计算图", ["chapters/03a_graph"]),
    ("自动求导", ["chapters/03_autograd", "chapters/03a_graph"]),
    ("梯度累加", ["chapters/03b_backward"]),
    ("no_grad", ["chapters/03c_no_grad"]),
    ("数据集", ["chapters/04a_dataset", "chapters/04_dataset_dataloader"]),
    ("DataLoader", ["chapters/04b_dataloader", "chapters/04_dataset_dataloader"]),
    ("采样器", ["chapters/04d_samplers"]),
    ("num_workers", ["chapters/04f_workers"]),
    ("验证集", ["chapters/04e_split", "chapters/13d_overfitting"]),
    ("ToTensor", ["chapters/05a_to_tensor"]),
    ("标准化", ["chapters/05b_normalize"]),
    ("数据增强", ["chapters/05d_compose"]),
    ("TensorBoard", ["chapters/06_tensorboard", "chapters/06a_scalars"]),
    ("state_dict", ["chapters/07e_state_dict", "chapters/15a_save_basics"]),
    ("Sequential", ["chapters/07c_sequential"]),
    ("ModuleList", ["chapters/07d_module_list"]),
    ("卷积", ["chapters/08b_conv"]),
    ("池化", ["chapters/08d_pooling"]),
    ("Dropout", ["chapters/08e_dropout"]),
    ("激活函数", ["chapters/08a_linear"]),
    ("参数初始化", ["chapters/09_init", "chapters/09a_fill"]),
    ("Kaiming", ["chapters/09b_xavier_kaiming"]),
    ("交叉熵", ["chapters/10b_cross_entropy"]),
    ("标签平滑", ["chapters/10c_ce_options"]),
    ("KL 散度", ["chapters/10e_kl_div"]),
    ("Adam", ["chapters/11c_sgd_adam"]),
    ("学习率调度", ["chapters/11e_lr_schedulers"]),
    ("梯度消失", ["chapters/12a_vanishing", "chapters/12_bn_and_gradients"]),
    ("梯度裁剪", ["chapters/12b_exploding"]),
    ("批量归一化", ["chapters/12c_batchnorm"]),
    ("过拟合", ["chapters/13d_overfitting"]),
    ("早停", ["chapters/13d_overfitting"]),
    ("混合精度", ["chapters/14g_mixed_precision"]),
    ("显存", ["chapters/14f_memory"]),
    ("迁移学习", ["chapters/15_save_load_finetune", "chapters/15d_partial_load", "chapters/15e_efficientnet", "chapters/15f_finetune"]),
    ("微调", ["chapters/15f_finetune"]),
    ("保存模型", ["chapters/15_save_load_finetune", "chapters/15a_save_basics", "chapters/15b_whole_model"]),
    ("weights_only", ["chapters/15b_whole_model", "chapters/15a_save_basics"]),
    ("检查点", ["chapters/15c_checkpoint", "chapters/13f_resume"]),
    ("ONNX", ["chapters/16f_export"]),
    ("常见报错", ["chapters/17_pitfalls"]),
    ("mat1 and mat2 shapes cannot be multiplied", ["chapters/17a_shapes", "chapters/17_pitfalls"]),
    ("Expected all tensors to be on the same device", ["chapters/14d_device_errors", "chapters/14c_devices", "chapters/17f_devices_dtypes", "chapters/17_pitfalls"]),
    ("does not require grad", ["chapters/17b_autograd", "chapters/03b_backward", "chapters/03c_no_grad", "chapters/17_pitfalls"]),
    ("backward through the graph a second time", ["chapters/03b_backward", "chapters/17b_autograd", "chapters/17_pitfalls"]),
    ("术语表", ["appendix/glossary"]),
]

# 主题留下的英文界面文字（按钮、提示、无障碍标签）；出现任何一个都说明中文界面的修正（_ext/site_theme.py）失效了
ENGLISH_UI = ["Show code cell", "Hide code cell", "Toggle", "Launch", "Color mode", "System Settings",
              "Search this book", "Link to this", "Click to", "Download this page", "Fullscreen", "Print to PDF",
              "Contents", "Copyright", "Back to top", "logo"]


# ---------------------------------------------------------------- 环境：Chromium、字体、网站

def _fonts_present() -> bool:
    """Debian 的 fonts-noto-cjk：没有它，截图里的中文是方框（测试本身不受影响，但截图没法看）。"""
    return any(Path("/usr/share/fonts").glob("**/NotoSansCJK*"))


def _ensure_chromium() -> None:
    missing = [p for p, ok in (("chromium", CHROMIUM.is_file()), ("fonts-noto-cjk", _fonts_present())) if not ok]
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"\n浏览器测试需要 {' '.join(missing)}，以 root 运行，用 apt-get 安装……")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env)
        if CHROMIUM.is_file() and _fonts_present():
            return
    pytest.fail(f"浏览器测试需要 Debian 的 Chromium 和中文字体（缺 {' '.join(missing)}）。先运行：{INSTALL_COMMAND}",
                pytrace=False)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    assert (SITE / "index.html").is_file(), "没有找到 _build/html：先运行 make book（make test 会自动先构建）"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    _ensure_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # requirements.txt 里有 playwright；这里只会在没装依赖的环境里发生
        pytest.fail("没有 playwright：先运行 make venv（按 requirements.txt 安装）", pytrace=False)
    started = time.perf_counter()
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        print(f"\n浏览器测试（本模块）共用时 {time.perf_counter() - started:.1f} s")


def open_contexts(browser, site_url) -> dict:
    """每种宽度一个浏览器上下文；127.0.0.1 以外的请求被拦下，记在 context.foreign 里（tests/test_quiz_browser.py 也用）。"""
    made = {}
    for name, (width, height) in WIDTHS.items():
        phone = name == "phone"
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                      is_mobile=phone, has_touch=phone, locale="zh-CN")
        foreign: list[str] = []

        def route(route, foreign=foreign):
            url = route.request.url
            if url.startswith(site_url + "/") or url == site_url:
                route.continue_()
            else:
                foreign.append(url)
                route.abort()

        context.route("**/*", route)
        context.foreign = foreign
        made[name] = context
    return made


@pytest.fixture(scope="module")
def contexts(browser, site_url):
    """每种宽度一个浏览器上下文（open_contexts）。"""
    shutil.rmtree(SHOTS, ignore_errors=True)  # 上一次的截图（可能有已经删掉的页面）
    made = open_contexts(browser, site_url)
    yield made
    for context in made.values():
        context.close()


# ---------------------------------------------------------------- 每一页

def _solution_numbers(page: str) -> list[str] | None:
    """笔记本里练习答案的编号（源码第一行 `# 参考答案 N`）；不是笔记本的页面返回 None。"""
    path = ROOT / f"{page}.ipynb"
    if not path.is_file():
        return None
    numbers = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"]).lstrip()
        match = re.match(r"#\s*参考答案\s*(\d+)", source)
        if cell["cell_type"] == "code" and "hide-cell" in cell["metadata"].get("tags", []) and match:
            numbers.append(match.group(1))
    return numbers


def _figure_font_sizes(page: str) -> list[float] | None:
    """页面上每张图（按顺序）所在单元里最小的字号（pt）；不是笔记本的页面返回 None。"""
    path = ROOT / f"{page}.ipynb"
    if not path.is_file():
        return None
    sizes = []
    pattern = re.compile(r"(?<![A-Za-z_])(?:fontsize|labelsize|titlesize|size)\s*=\s*"
                         r"(?:(\d+(?:\.\d+)?)|[\"']([a-z-]+)[\"'])")
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code" or "remove-cell" in cell["metadata"].get("tags", []):
            continue
        found = [float(n) if n else NAMED_SIZES.get(name, 10.0) for n, name in pattern.findall("".join(cell["source"]))]
        smallest = min(found + [10.0])
        sizes += [smallest for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    return sizes


def _open(context, url):
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"控制台 {m.type}: {m.text[:200]}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"JavaScript 错误: {str(e)[:200]}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    # net::ERR_ABORTED 是页面自己取消的请求（如离开搜索页时还没取完的结果摘要），不是加载失败；
    # 发往别处的请求由 contexts 的 route 拦下，另外记录
    page.on("requestfailed", lambda r: problems.append(f"请求失败: {r.url} ({r.failure})")
            if r.url.startswith("http://127.0.0.1") and "ERR_ABORTED" not in (r.failure or "") else None)
    page.goto(url, wait_until="load")
    page.evaluate(PDF_TOOL.SETTLE_JS)  # 等字体和公式排好，再量尺寸、截图
    return page, problems


LAYOUT_JS = """() => {
  const doc = document.documentElement;
  const boxes = [...document.querySelectorAll('article.bd-article div.highlight pre')]
    .filter(b => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
    .map(b => b.textContent.trim().split('\\n')[0].slice(0, 60));
  // 公式被截掉了一段：与 PDF 打印前的检查同一个判断（tools/pdf.py 的 MATH_CUT_JS），这里的栏是正文栏
  const article = document.querySelector('article.bd-article');
  const right = article.getBoundingClientRect().right;
  const cut = """ + PDF_TOOL.MATH_CUT_JS + """;
  const maths = [...article.querySelectorAll('mjx-container')].filter(m => m.offsetParent !== null)
    .filter(m => cut(m, right))
    .map(m => `${m.getAttribute('display') === 'true' ? '陈列' : '行内'}公式宽 ${Math.round(m.scrollWidth)} px，`
      + `框 ${Math.round(m.clientWidth)} px：${(m.querySelector('mjx-assistive-mml') || m).textContent.slice(0, 50)}`);
  const column = article.clientWidth;
  const images = [...document.querySelectorAll('article.bd-article img')].map(img => ({
    src: img.getAttribute('src'), complete: img.complete, natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width, column, output: !!img.closest('.cell_output')}));
  const attrs = [...document.querySelectorAll('[title], [aria-label], [placeholder], [alt], [data-bs-title]')]
    .filter(e => !e.closest('article.bd-article'))
    .flatMap(e => ['title', 'aria-label', 'placeholder', 'alt', 'data-bs-title'].map(a => e.getAttribute(a)))
    .filter(Boolean);
  const texts = [...document.querySelectorAll('summary, button, .admonition-title')]
    .map(e => e.textContent.trim()).filter(Boolean);
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, boxes, maths, images, ui: attrs.concat(texts)};
}"""


def _check_toggle(page, width_name, problems):
    """≡ 按钮：手机上打开/关上弹出的章节目录；桌面上收起/展开侧栏。"""
    toggles = page.locator("button.primary-toggle")
    visible = [i for i in range(toggles.count()) if toggles.nth(i).is_visible()]
    if len(visible) != 1 or toggles.count() != 1:
        problems.append(f"≡：应当只有一个 .primary-toggle 且看得见，实际 {toggles.count()} 个、{len(visible)} 个看得见")
        if not visible:
            return
    toggle = toggles.nth(visible[0])
    if width_name == "phone":
        dialog = page.locator("#pst-primary-sidebar-modal")
        toggle.click()
        try:
            page.wait_for_function("document.querySelector('#pst-primary-sidebar-modal').open", timeout=3000)
        except Exception:
            problems.append("≡（手机）：点了以后章节目录没有打开")
            return
        links = dialog.locator("nav.bd-docs-nav a.reference.internal")
        shown = sum(1 for i in range(links.count()) if links.nth(i).is_visible())
        if shown < len(PAGES) - 1:
            problems.append(f"≡（手机）：打开的目录里只看得见 {shown} 个章节链接（目录里有 {len(PAGES)} 页）")
        page.keyboard.press("Escape")
        try:
            page.wait_for_function("!document.querySelector('#pst-primary-sidebar-modal').open", timeout=3000)
        except Exception:
            problems.append("≡（手机）：按 Esc 后目录没有关上")
        # 右上角的“本页目录”按钮（同一个主题缺陷的另一半：隐藏的第二个 .secondary-toggle）
        secondary = page.locator("button.secondary-toggle")
        if secondary.count():
            if secondary.count() != 1 or not secondary.first.is_visible():
                problems.append(f"本页目录按钮：应当只有一个且看得见，实际 {secondary.count()} 个")
                return
            secondary.first.click()
            try:
                page.wait_for_function("document.querySelector('#pst-secondary-sidebar-modal').open", timeout=3000)
                page.keyboard.press("Escape")
                page.wait_for_function("!document.querySelector('#pst-secondary-sidebar-modal').open", timeout=3000)
            except Exception:
                problems.append("本页目录按钮（手机）：点了以后没有打开，或按 Esc 关不上")
                return
            # 点目录里的一个小节：跳过去，目录随之关上（_static/site.js 第 3 项），不挡在正文上面
            entries = page.locator("#pst-secondary-sidebar-modal a.nav-link[href^='#']")
            if entries.count():
                secondary.first.click()
                page.wait_for_function("document.querySelector('#pst-secondary-sidebar-modal').open", timeout=3000)
                entries.last.click()
                try:
                    page.wait_for_function("!document.querySelector('#pst-secondary-sidebar-modal').open", timeout=3000)
                except Exception:
                    problems.append("本页目录（手机）：点了其中一个小节后目录没有关上")
    else:
        sidebar = page.locator("#pst-primary-sidebar")
        if not sidebar.is_visible():
            problems.append("≡（桌面）：侧栏一开始就看不见")
            return
        for visibility, failure in (("hidden", "点了以后侧栏没有收起"), ("visible", "再点一次侧栏没有展开")):
            toggle.click()
            try:
                page.wait_for_function("getComputedStyle(document.querySelector('#pst-primary-sidebar')).visibility"
                                       f" === '{visibility}'", timeout=3000)
            except Exception:
                problems.append(f"≡（桌面）：{failure}")
                return
            # 侧栏收起时（它的搜索框也跟着不见了），文章顶栏里仍有看得见的搜索按钮
            if visibility == "hidden" and not page.locator(".bd-header-article .search-button").first.is_visible():
                problems.append("侧栏收起后顶栏里没有看得见的搜索按钮")


def _check_solutions(page, page_name, problems, click=True):
    """答案按钮的文字和编号；click 时逐个点开（手机宽度），否则一次全部打开（桌面宽度：点按钮的脚本相同，手机上已经点过）。"""
    expected = _solution_numbers(page_name)
    details = page.locator("article.bd-article details.solution")
    labels = [details.nth(i).locator("summary").inner_text().strip() for i in range(details.count())]
    if expected is not None and labels != [f"参考答案 {n}" for n in expected]:
        problems.append(f"答案按钮应当是 {[f'参考答案 {n}' for n in expected]}，实际 {labels}")
    if not click:
        page.evaluate("document.querySelectorAll('article.bd-article details.solution').forEach(d => { d.open = true; })")
        return
    for i in range(details.count()):
        item = details.nth(i)
        item.locator("summary").click()
        if not item.evaluate("d => d.open") or not item.locator("div.highlight pre").first.is_visible():
            problems.append(f"点「{labels[i]}」没有打开答案的代码")
        elif not item.locator("summary").inner_text().strip().startswith("收起"):
            problems.append(f"打开「{labels[i]}」后按钮没有变成「收起…」")


def _check_figures(page, page_name, layout, width_name, problems):
    fonts = _figure_font_sizes(page_name)
    outputs = [image for image in layout["images"] if image["output"]]
    if fonts is not None and len(fonts) != len(outputs):
        problems.append(f"笔记本里有 {len(fonts)} 张图，页面上的输出里有 {len(outputs)} 张")
        fonts = None
    for image in layout["images"]:
        if not image["complete"] or not image["natural"]:
            problems.append(f"图没有加载：{image['src']}")
            continue
        if image["shown"] > image["column"] + 1:
            problems.append(f"图比正文栏宽：{image['src']}（{image['shown']:.0f} > {image['column']} px）")
    for i, image in enumerate(outputs):
        if width_name != "phone" or not image["natural"]:
            continue
        points = fonts[i] if fonts else 10.0
        text_px = points / 72 * FIGURE_DPI * image["shown"] / image["natural"]
        if text_px < MIN_FIGURE_TEXT_PX:
            problems.append(f"手机上第 {i + 1} 张图里最小的字约 {text_px:.1f} px（< {MIN_FIGURE_TEXT_PX}）：{points:g} pt 的字，"
                            f"图原始宽 {image['natural']} px、显示 {image['shown']:.0f} px；把 figsize 改窄或把字改大")
    zoomable = page.locator("article.bd-article img.site-zoomable")
    # 手机宽度上每张图都点一次；桌面宽度上只点第一张（同一段脚本，make test 省时间）
    for i in range(zoomable.count() if width_name == "phone" else min(zoomable.count(), 1)):
        image = zoomable.nth(i)
        image.scroll_into_view_if_needed()
        image.click()
        try:
            page.wait_for_function("document.querySelector('dialog.site-lightbox').open", timeout=3000)
        except Exception:
            problems.append(f"点图没有放大：{image.get_attribute('src')}")
            continue
        natural, shown = page.evaluate("""() => { const i = document.querySelector('dialog.site-lightbox img');
                                                 return [i.naturalWidth, i.getBoundingClientRect().width]; }""")
        if abs(natural - shown) > 1:
            problems.append(f"放大后的图不是原始大小：{image.get_attribute('src')}（{shown:.0f} px，原始 {natural} px）")
        page.keyboard.press("Escape")
        page.wait_for_function("!document.querySelector('dialog.site-lightbox').open", timeout=3000)


# 测验页（quizzes/NN）在 1280 px 宽时由 tests/test_quiz_browser.py 打开并逐题点过（控制台、请求、反馈），
# 这里只在手机宽度上做通用的逐页检查：17 页在桌面宽度上再开一遍只多花时间
PAGE_CASES = [(p, w) for p in PAGES for w in WIDTHS if not (p.startswith("quizzes/") and w == "desktop")]


@pytest.mark.parametrize("page_name,width_name", PAGE_CASES)
def test_page_in_browser(contexts, site_url, page_name, width_name):
    context = contexts[width_name]
    page, problems = _open(context, f"{site_url}/{page_name}.html")
    try:
        layout = page.evaluate(LAYOUT_JS)
        shot = SHOTS / f"{width_name}-{WIDTHS[width_name][0]}" / f"{page_name.replace('/', '__')}.jpg"
        shown_as = shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot
        shot.parent.mkdir(parents=True, exist_ok=True)
        # JPEG：整页截图在 1280 px 宽时有 3 万多像素高，PNG 编码要几秒。截图只供人看，
        # 所以只在 make test-browser（PTNOTES_SCREENSHOTS=1）时拍：make test 里省下约三分之一的时间
        if SCREENSHOTS:
            page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=75)

        if layout["scrollWidth"] > layout["clientWidth"]:
            problems.append(f"页面左右滚动：内容宽 {layout['scrollWidth']} px，窗口 {layout['clientWidth']} px")
        for first_line in layout["boxes"]:
            problems.append(f"代码/输出框里的内容藏在右边：{first_line!r}")
        for math in layout["maths"]:
            problems.append(f"公式被截掉一段（拆成对齐的几行，见 CONTRIBUTING.md「公式」）：{math}")
        for text in layout["ui"]:
            for english in ENGLISH_UI:
                if english.lower() in text.lower():
                    problems.append(f"界面上的英文：{text!r}")
        # 侧栏里书名只出现一次（顶上的书名就是首页的链接，目录里不再重复一个首页条目）
        if width_name == "desktop":
            repeated = page.evaluate("""() => [...document.querySelectorAll('#pst-primary-sidebar a')]
                .filter(a => a.textContent.trim() === 'PyTorch 实战笔记').length""")
            if repeated != 1:
                problems.append(f"侧栏里「PyTorch 实战笔记」出现了 {repeated} 次（应当只有顶上的书名）")
        # 下载菜单里有「全书 PDF」，指向网站根目录里 make pdf 复制进来的那一份
        book_pdf = page.evaluate("(document.querySelector('a.site-book-pdf') || {}).href")
        if book_pdf != f"{site_url}/pytorch-shizhan-biji.pdf" or not (SITE / "pytorch-shizhan-biji.pdf").is_file():
            problems.append(f"下载菜单里的「全书 PDF」链接不对或文件不在：{book_pdf}")
        _check_solutions(page, page_name, problems, click=width_name == "phone")  # 先打开答案：答案里的图这时才看得见、点得到
        _check_figures(page, page_name, layout, width_name, problems)
        _check_toggle(page, width_name, problems)
        if context.foreign:
            problems.append(f"发往 127.0.0.1 以外的请求：{sorted(set(context.foreign))[:5]}")
            context.foreign.clear()
    finally:
        page.close()
    assert not problems, f"{page_name}.html（{width_name}，截图 {shown_as}）:\n" + "\n".join(problems)


def test_section_anchors_are_readable(contexts, site_url):
    """小节的链接是 #标题文字（如 #本章目标），点目录里的小节能跳过去；旧的 #id 编号仍然有效。"""
    page, problems = _open(contexts["desktop"], f"{site_url}/chapters/01_setup.html")
    try:
        hrefs = page.eval_on_selector_all("#pst-page-toc-nav a.nav-link", "as => as.map(a => a.getAttribute('href'))")
        assert "#本章目标" in hrefs and "#练习" in hrefs, hrefs
        assert not [h for h in hrefs if re.fullmatch(r"#id\d+", h)], hrefs
        assert len(hrefs) == len(set(hrefs))
        page.goto(f"{site_url}/chapters/01_setup.html#{urllib.parse.quote('小结')}")
        top = page.evaluate("document.getElementById('小结').getBoundingClientRect().top")
        assert 0 <= top < 200, f"#小结 没有滚到页面顶部附近（top={top}）"
    finally:
        page.close()
    assert not problems, problems


def test_search_finds_the_page_that_teaches_it(contexts, site_url, capsys):
    """SEARCH_TABLE 的每个查询，结果的第一页就是讲它的那一页（在 search.html 里，像学习者一样）；
    查询的每个字都留在切分结果里（「过拟合」不被切成「拟合」）；结果摘要是讲解的文字，不是目录或代码。"""
    page, problems = _open(contexts["desktop"], f"{site_url}/search.html")
    rows, failures = [], []
    titles = {}
    try:
        for query, expected in SEARCH_TABLE:
            expected = [e for e in expected if e in PAGES]
            if not expected:
                failures.append(f"{query!r}：讲它的页面都不在目录里")
                continue
            page.goto(f"{site_url}/search.html?q={urllib.parse.quote(query)}")
            page.wait_for_function("(document.querySelector('#search-results .search-summary') || {}).textContent",
                                   timeout=15000)
            hits = page.eval_on_selector_all(
                "#search-results ul.search > li",
                """ls => ls.map(l => [l.querySelector('a').getAttribute('href').split('#')[0].replace(/\\.html$/, ''),
                                    l.querySelector('a').textContent])""")
            docs = []
            for href, text in hits:
                doc = href.lstrip("./")
                titles.setdefault(doc, text.split(" > ")[0])
                if doc not in docs:
                    docs.append(doc)
            rank = next((i + 1 for i, d in enumerate(docs) if d in expected), None)
            words = page.evaluate("q => splitQuery(q)", query)
            rows.append((query, " ".join(words), expected[0], rank, len(docs), docs[:3]))
            if rank != 1:
                failures.append(f"{query!r}：讲它的页面 {expected} 的名次是 {rank}，前 3 个是 {docs[:3]}")
            han = "".join(re.findall(r"[\u4e00-\u9fff]", query))
            if han and "".join(re.findall(r"[\u4e00-\u9fff]", "".join(words))) != han:
                failures.append(f"{query!r}：切分 {words} 丢了字")
            # 结果摘要（searchtools.js 异步取来）：是讲解的文字，不含只在打印时显示的本页目录和「本页的输出……」
            page.wait_for_function("document.querySelectorAll('#search-results p.context').length > 0", timeout=15000)
            summary = page.eval_on_selector("#search-results ul.search > li p.context", "p => p.textContent")
            if "本页目录" in summary or "本页的输出都是" in summary or "import " in summary:
                failures.append(f"{query!r}：第一个结果的摘要不是讲解的文字：{summary[:80]!r}")
    finally:
        page.close()
    with capsys.disabled():
        print(f"\n搜索表（{len(rows)} 个查询；名次 = 讲它的那一页在结果里的位置，按页面计）")
        print("查询 | 切分 | 名次 | 结果页数 | 讲它的页面 | 前 3 个结果")
        for query, words, expected, rank, count, top in rows:
            print(f"{query} | {words} | {rank if rank else '-'} | {count} | {expected} | "
                  + "，".join(titles.get(d, d) for d in top))
    assert len(rows) >= 30
    assert not problems, problems
    assert not failures, "\n".join(failures)


# 第一次打开一页时下载的字节数（按网站里文件的大小算，不算压缩）。2026-12 的测量：有公式的一页 4.6 MB、41 个请求
# （fontawesome.js 1.5 MB、MathJax 1.3 MB、每页都加载的搜索索引 0.6 MB）；现在要求不超过它的一半
PAGE_BYTES_BEFORE = 4_610_000
WEIGHED_PAGES = ["chapters/08d_pooling", "chapters/10b_cross_entropy", "chapters/01_setup", "chapters/13d_overfitting"]


def test_first_visit_loads_at_most_half_the_bytes(browser, site_url, capsys):
    """每页只加载它用得上的：没有 Font Awesome 的 JavaScript（图标由主题 CSS 里的字体显示），搜索索引只在搜索页，
    MathJax 只在有公式的页面、用不打包全部扩展的 tex-chtml.js。图标照样看得见。"""
    rows, problems = [], []
    for name in WEIGHED_PAGES:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        loaded = []

        def finished(request, loaded=loaded):
            path = urllib.parse.unquote(request.url[len(site_url):].split("?")[0].split("#")[0]).lstrip("/")
            file = SITE / path
            loaded.append((file.stat().st_size if file.is_file() else 0, path))

        page.on("requestfinished", finished)
        page.goto(f"{site_url}/{name}.html", wait_until="networkidle")
        page.evaluate(PDF_TOOL.SETTLE_JS)
        page.wait_for_load_state("networkidle")
        total = sum(size for size, _ in loaded)
        rows.append((name, len(loaded), total))
        if total > PAGE_BYTES_BEFORE / 2:
            biggest = sorted(loaded, reverse=True)[:4]
            problems.append(f"{name}：{total / 1e6:.2f} MB（最大的：{[(p, s) for s, p in biggest]}）")
        for _, path in loaded:
            if path.endswith(("fontawesome.js", "searchindex.js", "fa-brands-400.woff2")):
                problems.append(f"{name}：加载了 {path}")
        # 图标由字体显示：≡ 按钮里的图标有宽度，用的是 Font Awesome 字体
        icon = page.evaluate("""() => { const i = document.querySelector('button.primary-toggle .fa-bars');
            return i ? [i.getBoundingClientRect().width, getComputedStyle(i, '::before').fontFamily || getComputedStyle(i).fontFamily,
                        document.fonts.check('900 16px "Font Awesome 6 Free"')] : null; }""")
        if not icon or icon[0] < 8 or "Font Awesome" not in icon[1] or not icon[2]:
            problems.append(f"{name}：≡ 图标没有显示出来（{icon}）")
        context.close()
    with capsys.disabled():
        print(f"\n第一次打开时下载的字节（之前有公式的一页 {PAGE_BYTES_BEFORE / 1e6:.2f} MB）：")
        for name, count, total in rows:
            print(f"  {name}: {count} 个请求，{total / 1e6:.2f} MB")
    assert not problems, "\n".join(problems)
