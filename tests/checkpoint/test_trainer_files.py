"""Checkpoints as the trainers write them: everything next to the weights must read as inert data.

The mmengine file comes from a real ``Runner`` run (MultiStepLR with ``Counter`` milestones, SGD
momentum state, message hub with ``HistoryBuffer``, numpy seed, EMAHook's ``ema_state_dict``);
the others are ``torch.save`` of the layouts Detectron2's trainer and Lightning write, with real
torch ``MultiStepLR`` / ``GradScaler`` / ``Adam`` state dicts. The reference is torch's own
``weights_only`` loader wherever it accepts the file.
"""
from __future__ import annotations

import collections
import pathlib
import sys
import types

import pytest

from cfglint.checkpoint import read_checkpoint
from cfglint.errors import CfglintError, UnsafeContentError

torch = pytest.importorskip("torch")


def _tiny_model():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))


def _trained_state():
    """A model, Adam, MultiStepLR and GradScaler after two real steps."""
    model = _tiny_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[8, 11], gamma=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    for _ in range(2):
        opt.zero_grad()
        scaler.scale(model(torch.ones(2, 3, 5, 5)).mean()).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
    return model, opt, sched, scaler


def _expected(state):
    return {k: tuple(v.shape) for k, v in state.items()}


@pytest.fixture(scope="module")
def mmengine_runner_checkpoint(tmp_path_factory):
    """A checkpoint written by mmengine's own CheckpointHook after one epoch."""
    pytest.importorskip("mmengine")
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Tiny(BaseModel):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            out = self.bn(self.conv(inputs))
            return dict(loss=out.mean()) if mode == "loss" else out

    class Data(torch.utils.data.Dataset):
        metainfo = dict(classes=("bolt", "nut"))

        def __len__(self):
            return 4

        def __getitem__(self, index):
            return dict(inputs=torch.zeros(3, 8, 8))

    work = tmp_path_factory.mktemp("runner")
    runner = Runner(
        model=Tiny(), work_dir=str(work),
        train_dataloader=dict(dataset=Data(), sampler=dict(type="DefaultSampler", shuffle=False), batch_size=2,
                              collate_fn=dict(type="default_collate")),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9)),
        param_scheduler=[dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=2),
                         dict(type="MultiStepLR", by_epoch=True, milestones=[8, 11], gamma=0.1)],
        train_cfg=dict(by_epoch=True, max_epochs=1), custom_hooks=[dict(type="EMAHook")],
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1), logger=None),
        randomness=dict(seed=42), log_level="ERROR")
    runner.train()
    return work / "epoch_1.pth"


def test_mmengine_runner_checkpoint_reads_like_torch(mmengine_runner_checkpoint):
    path = mmengine_runner_checkpoint
    loaded = torch.load(path, weights_only=False)
    assert isinstance(loaded["param_schedulers"][1]["milestones"], collections.Counter)  # the case that was refused
    assert "ema_state_dict" in loaded and "message_hub" in loaded and "optimizer" in loaded
    info = read_checkpoint(str(path))
    assert info.wrapper == "state_dict"
    assert info.shapes() == _expected(loaded["state_dict"])
    assert info.classes == ["bolt", "nut"]
    assert info.meta["seed"] == 42


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_scheduler_optimizer_and_scaler_state(tmp_path, legacy):
    model, opt, sched, scaler = _trained_state()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
            "grad_scaler": scaler.state_dict(), "iteration": 2}
    assert isinstance(ckpt["scheduler"]["milestones"], collections.Counter)
    path = tmp_path / "model_0000001.pth"
    torch.save(ckpt, path, _use_new_zipfile_serialization=not legacy)
    reference = torch.load(path, weights_only=True)  # torch itself calls this inert data
    info = read_checkpoint(str(path))
    assert info.wrapper == "model"
    assert info.shapes() == _expected(reference["model"])
    assert info.meta["iteration"] == 2


def test_every_container_trainers_use(tmp_path):
    """Counter, defaultdict, deque, OrderedDict, numpy scalars and dtypes, torch dtypes, complex, bytearray, Path."""
    np = pytest.importorskip("numpy")
    model = _tiny_model()
    meta = {"milestones": collections.Counter({8: 1, 11: 1}), "by_kind": collections.defaultdict(list, {"a": [1]}),
            "counts": collections.defaultdict(int), "window": collections.deque([1.0, 2.0], maxlen=20),
            "order": collections.OrderedDict(a=1), "seed": np.int64(7), "loss": np.float32(0.5),
            "dtype": np.dtype("float16"), "torch_dtype": torch.bfloat16, "z": complex(1, 2),
            "raw": bytearray(b"ab"), "dir": pathlib.PurePosixPath("work_dirs/exp"),
            "np_types": [np.float32, np.bool_, type(np.dtype("int64"))]}
    for protocol in (2, 4):
        path = tmp_path / f"p{protocol}.pth"
        torch.save({"state_dict": model.state_dict(), "meta": meta}, path, pickle_protocol=protocol)
        info = read_checkpoint(str(path))
        assert info.shapes() == _expected(model.state_dict())
        got = info.meta
        assert got["milestones"] == {"8": 1, "11": 1}
        assert got["by_kind"] == {"a": [1]} and got["counts"] == {}
        assert got["window"] == [1.0, 2.0] and got["order"] == {"a": 1}
        assert got["seed"] == 7 and got["loss"] == 0.5 and got["torch_dtype"] == "bfloat16"
        assert got["dir"] == "work_dirs/exp"
        assert got["np_types"] == ["float32", "bool", "int64"]


def test_lightning_layout(tmp_path, monkeypatch):
    """Lightning's .ckpt keys, with its AttributeDict hyper-parameters (a dict subclass, pickled by class name)."""
    module = types.ModuleType("lightning.fabric.utilities.data")

    class AttributeDict(dict):
        pass

    AttributeDict.__module__ = module.__name__
    AttributeDict.__qualname__ = "AttributeDict"
    module.AttributeDict = AttributeDict
    for name in ("lightning", "lightning.fabric", "lightning.fabric.utilities"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    model, opt, sched, scaler = _trained_state()
    ckpt = {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.5.0",
            "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
            "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4}}}},
            "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.3),
                                                                    "dirpath": "/ckpts"}},
            "optimizer_states": [opt.state_dict()], "lr_schedulers": [sched.state_dict()],
            "MixedPrecision": scaler.state_dict(), "hparams_name": "kwargs",
            "hyper_parameters": AttributeDict(lr=0.01, num_classes=3)}
    path = tmp_path / "epoch=3-step=120.ckpt"
    torch.save(ckpt, path)
    info = read_checkpoint(str(path))
    assert info.shapes() == {f"model.{k}": tuple(v.shape) for k, v in model.state_dict().items()}
    assert info.meta["epoch"] == 3


@pytest.mark.parametrize("payload", ["posix.system", "builtins.eval"])
def test_trainer_containers_do_not_open_a_door(tmp_path, payload):
    """A forbidden callable hidden as a defaultdict factory or inside a Counter is still refused by name."""
    import os

    class Reduce:
        def __init__(self, function, *args):
            self.function, self.args = function, args

        def __reduce__(self):
            return self.function, self.args

    canary = tmp_path / "canary"
    evil = Reduce(os.system, f"touch {canary}") if payload == "posix.system" else \
        Reduce(eval, f"open({str(canary)!r}, 'w')")
    for container in (collections.defaultdict(list, {"x": evil}), collections.Counter({"x": 1, "y": evil}),
                      collections.deque([evil])):
        path = tmp_path / "evil.pth"
        torch.save({"state_dict": {"w": torch.zeros(1)}, "meta": {"c": container}}, path)
        with pytest.raises(UnsafeContentError) as err:
            read_checkpoint(str(path))
        assert payload.split(".")[1] in err.value.message
        assert not canary.exists()


def test_counter_of_a_non_dict_is_refused(tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(b"\x80\x02ccollections\nCounter\nX\x03\x00\x00\x00abc\x85R.")
    with pytest.raises(CfglintError):
        read_checkpoint(str(path))
