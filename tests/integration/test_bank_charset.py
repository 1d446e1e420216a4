"""A bank that sends its MT940 in a legacy charset (bank charset = "CP852",
a Hungarian bank's statement from the shared fixtures): h2hd decodes it and
treasury gets proper UTF-8 in the format it asked for.  The same file from
a bank without that setting is not valid UTF-8: it is delivered as
received, and the log says why.  An unknown charset is a config error."""
import os
import subprocess

from h2hlib import H2HD, World, check, wait_until

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "../.."))

CONF = """
daemon = {
  state_dir = "state"; spool_dir = "spool"; log_file = "h2hd.log";
  shutdown_timeout = 10; rescan_interval = 500;
};
banks = (
  { name = "huf"; adapter = "dirdrop"; poll_interval = 200; %s
    dirdrop = { outbox = "huf/in"; inbox = "huf/out"; }; },
  { name = "plain"; adapter = "dirdrop"; poll_interval = 200;
    dirdrop = { outbox = "plain/in"; inbox = "plain/out"; }; }
);
channels = (
  { name = "erp"; bank = "huf"; input_format = "passthrough";
    output_format = "canonical"; },
  { name = "erp2"; bank = "plain"; input_format = "passthrough";
    output_format = "canonical"; }
);
"""


def main():
    w = World("charset")
    try:
        bad = w.p("bad.conf")
        with open(bad, "w") as f:
            f.write(CONF % 'charset = "CP9999";')
        r = subprocess.run([H2HD, "-c", bad, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode != 0 and "CP9999" in r.stderr + r.stdout and
              "charset" in r.stderr + r.stdout,
              "unknown charset refused: %r" % (r.stderr + r.stdout))

        w.write_conf(CONF % 'charset = "CP852";')
        with open(os.path.join(SRC, "tests/fixtures/mt940/cp852.sta"),
                  "rb") as f:
            sta = f.read()
        for bank in ("huf", "plain"):
            os.makedirs(w.p(bank + "/out"), exist_ok=True)
            os.makedirs(w.p(bank + "/in"), exist_ok=True)
            with open(w.p(bank + "/out/stmt.sta"), "wb") as f:
                f.write(sta)
        w.start()
        good = w.p("spool/erp/out/statements/stmt.xml")
        raw = w.p("spool/erp2/out/statements/stmt.sta")
        wait_until(lambda: os.path.exists(good) and os.path.exists(raw), 20,
                   "both statements delivered")
        text = open(good, encoding="utf-8").read()
        check("Összevont utánvét, április" in text,
              "CP852 text decoded: %r" % text[:400])
        check(open(raw, "rb").read() == sta,
              "without the bank's charset the file arrives as received")
        notes = [l for l in w.log_events("bank.download.note")
                 if "bank=plain" in l]
        check(notes and "UTF-8" in notes[0],
              "the log says why it was not converted: %r" % notes)
        check(not [l for l in w.log_events("bank.download.note")
                   if "bank=huf" in l], "no note for the decoded one")
        check(w.stop() == 0, "clean stop")
        print("PASS test_bank_charset")
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
