/*
 * bill.h - electronic commercial drafts (电子商业汇票) and the bill pool
 * (票据池): the canonical model of a draft, of the requests treasury sends
 * about drafts, of the bank's answers and notices, and a state machine
 * that refuses an operation the draft's state does not allow before
 * anything is sent, in words a treasury user understands:
 *
 *   draft 130..., sub-range 1-1000000: cannot be endorsed: it is pledged
 *   in the pool (release it first)
 *
 * Pure code: no I/O, no XML, no clock (the caller passes "today").
 *
 * ---- The draft -----------------------------------------------------------
 *
 * Both systems are covered: ECDS (电子商业汇票系统) and the newer 新一代
 * 票据业务系统 whose drafts may be divisible into sub-tickets (子票区间).
 * A draft number has 30 digits in both.  Its first digit is not checked
 * against the kind: the two systems code it differently.
 *
 * One struct fmt_draft is one piece of a draft that has one state: a
 * whole draft, or the sub-range [sub_from, sub_to] of a divisible draft.
 * Sub-tickets are counted in 0.01 CNY as the new system counts them, so a
 * piece's amount in CNY minor units is always sub_to - sub_from + 1
 * (10,000.00 CNY is sub-range 1-1000000).
 *   - a divisible draft (divisible = 1, 允许分包) always carries its range,
 *     sub_from >= 1;
 *   - a non-divisible draft carries 0/0 (an ECDS draft, which has no
 *     sub-tickets) or the range of the whole draft (a new-system draft
 *     issued as not divisible); either means "the whole draft".
 * Pieces are never merged back: after a split each piece is its own record
 * under the same number (the new system keeps them apart too).
 *
 * States are seen from our company's side.  A pending state (an operation
 * that awaits a signature) remembers
 *   pending_dir  FMT_BILL_DIR_OUT: we started it and the counterparty
 *                signs (we may withdraw it);
 *                FMT_BILL_DIR_IN: it was presented to us and we sign or
 *                refuse it;
 *   prev_status  the state a refusal or a withdrawal returns to.
 * Non-pending states have pending_dir FMT_BILL_DIR_NONE and prev_status
 * FMT_DRAFT_NONE.
 *
 * "Us" in a draft we issued is its drawer: a commercial draft whose
 * acceptor account is the drawer's (a company accepting its own draft,
 * the usual 商承) is signed for acceptance by us, and one whose payee
 * account is the drawer's is held by us after receipt.  Accounts compare
 * by account number (fmt_account.other_id, else iban).
 *
 * ---- Operations and the state machine -----------------------------------
 *
 *   op                 from          pending (OUT)        accepted
 *   issue              none          -                    registered
 *   present_acceptance registered    pending_acceptance   accepted
 *   present_receipt    accepted      pending_receipt      delivered (held
 *                                                         when we are payee)
 *   endorse            held          pending_endorsement  endorsed
 *   discount           held          pending_discount     discounted
 *   pledge             held          pending_pledge       pledged
 *   release            pledged       pending_release      held
 *   present_payment    held          pending_payment      paid
 *   recourse           dishonoured   pending_recourse     recourse_settled
 *   withdraw           a pending state we started -> its prev_status;
 *                      registered / accepted -> withdrawn (撤票: a draft
 *                      that has not left the drawer is cancelled)
 *   sign / refuse      a pending state addressed to us (see below)
 * A refusal by the counterparty returns a pending state to prev_status,
 * except that a refused presentment for payment makes the draft
 * dishonoured (拒付).
 *
 * Presentments addressed to us arrive as notices; fmt_draft_receive()
 * moves our record into the pending state with pending_dir IN.  Signing
 * and refusing then lead to:
 *   presented to us        sign                refuse
 *   present_acceptance     liable (we accepted) refused
 *   present_receipt        held                refused
 *   endorse                held                refused
 *   release (解质押)       held                back (pledged)
 *   present_payment        paid (we paid)      refused (拒付; a reason
 *                                              is required)
 *   recourse               recourse_settled    back (refused when new)
 * Only commercial acceptances (AC02) are accepted and paid by a company;
 * a bank acceptance presented to us for acceptance or payment is invalid.
 *
 * Verdicts of fmt_draft_check():
 *   0             allowed;
 *   H2H_ESTATE    the draft's state forbids the operation now (it may be
 *                 allowed in another state): "cannot be endorsed: it is
 *                 pledged in the pool (release it first)";
 *   H2H_EINVALID  the request is wrong whatever the state, or contradicts
 *                 the draft's fixed data or the dates: a malformed request,
 *                 another draft's number, a sub-range outside the draft's,
 *                 an amount that does not match, a non-transferable
 *                 draft, a date rule.
 * The request's own shape is checked first, then the draft record, then
 * the state, then range, amount, transferability and dates.
 *
 * Rules where the law or the systems leave us a choice:
 *   - Sub-ranges.  0/0 in a request means "the whole piece".  Only
 *     endorse, discount and pledge may take part of a divisible piece, and
 *     the part must begin at the piece's first sub-ticket or end at its
 *     last, so that what stays with us is one range (it keeps its former
 *     state).  Every other operation takes the whole piece.
 *   - Amounts.  A request's amount, when given, is CNY and equals the
 *     amount of the part concerned; for recourse it is the amount claimed
 *     and may exceed the draft's (interest and costs), never be less.
 *   - Term.  At issue the maturity date lies after the issue date and at
 *     most 6 months after it (商业汇票承兑、贴现与再贴现管理办法, 2022 年
 *     第 4 号令, in force since 2023-01-01; from the 31st a month without
 *     one ends on its last day), the issue date is not after today, and
 *     the maturity date is after today.
 *   - Before maturity only: presentment for acceptance and for receipt,
 *     endorsement, pledge (ECDS allows no transfer after maturity).
 *     Discount: the discount date (the request's date, else today) is not
 *     in the past and is before the maturity date.
 *   - Presentment for payment: from the maturity date through the 10 days
 *     after it (提示付款期 自到期日起 10 日, counted as the civil code
 *     counts periods: the maturity date itself is not counted).  A
 *     non-business last day is not extended here (this module has no
 *     calendar).  Later needs the request's `overdue` flag (逾期提示付款):
 *     recourse after such a presentment reaches only the drawer and the
 *     acceptor.
 *   - A draft marked not transferable (不得转让) cannot be endorsed,
 *     discounted or pledged; it can still be presented for payment.
 *   - Recourse needs a dishonoured draft.  Its time limit (6 months from
 *     the dishonour) is not checked: the model does not keep that date.
 *   - Refusing a presentment for payment needs a reason (拒付理由).
 *   - A request id is 1-64 characters of A-Z a-z 0-9 '-' '_' '.'; bank
 *     codes (开户行行号, CNAPS) are 12 digits.
 *   - Every operation on a draft needs today (a valid "YYYY-MM-DD" in the
 *     bank's time zone); inquiries do not.
 *
 * ---- Lifecycle, ownership, errors, threads --------------------------------
 *
 * Plain structs: zero them to initialise ("absent" is 0 / NULL / "" in
 * every field) and call the matching _release, which frees what the struct
 * owns, accepts NULL and a zeroed struct, and leaves a zeroed struct.
 * Every char * is UTF-8, owned by its struct, NULL when absent; dates are
 * "YYYY-MM-DD", timestamps ISO 8601 as the bank gave them.
 * Functions return 0 (or a documented non-negative value) or a negative
 * H2H_E* code with err (may be NULL) filled; on failure they change
 * nothing they were given to change.
 * Threads: no globals; any thread, one caller per struct.
 */
#ifndef FMT_BILL_H
#define FMT_BILL_H

#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"
#include "model.h"

#define FMT_DRAFT_NUMBER_LEN 30 /* digits of a draft number */
#define FMT_BILL_BANK_CODE_LEN 12
#define FMT_BILL_REQ_ID_MAX 64
#define FMT_BILL_PRESENT_DAYS 10 /* 提示付款期 after the maturity date */
#define FMT_BILL_MAX_TERM_MONTHS 6

enum fmt_draft_kind {
    FMT_DRAFT_KIND_NONE = 0,
    FMT_DRAFT_AC01 = 1, /* bank acceptance, 银行承兑汇票 (银承) */
    FMT_DRAFT_AC02 = 2, /* commercial acceptance, 商业承兑汇票 (商承) */
};

/* Names (stable, for XML and logs) are the lower-case identifiers after
 * FMT_DRAFT_, e.g. "pending_endorsement". */
enum fmt_draft_status {
    FMT_DRAFT_NONE = 0,           /* not issued yet / not known to us */
    FMT_DRAFT_REGISTERED,         /* 出票已登记, 待提示承兑 */
    FMT_DRAFT_PENDING_ACCEPTANCE, /* 提示承兑待签收 */
    FMT_DRAFT_ACCEPTED, /* 承兑已签收, 待提示收票 (we drew it) */
    FMT_DRAFT_PENDING_RECEIPT,     /* 提示收票待签收 */
    FMT_DRAFT_DELIVERED,           /* 收票已签收 by the payee: not ours */
    FMT_DRAFT_HELD,                /* 可流通: we hold it */
    FMT_DRAFT_PENDING_ENDORSEMENT, /* 背书待签收 */
    FMT_DRAFT_ENDORSED,         /* 背书已签收: endorsed away, not ours */
    FMT_DRAFT_PENDING_DISCOUNT, /* 贴现待签收 */
    FMT_DRAFT_DISCOUNTED,       /* 已贴现: the bank's */
    FMT_DRAFT_PENDING_PLEDGE,   /* 质押待签收 (入池) */
    FMT_DRAFT_PLEDGED,          /* 已质押, in the pool */
    FMT_DRAFT_PENDING_RELEASE,  /* 解质押待签收 (出池) */
    FMT_DRAFT_PENDING_PAYMENT,  /* 提示付款待签收 */
    FMT_DRAFT_PAID,             /* 结清 */
    FMT_DRAFT_DISHONOURED,      /* 拒付: our presentment was refused */
    FMT_DRAFT_PENDING_RECOURSE, /* 追索待清偿 */
    FMT_DRAFT_RECOURSE_SETTLED, /* 追索已清偿 */
    FMT_DRAFT_WITHDRAWN,        /* 已撤票: cancelled by us, the drawer */
    FMT_DRAFT_REFUSED, /* 已拒签 / 拒付 by us: presented to us, declined */
    FMT_DRAFT_LIABLE, /* 承兑已签收 by us as acceptor: we pay at maturity */
    FMT_DRAFT_STATUS_COUNT
};

enum fmt_bill_dir {
    FMT_BILL_DIR_NONE = 0, /* not pending */
    FMT_BILL_DIR_OUT = 1,  /* we started it; the counterparty signs */
    FMT_BILL_DIR_IN = 2,   /* presented to us; we sign or refuse */
};

/* Names: the lower-case identifiers after FMT_BILL_OP_, e.g. "endorse". */
enum fmt_bill_op {
    FMT_BILL_OP_NONE = 0,
    FMT_BILL_OP_ISSUE,              /* 出票 (登记) */
    FMT_BILL_OP_PRESENT_ACCEPTANCE, /* 提示承兑 */
    FMT_BILL_OP_PRESENT_RECEIPT,    /* 提示收票 */
    FMT_BILL_OP_ENDORSE,            /* 背书转让 */
    FMT_BILL_OP_DISCOUNT,           /* 贴现 */
    FMT_BILL_OP_PLEDGE,             /* 质押入池 */
    FMT_BILL_OP_RELEASE,            /* 出池 / 解质押 */
    FMT_BILL_OP_PRESENT_PAYMENT,    /* 提示付款 */
    FMT_BILL_OP_RECOURSE,           /* 追索 */
    FMT_BILL_OP_WITHDRAW,           /* 撤回 / 撤票 */
    FMT_BILL_OP_SIGN,               /* 签收 */
    FMT_BILL_OP_REFUSE,             /* 驳回 / 拒签 / 拒付 */
    FMT_BILL_OP_POOL_OVERVIEW,      /* inquiry: 票据池 overview */
    FMT_BILL_OP_DRAFTS,             /* inquiry: drafts by status, maturity */
    FMT_BILL_OP_DRAFT_DETAIL,       /* inquiry: one draft and its history */
    FMT_BILL_OP_NOTICES,            /* inquiry: drafts awaiting our signature */
    FMT_BILL_OP_COUNT
};

/* The bank's answer to a request, and what fmt_draft_apply() records. */
enum fmt_bill_outcome {
    FMT_BILL_OUTCOME_NONE = 0,
    FMT_BILL_ACCEPTED = 1, /* took effect (signed, or needs no signature) */
    FMT_BILL_PENDING = 2,  /* registered; awaits the counterparty */
    FMT_BILL_REJECTED = 3, /* the bank or the counterparty refused */
};

/* A party to a draft: who, which account, which bank. */
struct fmt_bill_party {
    struct fmt_party party;  /* party.name is what banks require */
    struct fmt_account acct; /* acct.other_id: the account number */
    char *bank_code;         /* 开户行行号, 12 digits (CNAPS) */
};

struct fmt_draft {
    char *number; /* 30 digits */
    enum fmt_draft_kind kind;
    struct fmt_amount amount; /* of this piece, CNY minor units */
    char *issue_date;
    char *maturity_date;
    struct fmt_bill_party drawer;   /* 出票人 */
    struct fmt_bill_party acceptor; /* 承兑人 (a bank for AC01) */
    struct fmt_bill_party payee;    /* 收款人 */
    struct fmt_bill_party holder; /* current holder (持票人) as last known */
    enum fmt_draft_status status;
    enum fmt_draft_status prev_status; /* pending: where refusal returns */
    enum fmt_bill_dir pending_dir;
    int not_transferable;     /* 1: 不得转让 */
    int divisible;            /* 1: 允许分包 (new system) */
    int64_t sub_from, sub_to; /* sub-ticket range; 0/0: no sub-tickets */
};

/* What treasury asks of the bank about a draft (or the pool). */
struct fmt_bill_request {
    enum fmt_bill_op op;
    char *req_id;   /* our request id: the bank-visible idempotency key */
    char *draft_no; /* every draft operation and draft_detail */
    int64_t sub_from, sub_to;   /* the part concerned; 0/0: the whole piece */
    struct fmt_amount amount;   /* of the part concerned (ccy "": absent);
                                   recourse: the amount claimed */
    struct fmt_bill_party cpty; /* endorse: the endorsee; discount: the
                                   discounting bank; pledge: the pledgee
                                   bank; recourse: whom we claim from */
    int64_t rate_ppm;           /* discount: annual rate in millionths
                                   (1.35 % = 13500), required */
    char *date;                 /* discount: settlement date; NULL: today */
    struct fmt_account proceeds_acct; /* discount: account credited */
    char *pool_id;                    /* pledge / release: the pool agreement */
    int overdue;            /* present_payment: present after the period */
    struct fmt_draft draft; /* issue: the new draft (number NULL until the
                               bank assigns it; status fields ignored) */
    char *notice_id;        /* sign / refuse: the notice answered */
    char *reason;           /* refuse: 拒付 / refusal reason; recourse */
    char *memo;             /* free text passed to the bank */
    /* drafts inquiry filters: FMT_DRAFT_NONE / NULL match everything */
    enum fmt_draft_status f_status;
    char *f_maturity_from, *f_maturity_to;
};

/* One event of a draft's history (draft_detail). */
struct fmt_draft_event {
    char *time;
    enum fmt_bill_op op;
    struct fmt_bill_party from, to;
    enum fmt_draft_status status; /* after the event, as the bank says */
    int64_t sub_from, sub_to;
    struct fmt_amount amount;
};

/* An incoming draft awaiting our signature. */
struct fmt_bill_notice {
    char *notice_id;        /* the bank's id, echoed when we answer */
    enum fmt_bill_op kind;  /* present_acceptance, present_receipt, endorse,
                               release, present_payment or recourse */
    struct fmt_draft draft; /* as presented; status fields ignored */
    struct fmt_bill_party from;
    char *time;
    struct fmt_amount amount; /* recourse: the amount claimed */
    char *reason;
};

/* Pool overview.  The quota is the financing the pool supports; what is
 * neither used nor available may be frozen, so only used + available <=
 * total is required. */
struct fmt_bill_pool {
    char *pool_id;
    char *as_of;                     /* date or timestamp of the figures */
    int64_t pledged_count;           /* pledged drafts (pieces) */
    struct fmt_amount pledged_total; /* their amount */
    struct fmt_amount deposit;       /* cash margin in the pool (保证金) */
    struct fmt_amount quota_total;   /* financing quota */
    struct fmt_amount quota_used;
    struct fmt_amount quota_available;
};

/* The bank's answer to one request. */
struct fmt_bill_result {
    char *req_id;
    enum fmt_bill_op op;
    enum fmt_bill_outcome outcome;
    char *bank_code; /* the bank's return code */
    char *bank_text;
    struct fmt_draft *drafts; /* resulting piece(s); inquiry: drafts found */
    size_t n_drafts;
    struct fmt_draft_event *history; /* draft_detail */
    size_t n_history;
    struct fmt_bill_notice *notices; /* notices */
    size_t n_notices;
    int has_pool; /* pool_overview */
    struct fmt_bill_pool pool;
};

/* ---- names ---------------------------------------------------------------
 * _name returns a static string, NULL for a value out of range; _parse
 * takes the exact name and returns 0 or H2H_EINVALID (err filled). */

const char *fmt_bill_op_name(enum fmt_bill_op op);
int fmt_bill_op_parse(const char *s, enum fmt_bill_op *out,
                      struct h2h_err *err);
const char *fmt_draft_status_name(enum fmt_draft_status st);
int fmt_draft_status_parse(const char *s, enum fmt_draft_status *out,
                           struct h2h_err *err);
const char *fmt_draft_kind_name(enum fmt_draft_kind k); /* "AC01" */
int fmt_draft_kind_parse(const char *s, enum fmt_draft_kind *out,
                         struct h2h_err *err);
const char *fmt_bill_dir_name(enum fmt_bill_dir d); /* "none" "out" "in" */
int fmt_bill_dir_parse(const char *s, enum fmt_bill_dir *out,
                       struct h2h_err *err);
const char *fmt_bill_outcome_name(enum fmt_bill_outcome o); /* "accepted" */
int fmt_bill_outcome_parse(const char *s, enum fmt_bill_outcome *out,
                           struct h2h_err *err);

/* 1 for the pending_* states. */
int fmt_draft_status_pending(enum fmt_draft_status st);
/* 1 for the inquiries (pool_overview, drafts, draft_detail, notices). */
int fmt_bill_op_inquiry(enum fmt_bill_op op);

/* ---- release and copy ---------------------------------------------------- */

void fmt_bill_party_release(struct fmt_bill_party *p);
void fmt_draft_release(struct fmt_draft *d);
void fmt_bill_request_release(struct fmt_bill_request *rq);
void fmt_draft_event_release(struct fmt_draft_event *e);
void fmt_bill_notice_release(struct fmt_bill_notice *n);
void fmt_bill_pool_release(struct fmt_bill_pool *p);
void fmt_bill_result_release(struct fmt_bill_result *r);

/* Deep copy into *dst, which must be zeroed (or released); on failure
 * *dst stays zeroed.  0 or H2H_ENOMEM. */
int fmt_bill_party_copy(struct fmt_bill_party *dst,
                        const struct fmt_bill_party *src);
int fmt_draft_copy(struct fmt_draft *dst, const struct fmt_draft *src);

/* ---- checks ----------------------------------------------------------------
 */

/* The record on its own: number, kind, CNY amount > 0, dates (maturity
 * after issue), sub-range against amount, and status / pending_dir /
 * prev_status consistent.  0 or H2H_EINVALID. */
int fmt_draft_validate(const struct fmt_draft *d, struct h2h_err *err);

/* The request on its own (what each operation needs, shapes of ids,
 * codes, dates, amounts, ranges, filters).  0 or H2H_EINVALID. */
int fmt_bill_request_check(const struct fmt_bill_request *rq,
                           struct h2h_err *err);

/*
 * May rq be sent for d today?  d is our record of the draft piece; NULL
 * (or a zeroed one) for issue and for inquiries.  today: "YYYY-MM-DD" in
 * the bank's time zone, required for every operation on a draft.
 * 0 allowed, H2H_ESTATE refused by the state, H2H_EINVALID (see the top
 * of this file); err->msg names the draft and the reason.
 */
int fmt_draft_check(const struct fmt_draft *d,
                    const struct fmt_bill_request *rq, const char *today,
                    struct h2h_err *err);

/*
 * Record the bank's answer to rq (a request fmt_draft_check allowed) in d:
 *   - from the operation's starting state: ACCEPTED -> the final state,
 *     PENDING -> the pending state (pending_dir OUT, prev_status the
 *     starting state), REJECTED -> nothing changes (the bank refused the
 *     request);
 *   - from that pending state (pending_dir OUT): ACCEPTED -> final,
 *     PENDING -> nothing changes, REJECTED -> the counterparty refused:
 *     back to prev_status (present_payment: dishonoured);
 *   - withdraw, sign, refuse and issue have no pending stage: ACCEPTED
 *     takes effect, REJECTED changes nothing, PENDING is H2H_EINVALID;
 *   - issue needs d in state none; ACCEPTED copies rq->draft into d as a
 *     registered draft (a divisible one without a range gets 1..amount);
 *     the caller fills the number the bank assigned;
 *   - the holder follows the draft: the counterparty of an accepted
 *     endorsement or discount (when the request names it), the payee once
 *     a receipt is signed;
 *   - inquiries change nothing.
 * When the operation took part of a divisible piece (and the outcome is
 * not REJECTED), d becomes that part and *split_rest (zeroed on entry,
 * required then) receives the remainder in d's former state.
 * Dates are not checked again (an answer may come on any day).
 * Returns 1 when split_rest was filled, 0 when not, H2H_ESTATE when the
 * answer does not fit d's state, H2H_EINVALID for a bad request, outcome
 * or range, H2H_ENOMEM; d is unchanged on failure.
 */
int fmt_draft_apply(struct fmt_draft *d, const struct fmt_bill_request *rq,
                    enum fmt_bill_outcome outcome, struct fmt_draft *split_rest,
                    struct h2h_err *err);

/*
 * A notice: n->draft was presented to us.  d is our record of that piece
 * (zeroed when the draft is new to us: it then receives a copy of
 * n->draft).  d moves to the pending state of n->kind with pending_dir IN
 * and prev_status its former state.  A record we already have must have
 * the notice's number and sub-range.  Allowed former states:
 *   present_acceptance, present_receipt: none, refused
 *   endorse:         none, refused, endorsed, delivered (it comes back)
 *   release:         pledged, pending_release (ours, OUT; the prev stays)
 *   present_payment: none, liable, delivered (we drew and accepted it)
 *   recourse:        none, delivered, endorsed, discounted, liable, refused
 * 0, H2H_ESTATE (the record's state does not fit), H2H_EINVALID (bad
 * notice, other draft, bank acceptance to accept or pay), H2H_ENOMEM.
 */
int fmt_draft_receive(struct fmt_draft *d, const struct fmt_bill_notice *n,
                      struct h2h_err *err);

/* ---- maturity and pool ----------------------------------------------------
 */

/* Days from today to the maturity date (0 on it, negative after) in *days.
 * 0 or H2H_EINVALID (a date missing or invalid). */
int fmt_draft_days_to_maturity(const struct fmt_draft *d, const char *today,
                               long *days);

/* 1 when the draft's rights are ours to watch for maturity: held, pledged,
 * dishonoured, released to us awaiting our signature, or one of these
 * with an operation of ours pending; else 0. */
int fmt_draft_is_ours(const struct fmt_draft *d);

/* Pool figures: one currency throughout, nothing negative, used +
 * available <= total.  0 or H2H_EINVALID. */
int fmt_bill_pool_check(const struct fmt_bill_pool *p, struct h2h_err *err);

#endif
