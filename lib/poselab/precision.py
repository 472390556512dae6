"""Which precision and memory layout a training run uses when its config leaves them open (``None``).

The choice is a table of measurements, not a rule of thumb by device name: per device kind and model
family, the fastest of float32 / bf16 autocast and contiguous / channels_last at the batch sizes the
profiles use, as ``make bench BENCH=precision`` measures them (the bench prints the table's choice beside
the fastest measured variant, so a stale entry shows).  A config that sets ``bf16`` or ``channels_last``
explicitly always wins.

On the CPU every entry is float32: it is the one precision every x86-64 and arm64 CPU runs natively, so
the default profile gives the same numbers (within the seed spread) whether or not the CPU has AVX-512
BF16 or AMX.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    bf16: bool
    channels_last: bool
    measured: str  # where the choice comes from

    def describe(self) -> str:
        return describe(self.bf16, self.channels_last)


def describe(bf16: bool, channels_last: bool) -> str:
    """What a run computes in, as the run metadata records it: "float32" or "bfloat16 autocast", and the layout."""
    return ("bfloat16 autocast" if bf16 else "float32") + (", channels_last" if channels_last else "")


# (device kind, model family, smallest batch the entry applies to) -> choice; the largest matching batch wins.
TABLE: dict[tuple[str, str, int], Choice] = {
    ("cpu", "hourglass", 1): Choice(False, True, "2-core AMD EPYC, AVX2 kernels (ATEN_CPU_CAPABILITY=avx2): w64 "
                                                 "64px 2 stacks batch 16, 1 thread: fp32 125, fp32 channels_last 164 "
                                                 "img/s"),
    ("cpu", "hrnet", 1): Choice(False, True, "2-core AMD EPYC, AVX2 kernels: default HRNet w16 64px batch 16, "
                                             "1 thread: fp32 316, fp32 channels_last 385 img/s"),
    ("cpu", "*", 1): Choice(False, True, "as the hourglass and HRNet on the CPU"),
    ("cuda", "*", 1): Choice(False, False, "H100, 2026-11-22: default hourglass batch 16 fp32 490 vs bf16 + "
                                           "channels_last 331 img/s; paper 2-stack 256px batch 32 612 vs 483; "
                                           "HRNet-W32 256px batch 32 201 vs 183"),
    ("cuda", "*", 64): Choice(True, True, "H100, 2026-11-22: paper 2-stack 256px batch 64: bf16 + channels_last 961 "
                                          "vs fp32 705 img/s"),
}


def family(model: object) -> str:
    """The model family a table entry is keyed by: 'hourglass', 'hrnet', 'simplebaseline', 'integral', ..."""
    name = type(model).__name__.lower()
    for key in ("hourglass", "hrnet", "simplebaseline", "integral"):
        if key in name:
            return key
    return name


def choose(device: str, model_family: str, batch_size: int) -> Choice:
    """The table's choice for a device ('cpu', 'cuda', 'cuda:1'), a model family and a batch size."""
    kind = str(device).split(":")[0]
    matches = [(b, fam == model_family, c) for (dev, fam, b), c in TABLE.items()
               if dev == kind and fam in (model_family, "*") and b <= batch_size]
    if not matches:
        return Choice(False, False, f"no measurement for {kind}: float32, contiguous")
    # the most specific family first, then the largest batch threshold
    return max(matches, key=lambda m: (m[1], m[0]))[2]


def bf16_native(device: str) -> bool:
    """Whether bfloat16 matrix kernels run natively (CUDA, or a CPU with AVX512-BF16/AMX)."""
    import torch

    if str(device).startswith("cuda"):
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
