"""第 13 章的配方（数据增强、标准化、FastNet）在 ptnotes.py 里有一份同样的代码，给单独打开的别的页面用
（如 14.1 节）。两份必须逐字相同：第 13 章讲的就是别的页面运行的。"""

import ast
import inspect
import json

import pytest

from conftest import ROOT

NAMES = ["MEAN", "STD", "random_crop_flip", "to_input", "FastNet", "make_model"]


def definitions(tree) -> dict[str, str]:
    """一段代码里（包括嵌套在函数里的）每个名字的定义：函数、类或赋值语句的语法树（文档字符串去掉缩进后比较）。"""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0].value.value = inspect.cleandoc(body[0].value.value)
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in NAMES:
            found[node.name] = ast.dump(node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in NAMES:
            found[node.targets[0].id] = ast.dump(node.value)
    return found


def chapter_13() -> dict[str, str]:
    nb = json.loads((ROOT / "chapters" / "13_train_cifar10.ipynb").read_text(encoding="utf-8"))
    found = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            found.update(definitions(ast.parse("".join(cell["source"]))))
    return found


def test_ptnotes_recipe_is_chapter_13s_code():
    ours = definitions(ast.parse((ROOT / "chapters" / "ptnotes.py").read_text(encoding="utf-8")))
    theirs = chapter_13()
    for name in NAMES:
        assert name in ours and name in theirs, name
        assert ours[name] == theirs[name], f"ptnotes.{name} 与第 13 章的定义不同：改了一处就要改另一处"


def test_recipe_names_are_lazy_and_work_on_the_cpu():
    import subprocess
    import sys

    code = ("import sys; import ptnotes; assert 'torch' not in sys.modules; "
            "import torch; g = torch.Generator().manual_seed(0); x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8); "
            "y = ptnotes.to_input(ptnotes.random_crop_flip(x, g)); "
            "assert y.shape == (4, 3, 32, 32) and y.is_contiguous(memory_format=torch.channels_last); "
            "assert ptnotes.make_model()(y).shape == (4, 10); print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "chapters", capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]
