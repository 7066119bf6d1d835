#!/usr/bin/env bash
# The whole test suite: host unit tests, the kernel's own checks, and integration tests that
# boot the real kernel under QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh
cargo build --release --quiet
if cargo clippy --version >/dev/null 2>&1; then
    (cd kernel && cargo clippy --release --quiet -- -D warnings)
else
    echo "note: cargo clippy is not installed; skipping the kernel lint" >&2
fi
cargo test --release --workspace
# The program suites once more with system calls entering through the MPK gate (the
# hostile suite already runs every attack in both modes).
ISOUNIK_TEST_SYSCALL_ENTRY=gate cargo test --release -p isounik \
    --test programs --test run --test busybox --test shell --test processes --test interactive
