# export_runtimes.sh — models exported by detrain, run by the tools that load them: ONNX Runtime
# (the .onnx) and PyTorch (the .safetensors, in the module of README.md's "Export" section)
# count exactly `detrain eval`'s correct classes and give `detrain predict`'s probabilities and
# outputs within 1e-5 (tests/python/check_export.py), for Fashion-MNIST (scale, relu), a
# standardized tanh/gelu classifier and a sigmoid regression model.
. "$DT_SOURCE_DIR/tests/lib.sh"

if [ ! -x "${DT_PYTHON:-}" ]; then
    echo "skipped: no test Python at '${DT_PYTHON:-}' (tests/pyenv.sh BUILD_DIR makes BUILD_DIR/pyenv)"
    exit 77
fi
cd "$DT_TMP"
fmnist=/usr/share/datasets/fashion-mnist

# NAME CONFIG --set...: trains, exports both formats, evaluates and predicts on the run's test
# set, and checks the exports against detrain.
exported() {
    local name=$1 config=$2
    shift 2
    run_code "$name-train" 0 "$DETRAIN" train "$config" --quiet --out "$name" "$@" || return
    run_code "$name-onnx" 0 "$DETRAIN" export "$name/final.h5" --format onnx --output "$name.onnx"
    run_code "$name-safetensors" 0 "$DETRAIN" export "$name/final.h5" --format safetensors --output "$name.safetensors"
    run_code "$name-eval" 0 "$DETRAIN" eval "$name/final.h5"
    # predict on exactly the data eval used: the checkpoint's own data.test (limit included)
    local source
    source=$("$DT_PYTHON" -c 'import h5py, json, sys
print(json.dumps(json.loads(h5py.File(sys.argv[1], "r").attrs["config"])["data"]["test"]))' "$name/final.h5")
    run_code "$name-predict" 0 "$DETRAIN" predict "$name/final.h5" --input "$source" --output "$name-predict.csv"
    run_code "$name-check" 0 "$DT_PYTHON" "$DT_SOURCE_DIR/tests/python/check_export.py" "$name/final.h5" \
        "$name.onnx" "$name.safetensors" "$DT_TMP/$name-eval.out" "$name-predict.csv"
    cat "$DT_TMP/$name-check.out"
}

if [ -f "$fmnist/t10k-images-idx3-ubyte.gz" ]; then
    exported fmnist "$DT_SOURCE_DIR/configs/fashion-mnist.json" --set data.train.limit=3000 \
        --set data.test.limit=1000 --set train.epochs=1 --set runtime.device=cpu
else
    echo "note: the Fashion-MNIST case did not run ($fmnist missing: apt-get install dataset-fashion-mnist)"
fi
exported tiny "$DT_SOURCE_DIR/tests/configs/tiny.json" --set 'model.layers[0].activation=sigmoid'
exported tiny-gelu "$DT_SOURCE_DIR/tests/configs/tiny.json"
exported regression "$DT_SOURCE_DIR/tests/configs/tiny-sgd.json" --set data.normalize=scale \
    --set data.scale=0.5 --set data.shift=-0.25
# The check can fail: another model's exports against this run's figures.
run_code check_catches_other_model 1 "$DT_PYTHON" "$DT_SOURCE_DIR/tests/python/check_export.py" tiny/final.h5 \
    tiny-gelu.onnx tiny-gelu.safetensors "$DT_TMP/tiny-eval.out" tiny-predict.csv
finish
