# certificates.sh — signed reproducibility certificates (label cpu):
#   `key generate` (private key 0600, public key beside it, registered), `key list`, `key add`,
#     a key file that exists or is not a key refused;
#   `registry reproduce` without a key: runs, says no certificate was made, exit 0; with
#     DETRAIN_SIGNING_KEY or --key: a certificate appended; a key the registry does not trust:
#     refused before the re-run (exit 2); a re-run that differs: a certificate saying so;
#   `verify RUN_DIR` of a registered run certifies its version; `registry show` (text, --json);
#   `registry verify`: 0; a certificate altered in the database, an unknown key, a digest that
#     is not the version's: exit 2 naming the version and the certificate;
#   `export` of a version: certificates in safetensors' and ONNX's metadata and certificates.json;
#     `certificate verify` of that file: the right key 0, a wrong key 2, a tampered file 2;
#   alias policies: `registry policy`, `alias` refused (exit 1) with too few distinct machines,
#     allowed after a certificate from a second machine (DETRAIN_TEST_MACHINE), a one-off
#     --require-reproduced, `add --alias`;
#   a database of schema 1 upgraded to 2; one of a newer schema refused.
. "$DT_SOURCE_DIR/tests/lib.sh"
cd "$DT_TMP"
unset DETRAIN_HOME DETRAIN_SIGNING_KEY DETRAIN_TEST_MACHINE MLFLOW_TRACKING_URI
export DETRAIN_REGISTRY="$DT_TMP/checkpoints/detrain.sqlite" XDG_CONFIG_HOME="$DT_TMP/config"
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json
py() { /usr/bin/python3 -c "$@"; }
sqlite() { py "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print(r)" "$@"; }
db=checkpoints/detrain.sqlite

"$DETRAIN" train "$tiny" --quiet --out checkpoints/a >a.out 2>&1
"$DETRAIN" train "$tiny" --set optimizer.lr=0.05 --quiet --out checkpoints/b >b.out 2>&1
run_code add-a 0 "$DETRAIN" registry add checkpoints/a --name spiral
digest=$(digest_of a.out)

# ---- keys -------------------------------------------------------------------------------------
run_code key-generate 0 "$DETRAIN" key generate --out "$DT_TMP/k1.pem" --note "first machine"
check "key generate: private key 0600, public key beside it" \
    test "$(stat -c %a k1.pem)" = 600 -a -f k1.pem.pub -a "$(stat -c %a k1.pem.pub)" = 644
check "key generate: PEM files" bash -c "grep -q 'BEGIN PRIVATE KEY' k1.pem && grep -q 'BEGIN PUBLIC KEY' k1.pem.pub"
k1=$(sed -n 's/^key \([0-9a-f]\{64\}\) added to .*/\1/p' key-generate.out)
check "key generate: the id is the SHA-256 of the raw public key" test "$k1" = \
    "$(openssl pkey -pubin -in k1.pem.pub -outform DER | tail -c 32 | sha256sum | cut -d' ' -f1)"
run_code key-default 0 "$DETRAIN" key generate
check "key generate: by default in \$XDG_CONFIG_HOME/detrain" test -f config/detrain/signing-key.pem
expect_error key-exists 2 "k1.pem: exists already; a key is never overwritten" -- "$DETRAIN" key generate --out "$DT_TMP/k1.pem"
run_code key-other 0 "$DETRAIN" key generate --out "$DT_TMP/k2.pem" --registry "$DT_TMP/other.sqlite"
run_code key-list 0 "$DETRAIN" key list
check "key list: the two keys of this registry, not the other's" \
    bash -c "grep -q '^$k1  .*added by .*first machine' key-list.out && test \$(grep -c '^[0-9a-f]\{64\} ' key-list.out) = 2"
echo "not a key" >bogus.pem
expect_error key-add-bogus 2 "bogus.pem: not a PEM public key" -- "$DETRAIN" key add bogus.pem
expect_error key-add-private 2 "k2.pem: not a PEM public key" -- "$DETRAIN" key add k2.pem

# ---- reproduce: with and without a key ------------------------------------------------------------
run_code reproduce-nokey 0 "$DETRAIN" registry reproduce spiral/1 --quiet
check "reproduce without a key: says no certificate was made" grep -q "no certificate made for spiral/1: no signing key" reproduce-nokey.err
expect_error reproduce-unknown-key 2 "k2.pem: its public key \(id [0-9a-f]{12}...\) is not among the keys" -- \
    "$DETRAIN" registry reproduce spiral/1 --quiet --key k2.pem
expect_error reproduce-not-a-key 2 "bogus.pem: not a PEM private key" -- "$DETRAIN" registry reproduce spiral/1 --key bogus.pem
run_code reproduce-k1 0 env DETRAIN_SIGNING_KEY="$DT_TMP/k1.pem" "$DETRAIN" registry reproduce spiral/1 --quiet
check "reproduce with DETRAIN_SIGNING_KEY: certificate 1" \
    grep -Eq "^certificate 1 of spiral/1: reproduced bit for bit on x86-64 [A-Z0-9]+ \(.*\), signed with key ${k1:0:12}$" reproduce-k1.out
run_code show-json 0 "$DETRAIN" registry show spiral/1 --json
check "show --json: the certificate, checked, with every member" py "
import json; m = json.load(open('show-json.out')); c = m['certificates']
assert len(c) == 1 and c[0]['valid'] and c[0]['problem'] is None and c[0]['number'] == 1, c
b = c[0]['certificate']
assert list(b) == ['format', 'model', 'version', 'run_id', 'artifact_sha256', 'params_sha256', 'bit_identical', 'steps',
    'from_step', 'mode', 'device', 'machine', 'machine_from', 'detrain_version', 'detrain_commit', 'date', 'who', 'key_id',
    'signature'], list(b)
assert b['format'] == 'detrain-certificate/1' and b['model'] == 'spiral' and b['version'] == 1
assert b['params_sha256'] == '$digest' and b['bit_identical'] is True and b['steps'] > 0 and b['from_step'] == 0
assert b['run_id'] == m['run_id'] and b['artifact_sha256'] == m['artifact_sha256'] and b['key_id'] == '$k1'
assert b['machine_from'] == 'detected' and '@' in b['who'] and b['date'].endswith('Z') and len(b['signature']) == 128"
check "the signature is Ed25519 over the canonical body (checked by openssl)" py "
import json, subprocess
b = json.load(open('show-json.out'))['certificates'][0]['certificate']
sig = bytes.fromhex(b.pop('signature'))
open('body.bin', 'wb').write(json.dumps(b, separators=(',', ':'), ensure_ascii=False).encode())
open('sig.bin', 'wb').write(sig)
subprocess.run(['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', 'k1.pem.pub', '-rawin', '-in', 'body.bin',
                '-sigfile', 'sig.bin'], check=True, capture_output=True)"
run_code verify-run 0 "$DETRAIN" verify checkpoints/a --quiet --key k1.pem
check "verify of a registered run certifies its version" grep -q "^certificate 2 of spiral/1: reproduced bit for bit" verify-run.out
run_code verify-unregistered 0 env DETRAIN_SIGNING_KEY="$DT_TMP/k1.pem" "$DETRAIN" verify checkpoints/b --quiet
check "verify of a run that is no version: no certificate, no note" \
    bash -c "! grep -q certificate verify-unregistered.out && ! grep -q certificate verify-unregistered.err"
run_code show-text 0 "$DETRAIN" registry show spiral/1
check "show: reproduced on, and each certificate valid" bash -c \
    "grep -Eq '^  reproduced     bit for bit on: x86-64 ' show-text.out &&
     test \$(grep -Ec '^  certificate [12]  +bit for bit on .* by .*@.*, key ${k1:0:12}: valid$' show-text.out) = 2"
run_code registry-verify 0 "$DETRAIN" registry verify
check "registry verify: the certificates checked" grep -q "^2 certificates checked, 0 invalid$" registry-verify.out

# ---- forged and altered certificates -------------------------------------------------------------
cp $db before-forgery.sqlite
sqlite $db "UPDATE certificates SET certificate = replace(certificate, '\"steps\":', '\"steps\":1') WHERE number = 1" >/dev/null
expect_error verify-altered 2 "spiral/1: certificate 1: the signature does not verify" -- "$DETRAIN" registry verify
cp before-forgery.sqlite $db
sqlite $db "DELETE FROM signing_keys WHERE key_id = '$k1'" >/dev/null
expect_error verify-unknown-key 2 "spiral/1: certificate 1: unknown key ${k1:0:12}" -- "$DETRAIN" registry verify
cp before-forgery.sqlite $db
sqlite $db "UPDATE certificates SET certificate = replace(certificate, '\"from_step\":0,', '\"from_step\":0,\"extra\":1,')
    WHERE number = 2" >/dev/null
expect_error verify-extra-member 2 "spiral/1: certificate 2: unknown member 'extra'" -- "$DETRAIN" registry verify
cp before-forgery.sqlite $db
other=$(printf '%064d' 1)
sqlite $db "UPDATE models SET params_sha256 = '$other' WHERE name = 'spiral'" >/dev/null
expect_error verify-digest 2 "spiral/1: certificate 1: it says bit-identical with params_sha256 ${digest:0:16}..., but the version's is ${other:0:16}" \
    -- "$DETRAIN" registry verify
cp before-forgery.sqlite $db

# ---- certificates travel with the model -------------------------------------------------------------
mkdir -p out
run_code export-st 0 "$DETRAIN" export spiral/1 --format safetensors --output out/model.safetensors
run_code export-onnx 0 "$DETRAIN" export spiral/1 --format onnx --output out/model.onnx
check "certificates.json beside the model: both certificates, as the registry holds them" py "
import json; f = json.load(open('out/certificates.json')); r = json.load(open('show-json.out'))['certificates'][0]['certificate']
assert len(f) == 2 and f[0] == r, f"
check "safetensors metadata: detrain.certificates" py "
import json, struct; raw = open('out/model.safetensors', 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]
meta = json.loads(raw[8:8 + n])['__metadata__']
assert json.loads(meta['detrain.certificates']) == json.load(open('out/certificates.json'))"
check "ONNX metadata_props: detrain.certificates" py "
import json; raw = open('out/model.onnx', 'rb').read(); f = json.load(open('out/certificates.json'))
text = json.dumps(f, separators=(',', ':'), ensure_ascii=False).encode()
assert b'detrain.certificates' in raw and text in raw"
run_code cert-verify 0 "$DETRAIN" certificate verify out/certificates.json --key k1.pem.pub
check "certificate verify: one line per certificate" test "$(grep -c '^valid    out/certificates.json: certificate [12]: spiral/1 reproduced bit for bit' cert-verify.out)" = 2
run_code cert-verify-store 0 "$DETRAIN" certificate verify out/certificates.json
expect_error cert-verify-wrong-key 2 "out/certificates.json: certificate 1: unknown key ${k1:0:12}.* \(2 of 2 invalid\)" -- \
    "$DETRAIN" certificate verify out/certificates.json --key k2.pem.pub
py "import json; f = json.load(open('out/certificates.json')); f[1]['machine'] = 'a faster machine'
json.dump(f, open('tampered.json', 'w'), indent=1)"
expect_error cert-verify-tampered 2 "tampered.json: certificate 2: the signature does not verify .*\(1 of 2 invalid\)" -- \
    "$DETRAIN" certificate verify tampered.json --key k1.pem.pub
py "import json; c = json.load(open('out/certificates.json'))[0]; json.dump(dict(sorted(c.items())), open('one.json', 'w'))"
run_code cert-verify-one 0 "$DETRAIN" certificate verify one.json --key k1.pem.pub
expect_error cert-verify-not-json 2 "bogus.pem: not JSON" -- "$DETRAIN" certificate verify bogus.pem --key k1.pem.pub
run_code export-plain 0 "$DETRAIN" export checkpoints/a/final.h5 --format onnx --output plain.onnx
check "a checkpoint file exports without certificates" bash -c "! grep -q detrain.certificates plain.onnx && ! test -e certificates.json"

# ---- alias policies ---------------------------------------------------------------------------------
run_code policy-set 0 "$DETRAIN" registry policy spiral production --require-reproduced 2
check "policy: said" grep -q "^spiral@production moves only to versions reproduced bit for bit on at least 2 distinct machines$" policy-set.out
expect_error alias-refused 1 "refused: spiral@production cannot point at version 1: it must be reproduced bit for bit on 2 distinct machines, it was on 1" \
    -- "$DETRAIN" registry alias spiral production 1
check "alias refused: the alias was not set" test "$(sqlite $db "SELECT count(*) FROM aliases")" = "[(0,)]"
run_code key-add 0 "$DETRAIN" key add k2.pem.pub --note "second machine"
run_code reproduce-b 0 env DETRAIN_TEST_MACHINE="test machine B" "$DETRAIN" registry reproduce spiral/1 --quiet --key k2.pem
check "a second machine's certificate, the machine said to come from DETRAIN_TEST_MACHINE" \
    test "$(sqlite $db "SELECT json_extract(certificate, '$.machine_from') FROM certificates WHERE number = 3")" = "[('DETRAIN_TEST_MACHINE',)]"
run_code alias-allowed 0 "$DETRAIN" registry alias spiral production 1
expect_error alias-one-off 1 "spiral@staging cannot point at version 1: it must be reproduced bit for bit on 3 distinct machines, it was on 2" \
    -- "$DETRAIN" registry alias spiral staging 1 --require-reproduced 3
expect_error add-alias 1 "refused: spiral@production cannot point at version 2: .* it was on 0" -- \
    "$DETRAIN" registry add checkpoints/b --name spiral --alias production
check "add --alias refused: version 2 registered, production still 1" \
    test "$(sqlite $db "SELECT max(version), (SELECT version FROM aliases WHERE alias = 'production') FROM models")" = "[(2, 1)]"
expect_error policy-bad 2 "option '--require-reproduced' needs a non-negative integer" -- \
    "$DETRAIN" registry policy spiral production --require-reproduced two
expect_error policy-unknown-model 2 "no model named 'ghost'" -- "$DETRAIN" registry policy ghost production --require-reproduced 1

# ---- a re-run that differs: a certificate saying so, which no gate counts -----------------------------
objects=checkpoints/detrain.sqlite.objects
trace_sha=$(sqlite $db "SELECT trace FROM models WHERE version = 2" | tr -dc '0-9a-f')
py "import json, sys; lines = open(sys.argv[1]).read().splitlines(); l = json.loads(lines[4])
l['loss_bits'] = '%08x' % (int(l['loss_bits'], 16) ^ 1); lines[4] = json.dumps(l); open(sys.argv[2], 'w').write('\n'.join(lines) + '\n')" \
    "$objects/$trace_sha" altered-trace.jsonl
altered=$(sha256sum altered-trace.jsonl | cut -d' ' -f1)
cp altered-trace.jsonl "$objects/$altered"
sqlite $db "UPDATE models SET trace = '$altered' WHERE version = 2" >/dev/null
run_code reproduce-different 1 "$DETRAIN" registry reproduce spiral/2 --quiet --key k1.pem
check "a re-run that differs: certificate 1 of spiral/2 says so" grep -q "^certificate 1 of spiral/2: NOT reproduced bit for bit" reproduce-different.out
run_code show-different 0 "$DETRAIN" registry show spiral/2
check "show: DIFFERENT, reproduced on no machine" bash -c "grep -q 'bit for bit on no machine yet' show-different.out &&
    grep -q '^  certificate 1  DIFFERENT on ' show-different.out"
run_code verify-with-different 0 "$DETRAIN" registry verify

# ---- schema versions ----------------------------------------------------------------------------------
cp $db v1.sqlite && cp -r "$objects" v1.sqlite.objects
sqlite v1.sqlite "DROP TABLE certificates" >/dev/null
sqlite v1.sqlite "DROP TABLE signing_keys" >/dev/null
sqlite v1.sqlite "DROP TABLE alias_policies" >/dev/null
sqlite v1.sqlite "UPDATE meta SET value = '1' WHERE key = 'schema_version'" >/dev/null
run_code upgrade 0 "$DETRAIN" registry show spiral/1 --registry v1.sqlite
check "a schema 1 database is upgraded to 2" test "$(sqlite v1.sqlite "SELECT value FROM meta WHERE key = 'schema_version'")" = "[('2',)]"
check "upgraded: its versions kept, no certificates yet" grep -q '^  reproduced     no certificates' upgrade.out
run_code upgraded-key 0 "$DETRAIN" key add k1.pem.pub --registry v1.sqlite
cp $db newer.sqlite
sqlite newer.sqlite "UPDATE meta SET value = '3' WHERE key = 'schema_version'" >/dev/null
expect_error newer-schema 2 "newer.sqlite: written by a newer detrain \(schema 3; this build knows 2\)" -- \
    "$DETRAIN" key list --registry newer.sqlite
finish
