"""Naming code that changes how other code runs (`python -m helpers grade`).

A check cell runs after the student's cells, in the same interpreter: a few lines in an exercise
cell can rewrite every later cell (an IPython input or AST transformer), swap a builtin (`abs`),
patch the library a check compares against (`torch.allclose = ...`) or trace the check's frames.
Nothing a lab asks for needs any of that, so the grader reads every cell the student wrote (any
code cell whose text is not one of the lab's own cells: exercise cells, added cells, edited
cells) with `ast`, before anything runs, and names each such construct by cell, line and what it
does. A finding never changes a score by itself: a person decides; it keeps the row from being
clean. The scan is a tripwire, not a proof: what it cannot see is in docs/grading-tampering.md.

The other half is here too: a recorded headline metric at chance while every graded check passed
(`contradicting_results`) means the checks did not test what ran.
"""

from __future__ import annotations

import ast
import builtins

from helpers.course import cells
from helpers.experiments import learned_floor

# what touching each of these does, as the feedback says it
IPYTHON_HOOKS = {
    "input_transformers_post": "registers an IPython input transformer (rewrites every later cell before it runs)",
    "input_transformers_cleanup": "registers an IPython input transformer (rewrites every later cell before it runs)",
    "input_transformer_manager": "changes IPython's input transformers (rewrites every later cell before it runs)",
    "ast_transformers": "registers an IPython AST transformer (rewrites every later cell's code, e.g. its asserts)",
    "events": "registers an IPython event callback (runs code around every later cell)",
    "register_magic_function": "defines an IPython magic",
    "set_custom_exc": "installs an IPython exception handler (can hide a later cell's failure)",
    "showtraceback": "replaces how IPython reports a failure",
    "run_cell": "replaces or calls IPython's cell runner",
    "user_ns": "writes IPython's namespace directly",
    "excepthook": "replaces the exception hook (can hide a failure)",
    "displayhook": "replaces the display hook",
}
SYS_CALLS = {
    "settrace": "sets a trace function (sees and can change every later line's frame)",
    "setprofile": "sets a profile function (runs on every later call)",
    "_getframe": "inspects the call stack (can read and change its callers' variables)",
    "addaudithook": "adds an audit hook",
    "modules": "reads or changes sys.modules (can replace a module other cells import)",
    "meta_path": "changes the import system (can replace a module other cells import)",
    "path_hooks": "changes the import system (can replace a module other cells import)",
    "stdout": "replaces sys.stdout (can change what later cells print)",
    "stderr": "replaces sys.stderr (can change what later cells report)",
}
MODULES = {
    "builtins": "imports builtins (the functions every cell uses)",
    "importlib": "imports importlib (reloads or replaces modules)",
    "ctypes": "imports ctypes (writes the interpreter's memory)",
    "inspect": "imports inspect (reads the call stack and its frames)",
    "gc": "imports gc (reaches every object, the checks' own included)",
    "IPython": "imports IPython (the kernel's hooks)",
    "ipykernel": "imports ipykernel (the kernel itself)",
    "unittest": "imports unittest (mock.patch replaces functions)",
    "mock": "imports mock (replaces functions)",
    "types": "imports types (builds functions and modules by hand)",
    "threading": "imports threading (code that keeps running beside later cells)",
    "_thread": "imports _thread (code that keeps running beside later cells)",
    "signal": "imports signal (interrupts or hides later cells)",
    "atexit": "imports atexit",
    "code": "imports code (runs code from text)",
    "codeop": "imports codeop (compiles code from text)",
    "marshal": "imports marshal (loads compiled code)",
}
CALLS = {
    "get_ipython": "calls get_ipython() (the kernel's hooks)",
    "exec": "runs code from text (exec)",
    "eval": "runs code from text (eval)",
    "compile": "compiles code from text",
    "__import__": "imports by name (__import__)",
    "globals": "reaches the namespace as a dict (globals()), which can rebind any name",
    "vars": "reaches a namespace as a dict (vars())",
    "locals": "reaches a namespace as a dict (locals())",
    "setattr": "sets an attribute by name (setattr)",
    "delattr": "deletes an attribute by name (delattr)",
}
DUNDERS = {
    "__builtins__": "reaches __builtins__ (the functions every cell uses)",
    "__globals__": "reaches a function's globals (rebinds names other code uses)",
    "__code__": "replaces or reads a function's code object",
    "__class__": "changes or reaches an object's class",
    "__subclasses__": "walks the class tree (reaches objects it was not given)",
    "f_globals": "reads a frame's globals (another cell's or a check's variables)",
    "f_locals": "reads a frame's variables (a check's variables)",
    "f_back": "walks up the call stack (to a check's frame)",
    "f_builtins": "reaches a frame's builtins",
    "f_trace": "sets a frame's trace function",
    "currentframe": "inspects the call stack (can read and change its callers' variables)",
    "stack": None,  # inspect.stack: only when called on inspect
}
READ_OK = ("__class__", "__code__")  # reading them is common and harmless; assigning is not
SAFE_MAGICS = ("time", "timeit", "matplotlib", "pinfo", "pinfo2", "pip")
BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_"))


def parse_cell(source: str) -> ast.Module:
    """A cell's code: IPython syntax (`%magic`, `!cmd`) is turned into the calls it makes, then parsed."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython missing or puzzled: parse the text as it is
        pass
    return ast.parse(source)


def imported_names(tree: ast.AST) -> set[str]:
    """Names an `import` or `from ... import` binds anywhere in `tree` (modules, and what they hold)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found |= {a.asname or a.name for a in node.names if a.name != "*"}
    return found


def _root(node: ast.AST) -> str | None:
    """The name an attribute chain starts from: `torch` for `torch.nn.functional.relu`."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001
        return "?"


class _Scanner(ast.NodeVisitor):
    def __init__(self, imported: set[str]):
        self.imported, self.found = imported, []  # (line, what)
        self.depth = 0  # inside a function or class body

    def add(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in MODULES:
                self.add(node, MODULES[top])
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        top = (node.module or "").split(".")[0]
        if top in MODULES:
            self.add(node, MODULES[top])
        elif top == "sys":
            for alias in node.names:
                if alias.name in SYS_CALLS:
                    self.add(node, SYS_CALLS[alias.name])

    def visit_Attribute(self, node):
        base = _dotted(node.value)
        if node.attr in IPYTHON_HOOKS and (
            node.attr not in ("events", "run_cell") or "ipython" in base.lower() or "get_ipython" in base
        ):
            self.add(node, IPYTHON_HOOKS[node.attr])
        elif base == "sys" and node.attr in SYS_CALLS:
            self.add(node, SYS_CALLS[node.attr])
        elif node.attr in ("settrace", "setprofile") and base in ("threading", "_thread"):
            self.add(node, SYS_CALLS[node.attr])
        elif node.attr == "stack" and base == "inspect":
            self.add(node, DUNDERS["currentframe"])
        elif DUNDERS.get(node.attr) and (node.attr not in READ_OK or isinstance(node.ctx, ast.Store | ast.Del)):
            self.add(node, DUNDERS[node.attr])
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "__builtins__":
            self.add(node, DUNDERS["__builtins__"])
        elif node.id == "builtins" and "builtins" in self.imported:
            self.add(node, "uses builtins (the functions every cell uses)")
        self.generic_visit(node)

    def visit_Call(self, node):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in ("setattr", "delattr") and node.args:
            target = _root(node.args[0])
            if target in self.imported or target in ("builtins", "__builtins__"):
                self.add(node, f"{CALLS[name]} on `{_dotted(node.args[0])}`, which other cells use")
        elif name in CALLS and name not in ("setattr", "delattr"):
            self.add(node, CALLS[name])
        magic = self._magic(node)
        if magic and magic.split()[0].lstrip("%") not in SAFE_MAGICS:
            self.add(node, f"runs the IPython magic %{magic}")
        self.generic_visit(node)

    @staticmethod
    def _magic(node) -> str | None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic") and node.args:
            first = node.args[0]
            return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else "?"
        return None

    def _targets(self, node, targets) -> None:
        flat = []
        while targets:
            t = targets.pop()
            targets += (
                list(t.elts) if isinstance(t, ast.Tuple | ast.List) else [t.value] if isinstance(t, ast.Starred) else []
            )
            flat += [] if isinstance(t, ast.Tuple | ast.List | ast.Starred) else [t]
        for t in flat:
            if isinstance(t, ast.Attribute | ast.Subscript) and _root(t) in self.imported:
                self.add(node, f"assigns `{_dotted(t)}` on an imported module or class, which other cells use")
            if isinstance(t, ast.Name) and self.depth == 0 and t.id in BUILTIN_NAMES | self.imported:
                what = "the builtin" if t.id in BUILTIN_NAMES else "the imported name"
                self.add(node, f"rebinds {what} `{t.id}` for every later cell")
            if isinstance(t, ast.Name) and t.id == "__builtins__":
                self.add(node, DUNDERS["__builtins__"])

    def visit_Assign(self, node):
        self._targets(node, list(node.targets))
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._targets(node, [node.target])
        self.generic_visit(node)

    visit_AnnAssign = visit_AugAssign

    def visit_Delete(self, node):
        self._targets(node, list(node.targets))
        self.generic_visit(node)

    def visit_Global(self, node):
        if self.depth:
            self.add(node, f"rebinds the notebook's names {', '.join(node.names)} from inside a function (global)")


def scan_source(source: str, imported: set[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, what it does) of each construct in `source` that changes how other code runs.

    `imported`: names the lab's own cells import (`torch`, `F`, `nn` ...): assigning an attribute on
    one of them, or rebinding it, patches what a later check calls. A cell that is not Python says so.
    """
    try:
        tree = parse_cell(source)
    except SyntaxError as err:
        return [(err.lineno or 0, f"is not valid Python ({err.msg}); the grader could not read it for tampering")]
    scanner = _Scanner(set(imported) | imported_names(tree))
    scanner.visit(tree)
    seen, found = set(), []
    for line, what in sorted(scanner.found):
        if (line, what) not in seen:
            seen.add((line, what))
            found.append((line, what))
    return found


def lab_imports(lab_nb) -> set[str]:
    """Every name the lab's own code cells import (their modules and what they take from them)."""
    found = set()
    for cell in lab_nb.cells:
        if cell.get("cell_type") == "code":
            try:
                found |= imported_names(parse_cell(cell.source))
            except SyntaxError:
                continue
    return found


def student_cells(lab_nb, sub_nb) -> list[int]:
    """The submission's code cells the student wrote: every one whose text is not one of the lab's cells."""
    lab = {cells.normalized(c.source) for c in lab_nb.cells if c.get("cell_type") == "code"}
    return [
        j
        for j, c in enumerate(sub_nb.cells)
        if c.get("cell_type") == "code" and c.source.strip() and cells.normalized(c.source) not in lab
    ]


def scan(lab_nb, sub_nb) -> list[str]:
    """`tampering: cell N line L (`code`): what it does` for each finding in the student's cells."""
    imported, found = lab_imports(lab_nb), []
    for j in student_cells(lab_nb, sub_nb):
        source = sub_nb.cells[j].source
        lines = source.splitlines()
        for line, what in scan_source(source, imported):
            text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            code = f" (`{untrusted_clip(text)}`)" if text else ""
            found.append(f"tampering: {cells.describe_cell(j, sub_nb.cells[j])} line {line}{code}: {what}")
    return found


def untrusted_clip(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


CHANCE_DATASETS = {"cifar10": 10, "fashion-mnist": 10}


def contradicting_results(data: dict, checks_passed: bool) -> list[str]:
    """A note when the recorded headline metric sits at chance (helpers.experiments.learned_floor)
    while every graded check passed: the checks cannot have tested the code that trained this model."""

    if not checks_passed or not isinstance(data, dict):
        return []
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    name = next((k for k in ("test_top1", "val_top1") if k in metrics), None)
    value = metrics.get(name) if name else None
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    classes = config.get("num_classes") or CHANCE_DATASETS.get(str(data.get("dataset")))
    if not isinstance(value, int | float) or isinstance(value, bool) or not isinstance(classes, int) or classes < 2:
        return []
    floor = learned_floor(classes)
    if value == value and value > floor:
        return []
    return [
        f"results contradict the checks: {name} is {value:.3f}, at chance for {classes} classes (a working "
        f"pipeline clears {floor:.2f}), yet every graded check passed; read the exercise cells and the "
        "training output"
    ]
