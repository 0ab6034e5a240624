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
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

__all__ = ["DataError", "repo_data_dir", "hymenoptera", "cifar10", "CIFAR10_CLASSES"]

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


def _from_repo(name: str) -> Path:
    """核对仓库自带的压缩包并解压（只在第一次或压缩包变化后解压）。"""
    data = repo_data_dir()
    expected_sha, top, n_files = ARCHIVES[name]
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
    folder = data / top
    marker = folder / _MARKER
    if not (marker.is_file() and marker.read_text() == expected_sha):
        folder = _extract(archive, data, top)
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


def cifar10(train: bool = True, transform=None):
    """CIFAR-10 的训练集（``train=True``，50000 张）或测试集（10000 张），样本为 ``(PIL 图像, 标签)``。

    仓库克隆里读自带的 JPEG 版本（``ImageFolder``）；单独打开的笔记本用
    ``torchvision.datasets.CIFAR10(download=True)`` 下载官方版本。两者类别顺序相同。
    """
    from torchvision import datasets

    if repo_data_dir() is None:
        return datasets.CIFAR10("data", train=train, download=True, transform=transform)
    folder = _from_repo("cifar10_jpg.tar.gz") / ("train" if train else "test")
    ds = datasets.ImageFolder(folder, transform=transform)
    if ds.classes != CIFAR10_CLASSES:
        raise DataError(f"{folder} 的类别 {ds.classes} 与 CIFAR-10 不符。")
    return ds
