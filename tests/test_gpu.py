"""GPU 的部分（CI 里没有 GPU）：`make gpu` 的工具（tools/gpu_run.py、tools/nbexec.py、tools/gpu_report.py）、
在 GPU 上记录的两页（元数据 ptnotes.gpu_page）和 appendix/gpu_runs.json 里的运行记录。

* GPU 页的输出来自 GPU，nbval 不比对它们（conftest.py 跳过），这里检查它们确实是在 CUDA 上、由现在的代码记录的；
* `gpu_run.py --dry` 在没有 GPU 的机器上把 GPU 页按缩小的规模从头运行一遍（CPU 上的冒烟测试），再检查记录的格式；
* nbexec 这个不依赖 Jupyter 的执行器，运行一章得到的输出与 Jupyter 内核（存下的输出）相同；
* 正文对 GPU 运行结果的说法（第 14.10 节的准确率和训练时间）与记录相符。
"""

import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT, load_tool, toc_entries

nbexec = load_tool("nbexec")
run_notebook = load_tool("run_notebook")
gpu_report = load_tool("gpu_report")

PAGES = [ROOT / f"{e}.ipynb" for e in toc_entries() if e.startswith("chapters/")]
GPU_PAGES = [p for p in PAGES if json.loads(p.read_text(encoding="utf-8"))["metadata"].get("ptnotes", {}).get("gpu_page")]
RECORD_KEYS = {"date", "device", "torch", "cuda", "python", "pages", "cifar10_fast"}


def records():
    return json.loads((ROOT / "appendix" / "gpu_runs.json").read_text(encoding="utf-8"))


def test_there_are_gpu_pages():
    assert [p.stem for p in GPU_PAGES] == ["14a_gpu_measured", "14b_cifar10_fast"]


@pytest.mark.parametrize("path", GPU_PAGES, ids=lambda p: p.stem)
def test_gpu_page_was_recorded_on_cuda_from_its_current_source(path):
    nb = nbformat.read(path, as_version=4)
    verified = nb.metadata["ptnotes_verified"]
    assert verified["gpu"], "GPU 页要在有 CUDA 的机器上用 make gpu 记录"
    assert verified["sha256"] == run_notebook.content_sha256(nb), "输出在记录之后被改过"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["metadata"]["ptnotes"]["source_sha256"] == nbexec.source_sha256(raw), (
        "代码在 GPU 上记录之后改过：输出不再来自现在的代码，要在 GPU 机器上重新运行 make gpu")
    shown = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert verified["gpu"].split()[-1] in shown, "页面上要打印出 GPU 的型号"


def test_gpu_runs_record_format_and_every_page_ok_on_cuda():
    history = records()
    assert history and all(RECORD_KEYS <= set(r) for r in history)
    for record in history:
        assert record["mode"] == "cuda" and record["cuda"] and "cpu" not in record["device"].lower()
        for path, result in record["pages"].items():
            assert (ROOT / path).is_file(), path
            assert {"ok", "seconds", "error"} <= set(result)
        for run in record["cifar10_fast"].get("runs", []):
            assert 0 < run["test_acc"] <= 1 and run["train_seconds"] > 0
    latest = gpu_report.latest_per_page(gpu_report.cuda_records())
    for page in GPU_PAGES:
        assert latest[page.relative_to(ROOT).as_posix()][1]["ok"], page.name
    failing = [p for p, (_, r) in latest.items() if not r["ok"]]
    assert not failing, f"最近一次在 GPU 上运行失败的页面：{failing}"


def test_gpu_report_is_current():
    assert gpu_report.main(["--check"]) == 0, "运行 python3 tools/gpu_report.py"


def test_the_fast_recipe_claims_match_the_record():
    """14.10 节正文：5 次运行平均约 92 %（92.05 %–92.32 %），每次训练 8.3 秒，都在 10 秒之内。"""
    history = [r for r in records() if r["cifar10_fast"].get("runs")]
    fast = history[-1]["cifar10_fast"]
    runs = fast["runs"]
    mean = sum(r["test_acc"] for r in runs) / len(runs)
    assert len(runs) >= 5 and 0.915 <= mean <= 0.93, runs
    assert all(r["train_seconds"] <= 10 for r in runs), runs
    assert fast["config"]["name"] == max(
        (n for n, (acc, est) in fast["selection"].items() if est <= 9.0), key=lambda n: fast["selection"][n][0])
    text = "\n".join(c.source for c in nbformat.read(ROOT / "chapters" / "14b_cifar10_fast.ipynb", as_version=4).cells
                     if c.cell_type == "markdown")
    assert f"{100 * mean:.1f} %" in text and f"{100 * min(r['test_acc'] for r in runs):.2f} %" in text


def sanitize(text: str) -> str:
    """tests/nbval_sanitize.cfg 里的替换（nbval 比对时用的同一套）。"""
    lines = (ROOT / "tests" / "nbval_sanitize.cfg").read_text(encoding="utf-8").splitlines()
    pairs = [(a.removeprefix("regex: "), b.removeprefix("replace: ")) for a, b in zip(lines, lines[1:])
             if a.startswith("regex: ") and b.startswith("replace: ")]
    for pattern, replacement in pairs:
        text = re.sub(pattern, replacement, text)
    return text


def text_outputs(nb) -> list[list[str]]:
    result = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        shown = []
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                shown.append(o["name"] + ":" + "".join(o["text"]))
            elif "data" in o:
                shown.append("image" if "image/png" in o["data"] else "".join(o["data"].get("text/plain", "")))
            else:
                shown.append("error:" + o.get("ename", ""))
        merged = []
        for item in shown:                         # nbclient 可能把一段输出分成几段，合起来再比
            if merged and item.startswith(("stdout:", "stderr:")) and merged[-1][:7] == item[:7]:
                merged[-1] += item[7:]
            else:
                merged.append(item)
        result.append([sanitize(m) for m in merged])
    return result


def test_nbexec_gives_the_same_outputs_as_jupyter(tmp_path):
    """不用 Jupyter 的执行器（GPU 机器上用它）运行第 1 章，文字输出和图的位置与存下的（Jupyter 内核的）输出相同。"""
    copy = tmp_path / "chapters"
    copy.mkdir()
    (tmp_path / "data").symlink_to(ROOT / "data")
    shutil.copy(ROOT / "chapters" / "ptnotes.py", copy)
    shutil.copy(ROOT / "chapters" / "01_setup.ipynb", copy)
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "nbexec.py"), "01_setup.ipynb", "--record", "out.ipynb"],
                            cwd=copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = json.loads((ROOT / "chapters" / "01_setup.ipynb").read_text(encoding="utf-8"))
    fresh = json.loads((copy / "out.ipynb").read_text(encoding="utf-8"))
    assert text_outputs(fresh) == text_outputs(stored)
    counts = [c["execution_count"] for c in fresh["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert counts == list(range(1, len(counts) + 1))


def test_nbexec_supports_writefile_and_keeps_going_after_a_hidden_check(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%%writefile hello.py\nprint('hi')"),
                nbformat.v4.new_code_cell("import runpy\nrunpy.run_path('hello.py')\n1 + 1"),
                nbformat.v4.new_code_cell("assert False, 'hidden check'"),
                nbformat.v4.new_code_cell("print('after')")]
    nb.cells[2].metadata["tags"] = ["remove-cell"]
    nbformat.write(nb, tmp_path / "t.ipynb")
    cmd = [sys.executable, str(ROOT / "tools" / "nbexec.py"), "t.ipynb", "--json", "r.json", "--record", "o.ipynb"]
    stop = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert stop.returncode == 1
    out = json.loads((tmp_path / "o.ipynb").read_text(encoding="utf-8"))["cells"]
    assert out[0]["outputs"][0]["text"] == "Writing hello.py\n"
    assert out[1]["outputs"][0]["text"] == "hi\n" and out[1]["outputs"][1]["data"]["text/plain"] == "2"
    assert out[2]["outputs"][0]["output_type"] == "error" and out[3]["outputs"] == []
    going = subprocess.run(cmd + ["--keep-going"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    out = json.loads((tmp_path / "o.ipynb").read_text(encoding="utf-8"))["cells"]
    assert going.returncode == 1 and not result["ok"] and result["failed_checks"][0]["cell"] == 2
    assert out[2]["outputs"] == [] and out[3]["outputs"][0]["text"] == "after\n"


def test_make_gpu_dry_runs_the_gpu_pages_on_the_cpu(tmp_path):
    """make gpu 的干跑（没有 CUDA）：GPU 页按缩小的规模从头运行（CPU 上的冒烟测试），记录的格式和真的一样，
    仓库里的 GPU 页和 appendix/gpu_runs.json 都不被改动。"""
    before = {p: p.read_bytes() for p in GPU_PAGES + [ROOT / "appendix" / "gpu_runs.json"]}
    pages = [str(p.relative_to(ROOT)) for p in GPU_PAGES] + ["chapters/01_setup.ipynb"]
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_run.py"), "--dry", "--timeout", "600",
                             "--out", str(tmp_path), "--pages", *pages],
                            cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    record = json.loads((tmp_path / "gpu_runs.json").read_text(encoding="utf-8"))[-1]
    assert RECORD_KEYS <= set(record) and record["mode"] == "dry" and record["cuda"] is None
    assert set(record["pages"]) == set(pages) and all(r["ok"] for r in record["pages"].values()), record["pages"]
    runs = record["cifar10_fast"]["runs"]
    assert runs and {"test_acc", "train_seconds"} <= set(runs[0])
    for page in GPU_PAGES:
        assert (tmp_path / page.name).is_file()
    assert all(p.read_bytes() == data for p, data in before.items()), "干跑不能改动仓库里的文件"


def test_min_torch_is_the_oldest_torch_that_ran_every_page():
    """ptnotes.MIN_TORCH 是实际从头到尾运行过每一页的最旧 PyTorch：GPU 机器上的 make gpu 记录
    （每一页最近一次都通过的那些运行）和记录网站输出的版本（requirements.txt）里最旧的那个。"""
    def major_minor(version):
        return tuple(int(x) for x in version.split("+")[0].split(".")[:2])

    ptnotes_text = (ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8")
    minimum = re.search(r'^MIN_TORCH = "([\d.]+)"', ptnotes_text, flags=re.M).group(1)
    pinned = re.search(r"^torch==([\d.]+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"), flags=re.M).group(1)
    records = gpu_report.cuda_records()
    latest = gpu_report.latest_per_page(records)
    used = {records[number - 1]["torch"] for number, result in latest.values() if result["ok"]}
    assert all(r["ok"] for _, r in latest.values())
    assert major_minor(minimum) == min(major_minor(v) for v in used | {pinned})
