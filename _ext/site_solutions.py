"""隐藏单元的中文按钮：练习答案显示为「参考答案 N」，其余隐藏的代码或输出显示为「显示代码」「显示输出」。

约定（CONTRIBUTING.md）：每个练习的答案是一个带 `hide-cell` 标签的代码单元，源码第一行是 `# 参考答案 N`。
myst-nb 1.4.0 把隐藏单元包进 HideCodeCellNode（<details>），按钮文字来自 nb_code_prompt_show/hide
（默认英文 "Show code cell content"，每个都一样）。这里在 myst-nb 包好之后（它的 HideInputCells 的优先级是 199），
按每个单元自己的源码改写按钮文字，所以每一章（包括以后加的）都自动得到与练习编号对应的中文按钮。
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

SOLUTION = re.compile(r"#\s*参考答案\s*(\d+)")

# 按被隐藏的部分：(展开前, 展开后)
PROMPTS = {
    "content": ("显示代码和输出", "隐藏代码和输出"),
    "source": ("显示代码", "隐藏代码"),
    "output": ("显示输出", "隐藏输出"),
}


def _source_text(node: nodes.Element) -> str:
    for child in node.findall(nodes.literal_block):
        return child.astext()
    return ""


class ChineseHiddenCellPrompts(SphinxPostTransform):
    default_priority = 200  # 紧跟在 myst_nb.sphinx_.HideInputCells（199）之后
    formats = ("html",)

    def run(self, **kwargs) -> None:
        from myst_nb.sphinx_ import HideCodeCellNode

        for wrap in self.document.findall(HideCodeCellNode):
            elements = {child.get("nb_element") for child in wrap.children}
            has_source = "cell_code_source" in elements
            has_output = "cell_code_output" in elements
            if has_source and has_output:
                part = "content"
            elif has_source:
                part = "source"
            else:
                part = "output"
            show, hide = PROMPTS[part]
            if has_source:
                match = SOLUTION.match(_source_text(wrap).lstrip())
                if match:
                    number = match.group(1)
                    show, hide = f"参考答案 {number}", f"收起参考答案 {number}"
                    wrap["classes"].append("solution")
                    wrap["ids"].append(f"参考答案-{number}")
            wrap["prompt_show"], wrap["prompt_hide"] = show, hide


def setup(app: Sphinx):
    app.setup_extension("myst_nb")
    app.add_post_transform(ChineseHiddenCellPrompts)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
