"""Inert replacements for the few pickle globals a checkpoint legitimately names.

The restricted unpickler never resolves a global to the real object: each allow-listed name maps to
a callable defined here that only records shapes, dtypes and plain values. None of them imports
torch or numpy, interprets tensor bytes or calls anything it is given, so a checkpoint cannot reach
code through them. Each entry of :data:`ALLOWED` was reviewed for that property;
:data:`ALLOWED_WITH_ARRAY_DATA` differs only in that numpy array records keep their raw bytes.

Audit against torch's ``weights_only`` allow-list (torch/_weights_only_unpickler.py,
``_get_allowed_globals``): covered are ``collections.OrderedDict``/``Counter``, ``torch.Size``,
``torch.device``, dtypes, storage classes, ``_codecs.encode``, ``builtins.set``/``bytearray``/``complex``,
the dense-tensor and parameter rebuilders and ``torch._tensor._rebuild_from_type_v2``. Left out on
purpose (refused): sparse, quantized, nested, meta and device-tensor rebuilders, ``torch.Tensor`` as
a callable, ``torch.serialization._get_layout``. Beyond torch's list, as data only: numpy arrays,
scalars, dtypes and scalar types as names (``.pkl`` files, mmengine's seed), ``defaultdict`` with a builtin type as
factory, ``deque``, ``pathlib`` paths (as text), mmengine's ``HistoryBuffer``, Lightning's
``AttributeDict`` and ``argparse.Namespace`` (kept as dicts / their state, never their class).
"""
from __future__ import annotations

import struct
from functools import partial
from typing import Any, Callable, Dict, Optional, Tuple

from cfglint.checkpoint.info import TensorInfo
from cfglint.errors import CfglintError, UnsafeContentError


class MalformedRecord(CfglintError):
    """A tensor, storage or array record whose fields are not what torch/numpy write."""


def _refuse_build(self, state: Any) -> None:
    """BUILD on a shared allow-listed object would change it for every later read: refuse it."""
    raise UnsafeContentError(f"refusing a pickle that modifies the allow-listed global '{self!r}'")


# ---------------------------------------------------------------------------------------- torch

# torch's legacy typed-storage classes name the element type of the tensors that use them.
_STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4", "UntypedStorage": "uint8",
}

# `torch.<name>` dtype globals (torch pickles a dtype by name), canonicalised to one spelling.
_TORCH_DTYPES = {name: name for name in (
    "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
    "uint16", "uint32", "uint64", "bool", "complex32", "complex64", "complex128", "qint8", "quint8",
    "qint32", "quint4x2", "quint2x4", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
    "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2")}
_TORCH_DTYPES.update(float="float32", double="float64", half="float16", long="int64", int="int32",
                     short="int16", cfloat="complex64", cdouble="complex128", chalf="complex32")


class StorageType:
    """Stand-in for ``torch.FloatStorage`` & co.: only its element dtype matters."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]

    __setstate__ = _refuse_build

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class StorageRef:
    """What a persistent storage id says about a storage; its bytes are never read."""

    def __init__(self, dtype: str, numel: Optional[int]):
        self.dtype = dtype
        self.numel = numel


class TorchDtype(str):
    """A ``torch.<dtype>`` global, kept as its canonical name."""

    __slots__ = ()
    __setstate__ = _refuse_build


def _shape(size: Any, what: str) -> Tuple[int, ...]:
    if not isinstance(size, (tuple, list)) or not all(type(d) is int and d >= 0 for d in size):
        raise MalformedRecord(f"{what} has an invalid shape {size!r}")
    return tuple(size)


def _tensor(storage: Any, size: Any, dtype: Optional[str] = None) -> TensorInfo:
    if not isinstance(storage, StorageRef):
        raise MalformedRecord(f"tensor record points at {type(storage).__name__}, not a storage")
    return TensorInfo(_shape(size, "tensor"), dtype or storage.dtype)


def rebuild_tensor(storage, storage_offset, size, stride, *_ignored) -> TensorInfo:
    """``torch._utils._rebuild_tensor`` and ``_rebuild_tensor_v2`` (trailing args: grad flags, hooks, metadata)."""
    return _tensor(storage, size)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, hooks, dtype, *_ignored) -> TensorInfo:
    """``torch._utils._rebuild_tensor_v3``: untyped storage plus an explicit dtype (float8 and newer)."""
    if not isinstance(dtype, TorchDtype):
        raise MalformedRecord(f"tensor record has an invalid dtype {dtype!r}")
    return _tensor(storage, size, str(dtype))


def rebuild_parameter(data, *_ignored) -> TensorInfo:
    """``torch._utils._rebuild_parameter[_with_state]``: an ``nn.Parameter`` is its tensor here."""
    if not isinstance(data, TensorInfo):
        raise MalformedRecord(f"parameter record wraps {type(data).__name__}, not a tensor")
    return data


def torch_size(dims=()) -> Tuple[int, ...]:
    return _shape(dims, "torch.Size")


def torch_device(kind, index=None) -> str:
    if not isinstance(kind, str) or not (index is None or type(index) is int):
        raise MalformedRecord(f"invalid torch.device({kind!r}, {index!r})")
    return kind if index is None else f"{kind}:{index}"


# ---------------------------------------------------------------------------------------- numpy

_NUMPY_KINDS = {"f": "float", "i": "int", "u": "uint", "c": "complex"}
_STRUCT_CODES = {"float16": "e", "float32": "f", "float64": "d", "int8": "b", "int16": "h",
                 "int32": "i", "int64": "q", "uint8": "B", "uint16": "H", "uint32": "I",
                 "uint64": "Q", "bool": "?"}


class NumpyDtype:
    """Stand-in for ``numpy.dtype('f4', False, True)`` followed by BUILD with its byte order."""

    def __init__(self, code: Any = "V", align: Any = False, copy: Any = True):
        if not isinstance(code, str):
            raise MalformedRecord(f"invalid numpy dtype {code!r}")
        self.code = code
        self.byteorder = "<"

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.byteorder = state[1]

    @property
    def name(self) -> str:
        if self.code in ("b1", "?"):
            return "bool"
        kind, digits = self.code[:1], self.code[1:]
        if kind in _NUMPY_KINDS and digits.isdigit():
            return f"{_NUMPY_KINDS[kind]}{int(digits) * 8}"
        return {"O8": "object", "O4": "object"}.get(self.code, self.code)


class NumpyTypeName(str):
    """A numpy scalar type or dtype class named as a value (``dtype=np.float32`` in hyper-parameters)."""

    __slots__ = ()
    __setstate__ = _refuse_build


_NUMPY_TYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "bool_", "complex64", "complex128")


class NdarrayType:
    """Stand-in for the ``numpy.ndarray`` class, only ever passed to ``_reconstruct``."""

    __setstate__ = _refuse_build


class ArrayStub:
    """A numpy array's shape and dtype. BUILD hands it the raw bytes, which are dropped at once unless
    ``keep_data`` asks for them (the convert path builds the array from them after unpickling)."""

    def __init__(self, shape: Tuple[int, ...] = (0,), dtype: Optional[NumpyDtype] = None,
                 keep_data: bool = False, data: Any = None, fortran: bool = False):
        self.shape = shape
        self.dtype = dtype
        self.keep_data = keep_data
        self.fortran = fortran
        self.data: Optional[bytes] = _raw_bytes(data) if keep_data else None

    def __setstate__(self, state: Any) -> None:
        """``ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata))``; version may be absent."""
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise MalformedRecord("numpy array record has an invalid state")
        shape, dtype, fortran, data = state[-4:]
        if not isinstance(dtype, NumpyDtype):
            raise MalformedRecord(f"numpy array record has an invalid dtype {dtype!r}")
        self.shape, self.dtype, self.fortran = _shape(shape, "numpy array"), dtype, fortran is True
        if self.keep_data:
            self.data = _raw_bytes(data)

    def tensor_info(self) -> TensorInfo:
        if self.dtype is None:
            raise MalformedRecord("numpy array record was never filled in")
        return TensorInfo(self.shape, self.dtype.name)


def _raw_bytes(data: Any) -> Optional[bytes]:
    """An array's data as bytes; None when it is not bytes (object arrays pickle a list of objects).

    Python 2 pickles read with latin1 give ``str``, which numpy itself encodes back to latin1.
    """
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        try:
            return data.encode("latin1")
        except UnicodeEncodeError:
            return None
    return None


def numpy_reconstruct(subtype, shape, dtype_code, *, keep_data: bool = False) -> ArrayStub:
    """``numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')``: an empty array awaiting BUILD."""
    if subtype is not NdarrayType:
        raise MalformedRecord("numpy array record is not a plain ndarray")
    return ArrayStub(keep_data=keep_data)


def numpy_frombuffer(buffer, dtype, shape, order="C", *, keep_data: bool = False) -> ArrayStub:
    """``numpy.core.numeric._frombuffer`` (pickle protocol 5 arrays; ``order`` is 'C' or 'F')."""
    if not isinstance(dtype, NumpyDtype):
        raise MalformedRecord(f"numpy array record has an invalid dtype {dtype!r}")
    return ArrayStub(_shape(shape, "numpy array"), dtype, keep_data, buffer, fortran=order == "F")


def numpy_scalar(dtype, data=b"") -> Any:
    """``numpy.core.multiarray.scalar``: a numpy number in metadata (e.g. a seed) as a Python value."""
    if not isinstance(dtype, NumpyDtype):
        raise MalformedRecord(f"numpy scalar has an invalid dtype {dtype!r}")
    if isinstance(data, str):
        data = data.encode("latin1")
    code = _STRUCT_CODES.get(dtype.name)
    if code is None or not isinstance(data, bytes) or len(data) != struct.calcsize(code):
        return f"<numpy {dtype.name} scalar>"
    return struct.unpack(("<" if dtype.byteorder in "<|=" else ">") + code, data)[0]


# ------------------------------------------------------------------------------------- builtins

def codecs_encode(text, encoding="utf-8", errors="strict") -> bytes:
    """``_codecs.encode(str, 'latin1')`` is how protocol 2 writes ``bytes``; other codecs (zlib...) are refused."""
    if not isinstance(text, str) or encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591"):
        raise UnsafeContentError(f"refusing pickle global '_codecs.encode' with encoding {encoding!r}: "
                                 "only the latin-1 form pickle uses for bytes is allowed")
    return text.encode("latin1")


def empty_bytes(*args) -> bytes:
    """``builtins.bytes()`` is how protocols 0-2 write ``b''`` (an empty array's data); with arguments
    it could allocate any amount of memory, so those are refused."""
    if args:
        raise UnsafeContentError("refusing pickle global 'builtins.bytes' with arguments: only the empty "
                                 "bytes pickle writes is allowed")
    return b""


class OrderedDictStandIn(dict):
    """``collections.OrderedDict`` (state dicts are one); BUILD attributes such as torch's ``_metadata`` are kept aside."""

    def __setstate__(self, state: Any) -> None:
        self.attributes = state


class InertObject:
    """An instance of an allow-listed plain-data class (e.g. mmengine's ``HistoryBuffer``), kept as its state."""

    qualname = "object"

    def __new__(cls, *args: Any) -> "InertObject":
        return object.__new__(cls)

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<{self.qualname}>"


def _inert_class(qualname: str) -> type:
    return type(qualname.rsplit(".", 1)[-1], (InertObject,), {"qualname": qualname})


def restricted_getattr(owner, name, *default) -> str:
    """``getattr`` only on an allow-listed inert class (mmengine pickles ``HistoryBuffer.min`` this way).

    It returns a label, never the attribute; on anything else it is the classic pickle escape and refused.
    """
    if not (isinstance(owner, type) and issubclass(owner, InertObject) and isinstance(name, str)):
        raise UnsafeContentError(f"refusing pickle global 'builtins.getattr' applied to {type(owner).__name__}: "
                                 "it can reach any attribute of any object")
    return f"{owner.qualname}.{name}"


# ------------------------------------------------------------------------- trainer containers
# What mmengine, Detectron2 and Lightning put next to the weights (scheduler milestones, optimizer
# state, message hub, hyper-parameters) is plain data in a few container classes. Each stand-in
# builds a plain dict/list/str from plain arguments and never keeps or calls what it is given.

def counter(mapping: Any = None) -> dict:
    """``collections.Counter`` (torch/mmengine ``MultiStepLR.milestones``) pickles as ``Counter(dict)``."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise MalformedRecord(f"collections.Counter record holds {type(mapping).__name__}, not a dict")
    return dict(mapping)


class TypeMarker:
    """A builtin type named in a pickle (``builtins.list``...): only accepted as a ``defaultdict`` factory.

    Calling it is refused, so it cannot be used to build anything.
    """

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args: Any) -> Any:
        raise UnsafeContentError(f"refusing pickle global 'builtins.{self.name}' called as a function: it is "
                                 "only allowed as a defaultdict factory")

    __setstate__ = _refuse_build

    def __repr__(self) -> str:
        return f"builtins.{self.name}"


_FACTORY_TYPES = ("list", "dict", "int", "float", "str", "tuple", "bool", "set", "frozenset")


def defaultdict(factory: Any = None, *items: Any) -> dict:
    """``collections.defaultdict(factory)`` then SETITEMS: a plain dict; the factory is checked, never kept."""
    if not (factory is None or repr(factory) in {f"builtins.{name}" for name in _FACTORY_TYPES}
            and isinstance(factory, (TypeMarker, _Global))):
        raise UnsafeContentError(f"refusing pickle global 'collections.defaultdict' with the factory {factory!r:.60}: "
                                 "only builtin container and number types are allowed")
    if items and not (len(items) == 1 and isinstance(items[0], dict)):
        raise MalformedRecord("collections.defaultdict record has unexpected arguments")
    return dict(items[0]) if items else {}


def deque(iterable: Any = (), maxlen: Any = None) -> list:
    """``collections.deque`` pickles as ``deque((), maxlen)`` then APPENDS: a plain list here."""
    if not isinstance(iterable, (list, tuple)) or not (maxlen is None or type(maxlen) is int):
        raise MalformedRecord("collections.deque record has unexpected arguments")
    return list(iterable)


def make_complex(real: Any = 0, imag: Any = 0) -> complex:
    """``builtins.complex`` (in torch's weights-only list): from two numbers only."""
    if not all(type(part) in (int, float) for part in (real, imag)):
        raise MalformedRecord("builtins.complex record takes two numbers")
    return complex(real, imag)


def make_bytearray(data: Any = b"", encoding: Any = None) -> bytes:
    """``builtins.bytearray`` (in torch's weights-only list) from bytes or latin-1 text; never from a size."""
    if isinstance(data, bytes) and encoding is None:
        return data
    if isinstance(data, str) and isinstance(encoding, str) and \
            encoding.replace("-", "").replace("_", "").lower() in ("latin1", "iso88591"):
        return data.encode("latin1")
    raise UnsafeContentError("refusing pickle global 'builtins.bytearray' with these arguments: only the bytes "
                             "form pickle writes is allowed")


def path_text(*parts: Any) -> str:
    """``pathlib.PosixPath('a', 'b')`` (Lightning hyper-parameters): its text; the file system is never touched."""
    if not all(isinstance(part, str) for part in parts):
        raise MalformedRecord("pathlib record holds non-text parts")
    return "/".join(parts)


class TensorClass:
    """``torch.Tensor`` / ``torch.nn.parameter.Parameter`` named as the type in ``_rebuild_from_type_v2``."""

    def __init__(self, name: str):
        self.name = name

    __setstate__ = _refuse_build

    def __repr__(self) -> str:
        return self.name


def rebuild_from_type_v2(function, new_type, args, state=None) -> TensorInfo:
    """``torch._tensor._rebuild_from_type_v2``: a tensor with Python attributes; only allowed rebuilders run."""
    if not (isinstance(function, _Global) and function.rebuilds_tensor and isinstance(new_type, TensorClass)
            and isinstance(args, tuple)):
        raise UnsafeContentError(f"refusing pickle global 'torch._tensor._rebuild_from_type_v2' applied to "
                                 f"{function!r:.60}: only tensor rebuild functions are allowed")
    return function(*args)


class DictSubclass(dict):
    """A plain-data ``dict`` subclass (Lightning's ``AttributeDict``) built by NEWOBJ + SETITEMS."""

    qualname = "dict"

    def __setstate__(self, state: Any) -> None:
        self.attributes = state


def _dict_class(qualname: str) -> type:
    return type(qualname.rsplit(".", 1)[-1], (DictSubclass,), {"qualname": qualname})


# ------------------------------------------------------------------------------------ allow-list

class _Global:
    """An allow-listed callable as the unpickler sees it: callable, but immune to BUILD."""

    __slots__ = ("_function", "_name")

    def __init__(self, function: Callable[..., Any], name: str):
        self._function, self._name = function, name

    @property
    def rebuilds_tensor(self) -> bool:
        return self._function in (rebuild_tensor, rebuild_tensor_v3, rebuild_parameter)

    def __call__(self, *args: Any) -> Any:
        return self._function(*args)

    __setstate__ = _refuse_build

    def __repr__(self) -> str:
        return self._name


def _allowed(keep_array_data: bool = False) -> Dict[Tuple[str, str], Callable[..., Any]]:
    table: Dict[Tuple[str, str], Callable[..., Any]] = {}
    for name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
        table["torch._utils", name] = rebuild_tensor
    table["torch._utils", "_rebuild_tensor_v3"] = rebuild_tensor_v3
    for name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
        table["torch._utils", name] = rebuild_parameter
    for name in _STORAGE_DTYPES:
        table["torch", name] = StorageType(name)
    table["torch.storage", "UntypedStorage"] = table["torch", "UntypedStorage"]  # with _rebuild_tensor_v3
    for name, canonical in _TORCH_DTYPES.items():
        table["torch", name] = TorchDtype(canonical)
    table["torch", "Size"] = torch_size
    table["torch", "device"] = torch_device
    for core in ("numpy.core", "numpy._core"):
        table[f"{core}.multiarray", "_reconstruct"] = partial(numpy_reconstruct, keep_data=keep_array_data)
        table[f"{core}.multiarray", "scalar"] = numpy_scalar
        table[f"{core}.numeric", "_frombuffer"] = partial(numpy_frombuffer, keep_data=keep_array_data)
    table["numpy", "ndarray"] = NdarrayType
    table["numpy", "dtype"] = NumpyDtype
    table["_codecs", "encode"] = codecs_encode
    table["builtins", "bytes"] = empty_bytes
    table["builtins", "set"] = set
    table["builtins", "frozenset"] = frozenset
    table["builtins", "getattr"] = restricted_getattr
    table["collections", "OrderedDict"] = OrderedDictStandIn
    table["collections", "Counter"] = counter
    table["collections", "defaultdict"] = defaultdict
    table["collections", "deque"] = deque
    table["builtins", "complex"] = make_complex
    table["builtins", "bytearray"] = make_bytearray
    table["torch._tensor", "_rebuild_from_type_v2"] = rebuild_from_type_v2
    for module in ("pathlib", "pathlib._local"):
        for name in ("Path", "PosixPath", "WindowsPath", "PurePath", "PurePosixPath", "PureWindowsPath"):
            table[module, name] = path_text
    for (module, name), value in table.items():
        if callable(value) and value is not NdarrayType:
            table[module, name] = _Global(value, f"{module}.{name}")
    for name in _NUMPY_TYPES + ("bool",):   # numpy 2 pickles np.bool_ as numpy.bool
        canonical = name.rstrip("_")
        table["numpy", name] = NumpyTypeName(canonical)
        table["numpy.dtypes", canonical.capitalize().replace("Uint", "UInt") + "DType"] = NumpyTypeName(canonical)
    for name in _FACTORY_TYPES:
        if ("builtins", name) not in table:
            table["builtins", name] = TypeMarker(name)
    for name in ("torch.Tensor", "torch.nn.parameter.Parameter"):
        module, _, short = name.rpartition(".")
        table[module, short] = TensorClass(name)
    for qualname in ("lightning.fabric.utilities.data.AttributeDict", "lightning_fabric.utilities.data.AttributeDict",
                     "lightning.pytorch.utilities.parsing.AttributeDict",
                     "pytorch_lightning.utilities.parsing.AttributeDict"):
        table[tuple(qualname.rsplit(".", 1))] = _dict_class(qualname)
    table["argparse", "Namespace"] = _inert_class("argparse.Namespace")
    # NEWOBJ needs a real class; its __setstate__ makes BUILD on the class itself fail.
    table["mmengine.logging.history_buffer", "HistoryBuffer"] = _inert_class(
        "mmengine.logging.history_buffer.HistoryBuffer")
    return table


ALLOWED = _allowed()
# The same globals, but numpy array records keep their raw bytes (the convert path's data read).
ALLOWED_WITH_ARRAY_DATA = _allowed(keep_array_data=True)
