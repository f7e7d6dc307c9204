#!/usr/bin/env bash
# The clustering's GPU rows (issue #17) in one call of the device tool (../.library/device/README.md), whose
# device time is short: the GPU test, then CPPClusterer at 100k and 1M photos on the GPU, with k-means and
# CPP on that machine's CPU at 100k for a ratio under the same load. Everything goes to $OUT.
#
# Before the call, here: the lent machine's Python (3.12) has PyTorch, NumPy, SciPy, scikit-learn, safetensors
# and pytest, but not tomli_w, which the engine imports. Fetch its wheel into the ignored .whl/:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl tomli_w==1.2.0
# then run, carrying .whl:
#   device run: bash bench/gpu_check.sh          (carry: [".whl"], timeout_s: 600)
# To check the script itself on a machine without a GPU:
#   PYTHON=.venv/bin/python GPU_CHECK_DEVICE=cpu GPU_CHECK_SIZES="2000 3000" OUT=/tmp/gpu bash bench/gpu_check.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/gpu_check}
py=${PYTHON:-python3}
device=${GPU_CHECK_DEVICE:-cuda}
sizes=${GPU_CHECK_SIZES:-100000 1000000}
cpu_size=${sizes%% *}  # the CPU comparison runs at the smallest size only
mkdir -p "$out"

if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH} || exit 1
fi

{
    date -u
    nproc
    nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
    "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} 2>&1 | tee "$out/machine.txt"

# The one test that needs a GPU: a model fitted there loads and predicts on the CPU.
"$py" -m pytest -q -p no:cacheprovider -rs tests/engine/cluster/test_estimator_persist.py -k gpu 2>&1 \
    | tee "$out/gpu_test.txt"

# shellcheck disable=SC2086  # sizes is a list of numbers
"$py" bench/cluster_scale.py --device "$device" --threads "$(nproc)" --sizes $sizes --kmeans-max "$cpu_size" 2>&1 \
    | tee "$out/cluster_scale_gpu.md"
"$py" bench/cluster_scale.py --device cpu --threads "$(nproc)" --sizes "$cpu_size" --kmeans-max 0 2>&1 \
    | tee "$out/cluster_scale_cpu.md"
