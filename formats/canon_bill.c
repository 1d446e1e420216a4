/*
 * canon_bill.c - canonical XML for bills; see canon_bill.h.
 *
 * Only tables and the request check live here: writing and reading are
 * canon_common's, so bills.xsd, the writer and the reader follow one
 * description.  The tables list every field of bill.h in schema order;
 * each row names the bills.xsd element that carries the field.
 */
#include "canon_bill.h"

#include <stdint.h>
#include <string.h>

#include "canon_common.h"

/* The engine reads and writes enums as int. */
_Static_assert(sizeof(enum fmt_bill_op) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_draft_status) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_draft_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_bill_dir) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_bill_outcome) == sizeof(int), "enum size");
_Static_assert(FMT_BILL_OP_COUNT <= 64 && FMT_DRAFT_STATUS_COUNT <= 64,
               "enum masks are 64 bits");

/* A sub-range is one element over two adjacent int64_t fields. */
#define RANGE_OK(T)                                                            \
    _Static_assert(offsetof(T, sub_to) ==                                      \
                       offsetof(T, sub_from) + sizeof(int64_t),                \
                   "sub_to follows sub_from in " #T)
RANGE_OK(struct fmt_draft);
RANGE_OK(struct fmt_bill_request);
RANGE_OK(struct fmt_draft_event);

#define BIT(v) (UINT64_C(1) << (v))

/* ---- shapes and enums ---------------------------------------------------- */

static int digits(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789") == n;
}

static int is_draft_no(const char *s)
{
    return digits(s, FMT_DRAFT_NUMBER_LEN);
}

static int is_bank_code(const char *s)
{
    return digits(s, FMT_BILL_BANK_CODE_LEN);
}

/* The request id is the bank-visible idempotency key (bill.h). */
static int is_req_id(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= FMT_BILL_REQ_ID_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_.") == n;
}

static const struct fmt_cc_shape s_draft_no = {"a draft number (30 digits)",
                                               is_draft_no};
static const struct fmt_cc_shape s_bank_code = {
    "a bank code (12 digits, CNAPS)", is_bank_code};
static const struct fmt_cc_shape s_req_id = {
    "a request id (1-64 letters, digits, '-', '_', '.')", is_req_id};

static const char *op_nm(int v)
{
    return fmt_bill_op_name((enum fmt_bill_op)v);
}
static const char *st_nm(int v)
{
    return fmt_draft_status_name((enum fmt_draft_status)v);
}
static const char *kind_nm(int v)
{
    return fmt_draft_kind_name((enum fmt_draft_kind)v);
}
static const char *dir_nm(int v)
{
    return fmt_bill_dir_name((enum fmt_bill_dir)v);
}
static const char *outcome_nm(int v)
{
    return fmt_bill_outcome_name((enum fmt_bill_outcome)v);
}

/* Operations on a draft (not the inquiries): what history records. */
#define DRAFT_OPS                                                              \
    (BIT(FMT_BILL_OP_ISSUE) | BIT(FMT_BILL_OP_PRESENT_ACCEPTANCE) |            \
     BIT(FMT_BILL_OP_PRESENT_RECEIPT) | BIT(FMT_BILL_OP_ENDORSE) |             \
     BIT(FMT_BILL_OP_DISCOUNT) | BIT(FMT_BILL_OP_PLEDGE) |                     \
     BIT(FMT_BILL_OP_RELEASE) | BIT(FMT_BILL_OP_PRESENT_PAYMENT) |             \
     BIT(FMT_BILL_OP_RECOURSE) | BIT(FMT_BILL_OP_WITHDRAW) |                   \
     BIT(FMT_BILL_OP_SIGN) | BIT(FMT_BILL_OP_REFUSE))
/* What may be presented to us (bill.h, struct fmt_bill_notice). */
#define NOTICE_OPS                                                             \
    (BIT(FMT_BILL_OP_PRESENT_ACCEPTANCE) | BIT(FMT_BILL_OP_PRESENT_RECEIPT) |  \
     BIT(FMT_BILL_OP_ENDORSE) | BIT(FMT_BILL_OP_RELEASE) |                     \
     BIT(FMT_BILL_OP_PRESENT_PAYMENT) | BIT(FMT_BILL_OP_RECOURSE))

static const struct fmt_cc_enum e_op = {"bill operation", op_nm,
                                        FMT_BILL_OP_COUNT, 0};
static const struct fmt_cc_enum e_draft_op = {"draft operation", op_nm,
                                              FMT_BILL_OP_COUNT, DRAFT_OPS};
static const struct fmt_cc_enum e_notice_op = {
    "notice kind (an operation presented to us)", op_nm, FMT_BILL_OP_COUNT,
    NOTICE_OPS};
static const struct fmt_cc_enum e_status = {"draft status", st_nm,
                                            FMT_DRAFT_STATUS_COUNT, 0};
static const struct fmt_cc_enum e_kind = {
    "draft kind (AC01 bank, AC02 commercial acceptance)", kind_nm,
    FMT_DRAFT_AC02 + 1, 0};
static const struct fmt_cc_enum e_dir = {"pending direction", dir_nm,
                                         FMT_BILL_DIR_IN + 1, 0};
static const struct fmt_cc_enum e_outcome = {"bill outcome", outcome_nm,
                                             FMT_BILL_REJECTED + 1, 0};

/* ---- tables -------------------------------------------------------------- */

/* Offsets relative to sub_from (RANGE_OK above). */
static const struct fmt_cc_field f_range[] = {
    {.name = "Fr", .kind = FMT_CC_INT, .flags = FMT_CC_REQ, .off = 0},
    {.name = "To",
     .kind = FMT_CC_INT,
     .flags = FMT_CC_REQ,
     .off = sizeof(int64_t)},
};
static const struct fmt_cc_struct d_range = {"sub-range", 2 * sizeof(int64_t),
                                             f_range, 2};

static const struct fmt_cc_field f_bparty[] = {
    FMT_CC_PARTY_FIELDS(struct fmt_bill_party, party),
    FMT_CC_F_SUB("Acct", 0, struct fmt_bill_party, acct, fmt_cc_account),
    FMT_CC_F_TEXT("BkCd", 0, struct fmt_bill_party, bank_code, &s_bank_code),
};
static FMT_CC_STRUCT(d_bparty, "bill party", struct fmt_bill_party, f_bparty);

/* nb: flags of the number; req: of what a new draft must have. */
#define DRAFT_ROWS(nb, req)                                                    \
    FMT_CC_F_TEXT("Nb", nb, struct fmt_draft, number, &s_draft_no),            \
        FMT_CC_F_ENUM("Tp", req, struct fmt_draft, kind, e_kind),              \
        FMT_CC_F("Amt", FMT_CC_AMT, req, struct fmt_draft, amount),            \
        FMT_CC_F_TEXT("IsseDt", req, struct fmt_draft, issue_date,             \
                      &fmt_cc_date),                                           \
        FMT_CC_F_TEXT("MtrtyDt", req, struct fmt_draft, maturity_date,         \
                      &fmt_cc_date),                                           \
        FMT_CC_F_SUB("Drwr", req, struct fmt_draft, drawer, d_bparty),         \
        FMT_CC_F_SUB("Accptr", req, struct fmt_draft, acceptor, d_bparty),     \
        FMT_CC_F_SUB("Pyee", req, struct fmt_draft, payee, d_bparty),          \
        FMT_CC_F_SUB("Hldr", 0, struct fmt_draft, holder, d_bparty),           \
        FMT_CC_F_ENUM("Sts", 0, struct fmt_draft, status, e_status),           \
        FMT_CC_F_ENUM("PrvSts", 0, struct fmt_draft, prev_status, e_status),   \
        FMT_CC_F_ENUM("PdgDir", 0, struct fmt_draft, pending_dir, e_dir),      \
        FMT_CC_F("NotTrfbl", FMT_CC_FLAG, 0, struct fmt_draft,                 \
                 not_transferable),                                            \
        FMT_CC_F("Dvsbl", FMT_CC_FLAG, 0, struct fmt_draft, divisible),        \
        FMT_CC_F_SUB("SubRg", 0, struct fmt_draft, sub_from, d_range)

/* A draft the bank knows: results, notices (only the number is sure to
 * be there: banks leave out what they do not list). */
static const struct fmt_cc_field f_draft[] = {DRAFT_ROWS(FMT_CC_REQ, 0)};
static FMT_CC_STRUCT(d_draft, "draft", struct fmt_draft, f_draft);

/* The draft an issue request creates: no number yet, and what
 * fmt_bill_request_check requires of it. */
static const struct fmt_cc_field f_new_draft[] = {DRAFT_ROWS(0, FMT_CC_REQ)};
static FMT_CC_STRUCT(d_new_draft, "new draft", struct fmt_draft, f_new_draft);

/* Offsets relative to struct fmt_bill_request: Fltrs groups three of its
 * own fields. */
static const struct fmt_cc_field f_filters[] = {
    FMT_CC_F_ENUM("Sts", 0, struct fmt_bill_request, f_status, e_status),
    FMT_CC_F_TEXT("MtrtyFr", 0, struct fmt_bill_request, f_maturity_from,
                  &fmt_cc_date),
    FMT_CC_F_TEXT("MtrtyTo", 0, struct fmt_bill_request, f_maturity_to,
                  &fmt_cc_date),
};
static FMT_CC_STRUCT(d_filters, "filters", struct fmt_bill_request, f_filters);

static const struct fmt_cc_field f_request[] = {
    FMT_CC_F_ENUM("Op", FMT_CC_REQ, struct fmt_bill_request, op, e_op),
    FMT_CC_F_TEXT("ReqId", FMT_CC_REQ, struct fmt_bill_request, req_id,
                  &s_req_id),
    FMT_CC_F_TEXT("DrftNb", 0, struct fmt_bill_request, draft_no, &s_draft_no),
    FMT_CC_F_SUB("SubRg", 0, struct fmt_bill_request, sub_from, d_range),
    FMT_CC_F("Amt", FMT_CC_AMT, 0, struct fmt_bill_request, amount),
    FMT_CC_F_SUB("Cpty", 0, struct fmt_bill_request, cpty, d_bparty),
    FMT_CC_F("Rate", FMT_CC_PPM, 0, struct fmt_bill_request, rate_ppm),
    FMT_CC_F_TEXT("SttlmDt", 0, struct fmt_bill_request, date, &fmt_cc_date),
    FMT_CC_F_SUB("PrcdsAcct", 0, struct fmt_bill_request, proceeds_acct,
                 fmt_cc_account),
    FMT_CC_F_TEXT("PoolId", 0, struct fmt_bill_request, pool_id, NULL),
    FMT_CC_F("Ovrdue", FMT_CC_FLAG, 0, struct fmt_bill_request, overdue),
    FMT_CC_F_SUB("Drft", 0, struct fmt_bill_request, draft, d_new_draft),
    FMT_CC_F_TEXT("NtceId", 0, struct fmt_bill_request, notice_id, NULL),
    FMT_CC_F_TEXT("Rsn", 0, struct fmt_bill_request, reason, NULL),
    FMT_CC_F_TEXT("AddtlInf", 0, struct fmt_bill_request, memo, NULL),
    FMT_CC_F_GROUP("Fltrs", 0, d_filters),
};
static FMT_CC_STRUCT(d_request, "bill request", struct fmt_bill_request,
                     f_request);

static const struct fmt_cc_field f_event[] = {
    FMT_CC_F_TEXT("Tm", 0, struct fmt_draft_event, time, NULL),
    FMT_CC_F_ENUM("Op", 0, struct fmt_draft_event, op, e_draft_op),
    FMT_CC_F_SUB("Fr", 0, struct fmt_draft_event, from, d_bparty),
    FMT_CC_F_SUB("To", 0, struct fmt_draft_event, to, d_bparty),
    FMT_CC_F_ENUM("Sts", 0, struct fmt_draft_event, status, e_status),
    FMT_CC_F_SUB("SubRg", 0, struct fmt_draft_event, sub_from, d_range),
    FMT_CC_F("Amt", FMT_CC_AMT, 0, struct fmt_draft_event, amount),
};
static FMT_CC_STRUCT(d_event, "draft event", struct fmt_draft_event, f_event);

static const struct fmt_cc_field f_notice[] = {
    FMT_CC_F_TEXT("NtceId", FMT_CC_REQ, struct fmt_bill_notice, notice_id,
                  NULL),
    FMT_CC_F_ENUM("Op", FMT_CC_REQ, struct fmt_bill_notice, kind, e_notice_op),
    FMT_CC_F_SUB("Drft", FMT_CC_REQ, struct fmt_bill_notice, draft, d_draft),
    FMT_CC_F_SUB("Fr", 0, struct fmt_bill_notice, from, d_bparty),
    FMT_CC_F_TEXT("Tm", 0, struct fmt_bill_notice, time, NULL),
    FMT_CC_F("Amt", FMT_CC_AMT, 0, struct fmt_bill_notice, amount),
    FMT_CC_F_TEXT("Rsn", 0, struct fmt_bill_notice, reason, NULL),
};
static FMT_CC_STRUCT(d_notice, "bill notice", struct fmt_bill_notice, f_notice);

static const struct fmt_cc_field f_pool[] = {
    FMT_CC_F_TEXT("PoolId", 0, struct fmt_bill_pool, pool_id, NULL),
    FMT_CC_F_TEXT("AsOf", 0, struct fmt_bill_pool, as_of, NULL),
    FMT_CC_F("PldgdNb", FMT_CC_COUNT, FMT_CC_REQ, struct fmt_bill_pool,
             pledged_count),
    FMT_CC_F("PldgdAmt", FMT_CC_AMT, 0, struct fmt_bill_pool, pledged_total),
    FMT_CC_F("Dpst", FMT_CC_AMT, 0, struct fmt_bill_pool, deposit),
    FMT_CC_F("QtaTtl", FMT_CC_AMT, 0, struct fmt_bill_pool, quota_total),
    FMT_CC_F("QtaUsd", FMT_CC_AMT, 0, struct fmt_bill_pool, quota_used),
    FMT_CC_F("QtaAvlbl", FMT_CC_AMT, 0, struct fmt_bill_pool, quota_available),
};
static FMT_CC_STRUCT(d_pool, "bill pool", struct fmt_bill_pool, f_pool);

/* Caps: a pool inquiry lists at most what one company holds; far above
 * any real answer, far below what would exhaust memory. */
static const struct fmt_cc_field f_result[] = {
    FMT_CC_F_TEXT("ReqId", FMT_CC_REQ, struct fmt_bill_result, req_id,
                  &s_req_id),
    FMT_CC_F_ENUM("Op", FMT_CC_REQ, struct fmt_bill_result, op, e_op),
    FMT_CC_F_ENUM("Outcm", FMT_CC_REQ, struct fmt_bill_result, outcome,
                  e_outcome),
    FMT_CC_F_TEXT("BkRtrCd", 0, struct fmt_bill_result, bank_code, NULL),
    FMT_CC_F_TEXT("BkRtrTxt", 0, struct fmt_bill_result, bank_text, NULL),
    FMT_CC_F_LIST("Drfts", struct fmt_bill_result, drafts, n_drafts, "Drft",
                  d_draft, 100000),
    FMT_CC_F_LIST("Hist", struct fmt_bill_result, history, n_history, "Evt",
                  d_event, 100000),
    FMT_CC_F_LIST("Ntces", struct fmt_bill_result, notices, n_notices, "Ntce",
                  d_notice, 100000),
    FMT_CC_F_FLAGGED("Pool", struct fmt_bill_result, pool, has_pool, d_pool),
};
static FMT_CC_STRUCT(d_result, "bill result", struct fmt_bill_result, f_result);

/* ---- API ----------------------------------------------------------------- */

static const char *src_name(const struct fmt_src *src)
{
    if (src && src->name)
        return src->name;
    return src && src->path ? src->path : "<memory>";
}

int fmt_canon_bill_detect(const char *buf, size_t len)
{
    static const char *const roots[] = {"BillRequest", "BillResult",
                                        "BillNotice"};
    int i = fmt_cc_detect(buf, len, FMT_CANON_BILL_NS, roots, 3);
    return i < 0 ? -1 : i + 1;
}

int fmt_canon_bill_write_request(FILE *out, const struct fmt_bill_request *rq,
                                 struct h2h_err *err)
{
    int rc = fmt_bill_request_check(rq, err);
    if (rc < 0)
        return rc;
    return fmt_cc_write(out, FMT_CANON_BILL_NS, "BillRequest", &d_request, rq,
                        err);
}

int fmt_canon_bill_write_result(FILE *out, const struct fmt_bill_result *r,
                                struct h2h_err *err)
{
    return fmt_cc_write(out, FMT_CANON_BILL_NS, "BillResult", &d_result, r,
                        err);
}

int fmt_canon_bill_write_notice(FILE *out, const struct fmt_bill_notice *n,
                                struct h2h_err *err)
{
    return fmt_cc_write(out, FMT_CANON_BILL_NS, "BillNotice", &d_notice, n,
                        err);
}

int fmt_canon_bill_read_request(const struct fmt_src *src,
                                struct fmt_bill_request *out,
                                struct fmt_diag *diag, struct h2h_err *err)
{
    struct fmt_cc_report rep;
    struct h2h_err e = {0};
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no output request");
    memset(out, 0, sizeof(*out));
    int rc = fmt_cc_read(src, FMT_CANON_BILL_NS, "BillRequest", "bill",
                         &d_request, out, diag, &rep, err);
    if (rc < 0)
        return rc;
    /* The request's own rules (what each operation needs) are bill.h's;
     * asking here turns a request the bank would refuse into a reason
     * treasury reads next to the file, before anything is accepted.
     * Without an operation (missing or misspelt, reported above) the
     * check has nothing to add but "unknown operation 0". */
    if (out->op != FMT_BILL_OP_NONE && fmt_bill_request_check(out, &e) < 0)
        fmt_cc_report_add(&rep, diag, rep.root_line, "BillRequest",
                          "bill.request", "%s", e.msg);
    return fmt_cc_report_rc(&rep, src_name(src), err);
}

int fmt_canon_bill_read_result(const struct fmt_src *src,
                               struct fmt_bill_result *out,
                               struct fmt_diag *diag, struct h2h_err *err)
{
    struct fmt_cc_report rep;
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no output result");
    memset(out, 0, sizeof(*out));
    int rc = fmt_cc_read(src, FMT_CANON_BILL_NS, "BillResult", "bill",
                         &d_result, out, diag, &rep, err);
    return rc < 0 ? rc : fmt_cc_report_rc(&rep, src_name(src), err);
}

int fmt_canon_bill_read_notice(const struct fmt_src *src,
                               struct fmt_bill_notice *out,
                               struct fmt_diag *diag, struct h2h_err *err)
{
    struct fmt_cc_report rep;
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no output notice");
    memset(out, 0, sizeof(*out));
    int rc = fmt_cc_read(src, FMT_CANON_BILL_NS, "BillNotice", "bill",
                         &d_notice, out, diag, &rep, err);
    return rc < 0 ? rc : fmt_cc_report_rc(&rep, src_name(src), err);
}
