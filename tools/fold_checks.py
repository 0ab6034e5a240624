"""把每个隐藏的检查（remove-cell 标签的代码单元）在 Colab 和 JupyterLab 里折叠成一行标题。

网站上看不到这些单元（Jupyter Book 按 remove-cell 去掉它们），可学生在 Colab、JupyterLab 里打开笔记本时，
它们原本是一个个光秃秃的 assert 单元，夹在讲解之间。折叠之后：

* Colab：单元第一行是 ``#@title ……``，元数据 ``cellView: form``，只显示标题（表单视图），代码收起；
* JupyterLab：元数据 ``jupyter.source_hidden``，代码收起成一行省略号。

检查本身一字不改，网站、nbval 和 make test 检查的和以前完全一样；学生版（tools/student.py）把练习的检查换成自检单元时
去掉这一行标题。

用法：.venv/bin/python tools/fold_checks.py [--check] [笔记本 ...]（不给笔记本时处理 _toc.yml 里的全部页面；
写笔记本时拿着锁：flock .nb.lock ...）。--check：只检查，有没折叠的就列出来并以 1 退出（tests/test_structure.py 也检查）。
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import toc_chapters  # noqa: E402

TITLE = "#@title 自动检查：确认上面的说法成立（课程的测试用，直接运行即可，不必阅读）"


def is_check(cell) -> bool:
    return cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", [])


def folded(cell) -> bool:
    return (cell.source.startswith("#@title ") and cell.metadata.get("cellView") == "form"
            and cell.metadata.get("jupyter", {}).get("source_hidden") is True)


def fold(cell) -> None:
    if not cell.source.startswith("#@title "):
        cell.source = TITLE + "\n" + cell.source
    cell.metadata["cellView"] = "form"
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True


def strip_title(source: str) -> str:
    """检查单元的代码，去掉第一行的 #@title（学生版的自检单元用）。"""
    return source.split("\n", 1)[1] if source.startswith("#@title ") else source


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    bad = []
    for path in args.notebooks or toc_chapters():
        nb = nbformat.read(path, as_version=4)
        todo = [c for c in nb.cells if is_check(c) and not folded(c)]
        if not todo:
            continue
        bad.append(f"{path.name}: {len(todo)} 个隐藏的检查没有折叠")
        if not args.check:
            for cell in todo:
                fold(cell)
            nbformat.write(nb, path)
    for line in bad:
        print(line + ("（运行 tools/fold_checks.py）" if args.check else "：已折叠"))
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
