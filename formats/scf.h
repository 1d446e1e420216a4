/*
 * scf.h - supply-chain finance in the canonical model: receivable
 * financing requests (应收账款融资, reverse factoring 反向保理), their
 * status, repayment notices, inquiries and cancellations; and the
 * multi-level transferable credit vouchers (电子债权凭证, the 融信 / 云信
 * style) with the state machine that refuses invalid operations before
 * anything is sent.
 *
 * Pure code: no I/O, no XML.  The canonical XML and ISO 20022 tsin
 * modules and the bank dialects convert to and from these structs; the
 * daemon keeps them in its store.
 *
 * ==== Receivable financing ====
 *
 * A struct fmt_scf_request asks one bank to finance one or more invoices.
 *   kind receivable:         the requestor is the supplier (us), the
 *                            invoices are ours, the funds go to credit_acct.
 *   kind reverse_factoring:  the requestor is the core enterprise (us, the
 *                            buyer) on behalf of its suppliers; every
 *                            invoice names its seller and the seller's
 *                            account, which the bank credits.
 *
 * Status of a request, as the bank reports it (names are stable):
 *
 *   from           may move to
 *   submitted      under_review, approved, rejected, financed, cancelled
 *   under_review   approved, rejected, financed, cancelled
 *   approved       financed, cancelled
 *   financed       repaid
 *   rejected, repaid, cancelled: final.
 *
 * "financed" means disbursed; a bank may disburse without a separate
 * approval.  Cancellation is possible only before disbursement.  There is
 * no approved -> rejected: once a bank has committed to terms, withdrawing
 * them is a cancellation on its side.  A status equal to the current one
 * is a repeat (a bank answering an inquiry), never an error: it may fill
 * terms not yet known but must not contradict known ones.  "repaid" is
 * reached either by a status report or by "paid" repayment notices whose
 * principal adds up to the financed amount.
 *
 * Terms the checks enforce (fmt_scf_track_*): an approved or financed
 * amount is > 0, in the request's currency, and never more than requested;
 * a financed amount never more than approved; value date <= maturity;
 * repaid principal never more than financed.
 *
 * Mapping to ISO 20022 (so the tsin module loses nothing):
 *  tsin.001 InvoiceFinancingRequest <- struct fmt_scf_request
 *    ReqGrpInf/GrpId request_id (Max35Text), CreDtTm cre_dt_tm,
 *    NbOfInvcReqs n_invoices, TtlBlkInvcAmt the sum of invoice amounts,
 *    Ccy ccy, FincgAgrmt agreement_ref, FincgRqstr/PtyId requestor,
 *    FincgRqstr/CdtAcct credit_acct, FincgRqstr/FincgAcct financing_acct,
 *    IntrmyAgt intermediary, FrstAgt bank.  What tsin has no element for
 *    goes to AddtlInf with InfTp/Prtry "H2H:KIND" (kind name),
 *    "H2H:PRODUCT" (product), "H2H:VALUEDATE" (value_date), "H2H:REQAMT"
 *    (requested, decimal), "H2H:CONTRACT" (contract_ref); addtl_info is
 *    one more AddtlInf with InfTp/Prtry "H2H:INFO".
 *    InvcReqInf per invoice: InvcGnlInf DocTp CINV, DocNb number, IsseDt
 *    issue_date; InvcTtlsInf TtlTaxblAmt taxable (amount when absent),
 *    TtlTaxAmt tax (0 when absent), TtlInvcAmt amount, PmtDueDt due_date;
 *    ReqdAmt/Amt requested or ReqdAmt/Rate requested_rate; Spplr/PtyId
 *    seller (the requestor when absent, receivable kind), Spplr/AcctId
 *    seller_acct; Buyr/PtyId buyer; InvcPmtInf/PmtMtd pmt_method ("TRF"
 *    when absent); RfrdDoc Tp/Cd CMCN contract_ref; RfrdDoc Tp/Prtry
 *    "TAXCODE" tax_invoice_code.  Instalments are not modelled: a reader
 *    meeting InstlmtInf reports it as unsupported.
 *  tsin.002 InvoiceFinancingStatus <- struct fmt_scf_status_report
 *    StsId/Id status_id, StsId/CreDtTm cre_dt_tm, OrgnlReqInfAndSts/Id
 *    orgnl_request_id, /CreDtTm orgnl_cre_dt_tm.  VldtnStsInf/Sts is RCER
 *    for status rejected when no invoice result is given (refused as a
 *    whole, reason in StsRsn/Cd or Prtry and AddtlStsRsnInf), RCCF
 *    otherwise.  CxlStsInf: cancel_answer accepted PACK / refused REJT,
 *    with cancel_reason.  FincgInfAndSts/FincgAllwdSummry: FincdItmNb
 *    n_financed_items, TtlAccptdItmsAmt accepted_total, ApldPctg
 *    applied_pctg, TtlFincdAmt financed, FincgDtDtls/CdtDt value_date,
 *    /DbtDt maturity_date, /BookDt book_date, CdtAcct / FincgAcct.  Per
 *    invoice InvcFincgDtls: OrgnlInvcInf DocNb number, TtlInvcAmt
 *    invoice_amount, IsseDt issue_date, PmtDueDt due_date; Spplr seller;
 *    InvcFincgRslt/FincgReqSts accepted FNCD, pending PDNG, rejected NTFD
 *    (fmt_scf_item_iso), StsRsn reason, FincdAmt/Amt financed or /Rate
 *    financed_rate.  The request's status is not a tsin field; the tsin
 *    reader derives it: RCER or every item NTFD -> rejected; CxlStsInf
 *    PACK -> cancelled; a CdtDt -> financed; any FNCD -> approved; else
 *    under_review (submitted when there is no FincgInfAndSts).
 *    interest_rate and loan_ref exist in bank dialects only.
 *  tsin.003 InvoiceFinancingCancellation <- struct fmt_scf_cancel
 *    CxlReqId/Id cancel_id, /CreDtTm cre_dt_tm; CxlReqInf/OrgnlGrpId
 *    orgnl_request_id, OrgnlCreDtTm orgnl_cre_dt_tm, NbOfInvcReqs
 *    nb_of_invoices, TtlBlkInvcAmt total_invoice_amount, CxlRsn reason
 *    (Max105Text; reason_code is for dialects), FincgRqstr requestor,
 *    FrstAgt bank.
 *
 * ==== Credit vouchers ====
 *
 * A voucher is the core enterprise's (issuer's) promise to pay an amount
 * at maturity.  It is issued to a tier-1 supplier (the root of a tree,
 * level 1); a holder may split it by transferring part or all of what it
 * still holds to a lower-tier supplier, which creates a child voucher
 * (level + 1) for the transferred amount while the parent keeps the rest
 * (remaining).  Ids are the platform's; parties are the platform's member
 * ids (e.g. the unified social credit code), compared exactly.
 *
 * Voucher status (names stable):
 *   pending    issued or transferred, awaiting the receiver's signature
 *   held       signed; its holder may transfer or finance what remains
 *   financed   its remaining amount is pledged / assigned to a bank, which
 *              the issuer pays at maturity
 *   settled    paid by the issuer at maturity
 *   refused    the receiver refused it
 *   withdrawn  the sender withdrew it before it was signed
 * refused and withdrawn are dead: their amount went back to the parent
 * (remaining 0).  pending, held and financed are live.
 *
 * Operations (fmt_voucher_op, names stable):
 *   issue     issuer -> tier-1: creates a pending root.  The id is new,
 *             amount > 0, maturity after the issue date, tier-1 is not
 *             the issuer.
 *   sign      the receiver (holder of a pending voucher) accepts: held.
 *   refuse    the receiver refuses a pending voucher: refused, its amount
 *             returns to the parent's remaining.
 *   withdraw  the sender (transferor: the issuer for a root, the parent's
 *             holder for a child) takes back a pending voucher: withdrawn,
 *             the amount returns likewise.
 *   transfer  the holder of a held voucher transfers amount (0 < amount
 *             <= remaining) to another party before maturity: a pending
 *             child with new_id; parent's remaining -= amount.
 *   finance   the holder of a held voucher finances its whole remaining
 *             amount at a bank (amount 0 means "the remaining amount"; any
 *             other amount must equal it) before maturity (strictly), with
 *             no transfer of it still pending (the pledged amount must be
 *             final): financed.
 *   settle    the issuer, on or after maturity, pays the tree: every held
 *             or financed voucher becomes settled.  Refused while any
 *             voucher of the tree is still pending (it must be signed,
 *             refused or withdrawn first) and once the tree is settled.
 * Every operation names a date, never earlier than the voucher's own
 * issue date, and none touches a settled tree.  Inquiry of holdings is
 * fmt_voucher_holdings over the vouchers the bank listed.
 *
 * Partial views: the operations work on whatever vouchers the caller has;
 * a bank's holdings list may hold a child without its parent.  Then a
 * refusal or withdrawal changes only the child (the parent belongs to
 * someone else's view), and a settlement covers the vouchers in the set
 * that share the root id.  fmt_voucher_tree_check, in contrast, needs
 * whole trees (every parent and root present).
 *
 * Tree invariants (fmt_voucher_tree_check): ids unique; a child's parent
 * exists, with level = parent's + 1, the same root, issuer, original
 * holder, maturity and currency; 0 <= remaining <= amount; for every
 * voucher remaining + the amounts of its live and settled children ==
 * amount; dead and pending vouchers have no live children; a financed
 * voucher names its bank; a tree is settled all at once (no live voucher
 * beside a settled one).
 *
 * ==== Common rules ====
 *
 * Text: UTF-8, NUL-terminated, NULL when absent.  Dates "YYYY-MM-DD",
 * timestamps ISO 8601 as given (see model.h).  Amounts: int64 minor units
 * plus ISO 4217 code (amount.h); an absent amount has ccy "".  Rates are
 * percentages as exact int64 in units of 1e-10 percent (FMT_SCF_RATE_ONE
 * is 1 percent; tsin allows 10 decimals), -1 when absent.
 *
 * Ownership: a struct's strings and arrays belong to it and are freed by
 * its _release (accepts NULL and zeroed structs, leaves a zeroed struct:
 * with the -1 "absent" markers where the struct has an _init).  The
 * strings of struct fmt_voucher_op are borrowed: apply copies what it
 * keeps.
 *
 * Errors: 0 or a negative H2H_E* code with struct h2h_err (may be NULL)
 * filled with the reason in words a treasury user understands:
 * H2H_ESTATE (not allowed in this state: pending, financed, final, ...),
 * H2H_EINVALID (breaks a rule: amount, date, currency, wrong party),
 * H2H_ENOTFOUND (no such voucher / request), H2H_EDUP (id exists),
 * H2H_ENOMEM.  A function that fails changes nothing.
 *
 * Threads: plain data and pure functions, no globals; any thread.
 */
#ifndef FMT_SCF_H
#define FMT_SCF_H

#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"
#include "model.h"

/* 1 percent in the units of every rate below. */
#define FMT_SCF_RATE_ONE 10000000000LL

/* Parse an unsigned decimal percentage ("3.45", "80", "0.0000000001") into
 * units of 1e-10 percent; more than 10 decimals, a sign, an exponent or
 * more than 18 significant digits is H2H_EINVALID (never rounded). */
int fmt_scf_rate_parse(const char *s, size_t len, int64_t *rate,
                       struct h2h_err *err);
/* Shortest exact decimal of rate ("3.45", "80"); returns the length or
 * H2H_EINVALID (negative rate) / H2H_ETOOBIG (buf < 32 bytes needed). */
int fmt_scf_rate_format(int64_t rate, char *buf, size_t bufsz);

/* ---- receivable financing request -------------------------------------- */

enum fmt_scf_kind {
    FMT_SCF_RECEIVABLE = 0,        /* "receivable" (应收账款融资) */
    FMT_SCF_REVERSE_FACTORING = 1, /* "reverse_factoring" (反向保理) */
};

struct fmt_scf_invoice {
    char *number;                   /* invoice number (DocNb, Max35Text) */
    char *issue_date;               /* IsseDt */
    char *due_date;                 /* PmtDueDt */
    struct fmt_amount amount;       /* TtlInvcAmt, tax included, > 0 */
    struct fmt_amount taxable;      /* TtlTaxblAmt, ccy "" when absent */
    struct fmt_amount tax;          /* TtlTaxAmt, ccy "" when absent */
    struct fmt_amount requested;    /* financing asked on it, ccy "" absent */
    int64_t requested_rate;         /* or as a share of amount; -1 absent */
    struct fmt_party buyer;         /* the debtor of the receivable */
    struct fmt_party seller;        /* the supplier; may be empty for kind
                                       receivable (then the requestor) */
    struct fmt_account seller_acct; /* reverse factoring: account the bank
                                       credits for this supplier */
    char *pmt_method;               /* TRF, CHK, ...; NULL: TRF */
    char *contract_ref;     /* commercial contract; NULL: the request's */
    char *tax_invoice_code; /* Chinese VAT invoice code (发票代码): 10 or
                               12 digits; NULL for fully digital ones */
    int line;               /* source line, 0 when unknown */
};

struct fmt_scf_request {
    char *request_id; /* our id, the bank-visible idempotency key */
    char *cre_dt_tm;
    enum fmt_scf_kind kind;
    struct fmt_party requestor;        /* us: supplier or core enterprise */
    struct fmt_account credit_acct;    /* our account to credit */
    struct fmt_account financing_acct; /* loan account, when the bank
                                          wants one named */
    struct fmt_agent bank;             /* the financing bank (FrstAgt) */
    struct fmt_agent intermediary;     /* IntrmyAgt, usually empty */
    char *product;                     /* the bank's product code */
    char *agreement_ref;               /* financing agreement with the bank */
    char *contract_ref;          /* default commercial contract of invoices */
    char ccy[4];                 /* currency of every amount of the request */
    struct fmt_amount requested; /* total financing asked, > 0 */
    char *value_date;            /* requested value date, NULL: asap */
    struct fmt_scf_invoice *invoices;
    size_t n_invoices;
    char *addtl_info;
};

/* ---- status of a request ----------------------------------------------- */

enum fmt_scf_status {
    FMT_SCF_SUBMITTED = 0, /* "submitted": the bank has it */
    FMT_SCF_UNDER_REVIEW,  /* "under_review" */
    FMT_SCF_APPROVED,      /* "approved": terms known, not yet paid out */
    FMT_SCF_REJECTED,      /* "rejected" (final) */
    FMT_SCF_FINANCED,      /* "financed": disbursed to the account */
    FMT_SCF_REPAID,        /* "repaid" (final) */
    FMT_SCF_CANCELLED,     /* "cancelled" (final) */
    FMT_SCF_STATUS__COUNT
};

/* Per invoice result; ISO FinancingRequestStatus FNCD / PDNG / NTFD. */
enum fmt_scf_item {
    FMT_SCF_ITEM_ACCEPTED = 0, /* "accepted" */
    FMT_SCF_ITEM_PENDING,      /* "pending" */
    FMT_SCF_ITEM_REJECTED,     /* "rejected" */
    FMT_SCF_ITEM__COUNT
};

/* Answer to a cancellation request, when the report carries one. */
enum fmt_scf_cancel_answer {
    FMT_SCF_CXL_NONE = 0,     /* "none" */
    FMT_SCF_CXL_ACCEPTED = 1, /* "accepted" (PACK) */
    FMT_SCF_CXL_REFUSED = 2,  /* "refused" (REJT) */
};

struct fmt_scf_invoice_result {
    char *number;
    struct fmt_amount invoice_amount; /* ccy "" when not repeated */
    char *issue_date, *due_date;
    struct fmt_party seller; /* empty when not repeated */
    enum fmt_scf_item result;
    struct fmt_reason reason;   /* code (ISO) or prtry, and words */
    struct fmt_amount financed; /* FincdAmt/Amt, ccy "" when absent */
    int64_t financed_rate;      /* FincdAmt/Rate, -1 when absent */
};

struct fmt_scf_status_report {
    char *status_id;
    char *cre_dt_tm;
    char *orgnl_request_id;
    char *orgnl_cre_dt_tm;
    enum fmt_scf_status status;
    struct fmt_reason reason; /* why rejected (code + words) */
    enum fmt_scf_cancel_answer cancel_answer;
    struct fmt_reason cancel_reason;
    struct fmt_amount financed;       /* approved / disbursed amount */
    struct fmt_amount accepted_total; /* invoices accepted, total */
    int64_t n_financed_items;         /* -1 when absent */
    int64_t applied_pctg;             /* advance ratio, -1 absent */
    int64_t interest_rate;            /* per annum, -1 absent */
    char *value_date;                 /* funds credited (CdtDt) */
    char *maturity_date;              /* loan due (DbtDt) */
    char *book_date;                  /* BookDt, NULL absent */
    char *loan_ref;                   /* bank's loan reference */
    struct fmt_account credit_acct;
    struct fmt_account financing_acct;
    struct fmt_scf_invoice_result *invoices;
    size_t n_invoices;
};

/* ---- repayment notice, inquiry, cancellation --------------------------- */

enum fmt_scf_repay_kind {
    FMT_SCF_REPAY_DUE = 0,  /* "due": the bank announces what falls due */
    FMT_SCF_REPAY_PAID = 1, /* "paid": the bank debited a repayment */
};

struct fmt_scf_repayment {
    char *notice_id;
    enum fmt_scf_repay_kind kind;
    char *request_id; /* the financing repaid; or NULL and loan_ref */
    char *loan_ref;
    struct fmt_amount amount;    /* total, principal plus interest */
    struct fmt_amount principal; /* ccy "" when not split out */
    struct fmt_amount interest;  /* ccy "" when not split out */
    char *due_date;              /* due: when; paid: when debited */
    struct fmt_account debit_acct;
};

struct fmt_scf_inquiry {
    char *inquiry_id;
    char *cre_dt_tm;
    char *request_id; /* the request asked about */
};

struct fmt_scf_cancel {
    char *cancel_id;
    char *cre_dt_tm;
    char *orgnl_request_id;
    char *orgnl_cre_dt_tm;
    int64_t nb_of_invoices;                 /* -1 when absent */
    struct fmt_amount total_invoice_amount; /* ccy "" when absent */
    char *reason_code;                      /* dialects only */
    char *reason;                           /* words, <= 105 characters */
    struct fmt_party requestor;
    struct fmt_agent bank;
};

/* ---- what h2hd knows of one request: folded from the bank's reports ---- */

struct fmt_scf_track {
    char *request_id;
    char *loan_ref;
    enum fmt_scf_status status;
    struct fmt_amount requested;
    struct fmt_amount approved; /* ccy "" until approved */
    struct fmt_amount financed; /* ccy "" until disbursed */
    struct fmt_amount repaid;   /* principal repaid so far */
    int64_t interest_rate;      /* -1 unknown */
    char *value_date, *maturity_date;
    struct fmt_reason reason; /* of a rejection or refused cancellation */
};

/* Start tracking a request just submitted (status submitted, requested
 * amount copied).  0 or H2H_ENOMEM. */
int fmt_scf_track_init(struct fmt_scf_track *t,
                       const struct fmt_scf_request *req, struct h2h_err *err);
/* Fold a status report into t: H2H_EINVALID when it is about another
 * request or breaks a term rule; H2H_ESTATE when the move is not an edge
 * (e.g. out of a final status, cancelled after disbursement). */
int fmt_scf_track_status(struct fmt_scf_track *t,
                         const struct fmt_scf_status_report *rep,
                         struct h2h_err *err);
/* Fold a repayment notice: only while financed; "paid" adds its
 * principal (or amount when not split out) and moves to repaid when the
 * financed amount is reached; more than that is H2H_EINVALID. */
int fmt_scf_track_repayment(struct fmt_scf_track *t,
                            const struct fmt_scf_repayment *rp,
                            struct h2h_err *err);
/* May c be sent for t?  Only before disbursement (submitted, under_review,
 * approved), for the same request, with a reason of 1..105 characters. */
int fmt_scf_cancel_check(const struct fmt_scf_track *t,
                         const struct fmt_scf_cancel *c, struct h2h_err *err);

/* 1 if the table has the edge from -> to (never for from == to). */
int fmt_scf_status_can_move(enum fmt_scf_status from, enum fmt_scf_status to);
/* 1 for rejected, repaid, cancelled. */
int fmt_scf_status_is_final(enum fmt_scf_status s);

/*
 * Every business rule of a request, each problem added to d (may be NULL:
 * then only counted) with a stable rule id: scf.id, scf.ccy, scf.amount,
 * scf.requestor, scf.account, scf.bank, scf.value_date, scf.invoices,
 * scf.invoice.number, scf.invoice.dup, scf.invoice.dates,
 * scf.invoice.due, scf.invoice.amount, scf.invoice.requested,
 * scf.invoice.buyer, scf.supplier, scf.invoice.tax_code, scf.sum.
 * today ("YYYY-MM-DD", may be NULL: not checked) is the earliest value
 * date and the day by which invoices must not yet be due.  Returns the
 * number of problems found (0: the request may be sent).
 */
int fmt_scf_request_check(const struct fmt_scf_request *r, const char *today,
                          struct fmt_diag *d);
/* A report against its request: same id; every invoice result names an
 * invoice of the request (number, and seller when both name one); a
 * financed item is in the request's currency and at most what was asked
 * on it (or its amount); a rejected item has nothing financed; accepted
 * items' financed amounts add up to the total when both are given.
 * 0 or H2H_EINVALID / H2H_ENOTFOUND with the first problem. */
int fmt_scf_status_report_check(const struct fmt_scf_status_report *rep,
                                const struct fmt_scf_request *req,
                                struct h2h_err *err);

/* ---- voucher ----------------------------------------------------------- */

enum fmt_voucher_status {
    FMT_VOUCHER_PENDING = 0, /* "pending" */
    FMT_VOUCHER_HELD,        /* "held" */
    FMT_VOUCHER_FINANCED,    /* "financed" */
    FMT_VOUCHER_SETTLED,     /* "settled" */
    FMT_VOUCHER_REFUSED,     /* "refused" */
    FMT_VOUCHER_WITHDRAWN,   /* "withdrawn" */
    FMT_VOUCHER_STATUS__COUNT
};

enum fmt_voucher_op_kind {
    FMT_VOUCHER_ISSUE = 0, /* "issue" */
    FMT_VOUCHER_SIGN,      /* "sign" */
    FMT_VOUCHER_REFUSE,    /* "refuse" */
    FMT_VOUCHER_WITHDRAW,  /* "withdraw" */
    FMT_VOUCHER_TRANSFER,  /* "transfer" (split and transfer) */
    FMT_VOUCHER_FINANCE,   /* "finance" */
    FMT_VOUCHER_SETTLE,    /* "settle" */
    FMT_VOUCHER_OP__COUNT
};

struct fmt_voucher {
    char *id;
    char *parent_id;       /* NULL for a root */
    char *root_id;         /* id of the tree's root (its own id for a root) */
    int level;             /* 1 for the root (tier-1), parent's + 1 below */
    char *issuer;          /* core enterprise, the obligor */
    char *original_holder; /* the tier-1 supplier of the tree */
    char *transferor;      /* who sent it: issuer, or the parent's holder */
    char *holder;          /* current holder (the receiver while pending) */
    struct fmt_amount amount; /* face amount of this voucher, > 0 */
    int64_t remaining;        /* of amount, what live children did not take */
    char *issue_date;         /* the day it was issued or transferred */
    char *maturity_date;
    enum fmt_voucher_status status;
    char *status_date; /* day of the last status change */
    char *fin_bank;    /* financed: the bank it is pledged / assigned to */
    char *fin_ref;     /* the bank's financing reference, may be NULL */
    char *fin_date;
    int64_t fin_amount; /* amount pledged; 0 when not financed */
};

/* One operation.  Strings are borrowed; what apply keeps it copies. */
struct fmt_voucher_op {
    enum fmt_voucher_op_kind kind;
    const char *voucher_id;    /* issue: the new root's id; settle: any
                                  voucher of the tree */
    const char *actor;         /* who does it (see the table at the top) */
    const char *date;          /* business day of the operation */
    const char *counterparty;  /* issue: tier-1; transfer: receiver;
                                  finance: the bank */
    struct fmt_amount amount;  /* issue: face; transfer: part; finance: 0
                                  or the remaining; ccy "" = voucher's */
    const char *new_id;        /* transfer: the child's id */
    const char *maturity_date; /* issue only */
    const char *ref;           /* finance: bank reference, optional */
};

/* A growable array of vouchers (several trees may share it). */
struct fmt_voucher_set {
    struct fmt_voucher *v;
    size_t n, cap;
};

void fmt_voucher_set_init(struct fmt_voucher_set *s);
void fmt_voucher_set_release(struct fmt_voucher_set *s);
/* Append a deep copy of src (e.g. loaded from the store or a bank list);
 * no check is made: run fmt_voucher_tree_check after loading.  0, H2H_EDUP
 * (an id already in s) or H2H_ENOMEM. */
int fmt_voucher_set_add(struct fmt_voucher_set *s,
                        const struct fmt_voucher *src, struct h2h_err *err);
/* The voucher with that id, or NULL. */
const struct fmt_voucher *fmt_voucher_find(const struct fmt_voucher *v,
                                           size_t n, const char *id);

/* Would op be accepted on v[0..n)?  0, or the refusal with its reason in
 * words in err (see Errors above).  Never modifies anything. */
int fmt_voucher_check(const struct fmt_voucher *v, size_t n,
                      const struct fmt_voucher_op *op, struct h2h_err *err);
/* Check, then apply op to s: new vouchers (issue, transfer) are appended
 * (pointers into s->v may move), the others change in place.  All or
 * nothing. */
int fmt_voucher_apply(struct fmt_voucher_set *s,
                      const struct fmt_voucher_op *op, struct h2h_err *err);
/* Every invariant of every tree in v[0..n) (see the top); 0 or
 * H2H_EINVALID naming the first voucher that breaks one.  H2H_ENOMEM. */
int fmt_voucher_tree_check(const struct fmt_voucher *v, size_t n,
                           struct h2h_err *err);

/* What one party has, in one currency (vouchers in others are skipped). */
struct fmt_voucher_holdings {
    size_t n_held;       /* held, free to transfer or finance */
    int64_t held;        /* their remaining amounts */
    size_t n_pending_in; /* addressed to party, awaiting its signature */
    int64_t pending_in;
    size_t n_pending_out; /* sent by party, not yet signed */
    int64_t pending_out;
    size_t n_financed; /* financed by party */
    int64_t financed;
    size_t n_settled; /* settled, what party was paid (or its bank) */
    int64_t settled;
    int64_t issued_live; /* party as issuer: live amount it owes */
};
/* Fill out for party (a member id) over v[0..n).  0, or H2H_EINVALID for
 * an unknown currency / missing party. */
int fmt_voucher_holdings(const struct fmt_voucher *v, size_t n,
                         const char *party, const char *ccy,
                         struct fmt_voucher_holdings *out, struct h2h_err *err);

/* A holdings inquiry to a bank / platform. */
struct fmt_voucher_inquiry {
    char *inquiry_id;
    char *party;      /* whose holdings (us) */
    char *voucher_id; /* one voucher (and its children), NULL: all */
    int status;       /* enum fmt_voucher_status, -1: any */
    char *maturity_from, *maturity_to; /* NULL: open */
};

/* ---- names (stable: stored, logged, in canonical XML) and release ------ */

const char *fmt_scf_kind_name(enum fmt_scf_kind k); /* "?" out of range */
const char *fmt_scf_status_name(enum fmt_scf_status s);
const char *fmt_scf_item_name(enum fmt_scf_item i);
const char *fmt_scf_item_iso(enum fmt_scf_item i); /* FNCD, PDNG, NTFD */
const char *fmt_scf_cancel_answer_name(enum fmt_scf_cancel_answer a);
const char *fmt_scf_repay_kind_name(enum fmt_scf_repay_kind k);
const char *fmt_voucher_status_name(enum fmt_voucher_status s);
const char *fmt_voucher_op_name(enum fmt_voucher_op_kind k);
/* Inverses (exact, lower case; _item_from_iso upper case); -1 if unknown
 * or NULL. */
int fmt_scf_kind_parse(const char *name);
int fmt_scf_status_parse(const char *name);
int fmt_scf_item_parse(const char *name);
int fmt_scf_item_from_iso(const char *code);
int fmt_scf_cancel_answer_parse(const char *name);
int fmt_scf_repay_kind_parse(const char *name);
int fmt_voucher_status_parse(const char *name);
int fmt_voucher_op_parse(const char *name);

/* Set the -1 "absent" markers; everything else zero. */
void fmt_scf_invoice_init(struct fmt_scf_invoice *i);
void fmt_scf_invoice_result_init(struct fmt_scf_invoice_result *r);
void fmt_scf_status_report_init(struct fmt_scf_status_report *r);
void fmt_scf_cancel_init(struct fmt_scf_cancel *c);
void fmt_voucher_inquiry_init(struct fmt_voucher_inquiry *q);

void fmt_scf_invoice_release(struct fmt_scf_invoice *i);
void fmt_scf_request_release(struct fmt_scf_request *r);
void fmt_scf_invoice_result_release(struct fmt_scf_invoice_result *r);
void fmt_scf_status_report_release(struct fmt_scf_status_report *r);
void fmt_scf_repayment_release(struct fmt_scf_repayment *r);
void fmt_scf_inquiry_release(struct fmt_scf_inquiry *q);
void fmt_scf_cancel_release(struct fmt_scf_cancel *c);
void fmt_scf_track_release(struct fmt_scf_track *t);
void fmt_voucher_release(struct fmt_voucher *v);
void fmt_voucher_inquiry_release(struct fmt_voucher_inquiry *q);
/* Deep copy of src into dst (dst's old content is not freed: pass a
 * zeroed or released struct).  0 or H2H_ENOMEM (dst left zeroed). */
int fmt_voucher_copy(struct fmt_voucher *dst, const struct fmt_voucher *src);

#endif
