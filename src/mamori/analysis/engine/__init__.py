"""The interprocedural taint engine: abstract interpretation of Python over :mod:`ast`.

Every function of a module that may touch untrusted input is run abstractly over
:class:`~mamori.analysis._values.Val` values: assignments, containers, attributes, string
building, branches (with constant folding: a branch whose condition is known never runs),
loops, ``try``/``with``, comprehensions and ``match``. A call of the project's own code is
summarised once per *shape* of its arguments (constants, referenced objects, instance fields),
with placeholder taints for the parameters; the summary says what the function returns, what
it does to its receiver and which parameters reach which sinks. A caller substitutes its own
flows into the summary, so the cost stays near linear in the size of the project while flows
cross functions, methods, classes and modules.

Cost stays bounded on any input: a flow's identity is its source site and the sinks it was
cleared for, not its path (so branches and loops never multiply flows); a function has at
most ``MAX_CONTEXTS`` precise summaries before calls share a coarse one; and every entry point
runs within a work budget (:class:`Budget`): past it, the entry is run again using only the
summaries at hand, and the cut is reported so that no input can make a scan hang.

Calls through values chosen at run time reach every callable the value may hold: a dispatch
table looked up with a key known only at run time (``self.routes.get((method, path))``), a
handler picked by a branch, ``getattr(self, "do_" + name)``; such a value is a set of
alternatives (:func:`~mamori.analysis._values.alternatives`) and a call of it is a call of each.
A method analysed as an entry point sees ``self`` as its class's ``__init__`` leaves it.
Functions that follow a server's calling convention (WSGI's ``environ, start_response``)
receive request data in the parameter the convention names.

Conditions sanitise too: after ``if x not in ALLOWED: return`` or a containment check of a
resolved path, ``x`` is cleared for the sinks such a check protects.

Where things are (each part a mixin of :class:`~.frame.Frame`, sharing :class:`~.core.FrameBase`):

- :mod:`.core`: budgets, limits, the records the engine keeps, helpers over :mod:`ast`;
- :mod:`.project`: the scanned project, module loading, entry points, recorded findings;
- :mod:`.statements`, :mod:`.expressions`: the abstract run of statements and expressions;
- :mod:`.calls`: calls of project code (through summaries) and of library code (through the
  models); :mod:`.sinks`: sink checks and reporting; :mod:`.summaries`: per-function summaries;
- :mod:`.conditions`: tests that sanitise (``if x not in ALLOWED: return``);
- :mod:`.frameworks`: framework conventions that need code (route parameters, request
  entries the client sets, CGI variables).

Sources, sinks, sanitisers and marks are data (``analysis/models/*.yaml``): a new one is a
YAML entry, not code. A framework convention that data cannot say is a method beside its
siblings in :mod:`.frameworks`.
"""

from mamori.analysis.engine.core import (
    ENTRY_BUDGET,
    MAX_CONTEXTS,
    MAX_DEPTH,
    MODULE_BUDGET,
    Budget,
    BudgetExhausted,
    FuncDef,
    ModuleInfo,
    RawFinding,
    Summary,
)
from mamori.analysis.engine.frame import Frame
from mamori.analysis.engine.project import Project
from mamori.pyfacts import walk

__all__ = [
    "ENTRY_BUDGET",
    "MAX_CONTEXTS",
    "MAX_DEPTH",
    "MODULE_BUDGET",
    "Budget",
    "BudgetExhausted",
    "Frame",
    "FuncDef",
    "ModuleInfo",
    "Project",
    "RawFinding",
    "Summary",
    "walk",
]
