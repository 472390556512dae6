"""What machine a run ran on, recorded with every notebook run and shown on the report's index: the CPU model, its
vector extensions (``/proc/cpuinfo``), the instruction set torch's CPU kernels dispatch to (which the variables of
``ISA_ENV`` can lower: AVX2 kernels imitated on an AVX-512 CPU, its clock and caches unchanged), threads, the GPU."""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path

EXTENSIONS = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_bf16": "AVX-512 BF16", "amx_bf16": "AMX-BF16",
              "amx_tile": "AMX", "asimd": "NEON", "sve": "SVE"}  # cpuinfo flag -> the name we report
ISA_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


@lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    for key, _, value in (line.partition(":") for line in text.splitlines()):
        if key.strip().lower() in ("model name", "hardware", "cpu model") and value.strip():
            model = value.strip()
        elif key.strip().lower() in ("flags", "features"):
            flags |= set(value.split())
    return model, frozenset(flags)


def vector_extensions(flags: frozenset[str] | set[str] | None = None) -> list[str]:
    """The SIMD extensions of interest that the CPU reports, in a fixed order."""
    flags = _cpuinfo()[1] if flags is None else flags
    return [name for flag, name in EXTENSIONS.items() if flag in flags]


def isa_limits() -> dict[str, str]:
    """The variables of ``ISA_ENV`` set in this process, by name."""
    return {k: os.environ[k] for k in ISA_ENV if k in os.environ}


def describe() -> dict:
    import torch

    info = {"cpu": _cpuinfo()[0], "cpu_cores": os.cpu_count(), "vector_extensions": vector_extensions(),
            "torch_capability": torch.backends.cpu.get_cpu_capability(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    return {**info, "isa_limits": limits} if (limits := isa_limits()) else info


def one_line(info: dict) -> str:
    """'AMD EPYC (2 cores; AVX2, AVX-512; torch AVX512, 2 threads)' for tables and printouts."""
    ext = ", ".join(info.get("vector_extensions") or []) or "no AVX2"
    limits = ", ".join(f"{k}={v}" for k, v in (info.get("isa_limits") or {}).items())
    limits = f"; limited by {limits}" if limits else ""
    gpu = f"; GPU {info['gpu']}" if info.get("gpu") else ""
    return (f"{info.get('cpu', '?')} ({info.get('cpu_cores', '?')} cores; {ext}; torch {info.get('torch_capability')}, "
            f"{info.get('torch_threads')} threads{limits}){gpu}")
