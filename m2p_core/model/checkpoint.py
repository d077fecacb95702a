"""Checkpoint files: save, verify (sha256), load with ``weights_only=True``.

A checkpoint is a plain ``torch.save`` dict of tensors and primitives. A v1 model
(:class:`~m2p_core.model.network.Music2Palette`)::

    {"format": "m2p-checkpoint/1", "name": str, "config": dict, "state_dict": {...},
     "train_info": dict}

A v2 model (:class:`~m2p_core.model.v2.Music2PaletteV2`) is the v1 payload of its base network
plus the frozen musicnn weights and the folded emotion head::

    {"format": "m2p-checkpoint/2", "name": str, "config": dict, "state_dict": {...v1...},
     "musicnn_state_dict": {...}, "musicnn_labels": "msd",
     "head": {"config": {"features": [...], "kind": "axes"|"quadrants"}, "weight": (K, F),
              "bias": (K,), "platt_a": (2,), "platt_b": (2,)},
     "train_info": dict}

:func:`load_checkpoint` returns the model class of either format. The shipped files are
``m2p-v2.pt`` (the default) and ``m2p-v1.pt`` (the fast model, ``--model fast``; see
:data:`MODEL_ALIASES`).

``model_version`` = ``<file stem>-<first 12 hex of the file's sha256>``: it can be computed from
the file alone (:func:`model_version_of_file`) without unpickling it. If a sidecar
``<checkpoint>.sha256`` exists (the shipped checkpoint has one), the file is verified against it
before loading.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import torch
from torch import nn

from m2p_core.files import atomic_write_bytes
from m2p_core.model.network import ModelConfig, Music2Palette
from m2p_core.model.v2 import HeadConfig, Music2PaletteV2

FORMAT = "m2p-checkpoint/1"
FORMAT_V2 = "m2p-checkpoint/2"
DEFAULT_CHECKPOINT_NAME = "m2p-v2.pt"
FAST_CHECKPOINT_NAME = "m2p-v1.pt"
#: ``--model`` values that name a checkpoint shipped in the package
MODEL_ALIASES = {"default": DEFAULT_CHECKPOINT_NAME, "v2": DEFAULT_CHECKPOINT_NAME,
                 "fast": FAST_CHECKPOINT_NAME, "v1": FAST_CHECKPOINT_NAME}


class CheckpointError(Exception):
    """The checkpoint is missing, corrupt, or fails its sha256 check."""


@dataclass(frozen=True)
class LoadedModel:
    model: Music2Palette | Music2PaletteV2
    model_version: str
    train_info: dict


def shipped_checkpoint_path(name: str) -> str:
    """Path of a checkpoint file shipped inside the package."""
    return str(resources.files("m2p_core.model") / "checkpoints" / name)


def default_checkpoint_path() -> str:
    """Path of the default checkpoint shipped inside the package (v2)."""
    return shipped_checkpoint_path(DEFAULT_CHECKPOINT_NAME)


def resolve_model_path(model: str | None) -> str:
    """``--model`` value -> checkpoint path: None -> the default, an alias of
    :data:`MODEL_ALIASES` (``fast`` = v1) -> that shipped file, anything else is a path/URI."""
    if not model:
        return default_checkpoint_path()
    if model in MODEL_ALIASES:
        return shipped_checkpoint_path(MODEL_ALIASES[model])
    return model


def sha256_of_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_version_of(name: str, sha256_hex: str) -> str:
    return f"{name}-{sha256_hex[:12]}"


def checkpoint_stem(path: str | os.PathLike) -> str:
    name = os.path.basename(str(path).rstrip("/"))
    return name[:-3] if name.endswith(".pt") else name


def model_version_of_bytes(path: str | os.PathLike, data: bytes) -> str:
    """model_version of the checkpoint at ``path`` whose content is ``data``."""
    return model_version_of(checkpoint_stem(path), sha256_of_bytes(data))


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def save_checkpoint(
    model: Music2Palette | Music2PaletteV2, path: str | os.PathLike, name: str,
    train_info: dict | None = None,
) -> str:
    """Write atomically; also write the ``.sha256`` sidecar. Returns the model_version."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = model.base if isinstance(model, Music2PaletteV2) else model
    payload = {
        "format": FORMAT,
        "name": name,
        "config": base.config.to_dict(),
        "state_dict": _tensors(base),
        "train_info": train_info or {},
    }
    if isinstance(model, Music2PaletteV2):
        payload["format"] = FORMAT_V2
        payload["musicnn_state_dict"] = _tensors(model.musicnn)
        payload["musicnn_labels"] = "msd"
        payload["head"] = {"config": model.head_config.to_dict(),
                           **{k.replace("linear.", ""): v for k, v in _tensors(model.head).items()}}
    buffer = io.BytesIO()  # a file object: the archive's inner name does not depend on a path
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    digest = sha256_of_file(path)
    atomic_write_bytes(path.with_name(path.name + ".sha256"),
                       f"{digest}  {path.name}\n".encode())
    return model_version_of(checkpoint_stem(path), digest)


def read_checkpoint_bytes(path_or_file: str | os.PathLike | BinaryIO) -> bytes:
    if hasattr(path_or_file, "read"):
        return path_or_file.read()  # type: ignore[union-attr]
    with open(path_or_file, "rb") as f:
        return f.read()


def _expected_digest(path: str | os.PathLike) -> str | None:
    side = Path(str(path) + ".sha256")
    if not side.is_file():
        return None
    return side.read_text().split()[0].strip().lower()


def _build(payload: dict) -> Music2Palette | Music2PaletteV2:
    """The model of a checkpoint payload (either format), weights loaded."""
    config = ModelConfig.from_dict(payload["config"])
    if payload["format"] == FORMAT:
        model = Music2Palette(config)
        model.load_state_dict(payload["state_dict"])
        return model
    head = payload["head"]
    model = Music2PaletteV2(config, HeadConfig.from_dict(head["config"]))
    model.base.load_state_dict(payload["state_dict"])
    model.musicnn.load_state_dict(payload["musicnn_state_dict"])
    model.head.set_parts(head["weight"], head["bias"], head["platt_a"], head["platt_b"])
    return model


def load_checkpoint(
    path: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    data: bytes | None = None,
) -> LoadedModel:
    """Load a checkpoint (``weights_only=True``), verify it, and return the eval-mode model.

    ``data`` may carry the file's bytes when they were read through another filesystem (gs://).
    """
    path = path or default_checkpoint_path()
    try:
        raw = data if data is not None else read_checkpoint_bytes(path)
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from e
    digest = sha256_of_bytes(raw)
    expected = _expected_digest(path) if data is None else None
    if expected is not None and expected != digest:
        raise CheckpointError(
            f"checkpoint {path} fails its sha256 check "
            f"(expected {expected[:12]}…, got {digest[:12]}…)"
        )
    try:
        payload = torch.load(io.BytesIO(raw), map_location=device, weights_only=True)
    except Exception as e:  # torch raises several types for corrupt files
        raise CheckpointError(f"cannot load checkpoint {path}: {e}") from e
    if not isinstance(payload, dict) or payload.get("format") not in (FORMAT, FORMAT_V2):
        raise CheckpointError(f"{path} is not a music2palette checkpoint")
    model = _build(payload)
    model.to(device)
    model.eval()
    model.requires_grad_(False)
    return LoadedModel(
        model=model,
        model_version=model_version_of(checkpoint_stem(path), digest),
        train_info=dict(payload.get("train_info") or {}),
    )
