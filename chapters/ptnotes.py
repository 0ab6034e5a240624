"""PyTorch 实战笔记：课程的公共代码（全课程只有这一份）。

章节笔记本只从这里取数据，三种打开方式都不用改代码：

* 仓库克隆（离线）：数据是仓库自带的 ``data/*.tar.gz``。先核对 sha256，再解压到
  ``data/`` 下（解压结果被 git 忽略）。压缩包缺失或损坏时抛出 :class:`DataError`，
  告诉你怎么恢复，绝不悄悄换成别的数据。
* 在 ``chapters/`` 里启动 Jupyter：同上（本文件在 ``chapters/``，数据在 ``../data``）。
* Colab 只打开一个笔记本：笔记本的第一个代码单元先下载本文件，数据则从官方地址下载到
  当前目录的 ``data/``（蚂蚁/蜜蜂：download.pytorch.org；CIFAR-10：torchvision）。

环境变量 ``PTNOTES_HYMENOPTERA_URL`` 可以改掉蚂蚁/蜜蜂数据的下载地址（测试里指向
127.0.0.1 上的本地服务器）。
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from pathlib import Path

__all__ = ["DataError", "setup", "check_torch", "repo_data_dir", "hymenoptera", "cifar10", "cifar10_tensors",
           "CIFAR10_CLASSES"]

HYMENOPTERA_URL = "https://download.pytorch.org/tutorial/hymenoptera_data.zip"

# 仓库自带的压缩包：文件名 -> (sha256, 解压后的顶层目录, 解压后应有的文件数)
ARCHIVES = {
    "hymenoptera_data.tar.gz": (
        "e1fdc7988141f373eed4ae734602388203b8f30102c2a58044aa4055ed54f02b",
        "hymenoptera_data",
        398,
    ),
    "cifar10_jpg.tar.gz": (
        "942024ac2eda043498bc64452cf407950711a58b38343723d3edcd6a3de1a399",
        "cifar10_jpg",
        60000,
    ),
}

# 蚂蚁/蜜蜂数据集每个子目录的文件数（原版与仓库里缩小过的版本相同，含一个 GIF 占位图）
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

# 全课程需要的最低 PyTorch 版本（weights_only 默认开启、torch.export 等都从 2.6 起）
MIN_TORCH = "2.6"


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
    """数据缺失或损坏。信息里写明原因和修复办法。"""


def repo_data_dir() -> Path | None:
    """仓库克隆里的 ``data/`` 目录；单独打开笔记本（Colab）时返回 ``None``。"""
    data = Path(__file__).resolve().parent.parent / "data"
    return data if (data / "SHA256SUMS").is_file() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.name != _MARKER)


def _extract(archive: Path, dest: Path, top: str) -> Path:
    """把 tar.gz 或 zip 解压到 ``dest/top``：先解到临时目录，完整后再改名，中途失败不留半成品。"""
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
        else:
            raise DataError(f"{archive.name} 既不是 tar 也不是 zip 压缩包（文件损坏或下载不完整）。"
                            f"删掉它再运行一次。")
        if not (tmp / top).is_dir():
            raise DataError(f"{archive.name} 里没有 {top}/ 目录，不是本课程要的数据。")
        target = dest / top
        if target.exists():
            shutil.rmtree(target)
        (tmp / top).rename(target)
        return target
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
        raise DataError(f"解压 {archive.name} 失败：{type(e).__name__}: {e}。"
                        f"压缩包可能已损坏，删掉它再运行一次。") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _checked_archive(name: str) -> Path:
    """仓库自带的压缩包 ``data/<name>``，核对过 sha256；缺失或损坏时抛出 :class:`DataError`。"""
    data = repo_data_dir()
    expected_sha = ARCHIVES[name][0]
    archive = data / name
    if not archive.is_file():
        raise DataError(
            f"找不到 data/{name}。它随仓库一起提供（Missing course archive data/{name}）。\n"
            f"在仓库根目录运行 `git checkout -- data/{name}` 恢复；"
            f"若仓库不完整，请重新 git clone。")
    actual = _sha256(archive)
    if actual != expected_sha:
        raise DataError(
            f"data/{name} 已损坏：sha256 是 {actual}，应为 {expected_sha}"
            f"（Corrupted course archive data/{name}）。\n"
            f"在仓库根目录运行 `git checkout -- data/{name}` 恢复原文件。")
    return archive


def _from_repo(name: str) -> Path:
    """核对仓库自带的压缩包并解压（只在第一次或压缩包变化后解压）。"""
    archive = _checked_archive(name)
    expected_sha, top, n_files = ARCHIVES[name]
    folder = archive.parent / top
    marker = folder / _MARKER
    if not (marker.is_file() and marker.read_text() == expected_sha):
        folder = _extract(archive, archive.parent, top)
        found = _count_files(folder)
        if found != n_files:
            raise DataError(f"data/{name} 解压出 {found} 个文件，应为 {n_files}。")
        (folder / _MARKER).write_text(expected_sha)
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
    if repo_data_dir() is not None:
        return _check_hymenoptera(_from_repo("hymenoptera_data.tar.gz"))
    # 单独打开的笔记本（Colab）：从官方地址下载到 ./data
    dest = Path("data").resolve()
    folder = dest / "hymenoptera_data"
    if (folder / _MARKER).is_file():
        return _check_hymenoptera(folder)
    dest.mkdir(exist_ok=True)
    url = os.environ.get("PTNOTES_HYMENOPTERA_URL", HYMENOPTERA_URL)
    archive = dest / "hymenoptera_download"
    print(f"没有找到课程仓库的 data/ 目录，从 {url} 下载蚂蚁/蜜蜂数据集 ...")
    try:
        urllib.request.urlretrieve(url, archive)
    except OSError as e:
        raise DataError(f"下载 {url} 失败：{e}。请检查网络，或者克隆整个课程仓库（数据随仓库提供）。") from e
    try:
        folder = _check_hymenoptera(_extract(archive, dest, "hymenoptera_data"))
    finally:
        archive.unlink(missing_ok=True)
    (folder / _MARKER).write_text(url)
    return folder


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
    archive = _checked_archive(name)
    _, top, n_files = ARCHIVES[name]
    found: dict[str, list[tuple[str, str, bytes]]] = {"train": [], "test": []}
    try:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                if not member.isfile():
                    continue
                parts = member.name.split("/")
                if len(parts) != 4 or parts[0] != top or parts[1] not in found:
                    raise DataError(f"data/{name} 里有意外的文件 {member.name}：不是本课程的 CIFAR-10 压缩包。")
                found[parts[1]].append((parts[2], parts[3], tf.extractfile(member).read()))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise DataError(f"读取 data/{name} 失败：{type(e).__name__}: {e}。"
                        f"在仓库根目录运行 `git checkout -- data/{name}` 恢复原文件。") from e
    total = sum(len(v) for v in found.values())
    if total != n_files:
        raise DataError(f"data/{name} 里有 {total} 张图片，应为 {n_files}。")
    for split, items in found.items():
        classes = sorted({cls for cls, _, _ in items})
        if classes != CIFAR10_CLASSES:
            raise DataError(f"data/{name} 的 {split} 部分类别是 {classes}，与 CIFAR-10 不符。")
        items.sort(key=lambda item: (item[0], item[1]))
        _CIFAR10_CACHE[split] = ([data for _, _, data in items],
                                 [CIFAR10_CLASSES.index(cls) for cls, _, _ in items])
    return _CIFAR10_CACHE


def cifar10(train: bool = True, transform=None):
    """CIFAR-10 的训练集（``train=True``，50000 张）或测试集（10000 张），样本为 ``(PIL 图像, 标签)``。

    仓库克隆里直接读自带的压缩包（:class:`CIFAR10Archive`，不在磁盘上解压）；单独打开的笔记本用
    ``torchvision.datasets.CIFAR10(download=True)`` 下载官方版本。两者类别顺序相同。
    """
    if repo_data_dir() is None:
        from torchvision import datasets

        return datasets.CIFAR10("data", train=train, download=True, transform=transform)
    split = "train" if train else "test"
    jpegs, targets = _read_cifar10_archive()[split]
    return CIFAR10Archive(jpegs, targets, split, transform)


def cifar10_tensors(train: bool = True):
    """整个 CIFAR-10 训练集或测试集，一次解码成张量：``(images, labels)``。

    ``images`` 是 ``uint8`` 的 ``N×3×32×32``（0–255），``labels`` 是 ``int64`` 的 ``N``，样本顺序与
    :func:`cifar10` 相同。第一次调用时解码全部 JPEG 并缓存到 ``data/cifar10_<split>_uint8.pt``
    （仓库克隆里；Colab 里缓存在 ``./data``），以后直接读缓存。在 CPU 上训练时，
    用它在张量上做数据增强，比每个样本解码一次 JPEG 快得多。
    """
    import numpy as np
    import torch

    split = "train" if train else "test"
    data = repo_data_dir()
    if data is not None:
        key = ARCHIVES["cifar10_jpg.tar.gz"][0]
        cache = data / f"cifar10_{split}_uint8.pt"
    else:
        key = "torchvision-CIFAR10"
        cache = Path("data").resolve() / f"cifar10_{split}_uint8.pt"
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            if saved.get("source") == key:
                return saved["images"], saved["labels"]
        except Exception:  # 缓存损坏：下面重新解码
            pass
    if data is not None:
        from PIL import Image

        jpegs, targets = _read_cifar10_archive()[split]
        images = np.empty((len(jpegs), 32, 32, 3), dtype=np.uint8)
        for i, jpeg in enumerate(jpegs):
            with Image.open(io.BytesIO(jpeg)) as im:
                images[i] = np.asarray(im.convert("RGB"))
        labels = np.asarray(targets, dtype=np.int64)
    else:
        official = cifar10(train=train)
        images, labels = official.data, np.asarray(official.targets, dtype=np.int64)
    images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(labels)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    torch.save({"source": key, "images": images, "labels": labels}, tmp)
    tmp.replace(cache)
    return images, labels
