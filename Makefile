# PyTorch 实战笔记：make book / make test / make serve / make clean
# 全新机器上也只需这两条命令：第一次会自动创建 .venv 并按锁定的版本安装依赖。

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=900

.PHONY: venv book test test-notebooks test-unit serve lab clean lock run

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip check
	@touch $@

# 用已保存的输出生成网站（不重新运行笔记本），警告即错误
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

# 每个笔记本都用 nbval 严格比对输出，再严格构建网站，最后是 tests/ 里的测试（其中一部分检查构建出的网站）
test: test-notebooks test-unit

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) chapters

test-unit: $(STAMP) book
	$(BIN)/python -m pytest tests

serve: book
	@echo "打开 http://127.0.0.1:$(PORT)/ （Ctrl-C 结束）"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

# 在本机用 JupyterLab 打开各章（工作目录是 chapters/）
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=chapters

# 作者用：从头到尾重新运行一个笔记本并保存输出，例如 make run NB=chapters/02_tensors.ipynb
run: $(STAMP)
	$(BIN)/python tools/run_notebook.py $(NB)

# 维护者用：改了 requirements.txt 以后重新生成 constraints.txt
lock: $(STAMP)
	{ echo "# pip freeze of a venv made from requirements.txt (make lock). Used as -c by make."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf _build .pytest_cache chapters/runs chapters/outputs chapters/data \
	       data/hymenoptera_data data/cifar10_jpg
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
