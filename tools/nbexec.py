"""一个很小的笔记本执行器：不需要 Jupyter（nbclient、ipykernel、pyzmq），只用标准库。

`make gpu`（tools/gpu_run.py）在借来的 GPU 机器上用它：那里有 torch，却没有 Jupyter 的内核栈，
而能带过去的文件又有大小限制。它和 Jupyter 内核做的事情一样多，够本课程的笔记本用：

* 每个代码单元在同一个命名空间里依次执行，这个命名空间就是一个新的 ``__main__`` 模块（和 ipykernel 一样没有
  ``__file__``，所以 ``spawn`` 启动的子进程找不到笔记本里定义的类，和在 Jupyter 里一样）；
* 记录标准输出和标准错误（连续的同名输出合成一段）、单元最后一个表达式的值（以 ``;`` 结尾时不显示）、
  matplotlib 的图（``plt.show()`` 时和单元结束时，PNG，dpi 100，``bbox_inches="tight"``，与 Jupyter 的 inline 后端相同）；
* 支持 ``%%writefile [-a] 路径``（课程里唯一用到的魔法命令）；别的 ``%``/``!`` 行直接报错，不会悄悄跳过；
* 环境变量 ``PTNOTES_START_METHOD=spawn`` 让子进程像在 Windows、macOS 上那样用 spawn 启动；
* 某个单元出错就停下，错误和单元编号写进结果。

用法：
    python tools/nbexec.py chapters/01_setup.ipynb                 # 运行，不保存输出；失败时退出码 1
    python tools/nbexec.py NB --record OUT.ipynb --json RESULT.json # 保存带输出的笔记本和结果摘要

工作目录应是笔记本所在目录（与 Jupyter 相同）；tools/gpu_run.py 就是这样调用的。
"""

from __future__ import annotations

import ast
import base64
import datetime
import hashlib
import io
import json
import os
import platform
import sys
import time
import traceback
import types
from pathlib import Path

METADATA_KEY = "ptnotes_verified"   # 与 tools/run_notebook.py 相同（网站的「最后验证」一行读它）


def content_sha256(cells_outputs) -> str:
    """与 tools/run_notebook.py 的 content_sha256 相同的指纹：全部代码单元的输出列表（按顺序）。"""
    return hashlib.sha256(json.dumps(cells_outputs, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def source_sha256(nb: dict) -> str:
    """笔记本可见代码的指纹：不带 remove-cell 标签的代码单元（按顺序），准备单元开头的引导代码除外
    （tools/bootstrap.py 改版本号时它会变，但不影响输出）。比较的是语法树（ast.dump），所以只改注释、空行、
    换行方式不算改了代码；解析不了的单元（如 %%writefile）按原文比较。GPU 页记录时存下它，
    tests/test_gpu.py 用它检查页面上的输出来自现在的代码。"""
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        source = source_of(cell)
        if not parts and "\n    import ptnotes\n" in source:
            source = source.rsplit("\n    import ptnotes\n", 1)[1]   # 引导代码到 except 分支里的 import ptnotes 为止
        try:
            parts.append(ast.dump(ast.parse(source)))
        except SyntaxError:
            parts.append(source)
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def source_of(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


class _Capture(io.TextIOBase):
    """代替 sys.stdout / sys.stderr：写进当前单元的输出列表，连续的同名输出合并。"""

    def __init__(self, runner, name):
        self.runner, self.name = runner, name

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        if text:
            self.runner.add_stream(self.name, text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"


class Runner:
    def __init__(self, echo: bool = False):
        self.outputs: list[dict] = []
        self.echo = echo
        self.module = types.ModuleType("__main__")
        self.module.__dict__.update({"__builtins__": __builtins__, "display": self.display})
        self._plt = None

    # ---- 输出 ----
    def add_stream(self, name, text):
        if self.echo:
            (sys.__stdout__ if name == "stdout" else sys.__stderr__).write(text)
        if self.outputs and self.outputs[-1]["output_type"] == "stream" and self.outputs[-1]["name"] == name:
            self.outputs[-1]["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def display(self, *objs, **kwargs):
        for obj in objs:
            self.outputs.append({"output_type": "display_data", "data": self.mime(obj), "metadata": {}})

    @staticmethod
    def mime(obj):
        data = {"text/plain": repr(obj)}
        png = getattr(obj, "_repr_png_", None)
        if callable(png):
            raw = png()
            if raw:
                data["image/png"] = base64.b64encode(raw).decode("ascii")
        return data

    def flush_figures(self):
        """把打开着的 matplotlib 图都作为 PNG 输出，然后关掉（Jupyter inline 后端的做法）。"""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        for num in plt.get_fignums():
            fig = plt.figure(num)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight")
            w, h = (fig.get_size_inches() * fig.dpi).round().astype(int)
            text = f"<Figure size {w}x{h} with {len(fig.axes)} Axes>"
            self.outputs.append({"output_type": "display_data", "metadata": {},
                                 "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                                          "text/plain": text}})
        plt.close("all")

    def _patch_matplotlib(self):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None and self._plt is not plt:
            plt.show = lambda *args, **kwargs: self.flush_figures()
            self._plt = plt

    # ---- 执行 ----
    def run_cell(self, source: str, count: int) -> dict | None:
        """执行一个单元；返回 execute_result（最后一个表达式的值）或 None。"""
        if source.startswith("%%writefile"):
            first, _, body = source.partition("\n")
            args = first.split()[1:]
            append = "-a" in args
            target = Path([a for a in args if a != "-a"][0])
            existed = target.exists()
            with open(target, "a" if append else "w", encoding="utf-8") as f:
                f.write(body if body.endswith("\n") or not body else body + "\n")
            verb = "Appending to" if append else ("Overwriting" if existed else "Writing")
            print(f"{verb} {target}")
            return None
        for line in source.splitlines():
            if line.lstrip().startswith(("%", "!")):
                raise RuntimeError(f"nbexec 不支持魔法命令或 shell 行：{line.strip()}")
        tree = ast.parse(source, filename=f"<cell {count}>")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
            last = ast.Expression(tree.body.pop().value)
        ns = self.module.__dict__
        exec(compile(tree, f"<cell {count}>", "exec"), ns)
        self._patch_matplotlib()
        if last is not None:
            value = eval(compile(last, f"<cell {count}>", "eval"), ns)
            self._patch_matplotlib()
            if value is not None:
                ns["_"] = value
                return {"output_type": "execute_result", "execution_count": count, "metadata": {},
                        "data": self.mime(value)}
        return None


def probe(count_gpu: bool = True) -> dict:
    """运行环境，与 tools/run_notebook.py 的 PROBE 相同的字段。"""
    import importlib.metadata

    import torch

    env = {n: os.environ[n] for n in ("PTNOTES_NUM_THREADS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY",
                                      "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA") if n in os.environ}
    return {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": importlib.metadata.version("torchvision"),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "env": env,
        "gpu": torch.cuda.get_device_name(0) if count_gpu and torch.cuda.is_available() else None,
    }


def execute(path: Path, record: Path | None = None, echo: bool = False, keep_going: bool = False) -> dict:
    """在当前工作目录里执行笔记本 path。返回 {ok, seconds, error, cell}；record 给出时把带输出的笔记本写到那里。
    keep_going：隐藏的检查（remove-cell）失败时照样判为失败，但不停下，其余单元照常运行并记录（GPU 页一次运行的机会很宝贵）。"""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    runner = Runner(echo=echo)
    saved_main = sys.modules.get("__main__")
    saved_io = sys.stdout, sys.stderr
    sys.modules["__main__"] = runner.module
    sys.path.insert(0, os.getcwd())        # 和 Jupyter 一样，笔记本所在目录里的模块（ptnotes.py）可以直接导入
    sys.stdout, sys.stderr = _Capture(runner, "stdout"), _Capture(runner, "stderr")
    try:
        import matplotlib
        matplotlib.use("Agg")
    except ImportError:
        pass
    if os.environ.get("PTNOTES_START_METHOD"):   # 例如 spawn：像在 Windows、macOS 上那样启动子进程（测试用）
        import multiprocessing
        multiprocessing.set_start_method(os.environ["PTNOTES_START_METHOD"], force=True)
    result = {"ok": True, "seconds": 0.0, "error": None, "cell": None}
    start = time.perf_counter()
    count = 0
    failed = False
    try:
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            source = source_of(cell)
            runner.outputs = []
            if failed or not source.strip():
                cell["outputs"], cell["execution_count"] = [], None
                continue
            count += 1
            try:
                value = runner.run_cell(source, count)
                runner.flush_figures()
                if value is not None:
                    runner.outputs.append(value)
            except BaseException as e:  # noqa: BLE001 — 和 Jupyter 一样：记下错误，停在这个单元
                if isinstance(e, KeyboardInterrupt):
                    raise
                runner.flush_figures()
                tb = traceback.format_exception(type(e), e, e.__traceback__)
                first = str(e).splitlines()[0] if str(e) else ""
                if result["ok"]:
                    result.update(ok=False, error=f"{type(e).__name__}: {first}"[:500], cell=index,
                                  traceback="".join(tb)[-4000:])
                hidden = "remove-cell" in cell.get("metadata", {}).get("tags", [])
                if keep_going and hidden:
                    # 隐藏的检查没通过：记进结果（这一页算失败），但接着运行，好让其余单元的输出都记录下来
                    result.setdefault("failed_checks", []).append({"cell": index, "error": f"{type(e).__name__}: {first}"[:500]})
                    runner.outputs = []
                else:
                    runner.outputs.append({"output_type": "error", "ename": type(e).__name__, "evalue": str(e),
                                           "traceback": tb})
                    failed = True
            cell["outputs"], cell["execution_count"] = runner.outputs, count
    finally:
        sys.stdout, sys.stderr = saved_io
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
    result["seconds"] = round(time.perf_counter() - start, 1)
    if record is not None:
        verified = probe()
        verified["sha256"] = content_sha256([c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"])
        nb["metadata"][METADATA_KEY] = verified
        nb["metadata"].setdefault("ptnotes", {})["source_sha256"] = source_sha256(nb)
        Path(record).write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return result


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--record", type=Path, help="把带输出的笔记本写到这里")
    parser.add_argument("--json", type=Path, help="把结果摘要 {ok, seconds, error, cell} 写到这里")
    parser.add_argument("--echo", action="store_true", help="同时把笔记本的输出打印到终端")
    parser.add_argument("--keep-going", action="store_true", help="隐藏的检查失败时记下来，但接着运行")
    args = parser.parse_args(argv)
    result = execute(args.notebook, args.record, echo=args.echo, keep_going=args.keep_going)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")
    if not result["ok"]:
        sys.stderr.write(f"{args.notebook}: cell {result['cell']}: {result['error']}\n{result.get('traceback', '')}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
