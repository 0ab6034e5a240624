"""公式的源码：MathJax 在 \\text{...} 里是文本模式，`\\_` 不是转义，网页上会原样显示出反斜杠（如 fan\\_in）。
所以 \\text{} 里的下划线直接写 `_`（MathJax 文本模式里 `_` 就是下划线），数学模式里才写 `\\_`。"""

import json
import re

import pytest

from conftest import ROOT

TEXT_WITH_ESCAPE = re.compile(r"\\(?:text|textrm|textit|textbf)\{[^{}]*\\_[^{}]*\}")
SOURCES = sorted((ROOT / "chapters").glob("*.ipynb")) + sorted((ROOT / "appendix").glob("*.md"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_escaped_underscore_inside_text(path):
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    found = TEXT_WITH_ESCAPE.findall(text)
    assert not found, f"\\text{{}} 里写了 \\_，网页上会显示反斜杠：{found[:3]}；改成 _"
