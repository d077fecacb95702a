"""The model handler: a window's result must not depend on its batch (issue #14: chunked runs
batch windows differently from one pipeline over everything)."""

from __future__ import annotations

import torch

from transforms.inference import Music2PaletteModelHandler, load_model_cached


def test_a_window_gets_the_same_bits_wherever_it_sits_in_its_batch(tiny_checkpoint):
    handler = Music2PaletteModelHandler(tiny_checkpoint, device="CPU", min_batch_size=4,
                                        max_batch_size=4)
    model = handler.load_model()
    n = model.config.window_samples
    g = torch.Generator().manual_seed(3)
    windows = [torch.randn(n, generator=g) * 0.1 for _ in range(8)]
    with torch.no_grad():
        first = handler.run_inference(windows[:4], model)
        # the same windows in other batches, at other positions, with other neighbours
        second = handler.run_inference([windows[5], windows[3], windows[0], windows[1]], model)
        third = handler.run_inference([windows[6], windows[2]], model)  # a short last batch
    pairs = [(first[0], second[2]), (first[1], second[3]), (first[3], second[1]),
             (first[2], third[1])]
    for a, b in pairs:
        for key in ("valence_arousal", "palette_lab", "weights"):
            assert torch.equal(a.inference[key], b.inference[key]), key


def test_the_model_is_loaded_once_per_process_and_content(tiny_checkpoint, tmp_path):
    a = load_model_cached(tiny_checkpoint)
    assert load_model_cached(tiny_checkpoint) is a
    copy = tmp_path / "same.pt"
    copy.write_bytes(open(tiny_checkpoint, "rb").read())
    assert load_model_cached(str(copy)) is a  # same bytes: same model
