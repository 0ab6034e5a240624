"""数据层 chapters/ptnotes.py：核对、解压、缺失与损坏时的报错，以及单独打开笔记本（Colab）时从课程仓库下载。"""

import ast
import hashlib
import re
import shutil
import tarfile
import traceback

import pytest
import yaml

from conftest import ROOT, load_ptnotes
from webserver import closed_url, serve


def test_checksums_agree_everywhere():
    ptnotes = load_ptnotes(ROOT / "chapters")
    listed = dict(line.split()[::-1] for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines())
    assert set(listed) == set(ptnotes.ARCHIVES)
    for name, (sha, _, _, _) in ptnotes.ARCHIVES.items():
        assert listed[name] == sha
        assert hashlib.sha256((ROOT / "data" / name).read_bytes()).hexdigest() == sha
        assert sha in (ROOT / "data" / "README.md").read_text(encoding="utf-8")


def test_repo_archive_is_verified_and_extracted(fake_repo):
    ptnotes = load_ptnotes(fake_repo / "chapters")
    root = ptnotes.hymenoptera()
    assert root == fake_repo / "data" / "hymenoptera_data"
    assert len(list((root / "val" / "bees").iterdir())) == 83
    assert (root / "train" / "ants" / "imageNotFound.gif").is_file()
    # 第二次调用不再解压，直接返回同一个目录
    (root / "train" / "ants" / "0013035.jpg").touch()
    assert ptnotes.hymenoptera() == root


def test_missing_archive_says_how_to_restore(fake_repo):
    (fake_repo / "data" / "hymenoptera_data.tar.gz").unlink()
    ptnotes = load_ptnotes(fake_repo / "chapters")
    with pytest.raises(ptnotes.DataError, match=r"找不到 data/hymenoptera_data\.tar\.gz") as err:
        ptnotes.hymenoptera()
    assert "git checkout -- data/hymenoptera_data.tar.gz" in str(err.value)
    assert not (fake_repo / "data" / "hymenoptera_data").exists()


def corrupt(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupted_archive_is_refused(fake_repo):
    corrupt(fake_repo / "data" / "hymenoptera_data.tar.gz")
    ptnotes = load_ptnotes(fake_repo / "chapters")
    with pytest.raises(ptnotes.DataError, match="已损坏") as err:
        ptnotes.hymenoptera()
    message = str(err.value)
    assert re.search(r"sha256 是 [0-9a-f]{64}，应为 e1fdc798", message)
    assert "git checkout -- data/hymenoptera_data.tar.gz" in message
    assert not (fake_repo / "data" / "hymenoptera_data").exists()


def test_corruption_after_extraction_is_still_caught(fake_repo):
    ptnotes = load_ptnotes(fake_repo / "chapters")
    ptnotes.hymenoptera()
    corrupt(fake_repo / "data" / "hymenoptera_data.tar.gz")
    with pytest.raises(ptnotes.DataError, match="已损坏"):
        ptnotes.hymenoptera()


def test_incomplete_extracted_folder_is_caught(fake_repo):
    ptnotes = load_ptnotes(fake_repo / "chapters")
    root = ptnotes.hymenoptera()
    next((root / "val" / "ants").iterdir()).unlink()
    with pytest.raises(ptnotes.DataError, match="val/ants 里有 69 个文件，应为 70"):
        ptnotes.hymenoptera()


# ---- 单独打开笔记本（Colab、离线包）：数据在 ptnotes.py 旁边的 data/ 里，没有时从课程仓库下载 ----

@pytest.fixture
def site():
    with serve() as site:
        yield site


def publish(site, *names):
    """把仓库 data/ 里的压缩包原样放到本地网站的 /data/ 下（像已发布的课程仓库）；返回 data 的地址。"""
    for name in names:
        site.add(f"/data/{name}", (ROOT / "data" / name).read_bytes())
    return f"{site.url}/data"


def standalone(tmp_path, monkeypatch, data_url):
    """像 Colab 一样：空目录里只有 ptnotes.py，没有仓库的 data/；压缩包从 data_url 下载。"""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(ROOT / "chapters" / "ptnotes.py", folder / "ptnotes.py")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PTNOTES_DATA_URL", data_url)
    ptnotes = load_ptnotes(folder)
    assert ptnotes.repo_data_dir() is None
    assert ptnotes.data_dir() == folder / "data"
    return folder, ptnotes


def test_download_address_is_the_published_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    repo = config["url"].removeprefix("https://github.com/")
    ptnotes = load_ptnotes(ROOT / "chapters")
    assert ptnotes.DATA_URL == f"https://raw.githubusercontent.com/{repo}/{config['branch']}/data"
    # data/README.md 写明下载地址，并把官方来源只当作来源说明
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"{ptnotes.DATA_URL}/<文件名>" in readme
    assert "https://download.pytorch.org/tutorial/hymenoptera_data.zip" in readme and "来源说明" in readme


def test_version_is_the_last_line():
    """准备单元靠最后一行的 VERSION 判断 ptnotes.py 完整且够新（tools/bootstrap.py）。"""
    source = (ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8")
    last = ast.parse(source).body[-1]
    assert isinstance(last, ast.Assign) and [t.id for t in last.targets] == ["VERSION"]
    assert source.rstrip().splitlines()[-1] == f"VERSION = {last.value.value}"
    assert load_ptnotes(ROOT / "chapters").VERSION == last.value.value >= 2


def test_standalone_downloads_the_course_archive(tmp_path, monkeypatch, site):
    folder, ptnotes = standalone(tmp_path, monkeypatch, publish(site, "hymenoptera_data.tar.gz"))
    root = ptnotes.hymenoptera()
    assert root == folder / "data" / "hymenoptera_data"
    assert site.requests == [("/data/hymenoptera_data.tar.gz", 200)]
    # 与仓库里的数据逐字节相同：网站上的图片就是这些图片
    with tarfile.open(ROOT / "data" / "hymenoptera_data.tar.gz") as tf:
        members = [m for m in tf.getmembers() if m.isfile()]
        assert len(members) == 398
        for member in members:
            assert (folder / "data" / member.name).read_bytes() == tf.extractfile(member).read(), member.name
    # 已下载过就不再下载；压缩包留在 data/ 里（离线也能再用），没有下载到一半的文件
    ptnotes.hymenoptera()
    assert len(site.requests) == 1
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["hymenoptera_data", "hymenoptera_data.tar.gz"]


def test_standalone_cifar10_is_the_repo_cifar10(tmp_path, monkeypatch, site):
    """单独打开时的 CIFAR-10 与仓库里的是同一份：同样的图片、同样的顺序。"""
    import torch

    folder, ptnotes = standalone(tmp_path, monkeypatch, publish(site, "cifar10_jpg.tar.gz"))
    alone = ptnotes.cifar10(train=False)
    repo = load_ptnotes(ROOT / "chapters").cifar10(train=False)
    assert alone.targets == repo.targets and alone.jpegs == repo.jpegs
    images, labels = ptnotes.cifar10_tensors(train=False)
    assert images.shape == (10000, 3, 32, 32) and torch.equal(labels, torch.tensor(repo.targets))
    assert (folder / "data" / "cifar10_test_uint8.pt").is_file()
    assert site.requests == [("/data/cifar10_jpg.tar.gz", 200)]


def test_offline_with_the_archive_next_to_ptnotes(tmp_path, monkeypatch):
    """离线包：压缩包已经在 ptnotes.py 旁边的 data/ 里，不联网也能用。"""
    folder, ptnotes = standalone(tmp_path, monkeypatch, closed_url())
    (folder / "data").mkdir()
    shutil.copy(ROOT / "data" / "hymenoptera_data.tar.gz", folder / "data")
    assert ptnotes.hymenoptera() == folder / "data" / "hymenoptera_data"


def test_wrong_local_archive_is_downloaded_again(tmp_path, monkeypatch, site):
    folder, ptnotes = standalone(tmp_path, monkeypatch, publish(site, "hymenoptera_data.tar.gz"))
    (folder / "data").mkdir()
    shutil.copy(ROOT / "data" / "hymenoptera_data.tar.gz", folder / "data")
    corrupt(folder / "data" / "hymenoptera_data.tar.gz")
    ptnotes.hymenoptera()
    assert site.requests == [("/data/hymenoptera_data.tar.gz", 200)]
    sha = ptnotes.ARCHIVES["hymenoptera_data.tar.gz"].sha256
    assert hashlib.sha256((folder / "data" / "hymenoptera_data.tar.gz").read_bytes()).hexdigest() == sha


def test_folder_from_an_older_ptnotes_is_replaced(tmp_path, monkeypatch, site):
    """旧版 ptnotes 在 Colab 里解压的是官方 zip（原尺寸照片）：标记不同，换成课程的数据。"""
    folder, ptnotes = standalone(tmp_path, monkeypatch, publish(site, "hymenoptera_data.tar.gz"))
    old = folder / "data" / "hymenoptera_data"
    (old / "train" / "ants").mkdir(parents=True)
    (old / "train" / "ants" / "0013035.jpg").write_bytes(b"full-size photo")
    (old / ".ptnotes-complete").write_text("https://download.pytorch.org/tutorial/hymenoptera_data.zip")
    root = ptnotes.hymenoptera()
    assert (root / "train" / "ants" / "0013035.jpg").read_bytes() != b"full-size photo"
    assert (root / ".ptnotes-complete").read_text() == ptnotes.ARCHIVES["hymenoptera_data.tar.gz"].sha256


def break_download(kind, site, name):
    """按 kind 弄坏 site 上的 name，返回 data 的地址和报错里应有的原因。"""
    data = (ROOT / "data" / name).read_bytes()
    path = f"/data/{name}"
    if kind == "no server":
        return closed_url() + "/data", "连不上服务器"
    if kind == "404":
        return site.url + "/data", "HTTP 404"
    if kind == "truncated":
        site.add(path, data, truncate=True)
        return site.url + "/data", f"下载不完整：只收到 {len(data) // 2} 字节，应为 {len(data)} 字节"
    if kind == "corrupt":
        broken = bytearray(data)
        broken[len(broken) // 2] ^= 0xFF
        site.add(path, bytes(broken))
        return site.url + "/data", "sha256 是"
    if kind == "web page":  # 例如被代理或门户页面换掉
        site.add(path, b"<html>Please log in</html>")
        return site.url + "/data", "（26 字节）sha256 是"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["no server", "404", "truncated", "corrupt", "web page"])
@pytest.mark.parametrize("name", ["hymenoptera_data.tar.gz", "cifar10_jpg.tar.gz"])
def test_failed_download_is_one_clear_data_error(tmp_path, monkeypatch, site, name, kind):
    data_url, reason = break_download(kind, site, name)
    folder, ptnotes = standalone(tmp_path, monkeypatch, data_url)
    load = ptnotes.hymenoptera if name.startswith("hymenoptera") else ptnotes.cifar10
    with pytest.raises(ptnotes.DataError) as err:
        load()
    message = str(err.value)
    # 说清楚是哪个数据集、哪个地址、为什么、怎么办
    assert message.startswith(f"{ptnotes.ARCHIVES[name].title}下载失败：")
    assert reason in message
    assert f"\n地址：{data_url}/{name}\n" in message
    assert "请检查网络后重新运行这个单元" in message and f"放进 {folder / 'data'}/ 再运行" in message
    # 只有这一条错误：不附带 urllib 内部的调用链
    assert err.value.__cause__ is None and err.value.__context__ is None
    frames = traceback.extract_tb(err.value.__traceback__)
    assert len(frames) <= 6 and not [f for f in frames if "urllib" in f.filename or "http" in f.filename]
    # 没有留下半成品
    assert list((folder / "data").iterdir()) == []


def test_cifar10_from_the_repo():
    ptnotes = load_ptnotes(ROOT / "chapters")
    test = ptnotes.cifar10(train=False)
    assert len(test) == 10000
    assert test.classes == ptnotes.CIFAR10_CLASSES
    image, label = test[0]
    assert image.size == (32, 32) and label == 0
    assert len(ptnotes.cifar10(train=True)) == 50000


@pytest.fixture
def cifar_repo(fake_repo):
    shutil.copy(ROOT / "data" / "cifar10_jpg.tar.gz", fake_repo / "data")
    return fake_repo


def test_cifar10_is_read_from_the_archive_in_imagefolder_order(cifar_repo, tmp_path):
    """不解压成文件，但样本和顺序与 ImageFolder 读解压后的目录完全相同。"""
    import numpy as np
    from torchvision import datasets

    ptnotes = load_ptnotes(cifar_repo / "chapters")
    test = ptnotes.cifar10(train=False)
    assert sorted(p.name for p in (cifar_repo / "data").iterdir()) == [
        "SHA256SUMS", "cifar10_jpg.tar.gz", "hymenoptera_data.tar.gz"]
    out = tmp_path / "extracted"
    with tarfile.open(cifar_repo / "data" / "cifar10_jpg.tar.gz") as tf:
        tf.extractall(out, members=[m for m in tf.getmembers() if m.name.startswith("cifar10_jpg/test")],
                      filter="data")
    folder = datasets.ImageFolder(out / "cifar10_jpg" / "test")
    assert folder.classes == test.classes and folder.targets == test.targets
    for i in (0, 1, 999, 1000, 4321, 9999):
        assert np.array_equal(np.asarray(folder[i][0]), np.asarray(test[i][0])), i


def test_cifar10_tensors_decoded_once_and_cached(cifar_repo):
    import numpy as np
    import torch

    ptnotes = load_ptnotes(cifar_repo / "chapters")
    images, labels = ptnotes.cifar10_tensors(train=False)
    assert images.shape == (10000, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and labels.bincount().tolist() == [1000] * 10
    test = ptnotes.cifar10(train=False)
    for i in (0, 5000, 9999):
        image, label = test[i]
        assert np.array_equal(np.asarray(image), images[i].permute(1, 2, 0).numpy()) and label == labels[i]
    cache = cifar_repo / "data" / "cifar10_test_uint8.pt"
    assert cache.is_file()
    # 第二次读缓存：缓存里换了内容就会读到换过的内容（证明没有重新解码）
    saved = torch.load(cache, weights_only=True)
    saved["labels"] = saved["labels"].flip(0)
    torch.save(saved, cache)
    assert torch.equal(ptnotes.cifar10_tensors(train=False)[1], labels.flip(0))
    # 损坏的缓存被重新生成
    cache.write_bytes(b"garbage")
    again, again_labels = ptnotes.cifar10_tensors(train=False)
    assert torch.equal(again, images) and torch.equal(again_labels, labels)


def test_corrupted_cifar10_archive_is_refused(cifar_repo):
    corrupt(cifar_repo / "data" / "cifar10_jpg.tar.gz")
    ptnotes = load_ptnotes(cifar_repo / "chapters")
    with pytest.raises(ptnotes.DataError, match="已损坏") as err:
        ptnotes.cifar10(train=False)
    assert "git checkout -- data/cifar10_jpg.tar.gz" in str(err.value)
    with pytest.raises(ptnotes.DataError, match="已损坏"):
        ptnotes.cifar10_tensors(train=True)


def test_missing_cifar10_archive_says_how_to_restore(fake_repo):
    ptnotes = load_ptnotes(fake_repo / "chapters")
    with pytest.raises(ptnotes.DataError, match=r"找不到 data/cifar10_jpg\.tar\.gz"):
        ptnotes.cifar10(train=True)


def test_setup_checks_the_minimum_torch_and_seeds(monkeypatch):
    import random

    import numpy as np
    import torch

    ptnotes = load_ptnotes(ROOT / "chapters")
    ptnotes.setup(seed=3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    ptnotes.setup(seed=3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    monkeypatch.setattr(torch, "__version__", "2.10.1+cu121")
    with pytest.raises(RuntimeError, match=r"需要 PyTorch 2\.11 或更新的版本，当前是 2\.10\.1"):
        ptnotes.setup()
