#!/usr/bin/env python3
"""Convert the pretrained musicnn TF1 checkpoints to PyTorch state dicts.

The musicnn wheel (PyPI ``musicnn`` 0.1.0, ISC licence, Jordi Pons / MTG-UPF)
ships TensorFlow 1 "V2 format" checkpoints: a ``.index`` file (a LevelDB-style
SSTable whose values are ``BundleEntryProto`` messages) and a
``.data-00000-of-00001`` file holding the raw little-endian tensor bytes.
This script reads them with a small pure-Python reader (no TensorFlow, no
protobuf), maps the variables onto :class:`musicnn.MusicNN` and writes

* ``musicnn_msd.pt`` and ``musicnn_mtt.pt`` -- ``MusicNN.state_dict()``
  (64 float32 tensors plus 11 batch-norm ``num_batches_tracked`` counters),
  loadable with ``torch.load(path, weights_only=True)``;
* ``LICENSE.musicnn`` -- the ISC notice copied from the wheel;
* ``PROVENANCE.musicnn.md`` -- wheel name/version/sha256, sha256 of every source
  checkpoint file, date and command line.

Usage
-----
    python scripts/convert_musicnn.py musicnn-0.1.0-py3-none-any.whl m2p_core/model/checkpoints

(`make musicnn-weights` downloads the wheel with ``pip download --no-deps musicnn==0.1.0``
and runs this.)

The reader functions (:func:`read_checkpoint`) import only numpy, so they can
also be used from an environment without torch.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------
# Pure-Python TF checkpoint (tensor bundle) reader
# --------------------------------------------------------------------------

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_LEN = 48  # 2 block handles padded to 40 bytes + 8-byte magic
_BLOCK_TRAILER_LEN = 5  # 1 byte compression type + 4 bytes masked crc32c

# tensorflow/core/framework/types.proto -> numpy little-endian dtype
_TF_DTYPES = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    19: np.dtype("<f2"),  # DT_HALF
}


def _crc32c_table() -> list[int]:
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """LevelDB/TF masked CRC-32C, the form stored in ``BundleEntryProto.crc32c``."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``buf[pos]``; return (value, new_pos)."""
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf: bytes):
    """Yield ``(field_number, wire_type, value)`` of a serialized protobuf.

    Varint fields give ints, length-delimited fields give bytes, fixed32 /
    fixed64 fields give ints.
    """
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            (value,) = struct.unpack_from("<Q", buf, pos)
            pos += 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value = buf[pos:pos + n]
            pos += n
        elif wire == 5:
            (value,) = struct.unpack_from("<I", buf, pos)
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _block_entries(table: bytes, offset: int, size: int):
    """Yield ``(key, value)`` pairs of one SSTable block (prefix-compressed)."""
    if table[offset + size] != 0:
        raise ValueError("compressed SSTable blocks are not supported")
    block = table[offset:offset + size]
    (n_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * n_restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + value_len]
        pos += value_len


def _parse_bundle_entry(buf: bytes) -> dict:
    """Decode a ``BundleEntryProto`` (tensorflow/core/protobuf/tensor_bundle.proto)."""
    entry = {"dtype": 0, "shape": [], "shard_id": 0, "offset": 0, "size": 0,
             "crc32c": None, "sliced": False}
    for field, _, value in _proto_fields(buf):
        if field == 1:
            entry["dtype"] = value
        elif field == 2:  # TensorShapeProto: repeated Dim dim = 2 {int64 size = 1}
            for f2, _, dim in _proto_fields(value):
                if f2 == 2:
                    size = 0
                    for f3, _, v3 in _proto_fields(dim):
                        if f3 == 1:
                            size = v3
                    entry["shape"].append(size)
        elif field == 3:
            entry["shard_id"] = value
        elif field == 4:
            entry["offset"] = value
        elif field == 5:
            entry["size"] = value
        elif field == 6:
            entry["crc32c"] = value
        elif field == 7:
            entry["sliced"] = True
    return entry


def read_index(index: bytes) -> dict[str, dict]:
    """Parse a checkpoint ``.index`` file into ``{variable name: entry}``.

    Parameters
    ----------
    index : bytes
        Contents of the ``.index`` file.

    Returns
    -------
    dict
        Maps each variable name to a dict with keys ``dtype`` (TF enum),
        ``shape`` (list of int), ``shard_id``, ``offset`` and ``size`` (bytes
        in the data shard), ``crc32c`` and ``sliced``. The bundle header
        (empty key) is omitted.
    """
    footer = index[-_FOOTER_LEN:]
    (magic,) = struct.unpack_from("<Q", footer, 40)
    if magic != _TABLE_MAGIC:
        raise ValueError("not a TF checkpoint index (bad SSTable magic)")
    _, pos = _varint(footer, 0)  # metaindex offset
    _, pos = _varint(footer, pos)  # metaindex size
    idx_off, pos = _varint(footer, pos)
    idx_size, pos = _varint(footer, pos)
    entries = {}
    for _, handle in _block_entries(index, idx_off, idx_size):
        off, p = _varint(handle, 0)
        size, _ = _varint(handle, p)
        for key, value in _block_entries(index, off, size):
            if key:  # b"" is the BundleHeaderProto
                entries[key.decode("utf-8")] = _parse_bundle_entry(value)
    return entries


def read_checkpoint(index: bytes, data: bytes, verify_crc: bool = True,
                    names=None) -> dict[str, np.ndarray]:
    """Read the tensors of a single-shard TF checkpoint.

    Parameters
    ----------
    index : bytes
        Contents of ``<prefix>.index``.
    data : bytes
        Contents of ``<prefix>.data-00000-of-00001``.
    verify_crc : bool, optional
        Check each tensor's masked CRC-32C against the index (pure Python,
        roughly 1 s per 3 MB).
    names : iterable of str, optional
        Only read these variables (default: all).

    Returns
    -------
    dict of str to numpy.ndarray
        Variable name -> array with the stored dtype and shape (TF layouts,
        e.g. conv kernels are ``(kh, kw, in, out)``).
    """
    entries = read_index(index)
    wanted = set(entries) if names is None else set(names)
    out = {}
    for name in sorted(wanted):
        e = entries[name]
        if e["shard_id"] != 0 or e["sliced"]:
            raise ValueError(f"{name}: multi-shard / sliced tensors unsupported")
        dtype = _TF_DTYPES.get(e["dtype"])
        if dtype is None:
            raise ValueError(f"{name}: unsupported TF dtype enum {e['dtype']}")
        raw = data[e["offset"]:e["offset"] + e["size"]]
        if verify_crc and e["crc32c"] is not None and masked_crc32c(raw) != e["crc32c"]:
            raise ValueError(f"{name}: CRC-32C mismatch")
        arr = np.frombuffer(raw, dtype=dtype).reshape(e["shape"])
        out[name] = arr.astype(dtype.newbyteorder("="), copy=True)
    return out


# --------------------------------------------------------------------------
# Mapping TF variable names -> MusicNN state dict
# --------------------------------------------------------------------------

# Order of layer creation in musicnn/models.py::build_musicnn, which fixes the
# automatic TF names conv2d_<i>, batch_normalization_<i>, dense_<i>.
_CONV_MAP = [  # (tf conv name, torch prefix, kind)
    ("conv2d", "frontend.timbral.0.conv", "conv2d"),  # f74: 7 x 38
    ("conv2d_1", "frontend.timbral.1.conv", "conv2d"),  # f77: 7 x 67
    ("conv2d_2", "frontend.temporal.0.conv", "conv2d"),  # s1: 128 x 1
    ("conv2d_3", "frontend.temporal.1.conv", "conv2d"),  # s2: 64 x 1
    ("conv2d_4", "frontend.temporal.2.conv", "conv2d"),  # s3: 32 x 1
    ("conv2d_5", "midend.convs.0", "conv1d"),  # 7 x 561 -> 64
    ("conv2d_6", "midend.convs.1", "conv1d"),  # 7 x 64 -> 64
    ("conv2d_7", "midend.convs.2", "conv1d"),  # 7 x 64 -> 64
]
_BN_MAP = [
    ("batch_normalization", "frontend.input_bn"),
    ("batch_normalization_1", "frontend.timbral.0.bn"),
    ("batch_normalization_2", "frontend.timbral.1.bn"),
    ("batch_normalization_3", "frontend.temporal.0.bn"),
    ("batch_normalization_4", "frontend.temporal.1.bn"),
    ("batch_normalization_5", "frontend.temporal.2.bn"),
    ("batch_normalization_6", "midend.bns.0"),
    ("batch_normalization_7", "midend.bns.1"),
    ("batch_normalization_8", "midend.bns.2"),
    ("batch_normalization_9", "backend.pool_bn"),
    ("batch_normalization_10", "backend.dense_bn"),
]
_DENSE_MAP = [("dense", "backend.dense"), ("dense_1", "backend.output")]


def tf_variable_names() -> list[str]:
    """Names of the model variables (no optimizer slots) used by the port."""
    names = []
    for tf_name, _, _ in _CONV_MAP:
        names += [f"{tf_name}/kernel", f"{tf_name}/bias"]
    for tf_name, _ in _BN_MAP:
        names += [f"{tf_name}/{v}" for v in ("gamma", "beta", "moving_mean", "moving_variance")]
    for tf_name, _ in _DENSE_MAP:
        names += [f"{tf_name}/kernel", f"{tf_name}/bias"]
    return names


def tf_to_state_dict(tf_vars: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Convert TF variables to ``MusicNN`` state-dict arrays (float32).

    Layout changes: conv2d kernels ``(kh, kw, in, out)`` -> torch
    ``(out, in, kh, kw)``; mid-end convs (which span the whole feature axis,
    i.e. are 1-D convolutions over time) ``(7, C, 1, out)`` -> Conv1d
    ``(out, C, 7)``; dense kernels ``(in, out)`` -> Linear ``(out, in)``.
    """
    sd = {}
    for tf_name, prefix, kind in _CONV_MAP:
        k = tf_vars[f"{tf_name}/kernel"]
        if kind == "conv2d":
            w = k.transpose(3, 2, 0, 1)
        else:
            if k.shape[2] != 1:
                raise ValueError(f"{tf_name}: expected in-channels 1, got {k.shape}")
            w = k[:, :, 0, :].transpose(2, 1, 0)
        sd[f"{prefix}.weight"] = w
        sd[f"{prefix}.bias"] = tf_vars[f"{tf_name}/bias"]
    for tf_name, prefix in _BN_MAP:
        sd[f"{prefix}.weight"] = tf_vars[f"{tf_name}/gamma"]
        sd[f"{prefix}.bias"] = tf_vars[f"{tf_name}/beta"]
        sd[f"{prefix}.running_mean"] = tf_vars[f"{tf_name}/moving_mean"]
        sd[f"{prefix}.running_var"] = tf_vars[f"{tf_name}/moving_variance"]
    for tf_name, prefix in _DENSE_MAP:
        sd[f"{prefix}.weight"] = tf_vars[f"{tf_name}/kernel"].T
        sd[f"{prefix}.bias"] = tf_vars[f"{tf_name}/bias"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

MODELS = {"MSD_musicnn": "musicnn_msd.pt", "MTT_musicnn": "musicnn_mtt.pt"}
_CKPT_FILES = (".index", ".data-00000-of-00001")


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def convert(wheel: Path, out_dir: Path, argv: list[str] | None = None) -> None:
    """Convert both musicnn checkpoints of ``wheel`` into ``out_dir``."""
    import torch

    # Local import so that read_checkpoint() stays usable without torch.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from m2p_core.model.musicnn import MusicNN

    out_dir.mkdir(parents=True, exist_ok=True)
    wheel_bytes = wheel.read_bytes()
    prov_files = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        version = next(line.split(":", 1)[1].strip() for line in meta.splitlines()
                       if line.startswith("Version:"))
        lic = zf.read(next(n for n in names if n.endswith(".dist-info/LICENSE.md")))
        (out_dir / "LICENSE.musicnn").write_bytes(lic)
        for model_name, out_name in MODELS.items():
            blobs = {}
            for suffix in _CKPT_FILES:
                member = f"musicnn/{model_name}/{suffix}"
                blobs[suffix] = zf.read(member)
                prov_files.append((member, len(blobs[suffix]), _sha256(blobs[suffix])))
            tf_vars = read_checkpoint(blobs[".index"], blobs[".data-00000-of-00001"],
                                      names=tf_variable_names())
            sd = {k: torch.from_numpy(v) for k, v in tf_to_state_dict(tf_vars).items()}
            model = MusicNN(n_classes=sd["backend.output.weight"].shape[0])
            model.load_state_dict(sd, strict=True)  # validates names and shapes
            torch.save(model.state_dict(), out_dir / out_name)
            n_params = sum(v.numel() for k, v in sd.items() if "running" not in k)
            print(f"{model_name}: {len(sd)} tensors, {n_params} parameters -> {out_dir / out_name}")

    outputs = [(n, _sha256((out_dir / n).read_bytes())) for n in MODELS.values()]
    cmd = " ".join(["python", Path(__file__).name] + (argv if argv is not None else sys.argv[1:]))
    lines = [
        "# Provenance of the musicnn PyTorch weights",
        "",
        "Converted from the pretrained TensorFlow 1 checkpoints shipped in the PyPI",
        "wheel of musicnn (Pons & Serra, \"musicnn: pre-trained convolutional neural",
        "networks for music audio tagging\", ISMIR 2019 LBD), ISC licence, see",
        "`LICENSE.musicnn`. Only model variables were converted (Adam slots dropped).",
        "",
        f"- wheel: `{wheel.name}` (musicnn {version})",
        f"- wheel sha256: `{_sha256(wheel_bytes)}` ({len(wheel_bytes)} bytes)",
        f"- date (UTC): {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M')}",
        f"- command: `{cmd}`",
        f"- torch: {torch.__version__}, numpy: {np.__version__}",
        "",
        "## Source checkpoint files (inside the wheel)",
        "",
        "| file | bytes | sha256 |",
        "| --- | ---: | --- |",
    ]
    lines += [f"| `{m}` | {n} | `{h}` |" for m, n, h in prov_files]
    lines += ["", "## Outputs", "", "| file | sha256 |", "| --- | --- |"]
    lines += [f"| `{n}` | `{h}` |" for n, h in outputs]
    (out_dir / "PROVENANCE.musicnn.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out_dir / 'LICENSE.musicnn'} and {out_dir / 'PROVENANCE.musicnn.md'}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("wheel", type=Path, help="path to musicnn-0.1.0-py3-none-any.whl")
    p.add_argument("out_dir", type=Path, help="output directory")
    args = p.parse_args(argv)
    convert(args.wheel, args.out_dir, argv)


if __name__ == "__main__":
    main()
