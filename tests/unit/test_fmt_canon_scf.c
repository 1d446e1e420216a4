/*
 * test_fmt_canon_scf.c - canonical XML for supply-chain finance
 * (canon_scf.h, on the engine of canon_common.h).
 *
 * Round trips: a request of every kind (receivable financing, reverse
 * factoring, status inquiry, cancellation, each voucher operation,
 * voucher inquiry) and every kind of result (status report, repayment
 * notice, holdings with and without totals, voucher operation results)
 * are built in code (Chinese names; characters XML must escape; each
 * party different so that a swapped field shows), written, validated
 * with xmllint against formats/schemas/scf.xsd, read back and compared
 * field by field (cmp_* below list every field of scf.h, of the wrappers
 * of canon_scf.h and of model.h's party, account, agent, reason and
 * postal address).  The comparison is shown to fail on a changed field.
 *
 * Hand-written fixtures in tests/fixtures/scf (requests as treasury
 * writes them, results as h2hd writes them) validate, read cleanly and
 * agree with the model: the reverse-factoring request for three suppliers
 * and the bank's status report pass fmt_scf_status_report_check and fold
 * into a track that the repayment notice closes; the voucher operations,
 * applied with fmt_voucher_apply, give exactly the vouchers of the
 * transfer result (400000.00 of 1000000.00 split off to the tier-2
 * supplier) and of the holdings, whose totals are fmt_voucher_holdings'.
 * Broken documents give the expected rule, line and path; the writer
 * refuses what the schema, XML or the model checks would refuse without
 * writing a byte; the schema's code lists are the model's names.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "canon_bill.h"
#include "canon_common.h"
#include "canon_scf.h"
#include "testutil.h"

#define XSD "formats/schemas/scf.xsd"

#define CORE "91440300MA5G8T1X2K" /* 华南精密制造集团有限公司, issuer */
#define TIER1 "91441900MA51XKQ67B" /* 东莞市恒达五金制品有限公司 */
#define TIER2 "91440605MA4WAT9E3H" /* 佛山市南海区永盛塑胶有限公司 */
#define BANK "CMBCCNBS"
#define RATE1 10000000000LL /* 1 % in scf.h's units */

static char tmpdir[256];

/* ---- building models ----------------------------------------------------- */

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (!p)
        abort();
    return p;
}

/* Every field, each value marked with tag so parties differ. */
static void fill_postal(struct fmt_postal *a, const char *tag)
{
    char b[128];
    snprintf(b, sizeof(b), "财务部 %s", tag);
    a->dept = tu_dup(b);
    snprintf(b, sizeof(b), "深南大道 %s 号", tag);
    a->street = tu_dup(b);
    a->building = tu_dup(tag);
    a->postcode = tu_dup("518000");
    a->town = tu_dup("深圳");
    a->subdivision = tu_dup("广东省");
    a->country = tu_dup("CN");
    snprintf(b, sizeof(b), "南山区 %s", tag);
    a->lines[0] = tu_dup(b);
    a->lines[1] = tu_dup("A座 23F");
}

static void fill_party(struct fmt_party *p, const char *name, const char *tag)
{
    char b[64];
    p->name = tu_dup(name);
    fill_postal(&p->addr, tag);
    snprintf(b, sizeof(b), "BIC%sXX", tag);
    p->org_bic = tu_dup(b);
    snprintf(b, sizeof(b), "9144030%sMA5G", tag);
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

static void fill_agent(struct fmt_agent *a, const char *bic, const char *tag)
{
    char b[64];
    a->bic = tu_dup(bic);
    a->clr_sys = tu_dup("CNAPS");
    snprintf(b, sizeof(b), "3085840000%s", tag);
    a->clr_mmb_id = tu_dup(b);
    snprintf(b, sizeof(b), "招商银行股份有限公司深圳%s支行", tag);
    a->name = tu_dup(b);
    fill_postal(&a->addr, tag);
    snprintf(b, sizeof(b), "AG-%s", tag);
    a->other_id = tu_dup(b);
}

static void fill_reason(struct fmt_reason *r, const char *tag)
{
    char b[64];
    snprintf(b, sizeof(b), "AC%s", tag);
    r->code = tu_dup(b);
    snprintf(b, sizeof(b), "SCF%s", tag);
    r->prtry = tu_dup(b);
    snprintf(b, sizeof(b), "发票未确权 %s\n第二行", tag);
    r->addtl_info = tu_dup(b);
}

/* Invoice k of a request of kind; full: every field. */
static void mk_invoice(struct fmt_scf_invoice *iv, int k,
                       enum fmt_scf_kind kind, int full)
{
    static const char *const suppliers[] = {"东莞市恒达五金制品有限公司",
                                            "佛山市南海区永盛塑胶有限公司",
                                            "深圳市宝安区鑫源电子科技有限公司"};
    char b[64];
    fmt_scf_invoice_init(iv);
    snprintf(b, sizeof(b), "0452137%d", k);
    iv->number = tu_dup(b);
    snprintf(b, sizeof(b), "2025-01-%02d", 8 + k);
    iv->issue_date = tu_dup(b);
    snprintf(b, sizeof(b), "2025-06-%02d", 10 + k);
    iv->due_date = tu_dup(b);
    int64_t taxable = 10000000 * (k + 1); /* 100000.00 CNY each step */
    iv->amount = tu_cny(taxable + taxable * 13 / 100);
    if (full || k != 1) {
        iv->taxable = tu_cny(taxable);
        iv->tax = tu_cny(taxable * 13 / 100);
    }
    if (full && k == 1)
        iv->requested_rate = 855 * RATE1 / 10; /* 85.5 % */
    else
        iv->requested = tu_cny(iv->amount.minor * 9 / 10);
    if (kind == FMT_SCF_RECEIVABLE) {
        iv->buyer.name = tu_dup("华南精密制造集团有限公司");
        iv->buyer.org_id = tu_dup(CORE);
    } else {
        snprintf(b, sizeof(b), "S%d", k);
        if (full) {
            fill_party(&iv->seller, suppliers[k % 3], b);
            fill_account(&iv->seller_acct, "769900123410201", b);
        } else {
            iv->seller.name = tu_dup(suppliers[k % 3]);
            iv->seller_acct.other_id = tu_dup("769900123410201");
        }
    }
    if (full) {
        if (kind == FMT_SCF_REVERSE_FACTORING)
            fill_party(&iv->buyer, "华南精密制造集团有限公司", "RQ");
        else
            iv->seller.name = tu_dup("深圳市宝安区鑫源电子科技有限公司");
        iv->pmt_method = tu_dup(k ? "CHK" : "TRF");
        snprintf(b, sizeof(b), "HN-CG-2025-%04d", k);
        iv->contract_ref = tu_dup(b);
        iv->tax_invoice_code = tu_dup(k == 2 ? "440023113012" : "4403231130");
    }
}

/* A financing request fmt_scf_request_check accepts; full: every field. */
static void mk_fincg(struct fmt_canon_scf_request *rq, enum fmt_scf_kind kind,
                     int full)
{
    struct fmt_scf_request *r = &rq->fincg;
    fmt_canon_scf_request_init(rq);
    rq->kind = FMT_CANON_SCF_FINANCING;
    r->request_id = tu_dup(kind ? "RF-2025.0301_x" : "AR-2025-0042");
    r->kind = kind;
    if (full) {
        fill_party(&r->requestor, "华南精密制造集团有限公司", "RQ");
        fill_account(&r->credit_acct, "755912345610808", "CA");
        fill_account(&r->financing_acct, "755912345699999", "FA");
        fill_agent(&r->bank, BANK, "B1");
        fill_agent(&r->intermediary, "BKCHCNBJ", "I2");
        r->cre_dt_tm = tu_dup("2025-03-05T09:30:00+08:00");
        r->product = tu_dup("FB-RF-01");
        r->agreement_ref = tu_dup("招银深保理(2024)字第0088号");
        r->contract_ref = tu_dup("HN-CG-2024-1107");
        r->value_date = tu_dup("2025-03-10");
        /* CR, LF and tab survive; CR is written as a character reference */
        r->addtl_info = tu_dup("备注 <一季度> & \"第一批\"\r\nline 2\ttab "
                               "\xF0\x9F\x98\x80");
    } else {
        r->requestor.name = tu_dup("深圳市宝安区鑫源电子科技有限公司");
        if (kind == FMT_SCF_RECEIVABLE)
            r->credit_acct.other_id = tu_dup("44250100003809876543");
        r->bank.bic = tu_dup(BANK);
    }
    memcpy(r->ccy, "CNY", 4);
    r->n_invoices = 3;
    r->invoices = xcalloc(3, sizeof(*r->invoices));
    int64_t asked = 0, rated = 0;
    for (int k = 0; k < 3; k++) {
        mk_invoice(&r->invoices[k], k, kind, full);
        if (r->invoices[k].requested.ccy[0])
            asked += r->invoices[k].requested.minor;
        else
            rated += r->invoices[k].amount.minor / 2;
    }
    r->requested = tu_cny(asked + rated);
}

/* A voucher operation whose shape fmt_canon_scf_vop_check accepts. */
static void mk_vop(struct fmt_canon_scf_request *rq, enum fmt_voucher_op_kind k)
{
    struct fmt_canon_scf_vop *w = &rq->vop;
    char b[32];
    fmt_canon_scf_request_init(rq);
    rq->kind = FMT_CANON_SCF_VOUCHER_OP;
    snprintf(b, sizeof(b), "V%d-2025-0012", (int)k);
    w->req_id = tu_dup(b);
    w->kind = k;
    w->voucher_id = tu_dup("RX-2025-000123");
    w->actor = tu_dup(k == FMT_VOUCHER_ISSUE || k == FMT_VOUCHER_SETTLE ? CORE
                      : k == FMT_VOUCHER_REFUSE                         ? TIER2
                                                : TIER1);
    w->date = tu_dup(k == FMT_VOUCHER_SETTLE ? "2025-08-10" : "2025-03-03");
    switch (k) {
    case FMT_VOUCHER_ISSUE:
        w->counterparty = tu_dup(TIER1);
        w->amount = tu_cny(100000000);
        w->maturity_date = tu_dup("2025-08-10");
        break;
    case FMT_VOUCHER_TRANSFER:
        w->counterparty = tu_dup(TIER2);
        w->amount = tu_cny(40000000);
        w->new_id = tu_dup("RX-2025-000123-01");
        break;
    case FMT_VOUCHER_FINANCE:
        w->counterparty = tu_dup(BANK);
        w->amount = tu_cny(60000000);
        w->ref = tu_dup("招银融信-2025-0310-01 <&>");
        break;
    default: break;
    }
}

static void mk_inq(struct fmt_canon_scf_request *rq)
{
    fmt_canon_scf_request_init(rq);
    rq->kind = FMT_CANON_SCF_INQUIRY;
    rq->inq.inquiry_id = tu_dup("RFQ-2025-0301-1");
    rq->inq.cre_dt_tm = tu_dup("2025-03-07T16:00:00+08:00");
    rq->inq.request_id = tu_dup("RF-2025-0301");
}

static void mk_cxl(struct fmt_canon_scf_request *rq, int full)
{
    struct fmt_scf_cancel *c = &rq->cxl;
    fmt_canon_scf_request_init(rq);
    rq->kind = FMT_CANON_SCF_CANCEL;
    c->cancel_id = tu_dup("AR-2025-0042-C1");
    c->orgnl_request_id = tu_dup("AR-2025-0042");
    c->reason = tu_dup("买方已提前付款, 撤销融资申请");
    if (!full)
        return;
    c->cre_dt_tm = tu_dup("2025-03-06T10:12:00+08:00");
    c->orgnl_cre_dt_tm = tu_dup("2025-03-05T09:30:00+08:00");
    c->nb_of_invoices = 0; /* 0 is a count, not "absent" */
    c->total_invoice_amount = tu_cny(47600000);
    c->reason_code = tu_dup("DUPL");
    fill_party(&c->requestor, "深圳市宝安区鑫源电子科技有限公司", "CX");
    fill_agent(&c->bank, "PCBCCNBJ", "C3");
}

static void mk_vinq(struct fmt_canon_scf_request *rq, int full)
{
    struct fmt_voucher_inquiry *q = &rq->vinq;
    fmt_canon_scf_request_init(rq);
    rq->kind = FMT_CANON_SCF_VOUCHER_INQ;
    q->inquiry_id = tu_dup("VQ-2025-0303");
    q->party = tu_dup(TIER1);
    if (!full)
        return;
    q->voucher_id = tu_dup("RX-2025-000123");
    q->status = FMT_VOUCHER_PENDING; /* 0: a status, not "any" */
    q->maturity_from = tu_dup("2025-07-01");
    q->maturity_to = tu_dup("2025-09-30");
}

/* A voucher; full: every field (financed), else what a bare list gives. */
static void mk_voucher(struct fmt_voucher *v, const char *id, int level,
                       int full)
{
    memset(v, 0, sizeof(*v));
    v->id = tu_dup(id);
    v->amount = tu_cny(level == 1 ? 100000000 : 40000000);
    v->remaining = level == 1 ? 60000000 : 0; /* 0 is written */
    v->status = level == 1 ? FMT_VOUCHER_FINANCED : FMT_VOUCHER_PENDING;
    if (!full)
        return;
    if (level > 1)
        v->parent_id = tu_dup("RX-2025-000123");
    v->root_id = tu_dup("RX-2025-000123");
    v->level = level;
    v->issuer = tu_dup(CORE);
    v->original_holder = tu_dup(TIER1);
    v->transferor = tu_dup(level == 1 ? CORE : TIER1);
    v->holder = tu_dup(level == 1 ? TIER1 : TIER2);
    v->issue_date = tu_dup(level == 1 ? "2025-02-10" : "2025-03-03");
    v->maturity_date = tu_dup("2025-08-10");
    v->status_date = tu_dup("2025-03-10");
    if (level == 1) {
        v->fin_bank = tu_dup(BANK);
        v->fin_ref = tu_dup("招银融信-2025-0310-01");
        v->fin_date = tu_dup("2025-03-10");
        v->fin_amount = 60000000;
    }
}

static void mk_status_report(struct fmt_canon_scf_result *res, int full)
{
    struct fmt_scf_status_report *r = &res->sts;
    fmt_canon_scf_result_init(res);
    res->kind = FMT_CANON_SCF_STATUS;
    fmt_scf_status_report_init(r);
    r->orgnl_request_id = tu_dup("RF-2025-0301");
    r->status = full ? FMT_SCF_FINANCED : FMT_SCF_SUBMITTED; /* 0 too */
    if (!full)
        return;
    r->status_id = tu_dup("CMB-SCF-20250310-000417");
    r->cre_dt_tm = tu_dup("2025-03-10T11:02:45+08:00");
    r->orgnl_cre_dt_tm = tu_dup("2025-03-05T09:30:00+08:00");
    fill_reason(&r->reason, "R1");
    r->cancel_answer = FMT_SCF_CXL_REFUSED;
    fill_reason(&r->cancel_reason, "C2");
    r->financed = tu_cny(81360000);
    r->accepted_total = tu_cny(90400000);
    r->n_financed_items = 2;
    r->applied_pctg = 90 * RATE1;
    r->interest_rate = 34512345678LL; /* 3.4512345678 % */
    r->value_date = tu_dup("2025-03-10");
    r->maturity_date = tu_dup("2025-07-15");
    r->book_date = tu_dup("2025-03-11");
    r->loan_ref = tu_dup("JJ7550250310000417");
    fill_account(&r->credit_acct, "755912345610808", "SC");
    fill_account(&r->financing_acct, "755912345699999", "SF");
    r->n_invoices = 3;
    r->invoices = xcalloc(3, sizeof(*r->invoices));
    for (int k = 0; k < 3; k++) {
        struct fmt_scf_invoice_result *ir = &r->invoices[k];
        char b[32];
        fmt_scf_invoice_result_init(ir);
        snprintf(b, sizeof(b), "0452137%d", k);
        ir->number = tu_dup(b);
        ir->result = (enum fmt_scf_item)k; /* accepted, pending, rejected */
        if (k == 2) {
            fill_reason(&ir->reason, "I3");
            continue;
        }
        ir->invoice_amount = tu_cny(11300000 * (k + 1));
        ir->issue_date = tu_dup("2025-01-08");
        ir->due_date = tu_dup("2025-06-10");
        fill_party(&ir->seller, "东莞市恒达五金制品有限公司", "IS");
        if (k == 0)
            ir->financed = tu_cny(10170000);
        else
            ir->financed_rate = 0; /* 0 is a rate, not "absent" */
    }
}

static void mk_repayment(struct fmt_canon_scf_result *res, int full)
{
    struct fmt_scf_repayment *r = &res->rpmt;
    fmt_canon_scf_result_init(res);
    res->kind = FMT_CANON_SCF_REPAYMENT;
    r->notice_id = tu_dup("CMB-RPY-20250715-0093");
    r->kind = full ? FMT_SCF_REPAY_PAID : FMT_SCF_REPAY_DUE;
    r->amount = tu_cny(82248433);
    if (!full)
        return;
    r->request_id = tu_dup("RF-2025-0301");
    r->loan_ref = tu_dup("JJ7550250310000417");
    r->principal = tu_cny(81360000);
    r->interest = tu_cny(888433);
    r->due_date = tu_dup("2025-07-15");
    fill_account(&r->debit_acct, "755912345610808", "DA");
}

static void mk_holdings(struct fmt_canon_scf_result *res, int totals)
{
    struct fmt_canon_scf_holdings *h = &res->hldgs;
    fmt_canon_scf_result_init(res);
    res->kind = FMT_CANON_SCF_HOLDINGS;
    h->party = tu_dup(TIER1);
    if (totals) {
        h->req_id = tu_dup("VQ-2025-0311");
        h->as_of = tu_dup("2025-03-11T08:00:00+08:00");
        h->has_totals = 1;
        memcpy(h->ccy, "CNY", 4);
        h->totals.n_held = 1;
        h->totals.held = 1;
        h->totals.n_pending_in = 2;
        h->totals.pending_in = 200;
        h->totals.n_pending_out = 3;
        h->totals.pending_out = 30000;
        h->totals.n_financed = 4;
        h->totals.financed = 4000000;
        h->totals.n_settled = 0; /* zeros are written */
        h->totals.settled = 0;
        h->totals.issued_live = 500000000000LL;
    }
    h->n_vouchers = 3;
    h->vouchers = xcalloc(3, sizeof(*h->vouchers));
    mk_voucher(&h->vouchers[0], "RX-2025-000123", 1, 1);
    mk_voucher(&h->vouchers[1], "RX-2025-000123-01", 2, 1);
    mk_voucher(&h->vouchers[2], "RX-2025-000999", 2, 0);
}

static void mk_vop_result(struct fmt_canon_scf_result *res, int accepted)
{
    struct fmt_canon_scf_vop_result *v = &res->vrslt;
    fmt_canon_scf_result_init(res);
    res->kind = FMT_CANON_SCF_VOP_RESULT;
    v->req_id = tu_dup("VT-2025-0012");
    v->op = accepted ? FMT_VOUCHER_TRANSFER : FMT_VOUCHER_ISSUE; /* 0 */
    v->outcome = accepted ? FMT_CANON_SCF_ACCEPTED : FMT_CANON_SCF_REJECTED;
    v->bank_code = tu_dup(accepted ? "0000" : "E2041");
    v->bank_text =
        tu_dup(accepted ? "转让成功, 待对方签收" : "额度不足 <授信>");
    if (!accepted)
        return;
    v->n_vouchers = 2;
    v->vouchers = xcalloc(2, sizeof(*v->vouchers));
    mk_voucher(&v->vouchers[0], "RX-2025-000123", 1, 1);
    mk_voucher(&v->vouchers[1], "RX-2025-000123-01", 2, 1);
}

/* ---- field-by-field comparison ------------------------------------------- */

/* An array of n_fld items compared with fn, n first. */
#define CARR(fn, arr, cnt)                                                     \
    do {                                                                       \
        TU_CI(cnt);                                                            \
        for (size_t i_ = 0; i_ < a->cnt && i_ < b->cnt; i_++) {                \
            char p_[256];                                                      \
            snprintf(p_, sizeof(p_), "%s.%s[%zu]", path, #arr, i_);            \
            fn(p_, &a->arr[i_], &b->arr[i_]);                                  \
        }                                                                      \
    } while (0)

static void cmp_agent(const char *path, const struct fmt_agent *a,
                      const struct fmt_agent *b)
{
    TU_CS(bic);
    TU_CS(clr_sys);
    TU_CS(clr_mmb_id);
    TU_CS(name);
    TU_CSUB(tu_cmp_postal, addr);
    TU_CS(other_id);
}

static void cmp_reason(const char *path, const struct fmt_reason *a,
                       const struct fmt_reason *b)
{
    TU_CS(code);
    TU_CS(prtry);
    TU_CS(addtl_info);
}

/* Every field but line (the reader's, not data). */
static void cmp_invoice(const char *path, const struct fmt_scf_invoice *a,
                        const struct fmt_scf_invoice *b)
{
    TU_CS(number);
    TU_CS(issue_date);
    TU_CS(due_date);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CSUB(tu_cmp_amount, taxable);
    TU_CSUB(tu_cmp_amount, tax);
    TU_CSUB(tu_cmp_amount, requested);
    TU_CI(requested_rate);
    TU_CSUB(tu_cmp_party, buyer);
    TU_CSUB(tu_cmp_party, seller);
    TU_CSUB(tu_cmp_account, seller_acct);
    TU_CS(pmt_method);
    TU_CS(contract_ref);
    TU_CS(tax_invoice_code);
}

static void cmp_fincg(const char *path, const struct fmt_scf_request *a,
                      const struct fmt_scf_request *b)
{
    TU_CS(request_id);
    TU_CS(cre_dt_tm);
    TU_CI(kind);
    TU_CSUB(tu_cmp_party, requestor);
    TU_CSUB(tu_cmp_account, credit_acct);
    TU_CSUB(tu_cmp_account, financing_acct);
    TU_CSUB(cmp_agent, bank);
    TU_CSUB(cmp_agent, intermediary);
    TU_CS(product);
    TU_CS(agreement_ref);
    TU_CS(contract_ref);
    TU_CS(ccy);
    TU_CSUB(tu_cmp_amount, requested);
    TU_CS(value_date);
    CARR(cmp_invoice, invoices, n_invoices);
    TU_CS(addtl_info);
}

static void cmp_inq(const char *path, const struct fmt_scf_inquiry *a,
                    const struct fmt_scf_inquiry *b)
{
    TU_CS(inquiry_id);
    TU_CS(cre_dt_tm);
    TU_CS(request_id);
}

static void cmp_cxl(const char *path, const struct fmt_scf_cancel *a,
                    const struct fmt_scf_cancel *b)
{
    TU_CS(cancel_id);
    TU_CS(cre_dt_tm);
    TU_CS(orgnl_request_id);
    TU_CS(orgnl_cre_dt_tm);
    TU_CI(nb_of_invoices);
    TU_CSUB(tu_cmp_amount, total_invoice_amount);
    TU_CS(reason_code);
    TU_CS(reason);
    TU_CSUB(tu_cmp_party, requestor);
    TU_CSUB(cmp_agent, bank);
}

static void cmp_vop(const char *path, const struct fmt_canon_scf_vop *a,
                    const struct fmt_canon_scf_vop *b)
{
    TU_CS(req_id);
    TU_CI(kind);
    TU_CS(voucher_id);
    TU_CS(actor);
    TU_CS(date);
    TU_CS(counterparty);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CS(new_id);
    TU_CS(maturity_date);
    TU_CS(ref);
}

static void cmp_vinq(const char *path, const struct fmt_voucher_inquiry *a,
                     const struct fmt_voucher_inquiry *b)
{
    TU_CS(inquiry_id);
    TU_CS(party);
    TU_CS(voucher_id);
    TU_CI(status);
    TU_CS(maturity_from);
    TU_CS(maturity_to);
}

/* Every branch: the one written, and the others as _init leaves them. */
static void cmp_request(const char *path, const struct fmt_canon_scf_request *a,
                        const struct fmt_canon_scf_request *b)
{
    TU_CI(kind);
    TU_CSUB(cmp_fincg, fincg);
    TU_CSUB(cmp_inq, inq);
    TU_CSUB(cmp_cxl, cxl);
    TU_CSUB(cmp_vop, vop);
    TU_CSUB(cmp_vinq, vinq);
}

static void cmp_invoice_result(const char *path,
                               const struct fmt_scf_invoice_result *a,
                               const struct fmt_scf_invoice_result *b)
{
    TU_CS(number);
    TU_CSUB(tu_cmp_amount, invoice_amount);
    TU_CS(issue_date);
    TU_CS(due_date);
    TU_CSUB(tu_cmp_party, seller);
    TU_CI(result);
    TU_CSUB(cmp_reason, reason);
    TU_CSUB(tu_cmp_amount, financed);
    TU_CI(financed_rate);
}

static void cmp_sts(const char *path, const struct fmt_scf_status_report *a,
                    const struct fmt_scf_status_report *b)
{
    TU_CS(status_id);
    TU_CS(cre_dt_tm);
    TU_CS(orgnl_request_id);
    TU_CS(orgnl_cre_dt_tm);
    TU_CI(status);
    TU_CSUB(cmp_reason, reason);
    TU_CI(cancel_answer);
    TU_CSUB(cmp_reason, cancel_reason);
    TU_CSUB(tu_cmp_amount, financed);
    TU_CSUB(tu_cmp_amount, accepted_total);
    TU_CI(n_financed_items);
    TU_CI(applied_pctg);
    TU_CI(interest_rate);
    TU_CS(value_date);
    TU_CS(maturity_date);
    TU_CS(book_date);
    TU_CS(loan_ref);
    TU_CSUB(tu_cmp_account, credit_acct);
    TU_CSUB(tu_cmp_account, financing_acct);
    CARR(cmp_invoice_result, invoices, n_invoices);
}

static void cmp_rpmt(const char *path, const struct fmt_scf_repayment *a,
                     const struct fmt_scf_repayment *b)
{
    TU_CS(notice_id);
    TU_CI(kind);
    TU_CS(request_id);
    TU_CS(loan_ref);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CSUB(tu_cmp_amount, principal);
    TU_CSUB(tu_cmp_amount, interest);
    TU_CS(due_date);
    TU_CSUB(tu_cmp_account, debit_acct);
}

static void cmp_voucher(const char *path, const struct fmt_voucher *a,
                        const struct fmt_voucher *b)
{
    TU_CS(id);
    TU_CS(parent_id);
    TU_CS(root_id);
    TU_CI(level);
    TU_CS(issuer);
    TU_CS(original_holder);
    TU_CS(transferor);
    TU_CS(holder);
    TU_CSUB(tu_cmp_amount, amount);
    TU_CI(remaining);
    TU_CS(issue_date);
    TU_CS(maturity_date);
    TU_CI(status);
    TU_CS(status_date);
    TU_CS(fin_bank);
    TU_CS(fin_ref);
    TU_CS(fin_date);
    TU_CI(fin_amount);
}

static void cmp_totals(const char *path, const struct fmt_voucher_holdings *a,
                       const struct fmt_voucher_holdings *b)
{
    TU_CI(n_held);
    TU_CI(held);
    TU_CI(n_pending_in);
    TU_CI(pending_in);
    TU_CI(n_pending_out);
    TU_CI(pending_out);
    TU_CI(n_financed);
    TU_CI(financed);
    TU_CI(n_settled);
    TU_CI(settled);
    TU_CI(issued_live);
}

static void cmp_hldgs(const char *path, const struct fmt_canon_scf_holdings *a,
                      const struct fmt_canon_scf_holdings *b)
{
    TU_CS(req_id);
    TU_CS(party);
    TU_CS(as_of);
    TU_CI(has_totals);
    TU_CS(ccy);
    TU_CSUB(cmp_totals, totals);
    CARR(cmp_voucher, vouchers, n_vouchers);
}

static void cmp_vrslt(const char *path,
                      const struct fmt_canon_scf_vop_result *a,
                      const struct fmt_canon_scf_vop_result *b)
{
    TU_CS(req_id);
    TU_CI(op);
    TU_CI(outcome);
    TU_CS(bank_code);
    TU_CS(bank_text);
    CARR(cmp_voucher, vouchers, n_vouchers);
}

static void cmp_result(const char *path, const struct fmt_canon_scf_result *a,
                       const struct fmt_canon_scf_result *b)
{
    TU_CI(kind);
    TU_CSUB(cmp_sts, sts);
    TU_CSUB(cmp_rpmt, rpmt);
    TU_CSUB(cmp_hldgs, hldgs);
    TU_CSUB(cmp_vrslt, vrslt);
}

/* ---- files, schema, diag ------------------------------------------------- */

static int w_req(FILE *f, const void *o, struct h2h_err *e)
{
    return fmt_canon_scf_write_request(f, o, e);
}
static int w_res(FILE *f, const void *o, struct h2h_err *e)
{
    return fmt_canon_scf_write_result(f, o, e);
}

/* ---- round trips --------------------------------------------------------- */

static void roundtrip_request(const struct fmt_canon_scf_request *rq,
                              const char *name, char **text)
{
    char file[96];
    struct h2h_err err = {0};
    snprintf(file, sizeof(file), "req_%s.xml", name);
    const char *path = tu_path(tmpdir, file);
    CU_ASSERT_EQUAL(tu_write_to(path, w_req, rq, &err), 0);
    int valid = tu_xsd_valid(XSD, path);
    if (valid)
        fprintf(stderr, "  %s is not valid against scf.xsd\n", path);
    CU_ASSERT_EQUAL(valid, 0);
    struct fmt_canon_scf_request back;
    struct fmt_diag d;
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_scf_read_request(&src, &back, &d, &err);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(d.n, 0);
    tu_mismatches = 0;
    cmp_request(name, rq, &back);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    /* the reader says where each invoice and the branch started */
    CU_ASSERT(back.line > 1);
    for (size_t i = 0; i < back.fincg.n_invoices; i++)
        CU_ASSERT(back.fincg.invoices[i].line > back.line);
    if (text)
        *text = tu_read_file(path, NULL);
    fmt_canon_scf_request_release(&back);
    fmt_diag_release(&d);
}

static void test_request_financing(void)
{
    static const struct {
        enum fmt_scf_kind kind;
        int full;
        const char *name;
    } cases[] = {
        {FMT_SCF_RECEIVABLE, 0, "receivable"},
        {FMT_SCF_RECEIVABLE, 1, "receivable_full"},
        {FMT_SCF_REVERSE_FACTORING, 0, "reverse_factoring"},
        {FMT_SCF_REVERSE_FACTORING, 1, "reverse_factoring_full"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fmt_canon_scf_request rq;
        char *text = NULL;
        mk_fincg(&rq, cases[i].kind, cases[i].full);
        /* the model itself must be one the check allows */
        CU_ASSERT_EQUAL(fmt_scf_request_check(&rq.fincg, "2025-03-05", NULL),
                        0);
        roundtrip_request(&rq, cases[i].name, &text);
        CU_ASSERT(tu_contains(text, "<ScfRequest xmlns=\"urn:h2hd:scf:1\">"));
        CU_ASSERT(tu_contains(text, "<Fincg>"));
        CU_ASSERT(tu_contains(text, cases[i].kind ? "<Kind>reverse_factoring<"
                                                  : "<Kind>receivable</Kind>"));
        CU_ASSERT(tu_contains(text, "<Ccy>CNY</Ccy>"));
        CU_ASSERT(!tu_contains(text, "<Inq>") &&
                  !tu_contains(text, "<VchrOp>"));
        if (cases[i].full) {
            /* Chinese text goes out as UTF-8, escaped where XML needs */
            CU_ASSERT(tu_contains(text,
                                  "备注 &lt;一季度&gt; &amp; \"第一批\"&#13;"
                                  "\nline 2\ttab "));
            CU_ASSERT(
                tu_contains(text, "<Nm>招商银行股份有限公司深圳B1支行</Nm>"));
            CU_ASSERT(tu_contains(text, "<ReqdRate>85.5</ReqdRate>"));
            CU_ASSERT(tu_contains(text, "<TaxInvcCd>440023113012</TaxInvcCd>"));
        } else {
            CU_ASSERT(!tu_contains(text, "ReqdRate"));
        }
        free(text);
        fmt_canon_scf_request_release(&rq);
    }
}

static void test_request_other_kinds(void)
{
    struct fmt_canon_scf_request rq;
    char *text = NULL;

    mk_inq(&rq);
    roundtrip_request(&rq, "inquiry", &text);
    CU_ASSERT(tu_contains(text, "<OrgnlReqId>RF-2025-0301</OrgnlReqId>"));
    free(text);
    fmt_canon_scf_request_release(&rq);

    for (int full = 0; full < 2; full++) {
        mk_cxl(&rq, full);
        roundtrip_request(&rq, full ? "cancel_full" : "cancel", &text);
        CU_ASSERT(tu_contains(text, "<NbOfInvcs>0</NbOfInvcs>") == full);
        CU_ASSERT(tu_contains(text, "<Rsn>买方已提前付款, 撤销融资申请</Rsn>"));
        free(text);
        fmt_canon_scf_request_release(&rq);

        mk_vinq(&rq, full);
        roundtrip_request(&rq, full ? "vinq_full" : "vinq", &text);
        CU_ASSERT(tu_contains(text, "<Sts>pending</Sts>") == full);
        free(text);
        fmt_canon_scf_request_release(&rq);
    }

    for (int k = 0; k < FMT_VOUCHER_OP__COUNT; k++) {
        const char *name = fmt_voucher_op_name((enum fmt_voucher_op_kind)k);
        char want[64];
        mk_vop(&rq, (enum fmt_voucher_op_kind)k);
        CU_ASSERT_EQUAL(fmt_canon_scf_vop_check(&rq.vop, NULL), 0);
        roundtrip_request(&rq, name, &text);
        snprintf(want, sizeof(want), "<Op>%s</Op>", name);
        CU_ASSERT(tu_contains(text, want));
        if (k == FMT_VOUCHER_TRANSFER)
            CU_ASSERT(tu_contains(text, "<Amt Ccy=\"CNY\">400000.00</Amt>"));
        if (k == FMT_VOUCHER_FINANCE)
            CU_ASSERT(tu_contains(text,
                                  "<Ref>招银融信-2025-0310-01 &lt;&amp;&gt;"
                                  "</Ref>"));
        free(text);
        fmt_canon_scf_request_release(&rq);
    }
}

static void roundtrip_result(const struct fmt_canon_scf_result *r,
                             const char *name, char **text)
{
    char file[96];
    struct h2h_err err = {0};
    snprintf(file, sizeof(file), "res_%s.xml", name);
    const char *path = tu_path(tmpdir, file);
    CU_ASSERT_EQUAL(tu_write_to(path, w_res, r, &err), 0);
    int valid = tu_xsd_valid(XSD, path);
    if (valid)
        fprintf(stderr, "  %s is not valid against scf.xsd\n", path);
    CU_ASSERT_EQUAL(valid, 0);
    struct fmt_canon_scf_result back;
    struct fmt_diag d;
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_scf_read_result(&src, &back, &d, &err);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(d.n, 0);
    tu_mismatches = 0;
    cmp_result(name, r, &back);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    if (text)
        *text = tu_read_file(path, NULL);
    fmt_canon_scf_result_release(&back);
    fmt_diag_release(&d);
}

static void test_result_roundtrip(void)
{
    struct fmt_canon_scf_result r;
    char *text = NULL;

    mk_status_report(&r, 1);
    roundtrip_result(&r, "status_full", &text);
    CU_ASSERT(tu_contains(text, "<IntrstRate>3.4512345678</IntrstRate>"));
    CU_ASSERT(tu_contains(text, "<ApldPctg>90</ApldPctg>"));
    CU_ASSERT(tu_contains(text, "<FincdRate>0</FincdRate>"));
    CU_ASSERT(tu_contains(text, "<CxlAnsw>refused</CxlAnsw>"));
    CU_ASSERT(tu_contains(text, "<Rslt>pending</Rslt>"));
    CU_ASSERT(tu_contains(text, "<AddtlInf>发票未确权 I3\n第二行</AddtlInf>"));
    free(text);
    fmt_canon_scf_result_release(&r);

    /* the least a report has: status 0 (submitted) is written, -1s not */
    mk_status_report(&r, 0);
    roundtrip_result(&r, "status_min", &text);
    CU_ASSERT(tu_contains(text, "<Sts>submitted</Sts>"));
    CU_ASSERT(!tu_contains(text, "FincdItms") &&
              !tu_contains(text, "ApldPctg") && !tu_contains(text, "CxlAnsw"));
    free(text);
    fmt_canon_scf_result_release(&r);

    for (int full = 0; full < 2; full++) {
        mk_repayment(&r, full);
        roundtrip_result(&r, full ? "repayment_full" : "repayment", &text);
        CU_ASSERT(tu_contains(text, full ? "<Kind>paid</Kind>" : "<Kind>due<"));
        CU_ASSERT(tu_contains(text, "<Amt Ccy=\"CNY\">822484.33</Amt>"));
        free(text);
        fmt_canon_scf_result_release(&r);
    }

    mk_holdings(&r, 1);
    roundtrip_result(&r, "holdings", &text);
    CU_ASSERT(tu_contains(text, "<SttldNb>0</SttldNb>"));
    CU_ASSERT(tu_contains(text, "<Sttld Ccy=\"CNY\">0.00</Sttld>"));
    CU_ASSERT(tu_contains(text, "<Held Ccy=\"CNY\">0.01</Held>"));
    CU_ASSERT(
        tu_contains(text, "<IssdLive Ccy=\"CNY\">5000000000.00</IssdLive>"));
    CU_ASSERT(tu_contains(text, "<Rmng Ccy=\"CNY\">600000.00</Rmng>"));
    CU_ASSERT(tu_contains(text, "<Rmng Ccy=\"CNY\">0.00</Rmng>"));
    CU_ASSERT(tu_contains(text, "<FinAmt Ccy=\"CNY\">600000.00</FinAmt>"));
    CU_ASSERT(tu_contains(text, "<Lvl>2</Lvl>"));
    free(text);
    fmt_canon_scf_result_release(&r);

    /* a bare list: no totals, no currency of its own */
    mk_holdings(&r, 0);
    roundtrip_result(&r, "holdings_bare", &text);
    CU_ASSERT(!tu_contains(text, "<Ttls>") && !tu_contains(text, "<ReqId>"));
    free(text);
    fmt_canon_scf_result_release(&r);

    for (int ok = 0; ok < 2; ok++) {
        mk_vop_result(&r, ok);
        roundtrip_result(&r, ok ? "vop_accepted" : "vop_rejected", &text);
        CU_ASSERT(tu_contains(text, ok ? "<Outcm>accepted</Outcm>"
                                       : "<Outcm>rejected</Outcm>"));
        CU_ASSERT(
            tu_contains(text, ok ? "<Op>transfer</Op>" : "<Op>issue</Op>"));
        CU_ASSERT(tu_contains(text, "<Vchrs>") == ok);
        free(text);
        fmt_canon_scf_result_release(&r);
    }
}

/* The comparison is not vacuous: one changed field deep inside shows. */
static void test_comparison_fails(void)
{
    struct fmt_canon_scf_result a, b;
    mk_holdings(&a, 1);
    mk_holdings(&b, 1);
    tu_mismatches = 0;
    cmp_result("same", &a, &b);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    b.hldgs.vouchers[1].fin_amount = 1;
    b.hldgs.totals.n_pending_out--;
    tu_set(&b.hldgs.vouchers[2].id, "RX-2025-000998");
    cmp_result("changed", &a, &b);
    CU_ASSERT_EQUAL(tu_mismatches, 3);
    fmt_canon_scf_result_release(&a);
    fmt_canon_scf_result_release(&b);

    mk_status_report(&a, 1);
    mk_status_report(&b, 1);
    b.sts.invoices[1].financed_rate = -1;
    tu_set(&b.sts.invoices[0].seller.addr.lines[1], "B座");
    tu_mismatches = 0;
    cmp_result("changed", &a, &b);
    CU_ASSERT_EQUAL(tu_mismatches, 2);
    fmt_canon_scf_result_release(&a);
    fmt_canon_scf_result_release(&b);

    struct fmt_canon_scf_request r1, r2;
    mk_fincg(&r1, FMT_SCF_REVERSE_FACTORING, 1);
    mk_fincg(&r2, FMT_SCF_REVERSE_FACTORING, 1);
    r2.fincg.invoices[2].seller_acct.type[0] = 'X';
    r2.vinq.status = FMT_VOUCHER_HELD; /* an unused branch counts too */
    r2.fincg.intermediary.addr.postcode[0] = '4';
    tu_mismatches = 0;
    cmp_request("changed", &r1, &r2);
    CU_ASSERT_EQUAL(tu_mismatches, 3);
    /* line is not data: it is not compared */
    r2.fincg.invoices[0].line = 99;
    tu_mismatches = 0;
    cmp_invoice("line", &r1.fincg.invoices[0], &r2.fincg.invoices[0]);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    fmt_canon_scf_request_release(&r1);
    fmt_canon_scf_request_release(&r2);
}

/* ---- fixtures ------------------------------------------------------------ */

/* Read a fixture request: 0 problems, schema-valid.  Returns the rc. */
static int read_req_fixture(const char *name, struct fmt_canon_scf_request *rq)
{
    char path[1024];
    struct h2h_err err = {0};
    struct fmt_diag d;
    snprintf(path, sizeof(path), "%s", tu_fixture("scf", name));
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_scf_read_request(&src, rq, &d, &err);
    if (rc)
        fprintf(stderr, "  %s: %s\n", name, err.msg);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    fmt_diag_release(&d);
    return rc;
}

static int read_res_fixture(const char *name, struct fmt_canon_scf_result *r)
{
    char path[1024];
    struct h2h_err err = {0};
    struct fmt_diag d;
    snprintf(path, sizeof(path), "%s", tu_fixture("scf", name));
    struct fmt_src src = {.path = path};
    fmt_diag_init(&d, path);
    int rc = fmt_canon_scf_read_result(&src, r, &d, &err);
    if (rc)
        fprintf(stderr, "  %s: %s\n", name, err.msg);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, path), 0);
    fmt_diag_release(&d);
    return rc;
}

#define ASSERT_STR(a, b)                                                       \
    do {                                                                       \
        const char *a_ = (a);                                                  \
        CU_ASSERT_PTR_NOT_NULL(a_);                                            \
        if (a_)                                                                \
            CU_ASSERT_STRING_EQUAL(a_, (b));                                   \
    } while (0)

static void test_fixture_financing(void)
{
    struct fmt_canon_scf_request rq;
    CU_ASSERT_EQUAL(read_req_fixture("fincg_reverse_factoring.xml", &rq), 0);
    struct fmt_scf_request *f = &rq.fincg;
    CU_ASSERT_EQUAL(rq.kind, FMT_CANON_SCF_FINANCING);
    CU_ASSERT_EQUAL(rq.line, 5);
    CU_ASSERT_EQUAL(f->kind, FMT_SCF_REVERSE_FACTORING);
    ASSERT_STR(f->request_id, "RF-2025-0301");
    ASSERT_STR(f->agreement_ref, "招银深保理(2024)字第0088号");
    ASSERT_STR(f->requestor.name, "华南精密制造集团有限公司");
    ASSERT_STR(f->bank.clr_mmb_id, "308584000013");
    CU_ASSERT_EQUAL(f->requested.minor, 101700000);
    ASSERT_STR(f->addtl_info, "2025年一季度供应商融资 (第一批)");
    CU_ASSERT_EQUAL_FATAL(f->n_invoices, 3);
    static const char *const sup[] = {"东莞市恒达五金制品有限公司",
                                      "佛山市南海区永盛塑胶有限公司",
                                      "深圳市宝安区鑫源电子科技有限公司"};
    static const int lines[] = {27, 46, 65};
    for (int k = 0; k < 3; k++) {
        ASSERT_STR(f->invoices[k].seller.name, sup[k]);
        CU_ASSERT_PTR_NOT_NULL(f->invoices[k].seller_acct.other_id);
        CU_ASSERT_EQUAL(f->invoices[k].requested_rate, -1);
        CU_ASSERT_EQUAL(f->invoices[k].line, lines[k]);
    }
    CU_ASSERT_EQUAL(f->invoices[1].tax.minor, 3900000);
    CU_ASSERT_PTR_NULL(f->invoices[2].tax_invoice_code);
    ASSERT_STR(f->invoices[2].buyer.org_id, "91440300MA5G8T1X2K");
    /* also with the day it was dropped */
    CU_ASSERT_EQUAL(fmt_scf_request_check(f, "2025-03-05", NULL), 0);

    /* the bank's answer fits the request and moves it on */
    struct fmt_canon_scf_result st, rp;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(read_res_fixture("result_status_financed.xml", &st), 0);
    CU_ASSERT_EQUAL(st.kind, FMT_CANON_SCF_STATUS);
    CU_ASSERT_EQUAL(st.sts.status, FMT_SCF_FINANCED);
    CU_ASSERT_EQUAL(st.sts.interest_rate, 345 * RATE1 / 100);
    CU_ASSERT_EQUAL(st.sts.applied_pctg, 90 * RATE1);
    CU_ASSERT_EQUAL(st.sts.n_financed_items, 2);
    CU_ASSERT_EQUAL(st.sts.cancel_answer, FMT_SCF_CXL_NONE);
    CU_ASSERT_EQUAL_FATAL(st.sts.n_invoices, 3);
    CU_ASSERT_EQUAL(st.sts.invoices[2].result, FMT_SCF_ITEM_REJECTED);
    CU_ASSERT_EQUAL(st.sts.invoices[2].financed_rate, -1);
    ASSERT_STR(st.sts.invoices[2].reason.addtl_info, "发票未经核心企业确权");
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&st.sts, f, &err), 0);
    struct fmt_scf_track t;
    CU_ASSERT_EQUAL(fmt_scf_track_init(&t, f, &err), 0);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &st.sts, &err), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_FINANCED);
    CU_ASSERT_EQUAL(t.financed.minor, 81360000);
    CU_ASSERT_EQUAL(read_res_fixture("result_repayment.xml", &rp), 0);
    CU_ASSERT_EQUAL(rp.kind, FMT_CANON_SCF_REPAYMENT);
    CU_ASSERT_EQUAL(rp.rpmt.kind, FMT_SCF_REPAY_PAID);
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp.rpmt, &err), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_REPAID);
    fmt_scf_track_release(&t);
    fmt_canon_scf_result_release(&st);
    fmt_canon_scf_result_release(&rp);
    fmt_canon_scf_request_release(&rq);

    CU_ASSERT_EQUAL(read_req_fixture("fincg_receivable.xml", &rq), 0);
    CU_ASSERT_EQUAL(f->kind, FMT_SCF_RECEIVABLE);
    CU_ASSERT_EQUAL_FATAL(f->n_invoices, 2);
    CU_ASSERT_EQUAL(f->invoices[0].requested_rate, 80 * RATE1);
    CU_ASSERT_EQUAL(f->invoices[0].requested.ccy[0], '\0');
    ASSERT_STR(f->credit_acct.other_id, "44250100003809876543");
    ASSERT_STR(f->bank.name, "中国建设银行深圳宝安支行");
    CU_ASSERT_PTR_NULL(f->value_date);
    fmt_canon_scf_request_release(&rq);

    CU_ASSERT_EQUAL(read_req_fixture("inquiry.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.kind, FMT_CANON_SCF_INQUIRY);
    ASSERT_STR(rq.inq.request_id, "RF-2025-0301");
    fmt_canon_scf_request_release(&rq);

    CU_ASSERT_EQUAL(read_req_fixture("cancel.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.kind, FMT_CANON_SCF_CANCEL);
    CU_ASSERT_EQUAL(rq.cxl.nb_of_invoices, 2);
    CU_ASSERT_EQUAL(rq.cxl.total_invoice_amount.minor, 47600000);
    ASSERT_STR(rq.cxl.reason, "买方已提前付款, 撤销融资申请");
    /* a track of the receivable request still before disbursement takes
     * the cancellation */
    {
        struct fmt_canon_scf_request ar;
        CU_ASSERT_EQUAL(read_req_fixture("fincg_receivable.xml", &ar), 0);
        CU_ASSERT_EQUAL(fmt_scf_track_init(&t, &ar.fincg, &err), 0);
        CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &rq.cxl, &err), 0);
        fmt_scf_track_release(&t);
        fmt_canon_scf_request_release(&ar);
    }
    fmt_canon_scf_request_release(&rq);

    CU_ASSERT_EQUAL(read_req_fixture("voucher_inquiry.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.kind, FMT_CANON_SCF_VOUCHER_INQ);
    CU_ASSERT_EQUAL(rq.vinq.status, FMT_VOUCHER_HELD);
    ASSERT_STR(rq.vinq.maturity_to, "2025-09-30");
    CU_ASSERT_PTR_NULL(rq.vinq.voucher_id);
    fmt_canon_scf_request_release(&rq);
}

/* Apply the voucher operation in fixture name to s. */
static int apply_fixture(struct fmt_voucher_set *s, const char *name,
                         struct h2h_err *err)
{
    struct fmt_canon_scf_request rq;
    struct fmt_voucher_op op;
    int rc = read_req_fixture(name, &rq);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(rq.kind, FMT_CANON_SCF_VOUCHER_OP);
    fmt_canon_scf_vop_view(&rq.vop, &op);
    if (rc == 0)
        rc = fmt_voucher_apply(s, &op, err);
    if (rc)
        fprintf(stderr, "  %s: %s\n", name, err->msg);
    fmt_canon_scf_request_release(&rq);
    return rc;
}

static void cmp_set(const char *label, const struct fmt_voucher_set *s,
                    const struct fmt_voucher *v, size_t n)
{
    tu_mismatches = 0;
    tu_cmp_i(label, "n", (long long)s->n, (long long)n);
    for (size_t i = 0; i < n && i < s->n; i++) {
        const struct fmt_voucher *x = fmt_voucher_find(s->v, s->n, v[i].id);
        CU_ASSERT_PTR_NOT_NULL(x);
        if (x)
            cmp_voucher(label, x, &v[i]);
    }
    CU_ASSERT_EQUAL(tu_mismatches, 0);
}

/* One voucher's life from the fixtures, with the state machine's view
 * and the fixture results agreeing at each step. */
static void test_fixture_voucher_life(void)
{
    struct fmt_voucher_set s;
    struct fmt_canon_scf_result r;
    struct fmt_canon_scf_request rq;
    struct fmt_voucher_op op;
    struct h2h_err err = {0};
    fmt_voucher_set_init(&s);

    CU_ASSERT_EQUAL(apply_fixture(&s, "vop_issue.xml", &err), 0);
    CU_ASSERT_EQUAL(apply_fixture(&s, "vop_sign.xml", &err), 0);

    /* the split: 400000.00 of 1000000.00 to the tier-2 supplier */
    CU_ASSERT_EQUAL(read_req_fixture("vop_transfer.xml", &rq), 0);
    CU_ASSERT_EQUAL(rq.vop.kind, FMT_VOUCHER_TRANSFER);
    ASSERT_STR(rq.vop.counterparty, TIER2);
    CU_ASSERT_EQUAL(rq.vop.amount.minor, 40000000);
    CU_ASSERT_STRING_EQUAL(rq.vop.amount.ccy, "CNY");
    ASSERT_STR(rq.vop.new_id, "RX-2025-000123-01");
    fmt_canon_scf_request_release(&rq);
    CU_ASSERT_EQUAL(s.n, 1);
    CU_ASSERT(s.n == 1 && s.v[0].amount.minor == 100000000);
    CU_ASSERT_EQUAL(apply_fixture(&s, "vop_transfer.xml", &err), 0);

    CU_ASSERT_EQUAL(read_res_fixture("result_transfer.xml", &r), 0);
    CU_ASSERT_EQUAL(r.kind, FMT_CANON_SCF_VOP_RESULT);
    CU_ASSERT_EQUAL(r.vrslt.op, FMT_VOUCHER_TRANSFER);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
    CU_ASSERT_EQUAL_FATAL(r.vrslt.n_vouchers, 2);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].remaining, 60000000);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[1].level, 2);
    cmp_set("after transfer", &s, r.vrslt.vouchers, r.vrslt.n_vouchers);
    CU_ASSERT_EQUAL(
        fmt_voucher_tree_check(r.vrslt.vouchers, r.vrslt.n_vouchers, &err), 0);
    fmt_canon_scf_result_release(&r);

    /* either answer to the pending child is one the machine takes */
    static const char *const answers[] = {"vop_refuse.xml", "vop_withdraw.xml"};
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(read_req_fixture(answers[i], &rq), 0);
        fmt_canon_scf_vop_view(&rq.vop, &op);
        CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &err), 0);
        fmt_canon_scf_request_release(&rq);
    }

    /* 永盛塑胶 signs (built in code), then 东莞恒达 finances the rest */
    struct fmt_voucher_op sign = {.kind = FMT_VOUCHER_SIGN,
                                  .voucher_id = "RX-2025-000123-01",
                                  .actor = TIER2,
                                  .date = "2025-03-05"};
    CU_ASSERT_EQUAL(fmt_voucher_apply(&s, &sign, &err), 0);
    CU_ASSERT_EQUAL(apply_fixture(&s, "vop_finance.xml", &err), 0);
    CU_ASSERT_EQUAL(read_res_fixture("result_holdings.xml", &r), 0);
    CU_ASSERT_EQUAL(r.kind, FMT_CANON_SCF_HOLDINGS);
    CU_ASSERT_EQUAL(r.hldgs.has_totals, 1);
    CU_ASSERT_STRING_EQUAL(r.hldgs.ccy, "CNY");
    cmp_set("after financing", &s, r.hldgs.vouchers, r.hldgs.n_vouchers);
    struct fmt_voucher_holdings h;
    CU_ASSERT_EQUAL(fmt_voucher_holdings(r.hldgs.vouchers, r.hldgs.n_vouchers,
                                         r.hldgs.party, r.hldgs.ccy, &h, &err),
                    0);
    tu_mismatches = 0;
    cmp_totals("holdings", &h, &r.hldgs.totals);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    CU_ASSERT_EQUAL(r.hldgs.totals.n_financed, 1);
    CU_ASSERT_EQUAL(r.hldgs.totals.financed, 60000000);
    CU_ASSERT_EQUAL(
        fmt_voucher_tree_check(r.hldgs.vouchers, r.hldgs.n_vouchers, &err), 0);
    fmt_canon_scf_result_release(&r);

    /* settlement at maturity pays the whole tree */
    CU_ASSERT_EQUAL(apply_fixture(&s, "vop_settle.xml", &err), 0);
    for (size_t i = 0; i < s.n; i++)
        CU_ASSERT_EQUAL(s.v[i].status, FMT_VOUCHER_SETTLED);
    fmt_voucher_set_release(&s);
}

/* Every fixture in the folder is one a test reads (no forgotten file). */
static void test_fixtures_all_covered(void)
{
    static const char *const known[] = {
        "fincg_reverse_factoring.xml",
        "fincg_receivable.xml",
        "inquiry.xml",
        "cancel.xml",
        "voucher_inquiry.xml",
        "vop_issue.xml",
        "vop_sign.xml",
        "vop_transfer.xml",
        "vop_refuse.xml",
        "vop_withdraw.xml",
        "vop_finance.xml",
        "vop_settle.xml",
        "result_status_financed.xml",
        "result_repayment.xml",
        "result_transfer.xml",
        "result_holdings.xml",
    };
    size_t nk = sizeof(known) / sizeof(known[0]);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", tu_src("tests/fixtures/scf"));
    DIR *dp = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t l = strlen(de->d_name), i = 0;
        if (l <= 4 || strcmp(de->d_name + l - 4, ".xml"))
            continue;
        n++;
        while (i < nk && strcmp(known[i], de->d_name))
            i++;
        if (i == nk)
            fprintf(stderr, "  fixture %s is read by no test\n", de->d_name);
        CU_ASSERT(i < nk);
    }
    closedir(dp);
    CU_ASSERT_EQUAL(n, nk);
    /* each voucher operation has its fixture */
    for (int k = 0; k < FMT_VOUCHER_OP__COUNT; k++) {
        char name[64];
        struct fmt_canon_scf_request rq;
        snprintf(name, sizeof(name), "vop_%s.xml",
                 fmt_voucher_op_name((enum fmt_voucher_op_kind)k));
        CU_ASSERT_EQUAL(read_req_fixture(name, &rq), 0);
        CU_ASSERT_EQUAL((int)rq.vop.kind, k);
        fmt_canon_scf_request_release(&rq);
    }
}

/* ---- broken documents ---------------------------------------------------- */

#define RQO "<ScfRequest xmlns=\"urn:h2hd:scf:1\">\n"
#define RQE "</ScfRequest>\n"
/* A receivable request, lines 1-10 (<Invcs> on line 10); then invoices
 * from line 11 and FEND. */
#define FHEAD(kind, ccy, amt, acct)                                            \
    RQO "  <Fincg>\n"                                                          \
        "    <ReqId>R1</ReqId>\n"                                              \
        "    <Kind>" kind "</Kind>\n"                                          \
        "    <Ccy>" ccy "</Ccy>\n"                                             \
        "    <ReqdAmt Ccy=\"CNY\">" amt "</ReqdAmt>\n"                         \
        "    <Rqstr><Nm>深圳市宝安区鑫源电子科技有限公司</Nm>" \
        "<OrgId>91440306MA5DC4PR8N</OrgId></Rqstr>\n" acct                     \
        "    <FrstAgt><BIC>CMBCCNBS</BIC></FrstAgt>\n"                         \
        "    <Invcs>\n"
#define ACCT "    <CdtAcct><OthrId>44250100003809876543</OthrId></CdtAcct>\n"
#define NOACCT "    <!-- no account -->\n"
#define INVC(nb, due, amt, rest)                                               \
    "      <Invc><Nb>" nb "</Nb><IsseDt>2025-01-01</IsseDt><DueDt>" due        \
    "</DueDt><Amt Ccy=\"CNY\">" amt "</Amt>" rest "</Invc>\n"
#define BUYR "<Buyr><Nm>华南精密制造集团有限公司</Nm></Buyr>"
#define SPPLR(acct) "<Spplr><Nm>东莞市恒达五金制品有限公司</Nm></Spplr>" acct
#define SACCT "<SpplrAcct><OthrId>769900123410201</OthrId></SpplrAcct>"
#define FEND "    </Invcs>\n  </Fincg>\n" RQE
/* A voucher operation: lines 1-2, the operation's elements from line 3. */
#define VHEAD(op, actor, dt)                                                   \
    RQO "  <VchrOp>\n"                                                         \
        "    <ReqId>V1</ReqId><Op>" op "</Op><VchrId>RX-1</VchrId>"            \
        "<Actr>" actor "</Actr><Dt>" dt "</Dt>\n"
#define VEND "  </VchrOp>\n" RQE
#define C10 "撤撤撤撤撤撤撤撤撤撤"

struct bad {
    const char *label;
    const char *doc;
    const char *rule; /* expected problem */
    int line;
    const char *where;
    int xsd_ok; /* the schema accepts it (checks beyond the schema) */
};

static const struct bad bad_requests[] = {
    /* the form */
    {"empty request", RQO RQE, "scf.xml.missing", 1, "ScfRequest", 0},
    {"two requests in one",
     RQO "  <Inq><InqId>Q1</InqId><OrgnlReqId>R1</OrgnlReqId></Inq>\n"
         "  <Cxl><CxlId>C1</CxlId><OrgnlReqId>R1</OrgnlReqId>"
         "<Rsn>x</Rsn></Cxl>\n" RQE,
     "scf.xml.choice", 3, "Cxl", 0},
    {"unknown element",
     RQO "  <Inq>\n"
         "    <InqId>Q1</InqId>\n"
         "    <OrgnlReqId>R1</OrgnlReqId>\n"
         "    <Colour>blue</Colour>\n"
         "  </Inq>\n" RQE,
     "scf.xml.unknown", 5, "Inq/Colour", 0},
    {"element in another namespace",
     RQO "  <Inq><InqId>Q1</InqId><OrgnlReqId>R1</OrgnlReqId>\n"
         "    <x:Note xmlns:x=\"urn:other\">hi</x:Note></Inq>\n" RQE,
     "scf.xml.namespace", 3, "Inq/Note", 0},
    {"inquiry id with a space",
     RQO "  <Inq>\n    <InqId>Q 1</InqId>\n"
         "    <OrgnlReqId>R1</OrgnlReqId>\n  </Inq>\n" RQE,
     "scf.xml.value", 3, "Inq/InqId", 0},
    {"amount with 3 decimals",
     FHEAD("receivable", "CNY", "100.001", ACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR) FEND,
     "scf.xml.amount", 6, "Fincg/ReqdAmt", 1 /* xs:decimal cannot tell */},
    {"unknown currency",
     FHEAD("receivable", "QQQ", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR) FEND,
     "scf.xml.value", 5, "Fincg/Ccy", 1},
    {"kind misspelt",
     FHEAD("factoring", "CNY", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR) FEND,
     "scf.xml.enum", 4, "Fincg/Kind", 0},
    {"invoice without amount",
     FHEAD(
         "receivable", "CNY", "100.00",
         ACCT) "      <Invc>\n"
               "        "
               "<Nb>A1</Nb><IsseDt>2025-01-01</IsseDt><DueDt>2025-06-30</DueDt>"
               "\n      </Invc>\n" FEND,
     "scf.xml.missing", 11, "Fincg/Invcs/Invc[1]/Amt", 0},
    {"tax invoice code of 11 digits",
     FHEAD("receivable", "CNY", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00",
              BUYR "<TaxInvcCd>44032311300</TaxInvcCd>") FEND,
     "scf.xml.value", 11, "Fincg/Invcs/Invc[1]/TaxInvcCd", 0},
    {"rate with 11 decimals",
     FHEAD("receivable", "CNY", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00",
              "<ReqdRate>50.00000000001</ReqdRate>" BUYR) FEND,
     "scf.xml.rate", 11, "Fincg/Invcs/Invc[1]/ReqdRate", 0},
    /* the model's rules, under the rule ids fmt_scf_request_check gives */
    {"more asked than the invoices are worth",
     FHEAD("receivable", "CNY", "300.00", ACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR) FEND,
     "scf.sum", 2, "Fincg/ReqdAmt", 1},
    {"receivable financing without an account",
     FHEAD("receivable", "CNY", "100.00", NOACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR) FEND,
     "scf.account", 2, "Fincg/CdtAcct", 1},
    {"invoice due before it was issued",
     FHEAD("receivable", "CNY", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR)
             INVC("A2", "2024-12-31", "200.00", BUYR) FEND,
     "scf.invoice.dates", 12, "Fincg/Invcs/Invc[2]", 1},
    {"invoice listed twice",
     FHEAD("receivable", "CNY", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00", BUYR)
             INVC("A1", "2025-06-30", "200.00", BUYR) FEND,
     "scf.invoice.dup", 12, "Fincg/Invcs/Invc[2]", 1},
    {"receivable invoice without buyer",
     FHEAD("receivable", "CNY", "100.00", ACCT)
         INVC("A1", "2025-06-30", "200.00", "") FEND,
     "scf.invoice.buyer", 11, "Fincg/Invcs/Invc[1]", 1},
    {"reverse factoring without the supplier's account",
     FHEAD("reverse_factoring", "CNY", "300.00", NOACCT)
         INVC("A1", "2025-06-30", "200.00", SPPLR(SACCT))
             INVC("A2", "2025-06-30", "200.00", SPPLR("")) FEND,
     "scf.supplier", 12, "Fincg/Invcs/Invc[2]", 1},
    /* cancellation, voucher inquiry */
    {"cancellation reason of 106 characters",
     RQO "  <Cxl>\n"
         "    <CxlId>C1</CxlId><OrgnlReqId>R1</OrgnlReqId>\n"
         "    <Rsn>" C10 C10 C10 C10 C10 C10 C10 C10 C10 C10
         "撤撤撤撤撤撤</Rsn>\n"
         "  </Cxl>\n" RQE,
     "scf.xml.value", 4, "Cxl/Rsn", 0},
    {"cancellation without reason",
     RQO "  <Cxl>\n"
         "    <CxlId>C1</CxlId><OrgnlReqId>R1</OrgnlReqId>\n"
         "  </Cxl>\n" RQE,
     "scf.xml.missing", 2, "Cxl/Rsn", 0},
    {"negative number of invoices",
     RQO "  <Cxl>\n"
         "    <CxlId>C1</CxlId><OrgnlReqId>R1</OrgnlReqId>\n"
         "    <NbOfInvcs>-1</NbOfInvcs><Rsn>x</Rsn>\n"
         "  </Cxl>\n" RQE,
     "scf.xml.integer", 4, "Cxl/NbOfInvcs", 0},
    {"voucher inquiry for status none",
     RQO "  <VchrInq>\n"
         "    <InqId>Q1</InqId><Pty>" TIER1 "</Pty>\n"
         "    <Sts>none</Sts>\n"
         "  </VchrInq>\n" RQE,
     "scf.xml.enum", 4, "VchrInq/Sts", 0},
    /* voucher operations: the form, then their shape */
    {"unknown operation", VHEAD("split", TIER1, "2025-03-03") VEND,
     "scf.xml.enum", 3, "VchrOp/Op", 0},
    {"impossible date", VHEAD("sign", TIER1, "2025-02-30") VEND,
     "scf.xml.value", 3, "VchrOp/Dt", 0},
    {"transfer to oneself",
     VHEAD("transfer", TIER1,
           "2025-03-03") "    <Cpty>" TIER1
                         "</Cpty><Amt Ccy=\"CNY\">400000.00</Amt>"
                         "<NewId>RX-2</NewId>\n" VEND,
     "scf.voucher.counterparty", 2, "VchrOp/Cpty", 1},
    {"transfer of nothing",
     VHEAD("transfer", TIER1, "2025-03-03") "    <Cpty>" TIER2
                                            "</Cpty><NewId>RX-2</NewId>\n" VEND,
     "scf.voucher.amount", 2, "VchrOp/Amt", 1},
    {"sign with an amount",
     VHEAD("sign", TIER1,
           "2025-03-03") "    <Amt Ccy=\"CNY\">400000.00</Amt>\n" VEND,
     "scf.voucher.unused", 2, "VchrOp/Amt", 1},
    {"issue maturing before it is issued",
     VHEAD("issue", CORE,
           "2025-03-03") "    <Cpty>" TIER1
                         "</Cpty><Amt Ccy=\"CNY\">1000000.00</Amt>"
                         "<MtrtyDt>2025-03-03</MtrtyDt>\n" VEND,
     "scf.voucher.maturity", 2, "VchrOp/MtrtyDt", 1},
    {"finance without a bank", VHEAD("finance", TIER1, "2025-03-10") VEND,
     "scf.voucher.counterparty", 2, "VchrOp/Cpty", 1},
    {"settle with a new id",
     VHEAD("settle", CORE, "2025-08-10") "    <NewId>RX-3</NewId>\n" VEND,
     "scf.voucher.unused", 2, "VchrOp/NewId", 1},
};

static void test_broken_requests(void)
{
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]);
         i++) {
        const struct bad *b = &bad_requests[i];
        struct fmt_src src = {
            .buf = b->doc, .len = strlen(b->doc), .name = b->label};
        struct fmt_canon_scf_request rq;
        struct fmt_diag d;
        struct h2h_err err = {0};
        fmt_diag_init(&d, b->label);
        int rc = fmt_canon_scf_read_request(&src, &rq, &d, &err);
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
        fmt_canon_scf_request_release(&rq);
        fmt_diag_release(&d);
    }
}

/* The model checks speak in words, once per problem, in order, with the
 * line of the invoice or branch concerned; what was read is kept. */
static void test_check_reasons(void)
{
    static const char doc[] =
        FHEAD("reverse_factoring", "CNY", "700.00", NOACCT)
            INVC("A1", "2025-06-30", "200.00", SPPLR(SACCT))
                INVC("A2", "2025-06-30", "200.00", SPPLR(""))
                    INVC("A1", "2025-06-30", "200.00", SPPLR(SACCT)) FEND;
    struct fmt_src src = {.buf = doc, .len = sizeof(doc) - 1, .name = "rf.xml"};
    struct fmt_canon_scf_request rq;
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, "rf.xml");
    CU_ASSERT_EQUAL(fmt_canon_scf_read_request(&src, &rq, &d, &err),
                    H2H_EINVALID);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL_FATAL(d.n, 3);
    CU_ASSERT_STRING_EQUAL(d.v[0].rule, "scf.supplier");
    CU_ASSERT_EQUAL(d.v[0].line, 12);
    CU_ASSERT(tu_contains(d.v[0].msg, "invoice A2: reverse factoring needs the "
                                      "supplier and the supplier's account"));
    CU_ASSERT_STRING_EQUAL(d.v[1].rule, "scf.invoice.dup");
    CU_ASSERT_STRING_EQUAL(d.v[1].where, "Fincg/Invcs/Invc[3]");
    CU_ASSERT_EQUAL(d.v[1].line, 13);
    CU_ASSERT_STRING_EQUAL(d.v[2].rule, "scf.sum");
    CU_ASSERT_STRING_EQUAL(d.v[2].where, "Fincg/ReqdAmt");
    CU_ASSERT_EQUAL(d.v[2].line, 2);
    CU_ASSERT(tu_contains(err.msg, "rf.xml: 3 problems, the first: line 12: "
                                   "Fincg/Invcs/Invc[2]: invoice A2"));
    /* what was read is kept for the log */
    CU_ASSERT_EQUAL(rq.fincg.n_invoices, 3);
    CU_ASSERT_EQUAL(rq.fincg.requested.minor, 70000);
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&d);

    /* without diag the verdict is the same */
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(fmt_canon_scf_read_request(&src, &rq, NULL, &err),
                    H2H_EINVALID);
    CU_ASSERT(tu_contains(err.msg, "3 problems"));
    fmt_canon_scf_request_release(&rq);

    /* a misspelt kind is the reader's problem; the check does not repeat
     * it as "unknown request kind" */
    static const char kind[] = FHEAD("factoring", "CNY", "100.00", ACCT)
        INVC("A1", "2025-06-30", "200.00", BUYR) FEND;
    src.buf = kind;
    src.len = sizeof(kind) - 1;
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_scf_read_request(&src, &rq, &d, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(d.n, 1);
    CU_ASSERT(tu_diag_has(&d, "scf.xml.enum", 4, "Fincg/Kind"));
    CU_ASSERT(d.n == 1 && tu_contains(d.v[0].msg, "\"factoring\" is not a "
                                                  "financing kind (receivable, "
                                                  "reverse_factoring)"));
    CU_ASSERT_EQUAL((int)rq.fincg.kind, -1);
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&d);

    /* an unknown operation: the shape check has nothing to add */
    static const char op[] = VHEAD("split", TIER1, "2025-03-03") VEND;
    src.buf = op;
    src.len = sizeof(op) - 1;
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_scf_read_request(&src, &rq, &d, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(d.n, 1);
    CU_ASSERT(d.n == 1 && tu_contains(d.v[0].msg, "\"split\" is not a voucher "
                                                  "operation (issue, sign, "));
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&d);

    /* several shape problems of one operation, each named */
    static const char iss[] =
        VHEAD("issue", CORE,
              "2025-03-03") "    <Cpty>" CORE
                            "</Cpty><NewId>X</NewId><Ref>R</Ref>\n" VEND;
    src.buf = iss;
    src.len = sizeof(iss) - 1;
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_scf_read_request(&src, &rq, &d, &err),
                    H2H_EINVALID);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 5);
    CU_ASSERT(tu_diag_has(&d, "scf.voucher.counterparty", 2, "VchrOp/Cpty"));
    CU_ASSERT(tu_diag_has(&d, "scf.voucher.amount", 2, "VchrOp/Amt"));
    CU_ASSERT(tu_diag_has(&d, "scf.voucher.maturity", 2, "VchrOp/MtrtyDt"));
    CU_ASSERT(tu_diag_has(&d, "scf.voucher.unused", 2, "VchrOp/NewId"));
    CU_ASSERT(tu_diag_has(&d, "scf.voucher.unused", 2, "VchrOp/Ref"));
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&d);
}

static void test_fatal_requests(void)
{
    static const struct {
        const char *label, *doc;
        int rc;
    } cases[] = {
        {"a result read as a request", "<ScfResult xmlns=\"urn:h2hd:scf:1\"/>",
         H2H_EUNSUPPORTED},
        {"wrong namespace", "<ScfRequest xmlns=\"urn:h2hd:scf:2\"/>",
         H2H_EUNSUPPORTED},
        {"no namespace", "<ScfRequest><Inq/></ScfRequest>", H2H_EUNSUPPORTED},
        {"a bill request",
         "<BillRequest xmlns=\"urn:h2hd:bills:1\"><Op>notices</Op>"
         "</BillRequest>",
         H2H_EUNSUPPORTED},
        {"DOCTYPE",
         "<!DOCTYPE ScfRequest [<!ENTITY x \"y\">]>\n" RQO
         "  <Inq><InqId>&x;</InqId></Inq>\n" RQE,
         H2H_ESECURITY},
        {"not well-formed", RQO "  <Inq></Cxl>\n" RQE, H2H_EPARSE},
        {"invalid UTF-8", RQO "  <Inq><InqId>\xC3\x28</InqId></Inq>\n" RQE,
         H2H_ECHARSET},
        {"truncated", RQO "  <Inq>\n", H2H_EPARSE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fmt_src src = {.buf = cases[i].doc, .len = strlen(cases[i].doc)};
        struct fmt_canon_scf_request rq;
        struct h2h_err err = {0};
        int rc = fmt_canon_scf_read_request(&src, &rq, NULL, &err);
        if (rc != cases[i].rc)
            fprintf(stderr, "  case \"%s\": rc %d (want %d): %s\n",
                    cases[i].label, rc, cases[i].rc, err.msg);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        CU_ASSERT(err.msg[0] != '\0');
        fmt_canon_scf_request_release(&rq);
    }
    struct fmt_canon_scf_result r;
    struct h2h_err err = {0};
    struct fmt_src src = {.buf = RQO RQE, .len = strlen(RQO RQE)};
    CU_ASSERT_EQUAL(fmt_canon_scf_read_result(&src, &r, NULL, &err),
                    H2H_EUNSUPPORTED);
    fmt_canon_scf_result_release(&r);
    CU_ASSERT_EQUAL(fmt_canon_scf_read_result(&src, NULL, NULL, &err),
                    H2H_EINVALID);
}

#define RSO "<ScfResult xmlns=\"urn:h2hd:scf:1\">\n"
#define RSE "</ScfResult>\n"
/* A holdings list whose one voucher (line 4) has rest inside. */
#define HLD(rest)                                                              \
    RSO "  <Hldgs><Pty>" TIER1 "</Pty>\n"                                      \
        "    <Vchrs>\n"                                                        \
        "      <Vchr><Id>RX-1</Id>" rest "</Vchr>\n"                           \
        "    </Vchrs>\n"                                                       \
        "  </Hldgs>\n" RSE
#define VC_OK(lvl)                                                             \
    "<Lvl>" lvl "</Lvl><Amt Ccy=\"CNY\">1.00</Amt>"                            \
    "<Rmng Ccy=\"CNY\">1.00</Rmng><Sts>held</Sts>"

static const struct bad bad_results[] = {
    {"empty result", RSO RSE, "scf.xml.missing", 1, "ScfResult", 0},
    {"two results in one",
     RSO "  <RpmtNtce><NtceId>N</NtceId><Kind>due</Kind>"
         "<Amt Ccy=\"CNY\">1.00</Amt></RpmtNtce>\n"
         "  <Hldgs><Pty>P</Pty></Hldgs>\n" RSE,
     "scf.xml.choice", 3, "Hldgs", 0},
    {"status report without status",
     RSO "  <StsRpt>\n    <OrgnlReqId>R1</OrgnlReqId>\n  </StsRpt>\n" RSE,
     "scf.xml.missing", 2, "StsRpt/Sts", 0},
    {"second invoice result misspelt",
     RSO "  <StsRpt><OrgnlReqId>R1</OrgnlReqId><Sts>approved</Sts>\n"
         "    <Invcs>\n"
         "      <Invc><Nb>A1</Nb><Rslt>accepted</Rslt></Invc>\n"
         "      <Invc><Nb>A2</Nb><Rslt>FNCD</Rslt></Invc>\n"
         "    </Invcs>\n  </StsRpt>\n" RSE,
     "scf.xml.enum", 5, "StsRpt/Invcs/Invc[2]/Rslt", 0},
    {"negative interest rate",
     RSO "  <StsRpt><OrgnlReqId>R1</OrgnlReqId><Sts>approved</Sts>\n"
         "    <IntrstRate>-3.45</IntrstRate>\n  </StsRpt>\n" RSE,
     "scf.xml.rate", 3, "StsRpt/IntrstRate", 0},
    {"rate too large for the model",
     RSO "  <StsRpt><OrgnlReqId>R1</OrgnlReqId><Sts>approved</Sts>\n"
         "    <ApldPctg>922337204</ApldPctg>\n  </StsRpt>\n" RSE,
     "scf.xml.rate", 3, "StsRpt/ApldPctg", 0},
    {"remaining in another currency",
     HLD("<Amt Ccy=\"CNY\">1.00</Amt>\n"
         "        <Rmng Ccy=\"USD\">1.00</Rmng><Sts>held</Sts>"),
     "scf.xml.amount.ccy", 5, "Hldgs/Vchrs/Vchr[1]/Rmng", 1},
    {"remaining before its amount, in another currency",
     HLD("<Rmng Ccy=\"USD\">1.00</Rmng>\n"
         "        <Amt Ccy=\"CNY\">1.00</Amt><Sts>held</Sts>"),
     "scf.xml.amount.ccy", 4, "Hldgs/Vchrs/Vchr[1]/Rmng", 0},
    {"voucher without remaining",
     HLD("<Amt Ccy=\"CNY\">1.00</Amt><Sts>held</Sts>"), "scf.xml.missing", 4,
     "Hldgs/Vchrs/Vchr[1]/Rmng", 0},
    {"level 0", HLD(VC_OK("0")), "scf.xml.integer", 4,
     "Hldgs/Vchrs/Vchr[1]/Lvl", 0},
    {"level beyond an int", HLD(VC_OK("3000000000")), "scf.xml.integer", 4,
     "Hldgs/Vchrs/Vchr[1]/Lvl", 0},
    {"totals without their currency",
     RSO "  <Hldgs><Pty>P</Pty>\n"
         "    <Ttls><HeldNb>0</HeldNb><Held Ccy=\"CNY\">0.00</Held></Ttls>\n"
         "  </Hldgs>\n" RSE,
     "scf.xml.missing", 3, "Hldgs/Ttls/Ccy", 0},
    {"totals without the amount held",
     RSO "  <Hldgs><Pty>P</Pty>\n"
         "    <Ttls><Ccy>CNY</Ccy><HeldNb>0</HeldNb><PdgInNb>0</PdgInNb>\n"
         "      <PdgIn Ccy=\"CNY\">0.00</PdgIn></Ttls>\n"
         "  </Hldgs>\n" RSE,
     "scf.xml.missing", 3, "Hldgs/Ttls/Held", 0},
    {"negative count",
     RSO "  <Hldgs><Pty>P</Pty>\n"
         "    <Ttls><Ccy>CNY</Ccy><HeldNb>-2</HeldNb></Ttls>\n"
         "  </Hldgs>\n" RSE,
     "scf.xml.integer", 3, "Hldgs/Ttls/HeldNb", 0},
    {"outcome none",
     RSO "  <VchrOpRslt><ReqId>V1</ReqId><Op>sign</Op>\n"
         "    <Outcm>none</Outcm>\n  </VchrOpRslt>\n" RSE,
     "scf.xml.enum", 3, "VchrOpRslt/Outcm", 0},
    {"repayment of an unknown kind",
     RSO "  <RpmtNtce><NtceId>N</NtceId>\n    <Kind>overdue</Kind>"
         "<Amt Ccy=\"CNY\">1.00</Amt></RpmtNtce>\n" RSE,
     "scf.xml.enum", 3, "RpmtNtce/Kind", 0},
};

static void test_broken_results(void)
{
    for (size_t i = 0; i < sizeof(bad_results) / sizeof(bad_results[0]); i++) {
        const struct bad *b = &bad_results[i];
        struct fmt_src src = {
            .buf = b->doc, .len = strlen(b->doc), .name = b->label};
        struct fmt_canon_scf_result r;
        struct fmt_diag d;
        struct h2h_err err = {0};
        fmt_diag_init(&d, b->label);
        int rc = fmt_canon_scf_read_result(&src, &r, &d, &err);
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
        CU_ASSERT(tu_contains(err.msg, b->label));
        fmt_canon_scf_result_release(&r);
        fmt_diag_release(&d);
    }
}

/* Children out of the schema's order are still read (a hand-written file
 * with an order slip loses nothing), though the schema refuses them. */
static void test_any_order(void)
{
    static const char doc[] =
        RQO "  <VchrOp>\n"
            "    <Amt Ccy=\"CNY\">400000.00</Amt><NewId>RX-2</NewId>\n"
            "    <Dt> 2025-03-03 </Dt><Cpty>" TIER2 "</Cpty>\n"
            "    <Actr>" TIER1 "</Actr><VchrId>RX-1</VchrId>\n"
            "    <Op>\n      transfer\n    </Op><ReqId> V1 </ReqId>\n"
            "  </VchrOp>\n" RQE;
    struct fmt_src src = {.buf = doc, .len = sizeof(doc) - 1};
    struct fmt_canon_scf_request rq;
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_scf_read_request(&src, &rq, &d, &err), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(rq.vop.kind, FMT_VOUCHER_TRANSFER);
    ASSERT_STR(rq.vop.req_id, "V1");
    ASSERT_STR(rq.vop.date, "2025-03-03");
    ASSERT_STR(rq.vop.new_id, "RX-2");
    CU_ASSERT_NOT_EQUAL(tu_xsd_valid_doc(XSD, tu_path(tmpdir, "doc.xml"), doc),
                        0);
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&d);

    /* a voucher's remaining before its amount, same currency: fine */
    static const char res[] =
        HLD("<Sts>pending</Sts><Rmng Ccy=\"CNY\">0.50</Rmng>"
            "<Amt Ccy=\"CNY\">1.00</Amt>");
    struct fmt_canon_scf_result r;
    src.buf = res;
    src.len = sizeof(res) - 1;
    fmt_diag_init(&d, "x");
    CU_ASSERT_EQUAL(fmt_canon_scf_read_result(&src, &r, &d, &err), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL_FATAL(r.hldgs.n_vouchers, 1);
    CU_ASSERT_EQUAL(r.hldgs.vouchers[0].remaining, 50);
    CU_ASSERT_EQUAL(r.hldgs.vouchers[0].status, FMT_VOUCHER_PENDING);
    CU_ASSERT_NOT_EQUAL(tu_xsd_valid_doc(XSD, tu_path(tmpdir, "doc.xml"), res),
                        0);
    fmt_canon_scf_result_release(&r);
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

static void test_writer_refuses_requests(void)
{
    struct fmt_canon_scf_request rq;
    struct h2h_err err = {0};

    fmt_canon_scf_request_init(&rq);
    expect_refused("no branch", w_req, &rq, H2H_EINVALID,
                   "ScfRequest: 0 is not a request kind");
    rq.kind = (enum fmt_canon_scf_req_kind)6;
    expect_refused("branch out of range", w_req, &rq, H2H_EINVALID,
                   "ScfRequest: 6 is not a request kind");

    /* the model check's first problem, with the element's path */
    mk_fincg(&rq, FMT_SCF_REVERSE_FACTORING, 0);
    fmt_account_release(&rq.fincg.invoices[1].seller_acct);
    expect_refused("request the check refuses", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/Fincg/Invcs/Invc[2]: invoice 04521371: "
                   "reverse factoring needs the supplier and the "
                   "supplier's account");
    fmt_canon_scf_request_release(&rq);

    mk_fincg(&rq, FMT_SCF_RECEIVABLE, 0);
    rq.fincg.kind = (enum fmt_scf_kind) - 1;
    expect_refused("financing of no kind", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/Fincg/Kind: required element is missing");
    rq.fincg.kind = FMT_SCF_RECEIVABLE;
    tu_set(&rq.fincg.request_id, "AR 2025/42");
    expect_refused("request id shape", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/Fincg/ReqId: \"AR 2025/42\" is not an id");
    tu_set(&rq.fincg.request_id, "AR-2025-0042");
    tu_set(&rq.fincg.invoices[2].buyer.name, "华南\x01精密");
    expect_refused("control character", w_req, &rq, H2H_ECHARSET,
                   "ScfRequest/Fincg/Invcs/Invc[3]/Buyr/Nm: character U+0001");
    tu_set(&rq.fincg.invoices[2].buyer.name, "华南精密");
    rq.fincg.invoices[0].requested = tu_cny(0);
    rq.fincg.invoices[0].requested.ccy[0] = '\0';
    rq.fincg.invoices[0].requested_rate = -7;
    expect_refused("negative rate", w_req, &rq, H2H_EINVALID,
                   "share asked must be above 0");
    fmt_canon_scf_request_release(&rq);

    /* most platforms number the new voucher: NewId may be left out */
    mk_vop(&rq, FMT_VOUCHER_TRANSFER);
    tu_set(&rq.vop.new_id, NULL);
    char *text = NULL;
    roundtrip_request(&rq, "transfer_without_new_id", &text);
    CU_ASSERT(text && !tu_contains(text, "NewId"));
    free(text);
    tu_set(&rq.vop.new_id, rq.vop.voucher_id);
    expect_refused("transfer to the voucher's own id", w_req, &rq,
                   H2H_EINVALID, "ScfRequest/VchrOp/NewId: the new voucher "
                                 "cannot have the id");
    rq.vop.kind = (enum fmt_voucher_op_kind) - 1;
    expect_refused("no operation", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/VchrOp/Op: required element is missing");
    rq.vop.kind = (enum fmt_voucher_op_kind)FMT_VOUCHER_OP__COUNT;
    expect_refused("operation out of range", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/VchrOp/Op: value 7 is not a voucher operation");
    fmt_canon_scf_request_release(&rq);

    mk_vop(&rq, FMT_VOUCHER_SIGN);
    rq.vop.amount = tu_cny(5);
    rq.vop.amount.ccy[0] = '\0';
    expect_refused("amount without currency", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/VchrOp/Amt: the sign of voucher "
                   "RX-2025-000123 gives an amount without its currency");
    fmt_canon_scf_request_release(&rq);

    mk_cxl(&rq, 1);
    rq.cxl.nb_of_invoices = -2;
    expect_refused("count below -1", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/Cxl/NbOfInvcs: negative number -2");
    rq.cxl.nb_of_invoices = -1;
    tu_set(&rq.cxl.reason, "");
    expect_refused("empty reason", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/Cxl/Rsn: \"\" is not a reason of 1-105");
    fmt_canon_scf_request_release(&rq);

    mk_vinq(&rq, 1);
    rq.vinq.status = FMT_VOUCHER_STATUS__COUNT;
    expect_refused("voucher status", w_req, &rq, H2H_EINVALID,
                   "ScfRequest/VchrInq/Sts: value 6 is not a voucher status");
    rq.vinq.status = -1;
    tu_set(&rq.vinq.maturity_to, "2025-9-30");
    expect_refused("date", w_req, &rq, H2H_EINVALID,
                   "VchrInq/MtrtyTo: \"2025-9-30\" is not a date");
    tu_set(&rq.vinq.maturity_to, NULL);
    /* after all of that it writes again */
    CU_ASSERT_EQUAL(
        tu_write_to(tu_path(tmpdir, "vinq_again.xml"), w_req, &rq, &err), 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, tu_path(tmpdir, "vinq_again.xml")), 0);

    /* out fails */
    FILE *ro = fopen(tu_path(tmpdir, "vinq_again.xml"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
    CU_ASSERT_EQUAL(fmt_canon_scf_write_request(ro, &rq, &err), H2H_EIO);
    fclose(ro);
    CU_ASSERT_EQUAL(fmt_canon_scf_write_request(NULL, &rq, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_canon_scf_write_request(stdout, NULL, &err),
                    H2H_EINVALID);
    fmt_canon_scf_request_release(&rq);
}

static void test_writer_refuses_results(void)
{
    struct fmt_canon_scf_result r;
    struct h2h_err err = {0};

    fmt_canon_scf_result_init(&r);
    expect_refused("no branch", w_res, &r, H2H_EINVALID,
                   "ScfResult: 0 is not a result kind");

    mk_status_report(&r, 1);
    r.sts.interest_rate = -5;
    expect_refused("negative rate", w_res, &r, H2H_EINVALID,
                   "ScfResult/StsRpt/IntrstRate: negative rate -5");
    r.sts.interest_rate = -1;
    r.sts.status = (enum fmt_scf_status) - 1;
    expect_refused("no status", w_res, &r, H2H_EINVALID,
                   "ScfResult/StsRpt/Sts: required element is missing");
    r.sts.status = FMT_SCF_STATUS__COUNT;
    expect_refused("status out of range", w_res, &r, H2H_EINVALID,
                   "StsRpt/Sts: value 7 is not a financing status");
    r.sts.status = FMT_SCF_APPROVED;
    r.sts.invoices[2].result = (enum fmt_scf_item) - 1;
    expect_refused("invoice without result", w_res, &r, H2H_EINVALID,
                   "ScfResult/StsRpt/Invcs/Invc[3]/Rslt: required element");
    r.sts.invoices[2].result = FMT_SCF_ITEM_REJECTED;
    tu_set(&r.sts.book_date, "2025-02-30");
    expect_refused("impossible date", w_res, &r, H2H_EINVALID,
                   "StsRpt/BookDt: \"2025-02-30\" is not a date");
    tu_set(&r.sts.book_date, NULL);
    tu_set(&r.sts.loan_ref, "JJ \xC3\x28");
    expect_refused("invalid UTF-8", w_res, &r, H2H_ECHARSET,
                   "ScfResult/StsRpt/LoanRef: text is not valid UTF-8");
    tu_set(&r.sts.loan_ref, NULL);
    CU_ASSERT_EQUAL(
        tu_write_to(tu_path(tmpdir, "sts_again.xml"), w_res, &r, &err), 0);
    fmt_canon_scf_result_release(&r);

    mk_holdings(&r, 1);
    memcpy(r.hldgs.ccy, "QQQ", 4);
    expect_refused("totals currency", w_res, &r, H2H_EINVALID,
                   "ScfResult/Hldgs/Ttls/Ccy: \"QQQ\" is not a known ISO "
                   "4217 currency code");
    memcpy(r.hldgs.ccy, "CNY", 4);
    r.hldgs.totals.financed = -1;
    expect_refused("negative total", w_res, &r, H2H_EINVALID,
                   "ScfResult/Hldgs/Ttls/Fincd: negative amount");
    r.hldgs.totals.financed = 0;
    r.hldgs.vouchers[1].remaining = -1;
    expect_refused("negative remaining", w_res, &r, H2H_EINVALID,
                   "ScfResult/Hldgs/Vchrs/Vchr[2]/Rmng: negative amount");
    r.hldgs.vouchers[1].remaining = 0;
    r.hldgs.vouchers[2].amount.ccy[0] = '\0';
    expect_refused("voucher amount without currency", w_res, &r, H2H_EINVALID,
                   "Hldgs/Vchrs/Vchr[3]/Amt: amount without a known ISO 4217");
    r.hldgs.vouchers[2].amount.minor = 0;
    expect_refused("voucher without amount", w_res, &r, H2H_EINVALID,
                   "Hldgs/Vchrs/Vchr[3]/Amt: required element is missing");
    r.hldgs.vouchers[2].amount = tu_cny(1);
    r.hldgs.vouchers[0].level = -3;
    expect_refused("negative level", w_res, &r, H2H_EINVALID,
                   "Hldgs/Vchrs/Vchr[1]/Lvl: negative number -3");
    r.hldgs.vouchers[0].level = 1;
    tu_set(&r.hldgs.party, NULL);
    expect_refused("holdings of nobody", w_res, &r, H2H_EINVALID,
                   "ScfResult/Hldgs/Pty: required element is missing");
    tu_set(&r.hldgs.party, TIER1);
    CU_ASSERT_EQUAL(
        tu_write_to(tu_path(tmpdir, "hld_again.xml"), w_res, &r, &err), 0);
    CU_ASSERT_EQUAL(tu_xsd_valid(XSD, tu_path(tmpdir, "hld_again.xml")), 0);
    fmt_canon_scf_result_release(&r);

    mk_vop_result(&r, 1);
    r.vrslt.outcome = FMT_CANON_SCF_OUTCOME_NONE;
    expect_refused("no outcome", w_res, &r, H2H_EINVALID,
                   "ScfResult/VchrOpRslt/Outcm: required element is missing");
    r.vrslt.outcome = FMT_CANON_SCF_ACCEPTED;
    r.vrslt.vouchers[1].status = (enum fmt_voucher_status) - 1;
    expect_refused("voucher without status", w_res, &r, H2H_EINVALID,
                   "VchrOpRslt/Vchrs/Vchr[2]/Sts: required element");
    fmt_canon_scf_result_release(&r);

    CU_ASSERT_EQUAL(fmt_canon_scf_write_result(stdout, NULL, &err),
                    H2H_EINVALID);
}

/* ---- detection ----------------------------------------------------------- */

static void test_detect(void)
{
    static const struct {
        const char *label, *doc;
        int want;
    } cases[] = {
        {"request", "<ScfRequest xmlns=\"urn:h2hd:scf:1\">",
         FMT_CANON_SCF_REQUEST},
        {"result with BOM, declaration, comment",
         "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!-- 供应链金融 -->\n<ScfResult xmlns='urn:h2hd:scf:1'>",
         FMT_CANON_SCF_RESULT},
        {"prefixed request", "<s:ScfRequest\n  xmlns:s=\"urn:h2hd:scf:1\">",
         FMT_CANON_SCF_REQUEST},
        {"empty root", "<ScfResult xmlns=\"urn:h2hd:scf:1\"/>",
         FMT_CANON_SCF_RESULT},
        {"bills", "<BillRequest xmlns=\"urn:h2hd:bills:1\">", -1},
        {"scf root in the bills namespace",
         "<ScfRequest xmlns=\"urn:h2hd:bills:1\">", -1},
        {"another version", "<ScfRequest xmlns=\"urn:h2hd:scf:10\">", -1},
        {"tsin.001",
         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
         "tsin.001.001.01\">",
         -1},
        {"cut before the namespace", "<ScfRequest xmln", -1},
        {"empty", "", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = fmt_canon_scf_detect(cases[i].doc, strlen(cases[i].doc));
        if (got != cases[i].want)
            fprintf(stderr, "  case \"%s\": %d (want %d)\n", cases[i].label,
                    got, cases[i].want);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    CU_ASSERT_EQUAL(fmt_canon_scf_detect(NULL, 0), -1);
    /* and the bill detector does not take an scf document */
    static const char req[] = "<ScfRequest xmlns=\"urn:h2hd:scf:1\">";
    CU_ASSERT_EQUAL(fmt_canon_bill_detect(req, sizeof(req) - 1), -1);

    size_t len;
    char *buf = tu_read_file(tu_fixture("scf", "vop_transfer.xml"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(fmt_canon_scf_detect(buf, len), FMT_CANON_SCF_REQUEST);
    free(buf);
    buf = tu_read_file(tu_fixture("scf", "result_holdings.xml"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(fmt_canon_scf_detect(buf, len), FMT_CANON_SCF_RESULT);
    free(buf);
}

/* ---- the schema's code lists are the model's names ----------------------- */

/* The enumeration values of simpleType type in the schema text: exactly
 * name(first) .. name(n - 1). */
static void check_enum(const char *xsd, const char *type,
                       const char *(*name)(int), int first, int n)
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
    for (int v = first; v < n; v++) {
        char pat[128];
        snprintf(pat, sizeof(pat), "<xs:enumeration value=\"%s\"", name(v));
        const char *hit = strstr(s, pat);
        if (!hit || hit > e)
            fprintf(stderr, "  %s lacks %s\n", type, name(v));
        CU_ASSERT(hit && hit < e);
    }
    CU_ASSERT_EQUAL(values, n - first);
}

static const char *kind_nm(int v)
{
    return fmt_scf_kind_name((enum fmt_scf_kind)v);
}
static const char *status_nm(int v)
{
    return fmt_scf_status_name((enum fmt_scf_status)v);
}
static const char *item_nm(int v)
{
    return fmt_scf_item_name((enum fmt_scf_item)v);
}
static const char *cxl_nm(int v)
{
    return fmt_scf_cancel_answer_name((enum fmt_scf_cancel_answer)v);
}
static const char *repay_nm(int v)
{
    return fmt_scf_repay_kind_name((enum fmt_scf_repay_kind)v);
}
static const char *vstatus_nm(int v)
{
    return fmt_voucher_status_name((enum fmt_voucher_status)v);
}
static const char *vop_nm(int v)
{
    return fmt_voucher_op_name((enum fmt_voucher_op_kind)v);
}
static const char *outcome_nm(int v)
{
    return fmt_canon_scf_outcome_name((enum fmt_canon_scf_outcome)v);
}

static void test_schema_names(void)
{
    char *xsd = tu_read_file(tu_src("formats/schemas/scf.xsd"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xsd);
    check_enum(xsd, "ScfKind", kind_nm, 0, FMT_SCF_REVERSE_FACTORING + 1);
    check_enum(xsd, "ScfStatus", status_nm, 0, FMT_SCF_STATUS__COUNT);
    check_enum(xsd, "InvoiceResult", item_nm, 0, FMT_SCF_ITEM__COUNT);
    /* "none" is an absent element */
    check_enum(xsd, "CancelAnswer", cxl_nm, 1, FMT_SCF_CXL_REFUSED + 1);
    check_enum(xsd, "RepayKind", repay_nm, 0, FMT_SCF_REPAY_PAID + 1);
    check_enum(xsd, "VoucherStatus", vstatus_nm, 0, FMT_VOUCHER_STATUS__COUNT);
    check_enum(xsd, "VoucherOp", vop_nm, 0, FMT_VOUCHER_OP__COUNT);
    check_enum(xsd, "Outcome", outcome_nm, 1, FMT_CANON_SCF_OUTCOME__COUNT);
    /* the names scf.h parses back */
    CU_ASSERT_EQUAL(fmt_canon_scf_outcome_parse("pending"),
                    FMT_CANON_SCF_PENDING);
    CU_ASSERT_EQUAL(fmt_canon_scf_outcome_parse("PENDING"), -1);
    CU_ASSERT_EQUAL(fmt_canon_scf_outcome_parse(NULL), -1);
    CU_ASSERT_STRING_EQUAL(
        fmt_canon_scf_outcome_name((enum fmt_canon_scf_outcome)9), "?");
    free(xsd);
}

/* ---- robustness ---------------------------------------------------------- */

/* Cut and damaged documents never crash or leak (valgrind checks the
 * latter): each read ends in 0, a problem report or a fatal code with a
 * message. */
static void test_damaged_documents(void)
{
    struct fmt_canon_scf_result r;
    struct fmt_canon_scf_request rq;
    struct h2h_err err = {0};
    int bad = 0, runs = 0;
    /* both are released after every read, whichever was read */
    fmt_canon_scf_result_init(&r);
    fmt_canon_scf_request_init(&rq);
    for (int which = 0; which < 2; which++) {
        const char *path = tu_path(tmpdir, "damage.xml");
        if (which == 0) {
            mk_status_report(&r, 1);
            CU_ASSERT_EQUAL(tu_write_to(path, w_res, &r, &err), 0);
            fmt_canon_scf_result_release(&r);
        } else {
            mk_fincg(&rq, FMT_SCF_REVERSE_FACTORING, 1);
            CU_ASSERT_EQUAL(tu_write_to(path, w_req, &rq, &err), 0);
            fmt_canon_scf_request_release(&rq);
        }
        size_t len;
        char *doc = tu_read_file(path, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        for (size_t cut = 0; cut < len; cut += 41) {
            struct fmt_src src = {.buf = doc, .len = cut};
            memset(&err, 0, sizeof(err));
            int rc = which ? fmt_canon_scf_read_request(&src, &rq, NULL, &err)
                           : fmt_canon_scf_read_result(&src, &r, NULL, &err);
            bad += rc == 0 ? cut + 1 < len : err.msg[0] == '\0';
            runs++;
            fmt_canon_scf_result_release(&r);
            fmt_canon_scf_request_release(&rq);
        }
        static const char junk[] = {'<', '>', '&', '"', 'x', '\0', '/', '9'};
        for (size_t pos = 7, k = 0; pos < len; pos += 89, k++) {
            char saved = doc[pos];
            doc[pos] = junk[k % sizeof(junk)];
            struct fmt_src src = {.buf = doc, .len = len};
            memset(&err, 0, sizeof(err));
            int rc = which ? fmt_canon_scf_read_request(&src, &rq, NULL, &err)
                           : fmt_canon_scf_read_result(&src, &r, NULL, &err);
            bad += rc != 0 && err.msg[0] == '\0';
            runs++;
            fmt_canon_scf_result_release(&r);
            fmt_canon_scf_request_release(&rq);
            doc[pos] = saved;
        }
        free(doc);
    }
    CU_ASSERT(runs > 200);
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- the model view of an operation -------------------------------------- */

static void test_vop_view_set(void)
{
    struct fmt_canon_scf_request rq;
    struct fmt_canon_scf_vop w;
    struct fmt_voucher_op op;
    mk_vop(&rq, FMT_VOUCHER_TRANSFER);
    fmt_canon_scf_vop_view(&rq.vop, &op);
    CU_ASSERT_EQUAL(op.kind, FMT_VOUCHER_TRANSFER);
    CU_ASSERT_PTR_EQUAL(op.voucher_id, rq.vop.voucher_id);
    CU_ASSERT_PTR_EQUAL(op.new_id, rq.vop.new_id);
    CU_ASSERT_EQUAL(op.amount.minor, 40000000);
    memset(&w, 0, sizeof(w));
    CU_ASSERT_EQUAL(fmt_canon_scf_vop_set(&w, "VT-9", &op), 0);
    ASSERT_STR(w.req_id, "VT-9");
    CU_ASSERT_PTR_NOT_EQUAL(w.voucher_id, rq.vop.voucher_id);
    tu_set(&w.req_id, rq.vop.req_id);
    tu_mismatches = 0;
    cmp_vop("set", &rq.vop, &w);
    CU_ASSERT_EQUAL(tu_mismatches, 0);
    fmt_canon_scf_vop_release(&w);
    CU_ASSERT_EQUAL((int)w.kind, -1);
    CU_ASSERT_PTR_NULL(w.actor);
    /* with a voucher set, the check refuses what the shape cannot see */
    struct fmt_voucher_set s;
    struct h2h_err err = {0};
    fmt_voucher_set_init(&s);
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &err), H2H_ENOTFOUND);
    fmt_voucher_set_release(&s);
    fmt_canon_scf_request_release(&rq);
    fmt_canon_scf_vop_release(NULL);
    CU_ASSERT_EQUAL(fmt_canon_scf_vop_check(NULL, NULL), 1);
}

/* ---- what the engine gained for this family ------------------------------ */

struct probe {
    int e0;        /* ENUM0 */
    int64_t rate;  /* RATE */
    char ccy[4];   /* CCY */
    int64_t minor; /* MINOR in ccy, 0 absent */
    size_t n;      /* COUNT SIZE */
    int small;     /* INT INT32 */
    int64_t opt;   /* COUNT MINUS1 */
    int which;     /* CHOICE */
    struct fmt_reason a, b;
    int line; /* SRCLINE */
};
static const struct fmt_cc_field f_probe_reason[] = {
    FMT_CC_F_TEXT("Cd", 0, struct fmt_reason, code, NULL),
};
static FMT_CC_STRUCT(d_probe_reason, "r", struct fmt_reason, f_probe_reason);
static const struct fmt_cc_field f_probe[] = {
    FMT_CC_F_SRCLINE(struct probe, line),
    FMT_CC_F_ENUM0("E", 0, struct probe, e0,
                   ((const struct fmt_cc_enum){"vop", vop_nm, 7, 0})),
    FMT_CC_F("R", FMT_CC_RATE, 0, struct probe, rate),
    FMT_CC_F("C", FMT_CC_CCY, 0, struct probe, ccy),
    FMT_CC_F_MINOR("M", FMT_CC_NONZERO, struct probe, minor, ccy),
    FMT_CC_F("N", FMT_CC_COUNT, FMT_CC_SIZE, struct probe, n),
    FMT_CC_F("S", FMT_CC_INT, FMT_CC_INT32, struct probe, small),
    FMT_CC_F("O", FMT_CC_COUNT, FMT_CC_MINUS1, struct probe, opt),
    FMT_CC_F_CHOICE("A", struct probe, a, which, 1, d_probe_reason),
    FMT_CC_F_CHOICE("B", struct probe, b, which, 2, d_probe_reason),
};
static FMT_CC_STRUCT(d_probe, "probe", struct probe, f_probe);

static char *probe_write(const struct probe *p, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    struct h2h_err err = {0};
    FILE *m = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    *rc = fmt_cc_write(m, "urn:t", "P", &d_probe, p, &err);
    fclose(m);
    return buf;
}

static void probe_init(struct probe *p)
{
    memset(p, 0, sizeof(*p));
    p->e0 = -1;
    p->rate = -1;
    p->opt = -1;
}

static void test_engine_additions(void)
{
    static const struct {
        int64_t v;
        const char *text;
    } rates[] = {
        {0, "0"},
        {1, "0.0000000001"},
        {345 * RATE1 / 100, "3.45"},
        {100 * RATE1, "100"},
        {INT64_MAX, "922337203.6854775807"},
        {RATE1 / 3, "0.3333333333"},
    };
    struct fmt_cc_report rep;
    struct h2h_err err = {0};
    int rc;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct probe p, back;
        char want[64];
        probe_init(&p);
        p.rate = rates[i].v;
        char *buf = probe_write(&p, &rc);
        CU_ASSERT_EQUAL(rc, 0);
        snprintf(want, sizeof(want), "<R>%s</R>", rates[i].text);
        CU_ASSERT(tu_contains(buf, want));
        CU_ASSERT(tu_contains(buf, "<O>") == 0 && tu_contains(buf, "<E>") == 0);
        struct fmt_src src = {.buf = buf, .len = strlen(buf)};
        probe_init(&back);
        CU_ASSERT_EQUAL(fmt_cc_read(&src, "urn:t", "P", "t", &d_probe, &back,
                                    NULL, &rep, &err),
                        0);
        CU_ASSERT_EQUAL(rep.n, 0);
        CU_ASSERT_EQUAL(back.rate, rates[i].v);
        CU_ASSERT_EQUAL(back.line, 2); /* after the declaration */
        free(buf);
    }

    /* every kind at once, and values that are 0 */
    struct probe p, back;
    probe_init(&p);
    p.e0 = 0;
    memcpy(p.ccy, "JPY", 4);
    p.minor = 1234;
    p.n = 0;
    p.small = 2147483647;
    p.opt = 0;
    p.which = 2;
    p.b.code = "B-code";
    p.a.code = "never written";
    char *buf = probe_write(&p, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(tu_contains(buf, "<E>issue</E>"));
    CU_ASSERT(tu_contains(buf, "<C>JPY</C>"));
    CU_ASSERT(tu_contains(buf, "<M Ccy=\"JPY\">1234</M>"));
    CU_ASSERT(tu_contains(buf, "<N>0</N>"));
    CU_ASSERT(tu_contains(buf, "<S>2147483647</S>"));
    CU_ASSERT(tu_contains(buf, "<O>0</O>"));
    CU_ASSERT(tu_contains(buf, "<B>") && !tu_contains(buf, "<A>"));
    struct fmt_src src = {.buf = buf, .len = strlen(buf)};
    probe_init(&back);
    CU_ASSERT_EQUAL(
        fmt_cc_read(&src, "urn:t", "P", "t", &d_probe, &back, NULL, &rep, &err),
        0);
    CU_ASSERT_EQUAL(rep.n, 0);
    CU_ASSERT_EQUAL(back.e0, 0);
    CU_ASSERT_STRING_EQUAL(back.ccy, "JPY");
    CU_ASSERT_EQUAL(back.minor, 1234);
    CU_ASSERT_EQUAL(back.small, 2147483647);
    CU_ASSERT_EQUAL(back.opt, 0);
    CU_ASSERT_EQUAL(back.which, 2);
    ASSERT_STR(back.b.code, "B-code");
    CU_ASSERT_PTR_NULL(back.a.code);
    fmt_reason_release(&back.b);
    free(buf);

    /* MINOR 0 is absent with NONZERO; a minor without its currency is
     * refused */
    p.minor = 0;
    buf = probe_write(&p, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(!tu_contains(buf, "<M "));
    free(buf);
    p.minor = 5;
    p.ccy[0] = '\0';
    buf = probe_write(&p, &rc);
    CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    CU_ASSERT(buf == NULL || buf[0] == '\0');
    free(buf);

    /* a second branch is reported and skipped: the first stays */
    static const char two[] =
        "<P xmlns=\"urn:t\">\n <A><Cd>a</Cd></A>\n <B><Cd>b</Cd></B>\n"
        " <A><Cd>a2</Cd></A>\n</P>";
    struct fmt_diag d;
    fmt_diag_init(&d, "x");
    src.buf = two;
    src.len = sizeof(two) - 1;
    probe_init(&back);
    CU_ASSERT_EQUAL(
        fmt_cc_read(&src, "urn:t", "P", "t", &d_probe, &back, &d, &rep, &err),
        0);
    CU_ASSERT_EQUAL(rep.n, 2);
    CU_ASSERT(tu_diag_has(&d, "t.choice", 3, "B"));
    CU_ASSERT(d.n > 0 && tu_contains(d.v[0].msg, "<A> was given already"));
    CU_ASSERT(tu_diag_has(&d, "t.repeated", 4, "A"));
    CU_ASSERT_EQUAL(back.which, 1);
    ASSERT_STR(back.a.code, "a2");
    CU_ASSERT_PTR_NULL(back.b.code);
    fmt_reason_release(&back.a);
    fmt_diag_release(&d);

    /* bad values of the new kinds */
    static const char bad[] = "<P xmlns=\"urn:t\">\n<E>none</E>\n<R>1e3</R>\n"
                              "<C>EURO</C>\n<S>0</S>\n<O>-1</O>\n"
                              "<M Ccy=\"JPY\">1.5</M>\n</P>";
    fmt_diag_init(&d, "x");
    src.buf = bad;
    src.len = sizeof(bad) - 1;
    probe_init(&back);
    CU_ASSERT_EQUAL(
        fmt_cc_read(&src, "urn:t", "P", "t", &d_probe, &back, &d, &rep, &err),
        0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT(tu_diag_has(&d, "t.enum", 2, "E"));
    CU_ASSERT(tu_diag_has(&d, "t.rate", 3, "R"));
    CU_ASSERT(tu_diag_has(&d, "t.value", 4, "C"));
    CU_ASSERT(tu_diag_has(&d, "t.integer", 5, "S"));
    CU_ASSERT(tu_diag_has(&d, "t.integer", 6, "O"));
    CU_ASSERT(tu_diag_has(&d, "t.amount", 7, "M"));
    CU_ASSERT_EQUAL(d.n, 6);
    CU_ASSERT_EQUAL(back.e0, -1);
    CU_ASSERT_EQUAL(back.rate, -1);
    CU_ASSERT_EQUAL(back.opt, -1);
    fmt_diag_release(&d);
}

int main(void)
{
    static const struct tu_case cases[] = {
        {"financing requests round trip", test_request_financing},
        {"inquiry, cancellation, voucher requests round trip",
         test_request_other_kinds},
        {"results round trip", test_result_roundtrip},
        {"the comparison sees a changed field", test_comparison_fails},
        {"fixtures: financing, status, repayment, cancellation",
         test_fixture_financing},
        {"fixtures: one voucher's life", test_fixture_voucher_life},
        {"every fixture is covered", test_fixtures_all_covered},
        {"broken requests: rule, line, path", test_broken_requests},
        {"model check reasons", test_check_reasons},
        {"fatal requests", test_fatal_requests},
        {"broken results: rule, line, path", test_broken_results},
        {"children in any order, whitespace", test_any_order},
        {"writer refuses requests and writes nothing",
         test_writer_refuses_requests},
        {"writer refuses results and writes nothing",
         test_writer_refuses_results},
        {"detect", test_detect},
        {"schema code lists are the model's names", test_schema_names},
        {"damaged documents", test_damaged_documents},
        {"voucher operation view and copy", test_vop_view_set},
        {"engine: zero-valued enums, rates, minor units, choices",
         test_engine_additions},
        {NULL, NULL},
    };
    const char *d = tu_mkdtemp();
    if (!d)
        return 2;
    snprintf(tmpdir, sizeof(tmpdir), "%s", d);
    int rc = tu_main("fmt_canon_scf", cases);
    tu_rmtree(tmpdir);
    return rc;
}
