#!/usr/bin/env bash
# Installs what Iso-UniK needs on a Debian/Ubuntu host, only when it is missing:
#   qemu-system-x86  runs the guest (TCG works everywhere; KVM is used when it exposes PKU)
#   busybox-static   the reference unmodified Linux binary the tests run inside Iso-UniK
#   musl-tools       musl-gcc, to build the static C test programs
# and checks for the Rust toolchain (stable; cargo must be on PATH).
set -euo pipefail

need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "isounik: missing packages: ${need[*]}" >&2
        echo "install them with: sudo apt-get install ${need[*]}" >&2
        exit 1
    fi
    echo "installing ${need[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    for dir in "$HOME/.cargo/bin" /usr/local/cargo/bin; do
        [ -x "$dir/cargo" ] && export PATH="$dir:$PATH"
    done
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "isounik: cargo (stable Rust, 1.85 or newer) is not installed." >&2
    echo "install it with: apt-get install cargo   (Debian 13+), or from https://rustup.rs" >&2
    exit 1
fi
