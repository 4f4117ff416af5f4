# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_HOME ?= .duban/demo
DUBAN := DUBAN_HOME=$(DEMO_HOME) $(BIN)/duban

.PHONY: install demo test lint clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml scripts/install-system-packages
	PYTHON=$(PYTHON) ./scripts/install-system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q

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
	@echo "--- one case, one plan: a plan for an item filed without one, with dated steps"
	$(DUBAN) item plan PT2022-0004 --by 城关街道 --as-of 2022-04-15 \
	  --measures "结合府前社区片区控规修编，在社区综合服务中心内预留300平方米设置社区卫生服务站。" \
	  --deadline 2022-10-31 --milestone "2022-06-30:完成控规修编并预留用房" --milestone "2022-09-30:完成装修并配齐设备"
	@echo "--- close-out: work, request with evidence, verify, close"
	$(DUBAN) item transition PT2022-0001 --to in_progress --by 城关街道 --as-of 2022-04-20
	$(DUBAN) item transition PT2022-0001 --to close_requested --by 城关街道 --as-of 2022-06-24 \
	  --note "已解除租赁合同并收回用房，社区服务功能已恢复。" --evidence samples/evidence/整改完成情况说明.txt
	$(DUBAN) item transition PT2022-0001 --to verified --by 民政局 --as-of 2022-06-28
	$(DUBAN) item transition PT2022-0001 --to closed --by 区配套办 --as-of 2022-06-30
	@echo "--- a key item returned once by its lead department before it is closed"
	$(DUBAN) item transition PT2022-0002 --to in_progress --by 城关街道 --as-of 2022-04-20
	$(DUBAN) item transition PT2022-0002 --to close_requested --by 城关街道 --as-of 2022-07-20 \
	  --note "开发企业已提交移交申请。" --evidence samples/evidence/整改完成情况说明.txt
	$(DUBAN) item transition PT2022-0002 --to in_progress --by 教体局 --as-of 2022-07-22 \
	  --note "产权登记尚未办结，不符合销号条件，退回继续整改。"
	$(DUBAN) item transition PT2022-0002 --to close_requested --by 城关街道 --as-of 2022-08-26 \
	  --note "产权移交和不动产登记均已办结，幼儿园已完成招生准备。" --evidence samples/evidence/产权移交证明.txt
	$(DUBAN) item transition PT2022-0002 --to verified --by 教体局 --as-of 2022-08-30
	$(DUBAN) item transition PT2022-0002 --to closed --by 区配套办 --as-of 2022-09-02
	@echo "--- another township may not touch 城关街道's item: refused, nothing changes"
	$(DUBAN) item transition PT2022-0003 --to in_progress --by 河东镇 --as-of 2022-09-05 \
	  || echo "(refused with exit status $$?, as it should be)"
	$(DUBAN) item show PT2022-0002
	$(DUBAN) ledger export $(DEMO_HOME)/台账导出.xlsx
	$(DUBAN) status --as-of 2022-09-30

clean:
	rm -rf $(VENV) .duban .pytest_cache .ruff_cache *.egg-info
