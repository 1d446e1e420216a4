"""Certificate expiry warnings and `h2hctl certs`, against a running h2hd
with an openapi_json bank (the strict simulator tests/sims/bank_openapi.py,
started through tests/sims/openapi_world.py, as in test_openapi_e2e.py).

The bank's certificates: the TLS client certificate (20 days) and the
request-signing certificate (5 days) are issued for this test by the
world's CA (tests/sims/pki.py issue_leaf); the pinned response-signing
certificate is the world's (30 days), the TLS trust anchor the CA (more
than a year).

Asserted:
- at start, each certificate's warning is logged exactly once:
  `cert.expiring threshold="7 days"` for the 5-day signing certificate
  (with bank, label, subject, issuer, not-after, days left and
  fingerprint), `threshold="30 days"` for the 20-day TLS client one;
  nothing for the CA, no 1-day warning, nothing expired;
- neither a SIGHUP nor `h2hctl reload` repeats them;
- `h2hctl certs` (JSON and table) lists every certificate in use with the
  SHA-256 fingerprint `openssl x509 -fingerprint -sha256` prints, the
  not-after and the days left; `h2hctl certs BANK` filters, an unknown
  bank is an error (exit 1);
- a payment goes through with those certificates;
- swap: new TLS client (25 days) and signing (200 days) certificates and
  keys in new files, the config pointed at them, `h2hctl reload`:
  `h2hctl certs` shows the new fingerprints and not the old ones, the new
  TLS client certificate gets its own 30-day warning, the signing one
  none, nothing is repeated, the old files can go, and a payment still
  goes through, created once at the bank;
- a restart is a new process: the warning still due (the new TLS client
  certificate) is logged once more, and nothing for the certificates no
  longer in use.
"""
import calendar
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from h2hlib import H2HCTL, World, check, drop_atomic, wait_until

# the openapi bank, payments and log helpers of the end-to-end test
import test_openapi_e2e as oa  # noqa: E402  (puts tests/sims on sys.path)
import pki  # noqa: E402

BANK = "obank"


def openssl_fp(path):
    r = subprocess.run(["openssl", "x509", "-in", path, "-noout",
                        "-fingerprint", "-sha256"], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, "openssl x509: " + r.stderr)
    # "sha256 Fingerprint=AB:CD:..." (the label's case varies by version)
    return r.stdout.strip().split("=", 1)[1]


def days_left(not_after_iso):
    """Whole days from now to not_after, rounded down (as h2hd counts)."""
    t = calendar.timegm(time.strptime(not_after_iso, "%Y-%m-%dT%H:%M:%SZ"))
    return int((t - time.time()) // 86400)


def days_ok(got, not_after_iso):
    """h2hd's days left, counted a moment ago on a whole-second clock: a
    certificate issued for exactly 5 days this second has 5 days left for
    it, a fraction later 4."""
    return int(got) in (days_left(not_after_iso),
                        days_left(not_after_iso) + 1)


def write_conf(w, bank, client, sign):
    i = bank.info
    w.write_conf(oa.DAEMON + oa.BANK.format(
        poll=300, url=i["base_url"], cid=i["client_id"], ca=i["ca"],
        cc=client["cert"], ck=client["key"], sk=sign["key"],
        sc=sign["cert"], bc=i["bank_sign"], accounts=""))


def warnings(w, **match):
    return (oa.events(w, "cert.expiring", **match) +
            oa.events(w, "cert.expired", **match))


def certs_json(w, *args):
    return w.ctl_json("certs", *args)["certs"]


def by_label(certs):
    return {c["label"]: c for c in certs if c["bank"] == BANK}


def pay(w, bank, bid):
    data, e2es, _ = oa.pain001(bid, 2)
    drop_atomic(w, bid + ".xml", data)
    oa.acknowledged(w, bid, 60)
    bank.check_exactly_once(e2es, bid + ": ")


def main():
    base = tempfile.mkdtemp(prefix="h2h-certs-")
    bank = oa.Bank(os.path.join(base, "bank"))
    w = None
    try:
        i = bank.info
        with open(os.path.join(i["dir"], "pki", "manifest.json")) as f:
            man = json.load(f)
        # ours, by the world's CA, with validities the test chooses (the
        # world's own 30-day leaves cross the 30-day threshold only a
        # second after they were made: too close to call)
        client = pki.issue_leaf(man, "client_20d", i["client_cn"], days=20,
                                purpose="client", ou="treasury")
        sign5 = pki.issue_leaf(man, "sign_5d", "h2hd request signing 5d",
                               days=5, purpose="sign")
        fp = {name: openssl_fp(path) for name, path in (
            ("client", client["cert"]), ("sign5", sign5["cert"]),
            ("bank", i["bank_sign"]), ("ca", i["ca"]))}
        check(fp["sign5"] == sign5["sha256"], "pki and openssl agree")

        w = World("certs")
        os.makedirs(w.p("keys"), exist_ok=True)
        shutil.copyfile(i["secret_file"], w.p("keys/secret"))
        os.chmod(w.p("keys/secret"), 0o600)
        write_conf(w, bank, client, sign5)
        w.start()
        wait_until(lambda: warnings(w, fingerprint=fp["sign5"]), 20,
                   "the 5-day certificate's warning")

        # ---- the warnings at start: each once, the right threshold
        def once_each(extra=()):
            got = warnings(w, fingerprint=fp["sign5"])
            check(len(got) == 1, "one warning for the 5-day certificate: "
                  "%r" % got)
            g = got[0]
            check(g["event"] == "cert.expiring" and g["level"] == "warn" and
                  g["threshold"] == "7 days" and g["bank"] == BANK and
                  g["label"] == "request signing" and
                  g["subject"] == sign5["subject"] and
                  g["issuer"] == sign5["issuer"] and
                  g["not_after"] == sign5["not_after"] and
                  days_ok(g["days_left"], sign5["not_after"]) and
                  int(g["days_left"]) in (4, 5),
                  "the 7-day warning names bank, label, subject, not-after, "
                  "days left and fingerprint: %r" % g)
            got = warnings(w, fingerprint=fp["client"])
            check(len(got) == 1 and got[0]["threshold"] == "30 days" and
                  got[0]["label"] == "tls client" and
                  got[0]["event"] == "cert.expiring" and
                  int(got[0]["days_left"]) in (19, 20),
                  "one 30-day warning for the TLS client: %r" % got)
            # the world's pinned bank certificate: 30 days from the second
            # it was made, so warned at most once
            got = warnings(w, fingerprint=fp["bank"])
            check(len(got) <= 1 and all(g["threshold"] == "30 days"
                                        for g in got),
                  "the pinned bank certificate at most once: %r" % got)
            check(not warnings(w, fingerprint=fp["ca"]),
                  "nothing for the CA (a year left)")
            check(not warnings(w, threshold="1 day"), "no 1-day warning")
            check(not oa.events(w, "cert.expired"), "nothing expired")
            known = set(fp.values()) | set(extra)
            other = [g for g in warnings(w) if g["fingerprint"] not in known]
            check(not other, "no other warning: %r" % other)
        once_each()

        # ---- h2hctl certs
        certs = certs_json(w)
        lab = by_label(certs)
        check(set(lab) == {"tls client", "request signing",
                           "bank response signing (pinned)",
                           "tls trust anchor"} and len(certs) == 4,
              "four certificates in use: %r" % [c["label"] for c in certs])
        s = lab["request signing"]
        check(s["fingerprint"] == fp["sign5"] and
              s["subject"] == sign5["subject"] and
              s["issuer"] == sign5["issuer"] and
              s["not_after"] == sign5["not_after"] and
              days_ok(s["days_left"], sign5["not_after"]) and
              s["warning"] == "7 days",
              "the signing certificate as openssl sees it: %r" % s)
        c = lab["tls client"]
        check(c["fingerprint"] == fp["client"] and
              c["not_after"] == client["not_after"] and
              days_ok(c["days_left"], client["not_after"]) and
              c["warning"] == "30 days",
              "the TLS client certificate: %r" % c)
        check(lab["bank response signing (pinned)"]["fingerprint"] ==
              fp["bank"], "the pinned bank certificate")
        a = lab["tls trust anchor"]
        check(a["fingerprint"] == fp["ca"] and a["days_left"] > 300 and
              a["warning"] == "none", "the trust anchor: %r" % a)
        # days_left (and so the warning level) is counted at each call:
        # two calls may straddle a second at which a whole day ends
        def stable(cs):
            return [{k: v for k, v in c.items()
                     if k not in ("days_left", "warning")} for c in cs]
        check(stable(certs_json(w, BANK)) == stable(certs),
              "certs BANK: the same")
        human = subprocess.run([H2HCTL, "-s", w.sock, "certs"],
                               capture_output=True, text=True, timeout=30)
        check(human.returncode == 0, "h2hctl certs: " + human.stderr)
        lines = human.stdout.splitlines()
        check(lines[0].split()[:4] == ["BANK", "LABEL", "DAYS", "LEFT"] and
              lines[-1] == "4 certificates", "table: %r" % lines)
        row = [l for l in lines if fp["sign5"] in l]
        check(len(row) == 1 and row[0].startswith(BANK + "  request signing")
              and (" 4 " in row[0] or " 5 " in row[0]) and
              sign5["not_after"] in row[0] and sign5["subject"] in row[0],
              "the table row: %r" % row)
        r = w.ctl("certs", "nosuch", check_rc=False)
        check(r.returncode == 1 and "no bank named" in r.stderr,
              "unknown bank: %d %s" % (r.returncode, r.stderr))

        pay(w, bank, "CERT-A-" + oa.RUN)

        # ---- reloads do not repeat the warnings
        w.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: len(w.log_events("config.reloaded")) == 1, 20,
                   "the SIGHUP reload")
        once_each()
        w.ctl("reload")
        check(len(w.log_events("config.reloaded")) == 2, "h2hctl reload")
        once_each()

        # ---- swap the TLS client and the signing identity: new keys and
        # certificates in new files.  The new TLS client certificate is
        # itself within 30 days: a new certificate, so a new warning.
        client_new = pki.issue_leaf(man, "client_new", i["client_cn"],
                                    days=25, purpose="client",
                                    ou="treasury")
        sign_new = pki.issue_leaf(man, "sign_new", "h2hd request signing",
                                  days=200, purpose="sign")
        fp_new = {"client": openssl_fp(client_new["cert"]),
                  "sign": openssl_fp(sign_new["cert"])}
        write_conf(w, bank, client_new, sign_new)
        w.ctl("reload")
        lab = by_label(certs_json(w))
        check(lab["tls client"]["fingerprint"] == fp_new["client"] and
              lab["request signing"]["fingerprint"] == fp_new["sign"] and
              lab["request signing"]["days_left"] >= 199 and
              lab["request signing"]["warning"] == "none",
              "h2hctl certs shows the new certificates: %r" % lab)
        listed = [c["fingerprint"] for c in certs_json(w)]
        check(fp["sign5"] not in listed and fp["client"] not in listed,
              "the old certificates are gone from the list: %r" % listed)
        check(len(listed) == 4, "still four certificates: %r" % listed)
        got = warnings(w, fingerprint=fp_new["client"])
        check(len(got) == 1 and got[0]["threshold"] == "30 days" and
              int(got[0]["days_left"]) in (24, 25),
              "the new TLS client certificate warned on its own: %r" % got)
        check(not warnings(w, fingerprint=fp_new["sign"]),
              "no warning for the new signing certificate")
        once_each(fp_new.values())
        # nothing depends on the old files any more
        for p in (client["cert"], client["key"], sign5["cert"], sign5["key"]):
            os.rename(p, p + ".retired")
        pay(w, bank, "CERT-B-" + oa.RUN)
        check(not w.log_events("payment.failed") and
              not w.log_events("payment.held"), "nothing failed or held")
        once_each(fp_new.values())

        # ---- a restart is a new process: what is still due is logged
        # once more
        check(w.stop() == 0, "clean stop")
        w.start()
        wait_until(lambda: len(warnings(w, fingerprint=fp_new["client"])) ==
                   2, 20, "the new TLS client certificate announced again")
        check(w.ctl("status").returncode == 0, "running")
        check(not warnings(w, fingerprint=fp_new["sign"]),
              "still nothing for the new signing certificate")
        check(len(warnings(w, fingerprint=fp["sign5"])) == 1 and
              len(warnings(w, fingerprint=fp["client"])) == 1,
              "nothing for the certificates no longer in use")
        check(w.stop() == 0, "clean stop after the restart")
        print("certs: 7- and 30-day warnings once each across 2 reloads, "
              "h2hctl certs matches openssl, swap by reload, payments "
              "before and after")
        print("PASS test_certs_ctl")
    except SystemExit:
        if w is not None:
            print(w.tail(60))
        raise
    finally:
        if w is not None:
            w.cleanup()
        bank.stop()
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
