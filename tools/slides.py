"""每章一套课件（幻灯片）：从目录和笔记本里已保存的输出生成，离线可用（make slides）。

    python tools/slides.py                       # 写到 _build/slides/：01.html … 17.html、index.html 和共用的文件
    python tools/slides.py --out /tmp/slides     # 换一个目录（_ext/slides.py 在网站构建完时写进 _build/html/slides/）

只读 `_toc.yml` 和笔记本（JSON），不运行任何代码；一章一个 HTML 文件，16:9（1280×720 的画面按窗口缩放）。
一套课件的内容：
1. 标题页（章标题）；「本章目标」（章节页的列表，长了分成两页）；「本章各节」（各节标题）。
2. 每一节（目录里 NNx_… 的页；像第 1 章这样章节页本身有代码时，章节页算第一节）：
   - 节的标题页（GPU 上记录的页注明）；
   - 关键代码及其输出和图，选法（KEY_CELLS_PER_SECTION 个以内，按页面上的顺序）：
     候选是 `##`「准备」「小结」「练习」「探索」以外的代码单元，不要带 remove-* / hide-* 标签的单元
     （隐藏的检查、参考答案、折起来的深入内容）和引导代码（含 PTNOTES_URL 或 ptnotes.setup() 的单元）；
     先取画了图的单元，再按顺序取每个 `##` / `###` 小标题下的第一个候选（有输出的优先），满了为止；
     幻灯片的标题是代码所在的小标题，标题下一行是代码前面那段话的最后一句（引出这段代码的话，不太长时）；
   - 页面上的示意图（`{figure}` 指令里的 SVG，连同图注）；
   - 「小结」：该节 `## 小结` 下的列表。
3. 「本章小结」：每一节一条（节标题和该节小结的第一条）。
代码用 Pygments 着色；输出是 stdout 和结果的文字、保存在笔记本里的 PNG 图（写成 img/ 下的文件）。
放不下时：字号按估算的行数从 CODE_FONTS 里挑（24–16 px）；最小的字号也放不下，输出另起一页，代码在空行处分成几页
（最多 MAX_CODE_PAGES 页，再多就只留前面的，注明后面还有几行，完整的在网页上），很长的输出只留前面的行；
页面里的脚本在估算不准、仍然放不下时再把字缩小（代码不小于 14 px，列表不小于 24 px），所以不会被截掉或出现滚动条
（tests/test_slides.py 在 Chromium 里逐页检查）。
公式用仓库里的 MathJax（_vendor/mathjax，复制到输出目录的 mathjax/），中文用系统字体，不从网上加载任何东西。
翻页：← → 空格 PageUp PageDown Home End，手机上左右滑动；网址里的 #n 是第 n 页；打印时一页一张幻灯片。
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import sys
import time
import unicodedata
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
MATHJAX = ROOT / "_vendor" / "mathjax"
DEFAULT_OUT = ROOT / "_build" / "slides"

KEY_CELLS_PER_SECTION = 3
MAX_CODE_PAGES = 3          # 一个单元的代码最多分成几页
SKIP_HEADINGS = ("准备", "小结", "练习", "探索")
SETUP_MARKERS = ("PTNOTES_URL", "ptnotes.setup(")
# 代码区的字号（px）与估算：画面 1280×720，内容区宽 CONTENT_W、高 CONTENT_H（标题和引言之外）
CODE_FONTS = (24, 22, 20, 18, 16)
CONTENT_W = 1280 - 2 * 56 - 2 * 18
CONTENT_H = 720 - 48 - 104 - 40   # 上下边距、一行标题（含上面的小字和下边线）
LINE_HEIGHT = 1.35
MAX_LEAD_CHARS = 90
# 一页列表（目标、小结）：按最小的字号 24 px 估算，一行约 LIST_LINE_UNITS 个“字宽”（一个汉字 2、一个西文字符 1），
# 一页不超过 LIST_LINES 行；页面上从 28 px 开始，放不下时页面里的脚本逐步缩小，最小 24 px
LIST_LINE_UNITS = 90
LIST_LINES = 12.5
MAX_CLOSING_UNITS = 110

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ROLE = re.compile(r"\{(doc|ref|numref|download|term)\}`([^`]*)`")
FENCE = re.compile(r"^\s*(```|:::)")


# ---------------------------------------------------------------- 读笔记本

def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [e["file"] for part in toc["parts"] for e in part["chapters"]]


def chapters() -> list[tuple[str, list[str]]]:
    """[(章节页 'NN_name', [小节页 'NNx_name', …])]，按目录顺序。"""
    result: list[tuple[str, list[str]]] = []
    for f in toc_files():
        stem = f.removeprefix("chapters/")
        if not f.startswith("chapters/"):
            continue
        if re.fullmatch(r"\d\d_\w+", stem):
            result.append((stem, []))
        elif re.fullmatch(r"\d\d[a-z]_\w+", stem) and result and stem[:2] == result[-1][0][:2]:
            result[-1][1].append(stem)
    return result


def load(stem: str) -> dict:
    return json.loads((CHAPTERS / f"{stem}.ipynb").read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def title_of(nb: dict) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("笔记本没有 `# ` 开头的标题")


_TITLES: dict[str, str] = {}


def page_title(stem: str) -> str:
    if stem not in _TITLES:
        path = CHAPTERS / f"{stem}.ipynb"
        _TITLES[stem] = title_of(load(stem)) if path.is_file() else stem
    return _TITLES[stem]


def items(nb: dict) -> list[tuple]:
    """笔记本摊平成 ('h', 级别, 文字) / ('md', 文字) / ('code', 单元)；markdown 单元在（代码块以外的）标题处切开。"""
    out: list[tuple] = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            out.append(("code", cell))
            continue
        if cell["cell_type"] != "markdown":
            continue
        buf: list[str] = []
        fence = None
        for line in source(cell).splitlines():
            m = FENCE.match(line)
            if m:
                fence = None if fence == m.group(1) else (fence or m.group(1))
            h = re.match(r"^(#{1,4}) (.+)$", line) if fence is None else None
            if h:
                if "".join(buf).strip():
                    out.append(("md", "\n".join(buf).strip()))
                buf = []
                out.append(("h", len(h.group(1)), h.group(2).strip()))
            else:
                buf.append(line)
        if "".join(buf).strip():
            out.append(("md", "\n".join(buf).strip()))
    return out


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def has_figure(cell: dict) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def text_outputs(cell: dict) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream" and o.get("name") == "stdout":
            parts.append("".join(o["text"]) if isinstance(o["text"], list) else o["text"])
        elif o["output_type"] in ("execute_result", "display_data") and "image/png" not in o.get("data", {}):
            t = o.get("data", {}).get("text/plain")
            if t:
                parts.append(("".join(t) if isinstance(t, list) else t) + "\n")
        elif o["output_type"] == "error":
            parts.append(f"{o['ename']}: {o['evalue']}\n")
    text = ANSI.sub("", "".join(parts)).rstrip("\n")
    # 进度条用 \r 回到行首重画：只留每一行最后画出来的样子（和终端里看到的一样）
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def png_outputs(cell: dict) -> list[bytes]:
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {}).get("image/png")
        if data:
            out.append(base64.b64decode("".join(data) if isinstance(data, list) else data))
    return out


def png_aspect(data: bytes) -> float:
    """PNG 的宽高比（文件头 IHDR 里的宽和高）。"""
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return width / max(1, height)


# ---------------------------------------------------------------- Markdown → HTML

def _math_inline(self, tokens, idx, options, env):
    return f'<span class="math">\\({html.escape(tokens[idx].content, quote=False)}\\)</span>'


def _math_block(self, tokens, idx, options, env):
    return f'<div class="math">\\[{html.escape(tokens[idx].content, quote=False)}\\]</div>\n'


MD = MarkdownIt("commonmark", {"html": False}).enable("table").use(dollarmath_plugin, double_inline=True)
MD.add_render_rule("math_inline", _math_inline)
MD.add_render_rule("math_inline_double", _math_block)
MD.add_render_rule("math_block", _math_block)
MD.add_render_rule("math_block_label", _math_block)


def roles_to_text(text: str) -> str:
    """MyST 的 {doc}`…` 等角色换成文字：有显示文字用它，否则用那一页的标题（「2.1 创建张量」）。"""
    def repl(m):
        role, body = m.groups()
        shown = re.match(r"^(.*?)\s*<([^>]+)>$", body)
        if shown and shown.group(1):
            return shown.group(1)
        target = (shown.group(2) if shown else body).strip()
        if role == "doc":
            stem = target.rsplit("/", 1)[-1]
            return f"「{page_title(stem)}」" if (CHAPTERS / f"{stem}.ipynb").is_file() else stem
        return target.rsplit("/", 1)[-1]
    return ROLE.sub(repl, text)


def md(text: str) -> str:
    return MD.render(roles_to_text(text))


def md_inline(text: str) -> str:
    return MD.renderInline(roles_to_text(text))


def bullets(text: str) -> list[str]:
    """一段 Markdown 里 `- ` 开头的条目（续行并进上一条），源文字。"""
    result: list[str] = []
    for line in text.splitlines():
        if re.match(r"^[-*] ", line):
            result.append(line[2:].strip())
        elif result and line.startswith("  ") and line.strip():
            result[-1] += " " + line.strip()
    return result


def units(text: str) -> int:
    """估算的显示宽度：全角字符 2，其余 1。"""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def plain(text: str) -> str:
    """估算宽度用：去掉 Markdown 和公式的标记。"""
    return re.sub(r"[`*$\\{}]", "", roles_to_text(text))


def last_sentence(text: str) -> str | None:
    """引出代码的那句话：一段文字的最后一句（以「：」「。」结尾），不太长、不是指令块时。"""
    if FENCE.match(text) or text.lstrip().startswith(("|", "<", "-", ">")):
        return None
    para = text.strip().split("\n\n")[-1].replace("\n", "")
    parts = [p for p in re.split(r"(?<=[。！？；])", para) if p.strip()]
    if not parts:
        return None
    sentence = parts[-1].strip()
    if sentence.count("$") % 2 or sentence.count("`") % 2 or units(plain(sentence)) > 2 * MAX_LEAD_CHARS:
        return None
    return sentence


# ---------------------------------------------------------------- 选单元

def section_content(stem: str) -> dict:
    """一节的标题、关键代码单元（带小标题和引言）、示意图和小结。"""
    nb = load(stem)
    title = title_of(nb)
    h2 = h3 = ""
    last_md = None
    seen_heading: set[str] = set()
    cells, figures, summary = [], [], []
    for it in items(nb):
        if it[0] == "h":
            level, text = it[1], it[2]
            if level == 2:
                h2, h3 = text, ""
            elif level == 3:
                h3 = text
                if h2 == "准备":      # 有的页在「准备」之后直接用 ### 小标题开始正文
                    h2 = ""
            last_md = None
            continue
        if it[0] == "md":
            if h2 == "小结":
                summary += bullets(it[1])
            fig = re.search(r"```\{figure\}\s*(\S+)\n(.*?)```", it[1], re.DOTALL)
            if fig and h2 not in SKIP_HEADINGS:
                body = fig.group(2)
                alt = re.search(r"^:alt:\s*(.+)$", body, re.MULTILINE)
                caption = "\n".join(l for l in body.splitlines() if not l.startswith(":")).strip()
                figures.append({"path": (CHAPTERS / fig.group(1)).resolve(), "alt": alt.group(1) if alt else "",
                                "caption": caption, "heading": h3 or h2, "order": len(cells) + len(figures)})
            last_md = it[1]
            continue
        cell = it[1]
        src = source(cell).strip()
        if (h2 in SKIP_HEADINGS or not src or any(t.startswith(("remove-", "hide-")) for t in tags(cell))
                or any(m in src for m in SETUP_MARKERS) or src.startswith(("%", "!"))):
            last_md = None
            continue
        heading = h3 or h2 or title
        cells.append({"cell": cell, "heading": heading, "first": heading not in seen_heading,
                      "lead": last_sentence(last_md) if last_md else None, "index": len(cells)})
        seen_heading.add(heading)
        last_md = None
    chosen = [c for c in cells if has_figure(c["cell"])][:KEY_CELLS_PER_SECTION]
    firsts = [c for c in cells if c["first"] and c not in chosen]
    firsts.sort(key=lambda c: (not (c["cell"].get("outputs")), c["index"]))
    chosen += firsts[:KEY_CELLS_PER_SECTION - len(chosen)]
    chosen.sort(key=lambda c: c["index"])
    return {"stem": stem, "title": title, "cells": chosen, "figures": figures, "summary": summary,
            "gpu": bool(nb["metadata"].get("ptnotes", {}).get("gpu_page"))}


def chapter_goals(nb: dict) -> list[str]:
    goals, inside = [], False
    for it in items(nb):
        if it[0] == "h":
            inside = it[2] == "本章目标"
        elif it[0] == "md" and inside:
            goals += bullets(it[1])
    return goals


# ---------------------------------------------------------------- 排版估算

def cols(font: int, width: int) -> int:
    return max(20, int(width / (0.6 * font)))


def wrapped_lines(text: str, font: int, width: int) -> int:
    c = cols(font, width)
    return sum(max(1, -(-units(line.expandtabs(4)) // c)) for line in text.split("\n")) if text else 0


def fit(blocks: list[str], width: int = CONTENT_W, height: int = CONTENT_H) -> int | None:
    """能把几块等宽文字（代码、输出）一起放下的最大字号；放不下返回 None。每块另有约 1.2 行的内边距和间隔。"""
    for font in CODE_FONTS:
        lines = sum(wrapped_lines(b, font, width) + 1.2 for b in blocks if b)
        if lines * font * LINE_HEIGHT <= height:
            return font
    return None


def cap(text: str, width: int, height: int, what: str) -> str:
    """最小字号下也放不下时，只留前面的行，最后一行注明省略了几行。"""
    font = CODE_FONTS[-1]
    limit = int(height / (font * LINE_HEIGHT)) - 2
    kept: list[str] = []
    lines = text.split("\n")
    used = 0
    for line in lines:
        n = wrapped_lines(line, font, width)
        if used + n > limit - 1:
            break
        kept.append(line)
        used += n
    rest = len(lines) - len(kept)
    if rest <= 0:
        return text
    note = f"# …… 省略 {rest} 行，完整的代码见网页" if what == "code" else f"…… 省略 {rest} 行输出，完整的见网页"
    return "\n".join(kept + [note])


# ---------------------------------------------------------------- 幻灯片

FORMATTER = HtmlFormatter(nowrap=True, style="friendly")
LEXER = PythonLexer()


def code_html(src: str, font: int) -> str:
    return f'<pre class="code" style="font-size:{font}px">{highlight(src, LEXER, FORMATTER)}</pre>'


def output_html(text: str, font: int) -> str:
    return f'<pre class="output" style="font-size:{font}px">{html.escape(text)}</pre>'


class Deck:
    def __init__(self, number: int, title: str, img_dir: Path, img_prefix: str):
        self.number, self.title = number, title
        self.slides: list[str] = []
        self.img_dir, self.img_prefix = img_dir, img_prefix
        self.images: list[str] = []

    def add(self, kind: str, body: str, title: str | None = None, lead: str | None = None, crumb: str = ""):
        head = ""
        if title is not None:
            head = f'<header><div class="crumb">{html.escape(crumb)}</div><h2>{md_inline(title)}</h2>'
            if lead:
                head += f'<p class="lead">{md_inline(lead)}</p>'
            head += "</header>"
        self.slides.append(f'<section class="slide {kind}">{head}<div class="body">{body}</div></section>')

    def image(self, data: bytes, ext: str = "png") -> str:
        name = f"{self.img_prefix}-{len(self.images) + 1:02d}.{ext}"
        (self.img_dir / name).write_bytes(data)
        self.images.append(name)
        return f"img/{name}"

    def list_slides(self, heading: str, entries: list[str], crumb: str, kind: str = "list"):
        """条目多时分几页（估算总宽度不超过 MAX_LIST_UNITS）。"""
        pages: list[list[str]] = [[]]
        size = 0.0
        for e in entries:
            u = -(-(units(plain(e)) + 3) // LIST_LINE_UNITS) + 0.3      # 行数，加上条目之间的间隔
            if pages[-1] and size + u > LIST_LINES:
                pages.append([])
                size = 0
            pages[-1].append(e)
            size += u
        for i, page in enumerate(pages):
            suffix = f"（{i + 1}/{len(pages)}）" if len(pages) > 1 else ""
            body = "<ul>" + "".join(f"<li>{md_inline(e)}</li>" for e in page) + "</ul>"
            self.add(kind, body, heading + suffix, crumb=crumb)


def body_height(title: str, lead: str | None = None) -> int:
    """内容区的高度：CONTENT_H 减去标题多出的行（38 px 的字，一行约 58 个字宽，行高 48 px）和标题下的引言
    （24 px 的字，一行约 94 个字宽，行高 34 px，上边距 8 px）。"""
    extra_title = 48 * (-(-units(plain(title)) // 58) - 1)
    lead_h = 0 if not lead else 8 + 34 * -(-units(plain(lead)) // 94)
    return CONTENT_H - extra_title - lead_h


def chunks(text: str, width: int, height: int) -> list[str]:
    """最小字号下一页放不下的代码分成几段，尽量在空行处断开。"""
    font = CODE_FONTS[-1]
    limit = int(height / (font * LINE_HEIGHT)) - 2
    parts: list[list[str]] = [[]]
    used = 0
    for line in text.split("\n"):
        n = wrapped_lines(line, font, width)
        if parts[-1] and used + n > limit:
            current = parts[-1]
            blanks = [i for i, l in enumerate(current) if not l.strip() and i >= len(current) // 2]
            if blanks:
                parts[-1], carry = current[:blanks[-1]], current[blanks[-1] + 1:]
            else:
                carry = []
            parts.append(carry)
            used = sum(wrapped_lines(l, font, width) for l in carry)
        parts[-1].append(line)
        used += n
    return ["\n".join(p).strip("\n") for p in parts if "".join(p).strip()]


def add_code_run(deck: Deck, src: str, title: str, lead: str | None, crumb: str, out: str = "") -> None:
    """代码（和文字输出）放进一页或几页：一页放得下就一页；否则代码分段（最多 MAX_CODE_PAGES 页，再多就只留前面的，
    注明省略了几行），输出另起一页（太长时只留前面的行）。"""
    height = body_height(title, lead)
    font = fit([src, out], CONTENT_W, height)
    if font:
        deck.add("code", code_html(src, font) + (output_html(out, font) if out else ""), title, lead, crumb)
        return
    parts = chunks(src, CONTENT_W, height)
    if len(parts) > MAX_CODE_PAGES:
        rest = sum(p.count("\n") + 1 for p in parts[MAX_CODE_PAGES:])
        parts = parts[:MAX_CODE_PAGES]
        parts[-1] += f"\n# …… 后面还有 {rest} 行，完整的代码见网页"
    last = len(parts) - 1
    if out:   # 输出和最后一段代码放得下一页就放在一起
        both = fit([parts[last], out], CONTENT_W, height if last == 0 else body_height(title + "（续 9/9）"))
        if both:
            parts[last] = (parts[last], out, both)
    for i, part in enumerate(parts):
        more = "" if i == 0 else f"（续 {i + 1}/{len(parts)}）"
        if isinstance(part, tuple):
            body = code_html(part[0], part[2]) + output_html(part[1], part[2])
            out = ""
        else:
            body = code_html(part, fit([part], CONTENT_W, height if i == 0 else body_height(title + more)) or CODE_FONTS[-1])
        deck.add("code", body, title + more, lead if i == 0 else None, crumb)
    if out:
        h = body_height(title + "（输出）")
        text = cap(out, CONTENT_W, h, "output")
        deck.add("code", output_html(text, fit([text], CONTENT_W, h) or CODE_FONTS[-1]), title + "（输出）", None, crumb)


def add_code_slides(deck: Deck, sec: dict, item: dict, crumb: str) -> None:
    cell = item["cell"]
    src = source(cell).strip("\n")
    out = text_outputs(cell)
    pngs = png_outputs(cell)
    title, lead = item["heading"], item["lead"]
    height = body_height(title, lead)
    if pngs:
        half = CONTENT_W // 2 - 16
        font = fit([src], half, height)
        if font and not out and len(pngs) == 1 and png_aspect(pngs[0]) <= 1.8:   # 很宽的图单独一页，不挤在代码旁边
            img = deck.image(pngs[0])
            body = (f'<div class="split"><div class="col">{code_html(src, font)}</div>'
                    f'<figure class="col fig"><img src="{img}" alt="{html.escape(sec["title"])}：{html.escape(plain(title))}"></figure></div>')
            deck.add("code", body, title, lead, crumb)
            return
        add_code_run(deck, src, title, lead, crumb, out)
        for k, data in enumerate(pngs):
            img = deck.image(data)
            more = f"（图 {k + 1}/{len(pngs)}）" if len(pngs) > 1 else "（图）"
            deck.add("figure", f'<figure class="fig"><img src="{img}" alt="{html.escape(plain(title))}{more}"></figure>',
                     title + more, None, crumb)
        return
    add_code_run(deck, src, title, lead, crumb, out)


def build_deck(number: int, chapter: str, sections: list[str], out: Path) -> tuple[Deck, dict]:
    nb = load(chapter)
    title = title_of(nb)
    deck = Deck(number, title, out / "img", f"{number:02d}")
    goals = chapter_goals(nb)
    pages = ([chapter] if any(c["cell_type"] == "code" for c in nb["cells"]) else []) + sections
    secs = [section_content(p) for p in pages]
    chapter_label = f"第 {number} 章"
    deck.add("title", f'<p class="kicker">PyTorch 实战笔记 · {chapter_label}</p><h1>{md_inline(title)}</h1>'
             f'<p class="sub">{len(secs)} 节 · 代码与输出来自课程网页上运行过的笔记本</p>')
    if goals:
        deck.list_slides("本章目标", goals, title)
    gpu_tag = ' <span class="tag">GPU 上记录</span>'
    deck.add("list", '<ol class="toc">' + "".join(
        f"<li>{md_inline(s['title'])}{gpu_tag if s['gpu'] else ''}</li>" for s in secs)
        + "</ol>", "本章各节", crumb=title)
    for sec in secs:
        crumb = sec["title"]
        gpu = '<p class="sub">本页的输出在 GPU 上记录（<code>make gpu</code>）</p>' if sec["gpu"] else ""
        deck.add("title section", f'<p class="kicker">{chapter_label}</p><h1>{md_inline(sec["title"])}</h1>{gpu}')
        figs = list(sec["figures"])
        for item in sec["cells"]:
            while figs and figs[0]["order"] <= item["index"]:
                add_figure_slide(deck, figs.pop(0), crumb)
            add_code_slides(deck, sec, item, crumb)
        for fig in figs:
            add_figure_slide(deck, fig, crumb)
        if sec["summary"]:
            deck.list_slides("小结", sec["summary"], crumb)
    closing = [f"**{s['title']}**" + (f"：{key_point(s['summary'])}" if key_point(s["summary"]) else "") for s in secs]
    deck.list_slides("本章小结", closing, title, kind="list closing")
    return deck, {"title": title, "sections": len(secs)}


def key_point(summary: list[str]) -> str | None:
    """本章小结里每节一条：该节小结第一条的第一句（到第一个「。」或「；」），太长就不要。"""
    if not summary:
        return None
    first = re.split(r"(?<=[。；])", summary[0])[0].rstrip("。；")
    if first.count("`") % 2 or first.count("$") % 2 or units(plain(first)) > MAX_CLOSING_UNITS:
        return None
    return first


def add_figure_slide(deck: Deck, fig: dict, crumb: str) -> None:
    path: Path = fig["path"]
    if not path.is_file():
        raise FileNotFoundError(f"示意图不存在：{path}")
    name = f"{deck.img_prefix}-{path.name}"
    shutil.copyfile(path, deck.img_dir / name)
    deck.images.append(name)
    caption = fig["caption"].split("\n\n")[0].replace("\n", "")
    first = re.split(r"(?<=[。！？])", caption)[0]
    cap_html = f"<figcaption>{md_inline(first)}</figcaption>" if first and units(plain(first)) <= 200 else ""
    deck.add("figure", f'<figure class="fig diagram"><img src="img/{name}" alt="{html.escape(fig["alt"])}">{cap_html}</figure>',
             fig["heading"], None, crumb)


# ---------------------------------------------------------------- HTML

CSS = r"""
:root { --fg: #1d2430; --muted: #5b6573; --accent: #c2410c; --code-bg: #f6f8fa; --out-bg: #fffbea; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: #222; overflow: hidden; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--fg); }
.deck { position: absolute; left: 50%; top: 50%; width: 1280px; height: 720px; transform-origin: 50% 50%; }
.slide { position: absolute; inset: 0; width: 1280px; height: 720px; background: #fff; padding: 48px 56px 40px;
         display: none; flex-direction: column; overflow: hidden; font-size: 28px; line-height: 1.5; }
.slide.current, .deck.measure .slide.measuring { display: flex; }
.slide header { flex: none; margin-bottom: 14px; }
.slide .crumb { font-size: 18px; color: var(--muted); }
.slide h2 { font-size: 38px; margin: 2px 0 0; line-height: 1.25; border-bottom: 3px solid var(--accent); padding-bottom: 8px; }
.slide .lead { font-size: 24px; color: var(--muted); margin: 8px 0 0; line-height: 1.4; }
.slide .body { flex: 1; min-height: 0; display: flex; flex-direction: column; gap: 12px; overflow: hidden; }
.slide.title { justify-content: center; background: linear-gradient(135deg, #fff7ed, #fff 60%); }
.slide.title .body { justify-content: center; flex: none; }
.slide.title h1 { font-size: 56px; line-height: 1.25; margin: 0 0 24px; }
.slide.title .kicker { font-size: 26px; color: var(--accent); margin: 0 0 12px; }
.slide.title .sub { font-size: 24px; color: var(--muted); margin: 0; }
.slide ul, .slide ol { margin: 0; padding-left: 1.3em; }
.slide li { margin: 0 0 0.45em; }
.slide code { font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace; font-size: 0.88em;
              background: #f1f3f5; padding: 0 0.15em; border-radius: 3px; }
.slide pre { margin: 0; padding: 10px 18px; border-radius: 8px; white-space: pre-wrap; overflow-wrap: anywhere;
             font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace; line-height: 1.35; flex: none; }
.slide pre.code { background: var(--code-bg); border-left: 5px solid #3b82f6; }
.slide pre.output { background: var(--out-bg); border-left: 5px solid #f59e0b; }
.slide .tag { font-size: 0.7em; color: #fff; background: #16a34a; border-radius: 4px; padding: 0 6px; }
.split { display: flex; gap: 24px; flex: 1; min-height: 0; }
.split .col { flex: 1 1 0; min-width: 0; min-height: 0; }
figure.fig { margin: 0; flex: 1; min-height: 0; display: flex; flex-direction: column; align-items: center; justify-content: center; }
figure.fig img { max-width: 100%; max-height: 100%; min-height: 0; object-fit: contain; flex: 1 1 auto; }
figure.fig figcaption { flex: none; font-size: 24px; color: var(--muted); margin-top: 8px; line-height: 1.4; }
.slide div.math { text-align: center; }
.counter { position: fixed; right: 14px; bottom: 10px; color: #bbb; font: 16px sans-serif; z-index: 2; }
.nav { position: fixed; bottom: 6px; z-index: 2; background: rgba(0,0,0,.25); opacity: .6; color: #fff; border: 0; font-size: 20px;
       width: 40px; height: 32px; border-radius: 6px; cursor: pointer; }
.nav.prev { left: 10px; } .nav.next { left: 56px; }
.home { position: fixed; left: 104px; bottom: 12px; z-index: 2; color: #bbb; font: 16px sans-serif; }
@media print {
  @page { size: 1280px 720px; margin: 0; }
  html, body { background: #fff; overflow: visible; height: auto; }
  .deck { position: static; transform: none !important; width: auto; height: auto; }
  .slide { position: relative; display: flex !important; break-after: page; page-break-after: always; }
  .counter, .nav, .home { display: none; }
}
"""

JS = r"""
(function () {
  const deck = document.querySelector(".deck");
  const slides = [...deck.querySelectorAll(".slide")];
  const counter = document.querySelector(".counter");
  let current = 0;
  function scale() {
    const s = Math.min(window.innerWidth / 1280, window.innerHeight / 720);
    deck.style.transform = `translate(-50%, -50%) scale(${s})`;
  }
  // 放不下时缩小：代码和输出缩小字号（不小于 14 px），列表缩小整页的字号（不小于 24 px）
  function overflowing(slide) {
    const body = slide.querySelector(".body");
    return slide.scrollHeight > slide.clientHeight + 1 || (body && body.scrollHeight > body.clientHeight + 1)
      || [...slide.querySelectorAll("pre")].some(p => p.scrollWidth > p.clientWidth + 1);
  }
  function fitSlide(slide) {
    if (slide.dataset.fitted) return;
    for (let i = 0; i < 30 && overflowing(slide); i++) {
      const pres = [...slide.querySelectorAll("pre")];
      let changed = false;
      for (const p of pres) {
        const f = parseFloat(getComputedStyle(p).fontSize);
        if (f > 14) { p.style.fontSize = Math.max(14, f - 1) + "px"; changed = true; }
      }
      const f = parseFloat(getComputedStyle(slide).fontSize);
      if (!pres.length && f > 24) { slide.style.fontSize = (f - 1) + "px"; changed = true; }
      if (!changed) break;
    }
    slide.dataset.fitted = "1";
  }
  function fitAll() {
    deck.classList.add("measure");
    for (const s of slides) { s.classList.add("measuring"); fitSlide(s); s.classList.remove("measuring"); }
    deck.classList.remove("measure");
  }
  function show(n, push) {
    current = Math.max(0, Math.min(slides.length - 1, n));
    slides.forEach((s, i) => s.classList.toggle("current", i === current));
    fitSlide(slides[current]);
    counter.textContent = `${current + 1} / ${slides.length}`;
    const hash = "#" + (current + 1);
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }
  function fromHash() {
    const n = parseInt(location.hash.slice(1), 10);
    return Number.isFinite(n) ? n - 1 : 0;
  }
  window.slidesGo = n => show(n);
  window.slidesState = () => ({current, total: slides.length});
  document.addEventListener("keydown", e => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const next = ["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"], prev = ["ArrowLeft", "ArrowUp", "PageUp", "Backspace"];
    if (next.includes(e.key)) { show(current + 1); e.preventDefault(); }
    else if (prev.includes(e.key)) { show(current - 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); e.preventDefault(); }
    else if (e.key === "End") { show(slides.length - 1); e.preventDefault(); }
  });
  let x0 = null, y0 = null;
  document.addEventListener("touchstart", e => { x0 = e.touches[0].clientX; y0 = e.touches[0].clientY; }, {passive: true});
  document.addEventListener("touchend", e => {
    if (x0 === null) return;
    const dx = e.changedTouches[0].clientX - x0, dy = e.changedTouches[0].clientY - y0;
    if (Math.abs(dx) > 40 && Math.abs(dx) > Math.abs(dy)) show(current + (dx < 0 ? 1 : -1));
    x0 = null;
  }, {passive: true});
  document.querySelector(".nav.prev").addEventListener("click", () => show(current - 1));
  document.querySelector(".nav.next").addEventListener("click", () => show(current + 1));
  window.addEventListener("hashchange", () => show(fromHash()));
  window.addEventListener("resize", scale);
  window.addEventListener("beforeprint", fitAll);
  scale();
  show(fromHash());
  const ready = () => { fitAll(); show(current); document.documentElement.dataset.ready = "1"; };
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(ready); else ready();
})();
"""

MATHJAX_CONFIG = """window.MathJax = {
  tex: { inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]], processEscapes: false },
  options: { enableMenu: false, processHtmlClass: "math", ignoreHtmlClass: "slide" },
  startup: { typeset: true }
};"""

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="slides.css">
{math}
</head>
<body>
<main class="deck">
{slides}
</main>
<button class="nav prev" aria-label="上一页">‹</button><button class="nav next" aria-label="下一页">›</button>
<a class="home" href="index.html">全部课件</a>
<div class="counter" aria-live="polite"></div>
<script defer src="slides.js"></script>
</body>
</html>
"""

MATH_TAGS = '<script>{config}</script>\n<script defer src="{src}"></script>'

INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PyTorch 实战笔记 · 课件</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 820px;
       margin: 40px auto; padding: 0 20px; color: #1d2430; line-height: 1.6; font-size: 18px; }}
a {{ color: #c2410c; }} td, th {{ padding: 6px 12px; border-bottom: 1px solid #ddd; text-align: left; }}
table {{ border-collapse: collapse; width: 100%; }}
</style>
</head>
<body>
<h1>PyTorch 实战笔记 · 课件</h1>
<p>每章一套幻灯片：本章目标、每一节的关键代码（连同输出和图）与小结。用 ← → 或空格翻页，手机上左右滑动；
网址末尾的 #n 是第 n 页；打印（或打印成 PDF）时一页一张。</p>
<table>
<thead><tr><th>章</th><th>课件</th><th>页数</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def write_deck(deck: Deck, out: Path, mathjax: str | None) -> Path:
    path = out / f"{deck.number:02d}.html"
    tags = MATH_TAGS.format(config=MATHJAX_CONFIG, src=mathjax) if mathjax else ""
    path.write_text(PAGE.format(title=html.escape(f"{deck.title} · 课件"), math=tags,
                                slides="\n".join(deck.slides)), encoding="utf-8")
    return path


def build(out: Path = DEFAULT_OUT, mathjax: str | None = None) -> list[dict]:
    """写出全部课件，返回每章一条 {'number', 'title', 'file', 'slides', 'images', 'sections'}。

    mathjax：tex-chtml.js 的（相对）网址；不给时把 _vendor/mathjax 复制到 out/mathjax/。网站里的课件用网站已有的
    ../_static/mathjax/tex-chtml.js（_ext/site_slides.py），不再复制一份。"""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "img", ignore_errors=True)
    (out / "img").mkdir()
    (out / "slides.css").write_text(CSS + FORMATTER.get_style_defs(".slide pre.code"), encoding="utf-8")
    (out / "slides.js").write_text(JS, encoding="utf-8")
    if (out / "mathjax").exists():
        shutil.rmtree(out / "mathjax")
    if mathjax is None:
        shutil.copytree(MATHJAX, out / "mathjax", ignore=shutil.ignore_patterns("README.md"))
        mathjax = "mathjax/tex-chtml.js"
    made = []
    for chapter, sections in chapters():
        number = int(chapter[:2])
        deck, info = build_deck(number, chapter, sections, out)
        page = "\n".join(deck.slides)
        path = write_deck(deck, out, mathjax if ("\\(" in page or "\\[" in page) else None)
        made.append({"number": number, "title": deck.title, "file": path.name, "slides": len(deck.slides),
                     "images": list(deck.images), "sections": info["sections"]})
    rows = "\n".join(f'<tr><td>{d["number"]}</td><td><a href="{d["file"]}">{html.escape(d["title"])}</a></td>'
                     f'<td>{d["slides"]}</td></tr>' for d in made)
    (out / "index.html").write_text(INDEX.format(rows=rows), encoding="utf-8")
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="输出目录（默认 _build/slides/）")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    made = build(args.out)
    for d in made:
        print(f"{d['file']}  {d['slides']:3d} 页  {d['sections']} 节  {d['title']}")
    print(f"共 {len(made)} 套课件、{sum(d['slides'] for d in made)} 页，写到 {args.out}（{time.perf_counter() - started:.1f} 秒）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
