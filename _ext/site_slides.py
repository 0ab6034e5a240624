"""网站里的课件：网站构建完（build-finished）时，用 tools/slides.py 把每章的幻灯片写到 <网站>/slides/。

所以 make book 生成的网站总带着最新的课件，教师页（appendix/teacher.md）用相对链接 ../slides/NN.html 指向它们，
离线浏览网站时也打得开。只在 html 构建里写（tools/pdf.py 的单页 HTML 构建不需要课件；PDF 里指向本机文件的链接
在打印前去掉，只留文字）。课件只读笔记本里已保存的输出，不运行代码，全部 17 章约 1–2 秒。
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

TOOL = Path(__file__).resolve().parent.parent / "tools" / "slides.py"
logger = logging.getLogger(__name__)


def _tool():
    name = "ptnotes_slides_tool"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TOOL)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def write_slides(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    made = _tool().build(Path(app.outdir) / "slides", mathjax="../_static/mathjax/tex-chtml.js")
    logger.info(f"课件：{len(made)} 套、{sum(d['slides'] for d in made)} 页，写到 {Path(app.outdir) / 'slides'}")


def setup(app: Sphinx):
    app.connect("build-finished", write_slides)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
