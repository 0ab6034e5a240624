"""把 py:percent 文本（`# %%` 分隔单元）转成本课程格式的笔记本，或反过来。写新页面时用：

    .venv/bin/python tools/pct2nb.py page.py chapters/NN_name.ipynb      # 文本 -> 笔记本（输出清空，之后 make run）
    .venv/bin/python tools/pct2nb.py chapters/NN_name.ipynb page.py      # 笔记本 -> 文本

单元标记：`# %%`（代码）、`# %% [markdown]`（markdown，每行去掉开头的 `# `）、可带 `tags=["remove-cell"]`。
代码单元第一行的 `# %%writefile ...` 还原成 `%%writefile ...`。和 jupytext 的区别只在这一点：jupytext 把
`%%writefile` 也当成单元标记。笔记本的元数据（kernelspec 等）与其他各章相同。
"""
import json
import re
import sys
from pathlib import Path

import nbformat

MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def read_percent(text: str):
    cells, kind, tags, lines = [], None, None, []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            if body.startswith("# %%writefile"):
                body = body[2:]
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            flush()
            kind = "markdown" if match.group("md") else "code"
            tags = json.loads(match.group("tags")) if match.group("tags") else None
            lines = []
        else:
            lines.append(line)
    flush()
    return cells


def to_notebook(src: Path, dst: Path, metadata: dict | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = read_percent(src.read_text(encoding="utf-8"))
    template = nbformat.read(Path(__file__).resolve().parent.parent / "chapters" / "01_setup.ipynb", as_version=4)
    nb.metadata = {"kernelspec": template.metadata["kernelspec"], "language_info": template.metadata.get("language_info", {})}
    nb.metadata.update(metadata or {})
    if dst.exists():   # 保留已有笔记本的元数据（如 ptnotes）
        old = nbformat.read(dst, as_version=4)
        for key, value in old.metadata.items():
            nb.metadata.setdefault(key, value)
    nbformat.write(nb, dst)


def to_percent(src: Path, dst: Path):
    nb = nbformat.read(src, as_version=4)
    out = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        head = "# %%" + (" [markdown]" if cell.cell_type == "markdown" else "") + (f" tags={json.dumps(tags)}" if tags else "")
        body = cell.source
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + line) if line else "#" for line in body.splitlines())
        elif body.startswith("%%writefile"):
            body = "# " + body
        out.append(head + "\n" + body + "\n")
    dst.write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    (to_notebook if src.suffix == ".py" else to_percent)(src, dst)
