# PyTorch 实战笔记：make book / make test / make serve / make clean
# 全新机器上也只需这两条命令：第一次会自动创建 .venv 并按锁定的版本安装依赖。

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=900
NB     ?= chapters

# 数值配置（CONTRIBUTING.md「输出在每台机器上都一样」）。make run 用本机的默认配置记录输出
# （PyTorch 默认线程数、CPU 支持的最快指令集）；make test 换一种配置重跑比对：3 个线程
# （ptnotes.setup() 读 PTNOTES_NUM_THREADS），ATen 内核（ATEN_CPU_CAPABILITY=avx2）、矩阵乘法（MKL）
# 和卷积（oneDNN）都最多用 AVX2 指令，像一台没有 AVX-512 的机器。
# 随机器而变的输出因此在作者自己的机器上就会失败。两者都可以在命令行覆盖，例如
# OMP_NUM_THREADS=1 make test（这时不再设 PTNOTES_NUM_THREADS），或用最严的基线内核
# ATEN_CPU_CAPABILITY=default make test-notebooks（慢一倍，训练章节超出时间预算，make claims 也用它）。
TEST_THREADS ?= 3
ifdef OMP_NUM_THREADS
TEST_THREADS :=
endif
ATEN_CPU_CAPABILITY ?= avx2
MKL_ENABLE_INSTRUCTIONS ?= AVX2
ONEDNN_MAX_CPU_ISA ?= AVX2
TEST_ENV := PTNOTES_NUM_THREADS=$(TEST_THREADS) ATEN_CPU_CAPABILITY=$(ATEN_CPU_CAPABILITY) \
            MKL_ENABLE_INSTRUCTIONS=$(MKL_ENABLE_INSTRUCTIONS) ONEDNN_MAX_CPU_ISA=$(ONEDNN_MAX_CPU_ISA) PYTHONWARNINGS=default
RUN_ENV  := env -u PTNOTES_NUM_THREADS -u ATEN_CPU_CAPABILITY -u OMP_NUM_THREADS \
            -u MKL_ENABLE_INSTRUCTIONS -u ONEDNN_MAX_CPU_ISA PYTHONWARNINGS=default

.PHONY: venv book test test-notebooks test-unit serve lab clean lock run claims

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

# 可以只测一章：make test-notebooks NB=chapters/07_nn_module.ipynb
test-notebooks: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL) $(NB)

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
	$(RUN_ENV) $(BIN)/python tools/run_notebook.py $(NB)

# 作者用：换几组随机种子和线程数重跑一章，列出每个失败的隐藏断言，例如 make claims NB=chapters/06_tensorboard.ipynb
claims: $(STAMP)
	$(BIN)/python tools/claims.py $(NB)

# 维护者用：改了 requirements.txt 以后重新生成 constraints.txt
lock: $(STAMP)
	{ echo "# pip freeze of a venv made from requirements.txt (make lock). Used as -c by make."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf _build .pytest_cache chapters/runs chapters/outputs chapters/data \
	       data/hymenoptera_data data/cifar10_jpg data/cifar10_*_uint8.pt
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
