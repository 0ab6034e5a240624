"""数据层 chapters/ptnotes.py：核对、解压、缺失与损坏时的报错、Colab 下的下载。"""

import hashlib
import re
import shutil
import tarfile
import zipfile

import pytest

from conftest import ROOT, load_ptnotes


def test_checksums_agree_everywhere():
    ptnotes = load_ptnotes(ROOT / "chapters")
    listed = dict(line.split()[::-1] for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines())
    for name, (sha, _, _) in ptnotes.ARCHIVES.items():
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


def standalone(tmp_path, monkeypatch):
    """像 Colab 一样：只有 ptnotes.py，没有仓库的 data/。"""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(ROOT / "chapters" / "ptnotes.py", folder / "ptnotes.py")
    monkeypatch.chdir(folder)
    ptnotes = load_ptnotes(folder)
    assert ptnotes.repo_data_dir() is None
    return folder, ptnotes


def test_standalone_downloads_the_official_zip_format(tmp_path, monkeypatch, http_server):
    base, served, requested = http_server
    # 官方发布的是 zip：用仓库里的 tar.gz 做一个同样结构的 zip
    with tarfile.open(ROOT / "data" / "hymenoptera_data.tar.gz") as tf, \
            zipfile.ZipFile(served / "hymenoptera_data.zip", "w") as zf:
        for member in tf.getmembers():
            if member.isfile():
                zf.writestr(member.name, tf.extractfile(member).read())
    monkeypatch.setenv("PTNOTES_HYMENOPTERA_URL", f"{base}/hymenoptera_data.zip")
    folder, ptnotes = standalone(tmp_path, monkeypatch)
    root = ptnotes.hymenoptera()
    assert root == folder / "data" / "hymenoptera_data"
    assert len(list((root / "train" / "bees").iterdir())) == 121
    assert requested == ["/hymenoptera_data.zip"]
    # 已下载过就不再下载
    ptnotes.hymenoptera()
    assert requested == ["/hymenoptera_data.zip"]
    assert not (folder / "data" / "hymenoptera_download").exists()


def test_standalone_download_failure_is_clear(tmp_path, monkeypatch, http_server):
    base, _, _ = http_server
    monkeypatch.setenv("PTNOTES_HYMENOPTERA_URL", f"{base}/no-such-file.zip")
    folder, ptnotes = standalone(tmp_path, monkeypatch)
    with pytest.raises(ptnotes.DataError, match="下载 .*no-such-file.zip 失败"):
        ptnotes.hymenoptera()
    assert not (folder / "data" / "hymenoptera_data").exists()


def test_standalone_download_of_garbage_is_refused(tmp_path, monkeypatch, http_server):
    base, served, _ = http_server
    (served / "broken.zip").write_bytes(b"<html>not an archive</html>")
    monkeypatch.setenv("PTNOTES_HYMENOPTERA_URL", f"{base}/broken.zip")
    folder, ptnotes = standalone(tmp_path, monkeypatch)
    with pytest.raises(ptnotes.DataError, match="既不是 tar 也不是 zip"):
        ptnotes.hymenoptera()
    assert not (folder / "data" / "hymenoptera_data").exists()


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
    monkeypatch.setattr(torch, "__version__", "2.3.1+cu121")
    with pytest.raises(RuntimeError, match=r"需要 PyTorch 2\.6 或更新的版本，当前是 2\.3\.1"):
        ptnotes.setup()
