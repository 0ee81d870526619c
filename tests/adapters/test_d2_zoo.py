"""Model zoo reads: detectron2's `model_zoo.get_config` from detectron2's zoo (installed copy or
cfglint's shipped copy), detrex's `get_config` from detrex's configs, never from an unrelated
`configs/` folder; and `copy.deepcopy` of config values at load time."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from cfglint.adapters.detectron2 import zoo
from cfglint.adapters.detectron2.lazy import resolve_lazy
from cfglint.errors import CfglintError, UnsupportedError
from tests.conftest import REPO


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


TRAIN_USER = 'train = dict(max_iter=7, output_dir="mine")\n'
USES_ZOO = """\
from detectron2 import model_zoo
train = model_zoo.get_config("common/train.py").train
"""
USES_DETREX = """\
from detrex.config import get_config
train = get_config("common/train.py").train
"""


@pytest.fixture
def no_installed_frameworks(monkeypatch):
    """Run as if neither detectron2 nor detrex were installed (the test env has neither anyway)."""
    monkeypatch.setattr(sys, "path", [p for p in sys.path
                                      if not os.path.isdir(os.path.join(p or ".", "detectron2"))
                                      and not os.path.isdir(os.path.join(p or ".", "detrex"))])


def test_get_config_reads_detectron2s_zoo_not_the_repos_own_configs(tmp_path, no_installed_frameworks):
    write(tmp_path / "configs" / "common" / "train.py", TRAIN_USER)          # an unrelated repo's configs/
    config = write(tmp_path / "configs" / "my_model.py", USES_ZOO)
    r = resolve_lazy(str(config))
    assert r.data["train"]["max_iter"] == 90000                               # detectron2's common/train.py
    assert r.data["train"]["output_dir"] == "./output"
    assert any(f.startswith(zoo.SHIPPED_DETECTRON2_CONFIGS) for f in r.files)


def test_an_installed_detectron2_zoo_wins(tmp_path, monkeypatch, no_installed_frameworks):
    site = tmp_path / "site"
    write(site / "detectron2" / "model_zoo" / "configs" / "common" / "train.py", 'train = dict(max_iter=123)\n')
    monkeypatch.syspath_prepend(str(site))
    config = write(tmp_path / "proj" / "cfg.py", USES_ZOO)
    assert resolve_lazy(str(config)).data["train"]["max_iter"] == 123
    assert str((site / "detectron2" / "model_zoo" / "configs").resolve()) in zoo.zoo_roots()


def test_missing_zoo_file_is_a_clean_error(tmp_path, no_installed_frameworks):
    config = write(tmp_path / "cfg.py", 'from detectron2 import model_zoo\nx = model_zoo.get_config("common/nope.py")\n')
    with pytest.raises(CfglintError, match="not available in detectron2's model zoo") as info:
        resolve_lazy(str(config))
    assert info.value.line == 2


def test_detrex_get_config_reads_the_detrex_checkout(tmp_path, no_installed_frameworks):
    write(tmp_path / "detrex" / "configs" / "common" / "train.py", 'train = dict(max_iter=5)\n')
    config = write(tmp_path / "detrex" / "projects" / "dino" / "configs" / "dino_r50.py", USES_DETREX)
    assert resolve_lazy(str(config)).data["train"]["max_iter"] == 5


def test_detrex_get_config_is_not_guessed_from_an_unrelated_configs_folder(tmp_path, no_installed_frameworks):
    write(tmp_path / "configs" / "common" / "train.py", TRAIN_USER)
    config = write(tmp_path / "tools" / "cfg.py", USES_DETREX)                 # not under projects/
    with pytest.raises(CfglintError, match="not available in detrex configs"):
        resolve_lazy(str(config))


def test_installed_detrex_wins(tmp_path, monkeypatch, no_installed_frameworks):
    site = tmp_path / "site"
    write(site / "detrex" / "config" / "configs" / "common" / "train.py", 'train = dict(max_iter=11)\n')
    monkeypatch.syspath_prepend(str(site))
    write(tmp_path / "repo" / "configs" / "common" / "train.py", 'train = dict(max_iter=5)\n')
    config = write(tmp_path / "repo" / "projects" / "p" / "configs" / "c.py", USES_DETREX)
    assert resolve_lazy(str(config)).data["train"]["max_iter"] == 11


@pytest.mark.parametrize("name", ["../etc/x.py", "/etc/x.py", "common/../../x.py"])
def test_zoo_names_cannot_escape(tmp_path, name):
    config = write(tmp_path / "projects" / "c.py", f'from detrex.config import get_config\nx = get_config("{name}")\n')
    with pytest.raises(CfglintError, match="outside the configs directory"):
        resolve_lazy(str(config))


def test_deepcopy_gives_an_independent_value(tmp_path):
    config = write(tmp_path / "c.py", """\
        import copy
        from copy import deepcopy
        model = dict(criterion=dict(weight_dict={"loss_class": 1, "loss_bbox": 5.0}))
        base = copy.deepcopy(model["criterion"]["weight_dict"])
        aux = {}
        for i in range(2):
            aux.update({k + f"_{i}": v for k, v in base.items()})
        model["criterion"]["weight_dict"].update(aux)
        other = dict(w=deepcopy(base))
        other["w"]["loss_class"] = 9
        name = copy.copy("s")
        """)
    data = resolve_lazy(str(config)).data
    assert data["model"]["criterion"]["weight_dict"] == {"loss_class": 1, "loss_bbox": 5.0, "loss_class_0": 1,
                                                         "loss_bbox_0": 5.0, "loss_class_1": 1, "loss_bbox_1": 5.0}
    assert data["other"]["w"] == {"loss_class": 9, "loss_bbox": 5.0}


def test_shallow_copy_of_a_container_is_refused(tmp_path):
    config = write(tmp_path / "c.py", "import copy\na = dict(x=dict(y=1))\nb = copy.copy(a)\n")
    with pytest.raises(UnsupportedError, match="copy.deepcopy") as info:
        resolve_lazy(str(config))
    assert info.value.line == 3


def test_shipped_zoo_has_its_license_and_the_lazy_and_yaml_configs():
    root = Path(zoo.SHIPPED_DETECTRON2_CONFIGS)
    assert (root.parent / "LICENSE").read_text().startswith("Apache License")
    assert "02b5c4e295e990042a714712c21dc79b731e8833" in (root.parent / "NOTICE").read_text()
    assert (root / "common" / "train.py").is_file()
    assert (root / "COCO-Detection" / "faster_rcnn_R_50_FPN_3x.yaml").is_file()
    assert zoo.find_detectron2_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml", str(root)) is not None
    assert zoo.zoo_roots()[0] == str(root)
    assert zoo.get_config_file("Base-RCNN-FPN.yaml", str(root)) == str(root / "Base-RCNN-FPN.yaml")
    with pytest.raises(CfglintError, match="not available"):
        zoo.get_config_file("COCO-Detection/nope.yaml", str(root))


def test_the_wheel_ships_the_zoo(tmp_path):
    """hatch builds the wheel from `packages = ["cfglint"]`; the zoo must not be excluded from it."""
    pytest.importorskip("hatchling")
    import subprocess
    import zipfile
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {result.stderr[-300:]}")
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "cfglint/adapters/detectron2/model_zoo/"
    assert prefix + "LICENSE" in names and prefix + "NOTICE" in names
    assert prefix + "configs/common/train.py" in names
    assert prefix + "configs/COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml" in names


# ---------------------------------------------------------------- model_zoo.get_checkpoint_url

def _shipped_names():
    import json
    table = json.loads(Path(zoo.SHIPPED_CHECKPOINT_TABLE).read_text())
    return table["S3_PREFIX"], table["CONFIG_PATH_TO_URL_SUFFIX"]


def test_every_shipped_checkpoint_belongs_to_a_shipped_config():
    prefix, suffixes = _shipped_names()
    assert prefix.startswith("https://") and prefix.endswith("/")
    assert len(suffixes) > 50
    for name, suffix in suffixes.items():
        assert any(os.path.isfile(os.path.join(zoo.SHIPPED_DETECTRON2_CONFIGS, name + ext))
                   for ext in (".yaml", ".py")), name
        assert suffix.endswith(".pkl") and suffix.split("/")[0].isdigit(), suffix


def test_checkpoint_url_is_detectron2s_query(no_installed_frameworks):
    prefix, suffixes = _shipped_names()
    name = sorted(suffixes)[0]
    assert zoo.checkpoint_url(name + ".yaml") == prefix + name + "/" + suffixes[name]
    assert zoo.checkpoint_url(name) == prefix + name + "/" + suffixes[name]     # query() strips the suffix
    assert zoo.checkpoint_url("COCO-Detection/not_a_model.yaml") is None        # detectron2 raises here


MODEL_ZOO_PY = '''\
import os
os.system("echo ran")       # never run: the table is read as literals
class _ModelZooUrls(object):
    S3_PREFIX = "https://example.invalid/zoo/"
    CONFIG_PATH_TO_URL_SUFFIX = {"Mine/faster.yaml".replace(".yaml", ""): "x",
                                 "Mine/faster": "1/model_final_abc.pkl"}
'''


def test_an_installed_detectron2s_table_wins_and_is_read_not_run(tmp_path, monkeypatch, no_installed_frameworks):
    site = tmp_path / "site"
    write(site / "detectron2" / "model_zoo" / "configs" / "Mine" / "faster.yaml", "MODEL: {}\n")
    write(site / "detectron2" / "model_zoo" / "model_zoo.py", MODEL_ZOO_PY)
    monkeypatch.syspath_prepend(str(site))
    # a computed key is not a literal: detectron2's table must be all literals to be read
    assert zoo.checkpoint_url("Mine/faster.yaml") is None
    write(site / "detectron2" / "model_zoo" / "model_zoo.py", MODEL_ZOO_PY.replace(
        '"Mine/faster.yaml".replace(".yaml", ""): "x",\n', ""))
    zoo._checkpoint_table.cache_clear()
    assert zoo.checkpoint_url("Mine/faster.yaml") == "https://example.invalid/zoo/Mine/faster/1/model_final_abc.pkl"
    assert zoo.checkpoint_url("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml") is None   # not in *that* table


def test_scripts_get_the_zoo_checkpoint(tmp_path):
    import json
    from tests.conftest import run_cli
    prefix, suffixes = _shipped_names()
    write(tmp_path / "demo.py", '''\
        from detectron2 import model_zoo
        from detectron2.config import get_cfg, instantiate
        from detectron2.engine import DefaultPredictor
        cfg = get_cfg()
        cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/retinanet_R_50_FPN_3x.yaml"))
        cfg.MODEL.WEIGHTS = model_zoo.get_checkpoint_url("COCO-Detection/retinanet_R_50_FPN_3x.yaml")
        predictor = DefaultPredictor(cfg)
        ''')
    write(tmp_path / "lazy.py", '''\
        from detectron2 import model_zoo
        from detectron2.config import instantiate
        cfg = model_zoo.get_config("new_baselines/mask_rcnn_R_50_FPN_100ep_LSJ.py", trained=True)
        model = instantiate(cfg.model)
        ''')
    write(tmp_path / "gone.py", '''\
        from detectron2 import model_zoo
        from detectron2.config import get_cfg
        from detectron2.engine import DefaultPredictor
        cfg = get_cfg()
        cfg.MODEL.WEIGHTS = model_zoo.get_checkpoint_url("COCO-Detection/not_a_model.yaml")
        predictor = DefaultPredictor(cfg)
        ''')
    env = {"PYTHONPATH": str(REPO)}
    run = run_cli("show", "--raw", "--format", "json", "demo.py", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    name = "COCO-Detection/retinanet_R_50_FPN_3x"
    assert json.loads(run.stdout.splitlines()[0])["config"]["MODEL"]["WEIGHTS"] == prefix + name + "/" + suffixes[name]
    run = run_cli("show", "--raw", "--format", "json", "lazy.py", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    name = "new_baselines/mask_rcnn_R_50_FPN_100ep_LSJ"
    assert json.loads(run.stdout.splitlines()[0])["config"]["train"]["init_checkpoint"] == \
        prefix + name + "/" + suffixes[name]
    run = run_cli("lint", "--format", "json", "gone.py", cwd=tmp_path, env=env)
    findings = [f for f in json.loads(run.stdout)["findings"] if f["rule"] == "S904"]
    assert any(f["left_location"] == {"file": "gone.py", "line": 5} and "not_a_model" in f["message"]
               and "no trained checkpoint" in f["message"] for f in findings), run.stdout


def test_model_zoo_get_is_a_served_model_with_its_checkpoint_and_device(tmp_path):
    """`model_zoo.get(name, trained=True)`: get_config(name, trained) built on a device, with its
    weights loaded; image-flow rules judge what the script feeds it."""
    import json
    from tests.conftest import run_cli
    prefix, suffixes = _shipped_names()
    body = '''\
        import cv2
        import torch
        from detectron2 import model_zoo
        model = model_zoo.get("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml", trained=True{device})
        model.eval()
        image = cv2.imread("in.jpg"){flip}
        with torch.no_grad():
            outputs = model([{{"image": torch.as_tensor(image.transpose(2, 0, 1).astype("float32"))}}])
        '''
    write(tmp_path / "served.py", body.format(device=', device="cpu"', flip=""))
    write(tmp_path / "rgb.py", body.format(device=', device="cpu"', flip="[:, :, ::-1]"))
    write(tmp_path / "anywhere.py", body.format(device="", flip=""))
    env = {"PYTHONPATH": str(REPO)}
    run = run_cli("show", "--raw", "--format", "json", "served.py", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    config = json.loads(run.stdout.splitlines()[0])["config"]
    name = "COCO-Detection/faster_rcnn_R_50_FPN_3x"
    assert config["MODEL"]["WEIGHTS"] == prefix + name + "/" + suffixes[name]
    assert config["MODEL"]["DEVICE"] == "cpu"
    def findings(script):
        run = run_cli("lint", "--format", "json", script, cwd=tmp_path, env=env)
        return sorted((f["rule"], f["field"], f["left_location"]["line"]) for f in json.loads(run.stdout)["findings"])

    # called directly, the model resizes nothing (P302, a warning); BGR is what it wants
    assert findings("served.py") == [("P302", "image.resize", 8)]
    assert findings("rgb.py") == [("P103", "image.channel_order", 8), ("P302", "image.resize", 8)]
    # device=None: "cpu" only on a machine without CUDA, so unknown (and said where)
    assert findings("anywhere.py") == [("P302", "image.resize", 8), ("S904", "MODEL.DEVICE", 4)]
