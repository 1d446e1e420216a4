"""Bill-pool requests at the drop folder (issue 7, the intake): a
<BillRequest> is recognised by its root whatever the channel's
input_format, checked (schema rules and the draft request rules), and
refused with a readable reason when it is broken, when it is a result or
notice (which h2hd writes, not treasury), or when the bank's adapter takes
payments only.  Nothing reaches the bank, and payments dropped beside
them keep flowing.  What a bank sends back for the bill pool and
supply-chain finance is delivered to out/bills and out/scf."""
import os

from h2hlib import CORPUS, World, check, drop_atomic, wait_until
from test_formats import ACCT_A, pain001

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(SRC, "tests", "fixtures", "bills")


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def reason_of(w, name):
    """The .reason text of a rejected drop, once it is there."""
    path = os.path.join(w.rejected, name + ".reason")
    wait_until(lambda: os.path.exists(path), 20,
               "%s to be rejected with a reason" % name)
    with open(path, encoding="utf-8") as f:
        return f.read()


def main():
    if not os.path.isdir(os.path.join(CORPUS, "xsd")):
        print("corpus missing: %s" % CORPUS)
    # input_format auto: payments are validated too; the bill files are
    # recognised before that
    w = World("bills", stability=0)
    try:
        w.write_conf(open(w.conf).read().replace(
            'input_format = "passthrough"', 'input_format = "auto"'))
        w.start()

        # a well-formed request for a payments-only bank (dirdrop)
        drop_atomic(w, "endorse.xml", fixture("endorse.xml"))
        r = reason_of(w, "endorse.xml")
        check("bill-pool request for bank bank1" in r and
              "adapter dirdrop does not take them" in r,
              "a bill request to a payments-only bank is refused, naming "
              "bank and adapter: %r" % r)

        # broken ones: an unknown element (the schema rules), and an
        # endorsement without the endorsee's bank (the request rules)
        drop_atomic(w, "endorse-bad.xml", fixture("endorse.xml").replace(
            b"<AddtlInf>", b"<Colour>red</Colour><AddtlInf>"))
        r = reason_of(w, "endorse-bad.xml")
        check("Colour" in r and "[bill.unknown]" in r and "adapter" not in r,
              "an unknown element is refused with its line and rule, "
              "before the bank is considered: %r" % r)
        drop_atomic(w, "endorse-nobank.xml", fixture("endorse.xml").replace(
            b"<BkCd>104100000045</BkCd>", b""))
        r = reason_of(w, "endorse-nobank.xml")
        check("[bill.request]" in r and "adapter" not in r,
              "a request the draft rules refuse says why: %r" % r)

        # a result is h2hd's output, not treasury's input
        drop_atomic(w, "result.xml", fixture("result_pool_overview.xml"))
        r = reason_of(w, "result.xml")
        check("bill result" in r and "<BillRequest>" in r,
              "a dropped result is refused as h2hd's own output: %r" % r)

        # payments beside them flow as before
        drop_atomic(w, "pay.xml", pain001("BILLS-PAY-1", [(ACCT_A, [12.5])]))
        wait_until(lambda: w.log_events("payment.submitted"), 20,
                   "the payment dropped beside them to be sent")
        # what a bank sends back: bill results and notices to out/bills,
        # tsin (supply-chain finance) to out/scf, byte for byte
        for src, name, sub in (
                (os.path.join(FIX, "result_draft_detail.xml"), "r1.xml",
                 "bills"),
                (os.path.join(FIX, "notice_endorse.xml"), "n1.xml", "bills"),
                (os.path.join(SRC, "tests", "fixtures", "tsin",
                              "tsin002_financed.xml"), "s1.xml", "scf")):
            with open(src, "rb") as f:
                data = f.read()
            with open(os.path.join(w.bank_out, "." + name), "wb") as f:
                f.write(data)
            os.rename(os.path.join(w.bank_out, "." + name),
                      os.path.join(w.bank_out, name))
            dst = os.path.join(w.out, sub, name)
            wait_until(lambda: os.path.exists(dst), 20,
                       "%s delivered to out/%s" % (name, sub))
            with open(dst, "rb") as f:
                check(f.read() == data, "%s delivered unchanged" % name)

        check(not [n for n in w.bank_files() if "endorse" in n or
                   "result" in n],
              "no bill file reached the bank: %r" % w.bank_files())
        states = w.db_states()
        check(sum(states.values()) == 1,
              "only the payment became a message: %r" % states)
        check(w.stop() == 0, "clean stop")
        print("PASS test_bill_intake")
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
