"""每一章都能单独运行：像 Colab 那样，一个笔记本被复制到空目录里，公共代码和数据都从课程仓库下载。

“课程仓库”是 127.0.0.1 上的本地服务器，按 raw.githubusercontent.com 的路径提供仓库里 ptnotes.py 和
数据压缩包的副本；笔记本通过 PTNOTES_PY_URL / PTNOTES_DATA_URL 找到它（与 Colab 里的默认地址只差这两个变量），
别的网络请求一律失败（代理指向关着的端口）。每章用 make test-notebooks（nbval，和 make test 相同的清洗规则和
数值配置）严格比对存下的输出：单独打开时看到的就是网站上的输出。内核里能导入一个 google.colab 替身，并且
像在 Colab 里一样启动时就已导入，这样“以为自己不在 Colab 里”的代码也会被测到。

整章运行的测试标记为 alone（make test-alone，约 10 分钟）；引导代码的测试很快，在 make test-unit 里。
只跑一章：.venv/bin/python -m pytest tests/test_alone.py -m alone -k 05_transforms
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, gpu_page, has_code, load_tool, toc_entries
from webserver import RAW, closed_url, offline_env, serve

CHAPTERS = [ROOT / f"{entry}.ipynb" for entry in toc_entries() if entry.startswith("chapters/")]
# GPU 上记录的页面不用 nbval 比对（tests/test_gpu.py 在 CPU 上冒烟运行它们）；单独运行比对的是其余各页
GPU_PAGES = [p for p in CHAPTERS if gpu_page(p)]
# 分成小节的一章的章节页（如 02_tensors）只有文字，没有可运行的内容，不在这两组里
COMPARED = [p for p in CHAPTERS if p not in GPU_PAGES and has_code(p)]


def slowest_first(pages):
    """make test 在两个进程里运行这些页（pytest-xdist）：最慢的几页（教师页记下的秒数，appendix/run_times.json）先开始，
    快的小页填在后面，两个进程差不多同时结束。没有记录的页当作很慢，也排在前面。"""
    times = json.loads((ROOT / "appendix" / "run_times.json").read_text(encoding="utf-8"))["chapters"]
    return sorted(pages, key=lambda p: -times.get(p.stem, {}).get("seconds", 1e9))
SECONDS: dict[str, float] = {}




bootstrap = load_tool("bootstrap")
PUBLISHED = bootstrap.raw_base().removeprefix(RAW)  # 如 /ptnotes/pytorch-shizhan-biji/main
PTNOTES = (ROOT / "chapters" / "ptnotes.py").read_bytes()
VERSION = bootstrap.ptnotes_version()


# ---- 引导代码（每章准备单元的开头）----

def test_every_chapter_starts_with_the_current_bootstrap():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "bootstrap.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    code = bootstrap.bootstrap_code()
    for path in CHAPTERS:
        first = next((c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"), None)
        if first is None:                  # 分成小节的一章的章节页只有文字
            continue
        assert first.source.startswith(code + "\n"), path.name


def test_contributing_shows_the_same_bootstrap():
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    snippet = guide.split("```python\n", 1)[1].split("```", 1)[0].rstrip("\n").split("\n")
    code = bootstrap.bootstrap_code().split("\n")
    assert snippet[0] == "import " + ", ".join(line.removeprefix("import ") for line in bootstrap.IMPORTS)
    assert snippet[1:] == code[len(bootstrap.IMPORTS):]


def test_rewrite_is_idempotent_and_keeps_the_chapter_imports():
    old = ('import os\nimport pathlib\nimport urllib.request\n\n# 旧的引导代码\n'
           'PTNOTES_URL = "https://example.org/ptnotes.py"\nif not pathlib.Path("ptnotes.py").exists():\n'
           '    urllib.request.urlretrieve(PTNOTES_URL, "ptnotes.py")\nimport ptnotes\n\n'
           'import sys\nimport warnings\n\nimport torch\n\nptnotes.setup()')
    code = bootstrap.bootstrap_code()
    new = bootstrap.rewrite(old, code)
    assert new == code + "\n\nimport warnings\n\nimport torch\n\nptnotes.setup()"
    assert bootstrap.rewrite(new, code) == new
    with pytest.raises(ValueError):
        bootstrap.rewrite("print('no setup here')", code)


def run_bootstrap(folder, py_url, before=""):
    """在 folder 里用一个新的 Python 进程执行引导代码，再打印 ptnotes.VERSION。"""
    code = before + bootstrap.bootstrap_code() + "\nprint(ptnotes.VERSION)\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PTNOTES_PY_URL"] = py_url
    return subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def repo_site():
    with serve() as site:
        site.add(f"{PUBLISHED}/chapters/ptnotes.py", PTNOTES)
        yield site


def stale_copies():
    text = PTNOTES.decode()
    body = text.rstrip().rsplit("\n", 1)[0] + "\n"
    return {
        "older version": body + "VERSION = 1\n",
        "no VERSION line (old or cut at a line end)": body,
        "cut in the middle": text[: len(text) // 2],
        "empty": "",
    }


@pytest.mark.parametrize("kind", ["missing", *stale_copies()])
def test_bootstrap_fetches_a_missing_or_stale_ptnotes(tmp_path, repo_site, kind):
    if kind != "missing":
        (tmp_path / "ptnotes.py").write_text(stale_copies()[kind], encoding="utf-8")
    result = run_bootstrap(tmp_path, repo_site.url + f"{PUBLISHED}/chapters/ptnotes.py")
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == (f"{VERSION}\n", "")  # 引导代码自己不打印任何东西
    assert (tmp_path / "ptnotes.py").read_bytes() == PTNOTES
    assert repo_site.requests == [(f"{PUBLISHED}/chapters/ptnotes.py", 200)]


def test_bootstrap_replaces_a_stale_module_already_imported(tmp_path, repo_site):
    """同一个内核里先导入过旧版本（比如上一次打开时），重新运行准备单元也会换成新的。"""
    (tmp_path / "ptnotes.py").write_text(stale_copies()["older version"], encoding="utf-8")
    result = run_bootstrap(tmp_path, repo_site.url + f"{PUBLISHED}/chapters/ptnotes.py",
                           before="import ptnotes\nassert ptnotes.VERSION == 1\n")
    assert result.stdout == f"{VERSION}\n", result.stderr


@pytest.mark.parametrize("version", [VERSION, VERSION + 1])
def test_bootstrap_keeps_a_good_copy_offline(tmp_path, version):
    text = PTNOTES.decode().rstrip().rsplit("\n", 1)[0] + f"\nVERSION = {version}\n"
    (tmp_path / "ptnotes.py").write_text(text, encoding="utf-8")
    result = run_bootstrap(tmp_path, closed_url() + "/ptnotes.py")
    assert result.stdout == f"{version}\n", result.stderr
    assert (tmp_path / "ptnotes.py").read_text(encoding="utf-8") == text


def test_bootstrap_in_the_repo_uses_the_repo_copy():
    result = run_bootstrap(ROOT / "chapters", closed_url() + "/ptnotes.py")
    assert result.stdout == f"{VERSION}\n", result.stderr


def test_failed_bootstrap_download_leaves_no_half_file(tmp_path, repo_site):
    url = repo_site.url + f"{PUBLISHED}/chapters/ptnotes.py"
    missing = run_bootstrap(tmp_path, url + ".404")
    assert missing.returncode != 0 and "HTTP Error 404" in missing.stderr
    assert not (tmp_path / "ptnotes.py").exists()
    # 下载到一半断开：旧文件原样保留，下次重新运行时再下载
    repo_site.add(f"{PUBLISHED}/chapters/cut.py", PTNOTES, truncate=True)
    stale = stale_copies()["older version"]
    (tmp_path / "ptnotes.py").write_text(stale, encoding="utf-8")
    cut = run_bootstrap(tmp_path, repo_site.url + f"{PUBLISHED}/chapters/cut.py")
    assert cut.returncode != 0 and "IncompleteRead" in cut.stderr
    assert (tmp_path / "ptnotes.py").read_text(encoding="utf-8") == stale


# ---- 整章单独运行 ----

@pytest.fixture(scope="module")
def published():
    """127.0.0.1 上的“已发布课程仓库”：仓库里 ptnotes.py 和数据压缩包的副本，路径与 raw.githubusercontent.com 相同。"""
    with serve() as site:
        site.add(f"{PUBLISHED}/chapters/ptnotes.py", PTNOTES)
        for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines():
            name = line.split()[1]
            site.add(f"{PUBLISHED}/data/{name}", (ROOT / "data" / name).read_bytes())
        yield site


@pytest.fixture(scope="module")
def colab_stub(tmp_path_factory):
    """一个能导入的 google.colab 替身（PYTHONPATH），内核启动时就导入它（IPYTHONDIR 的 startup），像 Colab。"""
    folder = tmp_path_factory.mktemp("colab_stub")
    package = folder / "site" / "google" / "colab"  # google/ 下不放 __init__.py：它和 protobuf 共用 google 命名空间
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""测试用的 google.colab 替身：只证明代码在“Colab 里”也走得通。"""\n')
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-google-colab.py").write_text("import google.colab  # noqa: F401\n")
    return folder


def alone_env(site, stub):
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env = offline_env(env)
    env["PTNOTES_PY_URL"] = f"{site.url}{PUBLISHED}/chapters/ptnotes.py"
    env["PTNOTES_DATA_URL"] = f"{site.url}{PUBLISHED}/data"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(stub / "site"), os.environ.get("PYTHONPATH")) if p)
    env["IPYTHONDIR"] = str(stub / "ipython")
    return env


def nbval_alone(notebook: Path, workdir: Path, env) -> tuple[subprocess.CompletedProcess, float]:
    """把 notebook 单独复制到空目录 workdir，用 make test-notebooks 运行并比对；返回结果和秒数。"""
    workdir.mkdir()
    shutil.copy(notebook, workdir / notebook.name)
    start = time.perf_counter()
    result = subprocess.run(["make", "--no-print-directory", "test-notebooks", f"NB={workdir / notebook.name}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    return result, time.perf_counter() - start


def report(request, line):
    """直接写到终端（不被 pytest 的输出捕获吞掉）。make test 用 pytest-xdist 并行运行时，工作进程没有终端，
    这一行写到标准错误（xdist 不显示它；每页的秒数仍记在 _build/nbval_seconds.json 里）。"""
    plugins = request.config.pluginmanager
    terminal, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if terminal is None or capture is None or hasattr(request.config, "workerinput"):
        print(line, file=sys.__stderr__)
        return
    with capture.global_and_fixture_disabled():
        terminal.write_line(line)


@pytest.fixture(scope="module")
def seconds_table(request):
    yield SECONDS
    if SECONDS:
        report(request, "\nseconds per chapter, run alone (make test-notebooks in an empty folder):")
        for name, seconds in SECONDS.items():
            report(request, f"{seconds:7.1f} s  {name}")
        report(request, f"{sum(SECONDS.values()):7.1f} s  total")


@pytest.mark.alone
def test_colab_stub_is_imported_when_the_kernel_starts(tmp_path, published, colab_stub):
    probe = nbformat.v4.new_notebook()
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(
        'import sys\nprint("google.colab" in sys.modules)\nimport google.protobuf\nprint("protobuf ok")',
        execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="True\nprotobuf ok\n")]
    probe.cells = [cell]
    nbformat.write(probe, tmp_path / "probe.ipynb")
    result, _ = nbval_alone(tmp_path / "probe.ipynb", tmp_path / "content", alone_env(published, colab_stub))
    assert result.returncode == 0, result.stdout[-3000:]


ALL_DOWNLOADS = [f"{PUBLISHED}/chapters/ptnotes.py", f"{PUBLISHED}/data/hymenoptera_data.tar.gz",
                 f"{PUBLISHED}/data/cifar10_jpg.tar.gz"]


def downloads_needed(notebook):
    code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    paths = [f"{PUBLISHED}/chapters/ptnotes.py"]
    if "ptnotes.hymenoptera(" in code:
        paths.append(f"{PUBLISHED}/data/hymenoptera_data.tar.gz")
    if re.search(r"ptnotes\.cifar10(_tensors)?\(", code):
        paths.append(f"{PUBLISHED}/data/cifar10_jpg.tar.gz")
    return sorted(paths)


@pytest.mark.alone
@pytest.mark.parametrize("notebook", GPU_PAGES, ids=lambda p: p.stem)
def test_gpu_page_alone_runs_top_to_bottom(notebook, tmp_path, published, colab_stub, request):
    """GPU 上记录的页面单独放进空目录（像在 Colab 里），在这台没有 GPU 的机器上按缩小的规模从头运行到尾，
    隐藏的检查也运行；输出不比对（它们来自 GPU）。引导代码和数据同样从“课程仓库”下载。"""
    published.requests.clear()
    workdir = tmp_path / "content"
    workdir.mkdir()
    shutil.copy(notebook, workdir / notebook.name)
    env = alone_env(published, colab_stub)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "nbexec.py"), notebook.name, "--json", "result.json"],
                            cwd=workdir, env=env, capture_output=True, text=True, timeout=1200)
    report(request, f"  {notebook.name} alone (CPU, smoke scale): {time.perf_counter() - start:.1f} s")
    assert result.returncode == 0, result.stderr[-4000:]
    assert sorted(published.requests) == [(path, 200) for path in downloads_needed(notebook)]


@pytest.mark.alone
@pytest.mark.parametrize("notebook", slowest_first(COMPARED), ids=lambda p: p.stem)
def test_chapter_alone_shows_the_stored_outputs(notebook, tmp_path, published, colab_stub, seconds_table, request):
    published.requests.clear()
    workdir = tmp_path / "content"
    env = alone_env(published, colab_stub)
    env["PTNOTES_RECORD_AS"] = f"chapters/{notebook.name}"   # conftest.py 把秒数记在这一章名下（教师页的运行时间）
    result, seconds = nbval_alone(notebook, workdir, env)
    seconds_table[notebook.name] = seconds
    report(request, f"  {notebook.name} alone: {seconds:.1f} s")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # 从“课程仓库”下载的正是本章要用的文件，每个一次，没有 404
    # 从“课程仓库”下载的：每个文件一次、没有 404；本章代码里直接点名的数据都在其中，其余的只能是课程的数据压缩包
    # （ptnotes 里的小工具，如 hymenoptera_folder、load_rgb，也会去取蚂蚁/蜜蜂数据）
    paths = [path for path, _ in published.requests]
    assert all(status == 200 for _, status in published.requests) and len(paths) == len(set(paths)), published.requests
    assert set(downloads_needed(notebook)) <= set(paths) <= set(ALL_DOWNLOADS), published.requests
    assert (workdir / "ptnotes.py").read_bytes() == PTNOTES


# ---- 不能联网时的第一个单元 ----

def first_cell_alone(tmp_path, url):
    """只有 2.1 节的准备单元、旁边没有 ptnotes.py 的笔记本，用 nbexec 运行；返回 (结果, 秒数)。"""
    nb = nbformat.read(ROOT / "chapters" / "02a_create.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    probe = nbformat.v4.new_notebook()
    probe.cells = [nbformat.v4.new_code_cell(first.source), nbformat.v4.new_code_cell("print('after')")]
    nbformat.write(probe, tmp_path / "alone.ipynb")
    env = offline_env({k: v for k, v in os.environ.items() if not k.startswith("PTNOTES_")})
    env["PTNOTES_PY_URL"] = url
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "nbexec.py"), "alone.ipynb", "--json", "r.json",
                    "--record", "out.ipynb"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - start
    return json.loads((tmp_path / "r.json").read_text(encoding="utf-8")), seconds


def check_offline_message(result, url):
    assert not result["ok"] and result["cell"] == 0
    assert result["error"].startswith("RuntimeError: 下载不到课程的公共代码 ptnotes.py"), result["error"]
    assert url in result["error"]
    assert "urllib" not in result["traceback"].replace("urllib.request.urlopen(url", ""), result["traceback"]
    assert "PTNOTES_PY_URL" in result["traceback"] and "离线包" in result["traceback"]


def test_first_cell_offline_stops_at_once_with_a_chinese_message(tmp_path):
    url = closed_url() + "/chapters/ptnotes.py"
    result, seconds = first_cell_alone(tmp_path, url)
    check_offline_message(result, url)
    assert seconds < 15, seconds
    assert not (tmp_path / "ptnotes.py").exists()


def test_first_cell_gives_up_after_15_seconds_when_nothing_answers(tmp_path):
    """防火墙把包丢掉、服务器不回答时：连接建立了但等不到数据，15 秒后停下。"""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)                      # 接受连接（由内核完成握手），但从不回答
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/chapters/ptnotes.py"
        result, seconds = first_cell_alone(tmp_path, url)
    check_offline_message(result, url)
    assert 14 < seconds < 30, seconds
