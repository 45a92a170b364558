#!/usr/bin/env bash
# The GPU checks and figures issue 4 asks for, prepared as single device calls. Run from the repository root.
#
#   bash benchmarks/gpu.sh wheels       # HERE, once: the pure-Python wheels the lessons need beyond torch
#                                       # (ipywidgets, IPython and their needs; ~9 MB) into .whl/ (git-ignored
#                                       # through .git/info/exclude), for a GPU machine without Jupyter
#   bash benchmarks/gpu.sh check        # THERE (carry .whl): the CUDA half of tests/test_devices.py, then
#                                       # lessons 06–07 full size on the GPU without Jupyter (~2–3 min)
#   bash benchmarks/gpu.sh throughput   # THERE: mnist-unet training img/s per setup (eager fp32, bf16
#                                       # autocast, torch.compile fp32 / bf16, CUDA graphs) at batch 128
#                                       # and 512; 5–8 min on an H200, most of it compiling
#   bash benchmarks/gpu.sh check throughput   # both, in that order, in one call (stay under the call's limit)
#
# PYTHON=.venv/bin/python for the wheels part if this machine's python3 has no pip. Output goes to $OUT/gpu.txt
# when OUT is set (the device machine), else to build/gpu.txt. The device's python3 must have torch with CUDA,
# numpy, matplotlib, safetensors, tqdm and pytest (its image does); MNIST is read from datasets/.
# DIFFEDU_FAST=1 bash benchmarks/gpu.sh check runs the lessons in fast mode (a smoke test on a CPU).
set -uo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
out="${OUT:-build}"
log="$out/gpu.txt"
parts=("${@:-check}")
failed=0
run() { "$@" 2>&1 | tee -a "$log" || { failed=1; echo "FAILED: $*" | tee -a "$log"; }; }

for part in "${parts[@]}"; do
  case "$part" in
    wheels)
      mkdir -p .git/info
      grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
      "${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl \
        ipywidgets==8.1.9 comm==0.2.3 traitlets==5.16.1 widgetsnbextension==4.0.16 jupyterlab_widgets==3.0.17 \
        ipython==9.18.1 ipython_pygments_lexers==1.1.1 jedi==0.20.1 parso==0.8.7 matplotlib-inline==0.2.2 \
        pexpect==4.9.0 ptyprocess==0.7.0 prompt_toolkit==3.0.53 wcwidth==0.9.4 stack-data==0.6.3 \
        executing==2.3.0 asttokens==3.0.2 pure_eval==0.2.4
      echo "wheels in .whl/: $(ls .whl | wc -l) files, $(du -sh .whl | cut -f1); carry .whl to the device" ;;
    check)
      mkdir -p "$out"
      if [ -d .whl ]; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
        export PYTHONPATH="$PYTHONPATH:/tmp/site"
      fi
      command -v nvidia-smi > /dev/null && run nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
      run python3 -m pytest -q -p no:cacheprovider tests/test_devices.py
      size=--full; [ "${DIFFEDU_FAST:-0}" = 1 ] && size=
      run python3 benchmarks/lessons.py --plain $size lessons/06_*.ipynb lessons/07_*.ipynb ;;
    throughput)
      mkdir -p "$out"
      run python3 benchmarks/mnist.py --throughput --device cuda --batch 128,512 --warm 10 --iters 100 \
        --setups eager,bf16,compile32,compile,graphs ;;
    *)
      echo "unknown part '$part': wheels, check or throughput" >&2; exit 2 ;;
  esac
done
exit $failed
