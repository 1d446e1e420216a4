"""A dirdrop bank that keeps fetched files (after_fetch = "keep"): every
poll round finds the same statement again.  The daemon answers "already
delivered" from inside the adapter's deliver call; the poll round must
end cleanly (this once freed the round while the adapter still walked it),
the statement reaches treasury exactly once, and the daemon keeps
running.  Run under the ASan build it proves no use after free."""
import os
import time

from h2hlib import CORPUS, World, check, wait_until  # noqa: F401

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "../.."))

CONF = """
daemon = {
  state_dir = "state"; spool_dir = "spool"; log_file = "h2hd.log";
  log_level = "debug"; shutdown_timeout = 10; rescan_interval = 500;
};
banks = (
  { name = "bank1"; adapter = "dirdrop"; poll_interval = 200;
    dirdrop = { outbox = "bank/inbox"; inbox = "bank/outbox";
                after_fetch = "keep"; }; }
);
channels = (
  { name = "erp"; bank = "bank1"; input_format = "passthrough"; }
);
"""


def main():
    w = World("ddkeep")
    try:
        w.write_conf(CONF)
        with open(os.path.join(SRC, "etc/demo/statement.camt053.xml"),
                  "rb") as f:
            stmt = f.read()
        for i in range(3):
            with open(os.path.join(w.bank_out, "stmt-%d.xml" % i), "wb") as f:
                f.write(stmt.replace(b"<MsgId>", b"<MsgId>K%d" % i, 1))
        w.start()
        out = os.path.join(w.out, "statements")
        wait_until(lambda: os.path.isdir(out) and len(os.listdir(out)) >= 3,
                   20, "three statements delivered")
        # several more rounds, each finding all three again
        rounds = len(w.log_events("bank.poll.done"))
        wait_until(lambda: len(w.log_events("bank.poll.done")) >= rounds + 5,
                   20, "five more poll rounds")
        time.sleep(0.3)
        check(w.proc.poll() is None, "h2hd died: " + w.tail())
        check(sorted(os.listdir(w.bank_out)) ==
              ["stmt-0.xml", "stmt-1.xml", "stmt-2.xml"],
              "kept at the bank: %r" % os.listdir(w.bank_out))
        check(len(os.listdir(out)) == 3,
              "each statement delivered once: %r" % os.listdir(out))
        check(len(w.log_events("bank.download.delivered")) == 3,
              "three deliveries in the log")
        check(w.stop() == 0, "clean stop")
        print("PASS test_dirdrop_keep: %d poll rounds" %
              len(w.log_events("bank.poll.done")))
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
