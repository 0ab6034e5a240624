"""章末测验在真实浏览器里（Debian 的 Chromium + Playwright，和 tests/test_browser.py 同一套服务器和浏览器）。

每个测验页（quizzes/NN.html）在 1280 px 宽时、第 2 章的测验还在 390 px 宽（手机）时：
- 控制台没有错误，没有失败的请求，没有发往 127.0.0.1 以外的请求；题数与 YAML 相同；
- 每一题：单数题先点一个错的选项（反馈说“不对”、显示解释），再点对的（“答对了”）；双数题直接点对的；
  本页得分随之更新（第一次就选对的才算）；第一题用键盘（Tab 到按钮、按 Enter）作答；
- 每个「讲解见」链接指向网站里存在的那一页（YAML 的 see）；
- 手机宽度上页面不左右滚动，选项按钮不比正文栏宽；
- 打印（全书 PDF 用的打印样式）时只印题目和选项：答过的题，对错、解释和得分也不印出来（也就没有指向别处的链接）。
通用的逐页检查（≡、界面文字、图、横向滚动……）由 tests/test_browser.py 做：测验页只在 390 px 宽时（桌面宽度由本文件打开）。
"""

from __future__ import annotations

import sys
import time
import urllib.parse

import pytest

from conftest import ROOT, toc_entries
from test_browser import SITE, _open, browser, open_contexts, site_url  # noqa: F401  （browser、site_url 是 fixture）

sys.path.insert(0, str(ROOT / "tools"))
import quiz  # noqa: E402

PAGES = [e for e in toc_entries() if e.startswith("quizzes/")]
CASES = [(p, "desktop") for p in PAGES] + [("quizzes/02", "phone")]


@pytest.fixture(scope="module")
def quiz_contexts(browser, site_url):  # noqa: F811
    made = open_contexts(browser, site_url)
    started = time.perf_counter()
    yield made
    print(f"\n测验页的浏览器测试共用时 {time.perf_counter() - started:.1f} s")
    for context in made.values():
        context.close()


def test_every_quiz_page_is_in_the_toc():
    assert [f"quizzes/{n:02d}" for n in quiz.ALL_CHAPTERS] == PAGES


@pytest.mark.parametrize("page_name,width_name", CASES, ids=[f"{p.split('/')[1]}-{w}" for p, w in CASES])
def test_quiz_gives_feedback_and_keeps_score(quiz_contexts, site_url, page_name, width_name):  # noqa: F811
    chapter = int(page_name.split("/")[1])
    data = quiz.load(chapter)
    questions = data["questions"]
    context = quiz_contexts[width_name]
    page, problems = _open(context, f"{site_url}/{page_name}.html")
    try:
        blocks = page.locator(".site-quiz__question")
        assert blocks.count() == len(questions), f"页面上有 {blocks.count()} 道题，YAML 里有 {len(questions)} 道"
        score = page.locator(".site-quiz__score")
        assert score.inner_text().startswith(f"本页得分：0 / {len(questions)}")
        right = 0
        for i, q in enumerate(questions):
            block = blocks.nth(i)
            buttons = block.locator("button.site-quiz__choice")
            verdict = block.locator(".site-quiz__verdict")
            feedback = block.locator(".site-quiz__feedback")
            if buttons.count() != len(q["choices"]):
                problems.append(f"第 {i + 1} 题：{buttons.count()} 个按钮，{len(q['choices'])} 个选项")
                continue
            if feedback.is_visible():
                problems.append(f"第 {i + 1} 题：还没作答就显示了解释")
            wrong = (q["answer"] + 1) % len(q["choices"])
            if i % 2 == 0:
                buttons.nth(wrong).click()
                if not verdict.inner_text().startswith("✘ 不对") or not feedback.is_visible():
                    problems.append(f"第 {i + 1} 题：点错的选项后没有说“不对”并显示解释：{verdict.inner_text()!r}")
                explain = feedback.locator(".site-quiz__explain").inner_text()
                if quiz.one_line(q["explain"]).replace("`", "")[:12] not in explain:
                    problems.append(f"第 {i + 1} 题：解释不是 YAML 里的那一段：{explain[:40]!r}")
            if i == 0:
                buttons.nth(q["answer"]).focus()          # 键盘：聚焦按钮，按 Enter
                page.keyboard.press("Enter")
            else:
                buttons.nth(q["answer"]).click()
            if not verdict.inner_text().startswith("✔ 答对了"):
                problems.append(f"第 {i + 1} 题：点对的选项后没有说“答对了”：{verdict.inner_text()!r}")
            right += i % 2
            expected = f"本页得分：{right} / {len(questions)}"
            if not score.inner_text().startswith(expected):
                problems.append(f"第 {i + 1} 题之后得分应是「{expected}」，实际「{score.inner_text()}」")
            href = feedback.locator(".site-quiz__see a").get_attribute("href") or ""
            target = urllib.parse.urlsplit(urllib.parse.urljoin(f"{site_url}/{page_name}.html", href)).path
            if target != f"/chapters/{q['see']}.html" or not (SITE / target.lstrip("/")).is_file():
                problems.append(f"第 {i + 1} 题：「讲解见」链接 {href!r} 不是 chapters/{q['see']}.html")
        if width_name == "phone":
            layout = page.evaluate("""() => ({scroll: document.documentElement.scrollWidth,
                client: document.documentElement.clientWidth,
                column: document.querySelector('article.bd-article').clientWidth,
                widest: Math.max(...[...document.querySelectorAll('.site-quiz__choice, .site-quiz__question pre')]
                                 .map(b => b.getBoundingClientRect().width))})""")
            if layout["scroll"] > layout["client"]:
                problems.append(f"手机上页面左右滚动：{layout}")
            if layout["widest"] > layout["column"] + 1:
                problems.append(f"手机上选项或代码比正文栏宽：{layout}")
        if width_name == "phone":
            page.emulate_media(media="print")
            shown = page.evaluate("""() => [...document.querySelectorAll(
                '.site-quiz__feedback, .site-quiz__verdict, .site-quiz__score, .site-quiz__choice')]
                .map(e => [e.className.split(' ')[0], getComputedStyle(e).display])""")
            if [c for c, d in shown if c != "site-quiz__choice" and d != "none"] or \
                    [c for c, d in shown if c == "site-quiz__choice" and d == "none"]:
                problems.append(f"打印时应当只印题目和选项：{sorted(set(map(tuple, shown)))}")
            page.emulate_media(media="screen")
        if context.foreign:
            problems.append(f"发往 127.0.0.1 以外的请求：{sorted(set(context.foreign))[:5]}")
            context.foreign.clear()
    finally:
        page.close()
    assert not problems, f"{page_name}.html（{width_name}）:\n" + "\n".join(problems)
