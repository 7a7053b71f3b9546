# mpi.sh — data-parallel ranks keep every bit (label mpi; needs mpirun and an MPI build):
#   mpirun -np 1, 2 and 4 with train.microbatches = 4 give one process's digest and trace;
#   a run stopped on 2 ranks and resumed on 4 (and on 1) ends with the same digest;
#   a rank count that does not divide the microbatches exits 2 saying so;
#   a killed rank ends the job with an error within a bounded time, never a hang.
. "$DT_SOURCE_DIR/tests/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
if ! command -v mpirun >/dev/null; then
    echo "SKIP: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
    exit 77
fi
tiny="$DT_SOURCE_DIR/tests/configs/tiny.json"
m4="--set train.microbatches=4"
run() { # NAME CMD...: stdout in $DT_TMP/NAME.out
    local name=$1
    shift
    checks=$((checks + 1))
    if ! timeout 300 "$@" >"$DT_TMP/$name.out" 2>"$DT_TMP/$name.err"; then
        fail "$name: failed: $(grep -v '^--\|^$' "$DT_TMP/$name.err" | head -3)"
    fi
}
same() {
    checks=$((checks + 1))
    local a b
    a=$(digest_of "$DT_TMP/$1.out")
    b=$(digest_of "$DT_TMP/$2.out")
    if [ -z "$a" ] || [ "$a" != "$b" ]; then fail "$1 vs $2: '$a' != '$b'"; else echo "ok   $1 = $2: $a"; fi
}

run single "$DETRAIN" train "$tiny" $m4 --quiet --out "$DT_TMP/run-single"
for np in 1 2 4; do
    run "np$np" mpirun -np $np "$DETRAIN" train "$tiny" $m4 --quiet --out "$DT_TMP/run-np$np"
    same single "np$np"
done
checks=$((checks + 1))
if cmp -s "$DT_TMP/run-single/trace.jsonl" "$DT_TMP/run-np4/trace.jsonl"; then echo "ok   per-step losses of 4 ranks = 1 process"
else fail "trace.jsonl of 4 ranks differs from one process's"; fi
checks=$((checks + 1))
if grep -q '"world_size":[[:space:]]*4' "$DT_TMP/run-np4/manifest.json"; then echo "ok   manifest records world_size 4"
else fail "manifest of the 4-rank run lacks world_size 4"; fi

# Microbatches define the result; without them (M = 1) it is the ordinary run, which differs.
run m1 "$DETRAIN" train "$tiny" --quiet --out "$DT_TMP/run-m1"
checks=$((checks + 1))
if [ "$(digest_of "$DT_TMP/m1.out")" != "$(digest_of "$DT_TMP/single.out")" ]; then echo "ok   M = 4 and M = 1 are different runs"
else fail "M = 4 gives the M = 1 digest: the microbatch tree is not taken"; fi

# Stop on 2 ranks, resume on 4; stop on 1, resume on 2.
checks=$((checks + 1))
rc=0
timeout 300 mpirun -np 2 "$DETRAIN" train "$tiny" $m4 --quiet --out "$DT_TMP/run-stop" --stop-after-steps 7 \
    >"$DT_TMP/stop.out" 2>&1 || rc=$?
if [ "$rc" = 130 ]; then echo "ok   2 ranks interrupted after step 7 (exit 130)"; else fail "interrupt on 2 ranks: exit $rc"; fi
run resume4 mpirun -np 4 "$DETRAIN" resume "$DT_TMP/run-stop" --quiet
same single resume4
"$DETRAIN" train "$tiny" $m4 --quiet --out "$DT_TMP/run-stop1" --stop-after-steps 30 >/dev/null 2>&1
run resume2 mpirun -np 2 "$DETRAIN" resume "$DT_TMP/run-stop1" --quiet
same single resume2

# A rank count that does not divide the microbatches.
checks=$((checks + 1))
rc=0
timeout 120 mpirun -np 3 "$DETRAIN" train "$tiny" $m4 --quiet --out "$DT_TMP/run-bad" >"$DT_TMP/bad.out" 2>&1 || rc=$?
if [ "$rc" = 2 ] && grep -q "microbatches: 4 is not divisible by the 3 ranks" "$DT_TMP/bad.out"; then
    echo "ok   3 ranks for 4 microbatches: exit 2, $(grep -o 'config.train.microbatches.*ranks of this job' "$DT_TMP/bad.out")"
else fail "3 ranks for 4 microbatches: exit $rc, $(head -c 300 "$DT_TMP/bad.out")"; fi

# A killed rank ends the job (no hang): kill -9 one rank mid-run.
checks=$((checks + 1))
long="--set train.epochs=100000 --set train.batch_size=8 $m4"
timeout 120 mpirun -np 2 "$DETRAIN" train "$tiny" $long --quiet --out "$DT_TMP/run-kill" >"$DT_TMP/kill.out" 2>&1 &
launcher=$!
victim=""
for _ in $(seq 100); do
    victim=$(pgrep -f "run-kill" | while read -r pid; do
        [ "$(cat /proc/$pid/comm 2>/dev/null)" = detrain ] && echo "$pid"; done | tail -1)
    [ -n "$victim" ] && [ -s "$DT_TMP/run-kill/manifest.json" ] && break
    sleep 0.1
done
start=$(date +%s)
[ -n "$victim" ] && kill -9 "$victim"
rc=0
wait "$launcher" || rc=$?
elapsed=$(($(date +%s) - start))
if [ -n "$victim" ] && [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$elapsed" -le 30 ]; then
    echo "ok   killed rank $victim: job ended in ${elapsed} s with exit $rc"
else
    fail "killed rank '$victim': exit $rc after ${elapsed} s (124 = hung until the timeout)"
fi
finish
