"""中文搜索：索引按课程术语分词（构建时），查询按索引自己的词表分词（浏览器里，见 _static/site-search.js）。

Sphinx 的中文搜索（html_search_language: zh）用 jieba 给正文分词、建索引，浏览器里却只按空格和标点切查询：
「数据加载」只有恰好是索引里的一个词才找得到，而 jieba 把它切成「数据」「加载」。修正分两半：

1. 构建时（这里）：把术语表（appendix/glossary.md 第一列）里的中文术语加进 jieba 的词典，
   「数据集」「学习率」「优化器」「损失函数」「批量归一化」这样的课程术语在索引里是完整的词
   （jieba 的搜索模式照样同时收录其中的短词，如「批量」「归一化」）。术语表里新加的术语自动生效。
2. 浏览器里（_static/site-search.js）：用索引里的词表对查询做双向最大匹配，「数据加载」→「数据」「加载」；
   排序时参考术语表的中英对照（SITE_SEARCH_SYNONYMS，由这里写进每一页）：「数据集」也认页面标题里的 Dataset，
   「dropout」也认标题里的「丢弃法」；以及术语表「首次出现」一列（SITE_SEARCH_HOMES）：查的正是一个术语时，
   引入它的那一页加一点分。
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

GLOSSARY = "appendix/glossary.md"
HAN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _without_notes(text: str) -> str:
    return re.sub(r"（[^）]*）|\([^)]*\)", "", text)


def glossary_rows(path: Path) -> list[tuple[str, str]]:
    """术语表的 (中文, English) 两列。"""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2 or set(cells[0]) <= set("-: ") or cells[0] == "中文":
            continue
        rows.append((cells[0], cells[1]))
    return rows


def glossary_terms(path: Path) -> list[str]:
    """术语表第一列里的中文词（「膨胀（空洞）卷积」给出「膨胀」「空洞」「卷积」「膨胀卷积」）。"""
    terms: list[str] = []
    for name, _ in glossary_rows(path):
        for text in {name, _without_notes(name)}:
            terms += HAN.findall(text)
    return sorted(set(terms))


def glossary_synonyms(path: Path) -> dict[str, list[str]]:
    """中文术语 → 英文名（小写；「训练模式/评估模式」这样的并列项各自对应）。"""
    synonyms: dict[str, set[str]] = {}
    for name, english in glossary_rows(path):
        names = [n for n in re.split(r"[/、]", _without_notes(name)) if HAN.fullmatch(n.strip())]
        englishes = [e.strip().lower() for e in re.split(r"[/,]", _without_notes(english)) if e.strip()]
        if len(names) == len(englishes):
            pairs = zip(names, englishes)
        else:
            pairs = ((n, e) for n in names for e in englishes)
        for n, e in pairs:
            if re.fullmatch(r"[a-z0-9 .\-]+", e):
                synonyms.setdefault(n.strip(), set()).add(e)
    return {k: sorted(v) for k, v in sorted(synonyms.items())}


def glossary_homes(path: Path) -> dict[str, str]:
    """中文术语 → 术语表「首次出现」一列链接的页面（文档名，如 chapters/03a_graph）：课程引入这个词的地方。"""
    homes = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not line.lstrip().startswith("|"):
            continue
        doc = re.search(r"\{doc\}`(?:\.\./)?([^`<>]+?)`", cells[3])
        if not doc:
            continue
        for name in re.split(r"[/、]", _without_notes(cells[0])):
            if HAN.fullmatch(name.strip()):
                homes.setdefault(name.strip(), doc.group(1).strip())
    return dict(sorted(homes.items()))


def add_course_terms(app: Sphinx) -> None:
    if app.builder.format != "html" or not str(app.config.html_search_language or app.config.language).startswith("zh"):
        return
    import jieba

    path = Path(app.srcdir) / GLOSSARY
    if not path.is_file():
        logger.warning(f"site_search：没有 {GLOSSARY}，中文搜索只用 jieba 自带的词典", type="site", subtype="search")
        return
    terms = glossary_terms(path)
    for term in terms:
        jieba.add_word(term)
    logger.info(f"site_search：{len(terms)} 个术语加入 jieba 词典")


def add_synonyms_script(app: Sphinx, config) -> None:
    path = Path(app.srcdir) / GLOSSARY
    synonyms = glossary_synonyms(path) if path.is_file() else {}
    homes = glossary_homes(path) if path.is_file() else {}
    body = ("var SITE_SEARCH_SYNONYMS = " + json.dumps(synonyms, ensure_ascii=False, separators=(",", ":")) + ";\n"
            "var SITE_SEARCH_HOMES = " + json.dumps(homes, ensure_ascii=False, separators=(",", ":")) + ";")
    app.add_js_file(None, body=body)


def setup(app: Sphinx):
    app.connect("config-inited", add_synonyms_script)
    app.connect("builder-inited", add_course_terms)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
