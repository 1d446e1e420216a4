/*
 * test_fmt_canon_bill.c - canonical XML for bills (canon_bill.h, on the
 * engine of canon_common.h).
 *
 * Round trips: a request for every operation, a request with every field
 * set, results with drafts, history, notices and a pool, and notices of
 * every kind are built in code (Chinese names; characters XML must
 * escape; each party different so that a swapped field shows), written,
 * validated with xmllint against formats/schemas/bills.xsd, read back and
 * compared field by field (cmp_* below list every field of bill.h and of
 * model.h's party, account and postal address).  The comparison is shown
 * to fail on a changed field.
 *
 * Hand-written fixtures in tests/fixtures/bills (one request per
 * operation, as treasury writes them, plus a result and a notice as h2hd
 * writes them) validate and read cleanly.  Broken documents give the
 * expected rule, line and path; the writer refuses what the schema or XML
 * cannot carry without writing a byte; the schema's code lists are the
 * model's names.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "canon.h"
#include "canon_bill.h"
#include "canon_common.h"
#include "testutil.h"

#define XSD "formats/schemas/bills.xsd"

#define NUM "530158000001202401150000123456"
#define NUM2 "630158000002202402010000654321"
#define NUM3 "530158000001202401150000777777"

static char tmpdir[256];

/* ---- building models ----------------------------------------------------- */

/* Every field, each value marked with tag so parties differ. */
static void fill_postal(struct fmt_postal *a, const char *tag)
{
    char b[128];
    snprintf(b, sizeof(b), "财务部 %s", tag);
    a->dept = tu_dup(b);
    snprintf(b, sizeof(b), "南京西路 %s 号", tag);
    a->street = tu_dup(b);
    a->building = tu_dup(tag);
    a->postcode = tu_dup("200041");
    a->town = tu_dup("上海");
    a->subdivision = tu_dup("上海市");
    a->country = tu_dup("CN");
    snprintf(b, sizeof(b), "静安区 %s", tag);
    a->lines[0] = tu_dup(b);
    a->lines[1] = tu_dup("B座 12F");
}

static void fill_party(struct fmt_party *p, const char *name, const char *tag)
{
    char b[64];
    p->name = tu_dup(name);
    fill_postal(&p->addr, tag);
    snprintf(b, sizeof(b), "BIC%sXX", tag);
    p->org_bic = tu_dup(b);
    snprintf(b, sizeof(b), "91310000MA1FL%s", tag);
    p->org_id = tu_dup(b);
    p->org_id_scheme = tu_dup("USCC");
    snprintf(b, sizeof(b), "P-%s", tag);
    p->prvt_id = tu_dup(b);
    p->ctry_of_res = tu_dup("CN");
}

static void fill_account(struct fmt_account *a, const char *no, const char *tag)
{
    char b[64];
    snprintf(b, sizeof(b), "CN%s", tag);
    a->iban = tu_dup(b);
    a->other_id = tu_dup(no);
    a->other_scheme = tu_dup("BBAN");
    a->ccy = tu_dup("CNY");
    snprintf(b, sizeof(b), "基本户 %s", tag);
    a->name = tu_dup(b);
    a->type = tu_dup("CACC");
}

/* A bill party: name, account, bank; with full, every other field too. */
static void bparty(struct fmt_bill_party *p, const char *name, const char *acct,
                   const char *bank, const char *tag)
{
    fmt_bill_party_release(p);
    if (tag) {
        fill_party(&p->party, name, tag);
        if (acct)
            fill_account(&p->acct, acct, tag);
    } else {
        p->party.name = tu_dup(name);
        p->acct.other_id = tu_dup(acct);
    }
    p->bank_code = tu_dup(bank);
}

/* A draft with every field set (full) or the usual ones. */
static void mk_draft(struct fmt_draft *d, const char *number, int full)
{
    memset(d, 0, sizeof(*d));
    d->number = tu_dup(number);
    d->kind = FMT_DRAFT_AC02;
    d->amount = tu_cny(1000000);
    d->issue_date = tu_dup("2024-01-15");
    d->maturity_date = tu_dup("2024-07-15");
    bparty(&d->drawer, "华东贸易有限公司", "110000000000000001", "102100099996",
           full ? "D1" : NULL);
    bparty(&d->acceptor, "华东贸易有限公司 (承兑)", "110000000000000009",
           "102100099997", full ? "A2" : NULL);
    bparty(&d->payee, "江南供应链管理有限公司", "220000000000000002",
           "103100000026", full ? "P3" : NULL);
    if (full) {
        bparty(&d->holder, "岭南配件有限公司 <持票人> & Co.",
               "330000000000000003", "104100000045", "H4");
        d->status = FMT_DRAFT_PENDING_ENDORSEMENT;
        d->prev_status = FMT_DRAFT_HELD;
        d->pending_dir = FMT_BILL_DIR_OUT;
        d->not_transferable = 1;
    } else {
        d->status = FMT_DRAFT_HELD;
    }
    d->divisible = 1;
    d->sub_from = 1;
    d->sub_to = 1000000;
}

/* A request for op that fmt_bill_request_check accepts. */
static void mk_req(struct fmt_bill_request *rq, enum fmt_bill_op op)
{
    char id[32];
    memset(rq, 0, sizeof(*rq));
    rq->op = op;
    snprintf(id, sizeof(id), "TR-2024.%02d_x", (int)op);
    rq->req_id = tu_dup(id);
    rq->memo = tu_dup("备注: 2024年 Q1 <票据> & \"结算\"");
    switch (op) {
    case FMT_BILL_OP_ISSUE:
        mk_draft(&rq->draft, NUM, 0);
        free(rq->draft.number);
        rq->draft.number = NULL;
        rq->draft.status = FMT_DRAFT_NONE;
        rq->draft.sub_from = rq->draft.sub_to = 0;
        return;
    case FMT_BILL_OP_POOL_OVERVIEW:
        rq->pool_id = tu_dup("PJC-2024-0001");
        return;
    case FMT_BILL_OP_NOTICES: return;
    case FMT_BILL_OP_DRAFTS:
        rq->f_status = FMT_DRAFT_PLEDGED;
        rq->f_maturity_from = tu_dup("2024-07-01");
        rq->f_maturity_to = tu_dup("2024-07-31");
        return;
    default: break;
    }
    rq->draft_no = tu_dup(NUM);
    switch (op) {
    case FMT_BILL_OP_ENDORSE:
        rq->sub_from = 1;
        rq->sub_to = 500000;
        rq->amount = tu_cny(500000);
        bparty(&rq->cpty, "岭南配件有限公司", "330000000000000003",
               "104100000045", NULL);
        break;
    case FMT_BILL_OP_DISCOUNT:
        bparty(&rq->cpty, "宁波银行股份有限公司", NULL, "313332082914", NULL);
        rq->rate_ppm = 13500;
        rq->date = tu_dup("2024-03-05");
        rq->proceeds_acct.other_id = tu_dup("220000000000000002");
        break;
    case FMT_BILL_OP_PLEDGE:
    case FMT_BILL_OP_RELEASE: rq->pool_id = tu_dup("PJC-2024-0001"); break;
    case FMT_BILL_OP_PRESENT_PAYMENT: rq->overdue = 1; break;
    case FMT_BILL_OP_RECOURSE:
        rq->amount = tu_cny(1001250);
        bparty(&rq->cpty, "华东贸易有限公司", "110000000000000001",
               "102100099996", NULL);
        rq->reason = tu_dup("到期拒付");
        break;
    case FMT_BILL_OP_SIGN: rq->notice_id = tu_dup("NT-88001"); break;
    case FMT_BILL_OP_REFUSE:
        rq->notice_id = tu_dup("NT-88002");
        rq->reason = tu_dup("货物未到");
        break;
    default: break;
    }
}

/* A discount request with every field of struct fmt_bill_request set. */
static void mk_req_all(struct fmt_bill_request *rq)
{
    mk_req(rq, FMT_BILL_OP_DISCOUNT);
    rq->sub_from = 1;
    rq->sub_to = 500000;
    rq->amount = tu_cny(500000);
    bparty(&rq->cpty, "宁波银行股份有限公司", "313000000000000001",
           "313332082914", "C5");
    rq->rate_ppm = 13512; /* 1.3512 % */
    fmt_account_release(&rq->proceeds_acct);
    fill_account(&rq->proceeds_acct, "220000000000000002", "PA");
    rq->pool_id = tu_dup("PJC-2024-0001");
    rq->overdue = 1;
    mk_draft(&rq->draft, NUM, 1);
    rq->notice_id = tu_dup("NT-1");
    /* CR, LF and tab survive; CR is written as a character reference */
    rq->reason = tu_dup("line 1\r\nline 2\ttab <&> \xF0\x9F\x98\x80");
    rq->f_status = FMT_DRAFT_PLEDGED;
    rq->f_maturity_from = tu_dup("2024-07-01");
    rq->f_maturity_to = tu_dup("2024-07-31");
}

static void mk_event(struct fmt_draft_event *e, int i)
{
    memset(e, 0, sizeof(*e));
    if (i == 0) {
        e->time = tu_dup("2024-01-15T09:30:00+08:00");
        e->op = FMT_BILL_OP_ISSUE;
        bparty(&e->from, "华东贸易有限公司", "110000000000000001",
               "102100099996", "E1");
        bparty(&e->to, "江南供应链管理有限公司", "220000000000000002",
               "103100000026", "E2");
        e->status = FMT_DRAFT_REGISTERED;
        e->sub_from = 1;
        e->sub_to = 1000000;
        e->amount = tu_cny(1000000);
    } else if (i == 1) {
        e->op = FMT_BILL_OP_WITHDRAW; /* a bank that lists little */
    } else {
        e->time = tu_dup("2024-03-01 14:05:12");
        e->op = FMT_BILL_OP_SIGN;
        e->status = FMT_DRAFT_HELD;
        e->amount = tu_cny(500000);
    }
}

static void mk_notice(struct fmt_bill_notice *n, enum fmt_bill_op kind,
                      const char *id)
{
    memset(n, 0, sizeof(*n));
    n->notice_id = tu_dup(id);
    n->kind = kind;
    mk_draft(&n->draft, NUM2, 1);
    bparty(&n->from, "北方钢材贸易有限公司", "550000000000000005",
           "103100000026", "F6");
    n->time = tu_dup("2024-03-02T10:15:00+08:00");
    n->amount = tu_cny(kind == FMT_BILL_OP_RECOURSE ? 1001250 : 1000000);
    n->reason = tu_dup("请于 10 日内签收");
}

static void mk_result(struct fmt_bill_result *r)
{
    memset(r, 0, sizeof(*r));
    r->req_id = tu_dup("TR-20240901-003");
    r->op = FMT_BILL_OP_DRAFT_DETAIL;
    r->outcome = FMT_BILL_PENDING;
    r->bank_code = tu_dup("E1001");
    r->bank_text = tu_dup("处理中 <待签收> & \"稍后\"");
    r->n_drafts = 2;
    r->drafts = calloc(2, sizeof(*r->drafts));
    r->n_history = 3;
    r->history = calloc(3, sizeof(*r->history));
    r->n_notices = 2;
    r->notices = calloc(2, sizeof(*r->notices));
    if (!r->drafts || !r->history || !r->notices)
        abort();
    mk_draft(&r->drafts[0], NUM, 1);
    mk_draft(&r->drafts[1], NUM3, 0);
    for (int i = 0; i < 3; i++)
        mk_event(&r->history[i], i);
    mk_notice(&r->notices[0], FMT_BILL_OP_ENDORSE, "NT-1");
    mk_notice(&r->notices[1], FMT_BILL_OP_RECOURSE, "NT-2");
    r->has_pool = 1;
    r->pool.pool_id = tu_dup("PJC-2024-0001");
    r->pool.as_of = tu_dup("2024-09-01T08:00:00+08:00");
    r->pool.pledged_count = 3;
    r->pool.pledged_total = tu_cny(35000000);
    r->pool.deposit = tu_cny(2000000);
    r->pool.quota_total = tu_cny(37000000);
    r->pool.quota_used = tu_cny(12000000);
    r->pool.quota_available = tu_cny(25000000);
}

/* ---- field-by-field comparison ------------------------------------------- */

static void cmp_bparty(const char *path, const struct fmt_bill_party *a,
                       const struct fmt_bill_party *b)
{
    TU_CSUB(tu_cmp_party, party);
    TU_CSUB(tu_cmp_account, acct);
    TU_CS(bank_code);
}

static void cmp_draft(const char *path, const struct fmt_draft *a,
                      const struct fmt_draft *b)
{
    TU_CS(number);
    TU_CI(kind);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CS(issue_date);
    TU_CS(maturity_date);
    TU_CSUB(cmp_bparty, drawer);
    TU_CSUB(cmp_bparty, acceptor);
    TU_CSUB(cmp_bparty, payee);
    TU_CSUB(cmp_bparty, holder);
    TU_CI(status);
    TU_CI(prev_status);
    TU_CI(pending_dir);
    TU_CI(not_transferable);
    TU_CI(divisible);
    TU_CI(sub_from);
    TU_CI(sub_to);
}

static void cmp_request(const char *path, const struct fmt_bill_request *a,
                        const struct fmt_bill_request *b)
{
    TU_CI(op);
    TU_CS(req_id);
    TU_CS(draft_no);
    TU_CI(sub_from);
    TU_CI(sub_to);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CSUB(cmp_bparty, cpty);
    TU_CI(rate_ppm);
    TU_CS(date);
    TU_CSUB(tu_cmp_account, proceeds_acct);
    TU_CS(pool_id);
    TU_CI(overdue);
    TU_CSUB(cmp_draft, draft);
    TU_CS(notice_id);
    TU_CS(reason);
    TU_CS(memo);
    TU_CI(f_status);
    TU_CS(f_maturity_from);
    TU_CS(f_maturity_to);
}

static void cmp_event(const char *path, const struct fmt_draft_event *a,
                      const struct fmt_draft_event *b)
{
    TU_CS(time);
    TU_CI(op);
    TU_CSUB(cmp_bparty, from);
    TU_CSUB(cmp_bparty, to);
    TU_CI(status);
    TU_CI(sub_from);
    TU_CI(sub_to);
    TU_CSUB(tu_cmp_amount, amount);
}

static void cmp_notice(const char *path, const struct fmt_bill_notice *a,
                       const struct fmt_bill_notice *b)
{
    TU_CS(notice_id);
    TU_CI(kind);
    TU_CSUB(cmp_draft, draft);
    TU_CSUB(cmp_bparty, from);
    TU_CS(time);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CS(reason);
}

static void cmp_pool(const char *path, const struct fmt_bill_pool *a,
                     const struct fmt_bill_pool *b)
{
    TU_CS(pool_id);
    TU_CS(as_of);
    TU_CI(pledged_count);
    TU_CSUB(tu_cmp_amount, pledged_total);
    TU_CSUB(tu_cmp_amount, deposit);
    TU_CSUB(tu_cmp_amount, quota_total);
    TU_CSUB(tu_cmp_amount, quota_used);
    TU_CSUB(tu_cmp_amount, quota_available);
}

static void cmp_result(const char *path, const struct fmt_bill_result *a,
                       const struct fmt_bill_result *b)
{
    char p[256];
    TU_CS(req_id);
    TU_CI(op);
    TU_CI(outcome);
    TU_CS(bank_code);
    TU_CS(bank_text);
    TU_CI(n_drafts);
    for (size_t i = 0; i < a->n_drafts && i < b->n_drafts; i++) {
        snprintf(p, sizeof(p), "%s.drafts[%zu]", path, i);
        cmp_draft(p, &a->drafts[i], &b->drafts[i]);
    }
    TU_CI(n_history);
    for (size_t i = 0; i < a->n_history && i < b->n_history; i++) {
        snprintf(p, sizeof(p), "%s.history[%zu]", path, i);
        cmp_event(p, &a->history[i], &b->history[i]);
    }
    TU_CI(n_notices);
    for (size_t i = 0; i < a->n_notices && i < b->n_notices; i++) {
        snprintf(p, sizeof(p), "%s.notices[%zu]", path, i);
        cmp_notice(p, &a->notices[i], &b->notices[i]);
    }
    TU_CI(has_pool);
    TU_CSUB(cmp_pool, pool);
}

/* ---- files, schema, diag ------------------------------------------------- */

static int w_req(FILE *f, const void *o, struct h2h_err *e)
{
    return fmt_canon_bill_write_request(f, o, e);
}
static int w_res(FILE *f, const void *o, struct h2h_err *e)
{
    return fmt_canon_bill_write_result(f, o, e);
}
static int w_ntc(FILE *f, const void *o, struct h2h_err *e)
{
    return fmt_canon_bill_write_notice(f, o, e);
}

/* ---- round trips --------------------------------------------------------- */

static void roundtrip_request(const struct fmt_bill_request *rq,
                              const char *name, char **text)
{
    char file[96];
    struct h2h_err err = {0};
    snprintf(file, sizeof(file), "req_%s.xml", name);
    const char *path = tu_path(tmpdir, file);
    CU_ASSERT_EQUAL(tu_write_to(path, w_req, rq, &err), 0);
    int valid = tu_xsd_valid(XSD, path);
    if (valid)
        fprintf(stderr, "  %s is not valid against bills.xsd\n", path);
    CU_ASSERT_EQUAL(valid, 0);
    struct fmt_bill_request back;
    struct fmt_diag d;
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_bill_read_request(&src, &back, &d, &err);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(d.n, 0);
    tu_mismatches = 0;
    cmp_request(name, rq, &back);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    if (text)
        *text = tu_read_file(path, NULL);
    fmt_bill_request_release(&back);
    fmt_diag_release(&d);
}

static void test_request_every_op(void)
{
    for (int op = FMT_BILL_OP_ISSUE; op < FMT_BILL_OP_COUNT; op++) {
        struct fmt_bill_request rq;
        mk_req(&rq, (enum fmt_bill_op)op);
        struct h2h_err e = {0};
        /* the model itself must be one the check allows */
        CU_ASSERT_EQUAL(fmt_bill_request_check(&rq, &e), 0);
        char *text = NULL;
        roundtrip_request(&rq, fmt_bill_op_name((enum fmt_bill_op)op), &text);
        CU_ASSERT(tu_contains(text, "<Op>"));
        /* Chinese text goes out as UTF-8, not as character references */
        CU_ASSERT(
            tu_contains(text, "备注: 2024年 Q1 &lt;票据&gt; &amp; \"结算\""));
        if (op == FMT_BILL_OP_ENDORSE) {
            CU_ASSERT(tu_contains(text, "<Nm>岭南配件有限公司</Nm>"));
            CU_ASSERT(tu_contains(text, "<SubRg>"));
            CU_ASSERT(tu_contains(text, "<Amt Ccy=\"CNY\">5000.00</Amt>"));
        }
        if (op == FMT_BILL_OP_DISCOUNT)
            CU_ASSERT(tu_contains(text, "<Rate>1.35</Rate>"));
        if (op == FMT_BILL_OP_PRESENT_PAYMENT)
            CU_ASSERT(tu_contains(text, "<Ovrdue>true</Ovrdue>"));
        free(text);
        fmt_bill_request_release(&rq);
    }
}

static void test_request_every_field(void)
{
    struct fmt_bill_request rq;
    char *text = NULL;
    mk_req_all(&rq);
    roundtrip_request(&rq, "all", &text);
    CU_ASSERT(tu_contains(text, "<Rate>1.3512</Rate>"));
    CU_ASSERT(tu_contains(text, "line 1&#13;\nline 2\ttab &lt;&amp;&gt; "));
    CU_ASSERT(tu_contains(text, "<AdrLine>B座 12F</AdrLine>"));
    CU_ASSERT(tu_contains(text, "<PdgDir>out</PdgDir>"));
    CU_ASSERT(tu_contains(text, "<NotTrfbl>true</NotTrfbl>"));
    free(text);
    fmt_bill_request_release(&rq);
}

static void roundtrip_result(const struct fmt_bill_result *r, const char *name)
{
    char file[96];
    struct h2h_err err = {0};
    snprintf(file, sizeof(file), "res_%s.xml", name);
    const char *path = tu_path(tmpdir, file);
    CU_ASSERT_EQUAL(tu_write_to(path, w_res, r, &err), 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    struct fmt_bill_result back;
    struct fmt_diag d;
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_bill_read_result(&src, &back, &d, &err);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(d.n, 0);
    tu_mismatches = 0;
    cmp_result(name, r, &back);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    fmt_bill_result_release(&back);
    fmt_diag_release(&d);
}

static void test_result_roundtrip(void)
{
    struct fmt_bill_result r;
    mk_result(&r);
    roundtrip_result(&r, "full");
    fmt_bill_result_release(&r);

    /* the least a result has: a rejection without anything else */
    memset(&r, 0, sizeof(r));
    r.req_id = tu_dup("TR-1");
    r.op = FMT_BILL_OP_ENDORSE;
    r.outcome = FMT_BILL_REJECTED;
    r.bank_code = tu_dup("PJ0042");
    r.bank_text = tu_dup("票据状态不允许背书");
    roundtrip_result(&r, "rejected");
    fmt_bill_result_release(&r);

    /* an empty pool: the count is written as 0, amounts as 0.00 */
    memset(&r, 0, sizeof(r));
    r.req_id = tu_dup("TR-2");
    r.op = FMT_BILL_OP_POOL_OVERVIEW;
    r.outcome = FMT_BILL_ACCEPTED;
    r.has_pool = 1;
    r.pool.quota_total = tu_cny(0);
    roundtrip_result(&r, "empty_pool");
    char *text = tu_read_file(tu_path(tmpdir, "res_empty_pool.xml"), NULL);
    CU_ASSERT(tu_contains(text, "<PldgdNb>0</PldgdNb>"));
    CU_ASSERT(tu_contains(text, "<QtaTtl Ccy=\"CNY\">0.00</QtaTtl>"));
    CU_ASSERT(!tu_contains(text, "PldgdAmt"));
    free(text);
    fmt_bill_result_release(&r);

    /* a split: the result carries both pieces */
    memset(&r, 0, sizeof(r));
    r.req_id = tu_dup("TR-3");
    r.op = FMT_BILL_OP_PLEDGE;
    r.outcome = FMT_BILL_ACCEPTED;
    r.n_drafts = 2;
    r.drafts = calloc(2, sizeof(*r.drafts));
    CU_ASSERT_PTR_NOT_NULL_FATAL(r.drafts);
    mk_draft(&r.drafts[0], NUM, 0);
    mk_draft(&r.drafts[1], NUM, 0);
    r.drafts[0].status = FMT_DRAFT_PLEDGED;
    r.drafts[0].sub_to = 300000;
    r.drafts[0].amount = tu_cny(300000);
    r.drafts[1].sub_from = 300001;
    r.drafts[1].amount = tu_cny(700000);
    roundtrip_result(&r, "split");
    fmt_bill_result_release(&r);
}

static void test_notice_roundtrip(void)
{
    static const enum fmt_bill_op kinds[] = {FMT_BILL_OP_PRESENT_ACCEPTANCE,
                                             FMT_BILL_OP_PRESENT_RECEIPT,
                                             FMT_BILL_OP_ENDORSE,
                                             FMT_BILL_OP_RELEASE,
                                             FMT_BILL_OP_PRESENT_PAYMENT,
                                             FMT_BILL_OP_RECOURSE};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct fmt_bill_notice n, back;
        struct h2h_err err = {0};
        struct fmt_diag d;
        char file[96];
        const char *name = fmt_bill_op_name(kinds[i]);
        mk_notice(&n, kinds[i], "NT-8800X");
        snprintf(file, sizeof(file), "ntc_%s.xml", name);
        const char *path = tu_path(tmpdir, file);
        CU_ASSERT_EQUAL(tu_write_to(path, w_ntc, &n, &err), 0);
        CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
        struct fmt_src src = {.path = path};
        fmt_diag_init(&d, path);
        CU_ASSERT_EQUAL(fmt_canon_bill_read_notice(&src, &back, &d, &err), 0);
        fmt_diag_print(&d, stderr);
        CU_ASSERT_EQUAL(d.n, 0);
        tu_mismatches = 0;
        cmp_notice(name, &n, &back);
        CU_ASSERT_EQUAL(tu_mismatches, 0);
        fmt_bill_notice_release(&back);
        fmt_bill_notice_release(&n);
        fmt_diag_release(&d);
    }
}

/* The comparison is not vacuous: one changed field deep inside shows. */
static void test_comparison_fails(void)
{
    struct fmt_bill_result a, b;
    mk_result(&a);
    mk_result(&b);
    tu_mismatches = 0;
    cmp_result("same", &a, &b);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    tu_set(&b.notices[1].draft.holder.party.addr.lines[1], "C座");
    b.history[0].sub_to--;
    b.drafts[0].acceptor.acct.type[0] = 'X';
    cmp_result("changed", &a, &b);
    CU_ASSERT_EQUAL(tu_mismatches, 3);
    fmt_bill_result_release(&a);
    fmt_bill_result_release(&b);

    struct fmt_bill_request r1, r2;
    mk_req_all(&r1);
    mk_req_all(&r2);
    r2.f_status = FMT_DRAFT_HELD;
    tu_mismatches = 0;
    cmp_request("changed", &r1, &r2);
    CU_ASSERT_EQUAL(tu_mismatches, 1);
    fmt_bill_request_release(&r1);
    fmt_bill_request_release(&r2);
}

/* ---- fixtures ------------------------------------------------------------ */

static int read_fixture_request(const char *name, struct fmt_bill_request *rq)
{
    char path[1024];
    struct h2h_err err = {0};
    struct fmt_diag d;
    snprintf(path, sizeof(path), "%s", tu_fixture("bills", name));
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_bill_read_request(&src, rq, &d, &err);
    if (rc)
        fprintf(stderr, "  %s: %s\n", name, err.msg);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    fmt_diag_release(&d);
    return rc;
}

static void test_fixtures_requests(void)
{
    /* one file per operation, named after it */
    for (int op = FMT_BILL_OP_ISSUE; op < FMT_BILL_OP_COUNT; op++) {
        char name[64];
        struct fmt_bill_request rq;
        snprintf(name, sizeof(name), "%s.xml",
                 fmt_bill_op_name((enum fmt_bill_op)op));
        CU_ASSERT_EQUAL(read_fixture_request(name, &rq), 0);
        CU_ASSERT_EQUAL((int)rq.op, op);
        CU_ASSERT(rq.req_id && !strncmp(rq.req_id, "TR-2024", 7));
        fmt_bill_request_release(&rq);
    }

    struct fmt_bill_request rq;
    CU_ASSERT_EQUAL(read_fixture_request("issue.xml", &rq), 0);
    CU_ASSERT_PTR_NULL(rq.draft.number);
    CU_ASSERT_EQUAL(rq.draft.kind, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(rq.draft.amount.minor, 1000000);
    CU_ASSERT_STRING_EQUAL(rq.draft.amount.ccy, "CNY");
    CU_ASSERT_STRING_EQUAL(rq.draft.drawer.party.name, "华东贸易有限公司");
    CU_ASSERT_STRING_EQUAL(rq.draft.drawer.party.org_id_scheme, "USCC");
    CU_ASSERT_STRING_EQUAL(rq.draft.payee.acct.other_id, "220000000000000002");
    CU_ASSERT_STRING_EQUAL(rq.draft.payee.bank_code, "103100000026");
    CU_ASSERT_EQUAL(rq.draft.divisible, 1);
    CU_ASSERT_STRING_EQUAL(rq.memo, "2024年1月货款");
    fmt_bill_request_release(&rq);

    CU_ASSERT_EQUAL(read_fixture_request("endorse.xml", &rq), 0);
    CU_ASSERT_STRING_EQUAL(rq.draft_no, NUM);
    CU_ASSERT_EQUAL(rq.sub_from, 1);
    CU_ASSERT_EQUAL(rq.sub_to, 500000);
    CU_ASSERT_EQUAL(rq.amount.minor, 500000);
    CU_ASSERT_STRING_EQUAL(rq.cpty.party.name, "岭南配件有限公司");
    CU_ASSERT_STRING_EQUAL(rq.cpty.bank_code, "104100000045");
    fmt_bill_request_release(&rq);

    CU_ASSERT_EQUAL(read_fixture_request("discount.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.rate_ppm, 13500);
    CU_ASSERT_STRING_EQUAL(rq.date, "2024-03-05");
    CU_ASSERT_STRING_EQUAL(rq.proceeds_acct.name, "江南供应链管理有限公司");
    fmt_bill_request_release(&rq);

    CU_ASSERT_EQUAL(read_fixture_request("recourse.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.amount.minor, 1001250);
    CU_ASSERT_STRING_EQUAL(rq.reason, "到期拒付, 追索票款及利息");
    fmt_bill_request_release(&rq);

    CU_ASSERT_EQUAL(read_fixture_request("present_payment.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.overdue, 0); /* <Ovrdue>false</Ovrdue> */
    fmt_bill_request_release(&rq);

    CU_ASSERT_EQUAL(read_fixture_request("drafts.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.f_status, FMT_DRAFT_PLEDGED);
    CU_ASSERT_STRING_EQUAL(rq.f_maturity_from, "2024-07-01");
    CU_ASSERT_STRING_EQUAL(rq.f_maturity_to, "2024-07-31");
    fmt_bill_request_release(&rq);

    CU_ASSERT_EQUAL(read_fixture_request("refuse.xml", &rq), 0);
    CU_ASSERT_STRING_EQUAL(rq.notice_id, "NT-88002");
    CU_ASSERT_STRING_EQUAL(rq.reason, "货物质量不符合合同约定");
    fmt_bill_request_release(&rq);
}

static void test_fixtures_outputs(void)
{
    char path[1024];
    struct h2h_err err = {0};
    struct fmt_diag d;
    struct fmt_bill_result r;
    struct fmt_bill_notice n;

    snprintf(path, sizeof(path), "%s",
             tu_fixture("bills", "result_draft_detail.xml"));
    struct fmt_src src = {.path = path};
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_canon_bill_read_result(&src, &r, &d, &err), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(r.op, FMT_BILL_OP_DRAFT_DETAIL);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_ACCEPTED);
    CU_ASSERT_STRING_EQUAL(r.bank_text, "交易成功");
    CU_ASSERT_EQUAL(r.n_drafts, 1);
    CU_ASSERT_EQUAL(r.n_history, 2);
    CU_ASSERT_EQUAL(r.n_notices, 0);
    CU_ASSERT_EQUAL(r.has_pool, 0);
    if (r.n_drafts == 1 && r.n_history == 2) {
        CU_ASSERT_EQUAL(r.drafts[0].status, FMT_DRAFT_HELD);
        CU_ASSERT_EQUAL(r.drafts[0].sub_from, 500001);
        CU_ASSERT_STRING_EQUAL(r.drafts[0].acceptor.party.name,
                               "中国工商银行股份有限公司北京分行");
        CU_ASSERT_EQUAL(r.history[1].op, FMT_BILL_OP_ENDORSE);
        CU_ASSERT_STRING_EQUAL(r.history[1].to.party.name, "岭南配件有限公司");
        CU_ASSERT_EQUAL(r.history[1].status, FMT_DRAFT_ENDORSED);
    }
    fmt_bill_result_release(&r);
    fmt_diag_release(&d);

    snprintf(path, sizeof(path), "%s",
             tu_fixture("bills", "result_pool_overview.xml"));
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_canon_bill_read_result(&src, &r, &d, &err), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(r.has_pool, 1);
    CU_ASSERT_EQUAL(r.pool.pledged_count, 3);
    CU_ASSERT_EQUAL(r.pool.quota_available.minor, 25000000);
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&r.pool, &err), 0);
    fmt_bill_result_release(&r);
    fmt_diag_release(&d);

    snprintf(path, sizeof(path), "%s",
             tu_fixture("bills", "notice_endorse.xml"));
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_canon_bill_read_notice(&src, &n, &d, &err), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(n.kind, FMT_BILL_OP_ENDORSE);
    CU_ASSERT_STRING_EQUAL(n.notice_id, "NT-88001");
    CU_ASSERT_STRING_EQUAL(n.from.party.name, "北方钢材贸易有限公司");
    CU_ASSERT_EQUAL(n.draft.sub_to, 20000000);
    /* the notice is one the state machine takes: it is a real draft */
    CU_ASSERT_EQUAL(fmt_draft_validate(&n.draft, &err), 0);
    struct fmt_draft ours;
    memset(&ours, 0, sizeof(ours));
    CU_ASSERT_EQUAL(fmt_draft_receive(&ours, &n, &err), 0);
    CU_ASSERT_EQUAL(ours.status, FMT_DRAFT_PENDING_ENDORSEMENT);
    fmt_draft_release(&ours);
    fmt_bill_notice_release(&n);
    fmt_diag_release(&d);
}

/* Every fixture in the folder is one a test reads (no forgotten file). */
static void test_fixtures_all_covered(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", tu_src("tests/fixtures/bills"));
    DIR *dp = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".xml"))
            n++;
    }
    closedir(dp);
    CU_ASSERT_EQUAL(n, (FMT_BILL_OP_COUNT - 1) + 3);
}

/* ---- broken documents ---------------------------------------------------- */

#define NS "<BillRequest xmlns=\"urn:h2hd:bills:1\">\n"
#define END "</BillRequest>\n"
#define CPTY                                                                    \
    "  <Cpty><Nm>岭南配件有限公司</Nm><Acct><OthrId>330000000000000003" \
    "</OthrId></Acct><BkCd>104100000045</BkCd></Cpty>\n"

struct bad {
    const char *label;
    const char *doc;
    const char *rule; /* expected problem */
    int line;
    const char *where;
    int xsd_ok; /* the schema accepts it (checks beyond the schema) */
};

static const struct bad bad_requests[] = {
    {"unknown element",
     NS "  <Op>notices</Op>\n"
        "  <ReqId>R1</ReqId>\n"
        "  <Colour>blue</Colour>\n" END,
     "bill.unknown", 4, "Colour", 0},
    {"amount with 3 decimals",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R2</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Amt Ccy=\"CNY\">5000.001</Amt>\n" CPTY END,
     "bill.amount", 5, "Amt", 1 /* xs:decimal cannot tell */},
    {"amount with a sign",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R2b</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Amt Ccy=\"CNY\">+5000.00</Amt>\n" CPTY END,
     "bill.amount", 5, "Amt", 0},
    {"amount of 19 digits",
     NS "  <Op>recourse</Op>\n"
        "  <ReqId>R2c</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Amt Ccy=\"CNY\">99999999999999999.99</Amt>\n" CPTY END,
     "bill.amount", 5, "Amt", 0},
    {"amount without currency",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R3</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Amt>5000.00</Amt>\n" CPTY END,
     "bill.amount.ccy", 5, "Amt", 0},
    {"unknown currency",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R3b</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Amt Ccy=\"QQQ\">5000.00</Amt>\n" CPTY END,
     "bill.amount.ccy", 5, "Amt", 1},
    {"bad operation name",
     NS "  <Op>transfer</Op>\n"
        "  <ReqId>R4</ReqId>\n" END,
     "bill.enum", 2, "Op", 0},
    {"operation none",
     NS "  <Op>none</Op>\n"
        "  <ReqId>R4b</ReqId>\n" END,
     "bill.enum", 2, "Op", 0},
    /* a missing element: the line of the element that lacks it */
    {"request id missing", NS "  <Op>notices</Op>\n" END, "bill.missing", 1,
     "ReqId", 0},
    {"request id shape",
     NS "  <Op>notices</Op>\n"
        "  <ReqId>R 5/x</ReqId>\n" END,
     "bill.value", 3, "ReqId", 0},
    {"draft number of 29 digits",
     NS "  <Op>draft_detail</Op>\n"
        "  <ReqId>R6</ReqId>\n"
        "  <DrftNb>53015800000120240115000012345</DrftNb>\n" END,
     "bill.value", 4, "DrftNb", 0},
    {"impossible date",
     NS "  <Op>discount</Op>\n"
        "  <ReqId>R7</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Cpty><Nm>宁波银行</Nm><BkCd>313332082914</BkCd></Cpty>\n"
        "  <Rate>1.35</Rate>\n"
        "  <SttlmDt>2024-02-30</SttlmDt>\n" END,
     "bill.value", 7, "SttlmDt", 0},
    {"rate with 5 decimals",
     NS "  <Op>discount</Op>\n"
        "  <ReqId>R8</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Cpty><Nm>宁波银行</Nm><BkCd>313332082914</BkCd></Cpty>\n"
        "  <Rate>1.23456</Rate>\n" END,
     "bill.rate", 6, "Rate", 0},
    {"rate of 100 %",
     NS "  <Op>discount</Op>\n"
        "  <ReqId>R8b</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Cpty><Nm>宁波银行</Nm><BkCd>313332082914</BkCd></Cpty>\n"
        "  <Rate>100</Rate>\n" END,
     "bill.rate", 6, "Rate", 0},
    {"boolean yes",
     NS "  <Op>present_payment</Op>\n"
        "  <ReqId>R9</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Ovrdue>yes</Ovrdue>\n" END,
     "bill.boolean", 5, "Ovrdue", 0},
    {"sub-range from 0",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R10</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <SubRg><Fr>0</Fr><To>5</To></SubRg>\n" CPTY END,
     "bill.integer", 5, "SubRg/Fr", 0},
    {"sub-range without its end",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R10b</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <SubRg><Fr>1</Fr></SubRg>\n" CPTY END,
     "bill.missing", 5, "SubRg/To", 0},
    {"bank code of 11 digits",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R11</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Cpty>\n"
        "    <Nm>岭南配件有限公司</Nm>\n"
        "    <Acct><OthrId>330000000000000003</OthrId></Acct>\n"
        "    <BkCd>10410000004</BkCd>\n"
        "  </Cpty>\n" END,
     "bill.value", 8, "Cpty/BkCd", 0},
    {"request id twice",
     NS "  <Op>notices</Op>\n"
        "  <ReqId>R12</ReqId>\n"
        "  <ReqId>R12b</ReqId>\n" END,
     "bill.repeated", 4, "ReqId", 0},
    {"text between elements",
     NS "  <Op>notices</Op>\n"
        "  <ReqId>R13</ReqId>stray words<!-- c -->\n" END,
     "bill.text", 3, NULL, 0},
    {"element inside a value",
     NS "  <Op>notices</Op>\n"
        "  <ReqId>R14b</ReqId>\n"
        "  <AddtlInf>see\n"
        "    <b>this</b></AddtlInf>\n" END,
     "bill.unknown", 5, "AddtlInf", 0},
    {"element in another namespace",
     NS "  <Op>notices</Op>\n"
        "  <ReqId>R14</ReqId>\n"
        "  <x:Note xmlns:x=\"urn:other\">hi</x:Note>\n" END,
     "bill.namespace", 4, "Note", 0},
    {"issue without the draft's kind",
     NS "  <Op>issue</Op>\n"
        "  <ReqId>R15</ReqId>\n"
        "  <Drft>\n"
        "    <Amt Ccy=\"CNY\">100.00</Amt>\n"
        "  </Drft>\n" END,
     "bill.missing", 4, "Drft/Tp", 0},
    /* well-formed and schema-valid, refused by fmt_bill_request_check */
    {"endorse without endorsee",
     NS "  <Op>endorse</Op>\n"
        "  <ReqId>R16</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n" END,
     "bill.request", 1, "BillRequest", 1},
    {"discount without rate",
     NS "  <Op>discount</Op>\n"
        "  <ReqId>R17</ReqId>\n"
        "  <DrftNb>" NUM "</DrftNb>\n"
        "  <Cpty><Nm>宁波银行</Nm><BkCd>313332082914</BkCd></Cpty>\n" END,
     "bill.request", 1, "BillRequest", 1},
    {"operation on a draft without its number",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     "<!-- a comment line -->\n" NS "  <Op>present_payment</Op>\n"
     "  <ReqId>R18</ReqId>\n" END,
     "bill.request", 3, "BillRequest", 1},
    {"issue with a 7-month term",
     NS "  <Op>issue</Op>\n"
        "  <ReqId>R19</ReqId>\n"
        "  <Drft>\n"
        "    <Tp>AC01</Tp>\n"
        "    <Amt Ccy=\"CNY\">100.00</Amt>\n"
        "    <IsseDt>2024-01-15</IsseDt>\n"
        "    <MtrtyDt>2024-08-15</MtrtyDt>\n"
        "    <Drwr><Nm>华东贸易有限公司</Nm><Acct><OthrId>1</OthrId></Acct>"
        "<BkCd>102100099996</BkCd></Drwr>\n"
        "    <Accptr><Nm>工商银行</Nm><BkCd>102100000013</BkCd></Accptr>\n"
        "    <Pyee><Nm>江南供应链</Nm><Acct><OthrId>2</OthrId></Acct>"
        "<BkCd>103100000026</BkCd></Pyee>\n"
        "  </Drft>\n" END,
     "bill.request", 1, "BillRequest", 1},
};

static void test_broken_requests(void)
{
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]);
         i++) {
        const struct bad *b = &bad_requests[i];
        struct fmt_src src = {
            .buf = b->doc, .len = strlen(b->doc), .name = b->label};
        struct fmt_bill_request rq;
        struct fmt_diag d;
        struct h2h_err err = {0};
        fmt_diag_init(&d, b->label);
        int rc = fmt_canon_bill_read_request(&src, &rq, &d, &err);
        int found = tu_diag_has(&d, b->rule, b->line, b->where);
        int xsd = tu_xsd_valid_doc(XSD, tu_path(tmpdir, "doc.xml"), b->doc);
        if (rc != H2H_EINVALID || !found || (xsd == 0) != b->xsd_ok) {
            fprintf(stderr,
                    "  case \"%s\": rc %d, xsd %d; want %s line %d "
                    "at %s; got:\n",
                    b->label, rc, xsd, b->rule, b->line,
                    b->where ? b->where : "-");
            fmt_diag_print(&d, stderr);
        }
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        CU_ASSERT(found);
        CU_ASSERT_EQUAL(xsd == 0, b->xsd_ok);
        /* err summarises for a caller without diag */
        CU_ASSERT(tu_contains(err.msg, b->label));
        CU_ASSERT(tu_contains(err.msg, "problem"));
        /* the request check speaks whenever the request is incomplete */
        if (!strcmp(b->rule, "bill.request"))
            CU_ASSERT_EQUAL(d.n, 1);
        fmt_bill_request_release(&rq);
        fmt_diag_release(&d);
    }
}

/* The request check's reason is in words, at the root's line. */
static void test_request_check_reason(void)
{
    static const char doc[] =
        NS "  <Op>endorse</Op>\n"
           "  <ReqId>R20</ReqId>\n"
           "  <DrftNb>" NUM "</DrftNb>\n"
           "  <Cpty><Nm>岭南配件有限公司</Nm></Cpty>\n" END;
    struct fmt_src src = {
        .buf = doc, .len = sizeof(doc) - 1, .name = "endorse.xml"};
    struct fmt_bill_request rq;
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, "endorse.xml");
    CU_ASSERT_EQUAL(fmt_canon_bill_read_request(&src, &rq, &d, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(d.n, 1);
    if (d.n == 1) {
        CU_ASSERT_STRING_EQUAL(d.v[0].rule, "bill.request");
        CU_ASSERT_EQUAL(d.v[0].line, 1);
        CU_ASSERT(
            tu_contains(d.v[0].msg, "endorsee's account number is missing"));
    }
    CU_ASSERT(tu_contains(err.msg, "endorse.xml: 1 problem, the first: line 1: "
                                   "BillRequest: "));
    /* what was read is kept for the log */
    CU_ASSERT_STRING_EQUAL(rq.req_id, "R20");
    CU_ASSERT_STRING_EQUAL(rq.cpty.party.name, "岭南配件有限公司");
    fmt_bill_request_release(&rq);
    fmt_diag_release(&d);

    /* without an operation the check has nothing to add */
    static const char bad_op[] = NS "  <Op>transfer</Op>\n"
                                    "  <ReqId>R20b</ReqId>\n" END;
    struct fmt_src src2 = {.buf = bad_op, .len = sizeof(bad_op) - 1};
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_bill_read_request(&src2, &rq, &d, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(d.n, 1);
    CU_ASSERT(tu_diag_has(&d, "bill.enum", 2, "Op"));
    CU_ASSERT(d.n == 1 && tu_contains(d.v[0].msg, "\"transfer\" is not a bill "
                                                  "operation (issue, "));
    fmt_bill_request_release(&rq);
    fmt_diag_release(&d);

    /* without diag the verdict is the same */
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(fmt_canon_bill_read_request(&src, &rq, NULL, &err),
                    H2H_EINVALID);
    CU_ASSERT(tu_contains(err.msg, "account number is missing"));
    fmt_bill_request_release(&rq);
}

/* Several problems are all reported, in document order, with the first in
 * err; reading goes on after each. */
static void test_several_problems(void)
{
    static const char doc[] = NS "  <Op>endorse</Op>\n"
                                 "  <ReqId>R21</ReqId>\n"
                                 "  <DrftNb>" NUM "</DrftNb>\n"
                                 "  <Amt Ccy=\"CNY\">1.001</Amt>\n"
                                 "  <Colour/>\n" CPTY END;
    struct fmt_src src = {.buf = doc, .len = sizeof(doc) - 1};
    struct fmt_bill_request rq;
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_bill_read_request(&src, &rq, &d, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(d.n, 2);
    CU_ASSERT(tu_diag_has(&d, "bill.amount", 5, "Amt"));
    CU_ASSERT(tu_diag_has(&d, "bill.unknown", 6, "Colour"));
    CU_ASSERT(tu_contains(err.msg, "<memory>: 2 problems, the first: line 5: "
                                   "Amt: "));
    /* the counterparty after the problems was still read */
    CU_ASSERT_STRING_EQUAL(rq.cpty.bank_code, "104100000045");
    fmt_bill_request_release(&rq);
    fmt_diag_release(&d);
}

static void test_fatal_requests(void)
{
    static const struct {
        const char *label, *doc;
        int rc;
    } cases[] = {
        {"a result read as a request",
         "<BillResult xmlns=\"urn:h2hd:bills:1\"/>", H2H_EUNSUPPORTED},
        {"wrong namespace",
         "<BillRequest xmlns=\"urn:h2hd:bills:2\"><Op>notices</Op>"
         "</BillRequest>",
         H2H_EUNSUPPORTED},
        {"no namespace", "<BillRequest><Op>notices</Op></BillRequest>",
         H2H_EUNSUPPORTED},
        {"a canonical payment file",
         "<PaymentBatch xmlns=\"urn:h2hd:canonical:1\"/>", H2H_EUNSUPPORTED},
        {"DOCTYPE",
         "<!DOCTYPE BillRequest [<!ENTITY x \"y\">]>\n" NS
         "  <Op>notices</Op>\n  <ReqId>&x;</ReqId>\n" END,
         H2H_ESECURITY},
        {"external entity", "<!DOCTYPE r SYSTEM \"file:///etc/passwd\">" NS END,
         H2H_ESECURITY},
        {"not well-formed", NS "  <Op>notices</ReqId>\n" END, H2H_EPARSE},
        {"undefined entity", NS "  <Op>&x;</Op>\n" END, H2H_EPARSE},
        {"control character", NS "  <ReqId>a&#1;b</ReqId>\n" END, H2H_ECHARSET},
        {"invalid UTF-8", NS "  <AddtlInf>\xC3\x28</AddtlInf>\n" END,
         H2H_ECHARSET},
        {"GBK bytes declared UTF-8",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" NS
         "  <AddtlInf>\xBB\xAA\xB6\xAB</AddtlInf>\n" END,
         H2H_ECHARSET},
        {"truncated", NS "  <Op>notices</Op>\n", H2H_EPARSE},
        {"trailing element", NS END "<More/>", H2H_EPARSE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fmt_src src = {.buf = cases[i].doc, .len = strlen(cases[i].doc)};
        struct fmt_bill_request rq;
        struct fmt_diag d;
        struct h2h_err err = {0};
        fmt_diag_init(&d, cases[i].label);
        int rc = fmt_canon_bill_read_request(&src, &rq, &d, &err);
        if (rc != cases[i].rc)
            fprintf(stderr, "  case \"%s\": rc %d (want %d): %s\n",
                    cases[i].label, rc, cases[i].rc, err.msg);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        CU_ASSERT(err.msg[0] != '\0');
        fmt_bill_request_release(&rq);
        fmt_diag_release(&d);
    }
}

static void test_broken_results_notices(void)
{
    static const struct {
        const char *label, *doc;
        int notice;
        const char *rule;
        int line;
        const char *where;
    } cases[] = {
        {"notice of an operation never presented to us",
         "<BillNotice xmlns=\"urn:h2hd:bills:1\">\n"
         "  <NtceId>N1</NtceId>\n"
         "  <Op>discount</Op>\n"
         "  <Drft><Nb>" NUM "</Nb></Drft>\n"
         "</BillNotice>\n",
         1, "bill.enum", 3, "Op"},
        {"notice draft without a number",
         "<BillNotice xmlns=\"urn:h2hd:bills:1\">\n"
         "  <NtceId>N2</NtceId>\n"
         "  <Op>endorse</Op>\n"
         "  <Drft>\n"
         "    <Tp>AC01</Tp>\n"
         "  </Drft>\n"
         "</BillNotice>\n",
         1, "bill.missing", 4, "Drft/Nb"},
        {"result without outcome",
         "<BillResult xmlns=\"urn:h2hd:bills:1\">\n"
         "  <ReqId>R1</ReqId>\n"
         "  <Op>notices</Op>\n"
         "</BillResult>\n",
         0, "bill.missing", 1, "Outcm"},
        {"result list with a stranger",
         "<BillResult xmlns=\"urn:h2hd:bills:1\">\n"
         "  <ReqId>R1</ReqId><Op>drafts</Op><Outcm>accepted</Outcm>\n"
         "  <Drfts>\n"
         "    <Drft><Nb>" NUM "</Nb></Drft>\n"
         "    <Draft><Nb>" NUM "</Nb></Draft>\n"
         "  </Drfts>\n"
         "</BillResult>\n",
         0, "bill.unknown", 5, "Drfts/Draft"},
        {"second draft's amount",
         "<BillResult xmlns=\"urn:h2hd:bills:1\">\n"
         "  <ReqId>R1</ReqId><Op>drafts</Op><Outcm>accepted</Outcm>\n"
         "  <Drfts>\n"
         "    <Drft><Nb>" NUM "</Nb></Drft>\n"
         "    <Drft><Nb>" NUM3 "</Nb><Amt Ccy=\"CNY\">-5.00</Amt></Drft>\n"
         "  </Drfts>\n"
         "</BillResult>\n",
         0, "bill.amount", 5, "Drfts/Drft[2]/Amt"},
        {"history event of an inquiry",
         "<BillResult xmlns=\"urn:h2hd:bills:1\">\n"
         "  <ReqId>R1</ReqId><Op>draft_detail</Op><Outcm>accepted</Outcm>\n"
         "  <Hist><Evt><Op>pool_overview</Op></Evt></Hist>\n"
         "</BillResult>\n",
         0, "bill.enum", 3, "Hist/Evt[1]/Op"},
        {"pool count negative",
         "<BillResult xmlns=\"urn:h2hd:bills:1\">\n"
         "  <ReqId>R1</ReqId><Op>pool_overview</Op><Outcm>accepted</Outcm>\n"
         "  <Pool><PldgdNb>-1</PldgdNb></Pool>\n"
         "</BillResult>\n",
         0, "bill.integer", 3, "Pool/PldgdNb"},
        {"pool without its count",
         "<BillResult xmlns=\"urn:h2hd:bills:1\">\n"
         "  <ReqId>R1</ReqId><Op>pool_overview</Op><Outcm>accepted</Outcm>\n"
         "  <Pool><PoolId>P</PoolId></Pool>\n"
         "</BillResult>\n",
         0, "bill.missing", 3, "Pool/PldgdNb"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fmt_src src = {.buf = cases[i].doc, .len = strlen(cases[i].doc)};
        struct fmt_diag d;
        struct h2h_err err = {0};
        int rc;
        fmt_diag_init(&d, cases[i].label);
        if (cases[i].notice) {
            struct fmt_bill_notice n;
            rc = fmt_canon_bill_read_notice(&src, &n, &d, &err);
            fmt_bill_notice_release(&n);
        } else {
            struct fmt_bill_result r;
            rc = fmt_canon_bill_read_result(&src, &r, &d, &err);
            fmt_bill_result_release(&r);
        }
        int found =
            tu_diag_has(&d, cases[i].rule, cases[i].line, cases[i].where);
        if (rc != H2H_EINVALID || !found) {
            fprintf(stderr, "  case \"%s\": rc %d; got:\n", cases[i].label, rc);
            fmt_diag_print(&d, stderr);
        }
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        CU_ASSERT(found);
        CU_ASSERT_NOT_EQUAL(
            tu_xsd_valid_doc(XSD, tu_path(tmpdir, "doc.xml"), cases[i].doc), 0);
        fmt_diag_release(&d);
    }
}

/* Children out of the schema's order are still read (a hand-written file
 * with an order slip loses nothing), though the schema refuses them. */
static void test_any_order(void)
{
    static const char doc[] = NS "  <Cpty><BkCd>104100000045</BkCd>"
                                 "<Acct><OthrId>3</OthrId></Acct>"
                                 "<Nm>岭南配件有限公司</Nm></Cpty>\n"
                                 "  <DrftNb>" NUM "</DrftNb>\n"
                                 "  <ReqId>R22</ReqId>\n"
                                 "  <Op>endorse</Op>\n" END;
    struct fmt_src src = {.buf = doc, .len = sizeof(doc) - 1};
    struct fmt_bill_request rq;
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_bill_read_request(&src, &rq, &d, &err), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(rq.op, FMT_BILL_OP_ENDORSE);
    CU_ASSERT_STRING_EQUAL(rq.cpty.acct.other_id, "3");
    CU_ASSERT_NOT_EQUAL(tu_xsd_valid_doc(XSD, tu_path(tmpdir, "doc.xml"), doc),
                        0);
    fmt_bill_request_release(&rq);
    fmt_diag_release(&d);

    /* whitespace around codes and numbers is what the schema collapses */
    static const char ws[] = NS "  <Op>\n    discount\n  </Op>\n"
                                "  <ReqId> R23 </ReqId>\n"
                                "  <DrftNb>" NUM "</DrftNb>\n"
                                "  <Cpty><Nm> 宁波银行 </Nm>"
                                "<BkCd>313332082914</BkCd></Cpty>\n"
                                "  <Rate> 2.5 </Rate>\n" END;
    src.buf = ws;
    src.len = sizeof(ws) - 1;
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_bill_read_request(&src, &rq, &d, &err), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rq.op, FMT_BILL_OP_DISCOUNT);
    CU_ASSERT_STRING_EQUAL(rq.req_id, "R23");
    CU_ASSERT_EQUAL(rq.rate_ppm, 25000);
    /* free text is kept exactly */
    CU_ASSERT_STRING_EQUAL(rq.cpty.party.name, " 宁波银行 ");
    CU_ASSERT_EQUAL(tu_xsd_valid_doc(XSD, tu_path(tmpdir, "doc.xml"), ws), 0);
    fmt_bill_request_release(&rq);
    fmt_diag_release(&d);
}

/* ---- the writer refuses -------------------------------------------------- */

static void expect_refused(const char *label, tu_write_fn fn, const void *obj,
                           int code, const char *msg)
{
    struct h2h_err err = {0};
    const char *path = tu_path(tmpdir, "refused.xml");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int rc = fn(f, obj, &err);
    fclose(f);
    if (rc != code || !tu_contains(err.msg, msg))
        fprintf(stderr,
                "  case \"%s\": rc %d (want %d): \"%s\" (want "
                "\"%s\")\n",
                label, rc, code, err.msg, msg);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT(tu_contains(err.msg, msg));
    /* nothing reached the file */
    CU_ASSERT_EQUAL(tu_file_size(path), 0);
}

static void test_writer_refuses(void)
{
    struct h2h_err err = {0};
    struct fmt_bill_result r;
    struct fmt_bill_notice n;
    struct fmt_bill_request rq;

    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    fmt_bill_party_release(&rq.cpty);
    expect_refused("request the check refuses", w_req, &rq, H2H_EINVALID,
                   "endorsee's name is missing");
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_ISSUE);
    tu_set(&rq.draft.payee.party.name, "江南\x01供应链");
    expect_refused("control character", w_req, &rq, H2H_ECHARSET,
                   "BillRequest/Drft/Pyee/Nm: character U+0001");
    fmt_bill_request_release(&rq);

    mk_result(&r);
    tu_set(&r.bank_text, "ok \xC3\x28");
    expect_refused("invalid UTF-8", w_res, &r, H2H_ECHARSET,
                   "BillResult/BkRtrTxt: text is not valid UTF-8");
    tu_set(&r.bank_text, "ok \xEF\xBF\xBE");
    expect_refused("U+FFFE", w_res, &r, H2H_ECHARSET, "U+FFFE");
    tu_set(&r.bank_text, NULL);
    tu_set(&r.drafts[1].number, "123");
    expect_refused("draft number", w_res, &r, H2H_EINVALID,
                   "BillResult/Drfts/Drft[2]/Nb: \"123\" is not a draft "
                   "number");
    tu_set(&r.drafts[1].number, NUM3);
    r.history[2].amount.minor = -1;
    expect_refused("negative amount", w_res, &r, H2H_EINVALID,
                   "BillResult/Hist/Evt[3]/Amt: negative amount");
    r.history[2].amount = tu_cny(INT64_C(1000000000000000000));
    expect_refused("19 digits", w_res, &r, H2H_ETOOBIG,
                   "BillResult/Hist/Evt[3]/Amt: amount has more than 18");
    r.history[2].amount = tu_cny(INT64_C(999999999999999999));
    CU_ASSERT_EQUAL(
        tu_write_to(tu_path(tmpdir, "res_big.xml"), w_res, &r, &err), 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, tu_path(tmpdir, "res_big.xml")), 0);
    r.history[2].amount = tu_cny(1);
    strcpy(r.pool.deposit.ccy, "QQQ");
    expect_refused("unknown currency", w_res, &r, H2H_EINVALID,
                   "BillResult/Pool/Dpst: amount without a known ISO 4217");
    r.pool.deposit.ccy[0] = '\0';
    expect_refused("amount without currency", w_res, &r, H2H_EINVALID,
                   "Pool/Dpst");
    r.pool.deposit = tu_cny(7);
    r.notices[0].kind = FMT_BILL_OP_DISCOUNT;
    expect_refused("notice kind", w_res, &r, H2H_EINVALID,
                   "BillResult/Ntces/Ntce[1]/Op: value 5 is not a notice kind");
    r.notices[0].kind = FMT_BILL_OP_ENDORSE;
    r.history[1].op = FMT_BILL_OP_DRAFTS;
    expect_refused("inquiry in history", w_res, &r, H2H_EINVALID,
                   "Hist/Evt[2]/Op");
    r.history[1].op = FMT_BILL_OP_WITHDRAW;
    r.drafts[0].sub_from = 0;
    expect_refused("half a sub-range", w_res, &r, H2H_EINVALID,
                   "Drfts/Drft[1]/SubRg/Fr: required element is missing");
    r.drafts[0].sub_from = 1;
    r.drafts[0].status = FMT_DRAFT_STATUS_COUNT;
    char want[128];
    snprintf(want, sizeof(want),
             "Drfts/Drft[1]/Sts: value %d is not a draft status",
             (int)FMT_DRAFT_STATUS_COUNT);
    expect_refused("status out of range", w_res, &r, H2H_EINVALID, want);
    r.drafts[0].status = FMT_DRAFT_HELD;
    tu_set(&r.drafts[0].issue_date, "2024-1-15");
    expect_refused("date", w_res, &r, H2H_EINVALID,
                   "IsseDt: \"2024-1-15\" is not a date");
    tu_set(&r.drafts[0].issue_date, "2024-01-15");
    tu_set(&r.drafts[0].holder.bank_code, "10410000004X");
    expect_refused("bank code", w_res, &r, H2H_EINVALID, "Hldr/BkCd");
    tu_set(&r.drafts[0].holder.bank_code, NULL);
    tu_set(&r.req_id, NULL);
    expect_refused("no request id", w_res, &r, H2H_EINVALID,
                   "BillResult/ReqId: required element is missing");
    tu_set(&r.req_id, "TR-9");
    r.outcome = FMT_BILL_OUTCOME_NONE;
    expect_refused("no outcome", w_res, &r, H2H_EINVALID, "Outcm");
    r.outcome = FMT_BILL_ACCEPTED;
    struct fmt_draft *keep = r.drafts;
    r.drafts = NULL;
    expect_refused("count without array", w_res, &r, H2H_EINVALID,
                   "2 elements but no array");
    r.drafts = keep;
    /* after all of that the result is whole again and writes */
    CU_ASSERT_EQUAL(
        tu_write_to(tu_path(tmpdir, "res_again.xml"), w_res, &r, &err), 0);
    fmt_bill_result_release(&r);

    mk_notice(&n, FMT_BILL_OP_ENDORSE, "N1");
    tu_set(&n.draft.number, NULL);
    expect_refused("notice draft without number", w_ntc, &n, H2H_EINVALID,
                   "BillNotice/Drft/Nb: required element is missing");
    fmt_bill_notice_release(&n);

    /* out fails */
    mk_notice(&n, FMT_BILL_OP_ENDORSE, "N2");
    FILE *ro = fopen(tu_path(tmpdir, "res_again.xml"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
    CU_ASSERT_EQUAL(fmt_canon_bill_write_notice(ro, &n, &err), H2H_EIO);
    fclose(ro);
    fmt_bill_notice_release(&n);

    CU_ASSERT_EQUAL(fmt_canon_bill_write_notice(NULL, &n, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_canon_bill_write_request(stdout, NULL, &err),
                    H2H_EINVALID);
}

/* ---- detection ----------------------------------------------------------- */

static void test_detect(void)
{
    static const struct {
        const char *label, *doc;
        int want;
    } cases[] = {
        {"request", "<BillRequest xmlns=\"urn:h2hd:bills:1\">",
         FMT_CANON_BILL_REQUEST},
        {"result with BOM, declaration, comment",
         "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!-- 票据 -->\n<BillResult xmlns='urn:h2hd:bills:1'>",
         FMT_CANON_BILL_RESULT},
        {"prefixed notice", "<b:BillNotice\n  xmlns:b=\"urn:h2hd:bills:1\">",
         FMT_CANON_BILL_NOTICE},
        {"empty root", "<BillRequest xmlns=\"urn:h2hd:bills:1\"/>",
         FMT_CANON_BILL_REQUEST},
        {"canonical payments", "<PaymentBatch xmlns=\"urn:h2hd:canonical:1\">",
         -1},
        {"bill root in the canonical namespace",
         "<BillRequest xmlns=\"urn:h2hd:canonical:1\">", -1},
        {"another version", "<BillRequest xmlns=\"urn:h2hd:bills:10\">", -1},
        {"prefix declared for another namespace",
         "<b:BillRequest xmlns=\"urn:h2hd:bills:1\" xmlns:b=\"urn:x\">", -1},
        {"pain.001",
         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
         "pain.001.001.03\">",
         -1},
        {"cut before the namespace", "<BillRequest xmln", -1},
        {"CSV", "amount,currency\n1.00,CNY\n", -1},
        {"empty", "", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = fmt_canon_bill_detect(cases[i].doc, strlen(cases[i].doc));
        if (got != cases[i].want)
            fprintf(stderr, "  case \"%s\": %d (want %d)\n", cases[i].label,
                    got, cases[i].want);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    CU_ASSERT_EQUAL(fmt_canon_bill_detect(NULL, 0), -1);
    /* and the payment detector does not take a bill document */
    static const char req[] = "<BillRequest xmlns=\"urn:h2hd:bills:1\">";
    CU_ASSERT_EQUAL(fmt_canon_detect(req, sizeof(req) - 1), -1);

    /* a fixture as written to disk is detected */
    size_t len;
    char *buf = tu_read_file(tu_fixture("bills", "endorse.xml"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(fmt_canon_bill_detect(buf, len), FMT_CANON_BILL_REQUEST);
    free(buf);
}

/* ---- the schema's code lists are the model's names ----------------------- */

/* The enumeration values of simpleType name in the schema text; checks
 * each of names[1..n) is there and nothing else. */
static void check_enum(const char *xsd, const char *type,
                       const char *(*name)(int), int n, uint64_t mask)
{
    char open[128];
    snprintf(open, sizeof(open), "<xs:simpleType name=\"%s\">", type);
    const char *s = strstr(xsd, open);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    const char *e = strstr(s, "</xs:simpleType>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    int values = 0;
    for (const char *p = s;
         (p = strstr(p, "<xs:enumeration value=\"")) && p < e; p++)
        values++;
    int want = 0;
    for (int v = 1; v < n; v++) {
        if (mask && !(mask & (UINT64_C(1) << v)))
            continue;
        want++;
        char pat[128];
        snprintf(pat, sizeof(pat), "<xs:enumeration value=\"%s\"", name(v));
        const char *hit = strstr(s, pat);
        if (!hit || hit > e)
            fprintf(stderr, "  %s lacks %s\n", type, name(v));
        CU_ASSERT(hit && hit < e);
    }
    CU_ASSERT_EQUAL(values, want);
}

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
static const char *out_nm(int v)
{
    return fmt_bill_outcome_name((enum fmt_bill_outcome)v);
}

static void test_schema_names(void)
{
    char *xsd = tu_read_file(tu_src("formats/schemas/bills.xsd"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xsd);
    uint64_t inquiries = 0, notice = 0;
    for (int v = 1; v < FMT_BILL_OP_COUNT; v++)
        if (fmt_bill_op_inquiry((enum fmt_bill_op)v))
            inquiries |= UINT64_C(1) << v;
    notice = (UINT64_C(1) << FMT_BILL_OP_PRESENT_ACCEPTANCE) |
             (UINT64_C(1) << FMT_BILL_OP_PRESENT_RECEIPT) |
             (UINT64_C(1) << FMT_BILL_OP_ENDORSE) |
             (UINT64_C(1) << FMT_BILL_OP_RELEASE) |
             (UINT64_C(1) << FMT_BILL_OP_PRESENT_PAYMENT) |
             (UINT64_C(1) << FMT_BILL_OP_RECOURSE);
    uint64_t all = ((UINT64_C(1) << FMT_BILL_OP_COUNT) - 1) & ~UINT64_C(1);
    check_enum(xsd, "BillOp", op_nm, FMT_BILL_OP_COUNT, 0);
    check_enum(xsd, "DraftOp", op_nm, FMT_BILL_OP_COUNT, all & ~inquiries);
    check_enum(xsd, "NoticeOp", op_nm, FMT_BILL_OP_COUNT, notice);
    check_enum(xsd, "DraftStatus", st_nm, FMT_DRAFT_STATUS_COUNT, 0);
    check_enum(xsd, "DraftKind", kind_nm, FMT_DRAFT_AC02 + 1, 0);
    check_enum(xsd, "PendingDir", dir_nm, FMT_BILL_DIR_IN + 1, 0);
    check_enum(xsd, "Outcome", out_nm, FMT_BILL_REJECTED + 1, 0);
    free(xsd);
}

/* ---- robustness ---------------------------------------------------------- */

/* Cut and damaged documents never crash or leak (valgrind checks the
 * latter): each read ends in 0, a problem report or a fatal code with a
 * message. */
static void test_damaged_documents(void)
{
    struct fmt_bill_result r;
    struct h2h_err err = {0};
    mk_result(&r);
    const char *path = tu_path(tmpdir, "res_damage.xml");
    CU_ASSERT_EQUAL(tu_write_to(path, w_res, &r, &err), 0);
    fmt_bill_result_release(&r);
    size_t len;
    char *doc = tu_read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    int bad = 0, runs = 0;
    for (size_t cut = 0; cut < len; cut += 53) {
        struct fmt_src src = {.buf = doc, .len = cut};
        memset(&err, 0, sizeof(err));
        int rc = fmt_canon_bill_read_result(&src, &r, NULL, &err);
        /* only a cut in the final newline leaves a whole document */
        bad += rc == 0 ? cut + 1 < len : err.msg[0] == '\0';
        runs++;
        fmt_bill_result_release(&r);
    }
    static const char junk[] = {'<', '>', '&', '"', 'x', '\0', '/', '9'};
    for (size_t pos = 7, k = 0; pos < len; pos += 97, k++) {
        char saved = doc[pos];
        doc[pos] = junk[k % sizeof(junk)];
        struct fmt_src src = {.buf = doc, .len = len};
        memset(&err, 0, sizeof(err));
        int rc = fmt_canon_bill_read_result(&src, &r, NULL, &err);
        bad += rc != 0 && err.msg[0] == '\0';
        runs++;
        fmt_bill_result_release(&r);
        doc[pos] = saved;
    }
    CU_ASSERT(runs > 100);
    CU_ASSERT_EQUAL(bad, 0);
    free(doc);
}

/* ---- the shared engine --------------------------------------------------- */

struct flat {
    struct fmt_party p;
    int64_t rate;
};
static const struct fmt_cc_field f_flat[] = {
    FMT_CC_PARTY_FIELDS(struct flat, p),
    FMT_CC_F("Rate", FMT_CC_PPM, 0, struct flat, rate),
};
static FMT_CC_STRUCT(d_flat, "flat", struct flat, f_flat);

/* fmt_cc_party (a party element of its own) and FMT_CC_PARTY_FIELDS (a
 * party flattened into a larger element) write and read the same
 * elements; rates print exactly. */
static void test_common_engine(void)
{
    struct fmt_party p;
    struct flat fl;
    struct fmt_cc_report rep;
    struct h2h_err err = {0};
    memset(&p, 0, sizeof(p));
    fill_party(&p, "西部重工集团有限公司", "Z9");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(fmt_cc_write(m, "urn:t", "Party", &fmt_cc_party, &p, &err),
                    0);
    fclose(m);
    struct fmt_src src = {.buf = buf, .len = len};
    memset(&fl, 0, sizeof(fl));
    CU_ASSERT_EQUAL(fmt_cc_read(&src, "urn:t", "Party", "t", &d_flat, &fl, NULL,
                                &rep, &err),
                    0);
    CU_ASSERT_EQUAL(rep.n, 0);
    tu_mismatches = 0;
    tu_cmp_party("flat", &p, &fl.p);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    free(buf);
    fmt_party_release(&fl.p);
    fmt_party_release(&p);

    static const struct {
        int64_t ppm;
        const char *text;
    } rates[] = {{1, "0.0001"},     {10, "0.001"},       {13500, "1.35"},
                 {10000, "1"},      {999999, "99.9999"}, {250000, "25"},
                 {120300, "12.03"}, {5, "0.0005"}};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        char want[64];
        memset(&fl, 0, sizeof(fl));
        fl.rate = rates[i].ppm;
        buf = NULL;
        m = open_memstream(&buf, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_EQUAL(fmt_cc_write(m, "urn:t", "F", &d_flat, &fl, &err), 0);
        fclose(m);
        snprintf(want, sizeof(want), "<Rate>%s</Rate>", rates[i].text);
        CU_ASSERT(tu_contains(buf, want));
        struct flat back;
        memset(&back, 0, sizeof(back));
        src.buf = buf;
        src.len = len;
        CU_ASSERT_EQUAL(fmt_cc_read(&src, "urn:t", "F", "t", &d_flat, &back,
                                    NULL, &rep, &err),
                        0);
        CU_ASSERT_EQUAL(rep.n, 0);
        CU_ASSERT_EQUAL(back.rate, rates[i].ppm);
        free(buf);
    }
    /* trailing zeros carry nothing; a fifth significant decimal is lost
     * precision and refused */
    static const char z[] = "<F xmlns=\"urn:t\"><Rate>1.350000</Rate></F>";
    src.buf = z;
    src.len = sizeof(z) - 1;
    memset(&fl, 0, sizeof(fl));
    CU_ASSERT_EQUAL(
        fmt_cc_read(&src, "urn:t", "F", "t", &d_flat, &fl, NULL, &rep, &err),
        0);
    CU_ASSERT_EQUAL(rep.n, 0);
    CU_ASSERT_EQUAL(fl.rate, 13500);
    fl.rate = 1000000;
    m = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(fmt_cc_write(m, "urn:t", "F", &d_flat, &fl, &err),
                    H2H_EINVALID);
    fclose(m);
    CU_ASSERT_EQUAL(len, 0);
    free(buf);
}

int main(void)
{
    static const struct tu_case cases[] = {
        {"request of every operation round trips", test_request_every_op},
        {"request with every field round trips", test_request_every_field},
        {"results round trip", test_result_roundtrip},
        {"notices round trip", test_notice_roundtrip},
        {"the comparison sees a changed field", test_comparison_fails},
        {"fixture requests read cleanly", test_fixtures_requests},
        {"fixture result and notice read cleanly", test_fixtures_outputs},
        {"every fixture is covered", test_fixtures_all_covered},
        {"broken requests: rule, line, path", test_broken_requests},
        {"request check reason", test_request_check_reason},
        {"several problems", test_several_problems},
        {"fatal requests", test_fatal_requests},
        {"broken results and notices", test_broken_results_notices},
        {"children in any order, whitespace", test_any_order},
        {"writer refuses and writes nothing", test_writer_refuses},
        {"detect", test_detect},
        {"schema code lists are the model's names", test_schema_names},
        {"damaged documents", test_damaged_documents},
        {"shared engine: party shapes, rates", test_common_engine},
        {NULL, NULL},
    };
    const char *d = tu_mkdtemp();
    if (!d)
        return 2;
    snprintf(tmpdir, sizeof(tmpdir), "%s", d);
    int rc = tu_main("fmt_canon_bill", cases);
    tu_rmtree(tmpdir);
    return rc;
}
