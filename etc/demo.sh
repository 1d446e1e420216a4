#!/bin/sh
# Run h2hd on its demo set-up and show files flowing:
#   etc/demo.sh [BUILD_DIR] [--keep]
# Creates ./demo (config, spool, state, a directory bank), starts h2hd,
# drops a few payment files, shows the log, the bank folder and h2hctl's
# view, then stops h2hd with SIGTERM (or leaves it running with --keep).
set -eu
BUILD=${1:-build}
KEEP=${2:-}
DEMO=${DEMO_DIR:-$PWD/demo}
H2HD=$BUILD/daemon/h2hd
H2HCTL=$BUILD/daemon/h2hctl
[ -x "$H2HD" ] || { echo "build first: $H2HD not found" >&2; exit 1; }

mkdir -p "$DEMO"
"$H2HD" --demo "$DEMO" &
PID=$!
trap '[ -n "$KEEP" ] || kill -TERM $PID 2>/dev/null || true' EXIT
SOCK="$DEMO/state/h2hctl.sock"
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

echo "== dropping 3 payment files into $DEMO/spool/erp/in"
SRC=$(dirname "$0")/demo
for f in "$SRC"/*.xml; do
  n=$(basename "$f")
  cp "$f" "$DEMO/spool/erp/in/.$n.part" && mv "$DEMO/spool/erp/in/.$n.part" "$DEMO/spool/erp/in/$n"
done
echo "== and one the bank leaves for us in $DEMO/bank/outbox"
cp "$SRC/status.pain002" "$DEMO/bank/outbox/status-1.xml"
sleep 3
echo "== the bank's inbox now holds:"
ls -l "$DEMO/bank/inbox"
echo "== treasury's out folder:"
ls -lR "$DEMO/spool/erp/out"
echo "== h2hctl status"
"$H2HCTL" -s "$SOCK" status
echo "== h2hctl queue"
"$H2HCTL" -s "$SOCK" queue
echo "== the log (logfmt, one event per line)"
cat "$DEMO/state/h2hd.log" 2>/dev/null || true
if [ -n "$KEEP" ]; then
  echo "h2hd keeps running (pid $PID); stop it with: kill -TERM $PID"
  trap - EXIT
fi
