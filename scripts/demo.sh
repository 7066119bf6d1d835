#!/usr/bin/env bash
# The main job: builds Iso-UniK and boots it in QEMU, showing what it does.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
cargo build --release --quiet
isounik=target/release/isounik

echo "== Iso-UniK self tests inside the kernel (q35, TCG -cpu max)"
"$isounik" selftest --machine q35
echo
echo "== the same on a microVM (-M microvm)"
"$isounik" selftest --machine microvm
echo
echo "== unmodified busybox inside Iso-UniK"
"$isounik" run /bin/busybox uname -a
"$isounik" run /bin/busybox sh -c 'echo "sh -c in Iso-UniK: $(echo ok)"' || echo "(sh needs fork: next issue; status $?)"
"$isounik" run --add README.md:/data/README.md /bin/busybox wc -l /data/README.md
echo
echo "== a program killed by SIGSEGV reports it (status 139); the kernel survives"
"$isounik" run /bin/busybox sh -c 'kill -SEGV $$' || echo "(exit status $?)"
echo
echo "== a deliberate kernel fault is reported, not a hang (exit status 70)"
"$isounik" run --append crash=pagefault || echo "(isounik exited with status $?)"
