"""Stage 2: the framework-neutral data that adapters produce and rules consume."""
from cfglint.model.location import Location
from cfglint.model.resolved import ResolvedConfig
from cfglint.model.common import CommonModel, FIELDS, FieldSpec, Provenance

__all__ = ["Location", "ResolvedConfig", "CommonModel", "FIELDS", "FieldSpec", "Provenance"]
