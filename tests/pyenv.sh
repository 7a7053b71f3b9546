#!/usr/bin/env bash
# tests/pyenv.sh BUILD_DIR — the Python environment of the tests labelled mlflow: a virtual
# environment at BUILD_DIR/pyenv with MLflow, ONNX (mlflow.onnx loads models with it), ONNX
# Runtime and safetensors pinned from PyPI (tests/python/requirements.txt), and NVIDIA's
# nvdisasm wheel, which the SASS audit of the GEMM reads (gemm_sass_audit). It sees Debian's
# site packages, so PyTorch is Debian's python3-torch: PyPI's torch wheel for Linux brings
# gigabytes of CUDA libraries a CPU test does not use. Does nothing when the environment
# already matches the requirements.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
env=$1/pyenv
req=$src/tests/python/requirements.txt
stamp=$env/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && exit 0
rm -rf "$env"
/usr/bin/python3 -m venv --system-site-packages "$env"
"$env/bin/pip" install --quiet --disable-pip-version-check -r "$req"
"$env/bin/python" -c 'import mlflow, onnx, onnxruntime, safetensors, torch'
echo "$want" > "$stamp"
echo "tests/pyenv.sh: $env ready ($(grep -c '==' "$req") pinned packages)"
