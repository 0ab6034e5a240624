"""章末测验的 ```{quiz}``` 指令：把 quizzes/NN.yml 画成可以点的选择题（网站上点一下就有反馈）。

用法（quizzes/NN.md）：

    ```{quiz} 02.yml
    ```

每道题：题号和题型、题目（行内代码照常显示）、代码框（和正文的代码一样高亮、折行）、选项按钮（A、B、C……）、
一个反馈区：对错（_static/quiz.js 点击时写入）、解释和「讲解见」链接。链接在构建时解析成那一页的相对网址
（pending_xref，和 {doc} 一样：页面不存在时严格构建失败），所以网站和单页 HTML（PDF）里都指得对。
页面底部是本页得分（第一次就选对才算分）。题目格式由 tools/quiz.py 检查，不合格式时构建报错并指出是哪一题。

反馈区一开始是 hidden：没有脚本时（和打印的 PDF 里）只看到题目和选项，不泄露答案；正确选项的编号在题目的
data-answer 里，由脚本读取。
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    """tools/quiz.py（格式检查与题型名称），换个模块名导入，免得和本扩展（也叫 quiz）撞名。"""
    name = "ptnotes_quiz_tool"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "quiz.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class quiz_node(nodes.General, nodes.Element):
    pass


class quiz_question(nodes.General, nodes.Element):
    pass


class quiz_choices(nodes.General, nodes.Element):
    pass


class quiz_choice(nodes.General, nodes.Element):
    pass


class quiz_feedback(nodes.General, nodes.Element):
    pass


def inline(text: str) -> list[nodes.Node]:
    """题目、选项、解释里的文字：反引号里的是行内代码，其余是普通文字。"""
    out: list[nodes.Node] = []
    for i, part in enumerate(re.split(r"`([^`]+)`", " ".join(text.split()))):
        if not part:
            continue
        out.append(nodes.literal(part, part) if i % 2 else nodes.Text(part))
    return out


class QuizDirective(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        tool = _tool()
        rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(rel)
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise self.error(f"quiz：读不到 {rel}（{error}）")
        chapter = data.get("chapter") if isinstance(data, dict) else None
        found = tool.problems(data, chapter) if isinstance(chapter, int) else [f"{rel}：没有 chapter"]
        if found:
            raise self.error("quiz：" + "；".join(found[:5]))
        questions = data["questions"]
        root = quiz_node(total=len(questions), chapter=chapter)
        root["ids"].append(f"quiz-{chapter:02d}")
        for number, q in enumerate(questions, 1):
            key = f"quiz{chapter:02d}-{number}"      # 单页 HTML（PDF）里各章的测验在同一页：id 带章号
            question = quiz_question(number=number, answer=q["answer"], kind=q["kind"], key=key)
            prompt = nodes.paragraph(classes=["site-quiz__prompt"])
            prompt["ids"].append(f"{key}-prompt")
            prompt += nodes.inline("", f"第 {number} 题", classes=["site-quiz__number"])
            prompt += nodes.inline("", tool.KINDS[q["kind"]], classes=["site-quiz__kind"])
            prompt += inline(q["prompt"])
            question += prompt
            if q.get("code"):
                code = q["code"].rstrip("\n")
                block = nodes.literal_block(code, code, language="python")
                question += block
            choices = quiz_choices(number=number)
            for index, text in enumerate(q["choices"]):
                choice = quiz_choice(index=index, letter=tool.LETTERS[index],
                                     output=text if q["kind"] == "predict" else None)
                if q["kind"] != "predict":
                    choice += inline(text)
                choices += choice
            question += choices
            feedback = quiz_feedback(key=key)
            explain = nodes.paragraph(classes=["site-quiz__explain"])
            explain += nodes.strong("", "解释：")
            explain += inline(q["explain"])
            feedback += explain
            see = nodes.paragraph(classes=["site-quiz__see"])
            see += nodes.Text("讲解见：")
            see += addnodes.pending_xref("", nodes.inline("", q["see"], classes=["xref", "std", "std-doc"]),
                                         refdomain="std", reftype="doc", reftarget=f"/chapters/{q['see']}",
                                         refexplicit=False, refwarn=True, refdoc=self.env.docname)
            feedback += see
            question += feedback
            root += question
        return [root]


# ---------------------------------------------------------------- HTML

def visit_quiz(self, node):
    total = node["total"]
    self.body.append(f'<div class="site-quiz" id="{node["ids"][0]}" data-total="{total}">\n')


def depart_quiz(self, node):
    total = node["total"]
    self.body.append(f'<p class="site-quiz__score" role="status" aria-live="polite">本页得分：'
                     f'<span class="site-quiz__right">0</span> / {total}'
                     f'<span class="site-quiz__answered">（已答 0 题）</span></p>\n</div>\n')


def visit_question(self, node):
    key = node["key"]
    self.body.append(f'<div class="site-quiz__question site-quiz__question--{node["kind"]}" id="{key}" '
                     f'role="group" aria-labelledby="{key}-prompt" data-answer="{node["answer"]}">\n')


def depart_question(self, node):
    self.body.append("</div>\n")


def visit_choices(self, node):
    self.body.append(f'<div class="site-quiz__choices" role="group" aria-label="第 {node["number"]} 题的选项">\n')


def depart_choices(self, node):
    self.body.append("</div>\n")


def visit_choice(self, node):
    self.body.append(f'<button type="button" class="site-quiz__choice" data-index="{node["index"]}" aria-pressed="false">'
                     f'<span class="site-quiz__letter">{node["letter"]}.</span><span class="site-quiz__text">')
    if node.get("output") is not None:
        self.body.append(f'<code class="site-quiz__output">{html.escape(node["output"])}</code>')


def depart_choice(self, node):
    self.body.append("</span></button>\n")


def visit_feedback(self, node):
    key = node["key"]
    self.body.append(f'<p class="site-quiz__verdict" id="{key}-verdict" aria-live="polite"></p>\n'
                     f'<div class="site-quiz__feedback" id="{key}-feedback" hidden>\n')


def depart_feedback(self, node):
    self.body.append("</div>\n")


def skip(self, node):
    raise nodes.SkipNode


def setup(app: Sphinx):
    for node, visit, depart in ((quiz_node, visit_quiz, depart_quiz), (quiz_question, visit_question, depart_question),
                                (quiz_choices, visit_choices, depart_choices), (quiz_choice, visit_choice, depart_choice),
                                (quiz_feedback, visit_feedback, depart_feedback)):
        app.add_node(node, html=(visit, depart), latex=(skip, None), text=(skip, None), man=(skip, None),
                     texinfo=(skip, None))
    app.add_directive("quiz", QuizDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
