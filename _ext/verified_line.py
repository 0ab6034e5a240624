"""构建时给每章加一行「最后验证」：页面上的输出来自哪一次运行（日期、Python、torch、torchvision、数值配置）。

数据是 make run（tools/run_notebook.py）运行笔记本时记进元数据 `ptnotes_verified` 的，这里只读不猜：
笔记本没有这项元数据，或者之后输出被改过而没有用 make run 重新运行（输出的 sha256 对不上），构建就失败，
信息里给出修复的命令。

* 每个 `chapters/*.ipynb` 页面：标题下面插入一句白话（日期、torch、CPU/GPU），点开是完整的这一行；
* 指令 ```` ```{verified-line} chapters/07_nn_module ```` ````：在别的页面（教师页）上写出某一章的这一行。

在 _config.yml 里用 `sphinx: local_extensions: {verified_line: _ext/}` 注册。
"""

from __future__ import annotations

import html
import importlib.util
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("date", "python", "torch", "torchvision", "threads", "cpu_capability", "env", "gpu", "sha256")


def _run_notebook():
    """tools/run_notebook.py（指纹的算法只写在那里一份）。"""
    spec = importlib.util.spec_from_file_location("ptnotes_run_notebook", ROOT / "tools" / "run_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN = _run_notebook()


def verified_meta(path: Path) -> dict:
    """一章的运行记录（make run 写进元数据的 ptnotes_verified）；缺失或过期时抛出 ExtensionError。"""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    fix = f"运行 make run NB={shown} 重新运行并记录（Run it again with make run）。"
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get(RUN.METADATA_KEY)
    if not meta:
        raise ExtensionError(f"{shown}: 没有 {RUN.METADATA_KEY} 元数据，不知道输出来自哪一次运行。{fix}")
    missing = [k for k in KEYS if k not in meta]
    if missing:
        raise ExtensionError(f"{shown}: {RUN.METADATA_KEY} 缺少 {', '.join(missing)}。{fix}")
    if meta["sha256"] != RUN.content_sha256(nb):
        raise ExtensionError(f"{shown}: 输出在上次 make run 之后被改过，不是那次运行的结果。{fix}")
    return meta


def _full_line(meta: dict) -> str:
    numerics = f"{meta['threads']} 个线程，ATen 内核 {meta['cpu_capability']}"
    env = "，".join(f"{k}={v}" for k, v in sorted(meta["env"].items()))
    numerics += f"（{env}）" if env else "（本机默认配置）"
    device = f"GPU {meta['gpu']}" if meta["gpu"] else "无 GPU"
    return (f"最后验证：{meta['date']}，Python {meta['python']}，torch {meta['torch']}，"
            f"torchvision {meta['torchvision']}；数值配置：{numerics}，{device}。")


def _plain_line(meta: dict) -> str:
    device = "GPU" if meta["gpu"] else "CPU"
    torch = meta["torch"].split("+")[0]  # 2.14.1+cu130 → 2.14.1
    return f"本页的输出都是真的运行结果：{meta['date']} 在 {device} 上用 torch {torch} 运行"


def verified_text(path: Path) -> str:
    """一章的「最后验证」一行；元数据缺失或过期时抛出 ExtensionError。"""
    return _full_line(verified_meta(path))


def plain_text(path: Path) -> str:
    """章标题下显示的一句白话：输出来自哪一天、哪个 torch、CPU 还是 GPU（细节折叠在它下面）。"""
    return _plain_line(verified_meta(path))


def line_node(text: str) -> nodes.paragraph:
    """教师页上的完整一行（正体、浅色，见 _static/site.css）。"""
    return nodes.paragraph(text, text, classes=["ptnotes-verified"])


def folded_node(path: Path) -> nodes.raw:
    """章标题下：一句白话，点开是完整的「最后验证」一行（版本与数值配置）。打印时只印那句白话（tools/pdf.py）。"""
    meta = verified_meta(path)  # 笔记本只读一次
    full, plain = html.escape(_full_line(meta)), html.escape(_plain_line(meta))
    return nodes.raw("", f'<details class="ptnotes-verified"><summary>{plain}</summary>\n<p>{full}</p></details>\n',
                     format="html")


def add_to_chapter(app, doctree):
    docname = app.env.docname
    path = Path(app.env.doc2path(docname))
    if not (docname.startswith("chapters/") and path.suffix == ".ipynb"):
        return
    section = doctree.next_node(nodes.section)
    if section is None or not isinstance(section[0], nodes.title):
        raise ExtensionError(f"{docname}: 找不到章标题，放不下「最后验证」一行")
    section.insert(1, folded_node(path))


class VerifiedLine(SphinxDirective):
    """```{verified-line} chapters/07_nn_module``` → 这一章的「最后验证」一行。"""

    required_arguments = 1

    def run(self):
        path = ROOT / f"{self.arguments[0]}.ipynb"
        if not path.is_file():
            raise ExtensionError(f"{self.env.docname}: verified-line 指向不存在的笔记本 {self.arguments[0]}")
        self.env.note_dependency(str(path))
        return [line_node(verified_text(path))]


def setup(app):
    app.connect("doctree-read", add_to_chapter)
    app.add_directive("verified-line", VerifiedLine)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
