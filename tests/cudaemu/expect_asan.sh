#!/usr/bin/env bash
# expect_asan.sh PROGRAM — passes when PROGRAM dies with AddressSanitizer's heap-buffer-overflow
# report naming the kernel that read out of bounds; 77 (skipped) when PROGRAM says it cannot
# run here (not an ASan build).
set -u
out=$("$@" 2>&1)
rc=$?
echo "$out" | tail -40
[ $rc = 77 ] && exit 77
if [ $rc = 0 ]; then echo "FAIL: exited 0"; exit 1; fi
echo "$out" | grep -q "AddressSanitizer: heap-buffer-overflow" || { echo "FAIL: no heap-buffer-overflow report"; exit 1; }
echo "$out" | grep -q "gather_rows_kernel" || { echo "FAIL: the report does not name gather_rows_kernel"; exit 1; }
echo "ok   ASan reported the out-of-bounds read of gather_rows_kernel"
