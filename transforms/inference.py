"""The RunInference model handler for the Music2Palette checkpoint."""

from __future__ import annotations

import logging

import torch
from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

from m2p_core.model.checkpoint import load_checkpoint, sha256_of_bytes
from m2p_core.model.network import Music2Palette
from transforms import fsio


def cuda_usable() -> bool:
    """True only when CUDA can really allocate (a driver may be missing despite the wheel)."""
    if not torch.cuda.is_available():
        return False
    try:
        torch.empty(1, device="cuda")
        return True
    except Exception:
        return False


#: The model last loaded in this process, by (checkpoint sha256, device): a local run made of
#: chunks (pipelines.chunked) runs one pipeline per chunk, and Beam's shared model lives only as
#: long as its pipeline; this keeps one model per process instead of loading it per chunk.
#: Forked local workers inherit the fork server's copy (pipelines.local_workers).
_LOADED: dict[tuple[str, str], torch.nn.Module] = {}


def load_model_cached(model_path: str, device: str | torch.device = "cpu") -> torch.nn.Module:
    """The eval-mode model of the checkpoint at ``model_path`` (any Beam filesystem) on
    ``device``, loaded (sha256-verified, ``weights_only``) only when its bytes differ from the
    model this process loaded last. The model is only ever used for inference, never changed."""
    data = fsio.read_bytes(model_path)
    key = (sha256_of_bytes(data), str(torch.device(device)))
    model = _LOADED.get(key)
    if model is None:
        if fsio.is_local(model_path):  # (its .sha256 sidecar is checked too)
            model = load_checkpoint(model_path, device=device).model
        else:
            model = load_checkpoint(model_path, device=device, data=data).model
        _LOADED.clear()
        _LOADED[key] = model
    return model


class Music2PaletteModelHandler(PytorchModelHandlerTensor):
    """PytorchModelHandlerTensor that loads our checkpoint format (sha256-verified,
    ``weights_only=True``) from any Beam filesystem. Batching, model sharing and device
    placement stay Beam's.

    Fixed-size batches (``min_batch_size == max_batch_size``, the pipelines' default): Beam
    groups exactly ``max_batch_size`` windows (fewer in a bundle's last batch) and every
    forward pass gets the same shape, ``max_batch_size`` rounded up to a multiple of 16, padded
    with silent windows whose results are dropped. A window's result then never depends on
    which other windows shared its batch or where it sat in it, so outputs are bit-identical
    whatever the worker count, bundle boundaries or chunks. (CPU kernels round differently for
    other batch shapes, and in the scalar tail of their vectorised loops: with a fixed shape
    whose rows are a multiple of 16, every row's elements fall in the vectorised body; the
    colour conversion, on 5x3 values per row, runs row by row; see PaletteDecoder. The thread
    count does not change results. Checked on AVX-512 for 16, 32 and 48 rows. 8 rows is not
    enough: the emotion head's last Linear layer then gives odd and even rows different last
    bits, so a window's result depended on its position in the batch.)"""

    def __init__(
        self,
        model_path: str,
        device: str = "auto",
        min_batch_size: int | None = None,
        max_batch_size: int | None = 64,
        large_model: bool = False,
        model_copies: int | None = None,
    ) -> None:
        # "auto": the GPU where the worker has one (decided on the worker, in load_model).
        self._auto_device = device.lower() == "auto"
        super().__init__(
            state_dict_path=model_path,
            model_class=Music2Palette,
            device="GPU" if self._auto_device else device,
            min_batch_size=min_batch_size,
            max_batch_size=max_batch_size,
            large_model=large_model,
            model_copies=model_copies,
        )
        self._model_path = model_path
        # The forward shape: the fixed batch size rounded up to a multiple of 16 rows.
        self._fixed_batch = (-(-max_batch_size // 16) * 16
                             if max_batch_size and min_batch_size == max_batch_size else None)

    def get_num_bytes(self, batch) -> int:
        """Bytes of a batch, for Beam's metrics. (Beam's default iterates over every scalar of
        every tensor in Python, which costs far more than the inference itself.)"""
        return sum(t.element_size() * t.nelement() for t in batch)

    def run_inference(self, batch, model, inference_args=None):
        n, pad_to = len(batch), getattr(self, "_fixed_batch", None)
        if pad_to and 0 < n < pad_to:
            padded = [*batch, *([torch.zeros_like(batch[0])] * (pad_to - n))]
            return list(self._run_inference(padded, model, inference_args))[:n]
        return self._run_inference(batch, model, inference_args)

    def _run_inference(self, batch, model, inference_args):
        # Batches go where the model is. The device is decided when the model loads, but with
        # a shared model (threads of one worker, model_copies) only one handler copy loads it;
        # the others would still hold the requested device (e.g. cuda on a CPU-only worker).
        if isinstance(model, torch.nn.Module):
            param = next(model.parameters(), None)
            if param is not None and param.device != self._device:
                self._device = param.device
        elif self._device.type == "cuda" and not cuda_usable():  # a shared model's proxy
            self._device = torch.device("cpu")
        return super().run_inference(batch, model, inference_args)

    def load_model(self) -> torch.nn.Module:
        if self._device.type == "cuda" and not cuda_usable():
            # Beam's own loader does the same: --device GPU on a machine without a usable GPU
            # runs on the CPU (with a warning) rather than failing every batch.
            if not getattr(self, "_auto_device", False):
                logging.getLogger(__name__).warning(
                    "--device GPU but no usable CUDA device here: running inference on the CPU")
            self._device = torch.device("cpu")
        return load_model_cached(self._model_path, self._device)
