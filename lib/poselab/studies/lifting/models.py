"""Encoder, decoder and discriminator of the lifting VAE-GAN, exactly as the thesis's Appendix A.

All three share one residual block (two Linear layers of width h, each followed by
BatchNorm, an activation and Dropout; the block adds its input back).  The VAE's blocks use
bias-free Linear layers, BatchNorm, Mish and Dropout(0.2); the discriminator's keep the bias,
drop BatchNorm and use LeakyReLU with Dropout(0.5).  Every Linear layer is Kaiming-initialised
for a LeakyReLU non-linearity (chapter 3).

Shapes, with J = 16 non-root joints: encoder (B, 2J) -> mu, logvar (B, d); decoder (B, d) ->
(B, 3J) in [-1, 1]; discriminator (B, 2J) -> (B, 1) probability of "real".
"""

from __future__ import annotations

import torch
from torch import nn

LEAKY_SLOPE = 0.01


def activation(name: str) -> nn.Module:
    return {"mish": nn.Mish(), "leaky_relu": nn.LeakyReLU(LEAKY_SLOPE)}[name]


def dense(n_in: int, n_out: int, bias: bool = True, norm: bool = True, act: str = "mish",
          dropout: float = 0.2) -> list[nn.Module]:
    """Linear -> [BatchNorm] -> activation -> [Dropout], as a list of layers."""
    layers: list[nn.Module] = [nn.Linear(n_in, n_out, bias=bias)]
    if norm:
        layers.append(nn.BatchNorm1d(n_out))
    layers.append(activation(act))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return layers


class ResidualBlock(nn.Module):
    """x + f(x), f = two dense layers of width h (Fig. 2.1.1)."""

    def __init__(self, h: int, bias: bool = False, norm: bool = True, act: str = "mish", dropout: float = 0.2):
        super().__init__()
        self.layers = nn.Sequential(*dense(h, h, bias, norm, act, dropout), *dense(h, h, bias, norm, act, dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


def kaiming_init(model: nn.Module) -> nn.Module:
    """Kaiming-normal weights (LeakyReLU gain) and zero biases for every Linear layer."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, a=LEAKY_SLOPE, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


class Encoder(nn.Module):
    """2D pose (B, 2J) -> latent mean and log-variance, each (B, d)."""

    def __init__(self, joints: int = 16, h: int = 1024, d: int = 51, n_blocks: int = 1, dropout: float = 0.2):
        super().__init__()
        self.upsample = nn.Sequential(*dense(2 * joints, h, bias=True, dropout=dropout))
        self.blocks = nn.Sequential(*[ResidualBlock(h, dropout=dropout) for _ in range(n_blocks)])
        self.mu = nn.Linear(h, d)
        self.logvar = nn.Linear(h, d)
        kaiming_init(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.blocks(self.upsample(x))
        return self.mu(f), self.logvar(f)


class Decoder(nn.Module):
    """Latent sample (B, d) -> root-relative 3D pose (B, 3J) in [-1, 1] (Tanh)."""

    def __init__(self, joints: int = 16, h: int = 1024, d: int = 51, n_blocks: int = 1, dropout: float = 0.2):
        super().__init__()
        self.upsample = nn.Sequential(*dense(d, h, bias=True, dropout=dropout))
        self.blocks = nn.Sequential(*[ResidualBlock(h, dropout=dropout) for _ in range(n_blocks)])
        self.downsample = nn.Sequential(nn.Linear(h, 3 * joints), nn.Tanh())
        kaiming_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.downsample(self.blocks(self.upsample(z)))


class Discriminator(nn.Module):
    """2D pose (B, 2J) -> probability (B, 1) that it comes from the data set."""

    def __init__(self, joints: int = 16, h: int = 1024, n_blocks: int = 2, dropout: float = 0.5):
        super().__init__()
        self.upsample = nn.Sequential(*dense(2 * joints, h, bias=True, norm=False, act="leaky_relu", dropout=0))
        self.blocks = nn.Sequential(
            *[ResidualBlock(h, bias=True, norm=False, act="leaky_relu", dropout=dropout) for _ in range(n_blocks)]
        )
        self.downsample = nn.Sequential(nn.Linear(h, 1), nn.Sigmoid())
        kaiming_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(self.blocks(self.upsample(x)))


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, scale: float = 1.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + scale * sigma * eps, eps ~ N(0, I) (the reparameterisation trick, eq. 2.2)."""
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)  # CPU generator, any device
    return mu + scale * torch.exp(0.5 * logvar) * eps


BLOCK_NAMES = {"upsample": "Upsampling block", "mu": "Downsampling block (mu)",
               "logvar": "Downsampling block (log-variance)", "downsample": "Downsampling block"}


def layer_table(model: nn.Module) -> list[tuple[str, str, int]]:
    """(block, layer as torch prints it, parameters) for every leaf layer, in forward order."""
    rows = []
    for name, m in model.named_modules():
        if len(list(m.children())) == 0:
            parts = name.split(".")
            block = f"Residual block {int(parts[1]) + 1}" if parts[0] == "blocks" else BLOCK_NAMES[parts[0]]
            rows.append((block, repr(m), sum(p.numel() for p in m.parameters())))
    return rows
