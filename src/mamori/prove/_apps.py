"""How users start the project's app, read from its files without running them.

For each framework, the candidates the harness tries in order: Flask's ``app = Flask(...)``
modules and ``create_app()`` factories (as ``flask run`` finds them), Django's settings module
named in ``manage.py``, ASGI apps (``FastAPI(...)``, ``Starlette(...)``), aiohttp
``web.Application()``, Tornado ``Application([...])`` (or a subclass of it), plain WSGI
callables (``def application(environ, start_response)``) and ``http.server`` request handlers
(``class Handler(BaseHTTPRequestHandler)``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

_SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "site-packages",
    ".tox",
    "build",
    "dist",
}
_PREFERRED = (
    "app.py",
    "wsgi.py",
    "main.py",
    "run.py",
    "application.py",
    "server.py",
    "__init__.py",
    "asgi.py",
)
_CONSTRUCTORS = {
    "flask": ("Flask",),
    "asgi": ("FastAPI", "Starlette"),
    "aiohttp": ("Application",),
    "tornado": ("Application",),
}
_FACTORIES = ("create_app", "make_app", "get_app", "init_app", "build_app")
_HINTS = ("Flask(", "FastAPI(", "Starlette(", "Application", "start_response", "RequestHandler", *_FACTORIES)
_WSGI_PARAMS = ["environ", "start_response"]
_SETTINGS = re.compile(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)['\"]")


@dataclass(frozen=True, slots=True)
class AppSpec:
    """One way the app may be started."""

    framework: str
    module: str
    attr: str = ""
    cwd: str = ""
    """Folder (relative to the root) to start from, when not the root (Django's manage.py)."""
    setup: tuple[str, ...] = ()
    """Functions of the module its ``if __name__ == "__main__":`` block calls with no argument
    before it serves (``init()``, which opens the database the handlers use)."""


def _module_name(root: Path, path: Path, base: Path) -> str:
    rel = path.relative_to(base).with_suffix("")
    parts = list(rel.parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _python_files(root: Path, limit: int = 4000) -> list[Path]:
    out: list[Path] = []
    for path in sorted(root.rglob("*.py")):
        if any(part in _SKIP_DIRS or part.startswith(".") for part in path.relative_to(root).parts[:-1]):
            continue
        out.append(path)
        if len(out) >= limit:
            break
    return out


def _framework_of_imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for n in names:
            top = n.split(".")[0]
            if top == "flask":
                found.add("flask")
            elif top == "django":
                found.add("django")
            elif top in ("fastapi", "starlette"):
                found.add("asgi")
            elif top == "aiohttp":
                found.add("aiohttp")
            elif top == "tornado":
                found.add("tornado")
    return found


def framework_of_file(path: Path) -> set[str]:
    """The frameworks a source file imports."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return set()
    return _framework_of_imports(tree)


def imports_of(root: Path, spec: AppSpec) -> set[str]:
    """Top-level names the module that holds ``spec``'s app imports (``flask``, ``fastapi``...)."""
    base = root / spec.cwd if spec.cwd else root
    rel = Path(*spec.module.split("."))
    for path in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        return names
    return set()


_PROJECT_FILES = ("requirements.txt", "Dockerfile", "pyproject.toml", "setup.py", "Pipfile")


def _script_folder(root: Path, path: Path, tree: ast.Module) -> str:
    """The folder a script-style app is started from (``cd bad && python vulpy.py``), or ``""``.

    An app file below the root whose folder is no package (it imports its siblings as top-level
    modules), or whose folder holds its own requirements or Dockerfile (``WORKDIR`` there), runs
    from that folder: its relative files (``sqlite:///test.db``, templates) are found from there.
    A file with relative imports is part of a package and is imported from the root.
    """
    folder = path.parent
    if folder == root or path.name == "__init__.py":
        return ""
    if any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree)):
        return ""
    if (folder / "__init__.py").exists() and not any((folder / f).exists() for f in _PROJECT_FILES):
        return ""
    return str(folder.relative_to(root))


def _builds(fn: ast.FunctionDef | ast.AsyncFunctionDef, frameworks: set[str]) -> str:
    """The framework of the app a function of any name builds and returns (a factory), or ``""``.

    ``def init(argv): app = Application(...); ...; return app`` — what dvpwa's ``run.py`` calls
    under ``if __name__ == "__main__"``.
    """
    built: dict[str, str] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            ctor = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            for fw, names in _CONSTRUCTORS.items():
                if ctor in names and fw in frameworks:
                    built.update({t.id: fw for t in node.targets if isinstance(t, ast.Name)})
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id in built:
            return built[node.value.id]
    return ""


_SERVES = ("serve_forever", "run", "run_app", "run_simple", "start", "listen", "main")


def _main_setup(tree: ast.Module) -> tuple[str, ...]:
    """The module's own functions its main block calls bare (``init()``) before it serves.

    ``python dsvw.py`` runs ``init()`` then ``serve_forever()``: the harness serves the handler
    itself, and runs those calls first. A call that takes arguments, a call of an imported name,
    or one named like a server start (``main()``, ``run()``) is not run.
    """
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    out: list[str] = []
    for node in tree.body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)):
            continue
        names = {getattr(x, "id", None) for x in (node.test.left, *node.test.comparators)}
        if "__name__" not in names:
            continue
        for stmt in node.body:
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if not isinstance(call, ast.Call) or call.args or call.keywords:
                continue
            name = getattr(call.func, "id", "")
            if name in defined and name not in _SERVES and name not in out:
                out.append(name)
    return tuple(out)


def folder_of(spec: AppSpec) -> str:
    """The folder (relative to the root, ``""`` for the root) that holds the app's module."""
    parts = [p for p in spec.cwd.split("/") if p] + spec.module.split(".")[:-1]
    return "/".join(parts)


def specs_for(specs: list[AppSpec], path: str) -> list[AppSpec]:
    """``specs`` with those nearest the finding's file ``path`` first (a project of several apps)."""

    def shared(spec: AppSpec) -> int:
        folder = [p for p in folder_of(spec).split("/") if p]
        parts = path.split("/")[:-1]
        n = 0
        while n < len(folder) and n < len(parts) and folder[n] == parts[n]:
            n += 1
        return n if n == len(folder) else -1  # a folder the file is not under comes last

    return sorted(specs, key=lambda s: -shared(s))


def find_apps(root: Path) -> list[AppSpec]:
    """Every app of the project the harness could start, most likely first."""
    specs: list[tuple[int, AppSpec]] = []
    for path in _python_files(root):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if path.name == "manage.py":
            m = _SETTINGS.search(text)
            if m:
                cwd = str(path.parent.relative_to(root)) if path.parent != root else ""
                specs.append((0, AppSpec("django", m.group(1), "", cwd)))
            continue
        if not any(c in text for c in _HINTS):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        frameworks = _framework_of_imports(tree)
        module = _module_name(root, path, root)
        cwd = _script_folder(root, path, tree)
        if cwd:
            module = path.stem
        rank = _PREFERRED.index(path.name) if path.name in _PREFERRED else len(_PREFERRED)
        rank += 10 * len(path.relative_to(root).parts)
        rank += 0 if path.stem.isidentifier() else 5  # vulpy-ssl.py: a variant run as a script
        setup = _main_setup(tree)
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                ctor = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                for fw, names in _CONSTRUCTORS.items():
                    if ctor in names and fw in frameworks:
                        for target in node.targets:
                            if isinstance(target, ast.Name):
                                specs.append((rank, AppSpec(fw, module, target.id, cwd, setup)))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in _FACTORIES:
                for fw in sorted(frameworks & {"flask", "asgi", "aiohttp", "tornado"}):
                    specs.append((rank + 1, AppSpec(fw, module, node.name, cwd)))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                fw := _builds(node, frameworks)
            ):
                specs.append(
                    (rank + 3, AppSpec(fw, module, node.name, cwd))
                )  # def init(argv): ... return app
            elif isinstance(node, ast.FunctionDef) and [a.arg for a in node.args.args[:2]] == _WSGI_PARAMS:
                specs.append((rank + 2, AppSpec("wsgi", module, node.name, cwd, setup)))
            elif isinstance(node, ast.ClassDef):
                bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases]
                if any(b.endswith("HTTPRequestHandler") for b in bases):
                    specs.append((rank + 2, AppSpec("httpserver", module, node.name, cwd, setup)))
                elif "Application" in bases and "tornado" in frameworks:
                    specs.append((rank + 1, AppSpec("tornado", module, node.name, cwd)))
    specs.sort(key=lambda item: item[0])
    return [s for _, s in specs]
