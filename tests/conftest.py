import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_entries():
    """_toc.yml 里的全部页面（首页在前），按目录顺序。"""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


def has_code(path) -> bool:
    """笔记本里有代码单元吗？分成小节的一章，章节页（如 chapters/02_tensors）只有文字：不运行、没有练习。"""
    import json

    path = Path(path)
    path = path if path.suffix == ".ipynb" else ROOT / f"{path}.ipynb"
    return path.is_file() and any(c["cell_type"] == "code" for c in json.loads(path.read_text(encoding="utf-8"))["cells"])


def gpu_page(path) -> bool:
    """元数据 ptnotes.gpu_page 为真的页（如 14a、14b）：输出在 GPU 上记录（make gpu），nbval 不比对，目录里排在本章最后。"""
    import json

    path = Path(path)
    path = path if path.suffix == ".ipynb" else ROOT / f"{path}.ipynb"
    return path.is_file() and bool(json.loads(path.read_text(encoding="utf-8"))["metadata"].get("ptnotes", {}).get("gpu_page"))


@pytest.fixture
def fake_repo(tmp_path):
    """一个最小的“仓库”：chapters/ptnotes.py 与 data/（SHA256SUMS + 蚂蚁/蜜蜂压缩包的副本）。"""
    (tmp_path / "chapters").mkdir()
    shutil.copy(ROOT / "chapters" / "ptnotes.py", tmp_path / "chapters" / "ptnotes.py")
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "SHA256SUMS", tmp_path / "data" / "SHA256SUMS")
    shutil.copy(ROOT / "data" / "hymenoptera_data.tar.gz", tmp_path / "data")
    return tmp_path


def load_module(path: Path, name: str):
    """按文件路径导入一个模块，登记为 sys.modules[name]（tools/ 和 _ext/ 里的脚本不是包，不能直接 import）。"""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_tool(name: str):
    """导入 tools/NAME.py。"""
    return load_module(ROOT / "tools" / f"{name}.py", f"tool_{name}")


def load_ptnotes(folder: Path):
    """从 folder 导入一份独立的 ptnotes 模块（不影响别的测试）。"""
    return load_module(folder / "ptnotes.py", f"ptnotes_{abs(hash(folder))}")


@pytest.fixture
def http_server(tmp_path_factory):
    """在 127.0.0.1 的随机端口上提供一个目录的静态文件服务；返回 (base_url, 目录, 请求过的路径列表)。"""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    folder = tmp_path_factory.mktemp("served")
    requested = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requested.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder, requested
    finally:
        server.shutdown()
        server.server_close()
