/*
 * scfbook.h - h2hd's book of supply-chain finance: the financing requests
 * (store_financing_*) and credit vouchers (store_voucher_*) as the banks
 * and platforms last described them, kept from the results they send
 * back; treasury's requests checked against it before anything is sent;
 * and maturity alerts for vouchers.  The bill pool's twin (billbook.h).
 *
 * The book follows the bank, never the other way round: a voucher is what
 * the platform's latest holdings or operation result says, a financing
 * request what its status reports and repayment notices fold into
 * (fmt_scf_track_*, formats/scf.h).  Each voucher row keeps the voucher as
 * canonical XML (<ScfResult><Hldgs> with that one voucher), each
 * financing row the track as a <ScfResult><StsRpt>, so a check sees every
 * field the state machines need.
 *
 * Which party is "us".  The platforms name parties by member id (the
 * unified social credit code); h2hd's configuration has no such setting.
 * The book takes us to be the parties the platform's documents and our
 * own requests say we are:
 *   - a holdings list's <Pty> (whose holdings they are);
 *   - the <Actr> of the voucher operation a result answers (the request
 *     h2hd sent, read back from the message's payload);
 *   - and, for every document, the parties the book already knows as
 *     ours at that bank: the holder of a voucher we hold, the issuer of
 *     one we issued.
 * A voucher's ours_role is then "issued" (its issuer is us), "held" (its
 * holder is us, whatever its status: pending for our signature, held,
 * financed, settled) or "transferred" (it left our hands: we sent it, or
 * it descends from one we sent).  A document whose vouchers cannot be
 * placed because the book knows no party of ours at that bank is ignored
 * with the advice to ask for our holdings (a <VchrInq>) first.
 *
 *   - Linking (inside the delivery's store transaction, like a pain.002).
 *     The requests' ids are kept by pickup under kind "scf" (store_id_*,
 *     apart from MsgIds), so an answer finds the message that carried
 *     its request:
 *       <StsRpt> / tsin.002   folded into the request's track (a request
 *                             the book does not know yet starts from its
 *                             message's payload, or else from what the
 *                             report says); the financing message moves:
 *                             approved, financed, repaid, cancelled ->
 *                             acknowledged, rejected -> rejected,
 *                             submitted / under_review -> stays.  A
 *                             cancellation answer moves the cancellation's
 *                             message (accepted -> acknowledged, refused ->
 *                             rejected); a status inquiry about the
 *                             request still waiting is acknowledged.
 *       <RpmtNtce>            folded into the track it names (request id
 *                             or loan reference): repaid grows, and the
 *                             request is repaid once all is paid back.
 *       <Hldgs>               every voucher put; the <VchrInq> it answers
 *                             (ReqId) is acknowledged.
 *       <VchrOpRslt>          the vouchers it lists put (none when
 *                             rejected); the <VchrOp> message moves by the
 *                             outcome (accepted -> acknowledged, rejected
 *                             -> rejected, pending -> stays).
 *     Every change is planned (vouchers completed from the book, roles
 *     computed, rows built) before the first is made, so a document that
 *     cannot be applied changes nothing.  A document h2hd cannot read or
 *     apply (a status move the table forbids, a voucher the book cannot
 *     complete, ...) is still delivered; the book is left alone and the
 *     problem logged (scf.ignored).
 *   - Checking (at the drop folder, pickup.c), with today's date:
 *       financing request (<Fincg>, tsin.001)  fmt_scf_request_check;
 *       cancellation (<Cxl>, tsin.003)         fmt_scf_cancel_check
 *                             against the book's track (a request sent but
 *                             not yet answered counts as submitted; one
 *                             the book does not know is refused);
 *       voucher operation                      fmt_voucher_check against
 *                             the book's vouchers of that tree; a voucher
 *                             not in the book is refused with the advice to
 *                             ask the platform first;
 *       inquiries                              nothing.
 *   - Alerts: a voucher we hold (held, or pending for our signature) or
 *     issued (live: we pay it), with an amount left, maturing in 7, 3 or
 *     1 days, or today, is logged once per threshold
 *     (scf.voucher.maturing), an overdue one once (scf.voucher.overdue).
 *     The thresholds logged are remembered in the store's id records (kind
 *     "scf-alert"), so a restart repeats none.  The engine runs the check
 *     after every scf delivery and hourly.
 *
 * Documents are small: read whole on the loop thread, at most
 * SBOOK_DOC_MAX bytes.
 *
 * Threads: the loop thread.  Ownership: nothing is kept between calls.
 */
#ifndef H2H_SCFBOOK_H
#define H2H_SCFBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"
#include "state.h"
#include "store.h"

#define SBOOK_DOC_MAX (4u * 1024 * 1024)

/* One message a document moved (or would have). */
struct sbook_move {
    enum {
        SBOOK_MOVED,    /* moved to `to` */
        SBOOK_PENDING,  /* the bank still works on it: stays submitted */
        SBOOK_REPEATED, /* already there */
        SBOOK_FAILED,   /* could not move (err) */
    } what;
    const char *role; /* "request", "cancellation", "inquiry" */
    char msg[STORE_ID_MAX];
    enum msg_state to;
    struct h2h_err err;
};

/* What linking one document did, for the log after the commit. */
struct sbook_link {
    enum {
        SBOOK_NONE,    /* nothing to link (a request, a tsin.001 ...) */
        SBOOK_LINKED,  /* the book took it; moves[] says what moved */
        SBOOK_IGNORED, /* the document could not be applied (err) */
    } what;
    const char *doc; /* "status", "repayment", "holdings",
                        "voucher_op", or NULL */
    char req_id[72]; /* the request it is about (status, repayment,
                        voucher op; holdings: the inquiry) */
    char status[24]; /* financing status after it; voucher op outcome */
    char op[16];     /* voucher op; repayment kind */
    char party[80];  /* holdings: whose */
    char ccy[4];
    int64_t financed, repaid; /* financing: after the document */
    size_t n_vouchers;        /* vouchers put into the book */
    struct sbook_move moves[3];
    size_t n_moves;
    struct h2h_err err;
};

/* Link the scf document at path (a delivered <ScfResult> or tsin.002) for
 * bank, inside the caller's transaction.  0 when the book took it or
 * ignored it (o says which), negative when the store or the machine
 * failed (the caller rolls back and tries the delivery again; err
 * filled). */
int sbook_link_file(struct store *s, const char *bank, const char *path,
                    struct sbook_link *o, struct h2h_err *err);
void sbook_log_link(const char *bank, const char *file,
                    const struct sbook_link *o);

/*
 * Treasury's form of an answer.  Treasury gets its answers in the form it
 * asked in: a delivered <ScfResult> status report (a financing status, a
 * cancellation's answer) about a request whose message was dropped as
 * tsin.001, or whose cancellation was dropped as tsin.003, is rendered as
 * tsin.002 (fmt_tsin002_complete with the financing request read back from
 * its message's payload, then fmt_tsin002_write).  What tsin.002 needs
 * and a bank dialect may not give is filled in: the original request's
 * creation time from the request (always: it is treasury's), the
 * report's id with sts_id and its
 * creation time with cre_dt_tm (the caller's stand-ins, fixed for the
 * download, so that rendering it again after a crash gives the same
 * bytes).  The book is still linked from the <ScfResult> (it has the loan
 * reference and rate tsin.002 does not carry).  Everything else stays as
 * received: repayment notices, holdings, voucher results, answers to
 * <ScfRequest>s, a bank's own tsin.002.
 *
 * 0 with f->doc (f->len bytes) the tsin.002 to deliver instead, or
 * f->doc NULL to deliver path as received, f->note then saying why when
 * tsin.002 was due but cannot carry the report (the writer refused it:
 * e.g. repaid).  Negative only when the store or memory failed (err
 * filled; the caller tries the delivery again).  The caller releases f
 * with sbook_form_release(), also after an error.
 */
struct sbook_form {
    char *doc; /* malloc'd tsin.002, or NULL */
    size_t len;
    char *note; /* malloc'd, or NULL */
};
int sbook_treasury_form(struct store *s, const char *bank, const char *path,
                        const char *sts_id, const char *cre_dt_tm,
                        struct sbook_form *f, struct h2h_err *err);
void sbook_form_release(struct sbook_form *f);

/* What pickup records besides the request's own id (kind "scf"), so that
 * a status report, which names only the financing request, finds the
 * cancellation or inquiry about it: store_id_record(also_kind,
 * "<bank>:<also_id>", message).  also_kind "" when nothing. */
struct sbook_req {
    char also_kind[16]; /* "scf-cxl", "scf-inq" */
    char also_id[72];   /* the financing request's id */
};

/* Check treasury's request at path (a valid <ScfRequest>, tsin.001 or
 * tsin.003) for bank against the book as of today (YYYY-MM-DD).  0 when
 * it may go (info filled); else negative with *why (malloc'd) for the
 * .reason file. */
int sbook_check_request(struct store *s, const char *bank, const char *path,
                        const char *today, struct sbook_req *info, char **why);

/* Log the voucher maturity alerts due today (see above); today_of as for
 * bbook_alerts(). */
void sbook_alerts(struct store *s,
                  void (*today_of)(void *ctx, const char *bank, char out[11]),
                  void *ctx);

#endif
