"""Training: the unsupervised VAE-GAN (sections 2.3 and 3.3) and the supervised VAE baseline (3.1).

One VAE-GAN iteration on a batch x of normalised 2D poses (flipped with p = 0.5):

1. generator forward: mu, logvar = Q(x); z = mu + sigma * eps; Y = P(z);
   y = PP(1.3 Y + (0, 0, c)) (same view), y~ = PP(R 1.3 Y + (0, 0, c)) (random novel view);
2. discriminator step: BCE(D(x), U[0.7, 1.2]) + BCE(D(y~), 0), gradient norm clipped to 1;
3. generator step (encoder and decoder): 1 * L1(y, x) + beta * 0.001 * KL + 0.001 * BCE(D(y~), U[0.7, 1.2])
   (the -log D trick: fakes labelled real), gradient norm clipped to 2 and values to 1000.

Both trainers write a CSV log per logging window, validation P-MPJPE (ZV) at fixed epochs, an atomic checkpoint
at every validation (``last.pt``) and the finished run (``final.pt``) into the run's folder; ``train_both`` names
the folders by label and key in a ``RunStore`` (``vae-gan-<key>``, ``supervised-vae-<key>``).
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from poselab.checkpoints import load_checkpoint
from poselab.studies.lifting import geometry, losses
from poselab.studies.lifting.data import HEAD16, LiftingSet, flip_poses
from poselab.studies.lifting.metrics import decode, encode, p_mpjpe
from poselab.studies.lifting.models import Decoder, Discriminator, Encoder, reparameterize
from poselab.studies.lifting.settings import LiftingConfig, key_settings
from poselab.training.code import lifting_code
from poselab.training.config import with_step_limit
from poselab.training.processes import die_with_parent
from poselab.training.runs import FINAL, RunStore, finished_run, run_key, save_run

LAST, LOG, VALIDATION = "last.pt", "log.csv", "validation.csv"  # inside a run's folder, beside FINAL
LABELS = {"vae_gan": "vae-gan", "supervised": "supervised-vae"}  # trainer -> the label its folder is named by


@dataclass
class LiftingRun:
    encoder: Encoder
    decoder: Decoder
    discriminator: Discriminator | None
    log: pd.DataFrame  # one row per logging window: iteration, epoch, beta, loss terms
    validation: pd.DataFrame  # one row per validation: iteration, epoch, P-MPJPE ZV (mm)
    seconds: float  # training time, also when the run was reused (then: when it was trained)
    iterations: int
    reused: bool = False  # loaded from a finished run with the same key instead of trained


def load_models(path: Path, device: str = "cpu") -> tuple[Encoder, Decoder, Discriminator | None]:
    """Rebuild the models of a finished run's checkpoint (``final.pt``) written by a trainer."""
    state = load_checkpoint(path, "cpu")
    cfg = LiftingConfig(**state["config"])
    enc, dec = build_vae(cfg)
    enc.load_state_dict(state["encoder"])
    dec.load_state_dict(state["decoder"])
    disc = None
    if state.get("discriminator") is not None:
        disc = Discriminator(h=cfg.hidden, n_blocks=cfg.disc_blocks)
        disc.load_state_dict(state["discriminator"])
    return enc.to(device), dec.to(device), disc.to(device) if disc is not None else None


def build_vae(cfg: LiftingConfig) -> tuple[Encoder, Decoder]:
    return (Encoder(h=cfg.hidden, d=cfg.latent, n_blocks=cfg.enc_blocks),
            Decoder(h=cfg.hidden, d=cfg.latent, n_blocks=cfg.enc_blocks))


@contextmanager
def cpu_threads(n: int, device: str) -> Iterator[None]:
    """Run torch's CPU kernels on ``n`` threads (0: unchanged) inside the block, then restore."""
    before = torch.get_num_threads()
    if n > 0 and not str(device).startswith("cuda"):
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Batches:
    """Shuffled mini-batch indices, epoch after epoch, from a seeded generator (the last short batch dropped)."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator):
        self.n, self.b, self.g = n, min(batch_size, n), generator
        self.order, self.pos = torch.randperm(n, generator=generator), 0

    def __next__(self) -> torch.Tensor:
        if self.pos + self.b > self.n:
            self.order, self.pos = torch.randperm(self.n, generator=self.g), 0
        self.pos += self.b
        return self.order[self.pos - self.b : self.pos]


class _Logger:
    """Averages scalars over a window and appends them to a CSV file (flushed as it goes)."""

    def __init__(self, path: Path, every: int = 1):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.every, self.sums, self.count, self.rows, self.writer = path, every, {}, 0, [], None
        self.fh = open(path, "w", newline="")

    def add(self, iteration: int, epoch: float, **values: float) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.count += 1
        if self.count == self.every:
            row = {"iteration": iteration, "epoch": epoch, **{k: v / self.count for k, v in self.sums.items()}}
            if self.writer is None:
                self.writer = csv.DictWriter(self.fh, list(row))
                self.writer.writeheader()
            self.writer.writerow(row)
            self.fh.flush()
            self.rows.append(row)
            self.sums, self.count = {}, 0

    def close(self) -> pd.DataFrame:
        self.fh.close()
        return pd.DataFrame(self.rows)


def validation_error(encoder: Encoder, decoder: Decoder, val: LiftingSet, scale: float, device: str) -> float:
    """Mean P-MPJPE (mm) of ZV predictions; leaves the models in eval mode."""
    mu, _ = encode(encoder, val.inputs, device)
    return float(p_mpjpe(decode(decoder, mu, scale, device), val.gt_mm).mean())


def _beta(cfg: LiftingConfig, epoch: float) -> float:
    return losses.cyclic_beta(epoch, cfg.beta_warmup, cfg.beta_period, cfg.beta_hold)


def lifting_key(cfg: LiftingConfig, seed: int, *data: LiftingSet | None) -> str:
    """Identifies a training run: its training settings (not the evaluation's, ``key_settings``), seed, data (the
    arrays themselves) and the declared training code (``poselab.training.code.LIFTING``)."""
    arrays = [a for ds in data if ds is not None for a in (ds.inputs, ds.targets)]
    return run_key(key_settings(cfg), seed, lifting_code(), arrays=arrays)


def _finished_run(out_dir: Path, key: str, total: int, models: dict) -> LiftingRun | None:
    """The run saved in ``out_dir`` if it finished with the same key (weights and logs loaded), else None."""
    path = out_dir / FINAL
    logs = out_dir / LOG, out_dir / VALIDATION
    if not all(p.exists() for p in logs):
        return None
    state = finished_run(path, key, iteration=total)  # a corrupt checkpoint is set aside: trained again
    if state is None:
        return None
    for k, m in models.items():
        m.load_state_dict(state[k])
        m.eval()
    read = lambda p: pd.read_csv(p) if p.stat().st_size else pd.DataFrame()  # noqa: E731 (no validation: empty)
    validation = read(logs[1]).reindex(columns=["iteration", "epoch", "p_mpjpe_zv"])
    return LiftingRun(models["encoder"], models["decoder"], models.get("discriminator"), read(logs[0]), validation,
                       state.get("seconds", float("nan")), total, reused=True)


def iterations(n: int, epochs: float, cfg: LiftingConfig) -> tuple[int, int]:
    """(iterations per epoch, iterations in all) of a run over ``n`` samples for ``epochs`` (within the step limit)."""
    per_epoch = max(n // min(cfg.batch_size, n), 1)
    total = max(int(round(epochs * per_epoch)), 1)
    return per_epoch, total if cfg.max_steps is None else min(total, cfg.max_steps)


def logged_iterations(out_dir: Path) -> int:
    """The last iteration a run's log (its ``LOG`` CSV, written as it trains) has reached, 0 before its first row."""
    try:
        last = (Path(out_dir) / LOG).read_text().strip().splitlines()[-1]
        return int(float(last.split(",")[0]))
    except (OSError, IndexError, ValueError):
        return 0


def _run(name: str, step, n: int, epochs: float, cfg: LiftingConfig, models: dict, optimizers: dict,
         val: LiftingSet | None, out_dir: Path, device: str, seed: int, progress: bool,
         key: str) -> LiftingRun:
    """The loop both trainers share: ``step(batch_index, epoch) -> {scalar: value}`` per iteration;
    a CSV log per window, a validation row and an atomic checkpoint every ``cfg.eval_every`` epochs.
    A run that already finished under ``out_dir`` with the same ``key`` is loaded instead of retrained."""
    per_epoch, total = iterations(n, epochs, cfg)
    val_every = max(1, int(round(cfg.eval_every * per_epoch)))
    out_dir = Path(out_dir)
    finished = _finished_run(out_dir, key, total, models)
    if finished is not None:
        return finished
    log = _Logger(out_dir / LOG, max(1, min(per_epoch // 4, 50)))
    val_log = _Logger(out_dir / VALIDATION)
    batches = _Batches(n, cfg.batch_size, torch.Generator().manual_seed(seed + 1))
    start = time.perf_counter()

    def checkpoint(iteration: int) -> float:
        seconds = time.perf_counter() - start
        state = {k: module.state_dict() for k, module in {**models, **optimizers}.items()}
        finished = iteration == total
        save_run(out_dir / (FINAL if finished else LAST), key, **state, iteration=iteration, config=asdict(cfg),
                 seed=seed, seconds=seconds)
        if finished:
            (out_dir / LAST).unlink(missing_ok=True)
        return seconds

    with cpu_threads(cfg.cpu_threads, device):
        bar = tqdm(range(1, total + 1), desc=name, unit="it", disable=not progress, mininterval=1.0)
        for it in bar:
            log.add(it, it / per_epoch, **step(next(batches), (it - 1) / per_epoch))
            if val is not None and (it % val_every == 0 or it == total):
                err = validation_error(models["encoder"], models["decoder"], val, cfg.scale, device)
                val_log.add(it, it / per_epoch, p_mpjpe_zv=err)
                bar.set_postfix(p_mpjpe=f"{err:.1f}")
                if it < total:  # the last one is written below
                    checkpoint(it)
    # The finished run, whatever the validation schedule: what a later call with the same key loads.
    seconds = checkpoint(total)
    for m in models.values():
        m.eval()
    validation = val_log.close().reindex(columns=["iteration", "epoch", "p_mpjpe_zv"])
    return LiftingRun(models["encoder"], models["decoder"], models.get("discriminator"), log.close(), validation,
                       seconds, total)


def train_vae_gan(train: LiftingSet, val: LiftingSet | None, cfg: LiftingConfig, out_dir: Path, device: str = "cpu",
                  seed: int = 0, progress: bool = True, key: str | None = None) -> LiftingRun:
    """Train encoder, decoder and discriminator on 2D poses alone; 3D ground truth is never read.

    Writes ``log.csv``, ``validation.csv`` (test P-MPJPE, for the curves only) and the checkpoints ``last.pt``
    and (finished) ``final.pt`` into ``out_dir``, the run's folder.  ``key``: the run's ``lifting_key`` (of
    ``with_step_limit(cfg)``) when the caller has it already.
    """
    cfg = with_step_limit(cfg)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    enc, dec = (m.to(device) for m in build_vae(cfg))
    disc = Discriminator(h=cfg.hidden, n_blocks=cfg.disc_blocks).to(device)
    opt_g = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=cfg.lr, foreach=True)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, foreach=True)
    x_all = torch.as_tensor(train.inputs, device=device)

    def step(idx: torch.Tensor, epoch: float) -> dict[str, float]:
        beta = _beta(cfg, epoch)
        x = flip_poses(x_all[idx], torch.rand(len(idx), generator=g).to(device) < cfg.flip_p)
        b = len(x)
        enc.train(), dec.train(), disc.train()
        # 1. generator forward: same-view reprojection and a random novel view.
        mu, logvar = enc(x.flatten(1))
        pose = dec(reparameterize(mu, logvar, generator=g)).view(b, -1, 3)
        same_view = geometry.reproject(pose, cfg.depth, cfg.scale)
        az, el = geometry.sample_view_angles(b, cfg.max_elevation_deg, g, device)
        novel = geometry.reproject(pose, cfg.depth, cfg.scale, geometry.rotation_matrices(az, el))
        if cfg.normalize_novel:
            novel = geometry.normalize_2d(novel, HEAD16)
        # 2. discriminator step on separate real and fake batches.
        real_t = losses.smoothed_real_labels(b, *cfg.real_label, generator=g, device=device)
        d_real, d_fake = disc(x.flatten(1)), disc(novel.detach().flatten(1))
        loss_d_real, loss_d_fake = losses.bce(d_real, real_t), losses.bce(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(set_to_none=True)
        (loss_d_real + loss_d_fake).backward()
        nn.utils.clip_grad_norm_(disc.parameters(), cfg.clip_d)
        opt_d.step()
        # 3. generator step against the updated discriminator (its weights frozen): fakes labelled real.
        disc.requires_grad_(False)
        loss_recon = losses.reconstruction_loss(same_view, x)
        loss_kl = losses.kl_divergence(mu, logvar)
        fake_as_real = losses.smoothed_real_labels(b, *cfg.real_label, generator=g, device=device)
        loss_adv = losses.bce(disc(novel.flatten(1)), fake_as_real)
        loss_g = cfg.lambda_recon * loss_recon + beta * cfg.lambda_kl * loss_kl + cfg.lambda_adv * loss_adv
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        disc.requires_grad_(True)
        _clip_generator([*enc.parameters(), *dec.parameters()], cfg)
        opt_g.step()
        return {"beta": beta, "recon": loss_recon.item(), "kl": loss_kl.item(), "adv_g": loss_adv.item(),
                "d_real": loss_d_real.item(), "d_fake": loss_d_fake.item(), "p_real": d_real.mean().item(),
                "p_fake": d_fake.mean().item(), "sigma": torch.exp(0.5 * logvar).mean().item()}

    return _run("vae_gan", step, len(train), cfg.epochs, cfg, {"encoder": enc, "decoder": dec, "discriminator": disc},
                {"opt_g": opt_g, "opt_d": opt_d}, val, out_dir, device, seed, progress,
                key or lifting_key(cfg, seed, train, val))


def _clip_generator(params: list[nn.Parameter], cfg: LiftingConfig) -> None:
    nn.utils.clip_grad_norm_(params, cfg.clip_g)
    nn.utils.clip_grad_value_(params, cfg.clip_g_value)


def train_supervised(train: LiftingSet, val: LiftingSet | None, cfg: LiftingConfig, out_dir: Path,
                     device: str = "cpu", seed: int = 0, progress: bool = True,
                     key: str | None = None) -> LiftingRun:
    """The same encoder and decoder trained on 3D ground truth: L1(1.3 Y, Y_gt) + beta * lambda_KL * KL.

    The beta schedule keeps its shape over the (possibly shorter) supervised run.  Writes the same files as
    ``train_vae_gan`` into ``out_dir``; ``key`` as for ``train_vae_gan``.
    """
    cfg = with_step_limit(cfg)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    enc, dec = (m.to(device) for m in build_vae(cfg))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=cfg.lr, foreach=True)
    x_all = torch.as_tensor(train.inputs, device=device)
    y_all = torch.as_tensor(train.targets, device=device)
    stretch = cfg.epochs / cfg.supervised_epochs

    def step(idx: torch.Tensor, epoch: float) -> dict[str, float]:
        beta = _beta(cfg, epoch * stretch)
        flip = torch.rand(len(idx), generator=g).to(device) < cfg.flip_p
        x, y = flip_poses(x_all[idx], flip), flip_poses(y_all[idx], flip)
        enc.train(), dec.train()
        mu, logvar = enc(x.flatten(1))
        pose = dec(reparameterize(mu, logvar, generator=g)).view(len(x), -1, 3)
        loss_3d = nn.functional.l1_loss(cfg.scale * pose, y)
        loss_kl = losses.kl_divergence(mu, logvar)
        loss = cfg.lambda_recon * loss_3d + beta * cfg.lambda_kl * loss_kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        _clip_generator([*enc.parameters(), *dec.parameters()], cfg)
        opt.step()
        return {"beta": beta, "l1_3d": loss_3d.item(), "kl": loss_kl.item(),
                "sigma": torch.exp(0.5 * logvar).mean().item()}

    return _run("supervised", step, len(train), cfg.supervised_epochs, cfg, {"encoder": enc, "decoder": dec},
                {"opt_g": opt}, val, out_dir, device, seed, progress,
                key or lifting_key(cfg, seed, train, val))


TRAINERS = {"vae_gan": train_vae_gan, "supervised": train_supervised}


def _train_in_worker(name: str, train: LiftingSet, val: LiftingSet | None, cfg: LiftingConfig, out_dir: Path,
                     seed: int, key: str) -> bool:
    """Train (or find finished) one run; whether it was reused from an earlier run rather than trained now."""
    return TRAINERS[name](train, val, cfg, out_dir, "cpu", seed, progress=False, key=key).reused


def train_both(train: LiftingSet, val: LiftingSet | None, cfg: LiftingConfig, store: RunStore, device: str = "cpu",
               seed: int = 0, workers: int | None = None) -> tuple[LiftingRun, LiftingRun]:
    """The VAE-GAN and the supervised baseline, each in its folder of ``store`` (named by label and key).  On a CPU
    with two or more cores they train side by side in two single-thread processes (each writes its finished run),
    then both are loaded here; on a GPU, or with ``workers=1``, one after the other.  The models are the same either
    way: each run depends only on its settings, seed and data."""
    workers = workers or (1 if str(device).startswith("cuda") else min(2, os.cpu_count() or 1))
    key = lifting_key(with_step_limit(cfg), seed, train, val)  # the same for both trainers: hashed once
    folders = {name: store.folder(LABELS[name], key) for name in TRAINERS}
    reused = {}  # name -> whether the worker found a finished run (loading it here then says nothing)
    if workers > 1:
        with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"), initializer=die_with_parent) as pool:
            futures = {pool.submit(_train_in_worker, name, train, val, cfg, folders[name], seed, key): name
                       for name in TRAINERS}
            # progress within each model: the iterations their logs have reached (the workers train silently)
            planned = {"vae_gan": iterations(len(train), cfg.epochs, cfg)[1],
                       "supervised": iterations(len(train), cfg.supervised_epochs, cfg)[1]}
            with tqdm(total=sum(planned.values()), desc="VAE-GAN and supervised VAE in 2 processes", unit="it",
                      mininterval=1.0) as bar:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=2.0)
                    for f in done:
                        reused[futures[f]] = f.result()
                    bar.n = sum(planned[name] if name in reused else min(logged_iterations(folders[name]),
                                                                        planned[name]) for name in TRAINERS)
                    bar.refresh()
    gan, sup = (trainer(train, val, cfg, folders[name], device, seed, key=key) for name, trainer in TRAINERS.items())
    if reused:
        gan, sup = replace(gan, reused=reused["vae_gan"]), replace(sup, reused=reused["supervised"])
    return gan, sup
