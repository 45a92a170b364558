"""Sample quality against network evaluations (NFE) on the 2-D ring, for every sampler of lessons 02–05.

    .venv/bin/python benchmarks/nfe_2d.py

Same trained ε-network (ring8-mlp), same starting noise; distance = sliced W2 to fresh data divided by the
noise floor (1.0 = indistinguishable from real samples at this sample size). DDPM and DDIM run on the
network's own DDPM steps, the SDE/ODE samplers on the same network read on the VP SDE's continuous time;
k NFE means a grid of k steps (k/2 for Heun). "DDPM (ancestral)" uses the posterior variance β̃ between grid
points, which is DDIM with η = 1.
"""
import argparse

import torch

import diffedu as de
from diffedu import metrics, toy
from diffedu.samplers import ddim_sample, ddpm_sample, probability_flow_ode, reverse_sde_sample

ring = toy.ring()
model = de.pretrained("ring8-mlp")          # ε-network on DiscreteVP("linear", 1000)
vp_model = model.with_process(de.VPSDE())  # the same network on t ∈ [0.001, 1] (it sees 1000·t)
ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=4000)
ap.add_argument("--seeds", type=int, default=3)
args = ap.parse_args()
n, seeds, nfes = args.n, args.seeds, [10, 20, 50, 100, 200]
floor, _ = metrics.noise_floor(ring.sample, n, repeats=10)
methods = {
    "DDPM (ancestral)": lambda x, k, g: ddpm_sample(model, x, k, variance="beta_tilde", generator=g),
    "DDIM": lambda x, k, g: ddim_sample(model, x, k),
    "reverse SDE (EM)": lambda x, k, g: reverse_sde_sample(vp_model, x, k, generator=g),
    "PF-ODE Euler": lambda x, k, g: probability_flow_ode(vp_model, x, k, method="euler"),
    "PF-ODE Heun": lambda x, k, g: probability_flow_ode(vp_model, x, k // 2, method="heun"),
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
full = [metrics.sliced_wasserstein(ddpm_sample(model, torch.randn(n, 2, generator=g), generator=g),
                                   ring.sample(n, g)) / floor for _ in range(seeds)]
print(f"{'DDPM, 1000 NFE':18s}{sum(full) / seeds:8.2f}")
