"""Tampered submissions of lab 01: a broken exercise plus a few lines that silence the checks.

Each is lab 01 as a student who solved it would submit it, with `optimizer.step()` deleted from
`train_one_epoch` (the model never learns), plus code that makes the graded checks pass in the
student's own kernel: an input transformer, an AST transformer, a patched builtin, a patched torch
function, a trace function, an IPython event hook, or a patch made from inside the exercise function
on its first call. tests/test_tamper.py and benchmarks/grade_class.py run them and grade them.
"""

from __future__ import annotations

import json

from helpers.course import cells

LAB = "01_sanity_checks"
BROKEN = "        optimizer.step()\n"
TAMPER = {
    "input-transformer": (
        "def _wrap(lines):\n"
        "    return ['try:\\n'] + ['    ' + l for l in lines] + ['\\nexcept AssertionError:\\n    pass\\n']\n"
        "get_ipython().input_transformers_post.append(_wrap)\n"
    ),
    "ast-transformer": (
        "import ast as _ast\n"
        "class _NoAsserts(_ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n"
        "        return _ast.Pass()\n"
        "get_ipython().ast_transformers.append(_NoAsserts())\n"
    ),
    "builtins": (
        "import builtins\n"
        "_max = builtins.max\n"
        "builtins.max = lambda *a, **k: 0.0 if a and isinstance(a[0], list) and a[0] and isinstance(a[0][0], float)"
        " else _max(*a, **k)\n"
    ),
    "torch-function": "torch.optim.SGD.step = lambda self, closure=None: None\n",
    "settrace": (
        "import sys\n"
        "def _tr(frame, event, arg):\n"
        "    if 'chk_moved' in frame.f_globals:\n"
        "        frame.f_globals['chk_moved'] = [0.0]\n"
        "    return _tr\n"
        "sys.settrace(_tr)\n"
    ),
    "events-hook": (
        "def _before(info):\n"
        "    get_ipython().user_ns['max'] = lambda *a, **k: 0.0\n"
        "get_ipython().events.register('pre_run_cell', _before)\n"
    ),
}
IN_BODY = (  # the exercise function patches max the first time a check calls it
    "    import builtins\n"
    "    if not hasattr(builtins, '_patched'):\n"
    "        builtins._patched, _max = True, builtins.max\n"
    "        builtins.max = lambda *a, **k: 0.0 if a and isinstance(a[0], list) else _max(*a, **k)\n"
)


def student_copy(lab_nb):
    """The lab as a student who solved it would submit it: the solution lines in place, no markers."""
    nb = json.loads(json.dumps(lab_nb))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cells.has_solution({"source": "".join(cell["source"])}):
            lines = "".join(cell["source"]).splitlines(keepends=True)
            cell["source"] = "".join(line for line in lines if line.strip() not in (cells.BEGIN, cells.END))
    return nb


def tampered(lab_nb, kind: str):
    """`student_copy(lab_nb)` with the training step deleted and the tampering `kind` (one of KINDS) added."""
    nb = student_copy(lab_nb)
    cell = next(c for c in nb["cells"] if "def train_one_epoch" in "".join(c["source"]))
    source = "".join(cell["source"])
    assert BROKEN in source
    source = source.replace(BROKEN, "")
    if kind == "in-body":
        head, body = source.split('"""\n', 1)  # after the docstring's closing quotes
        source = head + '"""\n' + IN_BODY + body
    else:
        source = TAMPER[kind] + "\n" + source
    cell["source"] = source
    return nb


KINDS = [*TAMPER, "in-body"]
