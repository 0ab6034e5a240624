"""pytest 的全局钩子：nbval 运行笔记本时，最后按笔记本汇总耗时（每章的预算是 2 核 CPU 上 60 秒）。"""

import os
from collections import defaultdict

_seconds = defaultdict(float)


def pytest_runtest_logreport(report):
    if report.nodeid.endswith(".ipynb") or ".ipynb::" in report.nodeid:
        _seconds[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    terminalreporter.section("seconds per notebook")
    for path, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  total")


def pytest_report_header(config):
    """在报告开头写明比对笔记本时的数值配置（见 Makefile 与 CONTRIBUTING.md）。"""
    names = ("PTNOTES_NUM_THREADS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
             "ONEDNN_MAX_CPU_ISA", "PYTHONWARNINGS")
    return "numerics: " + ", ".join(f"{n}={os.environ.get(n, '(unset)')}" for n in names)
