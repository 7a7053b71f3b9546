# mlflow.sh — live MLflow tracking against a real `mlflow server` (label mlflow; docs/tracking.md).
# The server runs on 127.0.0.1 at a free port with a SQLite backend store and the artifact
# proxy, from the test environment (tests/pyenv.sh); MLflow's own client checks what it holds
# (tests/python/check_mlflow.py). Checked:
#   - a tracked run: params = the manifest's config, every epoch's metrics, tags, dataset
#     digests, artifacts (final.h5 byte-identical), status; the same digest as untracked;
#   - credentials (URI user-info, username/password, token) in no file, output, param or tag;
#   - resume continues the same MLflow run; the server killed mid-run: the run completes with
#     the untracked digest and one warning, then `mlflow sync` completes the MLflow run with no
#     duplicates (and a second sync sends nothing);
#   - registry add / alias make the MLflow model version and alias; a signed registry
#     reproduce tags it with its certificate (detrain.certificate.N); that version is an MLflow
#     model (onnx flavour): mlflow.pyfunc.load_model predicts as `detrain predict` (the same
#     class, probabilities within 1e-6); the TLS opt-out is recorded.
# Servers that fail and bad input need no MLflow: tests/tracking_faults.sh (label cpu).
. "$DT_SOURCE_DIR/tests/lib.sh"
if [ ! -x "${DT_PYTHON:-}" ]; then
    echo "skipped: no test Python at '${DT_PYTHON:-}' (tests/pyenv.sh BUILD_DIR makes it)"
    exit 77
fi
pybin=$(dirname "$DT_PYTHON")
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
fm=$DT_SOURCE_DIR/configs/fashion-mnist.json
checker=$DT_SOURCE_DIR/tests/python/check_mlflow.py
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill -9 -- "-$server_pid" 2>/dev/null
    wait 2>/dev/null
}
trap cleanup EXIT

# start_server: a real MLflow server on a free port, its data under $DT_TMP/server (kept
# across restarts); sets $uri and $server_pid. Fails the test when it is not up in 120 s.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {
    mkdir -p "$DT_TMP/server"
    [ -n "${port:-}" ] || port=$(free_port)
    uri=http://127.0.0.1:$port
    # setsid: its own process group, so killing it takes its workers too.
    setsid "$pybin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
        --backend-store-uri "sqlite:///$DT_TMP/server/mlflow.db" --artifacts-destination "$DT_TMP/server/artifacts" \
        >>"$DT_TMP/server/log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 240); do
        if curl -sf "$uri/health" >/dev/null 2>&1; then
            # A fresh server's first API request is slow (imports, database set-up): make it
            # here, so the timings of the runs below are the server's usual ones.
            curl -s --max-time 60 "$uri/api/2.0/mlflow/experiments/get-by-name?experiment_name=warm-up" >/dev/null
            return 0
        fi
        sleep 0.5
    done
    echo "FAIL: mlflow server did not start: $(tail -n 20 "$DT_TMP/server/log")"
    exit 1
}
stop_server() {
    kill -9 -- "-$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
}

t0=$(date +%s)
start_server
echo "ok   mlflow server up at $uri in $(($(date +%s) - t0)) s"

# ---- untracked references --------------------------------------------------------------------
env -u MLFLOW_TRACKING_URI "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/plain" >"$DT_TMP/plain.out" 2>&1
want=$(digest_of "$DT_TMP/plain.out")

# ---- a tracked run, with credentials that must never be recorded or shown ----------------------
secret_user=dt-user-7c1e secret_pass=dt-pass-94fa secret_token=dt-token-2b8d
host=${uri#http://}
MLFLOW_TRACKING_USERNAME=$secret_user MLFLOW_TRACKING_PASSWORD=$secret_pass \
    run_code tracked 0 "$DETRAIN" train "$tiny" --set runtime.threads=1 --out "$DT_TMP/tracked" \
    --mlflow "http://uri-user:uri-pass-31d7@$host"
check "tracked run: same digest as untracked" [ "$(digest_of "$DT_TMP/tracked.out")" = "$want" ]
check "tracked run: no warning" [ "$(grep -c 'warning' "$DT_TMP/tracked.err")" = 0 ]
check "tracked run: the manifest records the server without its user-info" \
    [ "$(json_get "$DT_TMP/tracked/manifest.json" "m['tracking']['server']")" = "http://***@$host" ]
"$DT_PYTHON" "$checker" run "$uri" "$DT_TMP/tracked" | tee "$DT_TMP/check-run.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-run.txt" && fail "the MLflow run differs from the run folder (above)"

# a run with a validation set: val_loss and val_accuracy per epoch, the split as a dataset input
run_code tracked_val 0 env -u MLFLOW_TRACKING_URI "$DETRAIN" train "$tiny" --set data.validation_split=0.2 \
    --set train.epochs=30 --set 'train.early_stopping={"patience":3}' --quiet --out "$DT_TMP/tracked-val" --mlflow "$uri"
"$DT_PYTHON" "$checker" run "$uri" "$DT_TMP/tracked-val" | tee "$DT_TMP/check-val.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-val.txt" && fail "the MLflow run with validation differs from the run folder (above)"
check "val_loss and val_accuracy reached MLflow, one point per epoch" \
    grep -q "metric val_accuracy: $(json_get "$DT_TMP/tracked-val/manifest.json" "len(m['epochs'])") points" \
    "$DT_TMP/check-val.txt"
check "the early-stopped run's best epoch is not its last (so the next check tells best.h5 from final.h5)" \
    test "$(json_get "$DT_TMP/tracked-val/manifest.json" "m['selection']['best_epoch'] < len(m['epochs'])")" = True
"$DETRAIN" export "$DT_TMP/tracked-val" --format safetensors --output "$DT_TMP/selected.safetensors" 2>/dev/null
"$DT_PYTHON" - "$uri" "$(json_get "$DT_TMP/tracked-val/manifest.json" "m['tracking']['run_id']")" \
    "$DT_TMP/selected.safetensors" >"$DT_TMP/model-val.txt" 2>&1 <<'EOF'
import filecmp, sys, tempfile, warnings
warnings.filterwarnings("ignore")
from mlflow.tracking import MlflowClient
with tempfile.TemporaryDirectory() as tmp:
    local = MlflowClient(sys.argv[1]).download_artifacts(sys.argv[2], "model/model.safetensors", tmp)
    print("same" if filecmp.cmp(local, sys.argv[3], shallow=False) else "different")
EOF
check "the MLflow model is the run's selected checkpoint (best.h5), as 'detrain export RUN' gives it" \
    grep -qx same "$DT_TMP/model-val.txt"

MLFLOW_TRACKING_TOKEN=$secret_token MLFLOW_TRACKING_URI=$uri \
    run_code token 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/token"
check "MLFLOW_TRACKING_URI alone turns tracking on" \
    [ -n "$(json_get "$DT_TMP/token/manifest.json" "m['tracking']['run_id']")" ]
check "credentials are in no file or output of the tracked runs" \
    [ -z "$(grep -rlE "$secret_user|$secret_pass|$secret_token|uri-pass-31d7" "$DT_TMP/tracked" "$DT_TMP/token" \
            "$DT_TMP"/tracked.* "$DT_TMP"/token.* "$DT_TMP/check-run.txt")" ]
"$DT_PYTHON" - "$uri" "$secret_user|$secret_pass|$secret_token|uri-pass-31d7" >"$DT_TMP/secrets.txt" 2>&1 <<'EOF'
import re, sys, warnings
warnings.filterwarnings("ignore")
from mlflow.tracking import MlflowClient
client, secret = MlflowClient(sys.argv[1]), re.compile(sys.argv[2])
for e in client.search_experiments():
    for run in client.search_runs([e.experiment_id]):
        for k, v in list(run.data.params.items()) + list(run.data.tags.items()):
            if secret.search(k) or secret.search(v):
                print("leak", run.info.run_id, k)
print("searched")
EOF
check "credentials are in no MLflow param or tag" [ "$(cat "$DT_TMP/secrets.txt")" = searched ]

# ---- resume continues the same MLflow run -----------------------------------------------------
run_code stopped 130 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/resumed" --mlflow "$uri" --stop-after-steps 30
first=$(json_get "$DT_TMP/resumed/manifest.json" "m['tracking']['run_id']")
check "an interrupted run is KILLED in MLflow" \
    [ "$(json_get "$DT_TMP/resumed/manifest.json" "m['tracking']['sent']['status']")" = KILLED ]
run_code resume 0 env -u MLFLOW_TRACKING_URI "$DETRAIN" resume "$DT_TMP/resumed" --quiet
check "resume: same digest" [ "$(digest_of "$DT_TMP/resume.out")" = "$want" ]
check "resume continues the same MLflow run (from the record)" \
    [ "$(json_get "$DT_TMP/resumed/manifest.json" "m['tracking']['run_id']")" = "$first" ]
"$DT_PYTHON" "$checker" unique "$uri" "$DT_TMP/resumed" | tee "$DT_TMP/check-resume.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-resume.txt" && fail "resume: the MLflow run is not complete and unique"

# ---- the server killed mid-run, then `mlflow sync` ---------------------------------------------
fm_args=(--set data.train.limit=10000 --set data.test.limit=2000 --set train.epochs=6)
env -u MLFLOW_TRACKING_URI "$DETRAIN" train "$fm" "${fm_args[@]}" --quiet --out "$DT_TMP/fm-plain" >"$DT_TMP/fm-plain.out" 2>&1
fm_want=$(digest_of "$DT_TMP/fm-plain.out")
"$DETRAIN" train "$fm" "${fm_args[@]}" --quiet --out "$DT_TMP/fm" --mlflow "$uri" >"$DT_TMP/fm.out" 2>"$DT_TMP/fm.err" &
run_pid=$!
for _ in $(seq 1 600); do # until the first epoch's metrics reached the server
    sent=$(json_get "$DT_TMP/fm/manifest.json" "m.get('tracking', {}).get('sent', {}).get('metrics', {}).get('test_loss', 0)" 2>/dev/null)
    [ "${sent:-0}" -ge 1 ] && break
    sleep 0.05
done
stop_server
rc=0
wait "$run_pid" || rc=$?
check "server killed mid-run: the run completes (exit $rc)" [ "$rc" = 0 ]
check "server killed mid-run: the untracked digest" [ "$(digest_of "$DT_TMP/fm.out")" = "$fm_want" ]
check "server killed mid-run: one warning line" [ "$(grep -c 'warning' "$DT_TMP/fm.err")" = 1 ]
epochs_sent=$(json_get "$DT_TMP/fm/manifest.json" "m['tracking']['sent']['metrics']['test_loss']")
check "server killed mid-run: the record says what was sent ($epochs_sent of 6 epochs)" [ "$epochs_sent" -lt 6 ]
start_server
run_code sync 0 env -u MLFLOW_TRACKING_URI "$DETRAIN" mlflow sync "$DT_TMP/fm"
run_code sync-again 0 "$DETRAIN" mlflow sync "$DT_TMP/fm"
check "a second sync sends nothing" grep -q " 0 metric points sent now" "$DT_TMP/sync-again.out"
"$DT_PYTHON" "$checker" unique "$uri" "$DT_TMP/fm" | tee "$DT_TMP/check-sync.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-sync.txt" && fail "sync: the MLflow run is not complete and unique"

# ---- the registry bridge ----------------------------------------------------------------------
export DETRAIN_REGISTRY=$DT_TMP/registry.sqlite
run_code registry-add 0 "$DETRAIN" registry add "$DT_TMP/tracked" --name fashion-bridge
run_code registry-alias 0 "$DETRAIN" registry alias fashion-bridge production 1
check "registry add made the MLflow model version" grep -q "registered model fashion-bridge version" "$DT_TMP/registry-add.err"
"$DT_PYTHON" "$checker" model "$uri" fashion-bridge production "$DT_TMP/tracked" | tee "$DT_TMP/check-model.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-model.txt" && fail "the MLflow registered model is not as the registry says"
# A reproducibility certificate becomes a tag of the MLflow model version (the same JSON as
# the one export writes beside the model).
run_code key 0 "$DETRAIN" key generate --out "$DT_TMP/signing.pem"
DETRAIN_SIGNING_KEY=$DT_TMP/signing.pem run_code reproduce-signed 0 "$DETRAIN" registry reproduce fashion-bridge/1 --quiet
check "the certificate's tag was set in MLflow" grep -q "tag detrain.certificate.1 set" "$DT_TMP/reproduce-signed.err"
mkdir -p "$DT_TMP/exported"
run_code export-certified 0 "$DETRAIN" export fashion-bridge/1 --format safetensors --output "$DT_TMP/exported/model.safetensors"
"$DT_PYTHON" "$checker" certificates "$uri" fashion-bridge "$DT_TMP/tracked" "$DT_TMP/exported/certificates.json" |
    tee "$DT_TMP/check-certificates.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-certificates.txt" && fail "the MLflow model version lacks the registry's certificate"
# The version loads as MLflow's users load models, and predicts what detrain predicts.
version=$(sed -n 's/.*registered model fashion-bridge version \([0-9]*\).*/\1/p' "$DT_TMP/registry-add.err")
spiral_test=$DT_SOURCE_DIR/tests/data/spiral-test.csv
run_code predict-tracked 0 "$DETRAIN" predict "$DT_TMP/tracked" --input "$spiral_test" --output "$DT_TMP/predictions.csv"
rc=0
"$DT_PYTHON" "$checker" pyfunc "$uri" "models:/fashion-bridge/${version:-1}" "$DT_TMP/tracked" "$spiral_test" \
    "$DT_TMP/predictions.csv" >"$DT_TMP/check-pyfunc.txt" 2>"$DT_TMP/check-pyfunc.err" || rc=$?
cat "$DT_TMP/check-pyfunc.txt"
checks=$((checks + 1))
if [ "$rc" != 0 ] || grep -q '^FAIL' "$DT_TMP/check-pyfunc.txt"; then
    fail "the registered model does not load with mlflow.pyfunc or predicts otherwise (exit $rc): $(tail -n 3 "$DT_TMP/check-pyfunc.err")"
fi

run_code tls-opt-out 0 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/insecure" --mlflow "$uri" \
    --set tracking.tls_verify=false --set tracking.step_loss_every=10
check "the TLS opt-out is recorded" [ "$(json_get "$DT_TMP/insecure/manifest.json" "m['tracking']['tls_verify']")" = False ]
"$DT_PYTHON" "$checker" steploss "$uri" "$DT_TMP/insecure" 10 | tee "$DT_TMP/check-steploss.txt"
checks=$((checks + 1))
grep -q '^FAIL' "$DT_TMP/check-steploss.txt" && fail "tracking.step_loss_every: the step losses in MLflow are not the trace's"

echo "mlflow tests: $(($(date +%s) - t0)) s"
finish
