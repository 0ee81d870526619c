"""LazyConfig files that would run code or cannot be read: `cfglint show` refuses them with
`file:line: message` and exit 2, and a canary file proves nothing was executed."""
from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES, run_cli

HEADER = "from detectron2.config import LazyCall as L\n"   # line 1 of every case: a Detectron2 config


def _case(tmp_path, body: str):
    canary = tmp_path / "CANARY"
    path = tmp_path / "cfg.py"
    path.write_text(HEADER + body.replace("CANARY", str(canary)))
    return path, canary


# (body from line 2, the line the error must point at, a word the message must contain)
BAD_CONFIGS = {
    "os.system": ('import os\nos.system("touch CANARY")\n', 3, "os.system"),
    "__import__": ('x = 1\n__import__("os").system("touch CANARY")\n', 3, "__import__"),
    "dunder": ('bases = ().__class__.__bases__\n', 2, "__class__"),
    "open": ('open("CANARY", "w").write("ran")\n', 2, "open"),
    "exec": ('exec("open(\'CANARY\', \'w\')")\n', 2, "exec"),
    "subprocess": ('from subprocess import run\nrun(["touch", "CANARY"])\n', 3, "subprocess.run"),
    "unknown call": ('from detectron2.data import build_thing\n\nx = dict(a=build_thing())\n', 4, "build_thing"),
    "lambda called": ('f = lambda: open("CANARY", "w")\ny = f()\n', 3, "lambda"),
    "class body": ('class A:\n    open("CANARY", "w")\n', 2, "class"),
    "decorator": ('def deco(f):\n    return f\n@deco\ndef g():\n    pass\n', 4, "decorat"),
    "format attr": ('x = "{0.__class__}".format(1)\n', 2, "format"),
    "missing import": ('\nfrom .nope.missing import model\n', 3, "does not exist"),
    "missing name": ('from .other import model\n', 2, "cannot import name"),
    "syntax error": ('model = L(X)(\n  a=1,\n  b=[1, 2\nc = 1\n', 4, "syntax error"),
    "undefined name": ('model = dict(a=undefined_thing)\n', 2, "undefined_thing"),
    "while loop": ('while True:\n    pass\n', 2, "while"),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_is_refused(tmp_path, name):
    body, line, word = BAD_CONFIGS[name]
    path, canary = _case(tmp_path, body)
    (tmp_path / "other.py").write_text("not_a_model = 1\n")
    # detect_framework cannot classify a file that does not parse; name the framework for that case
    framework = ["--framework", "detectron2"] if name == "syntax error" else []
    result = run_cli("show", str(path), *framework, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    err = result.stderr.strip().splitlines()[-1]
    prefix = f"{path}:{line}: " if line else f"{path}:"
    assert err.startswith(prefix), err
    assert word.lower() in err.lower(), err
    assert not canary.exists()


def test_raw_json_error_shape(tmp_path):
    path, canary = _case(tmp_path, 'import os\nos.system("touch CANARY")\n')
    good = FIXTURES / "detectron2" / "lazy" / "COCO-InstanceSegmentation" / "mask_rcnn_R_50_FPN_1x.py"
    result = run_cli("show", "--raw", "--format", "json", str(path), str(good))
    assert result.returncode == 2
    bad_line, good_line = [json.loads(line) for line in result.stdout.splitlines()]
    assert bad_line == {"path": str(path), "error": {"message": bad_line["error"]["message"],
                                                     "file": str(path), "line": 3}}
    assert "os.system" in bad_line["error"]["message"]
    assert good_line["path"] == str(good) and good_line["framework"] == "detectron2"
    assert not canary.exists()


def test_raw_json_output_shape():
    path = FIXTURES / "detectron2" / "lazy" / "COCO-Detection" / "retinanet_R_50_FPN_1x.py"
    result = run_cli("show", "--raw", "--format", "json", str(path), "--opts", "model.num_classes=3")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    out = json.loads(line)
    assert set(out) == {"path", "framework", "config"}
    assert out["framework"] == "detectron2"
    config = out["config"]
    assert sorted(config) == ["dataloader", "lr_multiplier", "model", "optimizer", "train"]
    assert config["model"]["_target_"] == "detectron2.modeling.meta_arch.RetinaNet"
    assert config["model"]["num_classes"] == 3                              # the --opts override
    assert config["model"]["head"]["num_classes"] == "${..num_classes}"     # interpolations as written
    assert config["model"]["backbone"]["in_features"] == ["res3", "res4", "res5"]
    assert config["dataloader"]["train"]["mapper"]["augmentations"][0]["short_edge_length"] == \
        [640, 672, 704, 736, 768, 800]                                      # tuple written as a list
