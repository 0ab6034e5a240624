"""教师页「在中国大陆使用本课程」里的镜像说明照着做就能用（首页的简短版指向它）。

按教师页的命令从仓库里搭出镜像目录（跳过最后启动 http.server 的一行，改由 127.0.0.1 上的同样的服务器提供这个目录），
检查它的摆放与页上列出的一致；再在一个空目录里像学生那样运行：先运行页上的 %env 单元（地址换成本地服务器），
再运行一章真实的第一个代码单元和取数据的一行。ptnotes.py 和蚂蚁/蜜蜂压缩包都从镜像下载，别的网络请求一律失败
（代理指向关着的端口）。%env 由 IPython 执行，和在 Jupyter、Colab 里一样。
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT
from webserver import offline_env, serve_folder

TEACHER = ROOT / "appendix" / "teacher.md"
CHAPTER = ROOT / "chapters" / "04a_dataset.ipynb"   # 第一个用到蚂蚁/蜜蜂数据的小节（压缩包只有 10.8 MB）
EXAMPLE_HOST = "http://192.168.1.10:8000"          # 教师页示例里老师电脑的地址


def section() -> str:
    text = TEACHER.read_text(encoding="utf-8")
    assert "\n## 在中国大陆使用本课程\n" in text, "教师页要有「在中国大陆使用本课程」一节"
    return text.split("\n## 在中国大陆使用本课程\n", 1)[1].split("\n## ", 1)[0]


def blocks(text: str, lang: str) -> list[str]:
    """text 里语言是 lang（"" 为不写语言）的 ``` 代码块的内容，按顺序。"""
    found, current, current_lang = [], None, None
    for line in text.splitlines(keepends=True):
        if current is None and line.startswith("```"):
            current, current_lang = [], line[3:].strip()
        elif current is not None and line.rstrip() == "```":
            if current_lang == lang:
                found.append("".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return found


def only_block(text: str, lang: str, marker: str) -> str:
    found = [b for b in blocks(text, lang) if marker in b]
    assert len(found) == 1, f"教师页里应有一个含 {marker!r} 的 {lang or '纯文本'} 代码块"
    return found[0]


def test_home_page_points_to_the_teacher_page():
    intro = (ROOT / "intro.md").read_text(encoding="utf-8")
    for needle in ("{doc}`教师页 <appendix/teacher>`", "在中国大陆使用本课程", "make student-bundle",
                   "_build/pytorch-shizhan-biji-student.zip", "make bundle", "pypi.tuna.tsinghua.edu.cn",
                   "%env PTNOTES_PY_URL=", "%env PTNOTES_DATA_URL="):
        assert needle in intro, needle


def test_mirror_instructions_work_as_written(tmp_path):
    text = section()
    # 1. 老师：在仓库根目录运行页上的命令（仓库用指向 chapters/、data/ 的链接代替，镜像写进临时目录）
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("chapters", "data"):
        (repo / name).symlink_to(ROOT / name)
    commands = only_block(text, "bash", "mkdir -p mirror").strip().splitlines()
    serve_line = commands.pop()
    assert serve_line.startswith("python3 -m http.server 8000 --directory mirror"), serve_line
    subprocess.run(["bash", "-euc", "\n".join(commands)], cwd=repo, check=True, timeout=60)
    mirror = repo / "mirror"
    layout = only_block(text, "", "data/hymenoptera_data.tar.gz").split()
    assert sorted(str(p.relative_to(mirror)) for p in mirror.rglob("*") if p.is_file()) == sorted(layout)
    for name in layout:
        assert (mirror / name).read_bytes() == (ROOT / name).read_bytes(), name

    # 2. 学生：空目录里，%env 单元 + 一章真实的第一个代码单元 + 取数据
    env_cell = only_block(text, "python", "%env PTNOTES_DATA_URL=")
    assert f"%env PTNOTES_PY_URL={EXAMPLE_HOST}/chapters/ptnotes.py" in env_cell
    first = next(c.source for c in nbformat.read(CHAPTER, as_version=4).cells if c.cell_type == "code")
    assert first.startswith("import os")  # 准备单元：%env 单元要在它之前运行
    work = tmp_path / "work"
    work.mkdir()
    with serve_folder(mirror) as site:
        cells = [env_cell.replace(EXAMPLE_HOST, site.url), first,
                 "root = ptnotes.hymenoptera()\nprint(sorted(p.name for p in root.iterdir() if p.is_dir()))"]
        script = ("import json, sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
                  "shell = InteractiveShell.instance()\n"
                  "for cell in json.loads(sys.argv[1]):\n"
                  "    shell.run_cell(cell).raise_error()\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PTNOTES_") and k != "PYTHONPATH"}
        env = offline_env(env)
        env.update(MPLBACKEND="Agg", IPYTHONDIR=str(tmp_path / "ipython"))
        result = subprocess.run([sys.executable, "-c", script, json.dumps(cells)], cwd=work, env=env,
                                capture_output=True, text=True, timeout=120)
        requests = list(site.requests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "['train', 'val']" in result.stdout
    assert requests == [("/chapters/ptnotes.py", 200), ("/data/hymenoptera_data.tar.gz", 200)]
    assert (work / "ptnotes.py").read_bytes() == (ROOT / "chapters" / "ptnotes.py").read_bytes()
    assert (work / "data" / "hymenoptera_data.tar.gz").read_bytes() == (ROOT / "data" / "hymenoptera_data.tar.gz").read_bytes()


@pytest.mark.parametrize("variable", ["PTNOTES_PY_URL", "PTNOTES_DATA_URL"])
def test_the_variables_are_the_ones_the_code_reads(variable):
    """教师页说的两个变量正是引导代码（tools/bootstrap.py 写进每章）和 ptnotes.py 读的变量。"""
    code = (ROOT / "tools" / "bootstrap.py").read_text(encoding="utf-8") + \
        (ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8")
    assert f'os.environ.get("{variable}"' in code or f"os.environ.get('{variable}'" in code
    assert f"`{variable}`" in section()
