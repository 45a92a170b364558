"""The recipes' command line: ``python -m diffedu.recipes NAME [options]`` (``--help`` lists them)."""
from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time

import torch

from .. import metrics
from ..precision import BF16_TRAINING, use_bf16
from ..train import COMPILE_MODES, pick_device
from . import FAMILIES, RECIPES, default_out, history, save_result, setup, train_recipe


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m diffedu.recipes", description=__doc__)
    p.add_argument("name", nargs="?", choices=sorted(RECIPES))
    p.add_argument("--list", action="store_true", help="print every recipe and its settings")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps in all (default: the recipe's)")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--state", default=None, help="resumable training state: written every --checkpoint-every "
                                                 "steps; rerunning the same command continues from it")
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="bf16: autocast in bfloat16; auto (default): bf16 where the device computes "
                        "it natively (diffedu.precision: AVX-512 BF16/AMX CPUs, Ampere+ GPUs; $DIFFEDU_BF16 "
                        "overrides) except the 2-D toy recipes, fp32 elsewhere")
    p.add_argument("--bf16", action="store_true", help="the same as --precision bf16")
    p.add_argument("--compile", default=None, choices=COMPILE_MODES,
                   help="torch.compile mode of the training step (reduce-overhead: CUDA graphs)")
    p.add_argument("--init-from", default=None, help="start from these weights (a shipped name or a checkpoint "
                                                     "path) with a fresh optimiser and learning-rate cycle")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the recipe's)")
    p.add_argument("--out", default=None, help="checkpoint to write (default: $DIFFEDU_HOME or "
                                               "~/.cache/diffedu/checkpoints/NAME.safetensors; the shipped copy "
                                               "is diffedu/assets/NAME.safetensors)")
    return p, p.parse_args(argv)


def main(argv=None) -> None:
    p, a = parse(argv)
    if a.list or not a.name:
        for k, v in RECIPES.items():
            print(k, v)
        return
    kw = dict(state=a.state, checkpoint_every=a.checkpoint_every, init_from=a.init_from)
    if a.lr is not None:
        kw["lr"] = a.lr
    r = RECIPES[a.name]
    bf16 = a.bf16 or a.precision == "bf16" or (a.precision == "auto" and r["family"] != "toy"
                                                and use_bf16(pick_device(a.device)))
    if bf16:
        kw.update(BF16_TRAINING)
    if a.compile:
        kw["compile_mode"] = a.compile
    t0 = time.time()
    s = setup(a.name)  # once: trained below, and read again to save the result
    try:
        t1 = time.time()
        res = train_recipe(a.name, a.steps, progress=sys.stderr.isatty(), device=a.device, prepared=s, **kw)
        carried = max(0.0, res.seconds - (time.time() - t1))   # a resumed run: the training time of its earlier invocations
    except ValueError as e:
        p.error(str(e))
    if torch.distributed.is_available() and torch.distributed.is_initialized():  # under torchrun
        rank = torch.distributed.get_rank()
        torch.distributed.destroy_process_group()
        if rank != 0:
            return  # every rank holds the same weights: rank 0 writes them
    command = "python -m diffedu.recipes " + shlex.join(sys.argv[1:] if argv is None else argv)
    meta = {"recipe": a.name, **{k: str(v) for k, v in r.items()}, "command": command,
            "steps_run": len(res.losses),
            "precision": "bf16 autocast" if bf16 else "fp32", **({"init_from": a.init_from} if a.init_from else {}),
            **({"lr_run": a.lr} if a.lr else {}), "seconds": round(time.time() - t0 + carried, 1), "device": res.device,
            "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
            "final_loss": sum(res.losses[-200:]) / len(res.losses[-200:])}
    if r["kind"] in ("classifier", "noisy-classifier"):
        meta["test_accuracy"] = metrics.classifier_accuracy(res.ema, process=s.process, data=r["data"])
    meta["history"] = history(a.init_from, meta)   # the runs before this one (a continuation's), then this one
    describe = getattr(FAMILIES[r["family"]], "describe", None)
    if describe is not None:
        meta.update(describe(a.name, r, res.ema))
    out = save_result(a.name, res.ema, a.out or default_out(a.name), meta, s)
    print(out, meta)


if __name__ == "__main__":
    main()
