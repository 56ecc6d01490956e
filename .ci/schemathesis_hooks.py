"""Loaded into the schemathesis run (SCHEMATHESIS_HOOKS, by .ci/schemathesis_run.py); not part of the product.

CPython 3.11.7 can raise `SystemError: AST constructor recursion depth mismatch` from `ast.parse` deep
inside Hypothesis, which parses a module's source only to print a lambda in a strategy's repr
(schemathesis's coverage phase filters strategies with lambdas). The repr is cosmetic: give it a plain
name instead of failing the whole operation with a runtime error that says nothing about the API.
"""

from __future__ import annotations

from typing import Any

from hypothesis.internal import lambda_sources

_describe = lambda_sources.lambda_description


def _lambda_description(f: Any) -> str:
    try:
        return _describe(f)
    except SystemError:
        return "lambda"


lambda_sources.lambda_description = _lambda_description
