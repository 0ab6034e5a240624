"""pytest 的全局钩子：nbval 运行笔记本时，最后按笔记本汇总耗时（每章的预算是 2 核 CPU 上 60 秒），
并把它们记进 _build/nbval_seconds.json（make teacher 把它抄进教师页用的 appendix/run_times.json）；
学生版的自检测试（tests/test_student.py）也按章汇总耗时。"""

import datetime
import fcntl
import json
import os
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SECONDS_FILE = ROOT / "_build" / "nbval_seconds.json"
NUMERICS = ("PTNOTES_NUM_THREADS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
            "ONEDNN_MAX_CPU_ISA", "PYTHONWARNINGS")
STUDENT = re.compile(r"tests/test_student\.py::(?:TestSelfChecks\w::)?test_self_checks\[(.+)\]$")

_seconds = defaultdict(float)
_failed = set()
_student_seconds = {}


def pytest_runtest_logreport(report):
    if report.nodeid.endswith(".ipynb") or ".ipynb::" in report.nodeid:
        path = report.nodeid.split("::")[0]
        _seconds[path] += report.duration
        if report.failed:
            _failed.add(path)
    match = STUDENT.match(report.nodeid)
    if match and report.when == "call":
        _student_seconds[match.group(1)] = (report.duration, report.outcome)


def numerics() -> str:
    return ", ".join(f"{n}={os.environ.get(n, '(unset)')}" for n in NUMERICS)


def pytest_sessionfinish(session, exitstatus):
    """把这次 nbval 测得的每章秒数并进 _build/nbval_seconds.json（只更新这次运行过的 chapters/ 里的笔记本；
    tests/test_alone.py 在临时目录里运行的副本记在环境变量 PTNOTES_RECORD_AS 给的那一章名下）。"""
    measured = {path: seconds for path, seconds in _seconds.items() if path.startswith("chapters/")}
    alias = os.environ.get("PTNOTES_RECORD_AS")     # tests/test_alone.py：临时目录里的副本记在原来那一章名下
    if alias and len(_seconds) == 1:
        measured = {alias: next(iter(_seconds.values()))}
        if _failed:
            _failed.add(alias)
    if not measured:
        return
    SECONDS_FILE.parent.mkdir(exist_ok=True)
    # make test 在两个进程里并行运行各页（pytest-xdist）：读、改、写这个文件时拿着锁，写完整后再换名，
    # 另一个进程不会读到写了一半的文件，也不会覆盖掉对方刚记下的秒数
    with open(SECONDS_FILE.with_name(SECONDS_FILE.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            record = json.loads(SECONDS_FILE.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        notebooks = record.setdefault("notebooks", {})
        today = datetime.date.today().isoformat()
        for path, seconds in measured.items():
            notebooks[path] = {"seconds": round(seconds, 1), "date": today, "passed": path not in _failed,
                               "numerics": numerics(), "cpus": len(os.sched_getaffinity(0))}
        record["notebooks"] = dict(sorted(notebooks.items()))
        tmp = SECONDS_FILE.with_name(f"{SECONDS_FILE.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(SECONDS_FILE)


def pytest_terminal_summary(terminalreporter):
    if _seconds:
        terminalreporter.section("seconds per notebook")
        for path, seconds in sorted(_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
        terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  total")
        terminalreporter.write_line(f"recorded in {SECONDS_FILE.relative_to(ROOT)} (make teacher copies them to the teacher's page)")
    if _student_seconds:
        terminalreporter.section("seconds per student copy (body + self-checks, one kernel each)")
        for name, (seconds, outcome) in sorted(_student_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {name}  {outcome}")
        terminalreporter.write_line(f"{sum(s for s, _ in _student_seconds.values()):7.1f} s  total")


def _gpu_page(path: str) -> bool:
    """元数据 ptnotes.gpu_page 为真的笔记本：输出在 GPU 上记录（make gpu），nbval 不比对。"""
    try:
        meta = json.loads((ROOT / path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return False
    return bool(meta.get("ptnotes", {}).get("gpu_page"))


def pytest_collection_modifyitems(config, items):
    """GPU 上记录的页面不用 nbval 比对（这里没有 GPU，数字也不可能相同）：tests/test_gpu.py 检查它们是在 CUDA 上
    由现在的代码记录的，并在 CPU 上按缩小的规模把它们从头运行一遍。"""
    import pytest

    cache: dict[str, bool] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.endswith(".ipynb"):
            if path not in cache:
                cache[path] = _gpu_page(path)
            if cache[path]:
                item.add_marker(pytest.mark.skip(reason="输出在 GPU 上记录（make gpu）；tests/test_gpu.py 检查并在 CPU 上冒烟运行"))


def pytest_report_header(config):
    """在报告开头写明比对笔记本时的数值配置（见 Makefile 与 CONTRIBUTING.md）。"""
    return "numerics: " + numerics()
