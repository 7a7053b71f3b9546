# install.sh — the installed detrain (label cpu): `cmake --install` into a temporary prefix,
# then used from another folder as a user would: train (its digest = the build's), bench
# --sizes small (its shapes found beside the program), the man page (rendered, and the same
# text as 'detrain help'), the bash completion (commands, options, config keys after --set);
# and `cpack -G DEB`, whose dependencies are the Debian packages of the linked libraries.
. "$DT_SOURCE_DIR/tests/lib.sh"
: "${DT_BUILD_DIR:?DT_BUILD_DIR must name the build folder}"
prefix=$DT_TMP/prefix
tiny=$DT_SOURCE_DIR/tests/configs/tiny.json

run_code install 0 cmake --install "$DT_BUILD_DIR" --prefix "$prefix"
for f in bin/detrain share/man/man1/detrain.1 share/bash-completion/completions/detrain share/doc/detrain/README.md \
    share/doc/detrain/config.md share/detrain/bench/configs/small.json share/detrain/bench/peers/pytorch_mlp.py \
    share/detrain/configs/fashion-mnist.json; do
    check "installed: $f" test -s "$prefix/$f"
done

mkdir -p "$DT_TMP/elsewhere"
cd "$DT_TMP/elsewhere"
"$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/built-run" >"$DT_TMP/built.out" 2>&1
run_code installed_train 0 "$prefix/bin/detrain" train "$tiny" --quiet --out run
check "the installed program trains from another folder, to the build's digest" \
    test -n "$(digest_of "$DT_TMP/installed_train.out")" -a "$(digest_of "$DT_TMP/installed_train.out")" = "$(digest_of "$DT_TMP/built.out")"
run_code installed_bench 0 "$prefix/bin/detrain" bench --sizes small --batches 16 --repeats 1 --steps 1 --min-time 0 \
    --peers none --quiet --json "$DT_TMP/bench.json"
check "installed bench: the small shape read from share/detrain/bench" \
    /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert any(x['shape']=='small' for x in r['rows']), r['rows']" \
    "$DT_TMP/bench.json"
cd "$DT_SOURCE_DIR"

check "the man page is 'detrain help --man' (no drift)" \
    cmp -s "$prefix/share/man/man1/detrain.1" <("$DETRAIN" help --man)
check "the man page holds every command's help" \
    bash -c "for c in train resume verify diff inspect eval predict export bench runs registry lineage sweep plot mlflow; do
                 grep -q \"^\\.SS \$c\\\$\" '$prefix/share/man/man1/detrain.1' || exit 1; done"
if command -v groff >/dev/null; then
    check "the man page renders (groff -man)" \
        bash -c "groff -man -Tutf8 '$prefix/share/man/man1/detrain.1' 2>/dev/null | grep -q 'DETRAIN(1)'"
else
    echo "note: groff is not installed; the man page was not rendered"
fi

completion=$prefix/share/bash-completion/completions/detrain
complete_words() { # WORD...: the completions bash offers for the last word of "detrain WORD..."
    bash -c 'source "$1"; shift; COMP_WORDS=(detrain "$@"); COMP_CWORD=$#; _detrain; echo "${COMPREPLY[*]}"' \
        complete "$completion" "$@"
}
check "completion: commands" test "$(complete_words sw)" = sweep
check "completion: a command's options" test "$(complete_words train x.json --mod)" = --mode
check "completion: config keys after --set" test "$(complete_words train x.json --set optimizer.l)" = optimizer.lr=
check "completion: config keys after --grid" test "$(complete_words sweep x.json --grid 'train.early_stopping.p')" = \
    train.early_stopping.patience=

if command -v dpkg-shlibdeps >/dev/null && command -v dpkg-deb >/dev/null; then
    mkdir -p "$DT_TMP/pkg"
    (cd "$DT_TMP/pkg" && cpack -G DEB --config "$DT_BUILD_DIR/CPackConfig.cmake") >"$DT_TMP/cpack.log" 2>&1
    deb=$(ls "$DT_TMP"/pkg/detrain_*.deb 2>/dev/null | head -1)
    check "cpack -G DEB made a package" test -n "$deb"
    check "the package depends on the Debian packages it links (HDF5, cJSON, OpenSSL, SQLite)" \
        bash -c "dpkg-deb -f '$deb' Depends | grep -q libhdf5 && dpkg-deb -f '$deb' Depends | grep -q libcjson1 &&
                 dpkg-deb -f '$deb' Depends | grep -q libssl3 && dpkg-deb -f '$deb' Depends | grep -q libsqlite3"
    check "the package holds the program, the man page and the completion" \
        bash -c "dpkg-deb -c '$deb' | grep -q './usr/bin/detrain' && dpkg-deb -c '$deb' | grep -q 'man1/detrain.1' &&
                 dpkg-deb -c '$deb' | grep -q 'completions/detrain'"
else
    echo "note: dpkg-dev is not installed; the Debian package was not built (apt-get install dpkg-dev)"
fi
finish
