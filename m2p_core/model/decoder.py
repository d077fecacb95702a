"""The learned colour decoder: K colour queries attending to the music.

Why a transformer decoder over K learned colour queries (rather than an MLP or an
autoregressive decoder): a palette is a small *set* of colours that must be chosen jointly —
self-attention between the queries lets colours coordinate (contrast, harmony, lightness
ordering) in one parallel step, and cross-attention lets each colour look at different moments
of the window (the encoder's time tokens) and at the emotion/descriptor token. An
autoregressive decoder would impose an arbitrary colour order for no gain at K = 5.

Sampling: a latent vector ``z`` (``noise_dim``) is added to the queries. At inference it is
drawn from a generator seeded by ``palette_seed`` (deterministic; seed 0 by default), so the
same music always gets the same palette and another seed gives an alternative palette.

Outputs: colours are produced as sRGB = σ(·) ∈ [0, 1]³ and converted to CIELAB D65 in torch,
so every colour is displayable by construction (no gamut clipping after the fact, which would
desaturate exactly the high-arousal colours); weights come from a softmax (every colour keeps at
least ``min_weight``).
"""

from __future__ import annotations

import torch
from torch import nn

from m2p_core.colour.differentiable import srgb01_to_lab


class PaletteDecoder(nn.Module):
    def __init__(
        self,
        memory_dim: int,
        cond_dim: int,
        n_colours: int = 5,
        d_model: int = 64,
        n_layers: int = 2,
        n_heads: int = 4,
        noise_dim: int = 8,
        min_weight: float = 0.05,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.n_colours = n_colours
        self.noise_dim = noise_dim
        self.min_weight = min_weight
        self.queries = nn.Parameter(torch.randn(n_colours, d_model) * 0.5)
        self.memory_proj = nn.Linear(memory_dim, d_model)
        self.cond_proj = nn.Sequential(nn.Linear(cond_dim, d_model), nn.GELU(),
                                       nn.Linear(d_model, d_model))
        self.noise_proj = nn.Linear(noise_dim, d_model)
        layer = nn.TransformerDecoderLayer(
            d_model, n_heads, dim_feedforward=2 * d_model, dropout=dropout, batch_first=True,
            norm_first=True,
        )
        self.decoder = nn.TransformerDecoder(layer, n_layers)
        self.out = nn.Linear(d_model, 4)

    def forward(
        self, memory: torch.Tensor, cond: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """memory (B, T, memory_dim), cond (B, cond_dim), noise (B, noise_dim) ->
        palette_lab (B, K, 3), weights (B, K)."""
        b = memory.shape[0]
        cond_tok = self.cond_proj(cond)[:, None, :]
        mem = torch.cat([self.memory_proj(memory), cond_tok], dim=1)
        q = self.queries[None].expand(b, -1, -1) + self.noise_proj(noise)[:, None, :] + cond_tok
        h = self.decoder(q, mem)
        o = self.out(h)
        if o.device.type == "cpu" and not torch.is_grad_enabled():
            # Inference on the CPU: convert row by row. The CPU kernels of pow/sigmoid round
            # differently in their vectorised body and their scalar tail, so over the whole
            # batch a window's colours would depend on its position in the batch (by ~1e-5);
            # per row they are the same whatever batch the window is in (~1 ms per batch).
            lab = torch.stack([srgb01_to_lab(torch.sigmoid(row)) for row in o[..., :3]])
        else:
            lab = srgb01_to_lab(torch.sigmoid(o[..., :3]))
        k = self.n_colours
        weights = self.min_weight + (1.0 - k * self.min_weight) * torch.softmax(o[..., 3], dim=-1)
        return lab, weights


def seeded_noise(batch: int, noise_dim: int, seed: int, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The latent for ``seed``, the same for every item of the batch (deterministic)."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(noise_dim, generator=g)
    return z.to(device=device, dtype=dtype)[None].expand(batch, -1)
