"""第 13 章的配方（NoteNet、数据增强、标准化、FastNet、训练设置、训练/评估函数、检查点）在 ptnotes.py 里有一份
同样的代码，给单独打开的别的页面用（13.2、13.4–13.6 节和 14.9 节）。两份必须逐字相同：第 13 章各节讲的就是别的页面运行的。"""

import ast
import inspect
import json

import pytest

from conftest import ROOT

NAMES = ["NoteNet", "MEAN", "STD", "random_crop_flip", "to_input", "FastNet", "make_model",
         "EPOCHS", "BATCH", "LR", "WARMUP", "WEIGHT_DECAY", "LABEL_SMOOTHING", "make_training",
         "train_one_epoch", "evaluate", "save_checkpoint", "load_checkpoint"]


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
    """第 13 章各页里的定义；每个名字只能在一页里定义一次（别的页面从 ptnotes 导入）。"""
    found = {}
    for path in sorted((ROOT / "chapters").glob("13*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "remove-cell" not in cell["metadata"].get("tags", []) \
                    and not "".join(cell["source"]).startswith("# 参考答案"):
                for name, dump in definitions(ast.parse("".join(cell["source"]))).items():
                    assert name not in found, f"{name} 在第 13 章里定义了两次（{path.name}）"
                    found[name] = dump
    return found


def test_names_match_ptnotes():
    import importlib
    import sys

    sys.path.insert(0, str(ROOT / "chapters"))
    try:
        assert list(importlib.import_module("ptnotes").RECIPE_NAMES) == NAMES
    finally:
        sys.path.pop(0)


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
