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
echo "== a deliberate kernel fault is reported, not a hang (exit status 70)"
"$isounik" run -- crash=pagefault || echo "(isounik exited with status $?)"
