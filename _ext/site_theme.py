"""网站外观的构建时修正：离线的 MathJax、不重复的脚本、中文界面。

每一项都在构建时生效，所以以后加进 _toc.yml 的章节自动得到，不用改笔记本。版本锁定在
requirements.txt（sphinx 7.4.7、pydata-sphinx-theme 0.17.1、sphinx-book-theme 1.3.0、myst-nb 1.4.0）；
升级这些包时，下面依赖模板原文的修改若对不上，构建会报错并指出是哪一处，而不会悄悄失效。

1. MathJax 放在 _vendor/mathjax，由这里加进 html_static_path（网址仍是 _static/mathjax/…）。
   Jupyter Book 1.x 把 _static/ 下每个 *.js 都作为 <script> 加到每一页：MathJax 若放在 _static/，
   会被加载两次，它按需加载的 a11y/ui 组件也被当成普通脚本执行，每页 4–6 个 JavaScript 错误、约 2.2 MB。
   _static/ 因此只放每一页都要的文件（site.css、site.js、site-search.js）和网站图标 favicon.svg。
2. 同一段内联脚本只输出一次。Sphinx 7.4 在 builder-inited 之后登记的内联脚本会被重复输出
   （文件名 None 与 "" 被当成两个），sphinx-thebe 的 `const THEBE_JS_URL` 因此声明两次，每页一个 SyntaxError。
3. 中文界面：主题里没有中文翻译的字符串补上翻译（gettext 目录），写死在模板里的英文换成中文，
   myst-nb 隐藏单元的英文 aria-label 去掉（按钮上的文字就是它的名字）。
4. 代码和输出的每一行放进 <span class="line" style="--indent:N">（N 是这一行开头的空格数）。
   _static/site.css 让长行在框里折行，续行缩进到本行的缩进再往里 4 格，手机上不用左右滑动，
   也不会把续行看成新的一行。只加标签，不改文字：复制按钮复制的仍是原文。
5. 中文段落里的换行不变成空格。Markdown 源文件里一段话分几行写，换行在 HTML 里显示成一个空格，
   「读书笔记，↵也有」在页面上成了「读书笔记， 也有」。两边都是汉字或中文标点的换行在构建时去掉
   （代码、公式不动；汉字与英文、数字之间的换行仍显示为空格）；搜索索引也因此不会把跨行的词切断。
6. 行内公式和行内代码与紧跟的中文标点不分开（<span class="site-nobreak">，_static/site.css）：行首不出现「。」。
7. 输出里的图有替代文字：单元后面（或前面）那段话的第一句，而不是图片的文件路径。
8. 页面的分量：不加载 Font Awesome 的 JavaScript（1.5 MB），搜索索引只在搜索页加载（见 TEMPLATE_PATCHES）。
"""

from __future__ import annotations

import gettext
import html
import re
from pathlib import Path

from docutils import nodes
from pygments.formatters import HtmlFormatter
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.locale import translators
from sphinx.transforms import SphinxTransform

HERE = Path(__file__).resolve().parent
VENDOR = HERE.parent / "_vendor"

# 主题与 Sphinx 的界面字符串（zh_CN 目录里没有或译得不好的）。键是英文原文，见各包的模板与 .po 文件。
UI_TRANSLATIONS = {
    # Sphinx
    "Link to this heading": "本节链接",
    "Link to this image": "图片链接",
    "Link to this table": "表格链接",
    "Link to this code": "代码链接",
    "Link to this definition": "定义链接",
    # pydata-sphinx-theme
    "Color mode": "颜色模式",
    "System Settings": "跟随系统",
    "Light": "浅色",
    "Dark": "深色",
    "Site navigation": "章节目录",
    "On this page": "本页目录",
    "Back to top": "回到顶部",
    "Search": "搜索",
    "Search the docs ...": "搜索本书…",
    "Section Navigation": "本部分目录",
    "Breadcrumb": "导航路径",
    "Home": "首页",
    "previous page": "上一页",
    "next page": "下一页",
    "previous": "上一页",
    "next": "下一页",
    # sphinx-book-theme
    "Launch interactive content": "在线运行",
    "Launch on": "运行于",  # 后面接平台名：「运行于 Colab」
    "Download this page": "下载本页",
    "Download source file": "下载源文件",
    "Print to PDF": "打印为 PDF",
    "Fullscreen mode": "全屏",
    "Source repository": "源代码仓库",
    "Contents": "本页目录",
    "By": "作者：",
    "By the": "作者：",
    "logo": "图标",
    # pydata-sphinx-theme 的页脚（Sphinx 自带的译文用英文句点）。版权一行不显示（_config.yml 的 html_show_copyright），
    # 页脚改写许可说明（html: extra_footer）
    "Last updated on %(last_updated)s.": "最后更新于 %(last_updated)s。",
}

# 写死在主题模板里的英文（不经过 gettext）：(模板文件路径的结尾, 原文, 替换成)。
TEMPLATE_PATCHES = [
    ("sphinx_book_theme/components/toggle-primary-sidebar.html", 'title="Toggle primary sidebar"',
     'title="显示或隐藏章节目录" aria-label="显示或隐藏章节目录"'),
    ("sphinx_book_theme/components/toggle-secondary-sidebar.html", 'title="Toggle secondary sidebar"',
     'title="显示或隐藏本页目录" aria-label="显示或隐藏本页目录"'),
    ("sphinx_book_theme/components/sbt-sidebar-nav.html", 'aria-label="Main"', 'aria-label="章节目录"'),
    ("sphinx_book_theme/layout.html", '<nav aria-label="Page">', '<nav aria-label="本页目录">'),
    # 第 8 项（页面的分量）：Font Awesome 的 JavaScript（1.5 MB，把 <i class="fa-…"> 换成 SVG）不加载：
    # 主题的 CSS 里已有同样的图标字体和 .fa-… 规则，图标照样显示
    ("pydata_sphinx_theme/static/webpack-macros.html",
     """<script defer src="{{ pathto('_static/scripts/fontawesome.js', 1) }}?digest=55c26ed414f5f8a31ebb"></script>""",
     "<!-- fontawesome.js 不加载：图标由主题 CSS 里的图标字体显示（_ext/site_theme.py 第 8 项） -->"),
    # 搜索索引（580 KB）和 searchtools.js 只在搜索页加载：pydata 主题在每一页都加载它们，供“边输入边搜索”用，
    # 这个功能没有打开（search_as_you_type 默认 False），每一页的搜索框都提交到 search.html
    ("pydata_sphinx_theme/layout.html",
     """    <script src="{{ pathto('_static/searchtools.js', 1) | e }}"></script>
    <script src="{{ pathto('_static/language_data.js', 1) | e }}"></script>
    <script src="{{ pathto('searchindex.js', 1) | e }}"></script>""",
     "    {# 搜索索引只在搜索页加载（_ext/site_theme.py 第 8 项） #}"),
]


def add_vendor_static_path(app: Sphinx, config) -> None:
    """第 1 项：_vendor/ 作为静态文件目录（在 Jupyter Book 扫描 _static/ 的 *.js 之后才加，所以不会被注入）。"""
    if not (VENDOR / "mathjax" / "tex-chtml.js").is_file():
        raise ExtensionError(f"缺少离线 MathJax：{VENDOR / 'mathjax'}（见 _vendor/mathjax/README.md）")
    config.html_static_path.append(str(VENDOR))
    leaked = [f for f in config.html_js_files if str(f[0] if isinstance(f, tuple) else f).startswith("mathjax/")]
    if leaked:
        raise ExtensionError(f"_static/ 里又出现了 MathJax 的文件，会在每页重复加载：{leaked[:3]}")


def dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """第 2 项：每页的脚本列表去重（同一文件名或同一段内联代码，属性也相同，只留第一个）。"""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items()))
        key = (getattr(js, "filename", str(js)) or "", attributes)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


class _Overrides(gettext.NullTranslations):
    """先查本表，查不到再交给原来的翻译目录。"""

    def __init__(self, table: dict[str, str], fallback: gettext.NullTranslations | None):
        super().__init__()
        self.table = table
        if fallback is not None:
            self.add_fallback(fallback)

    def gettext(self, message):
        return self.table.get(message) or super().gettext(message)

    def ngettext(self, singular, plural, n):
        return self.table.get(singular if n == 1 else plural) or super().ngettext(singular, plural, n)


def chinese_ui(app: Sphinx) -> None:
    """第 3 项：界面字符串的中文翻译和模板里写死的英文。"""
    if app.builder.format != "html" or not str(app.config.language).startswith("zh"):
        return
    # Python 代码里的 _()/get_translation() 每次调用时才查 sphinx.locale.translators，换掉表里的对象即可；
    # 模板的 _() 在建模板环境时绑定了 app.translator，所以换掉之后重新装一次。
    for key in [k for k in translators if k[1] in ("sphinx", "booktheme")]:
        translators[key] = _Overrides(UI_TRANSLATIONS, translators[key])
    app.translator = translators[("general", "sphinx")]
    env = app.builder.templates.environment
    env.install_gettext_translations(app.translator)

    loader = app.builder.templates
    original_get_source = loader.get_source

    def get_source(environment, template):
        source, filename, uptodate = original_get_source(environment, template)
        path = Path(filename).as_posix()
        for suffix, old, new in TEMPLATE_PATCHES:
            if not path.endswith(suffix):
                continue
            if old not in source:
                raise ExtensionError(f"site_theme：模板 {filename} 里找不到 {old!r}（主题升级了？更新 TEMPLATE_PATCHES）")
            source = source.replace(old, new)
        return source, filename, uptodate

    loader.get_source = get_source


def visit_hidden_cell(self, node) -> None:
    """myst-nb 隐藏单元的 <details>，与 myst_nb.sphinx_.visit_HideCellInput 相同，只是不加英文 aria-label，
    并输出 id（site_solutions 给答案加的 #参考答案-N，可以直接链接到某道题的答案）。"""
    escape = html.escape
    classes = " ".join(node["classes"])
    anchor = f' id="{escape(node["ids"][0])}"' if node["ids"] else ""
    self.body.append(f'<details class="admonition hide {classes}"{anchor}>\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


class LineSpansFormatter(HtmlFormatter):
    """第 4 项：Pygments 的 HTML 输出，每一行包在 <span class="line"> 里，并记下行首缩进。"""

    def wrap(self, source):
        return super().wrap(self._line_spans(source))

    @staticmethod
    def _line_spans(source):
        for kind, text in source:
            body = text[:-1] if text.endswith("\n") else text
            if kind != 1 or not body:
                yield kind, text
                continue
            plain = html.unescape(re.sub(r"<[^>]*>", "", body)).expandtabs(4)
            indent = len(plain) - len(plain.lstrip(" "))
            yield kind, f'<span class="line" style="--indent:{indent}">{body}</span>' + text[len(body):]


def use_line_spans(app: Sphinx) -> None:
    for name in ("highlighter", "dark_highlighter"):
        highlighter = getattr(app.builder, name, None)
        if highlighter is not None and getattr(highlighter, "dest", "html") == "html":
            if highlighter.formatter is not HtmlFormatter:
                raise ExtensionError(f"site_theme：{name} 用的不是 Pygments 的 HtmlFormatter，而是 {highlighter.formatter}")
            highlighter.formatter = LineSpansFormatter


CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u201c\u201d\u2018\u2019\u2014\u2026]")
SKIP = (nodes.literal_block, nodes.literal, nodes.math, nodes.math_block, nodes.raw, nodes.comment, nodes.doctest_block)


class JoinChineseLines(SphinxTransform):
    """第 5 项：去掉两边都是中文字符的换行（它在 HTML 里会显示成空格）。"""

    default_priority = 700

    def apply(self, **kwargs) -> None:
        for text in list(self.document.findall(nodes.Text)):
            parent = text.parent
            if "\n" not in text or parent is None or any(isinstance(a, SKIP) for a in _ancestors(parent)):
                continue
            value = str(text)
            index = _index_in_parent(text)
            before_text = parent[index - 1].astext() if index > 0 else ""
            after_text = parent[index + 1].astext() if index + 1 < len(parent) else ""
            out = []
            for i, char in enumerate(value):
                if char == "\n":
                    before = (before_text + value[:i])[-1:]
                    after = (value[i + 1:] + after_text)[:1]
                    if before and after and CJK.match(before) and CJK.match(after):
                        continue
                out.append(char)
            joined = "".join(out)
            if joined != value:
                replacement = nodes.Text(joined)
                replacement.parent = parent
                parent.children[index] = replacement


CLOSING = "，。、；：！？）」』”’…"


class GluePunctuation(SphinxTransform):
    """第 6 项：行内公式或行内代码后面紧跟的中文标点，和它放进同一个不折行的 <span class="site-nobreak">。
    浏览器可以在行内公式（一个不可拆的 inline-block）和后面的「。」之间换行，下一行就以「。」开头。"""

    default_priority = 710  # 在 JoinChineseLines 之后：跨行的标点已经接上

    def apply(self, **kwargs) -> None:
        for node in list(self.document.findall(lambda n: isinstance(n, (nodes.math, nodes.literal)))):
            parent = node.parent
            if parent is None or isinstance(parent, nodes.inline) and "site-nobreak" in parent["classes"]:
                continue
            index = _index_in_parent(node)
            if index + 1 >= len(parent) or not isinstance(parent[index + 1], nodes.Text):
                continue
            after = str(parent[index + 1])
            glued = len(after) - len(after.lstrip(CLOSING))
            if not glued:
                continue
            box = nodes.inline("", "", classes=["site-nobreak"])
            parent.children[index] = box
            box.parent = parent
            box += node
            box += nodes.Text(after[:glued])
            rest = nodes.Text(after[glued:])
            rest.parent = parent
            if after[glued:]:
                parent.children[index + 1] = rest
            else:
                del parent.children[index + 1]


class OutputImageAlt(SphinxTransform):
    """第 7 项：笔记本输出里的图（matplotlib 画的 PNG）没有替代文字，Sphinx 就把文件路径写进 alt，
    读屏软件念出一串哈希。课程的写法是每个单元后面紧跟一段话说它的输出显示了什么（CONTRIBUTING.md），
    所以替代文字取这个单元后面第一段话的第一句；单元后面紧接着标题时，取单元前面那一段的第一句。
    已经有替代文字的图（如 {figure} 的 :alt:）不动。"""

    default_priority = 720

    def apply(self, **kwargs) -> None:
        for image in list(self.document.findall(nodes.image)):
            if image.get("alt"):
                continue
            cell = _enclosing_cell(image)
            if cell is None:
                continue
            text = _neighbour_paragraph(cell)
            image["alt"] = f"图：{text}" if text else "图：本单元画出的图"


def _enclosing_cell(node):
    for ancestor in _ancestors(node.parent):
        if isinstance(ancestor, nodes.container) and "cell" in ancestor.get("classes", []):
            return ancestor
    return None


def _first_sentence(text: str, limit: int = 160) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    end = re.search(r"[。！？]", text)
    sentence = text[: end.end()] if end else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _neighbour_paragraph(cell) -> str:
    parent = cell.parent
    index = _index_in_parent(cell)
    for step in (parent.children[index + 1:], reversed(parent.children[:index])):
        for sibling in step:
            if isinstance(sibling, nodes.paragraph):
                return _first_sentence(sibling.astext())
            if not isinstance(sibling, (nodes.target, nodes.comment)):
                break
    return ""


def _index_in_parent(node) -> int:
    """node 在父节点里的位置，按身份找：Text 是 str 的子类，parent.index() 会找到第一个内容相同的节点（比如另一个 "\n"）。"""
    return next(i for i, child in enumerate(node.parent.children) if child is node)


def _ancestors(node):
    while node is not None:
        yield node
        node = node.parent


def setup(app: Sphinx):
    app.setup_extension("myst_nb")
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput

    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    app.add_transform(JoinChineseLines)
    app.add_transform(GluePunctuation)
    app.add_transform(OutputImageAlt)
    app.connect("config-inited", add_vendor_static_path)
    app.connect("builder-inited", chinese_ui, priority=900)
    app.connect("builder-inited", use_line_spans)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
