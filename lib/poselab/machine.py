"""What machine a run ran on: the CPU model, its vector extensions, what torch uses, the GPU.

Recorded with every notebook run (``reports/artifacts.json``) and shown on the report's index, so
that a number can be traced to the hardware and precision that produced it.  The vector extensions
are read from ``/proc/cpuinfo`` (Linux; elsewhere only torch's view); ``torch_capability`` is the
instruction set torch's CPU kernels dispatch to, which the variables of ``ISA_ENV`` can lower.
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path

EXTENSIONS = {  # cpuinfo flag -> the name we report
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_bf16": "AVX-512 BF16",
    "amx_bf16": "AMX-BF16",
    "amx_tile": "AMX",
    "asimd": "NEON",
    "sve": "SVE",
}


@lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and value.strip():
            model = value.strip()
        elif key in ("flags", "features"):
            flags |= set(value.split())
    return model, frozenset(flags)


def vector_extensions(flags: frozenset[str] | set[str] | None = None) -> list[str]:
    """The SIMD extensions of interest that the CPU reports, in a fixed order."""
    flags = _cpuinfo()[1] if flags is None else flags
    return [name for flag, name in EXTENSIONS.items() if flag in flags]


# What lowers the instruction set of torch's CPU kernels: ATen's own, oneDNN's convolutions, MKL's matrix products.
# All three imitate an AVX2 CPU on an AVX-512 one (the clock, caches and memory stay this machine's).
ISA_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


def isa_limits() -> dict[str, str]:
    """The variables of ``ISA_ENV`` set in this process, by name."""
    return {k: os.environ[k] for k in ISA_ENV if k in os.environ}


def describe() -> dict:
    """CPU model, vector extensions, torch's CPU capability, threads and bf16 support, and the GPU if any."""
    import torch

    model, _ = _cpuinfo()
    info = {
        "cpu": model,
        "cpu_cores": os.cpu_count(),
        "vector_extensions": vector_extensions(),
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "bf16_native_cpu": _bf16_native(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    if limits := isa_limits():
        info["isa_limits"] = limits
    return info


def _bf16_native() -> bool:
    from poselab.precision import bf16_native

    return bf16_native("cpu")


def one_line(info: dict) -> str:
    """'AMD EPYC (2 cores; AVX2, AVX-512; torch AVX512, 2 threads)' for tables and printouts."""
    ext = ", ".join(info.get("vector_extensions") or []) or "no AVX2"
    limits = info.get("isa_limits") or {}
    limits = "; limited by " + ", ".join(f"{k}={v}" for k, v in limits.items()) if limits else ""
    gpu = f"; GPU {info['gpu']}" if info.get("gpu") else ""
    return (f"{info.get('cpu', '?')} ({info.get('cpu_cores', '?')} cores; {ext}; torch {info.get('torch_capability')}, "
            f"{info.get('torch_threads')} threads{limits}){gpu}")
