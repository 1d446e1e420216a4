"""A bank that wants its files named by day and sequence
(name_pattern = "PAY_{date}_{seq4}.xml"): every payment gets the next
number of its day, numbers survive a SIGKILL and a restart, and no number
is handed out twice."""
import os
import time

from h2hlib import World, check, drop_atomic, payment, wait_until

CONF = """
daemon = {
  state_dir = "state"; spool_dir = "spool"; log_file = "h2hd.log";
  shutdown_timeout = 10; rescan_interval = 200;
};
banks = (
  { name = "bank1"; adapter = "dirdrop"; poll_interval = 60000;
    name_pattern = "PAY_{date}_{seq4}.xml";
    dirdrop = { outbox = "bank/inbox"; }; }
);
channels = (
  { name = "erp"; bank = "bank1"; input_format = "passthrough"; }
);
"""


def main():
    w = World("namepat")
    try:
        w.write_conf(CONF)
        w.start()
        for i in range(5):
            drop_atomic(w, "p%d.xml" % i, payment(i))
        wait_until(lambda: len(w.bank_files()) == 5, 20, "five at the bank")
        w.kill9()
        w.start()
        for i in range(5, 8):
            drop_atomic(w, "p%d.xml" % i, payment(i))
        wait_until(lambda: len(w.bank_files()) == 8, 20, "eight at the bank")
        got = sorted(w.bank_files())
        days = {}
        for n in got:
            parts = n[:-4].split("_") if n.endswith(".xml") else []
            check(len(parts) == 3 and parts[0] == "PAY" and
                  len(parts[1]) == 8 and len(parts[2]) == 4,
                  "name %r does not follow the pattern" % n)
            days.setdefault(parts[1], []).append(int(parts[2]))
        # each day numbers from 1 without gaps (a payment accepted just
        # before midnight UTC keeps its day)
        for day, seqs in days.items():
            check(sorted(seqs) == list(range(1, len(seqs) + 1)),
                  "day %s numbered %r" % (day, sorted(seqs)))
        check(time.strftime("%Y%m%d", time.gmtime()) in days,
              "no file of today: %r" % got)
        check(w.stop() == 0, "clean stop")
        print("PASS test_name_pattern: %s" % ", ".join(got))
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
