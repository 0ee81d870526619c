"""A script's config through its framework's normalizer, then unknown values masked (never guessed)."""
from __future__ import annotations

from typing import Callable

from cfglint.errors import CfglintError
from cfglint.model import CommonModel


def normalize_script(resolved, normalize_native: Callable) -> CommonModel:
    from cfglint.adapters.script import mask_unknown
    if resolved.unknown_config is not None and not resolved.data:
        return _all_unknown(resolved)
    try:
        model = normalize_native(resolved)
    except CfglintError:
        if resolved.unknown_config is None:
            raise
        return _all_unknown(resolved)
    return mask_unknown(model, resolved)


def _all_unknown(resolved) -> CommonModel:
    from cfglint.model.common import FIELDS
    model = CommonModel(framework=resolved.framework, path=resolved.path)
    model.resolved = resolved
    model.unknown_fields = set(FIELDS)
    return model
