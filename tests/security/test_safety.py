"""Hostile pull requests (issue 16): confined reads, no secrets out, bounded work, safe output.

Layout of every case (a scratch directory, like a CI runner):

    tmp/outside/          secret files beside the checkout (SECRET inside each)
    tmp/configs/common/   a model-zoo lookalike above the checkout (for get_config's upward search)
    tmp/repo/.git         the checkout: fixtures/hostile/safety/* copied here, cwd of every command

The environment holds ENV_SECRET. Each case goes through the real CLI entry point
(`cfglint.cli.main.run`, in a fresh, memory-capped process with a wall-clock limit) with `show`,
`show --raw`, `diff`, `lint`, `verify` and `convert` in every output format, and every stream of
every command is searched for both secrets, reversed, base64 and hex encoded. Every run must exit
0, 1 or 2, print no traceback, no raw control character and no line GitHub would take as a
workflow command (except `--format github`'s own annotations), and JSON/SARIF must parse strictly.
"""
from __future__ import annotations

import base64
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

from tests.conftest import FIXTURES, REPO, SHARED

pytestmark = pytest.mark.slow   # the hostile corpus through every command, with canaries (run with --all)

CORPUS = FIXTURES / "hostile" / "safety"
SECRET = "s3cr3t-FILE-7f3a9c1e"
ENV_SECRET = "s3cr3t-ENV-0b5d2e8f"
ENV = {"CFGLINT_CANARY_ENV": ENV_SECRET, "NO_COLOR": "1", "COLUMNS": "200"}
MEMORY_LIMIT = 2 << 30
WALL_LIMIT = 60


def _forms(secret: str) -> List[str]:
    raw = secret.encode()
    return [secret, secret[::-1], base64.b64encode(raw).decode(), raw.hex(), raw.hex().upper(),
            base64.b64encode(raw[::-1]).decode()]


FORBIDDEN = _forms(SECRET) + _forms(ENV_SECRET)


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


_DRIVER = r"""
import contextlib, io, json, sys, time
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
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 99)
    results.append({"args": args, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                    "seconds": time.monotonic() - start})
sys.stdout.write(json.dumps(results))
"""


@pytest.fixture
def world(tmp_path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"MODEL:\n  WEIGHTS: {SECRET}\n  {SECRET}: 1\n")
    (outside / "secret.py").write_text(f"model = dict(type='{SECRET}')\n{SECRET} = 1\n")
    (outside / "secret.json").write_text(json.dumps({"model": {"type": SECRET}, SECRET: 1}))
    (outside / "secret.txt").write_text(SECRET)
    zoo = tmp_path / "configs" / "common"
    zoo.mkdir(parents=True)
    (zoo / "secret_model.py").write_text(f"from detectron2.config import LazyCall as L\nmodel = dict(x='{SECRET}')\n")
    repo = tmp_path / "repo"
    shutil.copytree(CORPUS, repo)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text(f'[http]\n\textraheader = AUTHORIZATION: basic {SECRET}\nK: {SECRET}\n')
    (repo / ".git" / "secret.py").write_text(f"model = dict(type='{SECRET}')\n")
    (repo / "link_to_secret.yaml").symlink_to(outside / "secret.yaml")
    (outside / "sub").mkdir()
    (repo / "dirlink").symlink_to(outside / "sub")   # dirlink/.. is `outside`, not the checkout
    os.mkfifo(repo / "fifo.yaml")
    os.mkfifo(repo / "fifo.py")
    (repo / "clean.yaml").write_text("MODEL:\n  MASK_ON: False\n")
    (repo / "clean.py").write_text("model = dict(type='FasterRCNN')\n")
    _write_checkpoint(repo / "tiny.safetensors")
    return repo


def _write_checkpoint(path: Path) -> None:
    header = json.dumps({"backbone.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0\0\0\0")


def run_many(cwd: Path, commands: Sequence[Sequence[str]], env: Optional[Dict[str, str]] = None) -> List[dict]:
    full_env = dict(os.environ, **ENV, **(env or {}))
    full_env.pop("FORCE_COLOR", None)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    try:
        process = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps([list(c) for c in commands])], cwd=cwd,
                                 env=full_env, capture_output=True, text=True, timeout=WALL_LIMIT,
                                 preexec_fn=_cap)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {WALL_LIMIT} s: {commands}")
    assert process.returncode == 0 and "Traceback" not in process.stderr, process.stderr[-3000:]
    results = json.loads(process.stdout)
    for result in results:
        check_streams(result)
    return results


def check_streams(result: dict) -> None:
    args = result["args"]
    assert result["code"] in (0, 1, 2), result
    github = "github" in args
    for stream in ("stdout", "stderr"):
        text = result[stream]
        for form in FORBIDDEN:
            assert form not in text, (f"secret leaked on {stream}", result)
        assert "Traceback" not in text, result
        for bad in ("\x1b", "\x07", "\r", "\x00", "\x9b"):
            assert bad not in text, (f"raw control character {bad!r} on {stream}", result)
        text.encode("utf-8")   # no lone surrogate reached the stream
        for line in text.split("\n"):
            stripped = line.lstrip()
            if stripped.startswith(("::", "##[")):
                assert github and stream == "stdout", (f"workflow command on {stream}: {line!r}", result)
                assert _legit_annotation(stripped), (line, result)
    if "json" in args:
        for chunk in filter(None, result["stdout"].split("\n")):
            if chunk.startswith(("{", "[")):
                _strict_json(chunk)
    if "sarif" in args and result["stdout"].strip():
        _validate_sarif(_strict_json(result["stdout"]))
    if result["code"] == 2:
        lines = [line for line in result["stderr"].split("\n") if line and ": info: " not in line]
        assert lines, result
        for line in lines:
            assert not line[0].isspace(), (f"continuation line on stderr: {line!r}", result)


def _legit_annotation(line: str) -> bool:
    """One of findings_github's lines: `::kind props::message`, the message with no raw newline."""
    kind, _, rest = line[2:].partition(" ")
    props, sep, _message = rest.partition("::")
    pairs = [p.partition("=") for p in props.split(",")]
    return (kind in ("error", "warning", "notice") and bool(sep) and "title=" in props
            and all(k in ("file", "line", "col", "endLine", "endColumn", "title") and eq and ":" not in v
                    for k, eq, v in pairs))


def _validate_sarif(document) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "tests" / "report" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(document, schema)


def _strict_json(text: str):
    def no_constant(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=no_constant)


def every_command(case: str, clean: str) -> List[List[str]]:
    """show, show --raw, diff, lint and verify of one case, in every format they support."""
    commands = [["show", case], ["show", case, "--format", "json"], ["show", "--raw", case],
                ["show", "--raw", case, "--format", "json"]]
    for fmt in ("text", "json", "sarif", "github"):
        commands.append(["diff", clean, case, "--format", fmt])
        commands.append(["lint", case, "--format", fmt])
    commands.append(["diff", "--raw", clean, case])
    commands.append(["verify", "tiny.safetensors", "--config", case, "--format", "json"])
    commands.append(["verify", "tiny.safetensors", "--config", case, "--format", "github"])
    return commands


def _clean_for(case: str) -> str:
    return "clean.yaml" if os.path.basename(case).startswith("d2_") else "clean.py"


# ------------------------------------------------------------------------------------------------
# 1. Confined reads: every way a config names another file, to a file outside the checkout.

ESCAPES = {
    "d2_base_climb.yaml": "outside the allowed roots",
    "d2_base_home.yaml": "outside the allowed roots",
    "d2_base_abs_proc.yaml": "outside the allowed roots",
    "d2_base_environ.yaml": "outside the allowed roots",
    "d2_base_symlink.yaml": "outside the allowed roots",
    "mm_base_climb.py": "outside the allowed roots",
    "mm_base_abs_proc.py": "outside the allowed roots",
    "mm_base_pkg_escape.py": "",
    "mm_base_climb.json": "outside the allowed roots",
    "mm_base_climb.yaml": "outside the allowed roots",
    "mm_read_base_climb.py": "outside the allowed roots",
    "d2_lazy_import_climb.py": "outside the allowed roots",
    # get_config reads only the model zoo (shipped or installed), never a configs/ folder above the file
    "d2_lazy_get_config_up.py": "not available in detectron2's model zoo",
    "d2_base_git_config.yaml": "outside the allowed roots",
    "mm_base_git.py": "outside the allowed roots",
    "d2_base_link_dotdot.yaml": "outside the allowed roots",
    "mm_base_link_dotdot.py": "outside the allowed roots",
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_reads_outside_the_checkout_are_refused(world, case):
    # Absolute: LazyConfig resolves `from ..x` against the directory *as given* ('' for a bare name).
    results = run_many(world, every_command(str(world / case), _clean_for(case)),
                       env={"HOME": str(world.parent / "outside")})
    for result in results:
        assert result["code"] == 2, result
        assert ESCAPES[case] in result["stderr"], result
    # The message names the reference as the config wrote it (and where), never what it points to.
    first = results[0]["stderr"]
    assert case in first


def test_allow_root_opens_a_sibling_directory(world):
    outside = str(world.parent / "outside")
    # The secret would be printed here (it is a value), so read a harmless file from the sibling instead.
    (world.parent / "outside" / "harmless.yaml").write_text("MODEL:\n  MASK_ON: True\n")
    (world / "uses_sibling.yaml").write_text("_BASE_: ../outside/harmless.yaml\n")
    refused, allowed = run_many(world, [["show", "--raw", "uses_sibling.yaml", "--format", "json"],
                                        ["show", "--raw", "uses_sibling.yaml", "--format", "json",
                                         "--allow-root", outside]])
    assert refused["code"] == 2 and "outside the allowed roots" in refused["stderr"]
    assert allowed["code"] == 0, allowed
    assert json.loads(allowed["stdout"])["config"]["MODEL"]["MASK_ON"] is True


def test_pyproject_cannot_open_the_whole_machine(world):
    (world / "pyproject.toml").write_text('[tool.cfglint]\nallow-roots = ["/"]\n')
    (result,) = run_many(world, [["show", "--raw", "d2_base_climb.yaml"]])
    assert result["code"] == 2 and "allow-roots" in result["stderr"]
    (world / "pyproject.toml").write_text('[tool.cfglint]\nallow-roots = ["../outside/.."]\n')
    (result,) = run_many(world, [["show", "--raw", "d2_base_climb.yaml"]])
    assert result["code"] == 2


def test_symlinked_inputs_and_directory_entries(world):
    (world / "tree").mkdir()
    (world / "tree" / "leak.yaml").symlink_to(world.parent / "outside" / "secret.yaml")
    os.mkfifo(world / "tree" / "pipe.yaml")
    (world / "tree" / "ok.yaml").write_text("MODEL:\n  MASK_ON: False\n")
    results = run_many(world, [["show", "link_to_secret.yaml"], ["lint", "tree", "--format", "json"],
                               ["lint", "tree", "-v"], ["diff", "clean.yaml", "tree/leak.yaml"],
                               ["show", "fifo.yaml"], ["lint", "fifo.yaml"], ["show", "/dev/zero"],
                               ["verify", "fifo.yaml", "--config", "clean.yaml"]])
    assert results[0]["code"] == 2 and "outside the allowed roots" in results[0]["stderr"]
    assert results[4]["code"] == 2 and "regular file" in results[4]["stderr"]
    assert all(r["seconds"] < 20 for r in results)


# ------------------------------------------------------------------------------------------------
# 2. The environment is not read without --env; with it, values never reach the output.

def test_environment_is_not_read_by_default(world):
    results = run_many(world, every_command("mm_env_default.py", "clean.py"))
    for result in results:
        assert result["code"] in (0, 1), result
    assert "not read from the environment" in results[0]["stderr"]
    raw = json.loads(results[3]["stdout"])
    assert raw["config"]["model"]["type"] == "FasterRCNN"   # the default
    (no_default,) = run_many(world, [["show", "mm_env_no_default.py"]])
    assert no_default["code"] == 2 and "--env" in no_default["stderr"]


def test_env_opt_in_masks_the_values(world):
    commands = [[*c, "--env"] for c in every_command("mm_env_default.py", "clean.py")]
    commands += [["show", "mm_env_in_code.py", "--env"], ["show", "--raw", "mm_env_in_code.py", "--env"]]
    results = run_many(world, commands)   # check_streams: ENV_SECRET nowhere
    assert "***" in results[2]["stdout"], results[2]


# ------------------------------------------------------------------------------------------------
# 3-5. Values that used to escape as tracebacks or raw text.

ODD_INPUTS = ["d2_key_workflow.yaml", "d2_key_ansi.yaml", "d2_key_surrogate.yaml", "mm_key_workflow.yaml",
              "d2_key_date.yaml", "mm_key_date.yaml", "mm_key_list.yaml", "d2_key_list.yaml", "mm_tag_unknown.yaml",
              "mm_tag_uri.yaml", "d2_tag_binary.yaml", "d2_bigint.yaml", "mm_bigint.yaml", "mm_bigint.json",
              "d2_inf.yaml", "d2_base_fifo.yaml", "mm_base_fifo.py"]


@pytest.mark.parametrize("case", ODD_INPUTS)
def test_odd_input_is_one_line_and_safe_output(world, case):
    run_many(world, every_command(case, _clean_for(case)))


def test_messages_quote_values_briefly(world):
    (world / "long_value.yaml").write_text("MODEL:\n  MASK_ON: '" + "x" * 5000 + "'\n")
    (result,) = run_many(world, [["show", "long_value.yaml"]])
    assert result["code"] == 2 and len(result["stderr"]) < 400, result["stderr"]


def test_infinity_is_strict_json(world):
    (shown,) = run_many(world, [["show", "--raw", "d2_inf.yaml", "--format", "json"]])
    heads = _strict_json(shown["stdout"])["config"]["MODEL"]["ROI_HEADS"]
    assert heads["SCORE_THRESH_TEST"] == "Infinity" and heads["NMS_THRESH_TEST"] == "NaN"


def test_deep_json_and_big_documents(world):
    (world / "deep.json").write_text('{"model": ' + "[" * 200_000 + "]" * 200_000 + "}")
    (world / "blank.py").write_text("\n" * 100_000 + "model = dict(type='FasterRCNN')\n")
    (world / "long_type.py").write_text("model = dict(type='" + "A" * 100_000 + "')\n")
    (world / "spaces.py").write_text(" " * 200_000 + "\n" + "from x import y\n")
    (world / "env_quadratic.py").write_text("x = '" + "{{$A:" * 40_000 + "'\n")
    (world / "env_quadratic2.py").write_text("x = '" + "{{ $A : x" * 40_000 + "'\n")
    cases = ["deep.json", "blank.py", "long_type.py", "spaces.py", "env_quadratic.py", "env_quadratic2.py"]
    results = run_many(world, [["show", c] for c in cases] + [["lint", c] for c in cases])
    for result in results:
        assert result["seconds"] < 10, result["args"]


def test_base_diamonds_are_not_exponential(world):
    d2, mm = world / "d2dia", world / "mmdia"
    d2.mkdir()
    mm.mkdir()
    (d2 / "l0.yaml").write_text("MODEL:\n  MASK_ON: False\n")
    (mm / "l0.py").write_text("model = dict(type='FasterRCNN', a=0)\n")
    for i in range(1, 40):
        (d2 / f"l{i}.yaml").write_text(f"_BASE_: [l{i - 1}.yaml, l{i - 1}.yaml]\n")
        (mm / f"a{i}.py").write_text(f"_base_ = ['l{i - 1}.py']\n")
        (mm / f"b{i}.py").write_text(f"_base_ = ['l{i - 1}.py']\nmodel = dict(b{i}=1)\n")
        (mm / f"l{i}.py").write_text(f"_base_ = ['a{i}.py', 'b{i}.py']\n")
    results = run_many(world, [["show", "d2dia/l39.yaml"], ["show", "mmdia/l39.py"], ["lint", "d2dia/l39.yaml"]])
    assert results[0]["code"] == 0, results[0]
    assert all(r["seconds"] < 10 for r in results)


def test_big_merges_are_linear(world):
    """A child that overrides every key of a large base: 4x the keys may not cost 16x the time."""
    seconds = []
    for n in (4_000, 16_000):
        keys = "".join(f"  K{i}: {i}\n" for i in range(n))
        (world / f"big_base{n}.yaml").write_text("EXTRA:\n" + keys)
        (world / f"big_child{n}.yaml").write_text(f"_BASE_: big_base{n}.yaml\nEXTRA:\n" + keys)
        (result,) = run_many(world, [["show", f"big_child{n}.yaml", "--allow-new-keys"]])
        assert result["code"] in (0, 2)
        seconds.append(result["seconds"])
    assert seconds[1] < 8 * seconds[0] + 1, seconds


def test_interpolations_that_double_are_refused(world):
    lines = ["from detectron2.config import LazyCall as L", "a0 = dict(v='x' * 50)"]
    lines += [f"a{i} = dict(p='${{a{i - 1}}}', q='${{a{i - 1}}}')" for i in range(1, 60)]
    lines += ["model = dict(x='${a59}')"]
    (world / "doubling.py").write_text("\n".join(lines) + "\n")
    strings = ["from detectron2.config import LazyCall as L", "a0 = 'xx'"]
    strings += [f"a{i} = '${{a{i - 1}}}${{a{i - 1}}}'" for i in range(1, 80)]
    strings += ["model = dict(x='${a79}')"]
    (world / "doubling_str.py").write_text("\n".join(strings) + "\n")
    results = run_many(world, [["show", "doubling.py"], ["show", "doubling_str.py"], ["lint", "doubling.py"]])
    assert all(r["seconds"] < 10 for r in results)


@pytest.mark.parametrize("kind", ["fifo", "zero", "alias_bomb", "huge"])
def test_hostile_rule_files(world, kind):
    path = world / "rules.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path = Path("/dev/zero")
    elif kind == "alias_bomb":
        entries = ["- id: X900\n  what: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        entries += [f"- id: X90{i}\n  what: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
        path.write_text("\n".join(entries) + "\n")
    else:
        path.write_bytes(b"# " + b"x" * (5 << 20))
    results = run_many(world, [["lint", "clean.yaml", "--rules", str(path)],
                               ["diff", "clean.yaml", "clean.yaml", "--rules", str(path), "--format", "sarif"]])
    for result in results:
        assert result["code"] == 2, result
        assert result["seconds"] < 10


FORGING_NAMES = ["a\n::error file=forged.py,line=1::FORGED.yaml", "b\r\n##[error]FORGED\x1b[2J\x07.yaml",
                 "c\n  ::add-mask::FORGED.yaml", "d\udcff.yaml"]


@pytest.mark.parametrize("index", range(len(FORGING_NAMES)))
def test_file_names_cannot_forge_output(world, index):
    name = FORGING_NAMES[index]
    try:
        (world / name).write_text("MODEL:\n  MASK_ON: True\n  ROI_HEADS:\n    NUM_CLASSES: 3\n")
    except (UnicodeEncodeError, OSError):
        pytest.skip("the file system refuses this name")
    commands = every_command(name, "clean.yaml") + [["lint", ".", "--format", fmt] for fmt in ("text", "github")]
    commands.append(["convert", name, "--to", "mmdet", "-o", "conv.py"])
    run_many(world, commands)


# ------------------------------------------------------------------------------------------------
# 6. convert: nothing from the input becomes code; nothing is written when the run fails.

NAME_WITH_CODE = "evil\n__import__('os').system('touch pwned')\n#.yaml"


def _run_mmengine(path: Path, cwd: Path) -> None:
    code = "import sys; from mmengine import Config; Config.fromfile(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(path)], cwd=cwd, capture_output=True, timeout=120)


@pytest.mark.skipif(not (SHARED / "corpus" / "detectron2" / "configs").is_dir(), reason="needs ../shared")
def test_convert_names_cannot_write_code(world):
    base = SHARED / "corpus" / "detectron2" / "configs" / "Base-RCNN-FPN.yaml"
    (world / NAME_WITH_CODE).write_text(base.read_text())
    results = run_many(world, [["convert", NAME_WITH_CODE, "--to", "mmdet", "-o", "out.py"],
                               ["convert", NAME_WITH_CODE, "--to", "mmdet", "-o", "out2.py", "--format", "json"]])
    assert results[0]["code"] in (0, 1), results[0]
    text = (world / "out.py").read_text()
    import ast
    for stmt in ast.parse(text).body:
        assert isinstance(stmt, ast.Assign), ast.dump(stmt)[:200]
    _run_mmengine(world / "out.py", world)
    assert not (world / "pwned").exists()


def test_convert_class_names_cannot_write_code(world):
    (world / "classes.py").write_text(
        "_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'\n"
        "metainfo = dict(classes=(\"person\\n__import__('os').system('touch pwned')\\n#\\x1b[2J\",))\n"
        "train_dataloader = dict(dataset=dict(metainfo=metainfo))\n"
        "val_dataloader = dict(dataset=dict(metainfo=metainfo))\n"
        "test_dataloader = dict(dataset=dict(metainfo=metainfo))\n"
        "model = dict(roi_head=dict(bbox_head=dict(num_classes=1)))\n")
    (result,) = run_many(world, [["convert", "classes.py", "--to", "detectron2", "-o", "out.yaml"]])
    if result["code"] == 2:
        assert not (world / "out.yaml").exists()
        return
    import yaml
    text = (world / "out.yaml").read_text()
    yaml.safe_load(text)
    for line in text.splitlines():
        assert not line.startswith("__import__"), line


def test_convert_writes_nothing_when_it_fails(world):
    (world / "old.yaml").write_text("out")
    results = run_many(world, [["convert", "mm_bigint.yaml", "--to", "detectron2", "-o", "out.yaml"],
                               ["convert", "d2_key_list.yaml", "--to", "mmdet", "-o", "out.py"],
                               ["convert", "clean.yaml", "--to", "mmdet", "-o", "fifo.py"],
                               ["convert", "d2_base_climb.yaml", "--to", "mmdet", "-o", "old.yaml"]])
    for result in results:
        assert result["code"] == 2, result
    assert not (world / "out.yaml").exists() and not (world / "out.py").exists()
    assert (world / "old.yaml").read_text() == "out"
    assert not [p for p in world.iterdir() if p.name.startswith(".cfglint-")]


# ------------------------------------------------------------------------------------------------
# 7. verify --engine framework never builds what reads files.

def test_framework_engine_refuses_file_loading_classes(world):
    results = run_many(world, [["verify", "tiny.safetensors", "--config", "mm_kd_teacher.py", "--engine", "framework"]])
    assert results[0]["code"] == 2
    assert "reads other files" in results[0]["stderr"] or "names a file" in results[0]["stderr"], results[0]


def test_framework_engine_allow_list_is_checked_before_import():
    from cfglint.checkpoint import framework_engine as fe
    from cfglint.errors import CfglintError
    from cfglint.model.resolved import MMDET, ResolvedConfig

    def resolved(model):
        return ResolvedConfig(framework=MMDET, path="x.py", data={"model": model})

    for model in ({"type": "KnowledgeDistillationSingleStageDetector"},
                  {"type": "mmdet.models.LAD"},
                  {"type": "FasterRCNN", "backbone": {"type": "ResNet", "teacher_config": "a.py"}},
                  {"type": "FasterRCNN", "backbone": {"type": "X", "checkpoint_path": "/etc/passwd"}},
                  {"type": "GroundingDINO", "language_model": {"type": "BertModel", "name": "bert-base"}}):
        with pytest.raises(CfglintError):
            fe.check_buildable(model, resolved(model))
    kept = fe.check_buildable({"type": "FasterRCNN", "backbone": {
        "type": "ResNet", "init_cfg": {"type": "Pretrained", "checkpoint": "/proc/self/environ"},
        "pretrained": "torchvision://resnet50"}}, resolved({}))
    assert kept == {"type": "FasterRCNN", "backbone": {"type": "ResNet"}}


# ------------------------------------------------------------------------------------------------
# The guarded stream itself (what check_streams relies on).

def test_guarded_stream_neutralizes_workflow_commands_and_controls():
    import io

    from cfglint.report.safe import GuardedStream, escape

    target = io.StringIO()
    stream = GuardedStream(target, secrets=lambda: {"hunter22"})
    stream.write("ok\n::error file=a::x\n  ::add-mask::y\n##[error]z\nA\x1b[31mB\x07\n")
    stream.write("part ::")
    stream.write("error not at line start\n:")
    stream.write(":error split across writes\nvalue hunter22 22retnuh\n")
    stream.close_pending()
    out = target.getvalue()
    assert [line for line in out.splitlines() if line.lstrip().startswith(("::", "##["))] == []
    assert "\x1b" not in out and "\x07" not in out and "hunter22" not in out and "22retnuh" not in out
    assert "part ::error not at line start" in out
    assert escape("a\nb\u202e\udc80") == "a\\nb\\u202e\\udc80"


def test_modules_in_the_checkout_are_never_imported(world):
    """`python -m cfglint` from the checkout must not import a `yaml.py`/`typer.py` committed there."""
    for name in ("yaml", "typer", "click", "json", "tomllib"):
        (world / f"{name}.py").write_text("open('pwned', 'w').write('x')\n")
    env = dict(os.environ, **ENV)
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-m", "cfglint", "show", "clean.yaml"], cwd=world, env=env,
                            capture_output=True, text=True, timeout=60, preexec_fn=_cap)
    assert result.returncode == 0, result.stderr
    assert not (world / "pwned").exists()


@pytest.mark.parametrize("header", [
    '{"a.weight": {"dtype": "F32", "shape": [' + "9" * 5001 + '], "data_offsets": [0, 4]}}',
    '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"a.weight": {"dtype": "F32", "shape": [' + ", ".join(["1"] * 200_000) + '], "data_offsets": [0, 4]}}',
])
def test_hostile_checkpoint_headers_are_one_line(world, header):
    raw = header.encode()
    (world / "bad.safetensors").write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * 4)
    results = run_many(world, [["verify", "bad.safetensors", "--config", "clean.yaml", "--format", fmt]
                               for fmt in ("text", "json", "sarif", "github")])
    for result in results:   # 200,000 dims of 1 fit the data: a (bounded) finding, not an error
        assert result["code"] in (1, 2) and result["seconds"] < 10, result


def test_lazyconfig_import_diamonds(world):
    """Each file imported along many paths is evaluated once; data that doubles per file is refused."""
    small, big = world / "lzs", world / "lzd"
    small.mkdir()
    big.mkdir()
    head = "from detectron2.config import LazyCall as L\n"
    (small / "l0.py").write_text(head + "v0 = 1\nmodel = dict(a=1)\n")
    (big / "l0.py").write_text(head + "m0 = dict(v=1)\n")
    for i in range(1, 24):
        for side in "ab":
            (small / f"{side}{i}.py").write_text(head + f"from .l{i - 1} import v{i - 1}\nv{side}{i} = v{i - 1}\n")
            (big / f"{side}{i}.py").write_text(head + f"from .l{i - 1} import m{i - 1}\nm{side}{i} = dict(x=m{i - 1})\n")
        (small / f"l{i}.py").write_text(head + f"from .a{i} import va{i}\nfrom .b{i} import vb{i}\n"
                                        f"v{i} = va{i} + vb{i}\nmodel = dict(z=v{i})\n")
        (big / f"l{i}.py").write_text(head + f"from .a{i} import ma{i}\nfrom .b{i} import mb{i}\n"
                                      f"m{i} = dict(p=ma{i}, q=mb{i})\nmodel = dict(z=1)\n")
    shown, doubled = run_many(world, [["show", "--raw", "--format", "json", str(small / "l23.py")],
                                      ["show", str(big / "l23.py")]])
    assert _strict_json(shown["stdout"])["config"]["model"]["z"] == 2 ** 23
    assert doubled["code"] == 2 and "more than" in doubled["stderr"]
    assert shown["seconds"] < 10 and doubled["seconds"] < 15


def test_an_unversioned_tree_is_confined_to_the_working_directory(tmp_path, monkeypatch):
    """Without .git or a project marker, a config inside the working directory may read bases
    anywhere below it (cfglint run from the top of the tree), and nothing above it."""
    from cfglint.adapters import roots
    from cfglint.errors import CfglintError
    tree = tmp_path / "tree"
    (tree / "configs" / "_base_").mkdir(parents=True)
    (tree / "configs" / "_base_" / "b.py").write_text("x = 1\n")
    (tree / "configs" / "faster").mkdir()
    child = tree / "configs" / "faster" / "a.py"
    child.write_text("_base_ = '../_base_/b.py'\n")
    (tmp_path / "outside.py").write_text(f"s = '{SECRET}'\n")
    monkeypatch.chdir(tree)
    assert roots.confine(str(tree / "configs" / "_base_" / "b.py"), str(child)) is not None
    with pytest.raises(CfglintError, match="outside the allowed roots"):
        roots.confine(str(tmp_path / "outside.py"), str(child))
    monkeypatch.chdir(tree / "configs" / "faster")    # run from the config's own folder: only that folder
    with pytest.raises(CfglintError, match="outside the allowed roots"):
        roots.confine(str(tree / "configs" / "_base_" / "b.py"), str(child))
    monkeypatch.chdir("/")                            # a wide working directory is never a root
    with pytest.raises(CfglintError, match="outside the allowed roots"):
        roots.confine(str(tree / "configs" / "_base_" / "b.py"), str(child))
