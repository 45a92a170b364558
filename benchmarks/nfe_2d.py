"""Sample quality against network evaluations (NFE) on the 2-D ring, for every sampler of lessons 02–05.

    .venv/bin/python benchmarks/nfe_2d.py

Same trained ε-network (ring8-mlp), same starting noise; distance = sliced W2 to fresh data divided by the
noise floor (1.0 = indistinguishable from real samples at this sample size).
"""
import argparse

import torch

import diffedu as de
from diffedu import metrics, schedules, toy
from diffedu import sde as S
from diffedu.recipes import pretrained
from diffedu.samplers import ddim_sample, probability_flow_ode, reverse_sde_sample

ring, sched, vp = toy.ring(), schedules.linear(1000), S.VPSDE()
eps_net = de.as_eps_fn(pretrained("ring8-mlp"), sched)
score = S.score_fn_from_eps(eps_net, vp)
ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=4000)
ap.add_argument("--seeds", type=int, default=3)
args = ap.parse_args()
n, seeds, nfes = args.n, args.seeds, [10, 20, 50, 100, 200]
floor, _ = metrics.noise_floor(ring.sample, n, repeats=10)
methods = {
    "DDPM (ancestral)": lambda x, k, g: ddim_sample(eps_net, x, sched, steps=k, eta=1.0, generator=g),
    "DDIM": lambda x, k, g: ddim_sample(eps_net, x, sched, steps=k),
    "reverse SDE (EM)": lambda x, k, g: reverse_sde_sample(score, x, vp, S.time_grid(vp, k), generator=g),
    "PF-ODE Euler": lambda x, k, g: probability_flow_ode(score, x, vp, S.time_grid(vp, k), method="euler"),
    "PF-ODE Heun": lambda x, k, g: probability_flow_ode(score, x, vp, S.time_grid(vp, k // 2), method="heun"),
}
print(f"sliced W2 / noise floor (floor = {floor:.4f}), n = {n}, mean of {seeds} seeds")
print(f"{'NFE':18s}" + "".join(f"{k:>8d}" for k in nfes))
for name, run in methods.items():
    row = []
    for k in nfes:
        d = []
        for seed in range(seeds):
            g = torch.Generator().manual_seed(seed)
            x = run(torch.randn(n, 2, generator=g), k, g)
            d.append(metrics.sliced_wasserstein(x, ring.sample(n, g)) / floor)
        row.append(sum(d) / seeds)
    print(f"{name:18s}" + "".join(f"{v:8.2f}" for v in row))
g = torch.Generator().manual_seed(0)
full = [metrics.sliced_wasserstein(de.ddpm_sample(eps_net, torch.randn(n, 2, generator=g), sched, generator=g),
                                   ring.sample(n, g)) / floor for _ in range(seeds)]
print(f"{'DDPM, 1000 NFE':18s}{sum(full) / seeds:8.2f}")
