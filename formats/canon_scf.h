/*
 * canon_scf.h - h2hd's canonical XML for supply-chain finance (scf.h),
 * namespace urn:h2hd:scf:1, schema formats/schemas/scf.xsd.
 *
 * Two roots, one per direction, each holding exactly one branch of a
 * choice (an xs:choice in the schema; the branch is the kind field of the
 * struct).  One root per direction keeps detection and routing to a
 * single look at the root element, and the branch names the model struct
 * inside:
 *
 *   <ScfRequest>  struct fmt_canon_scf_request: treasury drops one into a
 *                 channel's drop folder (h2hd writes them too, for tests
 *                 and tools).  Branches:
 *     <Fincg>     a financing request, struct fmt_scf_request: receivable
 *                 financing or reverse factoring, with its invoices;
 *     <Inq>       a status inquiry, struct fmt_scf_inquiry;
 *     <Cxl>       a cancellation, struct fmt_scf_cancel;
 *     <VchrOp>    a voucher operation (issue, sign, refuse, withdraw,
 *                 transfer, finance, settle), struct fmt_canon_scf_vop;
 *     <VchrInq>   a voucher holdings inquiry, struct fmt_voucher_inquiry.
 *   <ScfResult>   struct fmt_canon_scf_result: what h2hd writes to
 *                 out/scf.  Branches:
 *     <StsRpt>    a status report, struct fmt_scf_status_report, with
 *                 per-invoice results;
 *     <RpmtNtce>  a repayment notice, struct fmt_scf_repayment;
 *     <Hldgs>     voucher holdings: the vouchers listed (struct
 *                 fmt_voucher[]) and the totals (struct
 *                 fmt_voucher_holdings);
 *     <VchrOpRslt> a voucher operation's outcome and the vouchers it
 *                 affected (a transfer: the parent and the new child).
 *
 * A short request, a voucher transfer splitting 400000.00 off a voucher
 * to a tier-2 supplier:
 *
 *   <ScfRequest xmlns="urn:h2hd:scf:1">
 *     <VchrOp>
 *       <ReqId>VT-2025-0012</ReqId>
 *       <Op>transfer</Op>
 *       <VchrId>RX-2025-000123</VchrId>
 *       <Actr>91440300MA5G8T1X2K</Actr>
 *       <Dt>2025-03-03</Dt>
 *       <Cpty>91440606MA4UJ7KQ3E</Cpty>
 *       <Amt Ccy="CNY">400000.00</Amt>
 *       <NewId>RX-2025-000123-01</NewId>
 *     </VchrOp>
 *   </ScfRequest>
 *
 * Element names follow ISO 20022 abbreviations (those of tsin where one
 * exists: FrstAgt, Spplr, Buyr, ApldPctg ...) and canonical.xsd's shapes
 * (Party, Account, Agent, Reason); the schema documents every element.
 * Values travel exactly as the model holds them: amounts with the
 * currency's decimals and a Ccy attribute (a voucher's remaining and
 * financed amounts and the holdings totals, which the model keeps as bare
 * minor units, in the currency of their voucher / totals), rates as
 * percentages with up to 10 decimals (FMT_SCF_RATE_ONE is <X>1</X>),
 * enums by their fmt_*_name() names; -1 / NULL / ""-ccy / "none" is an
 * absent element.
 *
 * Lossless: write -> read gives back every field of the branch written,
 * with three exceptions that are not data: an invoice's line (the reader
 * sets it to the line of <Invc>, the writer never writes it), the
 * struct fmt_canon_scf_request line (likewise, the branch element's line)
 * and a holdings ccy without totals (has_totals 0: neither is written).
 * The other branches are not written; a reader leaves them as
 * fmt_canon_scf_*_init() sets them.
 *
 * Writers render the whole document in memory and copy it to out only
 * when it is complete: on failure nothing is written.  They refuse what
 * the schema would refuse (H2H_EINVALID, err naming the element path:
 * a missing branch or required element, an id or date of the wrong
 * shape, an enum value without a name, a negative amount or one without
 * a known currency, a negative rate) and what XML 1.0 cannot carry
 * (H2H_ECHARSET), so every document written validates against scf.xsd.
 * A financing request is first run through fmt_scf_request_check(r, NULL)
 * and a voucher operation through fmt_canon_scf_vop_check(); a request
 * either refuses is refused with its first problem, as
 * "ScfRequest/Fincg/Invcs/Invc[2]: <reason>": h2hd never produces a
 * request it would itself turn down.  H2H_EIO when out fails.
 *
 * Readers stream through xmlsafe.h (no DTD, no network, depth and size
 * caps).  Fatal, with err filled: input that is not well-formed, is
 * refused for security or is not UTF-8 (H2H_EPARSE, H2H_ESECURITY,
 * H2H_ECHARSET, H2H_EUNSUPPORTED for UTF-16), another root or namespace
 * (H2H_EUNSUPPORTED), H2H_ENOMEM.  Everything else is a problem recorded
 * in diag (may be NULL) with a line, an element path relative to the
 * root ("Fincg/Invcs/Invc[2]/Amt") and a rule, and reading goes on:
 *   scf.xml.<what>   the form (canon_common.h's list: unknown, namespace,
 *                    text, repeated, missing, value, enum, amount,
 *                    amount.ccy, integer, boolean, rate, too_many,
 *                    choice), at the line of the element concerned (for
 *                    a missing element: of the element that lacks it; a
 *                    missing branch is "scf.xml.missing" at ScfRequest /
 *                    ScfResult);
 *   scf.<rule>       (<Fincg> only) what fmt_scf_request_check() reports,
 *                    with its rule id (scf.id, scf.ccy, scf.amount,
 *                    scf.requestor, scf.account, scf.bank, scf.value_date,
 *                    scf.invoices, scf.invoice.*, scf.supplier, scf.sum)
 *                    and words, at the line of <Invc> for an invoice's
 *                    problem and of <Fincg> for the others, the path
 *                    naming the element ("Fincg/ReqdAmt",
 *                    "Fincg/Invcs/Invc[3]").  Run without "today": the
 *                    reader does not know the bank's day; the daemon runs
 *                    the check again with it once the bank is known;
 *   scf.voucher.<what> (<VchrOp> with an operation only) what
 *                    fmt_canon_scf_vop_check() reports, at the line of
 *                    <VchrOp>, path "VchrOp/<element>".
 * Readers return 0 when the document was read without a problem,
 * H2H_EINVALID when it was read but had problems (err: "<name>: N
 * problems, the first: line L: where: msg"; diag has them all) - the
 * request is then refused, and *out holds what could be read, for the
 * log - or a fatal code.
 *
 * Ownership: readers initialise *out (fmt_canon_scf_*_init) without
 * releasing it (pass a zeroed or released struct); the caller releases it
 * with fmt_canon_scf_*_release, also after a failure.  Writers do not own
 * out.
 *
 * Threads: no globals beyond fmt_xml_init(); any thread, one call per
 * struct at a time.
 */
#ifndef FMT_CANON_SCF_H
#define FMT_CANON_SCF_H

#include <stddef.h>
#include <stdio.h>

#include "h2h_err.h"
#include "model.h"
#include "scf.h"

#define FMT_CANON_SCF_NS "urn:h2hd:scf:1"

/* What fmt_canon_scf_detect() recognises. */
enum fmt_canon_scf_doc {
    FMT_CANON_SCF_REQUEST = 1, /* <ScfRequest> */
    FMT_CANON_SCF_RESULT = 2,  /* <ScfResult> */
};

/* Which scf root the first start tag of buf[0..len) is (enum
 * fmt_canon_scf_doc), or -1: not an scf document (a bills or payment
 * file, ...).  A cheap look at the prologue, not a validation: the root
 * start tag with its namespace declaration must lie within buf. */
int fmt_canon_scf_detect(const char *buf, size_t len);

/* ---- requests ------------------------------------------------------------ */

/* The branch of a <ScfRequest>. */
enum fmt_canon_scf_req_kind {
    FMT_CANON_SCF_REQ_NONE = 0,
    FMT_CANON_SCF_FINANCING = 1,   /* <Fincg>   fincg */
    FMT_CANON_SCF_INQUIRY = 2,     /* <Inq>     inq */
    FMT_CANON_SCF_CANCEL = 3,      /* <Cxl>     cxl */
    FMT_CANON_SCF_VOUCHER_OP = 4,  /* <VchrOp>  vop */
    FMT_CANON_SCF_VOUCHER_INQ = 5, /* <VchrInq> vinq */
};

/* A voucher operation as treasury asks for it: struct fmt_voucher_op's
 * fields, owned, plus the request id (the bank-visible idempotency key,
 * which the model's operation does not carry).  kind is -1 when unknown
 * (a reader that met no valid <Op>). */
struct fmt_canon_scf_vop {
    char *req_id;
    enum fmt_voucher_op_kind kind;
    char *voucher_id;         /* issue: the new root's id */
    char *actor;              /* who does it (member id) */
    char *date;               /* business day, YYYY-MM-DD */
    char *counterparty;       /* issue: tier-1; transfer: receiver;
                                 finance: the bank */
    struct fmt_amount amount; /* issue: face; transfer: the part; finance:
                                 the remaining amount (or absent) */
    char *new_id;             /* transfer: the child's id */
    char *maturity_date;      /* issue only */
    char *ref;                /* finance: the bank's reference */
};

/* The model's view of w (strings borrowed from w, valid while w is). */
void fmt_canon_scf_vop_view(const struct fmt_canon_scf_vop *w,
                            struct fmt_voucher_op *op);
/* Fill w (released first) with copies of req_id and op's strings.  0 or
 * H2H_ENOMEM (w left released). */
int fmt_canon_scf_vop_set(struct fmt_canon_scf_vop *w, const char *req_id,
                          const struct fmt_voucher_op *op);

/*
 * The shape of an operation, what it needs and takes without knowing the
 * vouchers (fmt_voucher_check() decides the rest against the bank's
 * view).  Each problem goes to d (may be NULL: then only counted), line 0,
 * where the element inside <VchrOp>, with a rule:
 *   scf.voucher.op           no valid operation
 *   scf.voucher.id           no voucher id
 *   scf.voucher.actor        no actor
 *   scf.voucher.date         no valid date
 *   scf.voucher.counterparty issue / transfer / finance without one, or
 *                            one that is the actor itself
 *   scf.voucher.amount       issue without a positive face amount;
 *                            transfer without a positive part; finance
 *                            with a negative one; any amount without its
 *                            currency
 *   scf.voucher.new_id       transfer without the new voucher's id, or
 *                            with the id of the voucher split
 *   scf.voucher.maturity     issue without a maturity after its date
 *   scf.voucher.unused       an element the operation does not take (a
 *                            sign with an amount ...): a mistake, since it
 *                            would be ignored
 * Returns the number of problems (0: the operation may be sent).
 */
int fmt_canon_scf_vop_check(const struct fmt_canon_scf_vop *w,
                            struct fmt_diag *d);

struct fmt_canon_scf_request {
    enum fmt_canon_scf_req_kind kind; /* which branch; the others unused */
    struct fmt_scf_request fincg;
    struct fmt_scf_inquiry inq;
    struct fmt_scf_cancel cxl;
    struct fmt_canon_scf_vop vop;
    struct fmt_voucher_inquiry vinq;
    int line; /* reader: line of the branch's start tag; 0 unknown */
};

/* ---- results ------------------------------------------------------------- */

/* The branch of a <ScfResult>. */
enum fmt_canon_scf_res_kind {
    FMT_CANON_SCF_RES_NONE = 0,
    FMT_CANON_SCF_STATUS = 1,    /* <StsRpt>     sts */
    FMT_CANON_SCF_REPAYMENT = 2, /* <RpmtNtce>   rpmt */
    FMT_CANON_SCF_HOLDINGS = 3,  /* <Hldgs>      hldgs */
    FMT_CANON_SCF_VOP_RESULT = 4 /* <VchrOpRslt> vrslt */
};

/* What became of a voucher operation at the bank / platform. */
enum fmt_canon_scf_outcome {
    FMT_CANON_SCF_OUTCOME_NONE = 0,
    FMT_CANON_SCF_ACCEPTED = 1, /* "accepted": took effect */
    FMT_CANON_SCF_PENDING = 2,  /* "pending": registered, awaits the
                                   bank's review */
    FMT_CANON_SCF_REJECTED = 3, /* "rejected": refused, see bank_code */
    FMT_CANON_SCF_OUTCOME__COUNT
};
const char *fmt_canon_scf_outcome_name(enum fmt_canon_scf_outcome o);
int fmt_canon_scf_outcome_parse(const char *name); /* -1 if unknown */

/* Voucher holdings or a voucher list (answer to a <VchrInq>, or sent
 * unasked). */
struct fmt_canon_scf_holdings {
    char *req_id; /* the inquiry answered; NULL: none */
    char *party;  /* whose holdings (member id), required */
    char *as_of;  /* date or timestamp of the figures */
    int has_totals;
    char ccy[4]; /* the totals' currency (with the totals only) */
    struct fmt_voucher_holdings totals;
    struct fmt_voucher *vouchers;
    size_t n_vouchers;
};

/* A voucher operation's outcome. */
struct fmt_canon_scf_vop_result {
    char *req_id; /* the <VchrOp> answered, required */
    enum fmt_voucher_op_kind op;
    enum fmt_canon_scf_outcome outcome;
    char *bank_code, *bank_text;  /* the platform's return code and text */
    struct fmt_voucher *vouchers; /* those it affected, as they now are */
    size_t n_vouchers;
};

struct fmt_canon_scf_result {
    enum fmt_canon_scf_res_kind kind; /* which branch; the others unused */
    struct fmt_scf_status_report sts;
    struct fmt_scf_repayment rpmt;
    struct fmt_canon_scf_holdings hldgs;
    struct fmt_canon_scf_vop_result vrslt;
};

/* ---- set-up, release ----------------------------------------------------- */

/* Zero everything and set the -1 "absent" markers of every branch (the
 * model's _init functions, and -1 for enums that have no "none"). */
void fmt_canon_scf_request_init(struct fmt_canon_scf_request *r);
void fmt_canon_scf_result_init(struct fmt_canon_scf_result *r);
/* Free every branch; leaves r as _init leaves it.  NULL is fine. */
void fmt_canon_scf_vop_release(struct fmt_canon_scf_vop *w);
void fmt_canon_scf_request_release(struct fmt_canon_scf_request *r);
void fmt_canon_scf_result_release(struct fmt_canon_scf_result *r);

/* ---- writing and reading ------------------------------------------------- */

int fmt_canon_scf_write_request(FILE *out,
                                const struct fmt_canon_scf_request *rq,
                                struct h2h_err *err);
int fmt_canon_scf_write_result(FILE *out, const struct fmt_canon_scf_result *r,
                               struct h2h_err *err);

int fmt_canon_scf_read_request(const struct fmt_src *src,
                               struct fmt_canon_scf_request *out,
                               struct fmt_diag *diag, struct h2h_err *err);
int fmt_canon_scf_read_result(const struct fmt_src *src,
                              struct fmt_canon_scf_result *out,
                              struct fmt_diag *diag, struct h2h_err *err);

#endif
