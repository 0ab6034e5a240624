"""离线包：把全部章节、ptnotes.py、数据压缩包、锁定的依赖和一份中文说明打成一个 zip。

用法：.venv/bin/python tools/bundle.py [--output _build/pytorch-shizhan-biji-offline.zip]（一般用 make bundle）
      .venv/bin/python tools/bundle.py --student [--output _build/pytorch-shizhan-biji-student.zip]（make student-bundle）

给连不上 Colab 或 GitHub 的同学。zip 里只有一个顶层目录，笔记本、ptnotes.py 和 data/ 并排放着：
ptnotes 在自己旁边的 data/ 里找到压缩包（核对 sha256），不用联网；这和 Colab 里下载完以后的样子相同。
章节列表来自 _toc.yml，笔记本带着网站上的输出。内容相同时 zip 的字节也相同（固定的时间戳和顺序）。
tests/test_bundle.py 解开它，在断网的条件下运行一章并比对输出。

--student 生成发给学生的学生包：各页的学生版（tools/student.py，没有参考答案，在内存里生成）、只有文字的
各章概览页（如 02_tensors，本来就没有答案）、ptnotes.py、同样的数据压缩包、只含运行课程所需的依赖
（requirements-student.txt，不含生成网站和测试的工具）和一份中文说明（怎样安装、用镜像、交作业）。
完整的离线包带着参考答案，只给老师和自学的人。
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))      # 学生包用 tools/student.py 生成学生版
TOP = "pytorch-shizhan-biji-offline"
DEFAULT = ROOT / "_build" / f"{TOP}.zip"
STUDENT_TOP = "pytorch-shizhan-biji-student"
STUDENT_DEFAULT = ROOT / "_build" / f"{STUDENT_TOP}.zip"
STUDENT_REQUIREMENTS = ROOT / "requirements-student.txt"
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

   已经装有 PyTorch {min_torch} 或更新版本的话，也可以直接用现有的环境（打印格式可能略有不同）。
2. 运行 `jupyter lab`，在本目录里打开各章，从上到下运行。

## 数据在哪里

笔记本、`ptnotes.py` 和 `data/` 文件夹放在同一个目录里：`ptnotes` 在它旁边的 `data/` 里找到压缩包，
核对 sha256 后使用（第一次用时解压在 `data/` 里），**不联网**。所以移动或复制时请保持这个结构。
压缩包缺失或损坏时，`ptnotes` 才会去课程仓库下载；连不上时它会停下来，说明缺哪个文件、该放在哪里。
数据的来源见课程仓库的 `data/README.md`。
"""

STUDENT_README = """\
# PyTorch 实战笔记 · 学生包

课程仓库：{repo}（本包生成自提交 {commit}）

这是发给学生的课程包：{count} 页练习笔记本的学生版、各章的概览页、课程公共代码 `ptnotes.py` 和两份数据，
不用连 GitHub 或 Colab 也能运行。**本包不含参考答案。**

## 里面有什么

- `01_setup_student.ipynb` …：各页的学生版，顺序与网站相同。正文和网站上一样（带着输出），
  每个练习有一个写答案的单元和一个自检单元；
- `02_tensors.ipynb` 这样的各章概览页：只有文字（本章目标和各节列表），不用运行；
- `01_quiz_student.ipynb` …：每章一份测验（8–10 道选择题，和网站上的章末测验相同），把选的字母填进答案单元，
  运行自检单元就知道对不对，还有一句解释；
- `ptnotes.py`：课程公共代码，每页的第一个代码单元导入它；
- `data/`：蚂蚁/蜜蜂和 CIFAR-10 两个数据压缩包，`SHA256SUMS` 是它们的 sha256；
- `requirements.txt`：运行课程需要的包（精确版本）。

笔记本、`ptnotes.py` 和 `data/` 必须放在同一个目录里：`ptnotes` 在旁边的 `data/` 里找到数据，
核对 sha256 后使用，不联网。移动或复制时请保持这个结构。

## 安装

需要 Python 3.11。课程不需要 GPU，装只带 CPU 的 PyTorch 就够了（小得多）。在本目录里：

```bash
python3 -m venv .venv
source .venv/bin/activate          # Windows：.venv\\Scripts\\activate
pip install torch=={torch} torchvision=={torchvision} --index-url https://download.pytorch.org/whl/cpu
pip install -r requirements.txt
```

第三行装 CPU 版的 PyTorch，第四行装其余的包（已装好的 torch 会保留）。
macOS 和 Windows 上可以跳过第三行：那里 PyPI 上的默认安装包本来就只带 CPU；只有 Linux 上的默认包带着几 GB 的 CUDA 库。

### 在中国大陆：用镜像

pypi.org 和 download.pytorch.org 在大陆常常很慢。按下面的顺序试：

1. CPU 版 PyTorch 先试阿里云的 PyTorch 镜像（`-f` 指向它的文件列表，其余依赖从阿里云的 PyPI 镜像下载）：

   ```bash
   pip install torch=={torch} torchvision=={torchvision} -f https://mirrors.aliyun.com/pytorch-wheels/cpu/ -i https://mirrors.aliyun.com/pypi/simple/
   ```

   装完运行 `python -c "import torch; print(torch.__version__)"`，应显示 `{torch}+cpu`。
   镜像不一定已经同步了这个版本：pip 找不到它，或装上的版本后面没有 `+cpu`（那是默认的大包），
   就改用上面的官方 CPU 源（`--index-url https://download.pytorch.org/whl/cpu`），它在大陆通常连得上，只是慢一些。
2. 两个 CPU 源都连不上时，跳过这一步，直接做第 3 步：它会从 PyPI 镜像装默认的 torch，同样能运行课程，
   只是在 Linux 上大得多（带着几 GB 的 CUDA 库）。
3. 其余的包从清华或阿里云的 PyPI 镜像安装（任选一个）：

   ```bash
   pip install -r requirements.txt -i https://pypi.tuna.tsinghua.edu.cn/simple
   pip install -r requirements.txt -i https://mirrors.aliyun.com/pypi/simple/
   ```

   想以后一直用镜像：`pip config set global.index-url https://pypi.tuna.tsinghua.edu.cn/simple`。

## 怎么运行和做练习

1. 在本目录里（虚拟环境已激活）运行 `jupyter lab`，在浏览器里打开一页，例如 `01_setup_student.ipynb`。
2. 从头运行全页（菜单 Run → Run All Cells）。
3. 逐个做练习：在「答案」单元里写代码并运行，再运行它下面的「自检」单元。
   看到 ✔ 就通过了；看到 ✘ 时，它会说明哪条检查还不成立，或者哪个名字还没有定义。

## 交作业

1. 每份学生版里有一个「学号」单元（`STUDENT_ID = ""`）：在引号里填上你的学号，运行它，保存笔记本。
2. 老师要哪几页，就交那几个 `.ipynb` 文件本身，**不要改文件名**（例如 `07b_parameters_student.ipynb`）。
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


def readme(template: str, count: int, **extra: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    ptnotes = (ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8")
    min_torch = re.search(r'^MIN_TORCH = "([^"]+)"', ptnotes, re.MULTILINE).group(1)   # 不导入 ptnotes（不必装 torch）
    return template.format(repo=config["repository"]["url"], commit=commit(), count=count, min_torch=min_torch, **extra)


def common_files() -> list[tuple[str, bytes]]:
    """两种包共有的：ptnotes.py、数据压缩包和 data/SHA256SUMS。"""
    files = [("ptnotes.py", (ROOT / "chapters" / "ptnotes.py").read_bytes())]
    files += [(f"data/{name}", (ROOT / "data" / name).read_bytes()) for _, name in archives()]
    files.append(("data/SHA256SUMS", (ROOT / "data" / "SHA256SUMS").read_bytes()))
    return files


def build(output: Path) -> Path:
    notebooks = chapters()
    files: list[tuple[str, bytes]] = [("README.md", readme(README, len(notebooks)).encode("utf-8"))]
    files += [(path.name, path.read_bytes()) for path in notebooks]
    files += common_files()
    files += [(name, (ROOT / name).read_bytes()) for name in ("requirements.txt", "constraints.txt")]
    return write_zip(output, TOP, files)


def pins(path: Path) -> dict[str, str]:
    """requirements 文件里的 {包名: 版本}（只认 name==version 的行）。"""
    lines = [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return dict(line.split("==", 1) for line in lines if "==" in line)


def build_student(output: Path) -> Path:
    """学生包：学生版（在内存里生成）和只有文字的概览页，按目录的顺序；没有带参考答案的原章。"""
    import nbformat
    import student

    exercises = set(student.toc_chapters())
    pages: list[tuple[str, bytes]] = []
    for path in chapters():
        if path in exercises:
            text = nbformat.writes(student.student_notebook(nbformat.read(path, as_version=4), path.name))
            pages.append((student.student_name(path), (text if text.endswith("\n") else text + "\n").encode("utf-8")))
        else:   # 分成小节的一章的章节页：只有文字，没有代码，也就没有答案
            pages.append((path.name, path.read_bytes()))
    import quiz     # 每章一份测验的学生版（tools/quiz.py），放在这一章最后一页的后面
    for number in quiz.existing():
        text = nbformat.writes(quiz.student_quiz(number))
        at = 1 + max((i for i, (name, _) in enumerate(pages) if name.startswith(f"{number:02d}")), default=len(pages) - 1)
        pages.insert(at, (quiz.student_name(number), (text if text.endswith("\n") else text + "\n").encode("utf-8")))
    versions = pins(STUDENT_REQUIREMENTS)
    text = readme(STUDENT_README, len(exercises), torch=versions["torch"], torchvision=versions["torchvision"])
    files = [("README.md", text.encode("utf-8")), *pages, *common_files(),
             ("requirements.txt", STUDENT_REQUIREMENTS.read_bytes())]
    return write_zip(output, STUDENT_TOP, files)


def write_zip(output: Path, top: str, files: list[tuple[str, bytes]]) -> Path:
    """内容相同时字节也相同：固定的时间戳、权限和顺序；先写临时文件，完整后再换名。"""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in files:
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=TIMESTAMP)
            info.external_attr = 0o644 << 16
            # 压缩包本来就是压缩过的，原样存入
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", action="store_true",
                        help="学生包：学生版、数据、只含运行所需的依赖，不含参考答案（make student-bundle）")
    parser.add_argument("--output", type=Path, help=f"默认 {DEFAULT.relative_to(ROOT)}，--student 时 "
                                                    f"{STUDENT_DEFAULT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.student:
        output = build_student(args.output or STUDENT_DEFAULT)
    else:
        output = build(args.output or DEFAULT)
    size = output.stat().st_size
    with zipfile.ZipFile(output) as zf:
        count = len(zf.namelist())
    print(f"{output}: {count} 个文件，{size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
