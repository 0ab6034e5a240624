"""构建时把正文里的「笔记 00X」变成链接，指向附录「五份源笔记」（appendix/notes.md）里这份笔记的条目。

笔记本和 Markdown 源文件都不用改：每一页解析完以后，这个 transform 在文档树的文本节点里找
「笔记 000」…「笔记 004」（以及「笔记 001 和 004」「笔记 004、笔记 001」这样的并列写法里的每个编号），
换成对标签 ``note-000`` … ``note-004`` 的交叉引用。代码（行内代码、代码块、单元输出）、公式、标题
和已有的链接里的文字不动。交叉引用由 Sphinx 自己解析，所以 HTML 和单页 HTML（PDF）里都指向正确的位置；
标签不存在时 Sphinx 报 “undefined label”，严格构建（-W）因此失败，而不是留下一个坏链接。

在 _config.yml 里注册：``sphinx: local_extensions: {notes_links: _ext}``。
"""

import re

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

NOTES = ("000", "001", "002", "003", "004")
# 「笔记 002」「笔记002」，后面可以并列更多编号：「笔记 001 和 004」「笔记 004、笔记 001」
NOTE_RE = re.compile(r"笔记 ?(00[0-4])((?:\s*[和、与]\s*(?:笔记 ?)?00[0-4])*)")
MORE_RE = re.compile(r"(?:笔记 ?)?(00[0-4])")

# 这些节点里的文字保持原样：代码与输出、公式、标题、已有的链接、原始 HTML、注释
SKIP = (
    nodes.FixedTextElement,  # literal_block、doctest_block、math_block、line_block、comment……
    nodes.literal,
    nodes.math,
    nodes.title,
    nodes.subtitle,
    nodes.rubric,
    nodes.reference,
    nodes.target,
    nodes.raw,
    addnodes.pending_xref,
    addnodes.toctree,
)


def note_label(number: str) -> str:
    """附录页上笔记 number 的标签（appendix/notes.md 里的 ``(note-000)=``）。"""
    return f"note-{number}"


def _skipped(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP):
            return True
        parent = parent.parent
    return False


class NoteLinks(SphinxTransform):
    """把文本节点里的「笔记 00X」换成 std:ref 交叉引用。"""

    default_priority = 500

    def _xref(self, text: str, number: str) -> addnodes.pending_xref:
        ref = addnodes.pending_xref(
            "",
            refdomain="std",
            reftype="ref",
            reftarget=note_label(number),
            refexplicit=True,
            refwarn=True,
            refdoc=self.env.docname,
        )
        ref += nodes.inline(text, text)
        return ref

    def _split(self, text: str) -> list[nodes.Node]:
        parts: list[nodes.Node] = []
        pos = 0
        for match in NOTE_RE.finditer(text):
            if match.start() > pos:
                parts.append(nodes.Text(text[pos : match.start()]))
            head_end = match.end(1)
            parts.append(self._xref(text[match.start() : head_end], match.group(1)))
            tail_pos = head_end
            for more in MORE_RE.finditer(text, head_end, match.end()):
                if more.start() > tail_pos:
                    parts.append(nodes.Text(text[tail_pos : more.start()]))
                parts.append(self._xref(more.group(0), more.group(1)))
                tail_pos = more.end()
            pos = match.end()
        if pos < len(text):
            parts.append(nodes.Text(text[pos:]))
        return parts

    def apply(self, **kwargs) -> None:
        for text in list(self.document.findall(nodes.Text)):
            if "笔记" not in text or not NOTE_RE.search(str(text)) or _skipped(text):
                continue
            text.parent.replace(text, self._split(str(text)))


def setup(app):
    app.add_transform(NoteLinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
