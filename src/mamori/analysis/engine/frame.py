"""The abstract run of one function: the engine's parts put together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.analysis._values import (
    Taint,
    Val,
)
from mamori.analysis.engine.calls import Calls
from mamori.analysis.engine.conditions import Conditions
from mamori.analysis.engine.core import Env, ModuleInfo
from mamori.analysis.engine.expressions import Expressions
from mamori.analysis.engine.frameworks import FrameworkSources
from mamori.analysis.engine.sinks import Sinks
from mamori.analysis.engine.statements import Statements
from mamori.analysis.engine.summaries import Summaries
from mamori.model import TraceStep

if TYPE_CHECKING:
    from mamori.analysis.engine.project import Project


class Frame(Statements, Expressions, Calls, Sinks, Summaries, Conditions, FrameworkSources):
    """The abstract run of one function body (or of a module's top level)."""

    def __init__(
        self,
        project: Project,
        module: ModuleInfo,
        qual: str,
        env: Env,
        *,
        closure: Env | None = None,
        module_level: bool = False,
        depth: int = 0,
    ) -> None:
        self.p = project
        self.m = module
        self.qual = qual
        self.env = env
        self.closure = closure
        self.module_level = module_level
        self.depth = depth
        self.ret: Val | None = None
        self.hits: list[tuple[Taint, str, TraceStep, str]] = []
        self._hit_keys: set[tuple[Taint, str, str, int]] = set()
        self.loop_exits: list[list[Env]] = []
        self.derived: dict[str, frozenset[str]] = {}
        self.is_view = False
        self.cls_ctx = ""
        self.globals_declared: set[str] = set()
        self.sunk: set[Taint] = set()

    def child(
        self,
        module: ModuleInfo,
        qual: str,
        env: Env,
        *,
        closure: Env | None = None,
        module_level: bool = False,
        depth: int = 0,
    ) -> Frame:
        """A new frame of the same project (a callee's body, a class body)."""
        return Frame(self.p, module, qual, env, closure=closure, module_level=module_level, depth=depth)
