"""check_mlflow.py — what an MLflow server holds of detrain runs, through MLflow's own client.

usage (the test environment's python, tests/pyenv.sh):
  check_mlflow.py run URI RUN_DIR          the MLflow run of RUN_DIR matches its manifest: name,
                                           params, every epoch's metrics, tags, dataset inputs,
                                           artifacts (final.h5 byte for byte), status
  check_mlflow.py unique URI RUN_DIR       exactly one MLflow run of RUN_DIR and one point per
                                           metric and epoch (no duplicates after syncs)
  check_mlflow.py model URI NAME ALIAS RUN_DIR
                                           registered model NAME has a version of RUN_DIR's
                                           MLflow run, and ALIAS points at it
  check_mlflow.py steploss URI RUN_DIR N   metric step_loss holds every N-th step's loss of trace.jsonl
  check_mlflow.py pyfunc URI MODEL_URI RUN_DIR FEATURES_CSV PREDICTIONS_CSV
                                           the classifier MODEL_URI ("models:/NAME/1") of RUN_DIR loads
                                           with mlflow.pyfunc.load_model (the onnx flavour) and predicts
                                           the samples of FEATURES_CSV (its label column dropped) as
                                           `detrain predict` did (PREDICTIONS_CSV): the same class, the
                                           probabilities within 1e-6; mlflow.onnx.load_model gives the
                                           ONNX graph; the MLmodel has the keys mlflow.onnx.save_model
                                           writes, the signature of the graph, the run's digest and end
                                           time, and the pins of tests/python/requirements.txt
  check_mlflow.py describe URI RUN_DIR     prints the MLflow run as the client returns it
Each check prints "ok   ..." or "FAIL: ..." lines; the exit code is the number of failures.
"""
import filecmp
import json
import math
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
from mlflow.tracking import MlflowClient  # noqa: E402

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL: ") + what)
    if not ok:
        failures += 1


def flatten(node, prefix=""):
    """The config's leaves as detrain sends them: dotted keys, strings as they are, JSON else."""
    out = {}
    if isinstance(node, dict) or isinstance(node, list):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(node, str):
        out[prefix] = node
    else:
        out[prefix] = json.dumps(node)
    return out


def manifest_of(run_dir):
    with open(os.path.join(run_dir, "manifest.json")) as f:
        return json.load(f)


def runs_of(client, manifest):
    experiment = client.get_experiment_by_name(manifest["tracking"]["experiment"])
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], f"tags.`detrain.run_id` = '{manifest['run_id']}'")


def check_run(client, run_dir):
    m = manifest_of(run_dir)
    run = client.get_run(m["tracking"]["run_id"])
    check(run.info.run_name == m["run_id"], f"run name {run.info.run_name} is detrain's run id")
    want = {"completed": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}.get(m["status"], "RUNNING")
    check(run.info.status == want, f"status {run.info.status} (manifest: {m['status']})")
    config = flatten(m["config"])
    params = {k: v for k, v in run.data.params.items() if not k.startswith("set.")}
    check(params == config, f"{len(params)} params equal the manifest's flattened config")
    overrides = {k[4:]: v for k, v in run.data.params.items() if k.startswith("set.")}
    want_overrides = {o.split("=", 1)[0].replace("[", ".").replace("]", ""): o.split("=", 1)[1] for o in m["overrides"]}
    check(overrides == want_overrides, f"--set overrides as params set.*: {overrides}")
    points = 0
    for key in ["train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "lr",
                "samples_per_s"]:
        history = sorted((p.step, p.value) for p in client.get_metric_history(run.info.run_id, key))
        recorded = [(e["epoch"], e[key]) for e in m["epochs"] if isinstance(e.get(key), (int, float))
                    and math.isfinite(e[key])]
        check(history == recorded, f"metric {key}: {len(history)} points, one per epoch, equal to the manifest's")
        points += len(history)
    tags = run.data.tags
    check(tags.get("mlflow.source.git.commit") == m["code"]["git_commit"], "tag mlflow.source.git.commit")
    check(tags.get("mlflow.source.name") == m["config_file"], "tag mlflow.source.name")
    check(bool(tags.get("mlflow.user")), "tag mlflow.user")
    for tag, value in [("detrain.mode", m["mode"]), ("detrain.device", m["device"]),
                       ("detrain.config_sha256", m["config_sha256"]), ("detrain.version", m["code"]["version"]),
                       ("detrain.params_sha256", m.get("final", {}).get("params_sha256"))]:
        check(tags.get(tag) == value, f"tag {tag} = {value}")
    files = [f for split in ("train", "test", "validation") for f in m["data"].get(split, {}).get("files", [])]
    inputs = {d.dataset.digest: d.dataset for d in run.inputs.dataset_inputs}
    for f in files:
        dataset = inputs.get(f["sha256"][:32])
        ok = dataset is not None and json.loads(dataset.profile)["sha256"] == f["sha256"] \
            and json.loads(dataset.source)["uri"] == f["path"]
        check(ok, f"dataset input {os.path.basename(f['path'])} with its SHA-256")
    names = sorted(a.path for a in client.list_artifacts(run.info.run_id))
    models = sorted(a.path for a in client.list_artifacts(run.info.run_id, "model"))
    check(names == ["final.h5", "manifest.json", "model", "trace.jsonl"] and
          models == ["model/MLmodel", "model/conda.yaml", "model/model.onnx", "model/model.safetensors",
                     "model/python_env.yaml", "model/requirements.txt"], f"artifacts {names + models}")
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(run.info.run_id, "final.h5", tmp)
        check(filecmp.cmp(local, os.path.join(run_dir, "final.h5"), shallow=False),
              "final.h5 downloaded from MLflow is byte-identical to the run folder's")
    print(f"figures: {len(run.data.params)} params, {points} metric points, {len(run.inputs.dataset_inputs)} "
          f"dataset inputs, {len(names) - 1 + len(models)} artifact files")


def check_unique(client, run_dir):
    m = manifest_of(run_dir)
    runs = runs_of(client, m)
    check(len(runs) == 1, f"{len(runs)} MLflow run(s) of detrain run {m['run_id']}")
    for run in runs:
        for key in ["train_loss", "test_loss", "test_accuracy", "lr"]:
            steps = [p.step for p in client.get_metric_history(run.info.run_id, key)]
            want = [e["epoch"] for e in m["epochs"]]
            check(sorted(steps) == want, f"metric {key}: steps {sorted(steps)}, each epoch once")
        check(run.info.status == "FINISHED", f"status {run.info.status}")


def check_model(client, name, alias, run_dir):
    m = manifest_of(run_dir)
    versions = client.search_model_versions(f"name='{name}'")
    mine = [v for v in versions if v.run_id == m["tracking"]["run_id"]]
    check(len(mine) == 1, f"registered model {name}: one version of MLflow run {m['tracking']['run_id']}")
    if mine:
        check(mine[0].source.endswith("/model"), f"its source is the run's logged model: {mine[0].source}")
        by_alias = client.get_model_version_by_alias(name, alias)
        check(by_alias.version == mine[0].version, f"{name}@{alias} is version {by_alias.version}")


def check_certificates(client, name, run_dir, certificates_json):
    """The version of the run carries each of the registry's certificates as a tag
    detrain.certificate.N, the same JSON (as `detrain export` writes them beside the model)."""
    m = manifest_of(run_dir)
    certificates = json.load(open(certificates_json))
    mine = [v for v in client.search_model_versions(f"name='{name}'") if v.run_id == m["tracking"]["run_id"]]
    check(len(mine) == 1 and len(certificates) >= 1, f"{name}: one version of the run, {len(certificates)} certificate(s)")
    if not mine:
        return
    tags = client.get_model_version(name, mine[0].version).tags
    for n, certificate in enumerate(certificates, start=1):
        key = f"detrain.certificate.{n}"
        check(key in tags and json.loads(tags[key]) == certificate, f"{name}/{mine[0].version}: tag {key} is certificate {n}")


def check_step_loss(client, run_dir, every):
    m = manifest_of(run_dir)
    with open(os.path.join(run_dir, "trace.jsonl")) as f:
        trace = [json.loads(line) for line in f]
    want = [(t["step"], t["loss"]) for t in trace if t["step"] % every == 0]
    got = sorted((p.step, p.value) for p in client.get_metric_history(m["tracking"]["run_id"], "step_loss"))
    check(got == want, f"step_loss: {len(got)} points, every {every}th step's loss of trace.jsonl")


def requirement_pins():
    """The pins of tests/python/requirements.txt, the test environment: {package: version}."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")) as f:
        pairs = [line.strip().split("==") for line in f if "==" in line and not line.startswith("#")]
    return {name.lower(): version for name, version in pairs}


def check_pyfunc(uri, model_uri, run_dir, features_csv, predictions_csv):
    import mlflow
    import mlflow.onnx
    import mlflow.pyfunc
    import numpy as np
    import onnx
    import yaml

    mlflow.set_tracking_uri(uri)
    m = manifest_of(run_dir)
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except Exception as e:  # what a user sees is the test's output
        check(False, f"mlflow.pyfunc.load_model('{model_uri}'): {type(e).__name__}: {str(e).splitlines()[0]}")
        return
    with open(features_csv) as f:
        header = f.readline().strip().split(",")
    label = m["config"]["data"]["test"]["label_column"]
    columns = [i for i, name in enumerate(header) if name != label]
    # the raw features, as the CSV loader reads them: the graph normalizes them itself
    features = np.loadtxt(features_csv, delimiter=",", skiprows=1, usecols=columns, ndmin=2).astype(np.float32)
    got = model.predict(features)["probabilities"]
    want = np.loadtxt(predictions_csv, delimiter=",", skiprows=1, ndmin=2)  # index,class,p0,...
    same_class = int((got.argmax(axis=1) == want[:, 1].astype(int)).sum())
    gap = float(np.abs(got - want[:, 2:]).max())
    check(got.shape == want[:, 2:].shape and same_class == len(want) and gap <= 1e-6,
          f"mlflow.pyfunc.load_model('{model_uri}') predicts the {len(want)} samples as 'detrain predict': the same "
          f"class for {same_class}, probabilities within {gap:.1e} (<= 1e-6)")
    run_uri = f"runs:/{m['tracking']['run_id']}/model"
    again = mlflow.pyfunc.load_model(run_uri).predict(features)["probabilities"]
    check(np.array_equal(again, got), f"mlflow.pyfunc.load_model('{run_uri}'): the same model")

    graph = mlflow.onnx.load_model(model_uri)  # also runs onnx.checker.check_model
    meta = {p.key: p.value for p in graph.metadata_props}
    check(isinstance(graph, onnx.ModelProto) and graph.opset_import[0].version == 17 and
          meta.get("params_sha256") == m["final"]["params_sha256"],
          "mlflow.onnx.load_model gives the ONNX graph (opset 17) of the run's parameters")

    info = mlflow.models.get_model_info(model_uri)
    def spec(value):  # a graph input or output (N, columns) as MLflow's tensor schema writes it
        columns = value.type.tensor_type.shape.dim[1].dim_value
        return [{"name": value.name, "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, columns]}}]
    signature = info.signature.to_dict()  # the JSON texts the MLmodel holds
    inputs, outputs = json.loads(signature["inputs"]), json.loads(signature["outputs"])
    check(inputs == spec(graph.graph.input[0]) and outputs == spec(graph.graph.output[0]),
          f"signature {inputs} -> {outputs} is the graph's input and output")
    check(info.model_uuid == m["final"]["params_sha256"][:32], f"model_uuid {info.model_uuid}: the parameter digest")
    created = m["finished_at"].replace("T", " ").rstrip("Z")
    check(info.utc_time_created == created, f"utc_time_created {info.utc_time_created}: the run's end")
    check(info.metadata.get("params_sha256") == meta["params_sha256"] and
          info.metadata.get("detrain_version") == m["code"]["version"], "metadata: detrain's identity of the model")

    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(model_uri, dst_path=os.path.join(tmp, "model"))
        # what mlflow.onnx.save_model writes for the same graph: the same keys, the same flavours
        mlflow.onnx.save_model(graph, os.path.join(tmp, "reference"), signature=info.signature,
                               onnx_execution_providers=["CPUExecutionProvider"], pip_requirements=[])
        docs = {}
        for name, path in [("detrain", local), ("mlflow", os.path.join(tmp, "reference"))]:
            with open(os.path.join(path, "MLmodel")) as f:
                docs[name] = yaml.safe_load(f)
        ours, ref = docs["detrain"], docs["mlflow"]
        versions = {"onnx_version", "python_version"}  # ours: the format and the Python tested with
        same = set(ours) == set(ref) | {"artifact_path", "metadata"} and all(
            set(ours["flavors"][flavor]) == set(ref["flavors"][flavor]) and
            {k: v for k, v in ours["flavors"][flavor].items() if k not in versions} ==
            {k: v for k, v in ref["flavors"][flavor].items() if k not in versions} for flavor in ("onnx", "python_function"))
        check(same, f"MLmodel: the keys and flavours mlflow.onnx.save_model writes ({sorted(ours)})")
        python = ours["flavors"]["python_function"]["python_version"]
        check(python == "%d.%d" % sys.version_info[:2], f"python_version {python} is the tested Python's")
        pins = requirement_pins()
        with open(os.path.join(local, "requirements.txt")) as f:
            listed = [line.strip() for line in f if line.strip()]
        with open(os.path.join(local, "conda.yaml")) as f:
            conda = yaml.safe_load(f)
        with open(os.path.join(local, "python_env.yaml")) as f:
            python_env = yaml.safe_load(f)
        check(listed and all(pins.get(r.split("==")[0].lower()) == r.split("==")[1] for r in listed) and
              {"mlflow", "onnx", "onnxruntime"} <= {r.split("==")[0] for r in listed} and
              conda["dependencies"][-1] == {"pip": listed} and python_env["dependencies"] == ["-r requirements.txt"],
              f"requirements.txt, conda.yaml, python_env.yaml: {listed}, as tests/python/requirements.txt pins them")


def describe(client, run_dir):
    m = manifest_of(run_dir)
    run = client.get_run(m["tracking"]["run_id"])
    print(f"run {run.info.run_id} '{run.info.run_name}' in experiment {run.info.experiment_id}: {run.info.status}")
    print("params:", ", ".join(f"{k}={v}" for k, v in sorted(run.data.params.items())))
    for key in sorted(run.data.metrics):
        history = sorted((p.step, p.value) for p in client.get_metric_history(run.info.run_id, key))
        print(f"metric {key}:", " ".join(f"{s}:{v:.6g}" for s, v in history))
    print("tags:", ", ".join(f"{k}={v}" for k, v in sorted(run.data.tags.items())))
    for d in run.inputs.dataset_inputs:
        print(f"dataset {d.dataset.name} digest {d.dataset.digest} source {d.dataset.source}")
    names = [a.path for a in client.list_artifacts(run.info.run_id)]
    names += [a.path for a in client.list_artifacts(run.info.run_id, "model")]
    print("artifacts:", ", ".join(sorted(n for n in names if n != "model")))


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    client = MlflowClient(argv[2])
    if argv[1] == "run":
        check_run(client, argv[3])
    elif argv[1] == "unique":
        check_unique(client, argv[3])
    elif argv[1] == "model":
        check_model(client, argv[3], argv[4], argv[5])
    elif argv[1] == "certificates":
        check_certificates(client, argv[3], argv[4], argv[5])
    elif argv[1] == "steploss":
        check_step_loss(client, argv[3], int(argv[4]))
    elif argv[1] == "pyfunc":
        check_pyfunc(argv[2], argv[3], argv[4], argv[5], argv[6])
    elif argv[1] == "describe":
        describe(client, argv[3])
    else:
        print(__doc__)
        return 2
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv))
