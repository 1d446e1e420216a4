"""h2hd's book of the bill pool (issue 7, daemon/billbook.h), end to end
against a folder gateway: a dirdrop bank whose gateway takes payments and
bill-pool requests.  The test plays the gateway: it reads what h2hd puts
into the bank's inbox folder and answers with <BillResult> / <BillNotice>
documents in the bank's outbox folder, dated relative to today (UTC).

What is checked, on real outcomes (log events, .reason texts, h2hctl
--json bills / show, out/bills):
  1. an operation on a draft the book does not know is refused at the
     drop folder with the advice to ask the bank first;
  2. a draft_detail result puts the draft into the book (held, 10,000.00
     CNY, sub-range 1-1000000), is delivered to out/bills, and a maturity
     alert (5 days left: the 7-day threshold) is logged once, not again
     after a restart;
  3. a partial endorsement goes to the bank unchanged, its pending answer
     splits the book's piece, its accepted answer acknowledges the message
     and leaves the endorsed piece out of our totals;
  4. a pledge of the rest is acknowledged and the piece is pledged;
  5. an endorsement of the pledged piece is refused at the drop folder by
     the state machine; nothing reaches the bank;
  6. a rejected answer rejects the message and changes no draft;
  7. a notice of a draft endorsed to us puts it in the book as pending
     (ours to sign); a sign request for it goes, one for a draft without a
     notice is refused;
  8. kill -9 right after the gateway drops an answer: after the restart
     the answer is linked exactly once;
  9. a terse gateway that lists only number, state and range per piece:
     the book completes each piece from the one it knew (kind, maturity,
     holder; a part is worth its sub-tickets), and an accepted answer
     naming only the endorsed part leaves the rest held, nothing vanished;
 10. answers the book cannot take (an unknown element, an unknown state,
     a bare piece of a draft it does not know) are delivered once, logged
     bill.ignored with the reason, never fetched again, and change neither
     the book nor any message;
 11. the pieces of a draft alerted at the 7-day threshold, split later,
     are not alerted again at that threshold (not after a restart either).
 12. a terse pending answer keeps where the piece came from; a reversed
     range is refused before the book changes.
 13. the bank's pool figures (a pool_overview result): kept and shown by
     h2hctl bills (text and --json, before the book's own totals); an
     overview dated earlier, or the same figures again, change nothing;
     malformed figures (quota used + available above the quota, an as-of
     that is no date) are ignored with the reason and change nothing; the
     figures survive a restart.
"""
import datetime
import os
import sqlite3
import subprocess
import time

from h2hlib import H2HCTL, World, check, drop_atomic, fail, wait_until

NS = "urn:h2hd:bills:1"
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(delta):
    return (TODAY + datetime.timedelta(days=delta)).isoformat()


# one draft of ours (a divisible bank acceptance) and one endorsed to us
DRAFT = "530158000001" + (TODAY - datetime.timedelta(days=60)).strftime(
    "%Y%m%d") + "0000123456"
OTHER = "630158000002" + (TODAY - datetime.timedelta(days=30)).strftime(
    "%Y%m%d") + "0000654321"
UNKNOWN = "530158000009" + TODAY.strftime("%Y%m%d") + "0000999999"
# another of ours, split after its maturity alert
THIRD = "530158000003" + (TODAY - datetime.timedelta(days=20)).strftime(
    "%Y%m%d") + "0000333333"
check(len(DRAFT) == 30 and len(OTHER) == 30 and len(UNKNOWN) == 30 and
      len(THIRD) == 30, "draft numbers have 30 digits")

CONF = """
daemon = {
  state_dir = "state";
  spool_dir = "spool";
  log_file = "h2hd.log";
  log_level = "info";
  shutdown_timeout = 10;
  rescan_interval = 200;
  retry = { initial = 200; max = 2000; factor = 2.0; jitter = 0.2;
            max_attempts = 50; max_age = 86400; };
};
banks = (
  { name = "gw"; adapter = "dirdrop"; max_sessions = 2;
    poll_interval = 200;
    dirdrop = { outbox = "bank/inbox"; inbox = "bank/outbox";
                kinds = ( "payment", "bill" ); }; }
);
channels = (
  { name = "erp"; bank = "gw"; input_format = "passthrough";
    stability = 0; }
);
"""

US = ("江南供应链管理有限公司", "220000000000000002", "103100000026")
SUPPLIER = ("岭南配件有限公司", "330000000000000003", "104100000045")
POOL_BANK = ("招商银行股份有限公司上海分行", None, "308290003011")


def party(tag, p):
    nm, acct, bk = p
    return ("<%s><Nm>%s</Nm>%s<BkCd>%s</BkCd></%s>" %
            (tag, nm, "<Acct><OthrId>%s</OthrId></Acct>" % acct
             if acct else "", bk, tag))


def amount(minor):
    return '<Amt Ccy="CNY">%d.%02d</Amt>' % (minor // 100, minor % 100)


def our_draft(fr, to, status, holder=US, prev=None, pdir=None, due=5,
              number=DRAFT):
    """A piece of DRAFT (or number) as the gateway describes it (every
    field)."""
    return (
        "<Drft><Nb>%s</Nb><Tp>AC01</Tp>%s<IsseDt>%s</IsseDt>"
        "<MtrtyDt>%s</MtrtyDt>"
        "<Drwr><Nm>华东贸易有限公司</Nm><Acct><OthrId>110000000000000001"
        "</OthrId></Acct><BkCd>102100099996</BkCd></Drwr>"
        "<Accptr><Nm>中国工商银行股份有限公司北京分行</Nm>"
        "<BkCd>102100000013</BkCd></Accptr>%s%s<Sts>%s</Sts>%s%s"
        "<Dvsbl>true</Dvsbl><SubRg><Fr>%d</Fr><To>%d</To></SubRg></Drft>" %
        (number, amount(to - fr + 1), day(-60), day(due), party("Pyee", US),
         party("Hldr", holder), status,
         "<PrvSts>%s</PrvSts>" % prev if prev else "",
         "<PdgDir>%s</PdgDir>" % pdir if pdir else "", fr, to))


def bare(number, fr, to, status):
    """A piece as a terse gateway lists it: number, state and range only
    (bills.xsd requires only <Nb>)."""
    return ("<Drft><Nb>%s</Nb><Sts>%s</Sts><SubRg><Fr>%d</Fr><To>%d</To>"
            "</SubRg></Drft>" % (number, status, fr, to))


def result(req, op, outcome, drafts="", code="0000", text="交易成功"):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<BillResult xmlns="%s"><ReqId>%s</ReqId><Op>%s</Op>'
            "<Outcm>%s</Outcm><BkRtrCd>%s</BkRtrCd><BkRtrTxt>%s</BkRtrTxt>"
            "%s</BillResult>\n" %
            (NS, req, op, outcome, code, text,
             "<Drfts>%s</Drfts>" % drafts if drafts else "")).encode()


def notice(nid):
    """OTHER (AC02, 2,000.00 CNY) endorsed to us, awaiting our signature."""
    drwr = ("西部重工集团有限公司", "440000000000000004", "105100000017")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<BillNotice xmlns="%s"><NtceId>%s</NtceId><Op>endorse</Op>'
        "<Drft><Nb>%s</Nb><Tp>AC02</Tp>%s<IsseDt>%s</IsseDt>"
        "<MtrtyDt>%s</MtrtyDt>%s%s%s<Dvsbl>true</Dvsbl>"
        "<SubRg><Fr>1</Fr><To>200000</To></SubRg></Drft>%s<Tm>%sT10:15:00+08:00"
        "</Tm></BillNotice>\n" %
        (NS, nid, OTHER, amount(200000), day(-30), day(90),
         party("Drwr", drwr), party("Accptr", drwr),
         party("Pyee", SUPPLIER), party("Fr", SUPPLIER), day(0))).encode()


def pool_result(req, pool_id, as_of, count, pledged, deposit, total, used,
                avail, ccy="CNY"):
    """A pool_overview answer with the bank's figures (minor units)."""
    def amt(tag, minor, c=ccy):
        return '<%s Ccy="%s">%d.%02d</%s>' % (tag, c, minor // 100,
                                               minor % 100, tag)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<BillResult xmlns="%s"><ReqId>%s</ReqId><Op>pool_overview</Op>'
            "<Outcm>accepted</Outcm><BkRtrCd>0000</BkRtrCd>"
            "<BkRtrTxt>交易成功</BkRtrTxt><Pool><PoolId>%s</PoolId>"
            "<AsOf>%s</AsOf><PldgdNb>%d</PldgdNb>%s%s%s%s%s</Pool>"
            "</BillResult>\n" %
            (NS, req, pool_id, as_of, count, amt("PldgdAmt", pledged),
             amt("Dpst", deposit), amt("QtaTtl", total),
             amt("QtaUsd", used), amt("QtaAvlbl", avail))).encode()


def pool_rows(w):
    """The store's pool rows, read behind h2hd's back."""
    con = sqlite3.connect(w.p("state/h2hd.db"), timeout=10)
    try:
        return con.execute(
            "select bank, pool_id, as_of, ccy, pledged_count, pledged_total, "
            "deposit, quota_total, quota_used, quota_available, learnt_ms "
            "from bill_pool order by bank, pool_id").fetchall()
    finally:
        con.close()


def request(op, req, draft=None, rng=None, minor=None, cpty=None,
            extra=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<BillRequest xmlns="%s"><Op>%s</Op><ReqId>%s</ReqId>%s%s%s%s%s'
            "</BillRequest>\n" %
            (NS, op, req, "<DrftNb>%s</DrftNb>" % draft if draft else "",
             "<SubRg><Fr>%d</Fr><To>%d</To></SubRg>" % rng if rng else "",
             amount(minor) if minor is not None else "",
             party("Cpty", cpty) if cpty else "", extra)).encode()


class Gateway:
    """The folder gateway's side: what h2hd sent, what we answer."""

    def __init__(self, w):
        self.w = w
        self.n = 0

    def answer(self, data, name=None):
        self.n += 1
        name = name or "ans-%03d.xml" % self.n
        tmp = os.path.join(self.w.bank_out, "." + name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.w.bank_out, name))
        return name

    def delivered(self, name):
        dst = os.path.join(self.w.out, "bills", name)
        wait_until(lambda: os.path.exists(dst) and not os.path.exists(
            os.path.join(self.w.bank_out, name)), 20,
                   "%s delivered to out/bills" % name)
        with open(dst, "rb") as f:
            return f.read()


def reason_of(w, name):
    path = os.path.join(w.rejected, name + ".reason")
    wait_until(lambda: os.path.exists(path), 20,
               "%s to be refused with a reason" % name)
    with open(path, encoding="utf-8") as f:
        return f.read()


def events(w, ev, **kv):
    """Log lines of event ev whose fields include every k=v."""
    out = []
    for line in w.log_events(ev):
        if all((" %s=%s" % (k, v)) in line + " " for k, v in kv.items()):
            out.append(line)
    return out


def wait_event(w, ev, n=1, **kv):
    return wait_until(lambda: len(events(w, ev, **kv)) >= n and
                      events(w, ev, **kv), 20,
                      "%s %r in the log (have: %s)" % (
                          ev, kv, "\n".join(w.log_events()[-8:])))


def accepted_msg(w, name):
    """The message id h2hd gave the dropped file name."""
    lines = wait_event(w, "payment.accepted", file=name)
    for f in lines[0].split():
        if f.startswith("msg="):
            return f[4:]
    fail("no msg= in %r" % lines[0])


def show(w, msg):
    return w.ctl_json("show", msg)["message"]


def wait_state(w, msg, state):
    return wait_until(lambda: show(w, msg)["state"] == state and
                      show(w, msg), 20,
                      "message %s to be %s (is %s)" % (
                          msg, state, show(w, msg)["state"]))


def bills(w):
    return w.ctl_json("bills", "--days", "365")


def pieces(w, number=DRAFT):
    return sorted((d["sub_from"], d["sub_to"], d["status"], d["amount"])
                  for d in bills(w)["maturing"] if d["number"] == number)


def maturing(w, number):
    return [d for d in bills(w)["maturing"] if d["number"] == number]


def book_row(w, number, fr, to):
    """The book's row of one piece, also for pieces h2hctl bills does not
    list (no longer ours)."""
    con = sqlite3.connect(w.p("state/h2hd.db"), timeout=10)
    try:
        return con.execute(
            "select kind, status, amount, ccy, maturity_date, holder, "
            "last_alert_days from draft where bank = 'gw' and number = ? "
            "and sub_from = ? and sub_to = ?", (number, fr, to)).fetchone()
    finally:
        con.close()


def totals(w):
    return bills(w)["banks"].get("gw", {})


def bank_file(w, name):
    """The file h2hd put into the gateway's inbox for drop name."""
    def find():
        for n in w.bank_files():
            if n == name or n.endswith("-" + name):
                return n
        return None
    n = wait_until(find, 20, "%s in the bank's inbox (have %r)" % (
        name, w.bank_files()))
    with open(os.path.join(w.bank_in, n), "rb") as f:
        return f.read()


def main():
    w = World("billbook")
    w.write_conf(CONF)
    gw = Gateway(w)
    t0 = time.time()
    try:
        w.start()
        # ---- 1. a draft the book does not know ----------------------------
        drop_atomic(w, "pledge-unknown.xml",
                    request("pledge", "BB-PLEDGE-UNK", UNKNOWN,
                            cpty=POOL_BANK, extra="<PoolId>P1</PoolId>"))
        r = reason_of(w, "pledge-unknown.xml")
        check("not in h2hd's book" in r and "ask the bank first" in r and
              UNKNOWN in r, "unknown draft refused: %r" % r)

        # ---- 2. the gateway describes our draft --------------------------
        dd = result("BB-DETAIL-1", "draft_detail", "accepted",
                    our_draft(1, 1000000, "held"))
        name = gw.answer(dd, "detail-1.xml")
        check(gw.delivered(name) == dd, "the result reaches out/bills as is")
        wait_event(w, "bill.result", req="BB-DETAIL-1", outcome="accepted")
        t = totals(w)
        check(t.get("held") == 1 and t.get("held_amount") == 1000000 and
              t.get("pledged") == 0, "one piece held, 10000.00: %r" % t)
        check(pieces(w) == [(1, 1000000, "held", 1000000)],
              "the book's piece: %r" % pieces(w))
        txt = subprocess.run([H2HCTL, "-s", w.sock, "bills"],
                             capture_output=True, text=True, timeout=30)
        check(txt.returncode == 0 and
              "gw: pool 0 pledged (0.00), 1 held (10000.00)" in txt.stdout and
              DRAFT in txt.stdout and "1-1000000" in txt.stdout and
              day(5) in txt.stdout, "h2hctl bills: %r" % txt.stdout)
        al = wait_event(w, "bill.maturing", draft=DRAFT)
        check(len(al) == 1 and " days_left=5" in al[0] and
              " sub_range=1-1000000" in al[0],
              "one maturity alert, 5 days left: %r" % al)

        # not again after a restart: the threshold was recorded
        check(w.stop() == 0, "clean stop")
        w.restart(2)
        time.sleep(0.3)
        check(len(events(w, "bill.maturing", draft=DRAFT)) == 1,
              "the 7-day alert is not repeated after a restart: %r" %
              events(w, "bill.maturing"))

        # ---- 3. endorse part of it to a supplier -------------------------
        endorse = request("endorse", "BB-ENDORSE-1", DRAFT, (1, 300000),
                          300000, SUPPLIER, "<AddtlInf>配件款</AddtlInf>")
        drop_atomic(w, "endorse-1.xml", endorse)
        m_end = accepted_msg(w, "endorse-1.xml")
        wait_state(w, m_end, "submitted")
        check(bank_file(w, "endorse-1.xml") == endorse,
              "the request reaches the gateway as dropped (bills are not "
              "rendered)")
        gw.answer(result("BB-ENDORSE-1", "endorse", "pending",
                         our_draft(1, 300000, "pending_endorsement",
                                   prev="held", pdir="out") +
                         our_draft(300001, 1000000, "held"), "0000",
                         "已提交, 待签收"))
        wait_event(w, "bill.pending", msg=m_end, req="BB-ENDORSE-1")
        check(show(w, m_end)["state"] == "submitted",
              "a pending answer leaves the message submitted")
        check(pieces(w) == [(1, 300000, "pending_endorsement", 300000),
                            (300001, 1000000, "held", 700000)],
              "the pending answer splits the piece: %r" % pieces(w))
        t = totals(w)
        check(t.get("held") == 1 and t.get("held_amount") == 700000 and
              t.get("pending") == 1, "7000.00 held, one pending: %r" % t)
        gw.answer(result("BB-ENDORSE-1", "endorse", "accepted",
                         our_draft(1, 300000, "endorsed", holder=SUPPLIER),
                         "0000", "已签收"))
        wait_event(w, "bill.accepted", msg=m_end, req="BB-ENDORSE-1")
        sh = w.ctl_json("show", m_end)
        check(sh["message"]["state"] == "acknowledged" and
              sh["message"]["kind"] == "bill" and
              sh["message"]["business_id"] == "BB-ENDORSE-1",
              "the endorsement's message is acknowledged: %r" % sh["message"])
        acks = [h for h in sh["history"] if h["to"] == "acknowledged"]
        check(len(acks) == 1 and "bill endorse accepted" in acks[0]["detail"],
              "acknowledged once, by the bill result: %r" % sh["history"])
        bk = bills(w)
        t = bk["banks"]["gw"]
        check(t["held"] == 1 and t["held_amount"] == 700000 and
              t["pending"] == 0 and t["pledged"] == 0,
              "the endorsed piece is not ours: %r" % t)
        check(pieces(w) == [(300001, 1000000, "held", 700000)],
              "only our piece is listed as maturing: %r" % bk["maturing"])

        # ---- 4. pledge the rest into the pool ----------------------------
        # the whole draft (no SubRg) is ambiguous now: two pieces
        drop_atomic(w, "pledge-whole.xml",
                    request("pledge", "BB-PLEDGE-0", DRAFT, cpty=POOL_BANK,
                            extra="<PoolId>PJC-1</PoolId>"))
        r = reason_of(w, "pledge-whole.xml")
        check("split into 2 pieces" in r and "SubRg" in r,
              "a request for a split draft must name its piece: %r" % r)
        drop_atomic(w, "pledge-1.xml",
                    request("pledge", "BB-PLEDGE-1", DRAFT, (300001, 1000000),
                            cpty=POOL_BANK, extra="<PoolId>PJC-1</PoolId>"))
        m_pl = accepted_msg(w, "pledge-1.xml")
        wait_state(w, m_pl, "submitted")
        gw.answer(result("BB-PLEDGE-1", "pledge", "accepted",
                         our_draft(300001, 1000000, "pledged")))
        wait_event(w, "bill.accepted", msg=m_pl, req="BB-PLEDGE-1")
        check(show(w, m_pl)["state"] == "acknowledged", "pledge acknowledged")
        t = totals(w)
        check(t["pledged"] == 1 and t["pledged_amount"] == 700000 and
              t["held"] == 0 and t["held_amount"] == 0,
              "one piece pledged, 7000.00: %r" % t)
        check(pieces(w) == [(300001, 1000000, "pledged", 700000)],
              "the pledged piece: %r" % pieces(w))

        # ---- 5. endorsing a pledged piece is refused before it is sent ---
        before = w.bank_files()
        drop_atomic(w, "endorse-2.xml",
                    request("endorse", "BB-ENDORSE-2", DRAFT,
                            (300001, 1000000), 700000, SUPPLIER))
        r = reason_of(w, "endorse-2.xml")
        check("cannot be endorsed: it is pledged in the pool (release it "
              "first)" in r, "the state machine's reason: %r" % r)
        time.sleep(0.3)
        check(w.bank_files() == before, "nothing new reached the gateway")

        # ---- 6. the bank rejects a request -------------------------------
        drop_atomic(w, "release-1.xml",
                    request("release", "BB-RELEASE-1", DRAFT,
                            (300001, 1000000), cpty=POOL_BANK,
                            extra="<PoolId>PJC-1</PoolId>"))
        m_rel = accepted_msg(w, "release-1.xml")
        wait_state(w, m_rel, "submitted")
        book = bills(w)
        gw.answer(result("BB-RELEASE-1", "release", "rejected", "",
                         "E4012", "额度已占用, 不能出池"))
        wait_event(w, "bill.rejected", msg=m_rel, req="BB-RELEASE-1")
        sh = show(w, m_rel)
        check(sh["state"] == "rejected" and "E4012" in sh["error"],
              "the release is rejected with the bank's code: %r" % sh)
        check(bills(w) == book, "a rejection changes no draft")

        # ---- 7. a draft endorsed to us -----------------------------------
        gw.answer(notice("NT-BB-1"), "notice-1.xml")
        wait_event(w, "bill.notice", notice="NT-BB-1", op="endorse")
        check(pieces(w, OTHER) == [(1, 200000, "pending_endorsement",
                                    200000)],
              "the presented draft is in the book, pending: %r" %
              pieces(w, OTHER))
        t = totals(w)
        check(t["pending"] == 1 and t["held"] == 0,
              "awaiting our signature, not held yet: %r" % t)
        drop_atomic(w, "sign-none.xml",
                    request("sign", "BB-SIGN-0", UNKNOWN,
                            extra="<NtceId>NT-BB-0</NtceId>"))
        r = reason_of(w, "sign-none.xml")
        check("not in h2hd's book" in r and "ask the bank first" in r,
              "no notice, no signature: %r" % r)
        drop_atomic(w, "sign-own.xml",
                    request("sign", "BB-SIGN-OWN", DRAFT, (300001, 1000000),
                            extra="<NtceId>NT-BB-0</NtceId>"))
        r = reason_of(w, "sign-own.xml")
        check("cannot be signed: it is pledged in the pool" in r,
              "a draft nobody presented to us cannot be signed: %r" % r)
        sign = request("sign", "BB-SIGN-1", OTHER,
                       extra="<NtceId>NT-BB-1</NtceId>")
        drop_atomic(w, "sign-1.xml", sign)
        m_sign = accepted_msg(w, "sign-1.xml")
        wait_state(w, m_sign, "submitted")
        check(bank_file(w, "sign-1.xml") == sign, "the signature goes")

        # ---- 8. kill -9 as the answer lands ------------------------------
        ans = result("BB-SIGN-1", "sign", "accepted",
                     "<Drft><Nb>%s</Nb><Tp>AC02</Tp>%s<MtrtyDt>%s</MtrtyDt>"
                     "%s<Sts>held</Sts><Dvsbl>true</Dvsbl><SubRg><Fr>1</Fr>"
                     "<To>200000</To></SubRg></Drft>" %
                     (OTHER, amount(200000), day(90), party("Hldr", US)))
        name = gw.answer(ans, "sign-ans.xml")
        dst = os.path.join(w.out, "bills", name)
        # the moment the file is in out/bills: its linking may or may not
        # be committed yet
        wait_until(lambda: os.path.exists(dst), 20, "the answer to land",
                   interval=0.001)
        w.kill9()
        w.restart(3)
        wait_state(w, m_sign, "acknowledged")
        wait_until(lambda: not os.path.exists(
            os.path.join(w.bank_out, name)), 20, "the answer to be fetched")
        sh = w.ctl_json("show", m_sign)
        check([h["to"] for h in sh["history"]].count("acknowledged") == 1,
              "the answer was linked once: %r" % sh["history"])
        check(len(events(w, "bill.accepted", msg=m_sign)) <= 1,
              "bill.accepted at most once: %r" %
              events(w, "bill.accepted", msg=m_sign))
        # the same answer again, under another name: nothing moves twice
        gw.answer(ans, "sign-ans-again.xml")
        gw.delivered("sign-ans-again.xml")
        time.sleep(0.2)
        sh = w.ctl_json("show", m_sign)
        check([h["to"] for h in sh["history"]].count("acknowledged") == 1,
              "a repeated answer moves nothing: %r" % sh["history"])
        check(pieces(w, OTHER) == [(1, 200000, "held", 200000)],
              "one piece of the signed draft, held: %r" % pieces(w, OTHER))
        t = totals(w)
        check(t["held"] == 1 and t["held_amount"] == 200000 and
              t["pledged"] == 1 and t["pledged_amount"] == 700000 and
              t["pending"] == 0, "h2hctl bills agrees: %r" % t)
        # the next threshold: the gateway's later detail of the pledged
        # piece says 2 days are left (standing in for three days passing)
        n7 = len(events(w, "bill.maturing", draft=DRAFT,
                        sub_range="300001-1000000"))
        gw.answer(result("BB-DETAIL-2", "draft_detail", "accepted",
                         our_draft(300001, 1000000, "pledged", due=2)))
        al = wait_event(w, "bill.maturing", draft=DRAFT,
                        sub_range="300001-1000000", days_left=2)
        check(len(al) == 1 and len(events(
            w, "bill.maturing", draft=DRAFT,
            sub_range="300001-1000000")) == n7 + 1,
              "one alert at the 3-day threshold: %r" % al)
        check(w.stop() == 0, "clean stop")
        w.restart(4)
        time.sleep(0.3)
        check(len(events(w, "bill.maturing", draft=DRAFT,
                         sub_range="300001-1000000")) == n7 + 1,
              "the 3-day alert is not repeated after a restart")
        check(not w.log_events("bank.download.failed") and
              not w.log_events("bill.ignored"),
              "no download failed, no answer ignored")

        # ---- 9. a terse gateway: number, state and range only ------------
        # OTHER is held: 1-200000, AC02, 2,000.00, due in 90 days, ours
        endorse = request("endorse", "BB-ENDORSE-3", OTHER, (1, 50000),
                          50000, SUPPLIER)
        drop_atomic(w, "endorse-3.xml", endorse)
        m_e3 = accepted_msg(w, "endorse-3.xml")
        wait_state(w, m_e3, "submitted")
        gw.answer(result("BB-ENDORSE-3", "endorse", "pending",
                         bare(OTHER, 1, 50000, "pending_endorsement") +
                         bare(OTHER, 50001, 200000, "held")))
        wait_event(w, "bill.pending", msg=m_e3, req="BB-ENDORSE-3")
        check(show(w, m_e3)["state"] == "submitted",
              "a pending answer leaves the message submitted")
        check(pieces(w, OTHER) == [(1, 50000, "pending_endorsement", 50000),
                                   (50001, 200000, "held", 150000)],
              "a terse split: each piece is worth its sub-tickets: %r" %
              pieces(w, OTHER))
        ms = maturing(w, OTHER)
        check(len(ms) == 2 and all(
            d["kind"] == "AC02" and d["maturity"] == day(90) and
            d["holder"] == US[0] and d["ccy"] == "CNY" for d in ms),
              "what the bank left out comes from the book: %r" % ms)
        t = totals(w)
        check(t["held"] == 1 and t["held_amount"] == 150000 and
              t["pending"] == 1 and t["pledged"] == 1 and
              t["pledged_amount"] == 700000,
              "1500.00 held, one pending, the pool as before: %r" % t)

        # ---- 10. answers the book cannot take ----------------------------
        # each claims to accept BB-ENDORSE-3; none may move it or the book
        book = bills(w)
        states = w.db_states()
        hist = w.ctl_json("show", m_e3)["history"]
        odd = [
            ("odd-element.xml",
             result("BB-ENDORSE-3", "endorse", "accepted",
                    bare(OTHER, 1, 50000, "endorsed")).replace(
                        b"</BkRtrTxt>",
                        b"</BkRtrTxt><Memo>new field</Memo>"),
             "Memo"),
            ("odd-status.xml",
             result("BB-ENDORSE-3", "endorse", "accepted",
                    bare(OTHER, 1, 50000, "vanished")), "vanished"),
            ("odd-draft.xml",
             result("BB-ENDORSE-3", "endorse", "accepted",
                    bare(OTHER, 1, 50000, "endorsed") +
                    bare(UNKNOWN, 1, 100, "held")), UNKNOWN),
        ]
        for name, data, _ in odd:
            gw.answer(data, name)
            check(gw.delivered(name) == data,
                  "%s reaches out/bills as is" % name)
            wait_event(w, "bill.ignored", file=name)
        # several poll rounds (poll_interval 200 ms): nothing comes again
        time.sleep(1.2)
        outs = sorted(os.listdir(os.path.join(w.out, "bills")))
        for name, _, why in odd:
            ig = events(w, "bill.ignored", file=name)
            check(len(ig) == 1 and " error=" in ig[0] and why in ig[0],
                  "%s ignored once, with the reason: %r" % (name, ig))
            dl = events(w, "bank.download.delivered", remote=name)
            check(len(dl) == 1, "%s delivered once: %r" % (name, dl))
            check([n for n in outs if n.startswith(name)] == [name],
                  "one copy of %s in out/bills: %r" % (name, outs))
            check(not os.path.exists(os.path.join(w.bank_out, name)),
                  "%s is gone from the gateway's outbox" % name)
        check(not w.log_events("bank.download.failed"),
              "no download failed: %r" % w.log_events("bank.download.failed"))
        check(bills(w) == book, "an ignored answer changes no draft")
        check(w.db_states() == states and
              w.ctl_json("show", m_e3)["history"] == hist and
              show(w, m_e3)["state"] == "submitted",
              "an ignored answer moves no message: %r" % show(w, m_e3))
        check(book_row(w, UNKNOWN, 1, 100) is None,
              "the unknown draft is not in the book")

        # the terse acceptance names only the endorsed part
        gw.answer(result("BB-ENDORSE-3", "endorse", "accepted",
                         bare(OTHER, 1, 50000, "endorsed"), "0000",
                         "已签收"))
        wait_event(w, "bill.accepted", msg=m_e3, req="BB-ENDORSE-3")
        check(show(w, m_e3)["state"] == "acknowledged",
              "the endorsement is acknowledged")
        check(pieces(w, OTHER) == [(50001, 200000, "held", 150000)],
              "the rest is still held, nothing vanished: %r" %
              pieces(w, OTHER))
        ms = maturing(w, OTHER)
        check(len(ms) == 1 and ms[0]["kind"] == "AC02" and
              ms[0]["maturity"] == day(90) and ms[0]["holder"] == US[0],
              "the rest as the book knew it: %r" % ms)
        row = book_row(w, OTHER, 1, 50000)
        check(row is not None and row[:6] == (
            "AC02", "endorsed", 50000, "CNY", day(90), US[0]),
              "the endorsed part, completed from the book: %r" % (row,))
        t = totals(w)
        check(t["held"] == 1 and t["held_amount"] == 150000 and
              t["pending"] == 0 and t["pledged_amount"] == 700000,
              "1500.00 held, nothing pending: %r" % t)
        check(not w.log_events("bank.download.failed"),
              "no download failed: %r" % w.log_events("bank.download.failed"))

        # ---- 11. alerts after a split ------------------------------------
        # DRAFT was alerted at 7 days as 1-1000000; its split in step 3
        # brought no alert for the pieces
        check(len(events(w, "bill.maturing", draft=DRAFT, days_left=5)) == 1,
              "DRAFT's pieces inherit its 7-day alert: %r" %
              events(w, "bill.maturing", draft=DRAFT))
        gw.answer(result("BB-DETAIL-3", "draft_detail", "accepted",
                         our_draft(1, 100000, "held", number=THIRD)))
        al = wait_event(w, "bill.maturing", draft=THIRD)
        check(len(al) == 1 and " days_left=5" in al[0] and
              " sub_range=1-100000" in al[0],
              "THIRD alerted once at 7 days: %r" % al)
        drop_atomic(w, "endorse-4.xml",
                    request("endorse", "BB-ENDORSE-4", THIRD, (1, 40000),
                            40000, SUPPLIER))
        m_e4 = accepted_msg(w, "endorse-4.xml")
        wait_state(w, m_e4, "submitted")
        # the answer lists only the endorsed part: the rest is the book's
        gw.answer(result("BB-ENDORSE-4", "endorse", "pending",
                         our_draft(1, 40000, "pending_endorsement",
                                   prev="held", pdir="out", number=THIRD)))
        wait_event(w, "bill.pending", msg=m_e4, req="BB-ENDORSE-4")
        check(pieces(w, THIRD) == [(1, 40000, "pending_endorsement", 40000),
                                   (40001, 100000, "held", 60000)],
              "THIRD split: %r" % pieces(w, THIRD))
        time.sleep(0.3)
        check(len(events(w, "bill.maturing", draft=THIRD)) == 1,
              "no new 7-day alert for THIRD's pieces: %r" %
              events(w, "bill.maturing", draft=THIRD))
        check(book_row(w, THIRD, 1, 40000)[6] == 7 and
              book_row(w, THIRD, 40001, 100000)[6] == 7,
              "both pieces carry the 7-day threshold: %r %r" % (
                  book_row(w, THIRD, 1, 40000),
                  book_row(w, THIRD, 40001, 100000)))
        gw.answer(result("BB-ENDORSE-4", "endorse", "accepted",
                         bare(THIRD, 1, 40000, "endorsed")))
        wait_event(w, "bill.accepted", msg=m_e4, req="BB-ENDORSE-4")
        check(pieces(w, THIRD) == [(40001, 100000, "held", 60000)],
              "the rest of THIRD is held: %r" % pieces(w, THIRD))
        check(w.stop() == 0, "clean stop")
        w.restart(5)
        time.sleep(0.3)
        check(len(events(w, "bill.maturing", draft=THIRD)) == 1 and
              len(events(w, "bill.maturing", draft=DRAFT,
                         days_left=5)) == 1,
              "no 7-day alert repeated for split pieces after a restart: "
              "%r" % events(w, "bill.maturing"))
        # ---- 12. a terse pending answer still knows where it came from;
        # a bad range is refused before the book changes ------------------
        gw.answer(result("BB-ENDORSE-5", "endorse", "pending",
                         bare(THIRD, 40001, 70000, "pending_endorsement")),
                  "unasked.xml")
        wait_event(w, "bill.result", file="unasked.xml")
        check(pieces(w, THIRD) == [(40001, 70000, "pending_endorsement",
                                    30000),
                                   (70001, 100000, "held", 60000 - 30000)],
              "THIRD split again by a terse answer: %r" % pieces(w, THIRD))
        drop_atomic(w, "withdraw-5.xml",
                    request("withdraw", "BB-WITHDRAW-5", THIRD,
                            (40001, 70000)))
        accepted_msg(w, "withdraw-5.xml")  # our operation: we may withdraw
        before = pieces(w, THIRD)
        gw.answer(result("BB-ENDORSE-6", "endorse", "pending",
                         bare(THIRD, 100000, 70001, "pending_endorsement")),
                  "reversed.xml")
        wait_event(w, "bill.ignored", file="reversed.xml")
        check(pieces(w, THIRD) == before,
              "a reversed range changes nothing in the book: %r" %
              pieces(w, THIRD))
        odd.append(("reversed.xml", None, None))
        check(not w.log_events("bank.download.failed") and
              sorted(f.split(" file=")[1].split()[0] for f in
                     w.log_events("bill.ignored")) ==
              sorted(n for n, _, _ in odd),
              "no download failed, only the odd answers ignored: %r" %
              w.log_events("bill.ignored"))

        # ---- 13. the bank's pool figures ---------------------------------
        check(pool_rows(w) == [] and totals(w)["pools"] == [],
              "no pool figures before the bank gave any")
        ov = pool_result("BB-POOL-1", "PJC-1", day(0), 1, 700000, 20000,
                         1000000, 300000, 650000)
        name = gw.answer(ov, "pool-1.xml")
        check(gw.delivered(name) == ov, "the overview reaches out/bills as is")
        ev = wait_event(w, "bill.pool", file=name)
        check(len(ev) == 1 and " pool=PJC-1" in ev[0] and
              " as_of=%s" % day(0) in ev[0] and " figures=stored" in ev[0],
              "the figures are stored: %r" % ev)
        rows = pool_rows(w)
        check(len(rows) == 1 and rows[0][:10] == (
            "gw", "PJC-1", day(0), "CNY", 1, 700000, 20000, 1000000, 300000,
            650000), "one row with the bank's figures: %r" % rows)
        learnt = rows[0][10]
        pools = totals(w)["pools"]
        check(len(pools) == 1 and {k: v for k, v in pools[0].items()
                                   if k != "learnt"} == {
            "pool_id": "PJC-1", "as_of": day(0), "ccy": "CNY",
            "pledged_count": 1, "pledged_total": 700000, "deposit": 20000,
            "quota_total": 1000000, "quota_used": 300000,
            "quota_available": 650000} and
              pools[0]["learnt"].startswith(TODAY.isoformat()),
              "h2hctl --json bills shows the figures: %r" % pools)
        # the book's own totals are as before
        t = totals(w)
        check(t["pledged"] == 1 and t["pledged_amount"] == 700000,
              "the book still counts its own pieces: %r" % t)
        txt = subprocess.run([H2HCTL, "-s", w.sock, "bills"],
                             capture_output=True, text=True, timeout=30)
        want = ("gw: bank's pool PJC-1 as of %s: 1 pledged (7000.00 CNY), "
                "deposit 200.00 CNY, quota 10000.00 CNY, used 3000.00 CNY, "
                "available 6500.00 CNY" % day(0))
        book_line = "gw: pool 1 pledged (7000.00), "
        check(txt.returncode == 0 and want in txt.stdout and
              book_line in txt.stdout and
              txt.stdout.index(want) < txt.stdout.index(book_line) and
              DRAFT in txt.stdout,
              "h2hctl bills: the pool line first, then the book: %r" %
              txt.stdout)

        # an overview dated the day before changes nothing
        old = pool_result("BB-POOL-0", "PJC-1", day(-1), 2, 900000, 0,
                          1000000, 0, 1000000)
        name = gw.answer(old, "pool-0.xml")
        gw.delivered(name)
        ev = wait_event(w, "bill.pool", file=name)
        check(len(ev) == 1 and " figures=older" in ev[0],
              "an older overview is not kept: %r" % ev)
        check(pool_rows(w) == rows, "the figures are as before: %r" %
              pool_rows(w))
        # the same figures again change nothing, not even when h2hd learnt
        # them
        name = gw.answer(ov, "pool-1-again.xml")
        gw.delivered(name)
        ev = wait_event(w, "bill.pool", file=name)
        check(len(ev) == 1 and " figures=unchanged" in ev[0],
              "the same figures: %r" % ev)
        check(pool_rows(w) == rows and rows[0][10] == learnt,
              "nothing changed: %r" % pool_rows(w))

        # malformed figures are ignored with the reason
        bad = [("pool-bad-quota.xml",
                pool_result("BB-POOL-2", "PJC-1", day(1), 1, 700000, 20000,
                            1000000, 500000, 650000),
                "exceed the financing quota"),
               ("pool-bad-asof.xml",
                pool_result("BB-POOL-3", "PJC-1", "yesterday", 1, 1, 1, 1, 0,
                            1),
                "neither a date nor a timestamp")]
        for name, data, why in bad:
            gw.answer(data, name)
            check(gw.delivered(name) == data, "%s reaches out/bills" % name)
            ig = wait_event(w, "bill.ignored", file=name)
            check(len(ig) == 1 and why in ig[0] and
                  not events(w, "bill.pool", file=name),
                  "%s ignored with the reason: %r" % (name, ig))
            odd.append((name, None, None))
        check(pool_rows(w) == rows and totals(w)["pools"] == pools,
              "malformed figures change nothing: %r" % pool_rows(w))
        # a later overview replaces the figures
        new = pool_result("BB-POOL-4", "PJC-1", day(0) + "T18:00:00+08:00",
                          0, 0, 20000, 1000000, 0, 1000000)
        name = gw.answer(new, "pool-4.xml")
        gw.delivered(name)
        ev = wait_event(w, "bill.pool", file=name)
        check(len(ev) == 1 and " figures=stored" in ev[0],
              "a later timestamp on the same day is kept: %r" % ev)
        rows = pool_rows(w)
        check(len(rows) == 1 and rows[0][2:10] == (
            day(0) + "T18:00:00+08:00", "CNY", 0, 0, 20000, 1000000, 0,
            1000000), "the later figures: %r" % rows)
        check(not w.log_events("bank.download.failed") and
              sorted(f.split(" file=")[1].split()[0] for f in
                     w.log_events("bill.ignored")) ==
              sorted(n for n, _, _ in odd),
              "no download failed, only the odd answers ignored: %r" %
              w.log_events("bill.ignored"))
        check(w.stop() == 0, "clean stop")
        w.restart(6)
        check(pool_rows(w) == rows and
              totals(w)["pools"][0]["as_of"] == day(0) + "T18:00:00+08:00",
              "the figures survive a restart: %r" % totals(w)["pools"])
        check(w.stop() == 0, "clean stop")
        print("PASS test_bill_book (%.1fs)" % (time.time() - t0))
    except SystemExit:
        print(w.tail(40))
        raise
    finally:
        w.cleanup()

def bank_clock():
    """Days to maturity are the bank's days: a bank whose clock is a day
    ahead of (or behind) UTC right now alerts by its own date."""
    now = datetime.datetime.now(datetime.timezone.utc)
    # UTC+14 is a day ahead from 10:00 UTC on, UTC-12 a day behind before
    # 12:00 UTC: one of them always differs from UTC's date
    tzname, shift = (("Pacific/Kiritimati", 1) if now.hour >= 10 else
                     ("Etc/GMT+12", -1))
    bank_today = now.date() + datetime.timedelta(days=shift)
    number = "530158000004" + (bank_today - datetime.timedelta(
        days=20)).strftime("%Y%m%d") + "0000444444"
    w = World("billclock")
    w.write_conf(CONF.replace('max_sessions = 2;',
                              'max_sessions = 2; timezone = "%s";' %
                              tzname))
    gw = Gateway(w)
    try:
        w.start()
        due = (bank_today + datetime.timedelta(days=3)).isoformat()
        piece = our_draft(1, 500000, "held", number=number).replace(
            "<MtrtyDt>%s</MtrtyDt>" % day(5), "<MtrtyDt>%s</MtrtyDt>" % due)
        check(due in piece, "the piece matures on the bank's day + 3")
        gw.delivered(gw.answer(result("BC-DETAIL-1", "draft_detail",
                                      "accepted", piece)))
        al = wait_event(w, "bill.maturing", draft=number)
        check(len(al) == 1 and " days_left=3" in al[0] and
              " maturity=%s" % due in al[0],
              "3 days left on the bank's clock (%s, UTC %s): %r" %
              (tzname, now.date(), al))
        check(w.stop() == 0, "clean stop")
        print("PASS test_bill_book bank clock (%s)" % tzname)
    except SystemExit:
        print(w.tail(40))
        raise
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
    bank_clock()
