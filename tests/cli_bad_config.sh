# cli_bad_config.sh — malformed configs through the command line: each exits 2 with one
# line naming the file and the JSON path (or line:column) and what is wrong.
. "$DT_SOURCE_DIR/tests/lib.sh"

data=$DT_SOURCE_DIR/tests/data
# A valid base config; each case replaces one part of it.
base() {
    cat <<JSON
{
  "seed": 1,
  "data": {
    "train": {"format": "csv", "path": "$data/spiral-train.csv"},
    "test": {"format": "csv", "path": "$data/spiral-test.csv"}
  },
  "model": {"input_size": 5, "layers": [{"units": 8}, {"units": 3}]},
  "train": {"epochs": 1},
  "runtime": {"device": "cpu"}
}
JSON
}

# case NAME PATTERN PYTHON-EXPRESSION-ON-c: edits the parsed base config and writes it.
case_json() {
    local name=$1 pattern=$2 edit=$3
    base | python3 -c "import json,sys; c=json.load(sys.stdin); $edit; json.dump(c, sys.stdout)" >"$DT_TMP/$name.json"
    expect_error "$name" 2 "$name\.json: .*$pattern" -- "$DETRAIN" train "$DT_TMP/$name.json" --quiet --out "$DT_TMP/run-$name"
}

case_json unknown_top 'config\.sed: unknown key' "c['sed']=1"
case_json unknown_nested 'config\.optimizer\.lrr: unknown key' "c['optimizer']={'lrr':0.1}"
case_json unknown_in_layer 'config\.model\.layers\[1\]\.unit: unknown key' "c['model']['layers'][1]['unit']=3"
case_json lr_negative 'config\.optimizer\.lr: must be > 0, got -1' "c['optimizer']={'lr':-1}"
case_json lr_string 'config\.optimizer\.lr: must be a number' "c['optimizer']={'lr':'fast'}"
case_json epochs_fraction 'config\.train\.epochs: must be an integer, got 2\.5' "c['train']['epochs']=2.5"
case_json epochs_zero 'config\.train\.epochs' "c['train']['epochs']=0"
case_json missing_seed 'config\.seed: required key is missing' "del c['seed']"
case_json missing_layers 'config\.model\.layers: required key is missing' "del c['model']['layers']"
case_json missing_units 'config\.model\.layers\[0\]\.units: required key is missing' "del c['model']['layers'][0]['units']"
case_json empty_layers 'config\.model\.layers' "c['model']['layers']=[]"
case_json bad_activation 'config\.model\.layers\[0\]\.activation: must be one of' "c['model']['layers'][0]['activation']='swish'"
case_json bad_optimizer 'config\.optimizer\.kind: must be one of' "c['optimizer']={'kind':'adagrad'}"
case_json dropout_one 'config\.model\.layers\[0\]\.dropout' "c['model']['layers'][0]['dropout']=1.0"
case_json output_relu 'config\.model\.layers\[1\]\.activation' "c['model']['layers'][1]['activation']='relu'"
case_json nesterov_no_momentum 'config\.optimizer\.nesterov' "c['optimizer']={'kind':'sgd','nesterov':True}"
case_json idx_without_labels 'config\.data\.train\.labels: required' "c['data']['train']={'format':'idx','path':'x.gz'}"
case_json bad_mode 'config\.runtime\.mode: must be one of' "c['runtime']['mode']='turbo'"
case_json seed_negative 'config\.seed' "c['seed']=-5"
case_json batch_type 'config\.train\.batch_size: must be an integer' "c['train']['batch_size']='128'"
case_json bad_delimiter 'config\.data\.train\.delimiter: must be one of ",", ";", "\\t", " ", got "\|"' \
    "c['data']['train']['delimiter']='|'"
case_json tab_delimiter_shown 'config\.data\.train\.delimiter: must be one of .*, got "\\t\\t"' \
    "c['data']['train']['delimiter']='\\t\\t'"
case_json delimiter_not_csv 'config\.data\.train\.delimiter: only allowed with format "csv", not "npy"' \
    "c['data']['train']={'format':'npy','path':'x.npy','delimiter':';'}"

# Syntax errors name line and column.
printf '{\n  "seed": 1,\n  "data": {,\n}\n' >"$DT_TMP/syntax.json"
expect_error syntax 2 'syntax\.json:3:[0-9]+: JSON syntax error' -- "$DETRAIN" train "$DT_TMP/syntax.json" --quiet
printf '{"seed": 1} trailing' >"$DT_TMP/trailing.json"
expect_error trailing 2 'trailing\.json:1:[0-9]+: ' -- "$DETRAIN" train "$DT_TMP/trailing.json" --quiet
printf '' >"$DT_TMP/empty.json"
expect_error empty_file 2 'empty\.json' -- "$DETRAIN" train "$DT_TMP/empty.json" --quiet

# Overrides go through the same validation and say which --set caused it.
base >"$DT_TMP/good.json"
expect_error set_negative 2 '--set optimizer\.lr=-1: config\.optimizer\.lr: must be > 0, got -1' -- \
    "$DETRAIN" train "$DT_TMP/good.json" --quiet --set optimizer.lr=-1
expect_error set_unknown 2 'config\.optimizer\.lrr: unknown key' -- \
    "$DETRAIN" train "$DT_TMP/good.json" --quiet --set optimizer.lrr=1
expect_error set_index 2 'config\.model\.layers\[5\]' -- \
    "$DETRAIN" train "$DT_TMP/good.json" --quiet --set 'model.layers[5].units=3'

# A model bigger than the machine is refused before anything is allocated, with an estimate.
expect_error model_too_big 2 'config\.model: needs [0-9.]+ TB for [0-9.]+ billion parameters .*, [0-9.]+ [GMk]B available' -- \
    "$DETRAIN" train "$DT_TMP/good.json" --quiet --out "$DT_TMP/run-too-big" \
    --set 'model.layers=[{"units": 1048576}, {"units": 65536}, {"units": 3}]'
check "model_too_big: no run folder was made" test ! -e "$DT_TMP/run-too-big"
# Past the parameter limit (2^40, model.h), whatever the machine: the count and the limit.
expect_error model_over_limit 2 \
    'config\.model\.layers\[0\]: the model has 17592190238723 parameters, more than the limit of 1099511627776 \(2\^40\)' -- \
    "$DETRAIN" train "$DT_TMP/good.json" --quiet --out "$DT_TMP/run-over-limit" --set model.input_size=16777216 \
    --set 'model.layers=[{"units": 1048576}, {"units": 3}]'
finish
