# The two commands of the README: `make demo` and `make test`. Both set everything up first.
# `make docs` builds the manual (docs/) into site/; `make test` builds it first, so a broken link fails CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_HOME ?= .duban/demo
DUBAN := DUBAN_HOME=$(DEMO_HOME) $(BIN)/duban
DEMO_PASSWORD ?= Demo-duban-2022

.PHONY: install demo test docs lint bench bench-portal bench-mechanism clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml scripts/install-system-packages
	PYTHON=$(PYTHON) ./scripts/install-system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

# The suite on every core (tests/parallel.py: which tests share a worker, the process-level ones in series
# on one of them, and in what order they go out).
test: docs
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n auto --dist loadscope --no-loadscope-reorder --durations=20

# The reference (plan keys, environment, commands) and the 用户手册 are written from the code first.
docs: install
	$(BIN)/python scripts/docs_reference.py docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The sample district's 2022 programme, from scratch each time (in $(DEMO_HOME) only).
demo: install
	rm -rf $(DEMO_HOME)
	$(DUBAN) init --plan plans/community-facilities-2022.yaml --as-of 2022-04-01
	$(DUBAN) ledger import samples/ledger-2022.csv --as-of 2022-04-08
	@echo "--- the same file again changes nothing:"
	$(DUBAN) ledger import samples/ledger-2022.csv --as-of 2022-04-08
	@echo "--- April to December 2022, day by day: rounds, forms, reviews, reminders, escalations, close-outs,"
	@echo "    the monthly bulletins on schedule, two supervision campaigns (key items; kindergartens), and the"
	@echo "    long-term mechanism: 15 new projects registered, 9 walked through their joint-review gates, and"
	@echo "    the plan's documents issued"
	DUBAN_HOME=$(DEMO_HOME) $(BIN)/python scripts/replay_2022.py
	$(DUBAN) period show 2022-12 --as-of 2022-12-31
	@echo "--- the supervision campaigns, and where the kindergarten campaign ended"
	$(DUBAN) campaign list --as-of 2022-12-31
	$(DUBAN) campaign show 2 --as-of 2022-12-31
	@echo "--- the long-term mechanism: the project register, a shortfall waived by the Office, the plan's documents"
	$(DUBAN) project list --as-of 2022-12-31
	$(DUBAN) project show XM2022-003 --as-of 2022-12-31
	$(DUBAN) deliverable list --as-of 2022-12-31
	@echo "--- the requests of 2022: extensions (granted by both, refused by the Office, a kindergarten 报领导小组),"
	@echo "    an item moved to its right township, and 南关街道's appeal against a line of its score"
	$(DUBAN) extension list --as-of 2022-12-31
	$(DUBAN) item reassignments
	$(DUBAN) assess appeals
	@echo "--- the bulletins of 2022 (Word, PDF, HTML) in $(DEMO_HOME)/bulletins/; printing one again keeps its number"
	ls $(DEMO_HOME)/bulletins/*.pdf
	$(DUBAN) bulletin --period 2022-10 --as-of 2022-10-31
	@echo "--- January 2023: a late item walked through close-out by hand, returned once, then closed"
	$(DUBAN) item transition PT2022-0003 --to close_requested --by 城关街道 --as-of 2023-01-05 \
	  --note "日间照料中心扩建工程已竣工验收，已投入使用。" --evidence samples/evidence/整改完成情况说明.txt
	$(DUBAN) item transition PT2022-0003 --to in_progress --by 民政局 --as-of 2023-01-06 \
	  --note "缺少竣工验收备案材料，退回补充。"
	$(DUBAN) item transition PT2022-0003 --to close_requested --by 城关街道 --as-of 2023-01-10 \
	  --note "已补充竣工验收备案材料。" --evidence samples/evidence/产权移交证明.txt
	$(DUBAN) item transition PT2022-0003 --to verified --by 民政局 --as-of 2023-01-11
	$(DUBAN) item transition PT2022-0003 --to closed --by 区配套办 --as-of 2023-01-12
	@echo "--- 河东镇 may not act on 西城街道's item: refused, nothing changes"
	$(DUBAN) item transition PT2022-0021 --to close_requested --by 河东镇 --as-of 2023-01-12 \
	  --note "x" --evidence samples/evidence/整改完成情况说明.txt || echo "(refused with exit status $$?, as it should be)"
	@echo "--- one case, one plan: the stalled kindergarten gets a revised plan (revision kept)"
	$(DUBAN) item plan PT2022-0027 --by 教体局 --as-of 2023-01-12 --deadline 2023-03-31 \
	  --milestone "2023-02-28:完成产权登记" --note "经区领导小组同意延期"
	$(DUBAN) item show PT2022-0003
	$(DUBAN) ledger export $(DEMO_HOME)/台账导出.xlsx
	@echo "--- deliver what is queued (the bulletins) into $(DEMO_HOME)/outbox/"
	$(DUBAN) outbox dispatch --at 2023-01-13T10:00:00
	$(DUBAN) status --as-of 2023-01-12
	@echo "--- the year's assessment (考核) and the year-end report to the leadership group, in $(DEMO_HOME)/bulletins/"
	$(DUBAN) assess --period 2022 --as-of 2023-01-12 --out $(DEMO_HOME)/bulletins/2022年度考核结果.xlsx
	$(DUBAN) summary --year 2022 --as-of 2023-01-12
	@echo "--- portal accounts for the demo (initial password $(DEMO_PASSWORD); each changes it at first sign-in)"
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 城关街道 --login cg-clerk --name 张三
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 民政局 --login mz-reviewer --name 李四 --role reviewer
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 教体局 --login jt-reviewer --name 赵六 --role reviewer
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 自然资分局 --login zrz-reviewer --name 钱七 --role reviewer
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 区配套办 --login office-staff --name 王五
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 区配套办 --login office-admin --name 周九 --role sysadmin
	DUBAN_NEW_PASSWORD=$(DEMO_PASSWORD) $(DUBAN) user add --unit 区长 --login leader --name 孙八
	$(DUBAN) user list
	@echo "--- the portal on the demo's last day:  DUBAN_HOME=$(DEMO_HOME) $(BIN)/duban portal --as-of 2023-01-16"
	@echo "    then open http://127.0.0.1:8000/ and sign in as one of the accounts above"

# The Office's month at scale (benchmarks/run.py): each step as its own duban process, wall and CPU time
# and peak memory, a table on stdout and JSON in a temp folder (printed; BENCH_ARGS="--json PATH" to choose).
# SCALES lists items:backend; to add 100,000 items on PostgreSQL:
#   make bench SCALES=300:sqlite,30000:sqlite,30000:postgresql,100000:postgresql
# The table goes into the manual (docs/benchmarks/results.md) from the JSON, even when a step failed. Under
# 10 min on this 2-core machine: the catch-up and the engine cycle run only at 30,000 items on SQLite
# (BENCH_ARGS="--catch-up-backends sqlite,postgresql" adds the catch-up on PostgreSQL, about 2 min).
SCALES ?= 300:sqlite,30000:sqlite,30000:postgresql
BENCH_ARGS ?=
BENCH_JSON ?= docs/benchmarks/results.json
bench: install
	$(BIN)/python benchmarks/run.py --runs $(SCALES) --json $(BENCH_JSON) $(BENCH_ARGS); status=$$?; \
	  $(BIN)/python benchmarks/results_page.py $(BENCH_JSON) docs/benchmarks/results.md && exit $$status

# A few hundred people on the portal at once, over loopback (benchmarks/portal_load.py): the sample district and
# 30,000 items, 1 and 2 workers; per-page p50/p95/max, requests/s, errors, and no report lost or doubled.
PORTAL_BENCH_ARGS ?=
bench-portal: install
	$(BIN)/python benchmarks/portal_load.py $(PORTAL_BENCH_ARGS)

# The long-term mechanism at district scale (benchmarks/mechanism.py): 3,000 projects with their history and
# today's open work; the daily sweep, the register, a department's queue and one project, timed beside a copy
# with the history alone doubled (seconds, ratio, SQL statements, tables read in full, peak memory).
# MECHANISM_BENCH_ARGS="--projects 3000,10000" adds 10,000 projects (about 3 more minutes).
MECHANISM_BENCH_ARGS ?=
bench-mechanism: install
	$(BIN)/python benchmarks/mechanism.py $(MECHANISM_BENCH_ARGS)

clean:
	rm -rf $(VENV) .duban .pytest_cache .ruff_cache *.egg-info site
