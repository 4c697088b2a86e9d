"""No test module reads the clock when it is imported.

A date computed at import (`DAY = dt.date.today() + ...`) is the day the test process started,
not the day the test runs: a run that crosses midnight, a worker that lives on, or a test that
travels in time (time_machine) sees a stale value. Compute it in a fixture or in the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCK_READS = {"today", "now", "utcnow", "localdate"}


def _reads_the_clock(call: ast.Call) -> bool:
    function = call.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    # timezone.localtime() with no argument is the current time; with one it converts it.
    return name in CLOCK_READS or (name == "localtime" and not call.args)


class _AtImport(ast.NodeVisitor):
    """Calls evaluated when the module is imported: module and class bodies, default values and
    decorators, never the bodies of functions or lambdas."""

    def __init__(self) -> None:
        self.lines: list[int] = []

    def visit_Call(self, node: ast.Call) -> None:
        if _reads_the_clock(node):
            self.lines.append(node.lineno)
        self.generic_visit(node)

    def _signature(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._signature(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._signature(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._signature(node)


def clock_reads_at_import(source: str) -> list[int]:
    """The lines where `source`, imported, would read the clock."""
    visitor = _AtImport()
    visitor.visit(ast.parse(source))
    return sorted(visitor.lines)


def test_the_check_tells_a_read_at_import_from_one_in_a_test():
    source = (
        "import datetime as dt\n"
        "DAY = dt.date.today() + dt.timedelta(days=14)\n"
        "NOW = timezone.now()\n"
        "FIXED = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)\n"
        "class Data:\n"
        "    when = dt.datetime.now(dt.UTC)\n"
        "def helper(day=timezone.localdate()):\n"
        "    return dt.date.today()\n"
        "@pytest.fixture\n"
        "def day():\n"
        "    return timezone.localtime().date()\n"
        "later = lambda: dt.date.today()\n"
        "SHOWN = timezone.localtime(FIXED)\n"
    )
    assert clock_reads_at_import(source) == [2, 3, 6, 7]


def test_no_test_module_reads_the_clock_at_import():
    found = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in clock_reads_at_import(path.read_text(encoding="utf-8"))
    ]
    assert not found, "the clock read at import; read it in a fixture or the test:\n" + "\n".join(
        found
    )
