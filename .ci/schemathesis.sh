#!/usr/bin/env bash
# Schemathesis against a live server, for an administrator and a site-A coordinator: see the
# docstring of .ci/schemathesis_run.py (and docs/api.md). Needs `make install` first.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python .ci/schemathesis_run.py "$@"
