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
echo "== a multi-process busybox script inside Iso-UniK: pipelines, subshells, background jobs, signals"
"$isounik" run /bin/busybox sh -c '
echo "I am PID $$ (init of this VM)"
echo "hello from a pipeline" | tr a-z A-Z | sed "s/PIPELINE/PIPE-LINE/"
for i in 1 2 3; do ( echo "background job $i in PID $(sh -c "echo \$PPID")"; sleep 0.$i ) & done
wait
echo "$(seq 1 1000 | wc -l) lines counted through a pipe"
sleep 10 & victim=$!; kill -TERM $victim; wait $victim 2>/dev/null; echo "killed job exited with status $?"
trap "echo trapped USR1" USR1; kill -USR1 $$
i=0; while [ $i -lt 200 ]; do /bin/busybox true; i=$((i+1)); done; echo "started $i short-lived processes"
'
echo
echo "== the same kind of work with system calls entering through the MPK gate (--syscall-entry=gate)"
"$isounik" run --syscall-entry=gate /bin/busybox sh -c '
echo "$(ls /bin /etc | wc -l) names listed through a pipe by PID $$"
for i in 1 2; do ( echo "gate-mode job $i"; sleep 0.$i ) & done; wait
date +"date in the guest: %Y-%m-%d %H:%M:%S UTC"
'
echo
echo "== a process-per-connection web server and its clients, all inside one Iso-UniK VM (loopback TCP)"
"$isounik" run /bin/busybox sh -c '
mkdir -p /tmp/www && echo "<h1>served by busybox httpd in Iso-UniK</h1>" > /tmp/www/index.html
/bin/busybox httpd -f -p 127.0.0.1:8080 -h /tmp/www & server=$!
n=0; until wget -q -O /dev/null http://127.0.0.1:8080/ 2>/dev/null || [ $n -ge 50 ]; do n=$((n+1)); sleep 0.1; done
pids=; for i in 1 2 3 4; do ( wget -q -O - http://127.0.0.1:8080/ | sed "s/^/client $i got: /" ) & pids="$pids $!"; done
wait $pids; echo "httpd forked a process per connection; stopping it"; kill $server
'
echo
echo "== a server in Iso-UniK answering the host: isounik run -p HOST:GUEST (virtio-net on QEMU's user network)"
port=$((20000 + RANDOM % 20000))
"$isounik" run --timeout 60 -p "127.0.0.1:$port:80" --add README.md:/www/README.md /bin/busybox httpd -f -p 80 -h /www &
guest=$!
for _ in $(seq 1 150); do /bin/busybox wget -q -O /dev/null "http://127.0.0.1:$port/README.md" 2>/dev/null && break; sleep 0.2; done
for i in 1 2 3; do echo "the host's wget $i got: $(/bin/busybox wget -q -O - "http://127.0.0.1:$port/README.md" | head -1)"; done
kill "$guest" 2>/dev/null; wait "$guest" 2>/dev/null || true
echo
echo "== unmodified busybox applets and static programs"
"$isounik" run /bin/busybox uname -a
"$isounik" run --add README.md:/data/README.md /bin/busybox wc -l /data/README.md
echo
echo "== a program killed by SIGSEGV reports it (status 139); the kernel survives"
"$isounik" run /bin/busybox sh -c 'kill -SEGV $$' || echo "(exit status $?)"
echo
echo "== a deliberate kernel fault is reported, not a hang (exit status 70)"
"$isounik" run --append crash=pagefault 2>&1 | head -3 || true
echo "(isounik exits with status 70 on a kernel crash)"
echo
echo "Try an interactive shell: target/release/isounik run -it /bin/busybox sh"
