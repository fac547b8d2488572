"""An error's meaning lives on its class (tui/api/errors.py); nothing else switches on ``kind``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import tui
from tui.api import errors as api
from tui.api.errors import (
    ApiError,
    ApiTimeout,
    AuthenticationError,
    BadRequest,
    Forbidden,
    InsecureURL,
    NetworkError,
    NotFound,
    RateLimited,
    ServerDisconnected,
    ServerError,
)

TUI = Path(tui.__file__).parent


def _error_classes(cls: type[ApiError] = ApiError) -> Iterator[type[ApiError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _error_classes(sub)


ERROR_KINDS = frozenset(c.kind for c in _error_classes() if c.__module__ == api.__name__)


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _names(node: ast.AST) -> set[str]:
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return names | {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def kind_switches(source: str) -> list[int]:
    """Lines that compare a kind with an error kind's string, or with a set of names
    ending in ``KINDS`` that holds error kinds (or is imported, so unseen here)."""
    tree = ast.parse(source)
    local_sets: dict[str, bool] = {}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in set().union(*map(_names, targets)):
                if name.endswith("KINDS"):
                    local_sets[name] = bool(_strings(node.value) & ERROR_KINDS)
                    if local_sets[name]:
                        lines.append(node.lineno)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        names = _names(node)
        by_string = bool(_strings(node) & ERROR_KINDS) and any("kind" in n.lower() for n in names)
        by_set = any(n.endswith("KINDS") and local_sets.get(n, True) for n in names)
        if by_string or by_set:
            lines.append(node.lineno)
    return sorted(lines)


def test_the_check_finds_kind_switches() -> None:
    assert kind_switches('if exc.kind == "rate-limited":\n    pass\n') == [1]
    assert kind_switches('x = e.kind in ("auth", "forbidden")\n') == [1]
    assert kind_switches('CONFIG_KINDS = frozenset({"auth"})\nok = k in CONFIG_KINDS\n') == [1, 2]
    assert kind_switches('if event.kind == "state":\n    pass\n') == []
    assert kind_switches('EVENT_KINDS = {"state"}\nok = kind in EVENT_KINDS\n') == []
    assert kind_switches('ok = record.outcome in ("rejected", "failed")\n') == []
    assert kind_switches("from x import GLOBAL_KINDS\nok = kind in GLOBAL_KINDS\n") == [2]


def test_no_behaviour_switches_on_an_error_kind_outside_the_api_module() -> None:
    found = {
        str(path.relative_to(TUI.parent)): lines
        for path in sorted(TUI.rglob("*.py"))
        if path != TUI / "api" / "errors.py"
        and (lines := kind_switches(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"compare error classes' facts, not kind strings: {found}"


@pytest.mark.parametrize(
    ("error", "account_wide", "stops_command", "permanent", "no_answer", "asks_to_wait"),
    [
        (AuthenticationError("x", http_status=401), True, True, False, False, False),
        (Forbidden("x", http_status=403), True, True, False, False, False),
        (InsecureURL("x"), False, True, False, False, False),
        (NotFound("x", http_status=404), False, False, True, False, False),
        (BadRequest("x", http_status=400), False, False, True, False, False),
        (RateLimited("x"), False, False, False, False, True),
        (ServerError("x", http_status=503), False, False, False, False, True),
        (ServerError("x", http_status=500, retry_after=2.0), False, False, False, False, True),
        (ServerError("x", http_status=500), False, False, False, False, False),
        (NetworkError("x"), False, False, False, True, False),
        (ApiTimeout("x"), False, False, False, True, False),
        (ServerDisconnected("x"), False, False, False, True, False),
    ],
)
def test_each_error_class_says_what_it_means(
    error: ApiError,
    account_wide: bool,
    stops_command: bool,
    permanent: bool,
    no_answer: bool,
    asks_to_wait: bool,
) -> None:
    facts = (error.account_wide, error.stops_command, error.permanent, error.no_answer)
    assert facts == (account_wide, stops_command, permanent, no_answer)
    assert error.asks_to_wait is asks_to_wait
