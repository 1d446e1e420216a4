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

echo "== dropping 3 pain.001.001.03 files into $DEMO/spool/erp/in"
echo "   (validated, then rendered as pain.001.001.09 for the bank)"
SRC=$(dirname "$0")/demo
# Fresh message ids and today's execution date: h2hd refuses a reused
# MsgId and an execution date too far in the past, as a bank would.
RUN=$(date +%s)
TODAY=$(date -u +%F)
for f in "$SRC"/payments-*.xml; do
  n=$(basename "$f")
  sed -e "s/DEMO-2026-/DEMO-$RUN-/" \
      -e "s|<ReqdExctnDt>[^<]*<|<ReqdExctnDt>$TODAY<|" \
      "$f" > "$DEMO/spool/erp/in/.$n.part"
  mv "$DEMO/spool/erp/in/.$n.part" "$DEMO/spool/erp/in/$n"
done
echo "== and one broken file (it ends up in rejected/ with a reason)"
sed -e "s/DEMO-2026-0001/DEMO-$RUN-BAD/" -e "s|<IBAN>DE|<IBAN>XX|" \
    "$SRC/payments-1.xml" > "$DEMO/spool/erp/in/broken.xml"
echo "== the bank leaves a status report and a camt.053 statement in $DEMO/bank/outbox"
echo "   (the statement reaches treasury as MT940: output_format = \"mt940\")"
cp "$SRC/status.pain002" "$DEMO/bank/outbox/status-$RUN.xml"
cp "$SRC/statement.camt053.xml" "$DEMO/bank/outbox/statement-$RUN.xml"
sleep 4
echo "== the bank's inbox now holds:"
ls -l "$DEMO/bank/inbox"
echo "== treasury's out folder:"
ls -lR "$DEMO/spool/erp/out"
echo "== rejected, with reasons:"
for r in "$DEMO"/spool/erp/rejected/*.reason; do [ -f "$r" ] && { echo "-- $r"; cat "$r"; }; done
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
