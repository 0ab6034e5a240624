"""把每章准备单元开头的几行（“引导代码”）统一改成最新的写法；已经是最新的笔记本原样不动。

用法：.venv/bin/python tools/bootstrap.py [--check] [笔记本 ...]
      不给笔记本时处理 _toc.yml 里的全部章节。写笔记本时要拿着锁：
      flock .nb.lock .venv/bin/python tools/bootstrap.py chapters/13e_train.ipynb

引导代码让笔记本单独打开（Colab）时也能运行：没有 ptnotes.py、它不完整或比本章需要的旧时，
从课程仓库下载一份（见 CONTRIBUTING.md「准备单元」）。“本章需要的版本”就是 chapters/ptnotes.py
最后一行的 VERSION，地址来自 _config.yml 的 repository。所以改了 ptnotes.py（VERSION 加一）或换了仓库地址后，
运行一次本工具即可。引导代码不打印任何东西，存下的输出不变，不用重新运行笔记本。

准备单元 = 第一个代码单元。引导代码 = 从单元开头到第一个含 ``import ptnotes`` 的行之后的第一个空行；
它导入的 os、pathlib、sys、urllib.request 若在单元后面又单独导入一次，重复的那行会被删掉。
--check：只检查，不写文件；有笔记本需要更新时列出它们并以 1 退出（tests/test_alone.py 用它）。
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent

IMPORTS = ["import os", "import pathlib", "import sys", "import urllib.request"]

TEMPLATE = """\
{imports}

# 课程公共代码 ptnotes.py（课程仓库的 chapters/ptnotes.py）。单独打开本笔记本（如 Colab）时，
# 没有它、它不完整或比本章需要的旧，就从课程仓库下载一份；下载不到时停在这里，说明怎么办
PTNOTES_URL = "{url}"
try:
    import ptnotes
    if ptnotes.VERSION < {version}:  # VERSION 是 ptnotes.py 的最后一行：没有它说明文件不完整
        raise ImportError("ptnotes.py 太旧")
except Exception:
    sys.modules.pop("ptnotes", None)
    url = os.environ.get("PTNOTES_PY_URL", PTNOTES_URL)
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            pathlib.Path("ptnotes.py").write_bytes(response.read())
    except OSError as error:  # 断网、连不上 GitHub、地址不对：只说怎么办，不显示 urllib 内部的十几层调用
        raise RuntimeError(f"下载不到课程的公共代码 ptnotes.py（{{error}}）：{{url}}\\n"
                           "连不上 GitHub 时，可以设环境变量 PTNOTES_PY_URL 和 PTNOTES_DATA_URL 指向老师提供的镜像，"
                           "或者使用课程的离线包（ptnotes.py 和数据都在里面），见课程首页。") from None
    import ptnotes"""


def raw_base() -> str:
    """已发布仓库的 raw 地址，如 https://raw.githubusercontent.com/owner/name/main（来自 _config.yml）。"""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    repo = config["url"].removeprefix("https://github.com/").strip("/")
    return f"https://raw.githubusercontent.com/{repo}/{config['branch']}"


def ptnotes_version() -> int:
    """chapters/ptnotes.py 最后一行的 VERSION。"""
    last = (ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8").rstrip().splitlines()[-1]
    match = re.fullmatch(r"VERSION = (\d+)", last)
    if not match:
        sys.exit(f"chapters/ptnotes.py 的最后一行应为 'VERSION = <整数>'，实际是 {last!r}")
    return int(match.group(1))


def bootstrap_code() -> str:
    """当前的引导代码（不含结尾换行）。"""
    return TEMPLATE.format(imports="\n".join(IMPORTS), url=f"{raw_base()}/chapters/ptnotes.py",
                           version=ptnotes_version())


def toc_chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("chapters/")]


def rewrite(source: str, code: str) -> str:
    """把一个准备单元的引导代码换成 ``code``；单元不像准备单元时抛出 ValueError。"""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if "import ptnotes" in line), None)
    if first is None or not lines[0].startswith("import "):
        raise ValueError("第一个代码单元不是准备单元（应以 import 开头，并含 import ptnotes）")
    end = next((i for i in range(first, len(lines)) if not lines[i].strip()), len(lines))
    rest = [line for line in lines[end:] if line not in IMPORTS]
    while rest and not rest[0].strip():
        rest.pop(0)
    return code + ("\n\n" + "\n".join(rest) if rest else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="只检查，不写文件")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    code = bootstrap_code()
    outdated = []
    for path in args.notebooks or toc_chapters():
        nb = nbformat.read(path, as_version=4)
        cell = next((c for c in nb.cells if c.cell_type == "code"), None)
        if cell is None:                 # 分成小节的一章，章节页只有文字（如 02_tensors），没有准备单元
            print(f"{path}: 没有代码单元")
            continue
        try:
            new = rewrite(cell.source, code)
        except ValueError as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 2
        if new == cell.source:
            print(f"{path}: 已是最新")
            continue
        outdated.append(path)
        if args.check:
            print(f"{path}: 引导代码需要更新（运行 flock .nb.lock .venv/bin/python tools/bootstrap.py {path}）")
        else:
            cell.source = new
            nbformat.write(nb, path)
            print(f"{path}: 已更新")
    return 1 if args.check and outdated else 0


if __name__ == "__main__":
    sys.exit(main())
