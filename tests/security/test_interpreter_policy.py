"""One hostile table against all three restricted evaluators (YAML eval tag, LazyConfig, mmengine).

Every snippet is refused through the real CLI (`cfglint show`) with exit 2 and a last stderr line
`file:line: message`, quickly, in a memory-capped process, and none creates the canary file. The
payload snippets are also run with real Python (`test_payloads_are_live`), which does create the
canary: that is what `Config.fromfile` / `LazyConfig.load` would do with them, so "no canary" can
fail. The policy itself is :mod:`cfglint.adapters.pycore`; its budget is tested directly below.
"""
from __future__ import annotations

import ast
import json
import os
import resource
import subprocess
import sys
import time

import pytest

from cfglint.adapters import pycore
from cfglint.adapters.pycore import Budget, Refusal

pytestmark = pytest.mark.slow   # the hostile table through three evaluators and the real CLI (run with --all)

LAZY_HEADER = "from detectron2.config import LazyCall as L\n"
MM_HEADER = "model = dict(type='FasterRCNN')\n"
PAYLOAD = "__import__('os').system('touch CANARY')"

#: Expressions: refused by all three evaluators (as `x = EXPR` on line 2 of a .py file, and as the
#: argument of `!!python/object/apply:eval` in a YAML file). Single quotes only (YAML-embeddable).
EXPRESSIONS = {
    "dunder_import": PAYLOAD,
    "open": "open('CANARY', 'w')",
    "dunder_walk": "().__class__.__bases__[0].__subclasses__()",
    "getattr": "getattr(1, 'real')",
    "eval": "eval('1')",
    "exec": "exec('x = 1')",
    "globals": "globals()",
    "lambda_called": "(lambda: open('CANARY', 'w'))()",
    "comprehension_walk": "[c for c in ().__class__.__mro__]",
    "format_attr": "'{0.__class__}'.format(1)",
    "fstring_payload": f"f'{{{PAYLOAD}}}'",
    "percent_width": "'%1500000000d' % 1",
    "percent_star": "'%*d' % (1500000000, 1)",
    "fstring_width": "f'{1:1500000000}'",
    "fstring_nested_width": "f'{1:{10 ** 9}}'",
    "format_width": "'{:1500000000}'.format(1)",
    "format_precision": "'{:.1500000000f}'.format(1.0)",
    "power": "2 ** 10 ** 10",
    "big_power": "10 ** 5000",
    "hex_literal": "0x" + "f" * 1300,
    "int_from_text": "int('9' * 5000)",
    "str_repeat": "'a' * 10 ** 10",
    "list_repeat": "[0] * 10 ** 10",
    "range": "range(10 ** 12)",
    "sum_range": "sum(range(10 ** 12))",
    "shift": "1 << 10 ** 10",
    "comprehension_items": "[[i, j] for i in range(3000) for j in range(3000)]",
    "replace_growth": "('a' * 1000).replace('a', 'a' * 10000)",
    "format_missing_key": "'{a}'.format()",   # an error of Python's own, still one line
    "join_growth": "('x' * 100000).join(['a'] * 1000)",
}

#: Statements (from line 2 of a .py file): (code, line of the refusal, evaluators it applies to).
BOTH = ("lazy", "mmdet")
STATEMENTS = {
    # what the framework executes at load time although it is not a value
    "annotation": (f"x: {PAYLOAD} = 1\n", 2, BOTH),
    "annotation_no_value": (f"x: {PAYLOAD}\n", 2, BOTH),
    "annotation_attribute_target": ("d = dict()\nd.a: int\n", 3, BOTH),
    "def_default": (f"def f(a={PAYLOAD}):\n    return a\n", 2, BOTH),
    "def_kw_default": (f"def f(*, a={PAYLOAD}):\n    return a\n", 2, BOTH),
    "def_annotation": (f"def f(a: {PAYLOAD}):\n    return a\n", 2, BOTH),
    "def_return_annotation": (f"def f() -> {PAYLOAD}:\n    return 1\n", 2, BOTH),
    "lambda_default": (f"f = lambda a={PAYLOAD}: a\n", 2, BOTH),
    "lambda_kw_default": (f"f = lambda *, a={PAYLOAD}: a\n", 2, BOTH),
    "chained_base_payload": (f"a = _base_ = {PAYLOAD}\n", 2, ("mmdet",)),
    "chained_base_rebinding": ("a = _base_ = []\n", 2, ("mmdet",)),
    "base_in_for": ("for _base_ in [[]]:\n    pass\n", 2, ("mmdet",)),
    "decorator": ("def deco(f):\n    return f\n@deco\ndef g():\n    return 1\n", 4, BOTH),
    "class_body": ("class A:\n    x = open('CANARY', 'w')\n", 2, BOTH),
    "while": ("while True:\n    pass\n", 2, BOTH),
    # LazyConfig imports for real (mmengine turns such imports into LazyObjects and runs nothing)
    "import_side_effect": ("import antigravity\n", 2, ("lazy",)),
    "from_import_side_effect": ("from http import server\n", 2, ("lazy",)),
    # bounded work (None: the refusal may name the loop or its body, whichever runs out first)
    "power_loop": ("x = 3\nfor i in range(100):\n    x = x ** 2\n", 4, BOTH),
    "square_loop": ("x = 3\nfor i in range(100):\n    x = x * x\n", 4, BOTH),
    "extend_doubling": ("x = [0]\nfor i in range(64):\n    x.extend(x)\n", 4, BOTH),
    "iadd_doubling": ("x = [0]\nfor i in range(64):\n    x += x\n", 4, BOTH),
    "replace_loop": ("s = 'ab'\nfor i in range(64):\n    s = s.replace('a', 'aa')\n", 4, BOTH),
    "format_loop": ("s = 'x'\nfor i in range(64):\n    s = '{}{}'.format(s, s)\n", 4, BOTH),
    "fstring_loop": ("s = 'x'\nfor i in range(64):\n    s = f'{s}{s}'\n", 4, BOTH),
    "insert_front_loop": ("x = [0] * 999999\nfor i in range(10 ** 6):\n    x.insert(0, 1)\n", None, BOTH),
    "membership_loop": ("x = list(range(999999))\nfor i in range(10 ** 6):\n    y = -1 in x\n", None, BOTH),
    "slice_copy_loop": ("x = [0] * 999999\nfor i in range(10 ** 6):\n    y = x[:]\n", None, BOTH),
    "str_count_loop": ("s = 'ab' * 499999\nfor i in range(10 ** 6):\n    n = s.count('c')\n", None, BOTH),
    "many_big_values": ("x = []\nfor i in range(1000):\n    x.append([0] * 999999)\n", 4, BOTH),
    "steps_loop": ("for i in range(10 ** 6):\n    for j in range(10 ** 6):\n        pass\n", None, BOTH),
    "steps_comprehension": ("x = [1 for i in range(10 ** 6) for j in range(10 ** 6)]\n", 2, BOTH),
    "shared_doubling": ("x = [0]\nfor i in range(100):\n    x = [x, x]\nmodel = dict(a=x)\n", None, BOTH),
    "shared_doubling_compared": ("x = [0]\nfor i in range(100):\n    x = [x, x]\ny = x == [x, x]\n", 5, BOTH),
    "shared_doubling_str": ("x = [0]\nfor i in range(100):\n    x = [x, x]\ny = str(x)\n", 5, BOTH),
    "shared_tuple_key": ("x = (0,)\nfor i in range(100):\n    x = (x, x)\nd = {x: 1}\n", 4, BOTH),
    "shared_tuple_repeat": ("x = (0,)\nfor i in range(15):\n    x = (x, x)\ny = (x,) * 1000\n", 5, BOTH),
    "nested_repeat": ("x = [[[[0] * 1000] * 1000] * 1000]\nmodel = dict(a=x)\n", 2, BOTH),
    "deep_nesting": ("x = [0]\nfor i in range(1000):\n    x = [x]\nmodel = dict(a=x)\n", None, BOTH),
    # (LazyConfig copies what `append` stores, as OmegaConf does: no cycle there)
    "cycle": ("x = [1]\nx.append(x)\nmodel = dict(a=x)\n", None, ("mmdet",)),
    "recursion": ("def f(n):\n    return f(n)\nx = f(1)\n", None, ("lazy",)),
    "big_int_literal": ("x = " + "9" * 5000 + "\n", 2, BOTH),
}

#: Must stay accepted (exit 0): the budget is not in the way of real config idioms.
ACCEPTED = {
    "loops_and_formats": ("sizes = [int(x * 2 ** (i / 3)) for x in [32, 64, 128] for i in range(3)]\n"
                          "names = []\nfor i in range(200):\n    names.append(f'layer{i:03d}')\n"
                          "s = '%5.2f|%-4s' % (1.5, 'ab')\nt = '{:>8}'.format('x').replace(' ', '.')\n"
                          "big = 2 ** 64\n"),
    "annotations": "x: int = 1\ny: 'List[int]' = [1]\nz: dict = dict(a=1)\n",
    "defaults": "def f(a=1, *, b=(2, 3)):\n    return a\ng = lambda c=4: c\n",
}


def _files(tmp_path):
    """(name, framework, path, expected line or None, canary) for every case that applies."""
    cases = []
    for name, expr in EXPRESSIONS.items():
        for kind in ("expr", "lazy", "mmdet"):
            d = tmp_path / f"{kind}-{name}"
            d.mkdir()
            canary = d / "CANARY"
            text = expr.replace("CANARY", str(canary))
            if kind == "expr":
                path = d / "cfg.yaml"
                path.write_text(f'MODEL:\n  SIZES: !!python/object/apply:eval ["{text}"]\n')
                cases.append((f"{kind}-{name}", "detectron2", path, 2, canary))
            else:
                path = d / "cfg.py"
                path.write_text((LAZY_HEADER if kind == "lazy" else MM_HEADER) + f"x = {text}\n")
                cases.append((f"{kind}-{name}", "detectron2" if kind == "lazy" else "mmdet", path, 2, canary))
    for name, (code, line, kinds) in STATEMENTS.items():
        for kind in kinds:
            d = tmp_path / f"{kind}-{name}"
            d.mkdir()
            canary = d / "CANARY"
            path = d / "cfg.py"
            path.write_text((LAZY_HEADER if kind == "lazy" else MM_HEADER) + code.replace("CANARY", str(canary)))
            cases.append((f"{kind}-{name}", "detectron2" if kind == "lazy" else "mmdet", path, line, canary))
    return cases


#: Runs `cfglint show` for many files in one capped process (one start-up); times each case.
_DRIVER = """
import contextlib, io, json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from cfglint.cli.main import run
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(args)
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
    results.append({"args": args, "code": code, "stderr": err.getvalue(), "seconds": time.monotonic() - start})
print(json.dumps(results))
"""


def _show_all(tmp_path, entries):
    commands = [["show", str(path), "--framework", framework] for _, framework, path, _, _ in entries]
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    process = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(commands)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=900, env=env)
    assert process.returncode == 0 and "Traceback" not in process.stderr, process.stderr[-3000:]
    return json.loads(process.stdout)


def test_hostile_table_is_refused_by_every_evaluator(tmp_path):
    entries = _files(tmp_path)
    assert {kind for kind in ("expr", "lazy", "mmdet") if any(e[0].startswith(kind) for e in entries)} == \
        {"expr", "lazy", "mmdet"}
    failures = []
    for (name, _, path, line, canary), result in zip(entries, _show_all(tmp_path, entries)):
        last = result["stderr"].strip().splitlines()[-1] if result["stderr"].strip() else ""
        prefix = f"{path}:{line}: " if line else f"{path}:"
        problems = []
        if result["code"] != 2:
            problems.append(f"exit {result['code']}")
        if not last.startswith(prefix) or (line is None and not last[len(prefix):].split(":")[0].isdigit()):
            problems.append(f"last line {last[:200]!r} does not start with {prefix!r}<line>")
        if "Traceback" in result["stderr"]:
            problems.append("traceback")
        if result["seconds"] > 20:
            problems.append(f"took {result['seconds']:.1f} s")
        if canary.exists():
            problems.append("CANARY created")
        if problems:
            failures.append(f"{name}: {', '.join(problems)}")
    assert not failures, "\n".join(failures)


def test_config_idioms_stay_accepted(tmp_path):
    entries = []
    for name, code in ACCEPTED.items():
        for kind in ("lazy", "mmdet"):
            path = tmp_path / f"{kind}-{name}.py"
            path.write_text((LAZY_HEADER if kind == "lazy" else MM_HEADER) + code)
            entries.append((name, "detectron2" if kind == "lazy" else "mmdet", path, None, None))
    for (name, _, path, _, _), result in zip(entries, _show_all(tmp_path, entries)):
        assert result["code"] == 0, (path.name, result["stderr"])


PAYLOADS = ["annotation", "annotation_no_value", "def_default", "def_kw_default", "def_annotation",
            "def_return_annotation", "lambda_default", "lambda_kw_default", "chained_base_payload"]


@pytest.mark.parametrize("name", PAYLOADS)
def test_payloads_are_live(tmp_path, name):
    """Executed as the frameworks execute a config file, these snippets do create the canary."""
    canary = tmp_path / "CANARY"
    code = STATEMENTS[name][0].replace("CANARY", str(canary))
    subprocess.run([sys.executable, "-c", f"exec(compile({code!r}, 'cfg.py', 'exec'), {{}})"], cwd=tmp_path,
                   capture_output=True, timeout=60)
    assert canary.exists(), f"{name} did not run its payload under real Python"


def test_mmengine_runs_annotations_and_chained_base(tmp_path):
    """The real `Config.fromfile` executes what cfglint now refuses (skipped without mmengine)."""
    mmengine_config = pytest.importorskip("mmengine.config")
    for name in ("annotation", "chained_base_payload", "def_default"):
        canary = tmp_path / f"CANARY-{name}"
        path = tmp_path / f"{name}.py"
        path.write_text(MM_HEADER + STATEMENTS[name][0].replace("CANARY", str(canary)))
        try:
            mmengine_config.Config.fromfile(str(path))
        except Exception:  # noqa: BLE001 - only the side effect matters
            pass
        assert canary.exists(), name


# ---- the budget, directly ---------------------------------------------------------------------------
NODE = ast.parse("x", mode="eval").body


def _refused(fn, *args):
    start = time.monotonic()
    with pytest.raises(Refusal) as info:
        fn(*args)
    assert time.monotonic() - start < 1.0
    return info.value


def test_budget_steps():
    budget = Budget(steps=10)
    for _ in range(10):
        budget.step(NODE)
    refusal = _refused(budget.step, NODE)
    assert refusal.kind == pycore.LIMIT and "steps" in refusal.message and refusal.node is NODE
    assert refusal.error("f.py").line == NODE.lineno and str(refusal.error("f.py")).startswith("f.py:1: ")


def test_budget_sizes_are_checked_before_building():
    budget = Budget()
    assert "enormous number" in _refused(pycore.binop, ast.Pow, 3, 10 ** 12, NODE, budget).message
    assert "enormous number" in _refused(pycore.binop, ast.Mult, 3 ** 2500, 3 ** 2500, NODE, budget).message
    assert "too long" in _refused(pycore.binop, ast.Mult, "ab", 10 ** 12, NODE, budget).message
    assert "too long" in _refused(pycore.binop, ast.Mod, "%1500000000d", 1, NODE, budget).message
    assert "too long" in _refused(pycore.str_method, "a" * 1000, "replace", ("a", "b" * 10 ** 4), {}, NODE,
                                  budget).message
    assert "too long" in _refused(pycore.format_value, 1, -1, "1500000000", NODE, budget).message
    assert "too long" in _refused(pycore.check_extend, [0] * 600_000, [0] * 600_000, NODE).message
    assert "enormous number" in _refused(pycore.check_constant, 1 << 5000, NODE).message
    assert pycore.binop(ast.Pow, 10, 1000, NODE, budget) == 10 ** 1000   # within the limit


def test_budget_total_items():
    budget = Budget()
    chunk = "x" * (pycore.MAX_ITEMS // 2)   # strings cost few steps: the total is what stops them
    for _ in range(pycore.MAX_TOTAL_ITEMS // len(chunk)):
        budget.charge(chunk, NODE)
    assert "in all" in _refused(budget.charge, chunk, NODE).message
    lists = Budget()
    big = [0] * pycore.MAX_ITEMS
    for _ in range(4 * pycore.MAX_STEPS // pycore.MAX_ITEMS):
        lists.charge(big, NODE)   # a list costs a step per 4 items (they are copied one by one later)
    assert "steps" in _refused(lists.charge, big, NODE).message


def test_budget_measures_shared_values():
    budget = Budget()
    x: list = [0]
    for _ in range(100):
        x = [x, x]          # 2**100 items expanded, 100 lists in memory
    assert "too long" in _refused(budget.measure, x, NODE).message
    deep: list = [0]
    for _ in range(pycore.MAX_DEPTH + 5):
        deep = [deep]
    assert "nested" in _refused(budget.measure, deep, NODE).message
    cycle: list = [1]
    cycle.append(cycle)
    assert "cycle" in _refused(budget.measure, cycle, NODE).message
    budget.measure({"a": [1, 2, {"b": (3, 4)}]}, NODE)   # ordinary data passes


def test_policy_tables():
    assert {"open", "exec", "eval", "getattr", "__import__", "globals"} <= pycore.REFUSED_NAMES
    assert not set(pycore.PURE_BUILTINS) & pycore.REFUSED_NAMES
    assert set(pycore.EXPR_BUILTINS) <= set(pycore.LAZY_BUILTINS) <= set(pycore.MMDET_BUILTINS) <= \
        set(pycore.PURE_BUILTINS)
    assert pycore.MAX_INT_BITS * 0.302 < 4300   # printing the largest allowed int never raises
    assert _refused(pycore.check_attribute, "__class__", NODE).kind == pycore.UNSAFE
    assert pycore.refused_name("__builtins__") and pycore.refused_name("open") and not pycore.refused_name("x")
    with pytest.raises(Refusal):
        pycore.check_annotation(ast.parse("x: f() = 1").body[0].annotation)
    pycore.check_annotation(ast.parse("x: Optional[List[int]] | None = 1").body[0].annotation)


#: Under an audit hook: load each file with mmengine's `Config.fromfile` and report the events that
#: reach the machine (processes, sockets, writes outside mmengine's own temporary copies).
_AUDIT = """
import json, sys, tempfile
events = []
tmp = tempfile.gettempdir()
def hook(event, args):
    if event in ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "socket.connect",
                 "webbrowser.open", "pty.spawn"):
        events.append(event)
    elif event == "open" and isinstance(args[0], str) and len(args) > 1 and isinstance(args[1], str) \\
            and any(c in args[1] for c in "wax+") and not args[0].startswith(tmp):
        events.append(f"open-for-write {args[0]}")
from mmengine.config import Config
sys.addaudithook(hook)
for path in sys.argv[1:]:
    events.clear()
    try:
        Config.fromfile(path)
    except Exception as exc:
        events.append(f"error {type(exc).__name__}")
    print(json.dumps([path, events]))
"""


def test_accepted_idioms_run_nothing_under_mmengine(tmp_path):
    """What cfglint accepts (exit 0) is loaded by mmengine without processes, sockets or writes;
    the same hook does see the payload of a snippet cfglint refuses, so the check can fail."""
    pytest.importorskip("mmengine.config")
    accepted = []
    for name, code in ACCEPTED.items():
        path = tmp_path / f"{name}.py"
        path.write_text(MM_HEADER + code)
        accepted.append(str(path))
    payload = tmp_path / "payload.py"
    payload.write_text(MM_HEADER + STATEMENTS["annotation"][0].replace("CANARY", str(tmp_path / "c")))
    process = subprocess.run([sys.executable, "-c", _AUDIT, *accepted, str(payload)], capture_output=True,
                             text=True, timeout=300, cwd=tmp_path)
    results = dict(json.loads(line) for line in process.stdout.splitlines())
    assert set(results) == set(accepted) | {str(payload)}, process.stderr[-2000:]
    assert all(results[p] == [] for p in accepted), results
    assert "os.system" in results[str(payload)]
