"""Checkpoints: safe lazy readers (``readers``), expected state dicts (``expected``), fingerprints."""
from cfglint.checkpoint.info import CheckpointInfo, TensorInfo
from cfglint.checkpoint.readers import read_checkpoint, read_state_dict_shapes

__all__ = ["CheckpointInfo", "TensorInfo", "read_checkpoint", "read_state_dict_shapes"]
