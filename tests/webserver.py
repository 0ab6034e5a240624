"""测试用的本地“网站”：127.0.0.1 随机端口上的 HTTP 服务器，代替已发布的课程仓库。

``with serve() as site:`` 之后用 ``site.add(path, data)`` 放文件；``truncate=True`` 的文件只发一半字节就断开
（响应头里仍是完整长度，像下载到一半断网）；其余路径回答 404。``site.requests`` 按顺序记下
``(路径, 状态码)``。``closed_url()`` 给出一个没有服务器在听的地址（像断网）。
``with serve_folder(folder) as site:`` 把一个真实的目录原样提供出来（像老师用 ``python3 -m http.server`` 搭的镜像）。
"""

from __future__ import annotations

import contextlib
import socket
import threading
import functools
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

RAW = "https://raw.githubusercontent.com"


class Site:
    def __init__(self, url: str):
        self.url = url
        self.files: dict[str, bytes] = {}
        self.truncated: set[str] = set()
        self.requests: list[tuple[str, int]] = []

    def add(self, path: str, data: bytes, truncate: bool = False) -> str:
        """放一个文件，返回它的完整地址。"""
        self.files[path] = data
        if truncate:
            self.truncated.add(path)
        return self.url + path

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@contextlib.contextmanager
def serve():
    site = Site("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = site.files.get(self.path)
            if data is None:
                site.requests.append((self.path, 404))
                self.send_error(404)
                return
            site.requests.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.path in site.truncated:
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
            else:
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    with _running(site, Handler):
        yield site


@contextlib.contextmanager
def serve_folder(folder):
    """127.0.0.1 随机端口上提供目录 folder（标准库的 SimpleHTTPRequestHandler，与 python3 -m http.server 相同）；
    site.requests 同样按顺序记下 (路径, 状态码)。"""
    site = Site("")

    class Handler(SimpleHTTPRequestHandler):
        def log_request(self, code="-", size="-"):
            site.requests.append((self.path, int(code)))

        def log_message(self, *args):
            pass

    with _running(site, functools.partial(Handler, directory=str(folder))):
        yield site


@contextlib.contextmanager
def _running(site, handler):
    """在 127.0.0.1 的随机端口上用 handler 提供服务，地址写进 site.url；退出时关掉服务器。"""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def closed_url() -> str:
    """一个此刻没有服务器在听的本机地址：连接会被立即拒绝。"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def offline_env(env: dict[str, str]) -> dict[str, str]:
    """让本机以外的 HTTP(S) 请求立即失败（代理指向一个关着的端口），127.0.0.1 照常可达。"""
    dead = closed_url()
    env = dict(env)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[name] = dead
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    env["PTNOTES_COURSE_RUN"] = "1"      # 课程自己的测试：只在这里做的检查（如第 17 章速查表的报错措辞）也运行
    return env
