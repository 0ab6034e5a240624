"""可读的小节锚点：`## 数据加载` 的链接是 `#数据加载`，而不是 `#id8`。

docutils 生成节的 id 时只保留 ASCII 字母数字，中文标题因此得到 `id1`、`id8` 这样的编号（而且随前面的标题增删而变），
`## Dataset 和 DataLoader 各管什么` 得到 `dataset-dataloader`。这里给每一节加一个由完整标题得到的 id，放在第一位，
目录、标题旁的链接符号和搜索结果都用它；原来的 id 全部保留为别名，已有的 `{ref}`、`{doc}` 和旧链接照常可用。

规则：NFKC 规范化、转小写，连续的非文字字符（空格、标点；`_` 保留）换成一个 `-`，去掉首尾的 `-`；
同一页里重复时依次加 `-2`、`-3`。标题不变，锚点就不变。

锚点不以数字开头：Sphinx 的搜索页（searchtools.js）用 `querySelector('[role="main"] #锚点')` 取结果的摘要，
`#3-自动求导` 不是合法的 CSS 选择器，浏览器抛出 JavaScript 错误，摘要也就没有了。章标题「3. 自动求导」的锚点因此是
`第3章-自动求导`；其他以数字开头的标题前面加 `_`。
"""

from __future__ import annotations

import re
import unicodedata

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).lower()
    chapter = re.match(r"(\d+)\.\s+(.*)", text, re.S)   # 章标题「3. 自动求导」
    if chapter:
        text = f"第{chapter.group(1)}章 {chapter.group(2)}"
    slug = re.sub(r"\W+", "-", text).strip("-")
    return f"_{slug}" if slug[:1].isdigit() else slug


class ReadableSectionIds(SphinxTransform):
    # 在 sphinx.transforms.SortIds（261，把 id 数字编号挪到最后）之后、doctree-read（目录收集）之前
    default_priority = 265

    def apply(self, **kwargs) -> None:
        for section in self.document.findall(nodes.section):
            if not section.children or not isinstance(section[0], nodes.title):
                continue
            slug = slugify(section[0].astext())
            if not slug:
                continue
            if slug in section["ids"]:  # 例如纯英文标题，docutils 已经给了同样的 id：挪到第一位
                section["ids"].remove(slug)
                section["ids"].insert(0, slug)
                continue
            candidate, n = slug, 1
            while candidate in self.document.ids:
                n += 1
                candidate = f"{slug}-{n}"
            section["ids"].insert(0, candidate)
            self.document.ids[candidate] = section


def setup(app: Sphinx):
    app.add_transform(ReadableSectionIds)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
