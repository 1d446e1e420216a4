/*
 * billbook.h - h2hd's book of the bill pool: the drafts the banks told us
 * about, kept in the store (store_draft_*) from the results and notices
 * they send back; treasury's requests checked against it before anything
 * is sent; and maturity alerts.
 *
 * The book follows the bank, never the other way round: a draft's piece
 * is what the bank's latest result, inquiry or notice says (a piece split
 * off by a partial endorsement replaces the whole it came from).  Each row
 * keeps the whole draft as canonical XML (<BillResult> with that one
 * draft) in its doc, so a check sees every field the state machine needs
 * (formats/bill.h).
 *
 *   - Linking (inside the delivery's store transaction, like a pain.002):
 *     a <BillResult> names our ReqId; the message that carried the request
 *     (store_id_owner kind "bill") moves to acknowledged (outcome
 *     accepted), rejected (rejected) or stays submitted (pending); its
 *     drafts are put into the book.  A <BillNotice> puts its draft in the
 *     pending state addressed to us (fmt_draft_receive).
 *   - Pool figures: a result that is not a refusal and carries a pool
 *     overview (has_pool) keeps the bank's figures (store_pool_put): the
 *     latest per pool, so an overview dated before the one kept, or the
 *     same figures again, change nothing.  Figures fmt_bill_pool_check()
 *     refuses, an as-of that is neither a date nor a timestamp, or a pool
 *     id longer than the store keeps make the whole document ignored
 *     (bill.ignored with the reason): no draft, no message, no figure
 *     changes.
 *   - Checking (at the drop folder, pickup.c): an operation on a draft
 *     needs the piece in the book, and fmt_draft_check() must allow it
 *     today; issue and the inquiries need nothing.  A draft not in the
 *     book is refused with the advice to ask the bank first.
 *   - Alerts: a piece we hold or have pledged (held, pledged and the
 *     pending states that come back to them) maturing in 7, 3 or 1 days,
 *     or today, is logged once per threshold (bill.maturing), overdue ones
 *     once (bill.overdue).
 *
 * Documents are small (a result lists one bank's drafts): they are read
 * whole on the loop thread, at most BBOOK_DOC_MAX bytes.
 *
 * Threads: the loop thread.  Ownership: nothing is kept between calls.
 */
#ifndef H2H_BILLBOOK_H
#define H2H_BILLBOOK_H

#include "bill.h"
#include "h2h_err.h"
#include "state.h"
#include "store.h"

#define BBOOK_DOC_MAX (4u * 1024 * 1024)

struct h2hd;

/* What linking one document did, for the log after the commit. */
struct bbook_link {
    enum {
        BBOOK_NONE,
        BBOOK_MOVED,     /* the message moved to `to` */
        BBOOK_PENDING,   /* the bank still works on it */
        BBOOK_REPEATED,  /* the same answer again */
        BBOOK_UNMATCHED, /* no message has this ReqId (an inquiry h2hd
                            did not send, another system's request) */
        BBOOK_IGNORED,   /* the message could not move (err) */
    } what;
    int notice; /* 1: a notice (drafts put, no message) */
    char msg[STORE_ID_MAX];
    enum msg_state to;
    char req_id[72], op[24], outcome[16];
    size_t n_drafts;  /* pieces put into the book */
    int pool;         /* 1: pool figures were linked */
    int pool_verdict; /* then: store_pool_put's STORE_POOL_* */
    char pool_id[65], as_of[40];
    struct h2h_err err;
};

/* Link the bill document at path (a delivered <BillResult> or
 * <BillNotice>) for bank, inside the caller's transaction.  0 when the
 * book took it (o says what happened), negative when the document cannot
 * be read or the store failed (the caller rolls back; err filled). */
int bbook_link_file(struct store *s, const char *bank, const char *path,
                    struct bbook_link *o, struct h2h_err *err);
void bbook_log_link(const char *bank, const char *file,
                    const struct bbook_link *o);

/* Check treasury's request at path (a valid <BillRequest>) for bank
 * against the book as of today (YYYY-MM-DD).  0 when it may go; else
 * negative with *why (malloc'd) for the .reason file. */
int bbook_check_request(struct store *s, const char *bank, const char *path,
                        const char *today, char **why);

/* Log the maturity alerts due today (see above): today_of(ctx, bank, out)
 * gives a bank's current day ("YYYY-MM-DD", in its time zone), for days
 * left counted as the bank counts them. */
void bbook_alerts(struct store *s,
                  void (*today_of)(void *ctx, const char *bank, char out[11]),
                  void *ctx);

#endif
