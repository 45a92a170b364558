#!/usr/bin/env bash
# The GPU figures issue 4 asks for, as one device call: mnist-unet training throughput per setup (eager fp32,
# bf16 + channels_last, torch.compile fp32 / bf16, CUDA graphs) at batch 128 and 512. About 5–8 minutes on an
# H200, most of it compiling. Run from the repository root on a machine whose python3 has torch with CUDA
# (nothing else to install: diffedu needs numpy, safetensors and tqdm there, and reads MNIST from datasets/):
#
#     bash benchmarks/gpu.sh            # writes throughput.txt into $OUT when set, else into build/
set -euo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
out="${OUT:-build}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/throughput.txt"
python3 benchmarks/mnist.py --throughput --device cuda --batch 128,512 --warm 10 --iters 100 \
    --setups eager,bf16,compile32,compile,graphs 2>&1 | tee -a "$out/throughput.txt"
