"""Graded checks that student code did not run before, and probes that catch a tampered kernel.

`grade --reproduce` re-runs a submission as the student wrote it (`helpers.course.reproduce`):
there the student's cells still run first, in the same interpreter as the checks, and a few lines
can make every later check pass (an input transformer that swallows AssertionError, an AST
transformer that drops asserts, a patched builtin). Two more things happen here:

- **Definitions only.** A second fresh kernel, in the same sandbox and limits, runs the lab's own
  cells from labs/ up to its last graded check; in place of each exercise cell it runs only the
  definitions parsed from the student's cell (functions, classes, imports, and names bound to
  plain constants) followed by the lab's own statements of that cell. Every other top-level
  statement the student wrote is dropped and listed. The score of each graded check is its
  outcome there. One kernel serves every check of a notebook: a definition's body still runs
  when a check calls it, so tampering from inside it is left to the probes and the scan.
- **Probes.** In both runs the grader inserts cells of its own whose outcome it knows, with
  random values and names: one that must fail (a false assert, or an AssertionError raised), one
  that must pass and print a number, and one that prints the kernel's state (builtins, IPython's
  input and AST transformers and event callbacks, trace and profile functions, the functions of
  torch, torch.nn.functional, torch.Tensor, nn.Module, math and numpy), compared with the state
  a probe printed before any other cell ran (a module's functions: with the first probe that saw
  it imported; probes import nothing themselves). They sit before each group of graded checks, after
  each graded check, and at the end. A wrong outcome means "checks tampered".
"""

from __future__ import annotations

import ast
import json
import random
import secrets
import sys
from pathlib import Path

import nbformat

import helpers
from helpers.course import cells
from helpers.course.cells import solution_regions
from helpers.course.tamper import parse_cell

KEY = "labs_reproduce"  # the cell metadata key reproduce.py uses; probes add {"probe": kind, ...}
STATE_MODULES = ("torch", "torch.nn.functional", "torch.nn", "math", "numpy")
STATE_CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"))
KERNEL_SETS = {"input", "_", "__", "___"}  # builtins ipykernel itself sets before every cell
LIBRARY_REPLACES = {("torch", "manual_seed")}  # torch._dynamo wraps it when first imported
KEEP = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


# ---------------------------------------------------------------- definitions only


def _constant_binding(stmt: ast.stmt) -> bool:
    """`EPS = 1e-8`, `SIZES = (16, 32)`: names bound to literals run no code and are kept."""
    if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
        return False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    try:
        ast.literal_eval(stmt.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return all(isinstance(t, ast.Name) for t in targets)


def _segment(lines: list[str], stmt: ast.stmt) -> str:
    """A statement's own text, its decorators included."""
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
    return "\n".join(lines[first - 1 : stmt.end_lineno])


def _parse(source: str) -> ast.Module | None:
    try:
        return parse_cell(source)
    except (SyntaxError, ValueError):
        return None


def split_definitions(student: str, lab: str = "") -> tuple[str, list[tuple[int, str]]]:
    """(the code run in place of an exercise cell, (line, statement) of each student statement dropped).

    Kept: the student's definitions, imports and constant bindings, then the lab cell's own
    statements that are not definitions (lab 01's `loss0 = initial_loss(...)`); the lab's
    definitions are its model solution and are never run. A student statement that is one of the
    lab's own is not listed as dropped. Where the lab's solution is top-level code rather than a
    definition, there is nothing to separate: the student's cell is kept whole.
    """
    lab_tree = _parse(lab) or ast.Module(body=[], type_ignores=[])
    lab_lines = lab.splitlines()
    lab_rest = [s for s in lab_tree.body if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    try:
        regions = solution_regions(lab)
    except ValueError:
        regions = []
    if any(a < s.end_lineno and s.lineno - 1 <= b for s in lab_rest for a, b in regions):
        return student, []  # the exercise is top-level code, not a definition: the student's cell runs as written
    tree = _parse(student)
    if tree is None:
        return "\n".join(_segment(lab_lines, s) for s in lab_rest), [(1, "the whole cell: it is not valid Python")]
    lines, known = student.splitlines(), {ast.dump(s) for s in lab_tree.body}
    kept, dropped = [], []
    for stmt in tree.body:
        if isinstance(stmt, KEEP) or _constant_binding(stmt):
            kept.append(_segment(lines, stmt))
        elif ast.dump(stmt) not in known:
            dropped.append((stmt.lineno, lines[stmt.lineno - 1].strip()))
    return "\n\n".join(kept + [_segment(lab_lines, s) for s in lab_rest]), dropped


def _parameters_cell(lab_cell, sub_nb):
    """papermill's injected parameters, rebuilt from the submission's metadata: only the names the lab's
    parameters cell declares, only plain values (the cell's own text is the student's)."""
    declared = set()
    tree = _parse(lab_cell.source)
    for stmt in tree.body if tree else []:
        if isinstance(stmt, ast.Assign):
            declared |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    meta = sub_nb.metadata.get("papermill", {}) if isinstance(sub_nb.metadata, dict) else {}
    given = meta.get("parameters") if isinstance(meta, dict) else None
    plain = (str, int, float, bool, type(None))
    lines = [f"{k} = {v!r}" for k, v in (given or {}).items() if k in declared and isinstance(v, plain)]
    cell = nbformat.v4.new_code_cell("# Parameters\n" + "\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    return cell


def definitions_notebook(sub_nb, lab_nb, pairs: dict[int, int]) -> tuple[object, dict[int, int], list[str]]:
    """(the notebook to run, lab cell index -> its index there, what was dropped) for the definitions-only run.

    The lab's cells up to its last graded check, each exercise cell replaced as `split_definitions`
    says; definitions in cells the student added (not in the lab) are kept too, before the lab cell
    that follows them.
    """
    graded = [i for i, c in enumerate(lab_nb.cells) if cells.is_graded_check(c)]
    nb = nbformat.v4.new_notebook(metadata=json.loads(json.dumps(sub_nb.metadata)))
    if not graded:
        return nb, {}, []
    lab_of = {j: i for i, j in pairs.items()}
    added: dict[int, list[int]] = {}  # lab index -> the added submission cells just before it
    for j, cell in enumerate(sub_nb.cells):
        if cell.cell_type == "code" and j not in lab_of and cells.INJECTED_TAG not in cell.metadata.get("tags", []):
            following = min((i for k, i in lab_of.items() if k > j), default=None)
            if following is not None and following <= graded[-1]:
                added.setdefault(following, []).append(j)
    position, dropped = {}, []
    for i, lab_cell in enumerate(lab_nb.cells[: graded[-1] + 1]):
        for j in added.get(i, []):
            code, lost = split_definitions(sub_nb.cells[j].source)
            dropped += [f"added {cells.describe_cell(j, sub_nb.cells[j])} line {n}: `{s[:70]}`" for n, s in lost]
            if code.strip():
                nb.cells.append(nbformat.v4.new_code_cell(code))
        cell = json.loads(json.dumps(lab_cell))
        if lab_cell.cell_type == "code" and cells.has_solution(lab_cell):
            j = pairs.get(i)
            student = sub_nb.cells[j].source if j is not None else ""
            cell["source"], lost = split_definitions(student, lab_cell.source)
            where = cells.describe_cell(j, sub_nb.cells[j]) if j is not None else f"lab cell {i} (missing)"
            dropped += [f"{where} line {n}: `{s[:70]}`" for n, s in lost]
        position[i] = len(nb.cells)
        nb.cells.append(nbformat.from_dict(cell))
        if "parameters" in lab_cell.metadata.get("tags", []):
            nb.cells.append(_parameters_cell(lab_cell, sub_nb))
    return nb, position, dropped


# ---------------------------------------------------------------- probes


def _name(rng: random.Random) -> str:
    return "_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 9)))


def must_fail(rng: random.Random) -> str:
    a, b, v = rng.randint(2, 999), rng.randint(1000, 9999), _name(rng)
    return rng.choice(
        [
            f"{v} = {a}\nassert {v} == {b}, {secrets.token_hex(4)!r}",
            f"{v} = [{a}, {b}]\nassert {v}[0] > {v}[1]",
            f"raise AssertionError({secrets.token_hex(6)!r})",
            f"{v} = {a} * {b}\nassert {v} < {a}, 'probe {secrets.token_hex(3)}'",
        ]
    )


def must_pass(rng: random.Random) -> tuple[str, str]:
    """(the cell, the line it must print)."""
    a, b, v, token = rng.randint(2, 999), rng.randint(2, 999), _name(rng), secrets.token_hex(6)
    return f"{v} = {a} + {b}\nassert {v} == {a + b}\nprint({token!r}, {v})", f"{token} {a + b}"


def state_probe(rng: random.Random) -> tuple[str, str]:
    """(the cell, the token its one line of JSON starts with): the kernel's state, as data."""
    f, g, h, token = _name(rng), _name(rng), _name(rng), secrets.token_hex(8)
    return (
        f"""def {f}():
    import builtins, json, sys
    {g} = get_ipython()

    def {h}(x):
        code = getattr(x, "__code__", None) or getattr(getattr(x, "__func__", None), "__code__", None)
        where = code.co_filename if code is not None else ""
        mod = getattr(x, "__module__", type(x).__module__)
        return f"{{mod}}.{{getattr(x, '__qualname__', type(x).__qualname__)}}@{{where}}"

    found = {{"builtins": {{k: id(v) for k, v in vars(builtins).items()}}, "modules": {{}},
             "input_transformers_post": [{h}(t) for t in {g}.input_transformers_post],
             "input_transformers_cleanup": [{h}(t) for t in {g}.input_transformers_cleanup],
             "ast_transformers": [{h}(t) for t in {g}.ast_transformers],
             "events": {{e: [{h}(c) for c in cs] for e, cs in {g}.events.callbacks.items()}},
             "trace": {h}(sys.gettrace()) if sys.gettrace() else None,
             "profile": {h}(sys.getprofile()) if sys.getprofile() else None}}
    for name in {STATE_MODULES!r}:
        if name in sys.modules:  # never imported here: a kernel under a small memory limit may not hold torch
            found["modules"][name] = {{k: id(v) for k, v in vars(sys.modules[name]).items()}}
    for mod, cls in {STATE_CLASSES!r}:
        if mod in sys.modules:
            held = vars(getattr(sys.modules[mod], cls))
            found["modules"][mod + "." + cls] = {{k: id(v) for k, v in held.items()}}
    print({token!r}, json.dumps(found))


{f}()
del {f}""",
        token,
    )


def _probe(source: str, kind: str, **meta):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[KEY] = {"probe": kind, **meta}
    return cell


def add_probes(nb, graded: set[int]) -> None:
    """Put probes into a prepared notebook (cells carry {KEY: {"check": lab index}}): the state first of all,
    the three probes before each group of graded checks and at the end, a state probe after each graded check."""
    rng = random.Random(secrets.randbits(64))

    def trio():
        passing, line = must_pass(rng)
        state, token = state_probe(rng)
        found = [_probe(must_fail(rng), "fail"), _probe(passing, "pass", expect=line)]
        found.append(_probe(state, "state", token=token))
        rng.shuffle(found)
        return found

    def is_graded(cell) -> bool:
        return cell.metadata.get(KEY, {}).get("check") in graded

    out, previous = [], False
    for cell in nb.cells:
        now = is_graded(cell)
        if now and not previous:
            out += trio()
        out.append(cell)
        if now:
            state, token = state_probe(rng)
            out.append(_probe(state, "state", token=token))
        previous = now
    state, token = state_probe(rng)
    nb.cells = [_probe(state, "baseline", token=token), *out, *trio()]


def _stream(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _state(cell, token: str) -> dict | None:
    for line in _stream(cell).splitlines():
        if line.startswith(token + " "):
            try:
                found = json.loads(line[len(token) + 1 :])
            except ValueError:
                return None
            return found if isinstance(found, dict) else None
    return None


def _library_roots() -> tuple[str, ...]:
    """Where the environment's own code lives: a callback defined there was not written in a cell. Besides
    the prefixes, every installed-packages folder on the path: a virtual environment may take its packages
    from one outside its prefix (a `.pth` line, a shared course install), and the kernel imports from it too."""
    installed = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    return tuple(
        {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(helpers.__file__).resolve().parent), *installed}
    )


def _not_library(callbacks: list[str]) -> list[str]:
    """The callbacks whose code was not loaded from the environment (matplotlib registers one on import)."""
    roots = _library_roots()
    return [c for c in callbacks if not c.rpartition("@")[2].startswith(roots)]


def _changes(base: dict, now: dict) -> list[str]:
    """What differs between two printed states, named."""
    found = []
    for k in sorted((set(base["builtins"]) | set(now["builtins"])) - KERNEL_SETS):
        if base["builtins"].get(k) != now["builtins"].get(k):
            how = "deleted" if k not in now["builtins"] else "added" if k not in base["builtins"] else "replaced"
            found.append(f"builtin `{k}` {how}")
    for key in ("input_transformers_post", "input_transformers_cleanup", "ast_transformers"):
        extra = [t for t in now.get(key, []) if t not in base.get(key, [])]
        if extra or len(now.get(key, [])) != len(base.get(key, [])):
            found.append(f"IPython {key} changed (now {', '.join(now.get(key, [])) or 'none'})")
    for event in sorted(set(base.get("events", {})) | set(now.get("events", {}))):
        was, is_ = (
            _not_library(base.get("events", {}).get(event, [])),
            _not_library(now.get("events", {}).get(event, [])),
        )
        if was != is_:
            found.append(f"IPython event {event!r} callbacks changed (now {', '.join(is_) or 'none'})")
    for key in ("trace", "profile"):
        if now.get(key) != base.get(key):
            found.append(f"sys.set{key} function set ({now.get(key)})")
    for name in sorted(base.get("modules", {})):
        was, is_ = base["modules"][name], now.get("modules", {}).get(name, {})
        moved = sorted(k for k in was if is_.get(k) != was[k] and (name, k) not in LIBRARY_REPLACES)
        if moved:
            more = " ..." if len(moved) > 8 else ""
            found.append(f"{name}: {', '.join('`' + k + '`' for k in moved[:8])}{more} replaced")
    return found


def read_probes(run_nb, replies: dict[int, str], where: str) -> list[str]:
    """What the probes of an executed notebook show: [] when every probe came out as it must."""
    found, base = [], None
    for k, cell in enumerate(run_nb.cells):
        meta = cell.metadata.get(KEY, {})
        kind = meta.get("probe")
        if not kind:
            continue
        status = replies.get(k)
        if status is None:
            continue  # the run stopped before it: a limit, named by the reproduction itself
        if kind == "fail" and status == "ok":
            found.append(f"{where}: a probe cell that must fail (a false assert) passed: something swallows failures")
        elif kind == "pass" and (status != "ok" or meta["expect"] not in _stream(cell)):
            found.append(f"{where}: a probe cell that must pass and print a number did not")
        elif kind in ("state", "baseline"):
            state = _state(cell, meta["token"])
            if state is None:
                found.append(f"{where}: a probe of the kernel's state printed nothing readable (status {status})")
            elif kind == "baseline":
                base = state
            elif base is not None:
                found += [f"{where}: {c}" for c in _changes(base, state)]
                for name, held in state.get("modules", {}).items():  # a module's first sight is its baseline
                    base.setdefault("modules", {}).setdefault(name, held)
    return list(dict.fromkeys(found))


def graded_outcomes(run_nb, replies: dict[int, str], graded: set[int]) -> tuple[dict, list]:
    """(lab index -> passed/failed/not run for each graded check, the first error of each other cell that raised)."""
    checks, errors = {}, []
    for k, cell in enumerate(run_nb.cells):
        meta = cell.metadata.get(KEY, {})
        if meta.get("probe") or meta.get("setup") or cell.cell_type != "code":
            continue
        status, raised = replies.get(k), cells.error_outputs(cell)
        why = f"{raised[0].get('ename')}: {str(raised[0].get('evalue'))[:200]}" if raised else ""
        if meta.get("check") in graded:
            ran = "passed" if status == "ok" and not raised else "failed"
            checks[meta["check"]] = "not run" if status is None else ran
            if why:
                errors.append(f"the lab's check cell {meta['check']}: {why}")
        elif why:
            errors.append(f"`{cells.snippet(cell.source)}`: {why}")
    return checks, errors
