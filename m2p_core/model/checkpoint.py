"""Checkpoint files: save, verify (sha256), load with ``weights_only=True``.

A checkpoint is a plain ``torch.save`` dict of tensors and primitives::

    {"format": "m2p-checkpoint/1", "name": str, "config": dict, "state_dict": {...},
     "train_info": dict}

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

from m2p_core.files import atomic_write_bytes
from m2p_core.model.network import ModelConfig, Music2Palette

FORMAT = "m2p-checkpoint/1"
DEFAULT_CHECKPOINT_NAME = "m2p-v1.pt"


class CheckpointError(Exception):
    """The checkpoint is missing, corrupt, or fails its sha256 check."""


@dataclass(frozen=True)
class LoadedModel:
    model: Music2Palette
    model_version: str
    train_info: dict


def default_checkpoint_path() -> str:
    """Path of the checkpoint shipped inside the package."""
    return str(resources.files("m2p_core.model") / "checkpoints" / DEFAULT_CHECKPOINT_NAME)


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


def save_checkpoint(
    model: Music2Palette, path: str | os.PathLike, name: str, train_info: dict | None = None
) -> str:
    """Write atomically; also write the ``.sha256`` sidecar. Returns the model_version."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "name": name,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "train_info": train_info or {},
    }
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
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a music2palette checkpoint")
    model = Music2Palette(ModelConfig.from_dict(payload["config"]))
    model.load_state_dict(payload["state_dict"])
    model.to(device)
    model.eval()
    model.requires_grad_(False)
    return LoadedModel(
        model=model,
        model_version=model_version_of(checkpoint_stem(path), digest),
        train_info=dict(payload.get("train_info") or {}),
    )
