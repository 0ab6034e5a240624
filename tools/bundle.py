"""离线包：把全部章节、ptnotes.py、数据压缩包、锁定的依赖和一份中文说明打成一个 zip。

用法：.venv/bin/python tools/bundle.py [--output _build/pytorch-shizhan-biji-offline.zip]（一般用 make bundle）

给连不上 Colab 或 GitHub 的同学。zip 里只有一个顶层目录，笔记本、ptnotes.py 和 data/ 并排放着：
ptnotes 在自己旁边的 data/ 里找到压缩包（核对 sha256），不用联网；这和 Colab 里下载完以后的样子相同。
章节列表来自 _toc.yml，笔记本带着网站上的输出。内容相同时 zip 的字节也相同（固定的时间戳和顺序）。
tests/test_bundle.py 解开它，在断网的条件下运行一章并比对输出。
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOP = "pytorch-shizhan-biji-offline"
DEFAULT = ROOT / "_build" / f"{TOP}.zip"
TIMESTAMP = (2026, 1, 1, 0, 0, 0)

README = """\
# PyTorch 实战笔记 · 离线包

课程仓库：{repo}（本包生成自提交 {commit}）

这里是课程的全部 {count} 章笔记本（带着网站上的输出）、课程公共代码 `ptnotes.py` 和两份数据，
不用连 GitHub 或 Colab 也能运行。

## 里面有什么

- `01_setup.ipynb` … ：各章，顺序与网站相同；
- `ptnotes.py`：课程公共代码，每章的第一个代码单元导入它；
- `data/`：蚂蚁/蜜蜂（`hymenoptera_data.tar.gz`）和 CIFAR-10（`cifar10_jpg.tar.gz`）两个数据压缩包，
  `SHA256SUMS` 是它们的 sha256；
- `requirements.txt`、`constraints.txt`：课程输出所用的精确版本。

## 怎么运行

1. 装好 Python 3.11，在本目录里建一个虚拟环境并安装依赖（需要能访问 PyPI 或它的镜像，
   例如加上 `-i https://pypi.tuna.tsinghua.edu.cn/simple`）：

   ```bash
   python3 -m venv .venv
   source .venv/bin/activate          # Windows：.venv\\Scripts\\activate
   pip install -r requirements.txt -c constraints.txt
   ```

   已经装有 PyTorch 2.6 或更新版本的话，也可以直接用现有的环境（打印格式可能略有不同）。
2. 运行 `jupyter lab`，在本目录里打开各章，从上到下运行。

## 数据在哪里

笔记本、`ptnotes.py` 和 `data/` 文件夹放在同一个目录里：`ptnotes` 在它旁边的 `data/` 里找到压缩包，
核对 sha256 后使用（第一次用时解压在 `data/` 里），**不联网**。所以移动或复制时请保持这个结构。
压缩包缺失或损坏时，`ptnotes` 才会去课程仓库下载；连不上时它会停下来，说明缺哪个文件、该放在哪里。
数据的来源见课程仓库的 `data/README.md`。
"""


def chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if f.startswith("chapters/")]


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=30)
    except OSError:
        return "（未知）"
    return out.stdout.strip() if out.returncode == 0 else "（未知）"


def archives() -> list[tuple[str, str]]:
    """data/SHA256SUMS 里的 (sha256, 文件名)，并核对文件确实是这些字节。"""
    listed = [tuple(line.split()) for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines() if line]
    for sha, name in listed:
        actual = hashlib.sha256((ROOT / "data" / name).read_bytes()).hexdigest()
        if actual != sha:
            sys.exit(f"data/{name} 的 sha256 是 {actual}，与 data/SHA256SUMS 不符：先 git checkout -- data/{name}")
    return listed


def readme(count: int) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return README.format(repo=config["repository"]["url"], commit=commit(), count=count)


def build(output: Path) -> Path:
    notebooks = chapters()
    files: list[tuple[str, bytes]] = [("README.md", readme(len(notebooks)).encode("utf-8"))]
    files += [(path.name, path.read_bytes()) for path in notebooks]
    files.append(("ptnotes.py", (ROOT / "chapters" / "ptnotes.py").read_bytes()))
    files += [(f"data/{name}", (ROOT / "data" / name).read_bytes()) for _, name in archives()]
    files.append(("data/SHA256SUMS", (ROOT / "data" / "SHA256SUMS").read_bytes()))
    files += [(name, (ROOT / name).read_bytes()) for name in ("requirements.txt", "constraints.txt")]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in files:
            info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=TIMESTAMP)
            info.external_attr = 0o644 << 16
            # 压缩包本来就是压缩过的，原样存入
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT)
    args = parser.parse_args(argv)
    output = build(args.output)
    size = output.stat().st_size
    with zipfile.ZipFile(output) as zf:
        count = len(zf.namelist())
    print(f"{output}: {count} 个文件，{size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
