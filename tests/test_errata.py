"""附录的“五份源笔记”和“勘误总表”：总表是最新的、每个勘误框都在表里、勘误框的写法合规；
网站上每一处「笔记 00X」都链接到源笔记页，总表的每个链接都到得了勘误框（后两项检查 make book 的结果）。"""

import html
import os
import re
import time
from collections import Counter
from html.parser import HTMLParser

import nbformat
import pytest

from conftest import ROOT, load_tool, toc_entries

# 构建目录；PTNOTES_BUILD 可以换成别处（多人共用一个工作区时，各自构建到自己的目录）
BUILD = ROOT / os.environ.get("PTNOTES_BUILD", "_build")
SITE = BUILD / "html"
PAGE = ROOT / "appendix" / "errata.md"
NOTES_PAGE = ROOT / "appendix" / "notes.md"
NOTES = ("000", "001", "002", "003", "004")




errata = load_tool("errata")
CHAPTERS = [doc for doc in toc_entries() if doc.startswith("chapters/")]


def markdown_of(doc):
    nb = nbformat.read(ROOT / f"{doc}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def test_errata_page_is_current():
    start = time.perf_counter()
    found = errata.collect()
    expected = errata.render(found)
    assert PAGE.read_text(encoding="utf-8") == expected, "appendix/errata.md 不是最新的：运行 make errata"
    per_chapter = Counter(e.chapter for e in found)
    print(f"{len(found)} 条勘误：" + "，".join(f"第 {c} 章 {n}" for c, n in sorted(per_chapter.items())))
    print(f"生成与比较用了 {time.perf_counter() - start:.1f} 秒")


def test_every_admonition_is_one_row():
    """与生成器无关的宽松计数：章节里每个标题行带「勘误」的指令，都在总表里恰好一行。"""
    loose = 0
    for doc in CHAPTERS:
        for source in markdown_of(doc):
            loose += sum(bool(errata.LOOSE_RE.match(line)) for line in source.splitlines())
    page = PAGE.read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| {doc}`第 ")]
    assert loose > 0 and len(rows) == loose
    labels = re.findall(r"\{ref\}`查看 <(errata-\d\d-\d+)>`", page)
    assert len(labels) == len(set(labels)) == loose
    assert f"共 **{loose}** 条" in page


@pytest.mark.parametrize(
    "source, problem",
    [
        ("```{admonition} 勘误：对的说法\n:class: warning\n笔记 001 说错了。\n```", "有且只有两行选项"),
        ("```{admonition} 勘误：对的说法\n:class: warning\n:name: errata-03-1\n笔记 001 说错了。\n```", "errata-02-"),
        ("```{admonition} 勘误：对的说法\n:class: warning\n:name: errata-02-1\n实际上笔记 001 说错了。\n```", "第一句"),
        ("```{admonition} 勘误：对的说法\n:class: warning\n:name: errata-02-1\n笔记 001 说错了\n```", "第一句"),
        ("```{admonition} 勘误: 对的说法\n:class: warning\n:name: errata-02-1\n笔记 001 说错了。\n```", "全角冒号"),
        (":::{admonition} 勘误：对的说法\n:class: warning\n:name: errata-02-1\n笔记 001 说错了。\n:::", "三个反引号"),
        ("```{warning} 勘误：对的说法\n笔记 001 说错了。\n```", "三个反引号"),
        ("```{admonition} 勘误：对的说法。\n:class: warning\n:name: errata-02-1\n笔记 001 说错了。\n```", "句号"),
        ("```{admonition} 勘误：`x` 是对的\n:class: warning\n:name: errata-02-1\n笔记 001 说错了。\n```", "反引号"),
        ("```{admonition} 勘误：__init__ 是对的\n:class: warning\n:name: errata-02-1\n笔记 001 说错了。\n```", "粗体"),
        ("```{admonition} 勘误：对的说法\n:class: warning\n:name: errata-02-1\n笔记 001 说错了。\n", "结束"),
    ],
)
def test_generator_rejects_broken_admonitions(source, problem):
    with pytest.raises(errata.ErrataError, match=problem):
        errata.parse_cell(source, "chapters/02_x.ipynb 第 5 个单元", 2, "chapters/02_x")


def test_generator_reads_the_convention():
    source = (
        "前文。\n\n```{admonition} 勘误：Normalize 做的是标准化\n:class: warning\n:name: errata-05-7\n"
        "笔记 002 把它叫作“归一化。”，笔记 001 和 004 也这么说。实际上……，见 {doc}`03_autograd`。\n```\n"
    )
    (e,) = errata.parse_cell(source, "x", 5, "chapters/05_x")
    assert (e.label, e.title, e.notes) == ("errata-05-7", "Normalize 做的是标准化", ["001", "002", "004"])
    assert e.said == "笔记 002 把它叫作“归一化。”，笔记 001 和 004 也这么说。"
    assert errata.first_sentence("笔记 000 说：“用了 BN 就不要 dropout。因为……。”BN 确实有一点作用。") == (
        "笔记 000 说：“用了 BN 就不要 dropout。因为……。”"
    )
    assert errata.fix_links("见 {doc}`03_autograd` 和 {doc}`第 2 章 <02_tensors>`") == (
        "见 {doc}`../chapters/03_autograd` 和 {doc}`第 2 章 <../chapters/02_tensors>`"
    )


def cited_notes(doc):
    text = "\n".join(markdown_of(doc))
    found = set()
    for m in errata.NOTE_RE.finditer(text):
        found |= {m.group(1), *re.findall(r"00[0-4]", m.group(2))}
    return found


def test_notes_page_lists_every_chapter_that_cites_the_note():
    """源笔记页上每份笔记的条目链接到正文里提到它的每一章（加了新章节，就在那份笔记的条目里补上链接）。"""
    page = NOTES_PAGE.read_text(encoding="utf-8")
    entries = re.split(r"^\(note-(00[0-4])\)=$", page, flags=re.M)
    listed = {entries[i]: set(re.findall(r"<\.\./(chapters/[\w]+)>`", entries[i + 1])) for i in range(1, len(entries), 2)}
    assert sorted(listed) == list(NOTES), "appendix/notes.md 要有 (note-000)= … (note-004)= 五个标签"
    problems = []
    for note in NOTES:
        citing = {doc for doc in CHAPTERS if note in cited_notes(doc)}
        if citing - listed[note]:
            problems.append(f"笔记 {note} 的条目缺少这些章的链接：{sorted(citing - listed[note])}")
        if listed[note] - citing:
            problems.append(f"笔记 {note} 的条目链接了没有提到它的章：{sorted(listed[note] - citing)}")
    assert not problems, "\n".join(problems)


# ---------- 构建出的网站 ----------


@pytest.fixture(scope="module")
def site():
    assert (SITE / "index.html").is_file(), "没有找到 _build/html：先运行 make book（make test 会自动先构建）"
    return SITE


class NoteMentions(HTMLParser):
    """找出不在链接、代码、标题里的「笔记 00X」，并收集页面上的链接和 id。"""

    SKIP = {"a", "code", "pre", "script", "style", "title", "h1", "h2", "h3", "h4", "h5", "h6", "summary"}
    VOID = {"br", "img", "meta", "link", "input", "hr", "wbr", "col", "source", "area", "base"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.bare, self.hrefs, self.ids = [], [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in self.VOID:
            return
        skip = tag in self.SKIP or "admonition-title" in (attrs.get("class") or "")
        self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(skip for _, skip in self.stack):
            return
        for m in errata.NOTE_RE.finditer(data):
            self.bare.append(data[max(0, m.start() - 12) : m.end() + 8])


def parse_page(path):
    parser = NoteMentions()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_note_mention_on_the_site_links_to_the_notes_page(site):
    notes_page = parse_page(site / "appendix" / "notes.html")
    assert {f"note-{n}" for n in NOTES} <= notes_page.ids
    links, problems = 0, []
    for page in [site / f"{doc}.html" for doc in toc_entries()]:
        parsed = parse_page(page)
        if parsed.bare:
            problems.append(f"{page.relative_to(site)}：没有链接的 {parsed.bare[:3]}")
        for href in parsed.hrefs:
            m = re.fullmatch(r"(?:(?:\.\./)?appendix/)?(notes\.html)?#(note-00[0-4])", href)
            if m and (m.group(1) or page.name == "notes.html"):
                links += 1
                assert m.group(2) in notes_page.ids
    assert not problems, "\n".join(problems)
    print(f"网站上共 {links} 个「笔记 00X」链接")
    assert links > 300


def test_errata_page_links_reach_every_admonition(site):
    page = site / "appendix" / "errata.html"
    hrefs = re.findall(r'href="\.\./(chapters/\w+\.html)#(errata-\d\d-\d+)"', page.read_text(encoding="utf-8"))
    labels = re.findall(r"<(errata-\d\d-\d+)>", PAGE.read_text(encoding="utf-8"))
    assert sorted(label for _, label in hrefs) == sorted(labels)
    ids = {}
    for target, label in hrefs:
        if target not in ids:
            ids[target] = parse_page(site / target).ids
        assert label in ids[target], f"{target} 里没有 id={label}"
        assert label.split("-")[1] == re.match(r"chapters/(\d\d)[a-z]?_", target).group(1)
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
    assert "笔记的说法" in text and "实际情况" in text
