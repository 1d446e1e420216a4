/*
 * test_fmt_tsin.c - ISO 20022 tsin.001 / .002 / .003 writers and readers.
 *
 * Round trips compare every field through a key=value dump of the whole
 * struct, so a field the writer forgets or the reader misplaces shows as
 * a one-line diff.  Every written document is validated with xmllint
 * against h2hd's reconstructed schemas (formats/schemas/tsin.*.xsd), and
 * the bank-style fixtures in tests/fixtures/tsin/ validate against them
 * too, so schema and code are checked against hand-written documents
 * rather than only against each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scf.h"
#include "testutil.h"
#include "tsin.h"

#define RATE(x) ((int64_t)(x)*FMT_SCF_RATE_ONE)

/* ---- building structs ---------------------------------------------------- */

static char *s(const char *v)
{
    char *d = strdup(v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d;
}

static void amt(struct fmt_amount *a, int64_t minor)
{
    a->minor = minor;
    memcpy(a->ccy, "CNY", 4);
}

/* Everything a tsin.001 can carry, Chinese names included. */
static void make_request_full(struct fmt_scf_request *r)
{
    memset(r, 0, sizeof(*r));
    r->request_id = s("RF-2025-0001");
    r->cre_dt_tm = s("2025-03-01T09:00:00+08:00");
    r->kind = FMT_SCF_REVERSE_FACTORING;
    r->requestor.name = s("华南电器制造集团有限公司");
    r->requestor.org_id = s("91440300MA5DC0XX3P");
    r->requestor.org_id_scheme = s("USCC");
    r->requestor.org_bic = s("HNDZCNSZ");
    r->credit_acct.other_id = s("755912345610001");
    r->credit_acct.type = s("CACC");
    r->credit_acct.ccy = s("CNY");
    r->credit_acct.name = s("华南电器制造集团有限公司");
    r->financing_acct.other_id = s("LN2025000123");
    r->financing_acct.other_scheme = s("BBAN");
    r->financing_acct.type = s("融资专户");
    r->bank.bic = s("CMBCCNBS");
    r->bank.clr_mmb_id = s("308584000013");
    r->bank.other_id = s("CMB-SZ-SCF");
    r->intermediary.clr_sys = s("CNAPS");
    r->intermediary.clr_mmb_id = s("102100099996");
    r->product = s("FXBL-01");
    r->agreement_ref = s("反向保理合作协议 2024-SZ-077");
    r->contract_ref = s("HT-2024-1188");
    memcpy(r->ccy, "CNY", 4);
    amt(&r->requested, 150000000);
    r->value_date = s("2025-03-05");
    r->addtl_info = s("请于3月5日前放款\nurgent: <&> \"quoted\"");
    r->n_invoices = 3;
    r->invoices = calloc(3, sizeof(*r->invoices));
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->invoices);
    for (int i = 0; i < 3; i++) {
        struct fmt_scf_invoice *iv = &r->invoices[i];
        fmt_scf_invoice_init(iv);
        char nb[32];
        snprintf(nb, sizeof(nb), "4403241130%08d", 100 + i);
        iv->number = s(nb);
        iv->issue_date = s("2025-02-01");
        iv->due_date = s(i == 2 ? "2025-09-30" : "2025-07-31");
        iv->buyer.name = s("华南电器制造集团有限公司");
        iv->buyer.org_bic = s("HNDZCNSZ");
        iv->tax_invoice_code = s("4403241130");
    }
    /* 1: every supplier field, taxes, an amount asked, a contract. */
    struct fmt_scf_invoice *a = &r->invoices[0];
    amt(&a->amount, 56500000);
    amt(&a->taxable, 50000000);
    amt(&a->tax, 6500000);
    amt(&a->requested, 50000000);
    a->seller.name = s("深圳市前海供应链科技有限公司");
    a->seller.org_id = s("91440300MA5EXXXX1Q");
    a->seller.org_id_scheme = s("TXID");
    a->seller.addr.street = s("前湾一路");
    a->seller.addr.building = s("1号A栋");
    a->seller.addr.postcode = s("518000");
    a->seller.addr.town = s("深圳");
    a->seller.addr.subdivision = s("广东省");
    a->seller.addr.country = s("CN");
    a->seller.ctry_of_res = s("CN");
    a->seller_acct.other_id = s("4000023009200188888");
    a->seller_acct.name = s("深圳市前海供应链科技有限公司");
    a->contract_ref = s("CG-2025-0007");
    a->pmt_method = s("CHK");
    /* 2: a rate asked, a supplier with a bank id and address lines. */
    struct fmt_scf_invoice *b = &r->invoices[1];
    amt(&b->amount, 56500000);
    b->requested_rate = RATE(79) + 1234567890; /* 79.123456789 % */
    b->seller.name = s("Guangzhou Parts Co., Ltd.");
    b->seller.org_id = s("CUST-0042");
    b->seller.org_id_scheme = s("BANK");
    b->seller.addr.lines[0] = s("Room 1201, 88 Tianhe Road");
    b->seller.addr.lines[1] = s("Tianhe District");
    b->seller.addr.country = s("CN");
    b->seller_acct.iban = s("DE89370400440532013000");
    /* 3: a proprietary supplier id with issuer, a private-person buyer. */
    struct fmt_scf_invoice *c = &r->invoices[2];
    amt(&c->amount, 37000000);
    amt(&c->tax, 4256637);
    c->seller.name = s("东莞精密五金厂");
    c->seller.org_id = s("DG-778899");
    c->seller.org_id_scheme = s("东莞市市场监督管理局");
    c->seller_acct.other_id = s("62148301234567");
    c->seller_acct.other_scheme = s("UPIC");
    fmt_party_release(&c->buyer);
    c->buyer.name = s("李四");
    c->buyer.prvt_id = s("440301199001011234");
}

/* Only what tsin.001 requires: a receivable request for one invoice. */
static void make_request_min(struct fmt_scf_request *r)
{
    memset(r, 0, sizeof(*r));
    r->request_id = s("RF-MIN-1");
    r->cre_dt_tm = s("2025-03-01T09:00:00Z");
    r->requestor.name = s("上海供应商有限公司");
    r->bank.bic = s("PCBCCNBJ");
    memcpy(r->ccy, "CNY", 4);
    r->n_invoices = 1;
    r->invoices = calloc(1, sizeof(*r->invoices));
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->invoices);
    fmt_scf_invoice_init(&r->invoices[0]);
    r->invoices[0].number = s("INV-1");
    r->invoices[0].issue_date = s("2025-02-01");
    r->invoices[0].due_date = s("2025-07-01");
    amt(&r->invoices[0].amount, 1000);
    r->invoices[0].buyer.name = s("核心企业集团");
}

static void result_add(struct fmt_scf_status_report *r, const char *nb,
                       enum fmt_scf_item res)
{
    struct fmt_scf_invoice_result *v =
        realloc(r->invoices, (r->n_invoices + 1) * sizeof(*v));
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    r->invoices = v;
    struct fmt_scf_invoice_result *x = &v[r->n_invoices++];
    fmt_scf_invoice_result_init(x);
    x->number = s(nb);
    amt(&x->invoice_amount, 50000000);
    x->issue_date = s("2025-02-01");
    x->due_date = s("2025-07-31");
    x->result = res;
}

static void report_base(struct fmt_scf_status_report *r, const char *id)
{
    fmt_scf_status_report_init(r);
    r->status_id = s(id);
    r->cre_dt_tm = s("2025-03-05T10:15:00+08:00");
    r->orgnl_request_id = s("RF-2025-0001");
    r->orgnl_cre_dt_tm = s("2025-03-01T09:00:00+08:00");
}

/* A disbursed financing with every term tsin.002 carries. */
static void make_report_financed(struct fmt_scf_status_report *r)
{
    report_base(r, "STS-FIN-1");
    r->status = FMT_SCF_FINANCED;
    r->reason.prtry = s("APPROVED-BY-CREDIT");
    r->reason.addtl_info = s("授信额度已占用\nline two");
    amt(&r->financed, 80000000);
    amt(&r->accepted_total, 100000000);
    r->n_financed_items = 2;
    r->applied_pctg = RATE(80);
    r->value_date = s("2025-03-05");
    r->maturity_date = s("2025-08-01");
    r->book_date = s("2025-03-04");
    r->credit_acct.other_id = s("755912345610001");
    r->credit_acct.type = s("CACC");
    r->financing_acct.other_id = s("LN2025000123");
    r->financing_acct.other_scheme = s("BBAN");
    result_add(r, "INV-001", FMT_SCF_ITEM_ACCEPTED);
    amt(&r->invoices[0].financed, 40000000);
    result_add(r, "INV-002", FMT_SCF_ITEM_ACCEPTED);
    r->invoices[1].financed_rate = RATE(80);
    r->invoices[1].seller.name = s("深圳市前海供应链科技有限公司");
    r->invoices[1].seller.org_id = s("91440300MA5EXXXX1Q");
    r->invoices[1].seller.org_id_scheme = s("TXID");
    result_add(r, "INV-003", FMT_SCF_ITEM_REJECTED);
    r->invoices[2].reason.code = s("DT02");
    r->invoices[2].reason.addtl_info = s("到期日早于融资到期日");
}

static void make_cancel_full(struct fmt_scf_cancel *c)
{
    fmt_scf_cancel_init(c);
    c->cancel_id = s("CX-2025-0001");
    c->cre_dt_tm = s("2025-03-02T11:00:00+08:00");
    c->orgnl_request_id = s("RF-2025-0001");
    c->orgnl_cre_dt_tm = s("2025-03-01T09:00:00+08:00");
    c->nb_of_invoices = 3;
    amt(&c->total_invoice_amount, 150000000);
    c->reason = s("采购合同已解除，撤销融资申请");
    c->requestor.name = s("华南电器制造集团有限公司");
    c->requestor.org_id = s("91440300MA5DC0XX3P");
    c->bank.bic = s("CMBCCNBS");
    c->bank.clr_sys = s("CNAPS");
    c->bank.clr_mmb_id = s("308584000013");
}

static void make_cancel_min(struct fmt_scf_cancel *c)
{
    fmt_scf_cancel_init(c);
    c->cancel_id = s("CX-MIN");
    c->cre_dt_tm = s("2025-03-02T11:00:00Z");
    c->orgnl_request_id = s("RF-MIN-1");
    c->orgnl_cre_dt_tm = s("2025-03-01T09:00:00Z");
    c->reason = s("duplicate");
}

/* ---- dumps: every field as key=value lines ------------------------------- */

#define KV(f, k, v)                                                            \
    do {                                                                       \
        if (v)                                                                 \
            fprintf(f, "%s=%s\n", k, v);                                       \
    } while (0)

static void d_amt(FILE *f, const char *k, const struct fmt_amount *a)
{
    if (a->ccy[0])
        fprintf(f, "%s=%lld %s\n", k, (long long)a->minor, a->ccy);
}

static void d_party(FILE *f, const char *k, const struct fmt_party *p)
{
    fprintf(f, "[%s]\n", k);
    KV(f, "name", p->name);
    KV(f, "dept", p->addr.dept);
    KV(f, "street", p->addr.street);
    KV(f, "building", p->addr.building);
    KV(f, "postcode", p->addr.postcode);
    KV(f, "town", p->addr.town);
    KV(f, "subdivision", p->addr.subdivision);
    KV(f, "country", p->addr.country);
    for (int i = 0; i < 7; i++)
        KV(f, "line", p->addr.lines[i]);
    KV(f, "org_bic", p->org_bic);
    KV(f, "org_id", p->org_id);
    KV(f, "org_id_scheme", p->org_id_scheme);
    KV(f, "prvt_id", p->prvt_id);
    KV(f, "ctry_of_res", p->ctry_of_res);
}

static void d_acct(FILE *f, const char *k, const struct fmt_account *a)
{
    fprintf(f, "[%s]\n", k);
    KV(f, "iban", a->iban);
    KV(f, "other_id", a->other_id);
    KV(f, "other_scheme", a->other_scheme);
    KV(f, "ccy", a->ccy);
    KV(f, "name", a->name);
    KV(f, "type", a->type);
}

static void d_agent(FILE *f, const char *k, const struct fmt_agent *a)
{
    fprintf(f, "[%s]\n", k);
    KV(f, "bic", a->bic);
    KV(f, "clr_sys", a->clr_sys);
    KV(f, "clr_mmb_id", a->clr_mmb_id);
    KV(f, "name", a->name);
    KV(f, "other_id", a->other_id);
}

static void d_reason(FILE *f, const char *k, const struct fmt_reason *r)
{
    fprintf(f, "[%s]\n", k);
    KV(f, "code", r->code);
    KV(f, "prtry", r->prtry);
    KV(f, "info", r->addtl_info);
}

static char *dump_request(const struct fmt_scf_request *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    KV(f, "request_id", r->request_id);
    KV(f, "cre_dt_tm", r->cre_dt_tm);
    fprintf(f, "kind=%s\n", fmt_scf_kind_name(r->kind));
    d_party(f, "requestor", &r->requestor);
    d_acct(f, "credit_acct", &r->credit_acct);
    d_acct(f, "financing_acct", &r->financing_acct);
    d_agent(f, "bank", &r->bank);
    d_agent(f, "intermediary", &r->intermediary);
    KV(f, "product", r->product);
    KV(f, "agreement_ref", r->agreement_ref);
    KV(f, "contract_ref", r->contract_ref);
    fprintf(f, "ccy=%s\n", r->ccy);
    d_amt(f, "requested", &r->requested);
    KV(f, "value_date", r->value_date);
    KV(f, "addtl_info", r->addtl_info);
    for (size_t i = 0; i < r->n_invoices; i++) {
        const struct fmt_scf_invoice *iv = &r->invoices[i];
        fprintf(f, "[invoice %zu]\n", i + 1);
        KV(f, "number", iv->number);
        KV(f, "issue_date", iv->issue_date);
        KV(f, "due_date", iv->due_date);
        d_amt(f, "amount", &iv->amount);
        d_amt(f, "taxable", &iv->taxable);
        d_amt(f, "tax", &iv->tax);
        d_amt(f, "requested", &iv->requested);
        fprintf(f, "requested_rate=%lld\n", (long long)iv->requested_rate);
        d_party(f, "buyer", &iv->buyer);
        d_party(f, "seller", &iv->seller);
        d_acct(f, "seller_acct", &iv->seller_acct);
        KV(f, "pmt_method", iv->pmt_method);
        KV(f, "contract_ref", iv->contract_ref);
        KV(f, "tax_invoice_code", iv->tax_invoice_code);
    }
    fclose(f);
    return buf;
}

static char *dump_report(const struct fmt_scf_status_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    KV(f, "status_id", r->status_id);
    KV(f, "cre_dt_tm", r->cre_dt_tm);
    KV(f, "orgnl_request_id", r->orgnl_request_id);
    KV(f, "orgnl_cre_dt_tm", r->orgnl_cre_dt_tm);
    fprintf(f, "status=%s\n", fmt_scf_status_name(r->status));
    d_reason(f, "reason", &r->reason);
    fprintf(f, "cancel=%s\n", fmt_scf_cancel_answer_name(r->cancel_answer));
    d_reason(f, "cancel_reason", &r->cancel_reason);
    d_amt(f, "financed", &r->financed);
    d_amt(f, "accepted_total", &r->accepted_total);
    fprintf(f, "n_financed_items=%lld\n", (long long)r->n_financed_items);
    fprintf(f, "applied_pctg=%lld\n", (long long)r->applied_pctg);
    fprintf(f, "interest_rate=%lld\n", (long long)r->interest_rate);
    KV(f, "value_date", r->value_date);
    KV(f, "maturity_date", r->maturity_date);
    KV(f, "book_date", r->book_date);
    KV(f, "loan_ref", r->loan_ref);
    d_acct(f, "credit_acct", &r->credit_acct);
    d_acct(f, "financing_acct", &r->financing_acct);
    for (size_t i = 0; i < r->n_invoices; i++) {
        const struct fmt_scf_invoice_result *x = &r->invoices[i];
        fprintf(f, "[result %zu]\n", i + 1);
        KV(f, "number", x->number);
        d_amt(f, "invoice_amount", &x->invoice_amount);
        KV(f, "issue_date", x->issue_date);
        KV(f, "due_date", x->due_date);
        d_party(f, "seller", &x->seller);
        fprintf(f, "result=%s\n", fmt_scf_item_name(x->result));
        d_reason(f, "reason", &x->reason);
        d_amt(f, "financed", &x->financed);
        fprintf(f, "financed_rate=%lld\n", (long long)x->financed_rate);
    }
    fclose(f);
    return buf;
}

static char *dump_cancel(const struct fmt_scf_cancel *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    KV(f, "cancel_id", c->cancel_id);
    KV(f, "cre_dt_tm", c->cre_dt_tm);
    KV(f, "orgnl_request_id", c->orgnl_request_id);
    KV(f, "orgnl_cre_dt_tm", c->orgnl_cre_dt_tm);
    fprintf(f, "nb_of_invoices=%lld\n", (long long)c->nb_of_invoices);
    d_amt(f, "total_invoice_amount", &c->total_invoice_amount);
    KV(f, "reason_code", c->reason_code);
    KV(f, "reason", c->reason);
    d_party(f, "requestor", &c->requestor);
    d_agent(f, "bank", &c->bank);
    fclose(f);
    return buf;
}

/* Equal dumps, or the first differing line on stderr. */
static int same_dump(const char *want, const char *got)
{
    if (!strcmp(want, got))
        return 1;
    const char *a = want, *b = got;
    while (*a && *a == *b)
        a++, b++;
    while (a > want && a[-1] != '\n')
        a--, b--;
    fprintf(stderr, "\n--- want: %.200s\n--- got:  %.200s\n", a, b);
    return 0;
}

/* ---- files, schemas, diagnostics ----------------------------------------- */

/* The schema of tsin.00MSG under the source tree; static buffer. */
static const char *xsd(int msg)
{
    static char buf[3][64];
    snprintf(buf[msg - 1], sizeof(buf[0]),
             "formats/schemas/tsin.00%d.001.01.xsd", msg);
    return buf[msg - 1];
}

/* 1 when valid; otherwise xmllint's complaints go to stderr. */
static int xsd_valid(int msg, const char *path)
{
    int x = tu_xsd_valid(xsd(msg), path);
    if (x)
        tu_system("xmllint --noout --nonet --schema '%s' '%s'",
                  tu_src(xsd(msg)), path);
    return x == 0;
}

static void show_diag(const struct fmt_diag *d)
{
    if (d->n)
        fmt_diag_print(d, stderr);
}

/* Write with fn into a temp file; its path (static) or NULL on failure. */
static int w001(FILE *f, const void *v, struct h2h_err *e)
{
    return fmt_tsin001_write(f, v, e);
}
static int w002(FILE *f, const void *v, struct h2h_err *e)
{
    return fmt_tsin002_write(f, v, e);
}
static int w003(FILE *f, const void *v, struct h2h_err *e)
{
    return fmt_tsin003_write(f, v, e);
}

static const char *write_tmp(tu_write_fn fn, const void *v, const char *name,
                             struct h2h_err *e)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_mkdtemp(), name);
    return tu_write_to(path, fn, v, e) == 0 ? path : NULL;
}

/* ---- round trips ----------------------------------------------------------
 */

static void request_roundtrip(const struct fmt_scf_request *r)
{
    struct h2h_err e = {0};
    const char *path = write_tmp(w001, r, "req.xml", &e);
    if (!path)
        fprintf(stderr, "\ntsin.001 write: %s\n", e.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_TRUE(xsd_valid(1, path));
    size_t len = 0;
    char *doc = tu_read_file(path, &len);
    CU_ASSERT_EQUAL(fmt_tsin_detect(doc, len), FMT_TSIN_001);
    free(doc);

    struct fmt_scf_request back = {0};
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    struct fmt_src src = {.path = path};
    CU_ASSERT_EQUAL(fmt_tsin001_read(&src, &back, &d, &e), 0);
    show_diag(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    char *want = dump_request(r), *got = dump_request(&back);
    CU_ASSERT_TRUE(same_dump(want, got));
    /* the reader records where each invoice starts */
    for (size_t i = 0; i < back.n_invoices; i++)
        CU_ASSERT_TRUE(back.invoices[i].line > 0);
    if (back.n_invoices > 1)
        CU_ASSERT_TRUE(back.invoices[1].line > back.invoices[0].line);
    free(want);
    free(got);
    fmt_diag_release(&d);
    fmt_scf_request_release(&back);
}

static void test_request_roundtrip(void)
{
    struct fmt_scf_request r;
    make_request_full(&r);
    request_roundtrip(&r);
    /* The UTF-8 bytes themselves reach the file, not character refs. */
    struct h2h_err e = {0};
    const char *path = write_tmp(w001, &r, "req.xml", &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    char *doc = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(doc, "<Nm>深圳市前海供应链科技有限公司</Nm>"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(doc, "<TaxIdNb>91440300MA5EXXXX1Q</TaxIdNb>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<Rate>79.123456789</Rate>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<Prtry>H2H:REQAMT</Prtry>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<InfVal>1500000.00</InfVal>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "&lt;&amp;&gt;"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(doc, "<TtlBlkInvcAmt Ccy=\"CNY\">1500000.00</TtlBlkInvcAmt>"));
    free(doc);
    fmt_scf_request_release(&r);

    make_request_min(&r);
    request_roundtrip(&r);
    /* the empty supplier of a receivable is written as the requestor */
    path = write_tmp(w001, &r, "min.xml", &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    doc = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(doc, "<Spplr>\n        <PtyId>\n          <Nm>上海供应商"));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<TtlTaxAmt Ccy=\"CNY\">0.00<"));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "<PmtMtd>TRF</PmtMtd>"));
    free(doc);
    fmt_scf_request_release(&r);

    /* JPY has no decimals, BHD three: amounts follow the currency. */
    make_request_min(&r);
    memcpy(r.ccy, "BHD", 4);
    memcpy(r.invoices[0].amount.ccy, "BHD", 4);
    r.invoices[0].amount.minor = 1234567; /* 1234.567 */
    request_roundtrip(&r);
    path = write_tmp(w001, &r, "bhd.xml", &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    doc = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "Ccy=\"BHD\">1234.567<"));
    free(doc);
    fmt_scf_request_release(&r);
}

static void report_roundtrip(const struct fmt_scf_status_report *r,
                             const char *label)
{
    struct h2h_err e = {0};
    const char *path = write_tmp(w002, r, "sts.xml", &e);
    if (!path)
        fprintf(stderr, "\n%s: tsin.002 write: %s\n", label, e.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_TRUE(xsd_valid(2, path));
    struct fmt_scf_status_report back;
    fmt_scf_status_report_init(&back);
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    struct fmt_src src = {.path = path};
    CU_ASSERT_EQUAL(fmt_tsin002_read(&src, &back, &d, &e), 0);
    show_diag(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    char *want = dump_report(r), *got = dump_report(&back);
    if (!same_dump(want, got))
        fprintf(stderr, "(%s)\n", label);
    CU_ASSERT_STRING_EQUAL(want, got);
    free(want);
    free(got);
    fmt_diag_release(&d);
    fmt_scf_status_report_release(&back);
}

static void test_report_roundtrip(void)
{
    struct fmt_scf_status_report r;

    make_report_financed(&r);
    report_roundtrip(&r, "financed");
    fmt_scf_status_report_release(&r);

    /* refused as a whole at reception: RCER, no invoice results */
    report_base(&r, "STS-RJ");
    r.status = FMT_SCF_REJECTED;
    r.reason.code = s("BE08");
    r.reason.addtl_info = s("融资申请人未签约\nsecond line");
    report_roundtrip(&r, "rejected RCER");
    fmt_scf_status_report_release(&r);

    /* every invoice refused */
    report_base(&r, "STS-RJ2");
    r.status = FMT_SCF_REJECTED;
    r.n_financed_items = 0;
    amt(&r.accepted_total, 0);
    result_add(&r, "INV-001", FMT_SCF_ITEM_REJECTED);
    r.invoices[0].reason.prtry = s("发票已被质押");
    result_add(&r, "INV-002", FMT_SCF_ITEM_REJECTED);
    r.invoices[1].reason.code = s("ID03");
    report_roundtrip(&r, "rejected items");
    fmt_scf_status_report_release(&r);

    /* approved: terms known, nothing disbursed yet */
    report_base(&r, "STS-AP");
    r.status = FMT_SCF_APPROVED;
    r.n_financed_items = 1;
    amt(&r.accepted_total, 50000000);
    amt(&r.financed, 40000000);
    result_add(&r, "INV-001", FMT_SCF_ITEM_ACCEPTED);
    result_add(&r, "INV-002", FMT_SCF_ITEM_PENDING);
    report_roundtrip(&r, "approved");
    fmt_scf_status_report_release(&r);

    /* under review: results pending */
    report_base(&r, "STS-UR");
    r.status = FMT_SCF_UNDER_REVIEW;
    r.n_financed_items = 0;
    amt(&r.accepted_total, 0);
    result_add(&r, "INV-001", FMT_SCF_ITEM_PENDING);
    report_roundtrip(&r, "under review");
    fmt_scf_status_report_release(&r);

    /* received, nothing else said (the minimal tsin.002) */
    report_base(&r, "STS-MIN");
    r.status = FMT_SCF_SUBMITTED;
    report_roundtrip(&r, "submitted");
    fmt_scf_status_report_release(&r);

    /* cancellation accepted / refused */
    report_base(&r, "STS-CX");
    r.status = FMT_SCF_CANCELLED;
    r.cancel_answer = FMT_SCF_CXL_ACCEPTED;
    r.cancel_reason.prtry = s("CXL-BY-CUSTOMER");
    report_roundtrip(&r, "cancelled");
    fmt_scf_status_report_release(&r);

    report_base(&r, "STS-CX2");
    r.status = FMT_SCF_SUBMITTED;
    r.cancel_answer = FMT_SCF_CXL_REFUSED;
    r.cancel_reason.code = s("CA03");
    r.cancel_reason.addtl_info = s("融资流程已启动");
    report_roundtrip(&r, "cancel refused");
    fmt_scf_status_report_release(&r);
}

static void cancel_roundtrip(const struct fmt_scf_cancel *c)
{
    struct h2h_err e = {0};
    const char *path = write_tmp(w003, c, "cxl.xml", &e);
    if (!path)
        fprintf(stderr, "\ntsin.003 write: %s\n", e.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_TRUE(xsd_valid(3, path));
    size_t len = 0;
    char *doc = tu_read_file(path, &len);
    CU_ASSERT_EQUAL(fmt_tsin_detect(doc, len), FMT_TSIN_003);
    free(doc);
    struct fmt_scf_cancel back;
    fmt_scf_cancel_init(&back);
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    struct fmt_src src = {.path = path};
    CU_ASSERT_EQUAL(fmt_tsin003_read(&src, &back, &d, &e), 0);
    show_diag(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    char *want = dump_cancel(c), *got = dump_cancel(&back);
    CU_ASSERT_TRUE(same_dump(want, got));
    free(want);
    free(got);
    fmt_diag_release(&d);
    fmt_scf_cancel_release(&back);
}

static void test_cancel_roundtrip(void)
{
    struct fmt_scf_cancel c;
    make_cancel_full(&c);
    cancel_roundtrip(&c);
    fmt_scf_cancel_release(&c);
    make_cancel_min(&c);
    cancel_roundtrip(&c);
    fmt_scf_cancel_release(&c);
}

/* ---- what the writers refuse ----------------------------------------------
 */

enum { M_REQ, M_REP, M_CXL };

/* Each case breaks one thing of a valid struct; the writer must fail with
 * the code, name the element, and write nothing. */
static void mutate(int which, int i, void *v);

static const struct refusal {
    int which;
    int code;
    const char *msg; /* a substring of the error */
} refusals[] = {
    {M_REQ, H2H_EINVALID, "ReqGrpInf/FincgRqstr/PtyId: tsin cannot carry"},
    {M_REQ, H2H_EINVALID, "FrstAgt: tsin cannot carry an agent's name"},
    {M_REQ, H2H_EINVALID, "InvcReqInf[2]/Spplr/PtyId: a reverse factoring"},
    {M_REQ, H2H_EINVALID, "InvcReqInf[1]/Buyr/PtyId: the invoice names no"},
    {M_REQ, H2H_EINVALID,
     "InvcReqInf[3]/InvcTtlsInf/TtlInvcAmt: invoice in "
     "USD"},
    {M_REQ, H2H_EINVALID, "InvcReqInf[1]/InvcPmtInf/PmtMtd: \"WIRE\""},
    {M_REQ, H2H_EINVALID, "ReqdAmt/Rate: rate 12.3456789012 has more than 11"},
    {M_REQ, H2H_EINVALID, "InvcReqInf[1]/ReqdAmt: the financing asked is an"},
    {M_REQ, H2H_EINVALID, "GrpId: \"RF-0123456789012345678901234567890123"},
    {M_REQ, H2H_EINVALID, "FincgAcct/Id: account id scheme \"CNAPS\""},
    {M_REQ, H2H_EINVALID, "PstlAdr/Ctry: an address needs its country"},
    {M_REQ, H2H_EINVALID, "AdrLine: more than 5 address lines"},
    {M_REQ, H2H_ECHARSET, "InvcGnlInf/DocNb: control character 0x01"},
    {M_REQ, H2H_EINVALID, "InvcGnlInf/IsseDt"},
    {M_REP, H2H_EINVALID, "status repaid cannot be said in tsin.002"},
    {M_REP, H2H_EINVALID,
     "status approved cannot be said in tsin.002: this "
     "report would read as rejected"},
    {M_REP, H2H_EINVALID, "InvcFincgDtls[1]/InvcFincgRslt/StsRsn/Cd: \"AC99\""},
    {M_REP, H2H_EINVALID, "StsRsn: a reason is a code or a proprietary"},
    {M_REP, H2H_EINVALID, "AddtlStsRsnInf: \"xxxxxxxx"},
    {M_REP, H2H_EINVALID,
     "FincgInfAndSts/FincgAllwdSummry/FincdItmNb: tsin.002 "
     "needs the number"},
    {M_REP, H2H_EINVALID,
     "InvcFincgDtls[2]/OrgnlInvcInf/TtlInvcAmt: tsin.002 "
     "repeats the invoice amount"},
    {M_REP, H2H_EINVALID, "CxlStsInf: a cancellation reason without"},
    {M_CXL, H2H_EINVALID, "CxlReqInf/CxlRsn: \"撤销撤销"},
    {M_CXL, H2H_EINVALID,
     "CxlReqInf/OrgnlCreDtTm: the original request's "
     "creation time is missing"},
    {M_CXL, H2H_EINVALID, "FrstAgt: tsin has room for one proprietary id"},
};

static void mutate(int which, int i, void *v)
{
    struct fmt_scf_request *q = v;
    struct fmt_scf_status_report *r = v;
    struct fmt_scf_cancel *c = v;
    (void)which;
    switch (i) {
    case 0: q->requestor.addr.town = s("深圳"); break;
    case 1: q->bank.name = s("招商银行深圳分行"); break;
    case 2:
        fmt_party_release(&q->invoices[1].seller);
        memset(&q->invoices[1].seller, 0, sizeof(q->invoices[1].seller));
        break;
    case 3:
        fmt_party_release(&q->invoices[0].buyer);
        memset(&q->invoices[0].buyer, 0, sizeof(q->invoices[0].buyer));
        break;
    case 4: memcpy(q->invoices[2].amount.ccy, "USD", 4); break;
    case 5:
        free(q->invoices[0].pmt_method);
        q->invoices[0].pmt_method = s("WIRE");
        break;
    case 6: q->invoices[1].requested_rate = 123456789012LL; break;
    case 7: q->invoices[0].requested_rate = RATE(50); break;
    case 8:
        free(q->request_id);
        q->request_id = s("RF-012345678901234567890123456789012345");
        break;
    case 9:
        free(q->financing_acct.other_scheme);
        q->financing_acct.other_scheme = s("CNAPS");
        break;
    case 10:
        free(q->invoices[0].seller.addr.country);
        q->invoices[0].seller.addr.country = NULL;
        break;
    case 11:
        for (int k = 2; k < 6; k++)
            q->invoices[1].seller.addr.lines[k] = s("line");
        break;
    case 12:
        free(q->invoices[0].number);
        q->invoices[0].number = s("INV\001");
        break;
    case 13:
        free(q->invoices[0].issue_date);
        q->invoices[0].issue_date = s("2025-02-30");
        break;
    case 14: r->status = FMT_SCF_REPAID; break;
    case 15:
        for (size_t k = 0; k < r->n_invoices; k++)
            r->invoices[k].result = FMT_SCF_ITEM_REJECTED;
        free(r->value_date);
        r->value_date = NULL;
        free(r->maturity_date);
        r->maturity_date = NULL;
        free(r->book_date);
        r->book_date = NULL;
        r->status = FMT_SCF_APPROVED;
        break;
    case 16: r->invoices[0].reason.code = s("AC99"); break;
    case 17: r->reason.code = s("NA01"); break;
    case 18:
        free(r->reason.addtl_info);
        r->reason.addtl_info = malloc(200);
        memset(r->reason.addtl_info, 'x', 199);
        r->reason.addtl_info[199] = '\0';
        break;
    case 19: r->n_financed_items = -1; break;
    case 20:
        memset(&r->invoices[1].invoice_amount, 0,
               sizeof(r->invoices[1].invoice_amount));
        break;
    case 21: r->cancel_reason.prtry = s("X"); break;
    case 22:
        free(c->reason);
        c->reason = malloc(106 * 6 + 1);
        c->reason[0] = '\0';
        for (int k = 0; k < 53; k++)
            strcat(c->reason, "撤销");
        break;
    case 23:
        free(c->orgnl_cre_dt_tm);
        c->orgnl_cre_dt_tm = NULL;
        break;
    case 24: c->bank.other_id = s("X-1"); break;
    }
}

static void test_writer_refusals(void)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const struct refusal *t = &refusals[i];
        struct fmt_scf_request q;
        struct fmt_scf_status_report r;
        struct fmt_scf_cancel c;
        void *v = t->which == M_REQ   ? (void *)&q
                  : t->which == M_REP ? (void *)&r
                                      : (void *)&c;
        if (t->which == M_REQ)
            make_request_full(&q);
        else if (t->which == M_REP)
            make_report_financed(&r);
        else
            make_cancel_full(&c);
        mutate(t->which, (int)i, v);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct h2h_err e = {0};
        int rc = t->which == M_REQ   ? fmt_tsin001_write(f, v, &e)
                 : t->which == M_REP ? fmt_tsin002_write(f, v, &e)
                                     : fmt_tsin003_write(f, v, &e);
        fclose(f);
        if (rc != t->code || !strstr(e.msg, t->msg))
            fprintf(stderr, "\nrefusal %zu: rc %d, \"%s\"\n", i, rc, e.msg);
        CU_ASSERT_EQUAL(rc, t->code);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, t->msg));
        CU_ASSERT_EQUAL(len, 0); /* nothing written on error */
        free(buf);
        if (t->which == M_REQ)
            fmt_scf_request_release(&q);
        else if (t->which == M_REP)
            fmt_scf_status_report_release(&r);
        else
            fmt_scf_cancel_release(&c);
    }
}

/* ---- a bank's tsin.002, as sent -------------------------------------------
 */

static int read_fixture002(const char *name, struct fmt_scf_status_report *out,
                           struct fmt_diag *d)
{
    const char *path = tu_fixture("tsin", name);
    CU_ASSERT_TRUE(xsd_valid(2, path));
    fmt_scf_status_report_init(out);
    fmt_diag_init(d, name);
    struct fmt_src src = {.path = path};
    struct h2h_err e = {0};
    int rc = fmt_tsin002_read(&src, out, d, &e);
    if (rc)
        fprintf(stderr, "\n%s: %s\n", name, e.msg);
    return rc;
}

static void test_bank_financed(void)
{
    struct fmt_scf_status_report r, want;
    struct fmt_diag d;
    CU_ASSERT_EQUAL_FATAL(read_fixture002("tsin002_financed.xml", &r, &d), 0);
    show_diag(&d);
    CU_ASSERT_EQUAL(d.n, 0);

    report_base(&want, "ICBCSH-STS-20250305-0007");
    free(want.cre_dt_tm);
    want.cre_dt_tm = s("2025-03-05T10:15:00+08:00");
    want.status = FMT_SCF_FINANCED;
    want.n_financed_items = 2;
    amt(&want.accepted_total, 100000000);
    amt(&want.financed, 80000000);
    want.applied_pctg = RATE(80);
    want.book_date = s("2025-03-05");
    want.value_date = s("2025-03-05");
    want.maturity_date = s("2025-08-01");
    want.credit_acct.other_id = s("1001234509000012345");
    want.credit_acct.type = s("CACC");
    want.credit_acct.ccy = s("CNY");
    want.financing_acct.other_id = s("LN2025030500088");
    want.financing_acct.type = s("LOAN");
    result_add(&want, "INV-001", FMT_SCF_ITEM_ACCEPTED);
    free(want.invoices[0].due_date);
    want.invoices[0].due_date = s("2025-07-01");
    amt(&want.invoices[0].financed, 40000000);
    result_add(&want, "INV-002", FMT_SCF_ITEM_ACCEPTED);
    free(want.invoices[1].due_date);
    want.invoices[1].due_date = s("2025-08-01");
    want.invoices[1].seller.name = s("上海供应商有限公司");
    want.invoices[1].financed_rate = RATE(80);
    char *a = dump_report(&want), *b = dump_report(&r);
    CU_ASSERT_TRUE(same_dump(a, b));
    free(a);
    free(b);
    /* and it agrees with the tracker's rules for this request */
    CU_ASSERT_EQUAL(r.financed.minor, 80000000);
    CU_ASSERT_STRING_EQUAL(r.invoices[1].seller.name, "上海供应商有限公司");
    fmt_scf_status_report_release(&want);
    fmt_scf_status_report_release(&r);
    fmt_diag_release(&d);
}

static void test_bank_rejected(void)
{
    struct fmt_scf_status_report r, want;
    struct fmt_diag d;
    CU_ASSERT_EQUAL_FATAL(read_fixture002("tsin002_rejected.xml", &r, &d), 0);
    show_diag(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    report_base(&want, "CMB-RJ-20250301-113");
    free(want.cre_dt_tm);
    want.cre_dt_tm = s("2025-03-01T09:02:31+08:00");
    free(want.orgnl_request_id);
    want.orgnl_request_id = s("RF-2025-0002");
    want.status = FMT_SCF_REJECTED;
    want.reason.code = s("BE08");
    want.reason.addtl_info = s("融资申请人未与本行签订供应链融资协议\n"
                               "Financing requestor has no agreement with us");
    char *a = dump_report(&want), *b = dump_report(&r);
    CU_ASSERT_TRUE(same_dump(a, b));
    free(a);
    free(b);
    fmt_scf_status_report_release(&want);
    fmt_scf_status_report_release(&r);
    fmt_diag_release(&d);
}

static void test_bank_cancellation(void)
{
    struct fmt_scf_status_report r, want;
    struct fmt_diag d;
    CU_ASSERT_EQUAL_FATAL(read_fixture002("tsin002_cancelled.xml", &r, &d), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    report_base(&want, "BOC-CX-0301-0042");
    free(want.cre_dt_tm);
    want.cre_dt_tm = s("2025-03-02T14:00:00+08:00");
    free(want.orgnl_request_id);
    want.orgnl_request_id = s("RF-2025-0003");
    want.status = FMT_SCF_CANCELLED;
    want.cancel_answer = FMT_SCF_CXL_ACCEPTED;
    want.cancel_reason.prtry = s("CXL-BY-CUSTOMER");
    want.cancel_reason.addtl_info = s("已按客户申请撤销融资申请");
    char *a = dump_report(&want), *b = dump_report(&r);
    CU_ASSERT_TRUE(same_dump(a, b));
    free(a);
    free(b);
    fmt_scf_status_report_release(&want);
    fmt_scf_status_report_release(&r);
    fmt_diag_release(&d);

    /* too late: refused, and the financing stands */
    CU_ASSERT_EQUAL_FATAL(read_fixture002("tsin002_cancel_refused.xml", &r, &d),
                          0);
    CU_ASSERT_EQUAL(d.n, 0);
    report_base(&want, "BOC-CX-0305-0051");
    free(want.cre_dt_tm);
    want.cre_dt_tm = s("2025-03-05T16:30:00+08:00");
    free(want.orgnl_request_id);
    want.orgnl_request_id = s("RF-2025-0004");
    want.status = FMT_SCF_FINANCED;
    want.cancel_answer = FMT_SCF_CXL_REFUSED;
    want.cancel_reason.code = s("CA03");
    want.cancel_reason.addtl_info = s("融资已放款，无法撤销");
    want.n_financed_items = 1;
    amt(&want.accepted_total, 30000000);
    amt(&want.financed, 24000000);
    want.value_date = s("2025-03-05");
    result_add(&want, "FP-88001234", FMT_SCF_ITEM_ACCEPTED);
    amt(&want.invoices[0].invoice_amount, 30000000);
    free(want.invoices[0].issue_date);
    want.invoices[0].issue_date = s("2025-02-10");
    free(want.invoices[0].due_date);
    want.invoices[0].due_date = s("2025-06-10");
    amt(&want.invoices[0].financed, 24000000);
    a = dump_report(&want);
    b = dump_report(&r);
    CU_ASSERT_TRUE(same_dump(a, b));
    free(a);
    free(b);
    fmt_scf_status_report_release(&want);
    fmt_scf_status_report_release(&r);
    fmt_diag_release(&d);
}

/* Instalments are reported, never silently dropped; the rest is read. */
static void test_instalments(void)
{
    struct fmt_scf_status_report r;
    struct fmt_diag d;
    CU_ASSERT_EQUAL_FATAL(read_fixture002("tsin002_instalments.xml", &r, &d),
                          0);
    CU_ASSERT_EQUAL_FATAL(d.n, 1);
    CU_ASSERT_STRING_EQUAL(d.v[0].rule, "tsin.instalment.unsupported");
    CU_ASSERT_EQUAL(d.v[0].line, 33);
    CU_ASSERT_STRING_EQUAL(d.v[0].where,
                           "FincgInfAndSts/InvcFincgDtls[1]/InstlmtFincgInf");
    CU_ASSERT_EQUAL(r.status, FMT_SCF_UNDER_REVIEW);
    CU_ASSERT_EQUAL(r.n_invoices, 1);
    CU_ASSERT_EQUAL(r.n_financed_items, 0);
    CU_ASSERT_EQUAL(r.accepted_total.minor, 0);
    CU_ASSERT_STRING_EQUAL(r.accepted_total.ccy, "CNY");
    CU_ASSERT_EQUAL(r.financed.ccy[0], '\0'); /* 0 financed: absent */
    fmt_scf_status_report_release(&r);
    fmt_diag_release(&d);

    const char *path = tu_fixture("tsin", "tsin001_instalments.xml");
    CU_ASSERT_TRUE(xsd_valid(1, path));
    struct fmt_scf_request q = {0};
    fmt_diag_init(&d, "tsin001_instalments.xml");
    struct fmt_src src = {.path = path};
    CU_ASSERT_EQUAL(fmt_tsin001_read(&src, &q, &d, NULL), 0);
    static const struct {
        const char *rule, *where;
        int line;
    } want[] = {
        {"tsin.element.unsupported", "ReqGrpInf/Authstn", 9},
        {"tsin.instalment.unsupported", "InvcReqInf[1]/InstlmtInf", 34},
        {"tsin.instalment.unsupported", "InvcReqInf[1]/InstlmtInf", 39},
        {"tsin.element.unsupported", "InvcReqInf[1]/Spplr/CtctInf", 48},
    };
    CU_ASSERT_EQUAL_FATAL(d.n, 4);
    for (size_t i = 0; i < 4; i++) {
        CU_ASSERT_STRING_EQUAL(d.v[i].rule, want[i].rule);
        CU_ASSERT_STRING_EQUAL(d.v[i].where, want[i].where);
        CU_ASSERT_EQUAL(d.v[i].line, want[i].line);
    }
    /* everything else was read; the supplier is the requestor */
    CU_ASSERT_STRING_EQUAL(q.request_id, "RF-2025-0099");
    CU_ASSERT_EQUAL(q.n_invoices, 1);
    CU_ASSERT_EQUAL(q.invoices[0].amount.minor, 12000000);
    CU_ASSERT_EQUAL(q.invoices[0].taxable.minor, 10619469);
    CU_ASSERT_EQUAL(q.invoices[0].tax.minor, 1380531);
    CU_ASSERT_PTR_NULL(q.invoices[0].seller.name);
    CU_ASSERT_STRING_EQUAL(q.invoices[0].buyer.name, "华南电器制造有限公司");
    CU_ASSERT_EQUAL(q.kind, FMT_SCF_RECEIVABLE);
    fmt_scf_request_release(&q);
    fmt_diag_release(&d);
}

/* ---- broken input ----------------------------------------------------------
 */

/* A document and its reader. */
static char *written(int msg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct h2h_err e = {0};
    int rc = -1;
    if (msg == 1) {
        struct fmt_scf_request q;
        make_request_full(&q);
        rc = fmt_tsin001_write(f, &q, &e);
        fmt_scf_request_release(&q);
    } else if (msg == 2) {
        struct fmt_scf_status_report r;
        make_report_financed(&r);
        rc = fmt_tsin002_write(f, &r, &e);
        fmt_scf_status_report_release(&r);
    } else {
        struct fmt_scf_cancel c;
        make_cancel_full(&c);
        rc = fmt_tsin003_write(f, &c, &e);
        fmt_scf_cancel_release(&c);
    }
    fclose(f);
    CU_ASSERT_EQUAL(rc, 0);
    return buf;
}

/* doc with the first `from` replaced by `to`; NULL when from is absent. */
static char *subst(const char *doc, const char *from, const char *to)
{
    const char *p = strstr(doc, from);
    if (!p)
        return NULL;
    size_t a = (size_t)(p - doc), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(doc) - fl + tl + 1);
    memcpy(out, doc, a);
    memcpy(out + a, to, tl);
    strcpy(out + a + tl, p + fl);
    return out;
}

static int line_of(const char *doc, const char *marker)
{
    const char *p = strstr(doc, marker);
    int n = 1;
    if (!p)
        return -1;
    for (const char *q = doc; q < p; q++)
        n += *q == '\n';
    return n;
}

static int read_any(int msg, const char *doc, struct fmt_diag *d,
                    struct h2h_err *e)
{
    struct fmt_src src = {.buf = doc, .len = strlen(doc), .name = "t"};
    int rc;
    if (msg == 1) {
        struct fmt_scf_request q = {0};
        rc = fmt_tsin001_read(&src, &q, d, e);
        fmt_scf_request_release(&q);
    } else if (msg == 2) {
        struct fmt_scf_status_report r;
        fmt_scf_status_report_init(&r);
        rc = fmt_tsin002_read(&src, &r, d, e);
        fmt_scf_status_report_release(&r);
    } else {
        struct fmt_scf_cancel c;
        fmt_scf_cancel_init(&c);
        rc = fmt_tsin003_read(&src, &c, d, e);
        fmt_scf_cancel_release(&c);
    }
    return rc;
}

static const struct broken {
    int msg;
    const char *from, *to;
    int rc;             /* expected return */
    const char *rule;   /* the one problem expected, NULL: none */
    const char *marker; /* the problem is on this text's line... */
    int dline;          /* ...plus this */
    const char *where;  /* its element path, NULL: none */
    int xsd_bad;        /* the schema refuses the document too */
} broken[] = {
    /* refused as a whole */
    {1, "tsin.001.001.01\">", "tsin.002.001.01\">", H2H_EUNSUPPORTED,
     "tsin.namespace", "<Document", 0, NULL, 1},
    {3, "tsin.003.001.01\">", "pain.001.001.03\">", H2H_EUNSUPPORTED,
     "tsin.namespace", "<Document", 0, NULL, 1},
    {1, "<InvcFincgReq>", "<CstmrCdtTrfInitn>", H2H_EUNSUPPORTED, "tsin.root",
     "<CstmrCdtTrfInitn>", 0, NULL, 1},
    {2, "<Document ", "<Doc ", H2H_EUNSUPPORTED, "tsin.root", "<Doc ", 0, NULL,
     1},
    {1, "<Document", "<!DOCTYPE d [<!ENTITY x \"y\">]>\n<Document",
     H2H_ESECURITY, "tsin.xml", "<!DOCTYPE", 0, NULL, 0},
    {2, "</StsId>", "</StsIdd>", H2H_EPARSE, "tsin.xml", "</StsIdd>", 0, NULL,
     1},
    /* read, with one problem each */
    {1, "<TtlInvcAmt Ccy=\"CNY\">565000.00<",
     "<TtlInvcAmt Ccy=\"CNY\">565000.001<", 0, "tsin.amount.invalid",
     "565000.001", 0, "InvcReqInf[1]/InvcTtlsInf/TtlInvcAmt", 0},
    {1, "<TtlTaxAmt Ccy=\"CNY\">65000.00<", "<TtlTaxAmt Ccy=\"CNX\">65000.00<",
     0, "tsin.amount.ccy", "CNX", 0, "InvcReqInf[1]/InvcTtlsInf/TtlTaxAmt", 0},
    {2, "<TtlAccptdItmsAmt Ccy=\"CNY\">1000000.00<",
     "<TtlAccptdItmsAmt Ccy=\"CNY\">-1000000.00<", 0, "tsin.amount.invalid",
     "-1000000.00", 0, "FincgInfAndSts/FincgAllwdSummry/TtlAccptdItmsAmt", 1},
    {1, "      <GrpId>RF-2025-0001</GrpId>\n", "", 0, "tsin.element.missing",
     "<ReqGrpInf>", 0, "ReqGrpInf/GrpId", 1},
    {2, "<FincgReqSts>NTFD</FincgReqSts>", "<!-- gone -->", 0,
     "tsin.element.missing", "<!-- gone -->", -1,
     "FincgInfAndSts/InvcFincgDtls[3]/InvcFincgRslt/FincgReqSts", 1},
    {3, "<CxlRsn>采购合同已解除，撤销融资申请</CxlRsn>", "", 0,
     "tsin.element.missing", "<CxlReqInf>", 0, "CxlReqInf/CxlRsn", 1},
    {1, "<DocTp>CINV</DocTp>", "<DocTp>CINV</DocTp><Foo>1</Foo>", 0,
     "tsin.element.unknown", "<Foo>", 0, "InvcReqInf[1]/InvcGnlInf/Foo", 1},
    {2, "<VldtnStsInf>", "<VldtnStsInf>\n<Foo>bar</Foo>", 0,
     "tsin.element.unknown", "<Foo>", 0, "OrgnlReqInfAndSts/VldtnStsInf/Foo",
     1},
    {3, "<CxlRsn>", "<Authstn>x</Authstn><CxlRsn>", 0, "tsin.element.unknown",
     "<Authstn>", 0, "CxlReqInf/Authstn", 1},
    {1, "<CreDtTm>", "<Authstn>APPROVER</Authstn>\n      <CreDtTm>", 0,
     "tsin.element.unsupported", "<Authstn>", 0, "ReqGrpInf/Authstn", 1},
    {1, "<IsseDt>2025-02-01</IsseDt>", "<IsseDt>2025-02-30</IsseDt>", 0,
     "tsin.date.invalid", "2025-02-30", 0, "InvcReqInf[1]/InvcGnlInf/IsseDt",
     1},
    {3, "<CreDtTm>2025-03-02T11:00:00+08:00<", "<CreDtTm>2025-03-02 11:00<", 0,
     "tsin.datetime.invalid", "2025-03-02 11:00", 0, "CxlReqId/CreDtTm", 1},
    {1, "<NbOfInvcReqs>3<", "<NbOfInvcReqs>4<", 0, "tsin.count.mismatch",
     "<NbOfInvcReqs>", 0, "ReqGrpInf/NbOfInvcReqs", 0},
    {1, ">1500000.00</TtlBlkInvcAmt>", ">1500000.01</TtlBlkInvcAmt>", 0,
     "tsin.sum.mismatch", "<TtlBlkInvcAmt", 0, "ReqGrpInf/TtlBlkInvcAmt", 0},
    {1, "<GrpId>RF-2025-0001</GrpId>",
     "<GrpId>RF-2025-0001</GrpId><GrpId>again</GrpId>", 0,
     "tsin.element.repeated", "<GrpId>", 0, "ReqGrpInf/GrpId", 1},
    {2, "<FincgReqSts>FNCD<", "<FincgReqSts>OK<", 0, "tsin.code.invalid",
     "<FincgReqSts>OK<", 0,
     "FincgInfAndSts/InvcFincgDtls[1]/InvcFincgRslt/FincgReqSts", 1},
    {2, "<Rate>80</Rate>", "<Rate>80.00000000001</Rate>", 0,
     "tsin.rate.invalid", "80.00000000001", 0,
     "FincgInfAndSts/InvcFincgDtls[2]/InvcFincgRslt/FincdAmt/Rate", 1},
    {1, "<Prtry>H2H:PRODUCT</Prtry>", "<Prtry>BANK:PRODUCT</Prtry>", 0,
     "tsin.addtlinf.unsupported", "<Prtry>BANK:PRODUCT", -2,
     "ReqGrpInf/AddtlInf[2]", 0},
    {1, "<Prtry>TAXCODE</Prtry>", "<Prtry>PO</Prtry>", 0,
     "tsin.element.unsupported", "<Prtry>PO<", -2, "InvcReqInf[1]/RfrdDoc[2]",
     0},
    {2, "<BookDt>2025-03-04</BookDt>",
     "<BookDt>2025-03-04</BookDt><BookDt>2025-03-05</BookDt>", 0,
     "tsin.element.unsupported", "<BookDt>", 0,
     "FincgInfAndSts/FincgAllwdSummry/FincgDtDtls/BookDt", 0},
    {1, "<InfVal>reverse_factoring</InfVal>", "<InfVal>factoring</InfVal>", 0,
     "tsin.code.invalid", "<InfVal>factoring", -4,
     "ReqGrpInf/AddtlInf[1]/InfVal", 0},
    {1, "<Prtry>H2H:PRODUCT</Prtry>", "<Prtry>H2H:KIND</Prtry>", 0,
     "tsin.element.repeated", "<InfVal>FXBL-01", -4, "ReqGrpInf/AddtlInf[2]",
     0},
    {3, "<CxlRsn>采购合同已解除，撤销融资申请</CxlRsn>", "<CxlRsn/>", 0,
     "tsin.element.missing", "<CxlRsn/>", 0, "CxlReqInf/CxlRsn", 1},
    {1, "<DocTp>CINV</DocTp>",
     "<DocTp>CINV</DocTp><x:Ext xmlns:x=\"urn:bank:ext\">1</x:Ext>", 0,
     "tsin.namespace", "<x:Ext", 0, "InvcReqInf[1]/InvcGnlInf/Ext", 1},
    {1, "<AdrLine>Tianhe District</AdrLine>",
     "<AdrLine>Tianhe District</AdrLine><AdrLine>a</AdrLine><AdrLine>b"
     "</AdrLine><AdrLine>c</AdrLine><AdrLine>d</AdrLine>",
     0, "tsin.element.repeated", "<AdrLine>Tianhe", 0,
     "InvcReqInf[2]/Spplr/PtyId/PstlAdr/AdrLine", 1},
    {1, "<TaxIdNb>91440300MA5EXXXX1Q</TaxIdNb>",
     "<TaxIdNb>91440300MA5EXXXX1Q</TaxIdNb><PrtryId><Id>X-2</Id></PrtryId>", 0,
     "tsin.element.unsupported", "<TaxIdNb>", 0,
     "InvcReqInf[1]/Spplr/PtyId/Id/OrgId/PrtryId/Id", 0},
    {1, "<IdTp>NOTPROVIDED</IdTp>", "<IdTp>IDCD</IdTp>", 0,
     "tsin.element.unsupported", "<IdTp>IDCD", -6, "ReqGrpInf/FrstAgt/PrtryId",
     0},
    {1, "<DocNb>CG-2025-0007</DocNb>", "", 0, "tsin.element.missing",
     "<Cd>CMCN</Cd>", -2, "InvcReqInf[1]/RfrdDoc[1]/DocNb", 0},
    /* the control: unchanged, valid, no problem */
    {1, "<CtryOfRes>CN</CtryOfRes>", "<CtryOfRes>CN</CtryOfRes>", 0, NULL, NULL,
     0, NULL, 0},
};

static void test_broken_inputs(void)
{
    char *docs[4] = {NULL, written(1), written(2), written(3)};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        const struct broken *t = &broken[i];
        char *doc = subst(docs[t->msg], t->from, t->to);
        if (!doc)
            fprintf(stderr, "\ncase %zu: \"%s\" not in the document\n", i,
                    t->from);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        /* The schema agrees where it can tell (a count or a currency
         * code it cannot check), and passes the control. */
        const char *dir = tu_mkdtemp();
        char path[600];
        snprintf(path, sizeof(path), "%s/b.xml", dir);
        int valid = tu_xsd_valid_doc(xsd(t->msg), path, doc) == 0;
        if (valid == t->xsd_bad)
            fprintf(stderr, "\ncase %zu: xmllint says %s\n", i,
                    valid ? "valid" : "invalid");
        CU_ASSERT_EQUAL(valid, !t->xsd_bad);

        struct fmt_diag d;
        fmt_diag_init(&d, "t");
        struct h2h_err e = {0};
        int rc = read_any(t->msg, doc, &d, &e);
        size_t want_n = t->rule ? 1 : 0;
        if (rc != t->rc || d.n != want_n ||
            (t->rule && strcmp(d.v[0].rule, t->rule))) {
            fprintf(stderr, "\ncase %zu (%s): rc %d (%s)\n", i,
                    t->rule ? t->rule : "control", rc, e.msg);
            fmt_diag_print(&d, stderr);
        }
        CU_ASSERT_EQUAL(rc, t->rc);
        CU_ASSERT_EQUAL(d.n, want_n);
        if (t->rule && d.n >= 1) {
            CU_ASSERT_STRING_EQUAL(d.v[0].rule, t->rule);
            CU_ASSERT_EQUAL(d.v[0].line, line_of(doc, t->marker) + t->dline);
            if (t->where) {
                CU_ASSERT_STRING_EQUAL(d.v[0].where ? d.v[0].where : "",
                                       t->where);
            } else {
                CU_ASSERT_PTR_NULL(d.v[0].where);
            }
            if (t->rc) {
                CU_ASSERT_EQUAL(e.code, t->rc);
            }
        }
        fmt_diag_release(&d);
        free(doc);
    }
    for (int m = 1; m <= 3; m++)
        free(docs[m]);
}

/* Banks send documents without xmlns; the element names suffice. */
static void test_no_namespace(void)
{
    char *doc = written(2);
    char *bare = subst(doc,
                       " xmlns=\"urn:iso:std:iso:20022:tech:xsd:"
                       "tsin.002.001.01\"",
                       "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(bare);
    CU_ASSERT_EQUAL(fmt_tsin_detect(bare, strlen(bare)), FMT_TSIN_002);
    struct fmt_scf_status_report r, want;
    fmt_scf_status_report_init(&r);
    struct fmt_diag d;
    fmt_diag_init(&d, "bare");
    struct fmt_src src = {.buf = bare, .len = strlen(bare)};
    CU_ASSERT_EQUAL(fmt_tsin002_read(&src, &r, &d, NULL), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    make_report_financed(&want);
    char *a = dump_report(&want), *b = dump_report(&r);
    CU_ASSERT_TRUE(same_dump(a, b));
    free(a);
    free(b);
    /* ...but the tsin.002 reader does not read a tsin.001 */
    char *req = written(1);
    fmt_diag_release(&d);
    fmt_diag_init(&d, "req");
    struct fmt_src src2 = {.buf = req, .len = strlen(req)};
    struct h2h_err e = {0};
    CU_ASSERT_EQUAL(fmt_tsin002_read(&src2, &r, &d, &e), H2H_EUNSUPPORTED);
    CU_ASSERT_TRUE(tu_diag_has(&d, "tsin.namespace", 0, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "tsin.002"));
    fmt_scf_status_report_release(&r);
    fmt_scf_status_report_release(&want);
    fmt_diag_release(&d);
    free(req);
    free(bare);
    free(doc);
}

static void test_detect(void)
{
    static const struct {
        const char *doc;
        int want;
    } t[] = {
        {"<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:"
         "tech:xsd:tsin.001.001.01\"><InvcFincgReq/></Document>",
         FMT_TSIN_001},
        {"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:tsin.003.001.01'>",
         FMT_TSIN_003},
        {"<Document><InvcFincgReqSts>", FMT_TSIN_002},
        {"<Document><InvcFincgCxlReq>", FMT_TSIN_003},
        {"<Document>\n<InvcFincgReq>", FMT_TSIN_001},
        {"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">"
         "<CstmrCdtTrfInitn>",
         FMT_TSIN_NONE},
        {"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:tsin.004.001.01\">",
         FMT_TSIN_NONE},
        {"", FMT_TSIN_NONE},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        CU_ASSERT_EQUAL(fmt_tsin_detect(t[i].doc, strlen(t[i].doc)), t[i].want);
    CU_ASSERT_EQUAL(fmt_tsin_detect(NULL, 0), FMT_TSIN_NONE);
    char *doc = written(2);
    CU_ASSERT_EQUAL(fmt_tsin_detect(doc, strlen(doc)), FMT_TSIN_002);
    free(doc);
}

/* A bank dialect's report carries terms but no per-invoice details: the
 * request supplies what tsin.002 repeats. */
static void test_complete(void)
{
    struct fmt_scf_request q;
    make_request_full(&q);
    struct fmt_scf_status_report r;
    report_base(&r, "DIALECT-1");
    r.status = FMT_SCF_FINANCED;
    amt(&r.financed, 120000000);
    r.value_date = s("2025-03-05");
    r.loan_ref = s("LN-77"); /* dialect only: not written */
    r.interest_rate = RATE(3) + 450000000;
    struct h2h_err e = {0};
    /* as it is, tsin.002 cannot say it */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(fmt_tsin002_write(f, &r, &e), H2H_EINVALID);
    fclose(f);
    free(buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "fmt_tsin002_complete"));

    CU_ASSERT_EQUAL_FATAL(fmt_tsin002_complete(&r, &q, &e), 0);
    CU_ASSERT_EQUAL(r.n_invoices, 3);
    CU_ASSERT_EQUAL(r.n_financed_items, 3);
    CU_ASSERT_EQUAL(r.accepted_total.minor, 150000000);
    CU_ASSERT_STRING_EQUAL(r.invoices[2].number, "440324113000000102");
    CU_ASSERT_STRING_EQUAL(r.invoices[2].due_date, "2025-09-30");
    CU_ASSERT_EQUAL(r.invoices[0].result, FMT_SCF_ITEM_ACCEPTED);
    CU_ASSERT_STRING_EQUAL(r.invoices[0].seller.name,
                           "深圳市前海供应链科技有限公司");
    const char *path = write_tmp(w002, &r, "c.xml", &e);
    if (!path)
        fprintf(stderr, "\ncompleted: %s\n", e.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_TRUE(xsd_valid(2, path));
    struct fmt_scf_status_report back;
    fmt_scf_status_report_init(&back);
    struct fmt_src src = {.path = path};
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_tsin002_read(&src, &back, &d, &e), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(back.status, FMT_SCF_FINANCED);
    CU_ASSERT_PTR_NULL(back.loan_ref);
    CU_ASSERT_EQUAL(back.interest_rate, -1);
    /* the dialect-only fields aside, the same report */
    free(r.loan_ref);
    r.loan_ref = NULL;
    r.interest_rate = -1;
    char *a = dump_report(&r), *b = dump_report(&back);
    CU_ASSERT_TRUE(same_dump(a, b));
    free(a);
    free(b);
    fmt_diag_release(&d);
    fmt_scf_status_report_release(&back);
    fmt_scf_status_report_release(&r);

    /* results that lack dates get them; an unknown invoice fails and
     * changes nothing */
    report_base(&r, "DIALECT-2");
    r.status = FMT_SCF_APPROVED;
    result_add(&r, "440324113000000101", FMT_SCF_ITEM_ACCEPTED);
    free(r.invoices[0].issue_date);
    r.invoices[0].issue_date = NULL;
    memset(&r.invoices[0].invoice_amount, 0, sizeof(struct fmt_amount));
    result_add(&r, "NOT-IN-REQUEST", FMT_SCF_ITEM_REJECTED);
    char *before = dump_report(&r);
    CU_ASSERT_EQUAL(fmt_tsin002_complete(&r, &q, &e), H2H_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "NOT-IN-REQUEST"));
    char *after = dump_report(&r);
    CU_ASSERT_STRING_EQUAL(before, after);
    free(before);
    free(after);
    free(r.invoices[1].number);
    r.invoices[1].number = s("440324113000000102");
    CU_ASSERT_EQUAL(fmt_tsin002_complete(&r, &q, &e), 0);
    CU_ASSERT_STRING_EQUAL(r.invoices[0].issue_date, "2025-02-01");
    CU_ASSERT_EQUAL(r.invoices[0].invoice_amount.minor, 56500000);
    CU_ASSERT_EQUAL(r.n_financed_items, 1);
    CU_ASSERT_EQUAL(r.accepted_total.minor, 56500000);
    /* another request's report is refused */
    free(r.orgnl_request_id);
    r.orgnl_request_id = s("RF-OTHER");
    CU_ASSERT_EQUAL(fmt_tsin002_complete(&r, &q, &e), H2H_EINVALID);
    fmt_scf_status_report_release(&r);
    fmt_scf_request_release(&q);
}

static const struct tu_case cases[] = {
    {"tsin.001 round trips (full, minimal, 3-decimal currency)",
     test_request_roundtrip},
    {"tsin.002 round trips (every status)", test_report_roundtrip},
    {"tsin.003 round trips (full, minimal)", test_cancel_roundtrip},
    {"writers refuse what tsin cannot carry", test_writer_refusals},
    {"bank tsin.002: financed per invoice", test_bank_financed},
    {"bank tsin.002: rejected with reason", test_bank_rejected},
    {"bank tsin.002: cancellation answered", test_bank_cancellation},
    {"instalments reported, not dropped", test_instalments},
    {"broken inputs: rule, line and path", test_broken_inputs},
    {"documents without namespace", test_no_namespace},
    {"detect", test_detect},
    {"complete a dialect report from its request", test_complete},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_tsin", cases);
}
