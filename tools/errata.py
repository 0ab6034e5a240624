"""从各章的“勘误”框生成附录的勘误总表 appendix/errata.md。

    python tools/errata.py            # 重新生成 appendix/errata.md（make errata）
    python tools/errata.py --check    # 只检查：已提交的页面与生成结果不同时退出码为 1

勘误框的写法（CONTRIBUTING.md「勘误框」一节；不合规时本脚本报错并指出是哪一章、哪一个框）：

    ```{admonition} 勘误：<实际情况：一句正确的说法，末尾不加句号>
    :class: warning
    :name: errata-<两位章号>-<本章内的编号>
    笔记 00X <在哪里>说……。实际上……。下面的单元证明了这一点。
    ```

- 标题「勘误：」后面是**实际情况**，总表的“实际情况”一栏就是它；标题里不能有反引号（``` 围栏的第一行
  带反引号时，Markdown 不把它当作围栏，整个框都不显示），也不能有 ``__``（会变成粗体）；
- 正文的第一句（到第一个不在引号、括号、代码或公式里的「。」为止）以「笔记 00X」开头（几份笔记并列时写
  「笔记 001 和 004」），说的是**笔记原来怎么说**，总表的“笔记的说法”一栏就是它；
- ``:name:`` 是勘误框的固定锚点，总表链接到它。章号与文件名一致；编号在本章内唯一，新加的框取下一个没用过的编号，
  已有的编号不再改动（网站上的链接因此一直有效）。
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "appendix" / "errata.md"

OPEN_RE = re.compile(r"^```\{admonition\} 勘误：(?P<title>.*)$")
NAME_RE = re.compile(r"^errata-(?P<chapter>\d\d)-(?P<number>[1-9]\d*)$")
NOTE_RE = re.compile(r"笔记 ?(00[0-4])((?:\s*[和、与]\s*(?:笔记 ?)?00[0-4])*)")
# 任何一个标题行里带「勘误」的指令（``` 或 ::: 围栏）都算勘误框，写法不对就报错，而不是被悄悄漏掉
LOOSE_RE = re.compile(r"^(`{3,}|:{3,})\s*\{[\w:-]+\}.*勘误")
OPENERS, CLOSERS = "“「『（(【", "”」』）)】"


class ErrataError(Exception):
    """某个勘误框不符合约定。"""


@dataclass
class Erratum:
    chapter: int  # 章号
    docname: str  # chapters/02_tensors
    label: str  # errata-02-3
    title: str  # 实际情况
    said: str  # 笔记原来怎么说（正文第一句）
    notes: list[str]  # ["001", "004"]


def chapter_docs(root: Path = ROOT) -> list[str]:
    """_toc.yml 里的章节（chapters/NN_name），按目录顺序。"""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [f.removesuffix(".ipynb") for f in files if f.startswith("chapters/")]


def join_lines(lines: list[str]) -> str:
    """把正文的几行接成一行：中文之间直接相连，两个英文词之间留一个空格。"""
    out = ""
    for line in (l.strip() for l in lines):
        if not line:
            continue
        if out and out[-1].isascii() and out[-1] not in "`*" and line[0].isascii() and line[0] not in "`*，。":
            out += " "
        out += line
    return out


def first_sentence(text: str) -> str | None:
    """到第一个不在引号、括号、行内代码或公式里的「。」为止；引号里的话以「。”」结束、后面不是逗号之类时也算一句。"""
    depth, code, math = 0, False, False
    for i, ch in enumerate(text):
        if ch == "`":
            code = not code
        elif code:
            continue
        elif ch == "$":
            math = not math
        elif math:
            continue
        elif ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth = max(0, depth - 1)
            following = text[i + 1 : i + 2]
            if depth == 0 and i > 0 and text[i - 1] in "。！？" and following not in ("，", "、", "；", "：", "）"):
                return text[: i + 1]
        elif ch in "。！？" and depth == 0:
            return text[: i + 1]
    return None


def fix_links(text: str) -> str:
    """章节正文里的 {doc}`03_autograd` 相对 chapters/；放到 appendix/ 的页面上要改成 ../chapters/03_autograd。"""

    def repl(m: re.Match) -> str:
        inner = m.group(1)
        target = re.search(r"<([^<>]+)>$", inner)
        name = target.group(1) if target else inner
        if "/" in name:
            return m.group(0)
        fixed = f"../chapters/{name}"
        return "{doc}`" + (inner[: target.start(1)] + fixed + ">" if target else fixed) + "`"

    return re.sub(r"\{doc\}`([^`]+)`", repl, text)


def cell_text(text: str) -> str:
    """放进 Markdown 表格的一个格子：竖线转义。"""
    return text.replace("|", "\\|")


def parse_cell(source: str, where: str, chapter: int, docname: str) -> list[Erratum]:
    lines = source.splitlines()
    found = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not LOOSE_RE.match(line):
            i += 1
            continue
        here = f"{where}：{line.strip()}"
        m = OPEN_RE.match(line)
        if not m:
            raise ErrataError(
                f"{here}\n  勘误框要写成 ```{{admonition}} 勘误：<实际情况>（三个反引号，全角冒号「：」）"
            )
        title = m.group("title").strip()
        if not title or title.endswith("。"):
            raise ErrataError(f"{here}\n  「勘误：」后面要写实际情况（一句话，末尾不加句号）")
        if "`" in title:
            raise ErrataError(f"{here}\n  标题里不能有反引号：``` 围栏的第一行带反引号时，整个框都不会被识别")
        if "__" in title:
            raise ErrataError(f"{here}\n  标题里的 __ 会被当成粗体标记（__init__ 显示成粗体的 init），换一种说法")
        options, j = {}, i + 1
        while j < len(lines) and lines[j].startswith(":"):
            om = re.match(r"^:(\w+):\s*(.*)$", lines[j])
            if not om:
                raise ErrataError(f"{here}\n  看不懂的选项行：{lines[j]!r}")
            options[om.group(1)] = om.group(2).strip()
            j += 1
        if set(options) != {"class", "name"} or options["class"] not in ("warning", "warning dropdown"):
            raise ErrataError(
                f"{here}\n  标题下面要有且只有两行选项：`:class: warning`（笔误、写法习惯一类的小勘误写 `:class: warning dropdown`，"
                f"页面上折叠成一行）和 `:name: errata-{chapter:02d}-<编号>`"
                f"（现在是 {options}）"
            )
        nm = NAME_RE.match(options["name"])
        if not nm or int(nm.group("chapter")) != chapter:
            raise ErrataError(
                f"{here}\n  `:name:` 要写成 errata-{chapter:02d}-<编号>（章号 {chapter:02d} 与文件名一致），"
                f"现在是 {options['name']!r}"
            )
        body = []
        k = j
        while k < len(lines) and not re.match(r"^`{3,}\s*$", lines[k]):
            body.append(lines[k])
            k += 1
        if k == len(lines):
            raise ErrataError(f"{here}\n  勘误框没有结束的 ```")
        said = first_sentence(join_lines(body))
        if not said or not NOTE_RE.match(said):
            raise ErrataError(
                f"{here}\n  正文的第一句要以「笔记 00X」开头，说笔记原来怎么说，并以「。」结束"
                f"（现在是 {join_lines(body)[:60]!r}）"
            )
        notes = [n for m in NOTE_RE.finditer(said) for n in [m.group(1), *re.findall(r"00[0-4]", m.group(2))]]
        found.append(Erratum(chapter, docname, options["name"], title, said, sorted(set(notes))))
        i = k + 1
    return found


def collect(root: Path = ROOT) -> list[Erratum]:
    """按目录顺序读出每一章的全部勘误框；有不合约定的框时抛出 ErrataError。"""
    errata: list[Erratum] = []
    for docname in chapter_docs(root):
        path = root / f"{docname}.ipynb"
        numbered = re.match(r"(\d+)[a-z]?_", path.name)                 # 小节页（14a_...）属于它那一章
        chapter = int(numbered.group(1)) if numbered else 0              # 实验与大作业（lab1_...、capstone_...）没有章号，
        # 也不写勘误框（勘误属于讲它的那一章）：它们里面的勘误框按「章号 00」报错
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown" and "勘误" in cell.source:
                errata += parse_cell(cell.source, f"{docname}.ipynb 第 {index} 个单元", chapter, docname)
    seen: dict[str, Erratum] = {}
    for e in errata:
        if e.label in seen:
            raise ErrataError(f"{e.docname}.ipynb：两个勘误框都叫 {e.label}（「{seen[e.label].title}」和「{e.title}」）")
        seen[e.label] = e
    return errata


def chapter_titles(root: Path = ROOT) -> dict[str, str]:
    titles = {}
    for docname in chapter_docs(root):
        nb = nbformat.read(root / f"{docname}.ipynb", as_version=4)
        titles[docname] = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
    return titles


def render(errata: list[Erratum], root: Path = ROOT) -> str:
    titles = chapter_titles(root)
    out = [
        "% 本页由 tools/errata.py 根据各章的勘误框生成，不要手改：改了勘误框以后运行 make errata。",
        "",
        "# 勘误总表",
        "",
        "{doc}`五份源笔记 <notes>`里写错或已经过时的地方，各章都用醒目的“勘误”框指出来，",
        "并紧跟一段代码证明。本页把它们汇总在一起，"
        f"共 **{len(errata)}** 条。“实际情况”一栏是勘误框的标题，点“查看”跳到正文里的勘误框和证明它的代码。",
        "",
        "## 按章统计",
        "",
        "| 章 | 勘误条数 |",
        "| --- | ---: |",
    ]
    for docname, title in titles.items():
        n = sum(e.docname == docname for e in errata)
        if n or re.fullmatch(r"chapters/\d\d_\w+", docname):     # 没有勘误的小节页（14a_...）不单列
            # 链接文字里不能有反引号（{doc}`…` 本身就用反引号括起来）：标题里的代码名去掉反引号
            out.append(f"| {{doc}}`{cell_text(title).replace('`', '')} <../{docname}>` | {n} |")
    out += [f"| 合计 | {len(errata)} |", "", "## 按笔记统计", ""]
    out += ["一条勘误同时纠正几份笔记时，每份笔记各算一次。", "", "| 笔记 | 勘误条数 |", "| --- | ---: |"]
    for note in ("000", "001", "002", "003", "004"):
        out.append(f"| 笔记 {note} | {sum(note in e.notes for e in errata)} |")
    out += [
        "",
        "## 全部勘误",
        "",
        "| 章 | 笔记 | 笔记的说法 | 实际情况 | 出处 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in errata:
        notes = "、".join(f"笔记 {n}" for n in e.notes)
        out.append(
            f"| {{doc}}`第 {e.chapter} 章 <../{e.docname}>` | {notes} | {cell_text(fix_links(e.said))} "
            f"| {cell_text(fix_links(e.title))} | {{ref}}`查看 <{e.label}>` |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="只检查 appendix/errata.md 是否最新")
    args = parser.parse_args(argv)
    try:
        errata = collect()
    except ErrataError as e:
        print(f"勘误框不符合约定（CONTRIBUTING.md「勘误框」）：\n{e}", file=sys.stderr)
        return 2
    text = render(errata)
    per_chapter = {}
    for e in errata:
        per_chapter[e.chapter] = per_chapter.get(e.chapter, 0) + 1
    summary = "，".join(f"第 {c} 章 {n}" for c, n in per_chapter.items())
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE.relative_to(ROOT)} 不是最新的：运行 make errata", file=sys.stderr)
            return 1
        print(f"{PAGE.relative_to(ROOT)} 是最新的：{len(errata)} 条勘误（{summary}）")
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"写好了 {PAGE.relative_to(ROOT)}：{len(errata)} 条勘误（{summary}）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
