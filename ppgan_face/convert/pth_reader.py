"""Read PyTorch checkpoints (``.pth`` / ``.pt``) into numpy, without torch and without running pickled code.

A checkpoint is a pickle whose tensors refer to raw storages kept beside it: in a zip archive
(``<dir>/data.pkl`` + ``<dir>/data/<key>``, torch >= 1.6) or, in the legacy stream format (torch < 1.6 or
``_use_new_zipfile_serialization=False``), appended after the pickle as ``int64 count + bytes`` each.
The unpickler resolves only an allow-list of names (tensor rebuild functions, storage types, plain
containers, numpy scalars / arrays, ``argparse.Namespace``); any other name is refused before anything is
built, so a malicious file cannot execute code.

Tensors become numpy arrays of the same dtype and shape (bfloat16 widens to float32: numpy has no
bfloat16). A tensor spanning its whole storage in C order is a view of the bytes read (no copy), any other
view (slice, transpose, offset) is copied to a contiguous array. Storages are read when first used, once,
straight into their array (zip members are CRC-checked). ``torch.Size`` becomes a tuple, ``torch.device`` a string, a torch dtype a numpy dtype;
parameter state and backward hooks are dropped.
"""
import _compat_pickle
import argparse
import collections
import io
import math
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

from ppgan_face.convert.errors import CheckpointError

try:
    from numpy._core import multiarray as _np_multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _np_multiarray

__all__ = ["CheckpointError", "load_pth"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# torch storage class -> element dtype (numpy names, plus "bfloat16")
_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "UntypedStorage": "uint8",
}
# torch dtypes numpy can hold (torch names them like numpy does)
_TORCH_DTYPES = set(_STORAGE_DTYPES.values()) | {"uint16", "uint32", "uint64"}


class _Problem(Exception):
    """A defect of the file being read; load_pth prefixes the file name."""


def _one_line(err):
    return " ".join(f"{type(err).__name__}: {err}".split())


class _Storage:
    """One saved storage, read on first use and decoded once into a 1-D native-endian array."""

    def __init__(self, key, dtype, numel, read, big_endian):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.nbytes = numel * (2 if dtype == "bfloat16" else np.dtype(dtype).itemsize)
        self._read, self._big_endian, self._array = read, big_endian, None

    def array(self, dtype):
        """The storage as elements of ``dtype``; None while only the pickle's structure is being read."""
        if self._read is None:
            return None
        if self._array is None:
            raw_dtype = np.dtype("uint16" if dtype == "bfloat16" else dtype)
            if self.nbytes % raw_dtype.itemsize:
                raise _Problem(f"storage {self.key} of {self.nbytes} bytes does not hold {dtype} elements")
            elements = self._read(self.key, self.nbytes).view(raw_dtype)
            if self._big_endian and raw_dtype.itemsize > 1:
                elements.byteswap(inplace=True)
            if dtype == "bfloat16":  # bfloat16 is the upper half of a float32
                elements = (elements.astype(np.uint32) << 16).view(np.float32)
            self._array, self._array_dtype = elements, dtype
        elif dtype != self._array_dtype:
            raise _Problem(f"storage {self.key} is used both as {self._array_dtype} and as {dtype}")
        return self._array


def _c_strides(size):
    strides, step = [], 1
    for n in reversed(size):
        strides.insert(0, step)
        step *= n
    return strides


def _tensor(storage, offset, size, stride, dtype=None, metadata=None):
    """A tensor record as a numpy array (see the module docstring for views and copies)."""
    if not (isinstance(storage, _Storage) and isinstance(size, (tuple, list)) and isinstance(stride, (tuple, list))
            and len(size) == len(stride) and all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride))):
        raise _Problem("malformed tensor record")
    size, stride = tuple(size), tuple(stride)
    elements = storage.array(dtype or storage.dtype)
    if elements is None:
        return None
    numel = math.prod(size)
    if numel == 0:
        array = np.empty(size, elements.dtype)
    elif offset + sum((n - 1) * s for n, s in zip(size, stride)) >= elements.size:
        raise _Problem(f"a tensor reaches beyond its storage {storage.key}")
    elif offset == 0 and numel == elements.size and \
            all(n == 1 or s == c for n, s, c in zip(size, stride, _c_strides(size))):
        array = elements.reshape(size)
    else:
        strides = tuple(s * elements.itemsize for s in stride)
        array = np.lib.stride_tricks.as_strided(elements[offset:], size, strides).copy()
    if metadata and metadata.get("neg"):
        array = np.negative(array)
    if metadata and metadata.get("conj"):
        array = np.conj(array)
    return array


def _rebuild_tensor(storage, offset, size, stride):
    return _tensor(storage, offset, size, stride)


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    return _tensor(storage, offset, size, stride, metadata=metadata)


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, metadata=None):
    if not isinstance(dtype, np.dtype) or dtype.name not in _TORCH_DTYPES:
        raise _Problem("malformed tensor record")
    return _tensor(storage, offset, size, stride, dtype.name, metadata)


def _rebuild_parameter(data, requires_grad, hooks, state=None):
    return data


def _device(kind, index=None):
    return str(kind) if index is None else f"{kind}:{index}"


def _encode(text, encoding):
    """``bytes`` in protocol-2 pickles are ``_codecs.encode(str, 'latin1')``; no other codec is needed."""
    if encoding != "latin1":
        raise _Problem(f"refuses codec {encoding!r}")
    return text.encode("latin1")


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): tuple,
    ("torch", "device"): _device,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "bytes"): bytes,  # b"" in protocol-2 pickles
    ("_codecs", "encode"): _encode,
    ("argparse", "Namespace"): argparse.Namespace,  # training args: a plain attribute bag
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
    **{(module, name): getattr(_np_multiarray, name)
       for module in ("numpy.core.multiarray", "numpy._core.multiarray") for name in ("scalar", "_reconstruct")},
    **{("torch", name): np.dtype("float32" if name == "bfloat16" else name) for name in _TORCH_DTYPES},
}
_STORAGE_MODULES = ("torch", "torch.storage")


class _StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to: only their element dtype matters."""

    def __init__(self, dtype):
        self.dtype = dtype


class _Unpickler(pickle.Unpickler):
    """Resolves allow-listed names only; tensors' storages come from ``read(key, nbytes)``.

    With ``read=None`` tensors unpickle to None: enough to learn the storages' keys and sizes.
    """

    def __init__(self, file, read=None, big_endian=False):
        super().__init__(file)
        self._read, self._big_endian = read, big_endian
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol-2 files name Python 2 modules
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if module in _STORAGE_MODULES and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if (module, name) not in _ALLOWED:
            raise _Problem(f"refuses to load '{module}.{name}' (only tensors and plain containers are allowed)")
        return _ALLOWED[(module, name)]

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[4], int)):
            raise _Problem(f"unsupported persistent id {str(pid)[:80]!r}")
        if len(pid) == 6 and pid[5] is not None:
            raise _Problem("storage views (torch < 1.0 checkpoints) are not supported")
        storage_type, key, numel = pid[1], str(pid[2]), pid[4]
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type.dtype, numel, self._read, self._big_endian)
        return self.storages[key]

    def run(self, what):
        try:
            return self.load()
        except _Problem:
            raise
        except (EOFError, pickle.UnpicklingError) as err:
            if isinstance(err, EOFError) or "truncated" in str(err):
                raise _Problem(f"truncated file ({what} ends early)") from None
            raise _Problem(f"corrupt {what} ({_one_line(err)})") from None
        except Exception as err:  # only allow-listed code ran: any failure is a defect of the file
            raise _Problem(f"corrupt {what} ({_one_line(err)})") from None


_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, struct.error)


def _read_member(file, archive, info):
    """A zip member's bytes as a writable array; stored members (torch's) are read in place, CRC-checked."""
    buffer = np.empty(info.file_size, np.uint8)
    if info.compress_type != zipfile.ZIP_STORED:
        buffer[:] = np.frombuffer(archive.read(info), np.uint8)
        return buffer
    file.seek(info.header_offset)
    header = file.read(30)
    if header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    file.seek(info.header_offset + 30 + name_length + extra_length)
    if file.readinto(buffer) != info.file_size:
        raise EOFError(f"{info.filename} ends early")
    if zlib.crc32(buffer) != info.CRC:
        raise zipfile.BadZipFile(f"bad CRC-32 for {info.filename}")
    return buffer


def _read_zip(file):
    try:
        archive = zipfile.ZipFile(file)
    except _ZIP_ERRORS as err:
        raise _Problem("truncated file (zip central directory not found)" if "not a zip file" in str(err)
                       else f"corrupt zip archive ({_one_line(err)})") from None
    members = {info.filename: info for info in archive.infolist()}
    pickles = [n for n in members if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise _Problem("not a PyTorch checkpoint (zip archive without <name>/data.pkl)")
    prefix = pickles[0][:-len("data.pkl")]
    if prefix + "constants.pkl" in members:
        raise _Problem("TorchScript archive, not a checkpoint (save a state_dict instead)")

    def member(name, nbytes=None):
        if name not in members:
            raise _Problem(f"{name} is missing")
        if nbytes is not None and members[name].file_size != nbytes:
            raise _Problem(f"{name} has {members[name].file_size} bytes, expected {nbytes}")
        try:
            return _read_member(file, archive, members[name])
        except _ZIP_ERRORS as err:
            raise _Problem(f"corrupt {name} ({_one_line(err)})") from None

    byteorder = member(prefix + "byteorder").tobytes() if prefix + "byteorder" in members else b"little"
    if byteorder not in (b"little", b"big"):
        raise _Problem(f"unknown byte order {byteorder[:20]!r}")
    data_pkl = io.BytesIO(member(pickles[0]))
    return _Unpickler(data_pkl, lambda key, nbytes: member(f"{prefix}data/{key}", nbytes),
                      byteorder == b"big").run("data.pkl")


def _read_legacy(file):
    """Magic, protocol and sys-info pickles, the main pickle, its storage keys, then each storage's data."""
    try:
        magic = _Unpickler(file).load()
    except Exception:
        magic = None
    if magic != _LEGACY_MAGIC:
        raise _Problem("not a PyTorch checkpoint")
    protocol = _Unpickler(file).run("header")
    if protocol != _LEGACY_PROTOCOL:
        raise _Problem(f"unsupported legacy protocol version {protocol!r}")
    _Unpickler(file).run("header")  # sys info: storages are always little-endian in this format
    start = file.tell()
    structure = _Unpickler(file)  # first pass: which storages, of how many bytes
    structure.run("pickle")
    keys = _Unpickler(file).run("storage list")
    if not isinstance(keys, list) or set(map(str, keys)) != set(structure.storages):
        raise _Problem("storage list does not match the pickle")
    offsets, size = {}, os.fstat(file.fileno()).st_size
    for key in map(str, keys):
        header = file.read(8)
        if len(header) < 8:
            raise _Problem("truncated file (storage data ends early)")
        storage, (count,) = structure.storages[key], struct.unpack("<q", header)
        if count != storage.numel:
            raise _Problem(f"storage {key} holds {count} elements, the pickle says {storage.numel}")
        offsets[key] = file.tell()
        file.seek(storage.nbytes, os.SEEK_CUR)
    if file.tell() > size:
        raise _Problem("truncated file (storage data ends early)")

    def read(key, nbytes):
        buffer = np.empty(nbytes, np.uint8)
        file.seek(offsets[key])
        if file.readinto(buffer) != nbytes:
            raise _Problem("truncated file (storage data ends early)")
        return buffer

    file.seek(start)
    return _Unpickler(file, read).run("pickle")


def load_pth(path):
    """Return the object saved in a PyTorch checkpoint, its tensors as numpy arrays.

    Raises CheckpointError (one line: file name and problem) for anything that is not a readable checkpoint
    made of tensors and plain data.
    """
    name = os.path.basename(os.fspath(path))
    try:
        with open(path, "rb") as file:
            head = file.read(4)
            file.seek(0)
            if not head:
                raise _Problem("empty file")
            return _read_zip(file) if head.startswith(b"PK") else _read_legacy(file)
    except _Problem as err:
        raise CheckpointError(f"{name}: {err}") from None
    except OSError as err:
        raise CheckpointError(f"{name}: cannot read ({err.strerror or _one_line(err)})") from None
