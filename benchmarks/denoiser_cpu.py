"""The denoiser on a CPU: diffedu's U-Net against diffusers' UNet2DModel of the same size, step for step.

    python benchmarks/denoiser_cpu.py                       # inference + training, fp32 and bf16, eager
    python benchmarks/denoiser_cpu.py --compile             # also torch.compile'd (slow to warm up on a CPU)
    python benchmarks/denoiser_cpu.py --profile             # top operators of one inference batch (torch.profiler)
    python benchmarks/denoiser_cpu.py --net dit             # lesson 08's DiT against diffusers' DiTTransformer2DModel

diffusers is a benchmark-only dependency (``pip install diffusers``). Both networks: 32/64/64 channels, one
residual block per level, attention at 7×7 and in the middle, class embedding. ``--net dit``: the ``cifar-dit`` recipe's DiT (p = 2, D = 128, 4 blocks of 4 heads, adaLN-Zero,
3×32×32) against ``DiTTransformer2DModel`` with the same sizes. The two are timed alternately,
median of ``--rounds`` rounds, as img/s and achieved GFLOP/s (FLOPs counted by torch.utils.flop_counter).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from diffedu.models import DiT, UNet
from diffedu.recipes import RECIPES

CONFIG = dict(base_channels=32, channel_mults=(1, 2, 2), num_res_blocks=1, attn_resolutions=(7,), num_classes=10,
              dropout=0.0)


def diffusers_unet():
    from diffusers import UNet2DModel

    return UNet2DModel(sample_size=28, in_channels=1, out_channels=1, layers_per_block=1,
                       block_out_channels=(32, 64, 64), down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
                       up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"), norm_num_groups=8,
                       num_class_embeds=11, attention_head_dim=64)


def diffusers_dit():
    from diffusers import DiTTransformer2DModel

    c = RECIPES["cifar-dit"]["model"]
    return DiTTransformer2DModel(num_attention_heads=c["heads"], attention_head_dim=c["hidden_size"] // c["heads"],
                                 in_channels=3, num_layers=c["depth"], sample_size=32, patch_size=c["patch_size"],
                                 num_embeds_ada_norm=c["num_classes"] + 1)


NETS = {"unet": ((1, 28, 28), lambda: UNet(**CONFIG), diffusers_unet),
        "dit": ((3, 32, 32), lambda: DiT(**RECIPES["cifar-dit"]["model"]), diffusers_dit)}
SHAPE = NETS["unet"][0]


def calls(which: str, net):
    """A uniform (x, t, y) → prediction call for both networks."""
    if which == "diffedu":
        return lambda x, t, y: net(x, t, y)
    if type(net).__name__.startswith("DiT"):
        return lambda x, t, y: net(x, timestep=t, class_labels=y).sample
    return lambda x, t, y: net(x, t, class_labels=y).sample


def inputs(batch: int, dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(batch, *SHAPE, generator=g).to(dtype), torch.randint(1, 1001, (batch,), generator=g),
            torch.randint(0, 10, (batch,), generator=g))


def flops(fn, batch: int, backward: bool = False) -> float:
    x, t, y = inputs(batch)
    with FlopCounterMode(display=False) as fc:
        out = fn(x, t, y)
        if backward:
            out.float().square().mean().backward()
    return fc.get_total_flops()


def timed(fn, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def bench(nets: dict, batch: int, mode: str, dtype, rounds: int, reps: int) -> dict:
    """Seconds per call (median over rounds, the networks alternating within each round)."""
    x, t, y = inputs(batch)
    runs, per = {}, {k: [] for k in nets}
    for name, (net, fn) in nets.items():
        if mode == "inference":
            def run(fn=fn):
                with torch.inference_mode(), torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
                    fn(x, t, y)
        else:
            opt = torch.optim.AdamW(net.parameters(), lr=1e-4)

            def run(fn=fn, opt=opt):
                with torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
                    loss = (fn(x, t, y).float() - x).square().mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        run()  # warm-up (and compile)
        runs[name] = run
    for _ in range(rounds):
        for name, run in runs.items():
            per[name].append(timed(run, reps))
    return {k: statistics.median(v) for k, v in per.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="1,10,20,64")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--compile", action="store_true")
    p.add_argument("--bf16", action="store_true", help="also time bf16 autocast")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--only", choices=["inference", "training"], default=None)
    p.add_argument("--net", choices=sorted(NETS), default="unet")
    a = p.parse_args(argv)
    global SHAPE
    SHAPE, make_ours, make_theirs = NETS[a.net]
    torch.manual_seed(0)
    ours, theirs = make_ours().eval(), make_theirs().eval()
    n_ours, n_theirs = (sum(q.numel() for q in m.parameters()) for m in (ours, theirs))
    print(f"parameters: diffedu {n_ours / 1e6:.3f} M, diffusers {n_theirs / 1e6:.3f} M; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    if a.profile:
        from torch.profiler import ProfilerActivity, profile

        x, t, y = inputs(64)
        for name, net in (("diffedu", ours), ("diffusers", theirs)):
            fn = calls(name, net)
            with torch.inference_mode():
                fn(x, t, y)
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    for _ in range(3):
                        fn(x, t, y)
            print(f"\n{name}, inference, batch 64, 3 calls:")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))
        return
    variants = [("fp32", torch.float32, False)] + ([("bf16", torch.bfloat16, False)] if a.bf16 else [])
    if a.compile:
        variants += [(f"{v} compiled", d, True) for v, d, _ in list(variants)]
    modes = [a.only] if a.only else ["inference", "training"]
    print(f"{'mode':9s} {'variant':14s} {'batch':>5s} | {'diffedu img/s':>13s} {'GFLOP/s':>8s} | "
          f"{'diffusers img/s':>15s} {'GFLOP/s':>8s} | ratio")
    for mode in modes:
        for vname, dtype, comp in variants:
            nets = {}
            for name, net in (("diffedu", ours), ("diffusers", theirs)):
                net = net.train(mode == "training")
                fn = calls(name, torch.compile(net) if comp else net)
                nets[name] = (net, fn)
            for batch in (int(b) for b in a.batches.split(",")):
                reps = max(1, 64 // batch) if mode == "inference" else max(1, 16 // batch)
                sec = bench(nets, batch, mode, dtype, a.rounds, reps)
                fl = {k: flops(calls(k, n), batch, mode == "training") for k, (n, _) in
                      (("diffedu", nets["diffedu"]), ("diffusers", nets["diffusers"]))}
                ips = {k: batch / s for k, s in sec.items()}
                gf = {k: fl[k] / sec[k] / 1e9 for k in sec}
                print(f"{mode:9s} {vname:14s} {batch:5d} | {ips['diffedu']:13.1f} {gf['diffedu']:8.1f} | "
                      f"{ips['diffusers']:15.1f} {gf['diffusers']:8.1f} | {ips['diffedu'] / ips['diffusers']:.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
