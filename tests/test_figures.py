"""figures/ 里手写的 SVG 图：是干净的 SVG、在手机上字也看得清、被各章用 MyST 的 figure 指令引用，并且带替代文字。

每张图都应当：
- 是良构的 XML，根元素 <svg> 有 width、height、viewBox（"0 0 宽 高"）、role="img" 和指向 <title>、<desc> 的 aria-labelledby，
  前两个子元素是非空的 <title> 和 <desc>；
- 第一个绘图元素是铺满整张图的白色背景（网站有深色模式，透明背景上的深色线条会看不见）；
- 不含脚本、事件属性、外部引用（href、url(...) 只能指向本文件里的 #id）、内嵌图片和字体；
- 每段文字的字号至少 14（用户单位）；图最宽 760，所以在 360 px 宽的手机上字至少约 7 px。

笔记本一侧：每张图至少被一章的 markdown 单元用 figure 指令引用一次，而且带非空的 :alt:；
反过来，笔记本里的每个 figure 指令都指向一个存在的文件，也都有 :alt:。
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT

FIGURES = ROOT / "figures"
SVGS = sorted(FIGURES.glob("*.svg"))
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
NS = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

MIN_FONT = 14           # 用户单位（viewBox 里的 px）
PHONE_WIDTH = 360       # 手机上图的显示宽度（CSS px）
MIN_PHONE_TEXT = 7.0    # 手机上最小的字（CSS px）
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "image", "font", "font-face", "iframe", "video", "audio",
                      "animate", "set", "animateMotion", "animateTransform", "handler"}
DRAWING = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "g", "use"}


def local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def number(value: str) -> float:
    return float(re.fullmatch(r"\s*([0-9.]+)\s*(px)?\s*", value).group(1))


def style_value(element, name):
    """属性 name，或 style="..." 里的同名声明；都没有时返回 None。"""
    style = element.get("style", "")
    match = re.search(rf"(?:^|;)\s*{name}\s*:\s*([^;]+)", style)
    return match.group(1).strip() if match else element.get(name)


def parse(path: Path):
    text = path.read_text(encoding="utf-8")
    assert "<!DOCTYPE" not in text and "<!ENTITY" not in text, "不要 DOCTYPE 和实体声明"
    return text, ET.fromstring(text)


def test_there_are_figures():
    assert FIGURES.is_dir() and SVGS, "figures/ 里还没有 SVG"


@pytest.mark.parametrize("path", SVGS, ids=lambda p: p.name)
def test_svg_root_title_desc_and_background(path):
    _, root = parse(path)
    assert root.tag == f"{NS}svg", f"根元素是 {root.tag}，应当是带 SVG 命名空间的 <svg>"
    for attribute in ("width", "height", "viewBox"):
        assert root.get(attribute), f"<svg> 缺少 {attribute}"
    width, height = number(root.get("width")), number(root.get("height"))
    assert [float(v) for v in root.get("viewBox").replace(",", " ").split()] == [0, 0, width, height], \
        f"viewBox 应当是 0 0 {width:g} {height:g}"
    assert 640 <= width <= 760 and height <= 520, f"{width:g}×{height:g}：宽应在 640–760，高不超过 520"
    assert root.get("role") == "img"

    children = list(root)
    assert len(children) >= 2 and local(children[0].tag) == "title" and local(children[1].tag) == "desc", \
        "前两个子元素应当是 <title> 和 <desc>"
    for child in children[:2]:
        assert (child.text or "").strip(), f"<{local(child.tag)}> 是空的"
    labelled_by = (root.get("aria-labelledby") or "").split()
    assert labelled_by, "<svg> 缺少 aria-labelledby"
    ids = {child.get("id") for child in children[:2]}
    assert set(labelled_by) <= ids, f"aria-labelledby={labelled_by} 应当指向 <title>/<desc> 的 id（{ids}）"

    first = next(child for child in children if local(child.tag) in DRAWING)
    assert local(first.tag) == "rect", "第一个绘图元素应当是白色背景的 <rect>"
    assert number(first.get("x", "0")) == 0 and number(first.get("y", "0")) == 0
    assert first.get("width") in ("100%", root.get("width")) and first.get("height") in ("100%", root.get("height")), \
        "背景要铺满整张图"
    assert (style_value(first, "fill") or "").lower() in ("#fff", "#ffffff", "white"), "背景应当是白色"


@pytest.mark.parametrize("path", SVGS, ids=lambda p: p.name)
def test_svg_has_no_scripts_or_external_references(path):
    _, root = parse(path)
    for element in root.iter():
        name = local(element.tag)
        assert name not in FORBIDDEN_ELEMENTS, f"不允许 <{name}>"
        assert not element.tag.startswith("{") or element.tag.startswith(NS), f"不认识的命名空间：{element.tag}"
        for key, value in element.attrib.items():
            attribute = local(key)
            assert not attribute.lower().startswith("on"), f"不允许事件属性 {attribute}"
            if attribute == "href" or key == f"{XLINK}href":
                assert value.startswith("#"), f"href 只能指向本文件里的 id：{value}"
            for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", value):
                assert target.startswith("#"), f"url(...) 只能指向本文件里的 id：{value}"
            assert "://" not in value and not re.match(r"\s*(?:javascript|data|file|https?|ftp):", value, re.I), \
                f"属性 {attribute} 里不要外部地址或 data: URI：{value[:60]}"
        if name == "style":
            css = element.text or ""
            assert "@import" not in css and "@font-face" not in css, "<style> 里不要 @import 和 @font-face"
            for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", css):
                assert target.startswith("#"), f"<style> 里的 url(...) 只能指向本文件：{target}"


def font_sizes(root):
    """每个 <text> 和 <tspan> 的实际字号与字体（沿祖先继承）；字号只接受 px 或无单位的数、em 和百分比。"""
    results = []

    def walk(element, size, family):
        own = style_value(element, "font-size")
        if own is not None:
            own = own.strip()
            if own.endswith("em"):
                size = (size or 16.0) * float(own[:-2])
            elif own.endswith("%"):
                size = (size or 16.0) * float(own[:-1]) / 100
            else:
                size = number(own)
        family = style_value(element, "font-family") or family
        if local(element.tag) in ("text", "tspan") and "".join(element.itertext()).strip():
            results.append(("".join(element.itertext()).strip()[:30], size, family))
        for child in element:
            walk(child, size, family)

    walk(root, None, None)
    return results


@pytest.mark.parametrize("path", SVGS, ids=lambda p: p.name)
def test_svg_text_is_large_enough(path):
    _, root = parse(path)
    texts = font_sizes(root)
    assert texts, "图里没有文字？"
    width = number(root.get("width"))
    for content, size, family in texts:
        assert size is not None, f"「{content}」没有字号（在它或祖先元素上写 font-size）"
        assert size >= MIN_FONT, f"「{content}」的字号 {size:g} < {MIN_FONT}"
        assert size * PHONE_WIDTH / width >= MIN_PHONE_TEXT - 0.05, \
            f"「{content}」在 {PHONE_WIDTH} px 宽的手机上只有 {size * PHONE_WIDTH / width:.1f} px"
        assert family and re.search(r"\b(sans-serif|monospace)\s*$", family), \
            f"「{content}」的字体列表要以 sans-serif 或 monospace 结尾：{family}"


# ---------------------------------------------------------------- 笔记本里的 figure 指令

DIRECTIVE = re.compile(r"^\s*(`{3,}|:{3,})\{figure\}\s*(.*?)\s*$")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*?)\s*$")


def figure_directives(source: str):
    """markdown 里的 MyST figure 指令：[(路径, {选项})]。选项可以写成 :key: value，也可以写成 --- 包起来的 YAML。"""
    found = []
    lines = source.splitlines()
    for i, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        options, j = {}, i + 1
        if j < len(lines) and lines[j].strip() == "---":
            j += 1
            while j < len(lines) and lines[j].strip() != "---":
                key, _, value = lines[j].partition(":")
                options[key.strip()] = value.strip().strip("'\"")
                j += 1
        else:
            while j < len(lines) and OPTION.match(lines[j]):
                key, value = OPTION.match(lines[j]).groups()
                options[key] = value
                j += 1
        found.append((match.group(2), options))
    return found


def all_directives():
    """[(笔记本, 单元序号, 路径, 选项)]：chapters/ 下每个笔记本的每个 markdown 单元。"""
    found = []
    for notebook in NOTEBOOKS:
        for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "markdown":
                for target, options in figure_directives("".join(cell["source"])):
                    found.append((notebook, index, target, options))
    return found


def resolve(notebook: Path, target: str) -> Path:
    return (notebook.parent / target).resolve()


def test_directive_parser():
    source = ("text\n```{figure} ../figures/a.svg\n:alt: 一张图\n:width: 100%\n:name: fig-a\n\n说明\n```\n"
              ":::{figure} ../figures/b.svg\n---\nalt: 另一张图\nname: fig-b\n---\n说明\n:::\n")
    assert figure_directives(source) == [("../figures/a.svg", {"alt": "一张图", "width": "100%", "name": "fig-a"}),
                                         ("../figures/b.svg", {"alt": "另一张图", "name": "fig-b"})]


def test_every_figure_directive_points_to_a_file_and_has_alt():
    problems = []
    names = {}
    for notebook, index, target, options in all_directives():
        where = f"{notebook.name} 单元 {index}：{target}"
        if not target:
            problems.append(f"{where} 没有写路径")
        elif not resolve(notebook, target).is_file():
            problems.append(f"{where} 指向的文件不存在")
        if not options.get("alt", "").strip():
            problems.append(f"{where} 没有 :alt:（给看不到图的读者的一两句话）")
        if options.get("name"):
            if options["name"] in names:
                problems.append(f"{where} 的 :name: {options['name']} 与 {names[options['name']]} 重复")
            names[options["name"]] = where
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", SVGS, ids=lambda p: p.name)
def test_every_svg_is_used_by_a_chapter_with_alt(path):
    uses = [(notebook.name, index, options) for notebook, index, target, options in all_directives()
            if target and resolve(notebook, target) == path.resolve()]
    assert uses, f"没有哪一章用 figure 指令引用 figures/{path.name}"
    assert any(options.get("alt", "").strip() for _, _, options in uses), \
        f"引用 figures/{path.name} 的 figure 指令都没有 :alt:：{[(n, i) for n, i, _ in uses]}"
