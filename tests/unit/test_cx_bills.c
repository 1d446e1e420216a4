/*
 * test_cx_bills.c - the cnbank_xml adapter's bill pool and supply-chain
 * finance functions (adapters/cnbank_xml/cx_bill.c, cx_scf.c; PROFILE.md
 * "Bill pool and supply-chain finance") on both shipped profiles:
 *   - every operation's request built from the fixtures in
 *     tests/fixtures/bills and tests/fixtures/scf, and each element the
 *     profile gives a token checked for its exact value (amounts in the
 *     profile's unit, dates in its format, codes from its value tables,
 *     empty elements for what does not apply);
 *   - answers made here from the profile's result paths, read back and
 *     turned into <BillResult> / <BillNotice> / <ScfResult> documents,
 *     which are read with the canonical readers and compared field by
 *     field; a status no table lists makes the answer unusable;
 *   - refusals before anything is sent: a party name GBK cannot encode,
 *     an amount with three decimals, a missing required value, a family
 *     the profile lacks.
 * Requests are built unsigned (a copy of the profile with signature
 * "none"): signatures are test_cx_msg's business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "canon_bill.h"
#include "canon_scf.h"
#include "cx_int.h"
#include "settings.h"
#include "testutil.h"

#define OURS "755912345610001"

static const char *const files[2] = {"etc/cnbank/cmb-style.profile",
                                     "etc/cnbank/icbc-style.profile"};
static struct cx_profile *P[2];
static struct cx X[2];
static char *accounts[1] = {OURS};

static void report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  profile line %d: %s\n",
            s ? config_setting_source_line(s) : 0, msg);
}

static int setup(void)
{
    for (int i = 0; i < 2; i++) {
        struct aset a = {.report = report_cb, .group = "cnbank_xml"};
        if (cx_profile_load(tu_src(files[i]), &a, NULL, &P[i]) != 0)
            return -1;
        memset(&X[i], 0, sizeof(X[i]));
        X[i].p = P[i];
        X[i].s.accounts = accounts;
        X[i].s.n_accounts = 1;
        X[i].s.login = "H2HCORP01";
        X[i].s.user = "H2HCORP01";
        X[i].s.serial_prefix = "H2H";
        X[i].base.bank = i ? "icbc1" : "cmb1";
    }
    return 0;
}

static int teardown(void)
{
    for (int i = 0; i < 2; i++)
        cx_profile_free(P[i]);
    return 0;
}

/* ---- building ------------------------------------------------------------ */

struct built {
    xmlDocPtr doc;
    enum cx_fn fn;
    struct cx_plan pl;
    struct cx_profile *p;
    struct cx_common com;
    int rc;
    struct h2h_err err;
};

static void fill_common(const struct cx_profile *p, struct cx_plan *pl,
                        struct cx_common *com)
{
    snprintf(com->request_id, sizeof(com->request_id), "QTEST%d", 1);
    cx_bank_now(p, com->date, sizeof(com->date), com->time, sizeof(com->time));
    pl->v.v[CX_T_FUNCTION] = p->fn[pl->fn].code;
    pl->v.v[CX_T_LOGIN] = "H2HCORP01";
    pl->v.v[CX_T_USER] = "H2HCORP01";
    pl->v.v[CX_T_REQUEST_ID] = com->request_id;
    pl->v.v[CX_T_DATE] = com->date;
    pl->v.v[CX_T_TIME] = com->time;
}

static int no_serial(void *data, const char *req_id, char *serial, size_t n)
{
    (void)data;
    if (strcmp(req_id, "AR-2025-0042") && strcmp(req_id, "RF-2025-0301"))
        return -1;
    snprintf(serial, n, "H2HM20250301-000011");
    return 0;
}

/* Plan and build fixture (or a file) for bank i, unsigned. */
static void build(int i, const char *fam, const char *path, struct built *b)
{
    memset(b, 0, sizeof(*b));
    b->p = malloc(sizeof(*b->p));
    *b->p = *P[i];
    b->p->sig_where = CX_SIG_NONE;
    const char *serial = "H2HM20240301-000007";
    if (strcmp(fam, "bill") == 0)
        b->rc = cx_bill_plan(&X[i], path, serial, &b->pl, &b->err);
    else
        b->rc =
            cx_scf_plan(&X[i], path, serial, no_serial, NULL, &b->pl, &b->err);
    if (b->rc)
        return;
    b->fn = b->pl.fn;
    fill_common(P[i], &b->pl, &b->com);
    struct cx_request rq = {0};
    b->rc = cx_request_build(b->p, b->fn, &b->pl.v, b->pl.items, b->pl.n_items,
                             NULL, &rq, &b->err);
    if (b->rc)
        return;
    b->doc =
        xmlReadMemory(rq.body, (int)rq.len, "rq.xml", NULL, XML_PARSE_NONET);
    CU_ASSERT_PTR_NOT_NULL(b->doc);
    cx_request_release(&rq);
}

static void built_free(struct built *b)
{
    if (b->doc)
        xmlFreeDoc(b->doc);
    cx_plan_release(&b->pl);
    free(b->p);
}

static xmlNodePtr child(xmlNodePtr n, const char *name, size_t len)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strlen((const char *)c->name) == len && !memcmp(c->name, name, len))
            return c;
    return NULL;
}

static xmlNodePtr at(xmlNodePtr base, const char *path)
{
    xmlNodePtr n = base;
    for (const char *s = path; n && *s;) {
        const char *e = strchr(s, '/');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        n = child(n, s, l);
        s = e ? e + 1 : s + l;
    }
    return n;
}

/* The text of the element that carries "{tok}" alone, or NULL when the
 * function's request has no such entry; "(absent)" when the element is
 * missing from the request. */
static char *tokval(struct built *b, const char *tok, int item)
{
    static char missing[] = "(absent)";
    const struct cx_function *f = &b->p->fn[b->fn];
    char want[64];
    snprintf(want, sizeof(want), "{%s}", tok);
    xmlNodePtr root = xmlDocGetRootElement(b->doc);
    const struct cx_entry *v = item ? f->item : f->request;
    size_t n = item ? f->n_item : f->n_request;
    xmlNodePtr base = at(root, b->p->body);
    if (item) {
        /* the first item element */
        base = at(base, f->items);
    }
    for (size_t k = 0; k < n; k++)
        if (strcmp(v[k].tmpl, want) == 0) {
            xmlNodePtr e = at(base, v[k].path);
            if (!e)
                return missing;
            xmlChar *t = xmlNodeGetContent(e);
            char *r = strdup((const char *)t);
            xmlFree(t);
            return r;
        }
    for (size_t k = 0; k < f->n_header; k++)
        if (strcmp(f->header[k].tmpl, want) == 0) {
            xmlNodePtr e = at(root, f->header[k].path);
            if (!e)
                return missing;
            xmlChar *t = xmlNodeGetContent(e);
            char *r = strdup((const char *)t);
            xmlFree(t);
            return r;
        }
    return NULL;
}

/* Expected values: "A:5000.00" an amount (yuan) in the profile's unit;
 * "D:2024-03-05" a date in its format; "T:table:name" a table value;
 * "Y" / "N" its yes / no; anything else literally ("" empty). */
static void expect_tok(struct built *b, int i, const char *label,
                       const char *tok, const char *want, int item)
{
    char buf[128];
    const struct cx_profile *p = P[i];
    if (strncmp(want, "A:", 2) == 0) {
        int64_t m;
        struct cx_profile yuan = *p;
        yuan.amount_fen = 0;
        CU_ASSERT_EQUAL_FATAL(cx_amount_to_minor(&yuan, want + 2, &m, NULL), 0);
        cx_amount_format(p, m, buf, sizeof(buf));
        want = buf;
    } else if (strncmp(want, "D:", 2) == 0) {
        cx_date_format(p, want + 2, buf, sizeof(buf));
        want = buf;
    } else if (strncmp(want, "T:", 2) == 0) {
        const char *tn = want + 2, *name = strchr(tn, ':') + 1;
        const struct cx_table *t =
            !strncmp(tn, "bill_ops", 8)           ? &p->t_bill_ops
            : !strncmp(tn, "draft_kinds", 11)     ? &p->t_draft_kinds
            : !strncmp(tn, "draft_status", 12)    ? &p->t_draft_status
            : !strncmp(tn, "financing_kinds", 15) ? &p->t_fin_kinds
                                                  : &p->t_voucher_ops;
        snprintf(buf, sizeof(buf), "%s", cx_tab_bank(t, name));
        want = buf;
    } else if (!strcmp(want, "Y") || !strcmp(want, "N")) {
        want = *want == 'Y' ? p->yes : p->no;
    }
    char *got = tokval(b, tok, item);
    if (!got) {
        fprintf(stderr, "  %s (%s): profile has no {%s}\n", label,
                i ? "icbc" : "cmb", tok);
        CU_FAIL("token not in the profile");
        return;
    }
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "  %s (%s): {%s} is \"%s\", want \"%s\"\n", label,
                i ? "icbc" : "cmb", tok, got, want);
        CU_FAIL("token value");
    } else {
        CU_PASS("token value");
    }
    if (strcmp(got, "(absent)") != 0)
        free(got);
}

struct tv {
    const char *tok, *want;
};

struct op_case {
    const char *fam, *fixture;
    enum cx_fn fn;
    struct tv tv[30];
    struct tv item[12]; /* the first item (invoices) */
};

/* the case table leaves unused expectations out */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define EMPTY_BILL_ISSUE                                                       \
    {"draft_kind", ""}, {"issue_date", ""}, {"transferable", ""},              \
        {"divisible", ""}, {"acceptor_name", ""},                              \
    {                                                                          \
        "payee_name", ""                                                       \
    }

static const struct op_case ops[] = {
    {"bill",
     "tests/fixtures/bills/issue.xml",
     CX_FN_BILL_OPERATION,
     {{"serial", "H2HM20240301-000007"},
      {"bill_op", "T:bill_ops:issue"},
      {"draft_no", ""},
      {"amount", "A:10000.00"},
      {"our_account", "110000000000000001"},
      {"draft_kind", "T:draft_kinds:AC02"},
      {"issue_date", "D:2024-01-15"},
      {"maturity_date", "D:2024-07-15"},
      {"transferable", "Y"},
      {"divisible", "Y"},
      {"acceptor_name", "华东贸易有限公司"},
      {"acceptor_account", "110000000000000001"},
      {"acceptor_bank", "102100099996"},
      {"payee_name", "江南供应链管理有限公司"},
      {"payee_account", "220000000000000002"},
      {"payee_bank", "103100000026"},
      {"cpty_name", ""},
      {"rate", ""},
      {"notice_id", ""},
      {"memo", "2024年1月货款"}}},
    {"bill",
     "tests/fixtures/bills/endorse.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:endorse"},
      {"draft_no", "530158000001202401150000123456"},
      {"sub_from", "1"},
      {"sub_to", "500000"},
      {"amount", "A:5000.00"},
      {"cpty_name", "岭南配件有限公司"},
      {"cpty_account", "330000000000000003"},
      {"cpty_bank", "104100000045"},
      {"our_account", ""},
      {"memo", "支付配件款"},
      EMPTY_BILL_ISSUE}},
    {"bill",
     "tests/fixtures/bills/discount.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:discount"},
      {"sub_from", ""},
      {"amount", ""},
      {"cpty_name", "宁波银行股份有限公司"},
      {"cpty_account", ""},
      {"cpty_bank", "313332082914"},
      {"rate", "1.35"},
      {"op_date", "D:2024-03-05"},
      {"our_account", "220000000000000002"},
      EMPTY_BILL_ISSUE}},
    {"bill",
     "tests/fixtures/bills/pledge.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:pledge"},
      {"pool_id", "PJC-2024-0001"},
      {"cpty_bank", "308290003011"},
      {"rate", ""}}},
    {"bill",
     "tests/fixtures/bills/release.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:release"},
      {"pool_id", "PJC-2024-0001"},
      {"cpty_name", ""}}},
    {"bill",
     "tests/fixtures/bills/present_payment.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:present_payment"},
      {"overdue", ""},
      {"our_account", OURS}}},
    {"bill",
     "tests/fixtures/bills/recourse.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:recourse"},
      {"amount", "A:10012.50"},
      {"cpty_name", "华东贸易有限公司"},
      {"reason", "到期拒付, 追索票款及利息"},
      {"our_account", OURS}}},
    {"bill",
     "tests/fixtures/bills/withdraw.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:withdraw"}, {"memo", "背书对象有误"}}},
    {"bill",
     "tests/fixtures/bills/sign.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:sign"},
      {"notice_id", "NT-88001"},
      {"draft_no", "630158000002202402010000654321"}}},
    {"bill",
     "tests/fixtures/bills/refuse.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:refuse"},
      {"notice_id", "NT-88002"},
      {"reason", "货物质量不符合合同约定"}}},
    {"bill",
     "tests/fixtures/bills/present_acceptance.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:present_acceptance"}, {"amount", ""}}},
    {"bill",
     "tests/fixtures/bills/present_receipt.xml",
     CX_FN_BILL_OPERATION,
     {{"bill_op", "T:bill_ops:present_receipt"}}},
    {"bill",
     "tests/fixtures/bills/drafts.xml",
     CX_FN_BILL_DRAFTS,
     {{"draft_status", "T:draft_status:pledged"},
      {"maturity_from", "D:2024-07-01"},
      {"maturity_to", "D:2024-07-31"}}},
    {"bill", "tests/fixtures/bills/pool_overview.xml", CX_FN_BILL_POOL, {{0}}},
    {"bill", "tests/fixtures/bills/notices.xml", CX_FN_BILL_NOTICES, {{0}}},
    {"bill",
     "tests/fixtures/bills/draft_detail.xml",
     CX_FN_BILL_DRAFTS,
     {{"draft_status", ""}}},
    {"scf",
     "tests/fixtures/scf/fincg_receivable.xml",
     CX_FN_SCF_FINANCING,
     {{"serial", "H2HM20240301-000007"},
      {"financing_kind", "T:financing_kinds:receivable"}},
     {{"item_no", "1"}}},
    {"scf",
     "tests/fixtures/scf/fincg_reverse_factoring.xml",
     CX_FN_SCF_FINANCING,
     {{"financing_kind", "T:financing_kinds:reverse_factoring"}},
     {{"item_no", "1"}}},
    {"scf",
     "tests/fixtures/scf/cancel.xml",
     CX_FN_SCF_CANCEL,
     {{"serial", "H2HM20240301-000007"},
      {"orig_serial", "H2HM20250301-000011"},
      {"reason", "买方已提前付款, 撤销融资申请"}}},
    {"scf",
     "tests/fixtures/scf/vop_issue.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:issue"},
      {"voucher_id", ""},
      {"amount", "A:1000000.00"},
      {"cpty_name", "91441900MA51XKQ67B"},
      {"maturity_date", "D:2025-08-10"},
      {"our_account", OURS},
      {"reason", ""}}},
    {"scf",
     "tests/fixtures/scf/vop_transfer.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:transfer"},
      {"voucher_id", "RX-2025-000123"},
      {"amount", "A:400000.00"},
      {"cpty_name", "91440605MA4WAT9E3H"},
      {"maturity_date", ""},
      {"our_account", ""}}},
    {"scf",
     "tests/fixtures/scf/vop_sign.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:sign"}, {"amount", ""}, {"cpty_name", ""}}},
    {"scf",
     "tests/fixtures/scf/vop_finance.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:finance"}, {"our_account", OURS}}},
    {"scf",
     "tests/fixtures/scf/vop_settle.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:settle"}}},
    {"scf",
     "tests/fixtures/scf/vop_withdraw.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:withdraw"}}},
    {"scf",
     "tests/fixtures/scf/vop_refuse.xml",
     CX_FN_VOUCHER_OPERATION,
     {{"voucher_op", "T:voucher_ops:refuse"}}},
    {"scf",
     "tests/fixtures/scf/voucher_inquiry.xml",
     CX_FN_VOUCHER_LIST,
     {{"holder", "us"}}},
    {"scf",
     "tests/fixtures/scf/inquiry.xml",
     CX_FN_SCF_QUERY,
     {{"serial", "H2HM20250301-000011"}}},
};

#pragma GCC diagnostic pop

static void test_requests(void)
{
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_TRUE_FATAL(P[i]->has_bills && P[i]->has_scf);
        for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
            const struct op_case *oc = &ops[k];
            struct built b;
            build(i, oc->fam, tu_src(oc->fixture), &b);
            if (b.rc) {
                fprintf(stderr, "  %s (%s): %s\n", oc->fixture,
                        i ? "icbc" : "cmb", b.err.msg);
                CU_FAIL("request not built");
                built_free(&b);
                continue;
            }
            CU_ASSERT_EQUAL(b.fn, oc->fn);
            for (size_t t = 0; oc->tv[t].tok; t++)
                expect_tok(&b, i, oc->fixture, oc->tv[t].tok, oc->tv[t].want,
                           0);
            for (size_t t = 0; oc->item[t].tok; t++)
                expect_tok(&b, i, oc->fixture, oc->item[t].tok,
                           oc->item[t].want, 1);
            built_free(&b);
        }
    }
}

/* A financing's invoices: count, total and each invoice's values. */
static void test_financing_items(void)
{
    for (int i = 0; i < 2; i++) {
        struct built b;
        build(i, "scf", tu_src("tests/fixtures/scf/fincg_receivable.xml"), &b);
        CU_ASSERT_EQUAL_FATAL(b.rc, 0);
        xmlNodePtr base = at(xmlDocGetRootElement(b.doc), b.p->body);
        const char *items = b.p->fn[CX_FN_SCF_FINANCING].items;
        const char *last =
            strrchr(items, '/') ? strrchr(items, '/') + 1 : items;
        char parent[200];
        snprintf(parent, sizeof(parent), "%.*s", (int)(last - items), items);
        xmlNodePtr par = *parent ? at(base, parent) : base;
        size_t n = 0;
        for (xmlNodePtr c = par ? par->children : NULL; c; c = c->next)
            n += c->type == XML_ELEMENT_NODE &&
                 !strcmp((const char *)c->name, last);
        char cnt[16];
        snprintf(cnt, sizeof(cnt), "%zu", n);
        CU_ASSERT(n >= 2);
        expect_tok(&b, i, "fincg count", "count", cnt, 0);
        /* the total is the sum of the invoice amounts, in the unit */
        int64_t sum = 0;
        for (size_t k = 0; k < b.pl.n_items; k++) {
            int64_t m;
            CU_ASSERT_EQUAL(
                cx_amount_to_minor(P[i], b.pl.items[k].v[CX_T_INVOICE_AMOUNT],
                                   &m, NULL),
                0);
            sum += m;
        }
        char tot[40];
        struct cx_profile yuan = *P[i];
        yuan.amount_fen = 0;
        cx_amount_format(&yuan, sum, tot, sizeof(tot));
        char want[48];
        snprintf(want, sizeof(want), "A:%s", tot);
        expect_tok(&b, i, "fincg total", "total", want, 0);
        built_free(&b);
    }
}

/* ---- refusals before sending ------------------------------------------- */

static char *tmpfile_with(const char *dir, const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
    return path;
}

static const char *ENDORSE_HEAD =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<BillRequest xmlns=\"urn:h2hd:bills:1\"><Op>endorse</Op>"
    "<ReqId>TR-X-1</ReqId>"
    "<DrftNb>530158000001202401150000123456</DrftNb>";

static void test_refusals(void)
{
    const char *dir = tu_mkdtemp();
    char text[2048];
    struct built b;
    /* 𠀀 (U+20000) is in GB18030, not in GBK */
    snprintf(text, sizeof(text),
             "%s<Cpty><Nm>岭南\xF0\xA0\x80\x80配件有限公司</Nm><Acct><OthrId>"
             "330000000000000003</OthrId></Acct><BkCd>104100000045</BkCd>"
             "</Cpty></BillRequest>",
             ENDORSE_HEAD);
    build(0, "bill", tmpfile_with(dir, "gbk.xml", text), &b);
    CU_ASSERT_EQUAL(b.rc, H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "{cpty_name}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "U+20000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "GBK"));
    built_free(&b);
    build(1, "bill", tmpfile_with(dir, "gbk.xml", text), &b);
    CU_ASSERT_EQUAL(b.rc, 0); /* GB18030 writes it */
    built_free(&b);

    /* an amount with three decimals */
    snprintf(text, sizeof(text),
             "%s<Amt Ccy=\"CNY\">5000.001</Amt><Cpty><Nm>岭南配件有限公司</Nm>"
             "<Acct><OthrId>330000000000000003</OthrId></Acct><BkCd>"
             "104100000045</BkCd></Cpty></BillRequest>",
             ENDORSE_HEAD);
    for (int i = 0; i < 2; i++) {
        build(i, "bill", tmpfile_with(dir, "dec.xml", text), &b);
        CU_ASSERT_EQUAL(b.rc, H2H_EINVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "Amt"));
        built_free(&b);
    }
    /* an endorsement without its endorsee */
    snprintf(text, sizeof(text), "%s</BillRequest>", ENDORSE_HEAD);
    for (int i = 0; i < 2; i++) {
        build(i, "bill", tmpfile_with(dir, "miss.xml", text), &b);
        CU_ASSERT_EQUAL(b.rc, H2H_EINVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "endorse"));
        built_free(&b);
    }
    /* a name longer than limits.name */
    char longname[1024] = "";
    for (int k = 0; k < 70; k++)
        strcat(longname, "长");
    snprintf(text, sizeof(text),
             "%s<Cpty><Nm>%s</Nm><Acct><OthrId>330000000000000003</OthrId>"
             "</Acct><BkCd>104100000045</BkCd></Cpty></BillRequest>",
             ENDORSE_HEAD, longname);
    build(0, "bill", tmpfile_with(dir, "long.xml", text), &b);
    CU_ASSERT_EQUAL(b.rc, H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "{cpty_name}"));
    built_free(&b);
    /* a voucher amount with three decimals */
    build(0, "scf",
          tmpfile_with(dir, "v.xml",
                       "<ScfRequest xmlns=\"urn:h2hd:scf:1\"><VchrOp>"
                       "<ReqId>VT-1</ReqId><Op>transfer</Op><VchrId>RX-1"
                       "</VchrId><Actr>A1</Actr><Dt>2025-03-03</Dt><Cpty>B2"
                       "</Cpty><Amt Ccy=\"CNY\">1.001</Amt><NewId>RX-1-01"
                       "</NewId></VchrOp></ScfRequest>"),
          &b);
    CU_ASSERT_EQUAL(b.rc, H2H_EINVALID);
    built_free(&b);
    /* a cancellation of a request this bank never had */
    build(0, "scf",
          tmpfile_with(dir, "c.xml",
                       "<ScfRequest xmlns=\"urn:h2hd:scf:1\"><Cxl><CxlId>C-1"
                       "</CxlId><OrgnlReqId>NOPE-1</OrgnlReqId><Rsn>x</Rsn>"
                       "</Cxl></ScfRequest>"),
          &b);
    CU_ASSERT_EQUAL(b.rc, H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.err.msg, "NOPE-1"));
    built_free(&b);
    tu_rmtree(dir);
}

/* A profile without the families refuses such messages. */
static void test_no_family(void)
{
    struct cx x = X[0];
    struct cx_profile p = *P[0];
    p.has_bills = p.has_scf = 0;
    x.p = &p;
    struct cx_plan pl;
    struct h2h_err err;
    CU_ASSERT_EQUAL(cx_bill_plan(&x, tu_src("tests/fixtures/bills/sign.xml"),
                                 "S1", &pl, &err),
                    H2H_EUNSUPPORTED);
    CU_ASSERT_EQUAL(cx_scf_plan(&x, tu_src("tests/fixtures/scf/vop_sign.xml"),
                                "S1", no_serial, NULL, &pl, &err),
                    H2H_EUNSUPPORTED);
}

/* ---- answers --------------------------------------------------------------
 */

static xmlNodePtr make_path(xmlNodePtr base, const char *path)
{
    xmlNodePtr n = base;
    for (const char *s = path; *s;) {
        const char *e = strchr(s, '/');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        xmlNodePtr c = child(n, s, l);
        if (!c) {
            char nm[128];
            snprintf(nm, sizeof(nm), "%.*s", (int)l, s);
            c = xmlNewChild(n, NULL, BAD_CAST nm, NULL);
        }
        n = c;
        s = e ? e + 1 : s + l;
    }
    return n;
}

static void set_text(xmlNodePtr base, const char *path, const char *v)
{
    xmlNodePtr n = make_path(base, path);
    xmlNodeSetContent(n, NULL);
    xmlNodeAddContent(n, BAD_CAST v);
}

/* Render a header template with the request's values. */
static void render_tmpl(const char *t, const struct cx_vals *v, char *out,
                        size_t n)
{
    size_t k = 0;
    while (*t && k + 1 < n) {
        if (*t == '{') {
            const char *e = strchr(t, '}');
            for (int x = 0; x < CX_T_N; x++)
                if ((size_t)(e - t - 1) == strlen(cx_tok_name(x)) &&
                    !memcmp(t + 1, cx_tok_name(x), (size_t)(e - t - 1)))
                    k += (size_t)snprintf(out + k, n - k, "%s",
                                          v->v[x] ? v->v[x] : "");
            t = e + 1;
            continue;
        }
        out[k++] = *t++;
    }
    out[k < n ? k : n - 1] = '\0';
}

/* An ok answer of fn to a request with values v: top[k] and rows[r][k]
 * (UTF-8) at the profile's result paths. */
static char *make_answer(const struct cx_profile *p, enum cx_fn fn,
                         const struct cx_vals *v, const char *const *top,
                         const char *const (*rows)[CX_K_N], size_t n_rows,
                         size_t *len)
{
    const struct cx_function *f = &p->fn[fn];
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewDocNode(doc, NULL, BAD_CAST p->root, NULL);
    xmlDocSetRootElement(doc, root);
    for (size_t e = 0; e < p->n_echo; e++) {
        const char *tmpl = NULL;
        for (size_t h = 0; h < p->n_header; h++)
            if (!strcmp(p->header[h].path, p->echo[e]))
                tmpl = p->header[h].tmpl;
        for (size_t h = 0; h < f->n_header; h++)
            if (!strcmp(f->header[h].path, p->echo[e]))
                tmpl = f->header[h].tmpl;
        char val[256];
        render_tmpl(tmpl ? tmpl : "", v, val, sizeof(val));
        set_text(root, p->echo[e], val);
    }
    set_text(root, p->code_path, p->ok[0]);
    set_text(root, p->message_path, "交易成功");
    xmlNodePtr base =
        *p->response_body ? make_path(root, p->response_body) : root;
    for (int k = 0; k < CX_K_N; k++)
        if (k != CX_K_ITEMS && f->result[k] && top[k])
            set_text(base, f->result[k], top[k]);
    const char *items = f->result[CX_K_ITEMS];
    for (size_t r = 0; items && r < n_rows; r++) {
        const char *last =
            strrchr(items, '/') ? strrchr(items, '/') + 1 : items;
        char parent[200];
        snprintf(parent, sizeof(parent), "%.*s", (int)(last - items), items);
        if (*parent && parent[strlen(parent) - 1] == '/')
            parent[strlen(parent) - 1] = '\0';
        xmlNodePtr par = *parent ? make_path(base, parent) : base;
        xmlNodePtr it = xmlNewChild(par, NULL, BAD_CAST last, NULL);
        for (int k = 0; k < CX_K_N; k++)
            if (f->item_result[k] && rows[r][k])
                set_text(it, f->item_result[k], rows[r][k]);
    }
    xmlChar *out = NULL;
    int n = 0;
    xmlDocDumpFormatMemoryEnc(doc, &out, &n, p->encoding, 0);
    xmlFreeDoc(doc);
    char *r = malloc((size_t)n + 1);
    memcpy(r, out, (size_t)n);
    r[n] = '\0';
    xmlFree(out);
    *len = (size_t)n;
    return r;
}

/* make_answer's answer read back as the adapter reads it (the response
 * signature off): cx_answer_read's rc, with the answer shown when not 0. */
static int read_made(const struct cx_profile *p, enum cx_fn fn,
                     const struct cx_vals *v, const char *const *top,
                     const char *const (*rows)[CX_K_N], size_t n_rows,
                     struct cx_answer *a, struct h2h_err *err)
{
    struct cx_profile up = *p;
    up.resp_sig_where = CX_SIG_NONE;
    size_t len;
    char *ans = make_answer(p, fn, v, top, rows, n_rows, &len);
    int rc = cx_answer_read(&up, fn, v, ans, len, NULL, NULL, a, err);
    if (rc)
        fprintf(stderr, "  answer (%s): %s\n%s\n", cx_fn_name(fn), err->msg,
                ans);
    free(ans);
    return rc;
}

static void yuan(const struct cx_profile *p, const char *y, char *buf, size_t n)
{
    int64_t m;
    struct cx_profile yp = *p;
    yp.amount_fen = 0;
    cx_amount_to_minor(&yp, y, &m, NULL);
    cx_amount_format(p, m, buf, n);
}

static void date_of(const struct cx_profile *p, const char *iso, char *buf,
                    size_t n)
{
    cx_date_format(p, iso, buf, n);
}

/* The endorsement's answer: the piece endorsed (pending) and the
 * remainder (held), read into a <BillResult>. */
static void test_bill_answer(void)
{
    for (int i = 0; i < 2; i++) {
        struct built b;
        build(i, "bill", tu_src("tests/fixtures/bills/endorse.xml"), &b);
        CU_ASSERT_EQUAL_FATAL(b.rc, 0);
        struct cx_profile *p = P[i];
        char a1[32], a2[32], d1[16], d2[16];
        yuan(p, "5000.00", a1, sizeof(a1));
        yuan(p, "5000.00", a2, sizeof(a2));
        date_of(p, "2024-01-15", d1, sizeof(d1));
        date_of(p, "2024-07-15", d2, sizeof(d2));
        const char *top[CX_K_N] = {0};
        top[CX_K_SERIAL] = b.pl.serial;
        top[CX_K_STATUS] = cx_tab_bank(&p->t_results, "pending");
        top[CX_K_BANK_REF] = "REF-1";
        const char *rows[2][CX_K_N] = {{0}};
        for (int r = 0; r < 2; r++) {
            rows[r][CX_K_DRAFT_NO] = "530158000001202401150000123456";
            rows[r][CX_K_DRAFT_KIND] = cx_tab_bank(&p->t_draft_kinds, "AC02");
            rows[r][CX_K_AMOUNT] = r ? a2 : a1;
            rows[r][CX_K_ISSUE_DATE] = d1;
            rows[r][CX_K_MATURITY_DATE] = d2;
            rows[r][CX_K_DRAWER_NAME] = "华东贸易有限公司";
            rows[r][CX_K_DRAWER_BANK] = "102100099996";
            rows[r][CX_K_ACCEPTOR_NAME] = "华东贸易有限公司";
            rows[r][CX_K_ACCEPTOR_BANK] = "102100099996";
            rows[r][CX_K_PAYEE_NAME] = "江南供应链管理有限公司";
            rows[r][CX_K_PAYEE_BANK] = "103100000026";
            rows[r][CX_K_DRAFT_STATUS] = cx_tab_bank(
                &p->t_draft_status, r ? "held" : "pending_endorsement");
            rows[r][CX_K_TRANSFERABLE] = p->yes;
            rows[r][CX_K_DIVISIBLE] = p->yes;
            rows[r][CX_K_SUB_FROM] = r ? "500001" : "1";
            rows[r][CX_K_SUB_TO] = r ? "1000000" : "500000";
        }
        struct cx_answer a = {0};
        struct h2h_err err;
        int rc =
            read_made(p, CX_FN_BILL_OPERATION, &b.pl.v, top, rows, 2, &a, &err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
        CU_ASSERT_EQUAL(a.n_items, 2);
        char *doc = NULL;
        size_t dl = 0;
        int final = -1;
        rc = cx_bill_result(&X[i], &b.pl, &a, &doc, &dl, &final, &err);
        if (rc)
            fprintf(stderr, "  result: %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(final, 0);
        struct fmt_bill_result res = {0};
        struct fmt_src src = {.buf = doc, .len = dl, .name = "r"};
        CU_ASSERT_EQUAL(fmt_canon_bill_read_result(&src, &res, NULL, &err), 0);
        CU_ASSERT_STRING_EQUAL(res.req_id ? res.req_id : "", "TR-20240301-007");
        CU_ASSERT_EQUAL(res.op, FMT_BILL_OP_ENDORSE);
        CU_ASSERT_EQUAL(res.outcome, FMT_BILL_PENDING);
        CU_ASSERT_EQUAL_FATAL(res.n_drafts, 2);
        CU_ASSERT_EQUAL(res.drafts[0].amount.minor, 500000);
        CU_ASSERT_EQUAL(res.drafts[0].status, FMT_DRAFT_PENDING_ENDORSEMENT);
        /* ours, from held: what the book needs to take a refusal back */
        CU_ASSERT_EQUAL(res.drafts[0].pending_dir, FMT_BILL_DIR_OUT);
        CU_ASSERT_EQUAL(res.drafts[0].prev_status, FMT_DRAFT_HELD);
        CU_ASSERT_EQUAL(res.drafts[1].status, FMT_DRAFT_HELD);
        CU_ASSERT_EQUAL(res.drafts[1].sub_from, 500001);
        CU_ASSERT_EQUAL(res.drafts[1].sub_to, 1000000);
        CU_ASSERT_STRING_EQUAL(res.drafts[0].maturity_date, "2024-07-15");
        CU_ASSERT_STRING_EQUAL(res.drafts[0].payee.party.name,
                               "江南供应链管理有限公司");
        fmt_bill_result_release(&res);
        free(doc);

        /* a business refusal: rejected with the bank's code and text */
        cx_answer_release(&a);
        top[CX_K_STATUS] = cx_tab_bank(&p->t_results, "rejected");
        top[CX_K_REASON_CODE] = "BIL005";
        top[CX_K_REASON] = "票据状态不允许背书";
        CU_ASSERT_EQUAL_FATAL(
            read_made(p, CX_FN_BILL_OPERATION, &b.pl.v, top, rows, 0, &a, &err),
            0);
        CU_ASSERT_EQUAL_FATAL(
            cx_bill_result(&X[i], &b.pl, &a, &doc, &dl, &final, &err), 0);
        CU_ASSERT_EQUAL(final, 1);
        src = (struct fmt_src){.buf = doc, .len = dl, .name = "r"};
        memset(&res, 0, sizeof(res));
        CU_ASSERT_EQUAL(fmt_canon_bill_read_result(&src, &res, NULL, &err), 0);
        CU_ASSERT_EQUAL(res.outcome, FMT_BILL_REJECTED);
        CU_ASSERT_STRING_EQUAL(res.bank_code ? res.bank_code : "", "BIL005");
        CU_ASSERT_STRING_EQUAL(res.bank_text ? res.bank_text : "",
                               "票据状态不允许背书");
        fmt_bill_result_release(&res);
        free(doc);
        cx_answer_release(&a);

        /* a status no table lists: the answer is unusable */
        top[CX_K_STATUS] = "ZZ";
        CU_ASSERT_EQUAL_FATAL(
            read_made(p, CX_FN_BILL_OPERATION, &b.pl.v, top, rows, 0, &a, &err),
            0);
        CU_ASSERT_EQUAL(
            cx_bill_result(&X[i], &b.pl, &a, &doc, &dl, &final, &err),
            H2H_EPROTO);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bank.status.unknown"));
        cx_answer_release(&a);
        /* an answer about another serial */
        top[CX_K_STATUS] = cx_tab_bank(&p->t_results, "accepted");
        top[CX_K_SERIAL] = "H2HOTHER";
        if (read_made(p, CX_FN_BILL_OPERATION, &b.pl.v, top, rows, 0, &a,
                      &err) == 0) {
            CU_ASSERT_EQUAL(
                cx_bill_result(&X[i], &b.pl, &a, &doc, &dl, &final, &err),
                H2H_EPROTO);
            cx_answer_release(&a);
        }
        built_free(&b);
    }
}

/* A financing's status and a voucher transfer's outcome. */
static void test_scf_answers(void)
{
    for (int i = 0; i < 2; i++) {
        struct cx_profile *p = P[i];
        struct built b;
        build(i, "scf", tu_src("tests/fixtures/scf/fincg_receivable.xml"), &b);
        CU_ASSERT_EQUAL_FATAL(b.rc, 0);
        const char *top[CX_K_N] = {0};
        char amt[32], vd[16], md[16];
        yuan(p, "813600.00", amt, sizeof(amt));
        date_of(p, "2025-03-10", vd, sizeof(vd));
        date_of(p, "2025-07-15", md, sizeof(md));
        top[CX_K_SERIAL] = b.pl.serial;
        top[CX_K_STATUS] = cx_tab_bank(&p->t_fin_status, "financed");
        top[CX_K_BANK_REF] = "FIN-7";
        top[CX_K_FINANCED_AMOUNT] = amt;
        top[CX_K_RATE] = "3.45";
        top[CX_K_VALUE_DATE] = vd;
        top[CX_K_MATURITY_DATE] = md;
        top[CX_K_LOAN_REF] = "JJ755";
        struct cx_vals qv = b.pl.v;
        qv.v[CX_T_FUNCTION] = p->fn[CX_FN_SCF_QUERY].code;
        struct cx_answer a = {0};
        struct h2h_err err;
        int rc = read_made(p, CX_FN_SCF_QUERY, &qv, top, NULL, 0, &a, &err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        char *doc = NULL, *sum = NULL;
        size_t dl;
        int final = -1;
        rc = cx_scf_result(&X[i], &b.pl, CX_FN_SCF_QUERY, &a, &doc, &dl, &final,
                           &sum, &err);
        if (rc)
            fprintf(stderr, "  %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(final, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(sum, "financed|81360000|"));
        struct fmt_canon_scf_result res;
        struct fmt_src src = {.buf = doc, .len = dl, .name = "r"};
        CU_ASSERT_EQUAL(fmt_canon_scf_read_result(&src, &res, NULL, &err), 0);
        CU_ASSERT_EQUAL(res.kind, FMT_CANON_SCF_STATUS);
        CU_ASSERT_EQUAL(res.sts.status, FMT_SCF_FINANCED);
        CU_ASSERT_STRING_EQUAL(res.sts.orgnl_request_id, "AR-2025-0042");
        CU_ASSERT_EQUAL(res.sts.financed.minor, 81360000);
        CU_ASSERT_EQUAL(res.sts.interest_rate, 345 * (FMT_SCF_RATE_ONE / 100));
        CU_ASSERT_STRING_EQUAL(res.sts.maturity_date, "2025-07-15");
        fmt_canon_scf_result_release(&res);
        free(doc);
        free(sum);
        cx_answer_release(&a);
        built_free(&b);

        /* a transfer: the parent and its new child */
        build(i, "scf", tu_src("tests/fixtures/scf/vop_transfer.xml"), &b);
        CU_ASSERT_EQUAL_FATAL(b.rc, 0);
        memset(top, 0, sizeof(top));
        top[CX_K_SERIAL] = b.pl.serial;
        top[CX_K_STATUS] = cx_tab_bank(&p->t_results, "accepted");
        char full[32], rest[32], part[32], d1[16], d2[16];
        yuan(p, "1000000.00", full, sizeof(full));
        yuan(p, "600000.00", rest, sizeof(rest));
        yuan(p, "400000.00", part, sizeof(part));
        date_of(p, "2025-02-10", d1, sizeof(d1));
        date_of(p, "2025-08-10", d2, sizeof(d2));
        const char *rows[2][CX_K_N] = {{0}};
        for (int r = 0; r < 2; r++) {
            rows[r][CX_K_VOUCHER_ID] =
                r ? "RX-2025-000123-01" : "RX-2025-000123";
            rows[r][CX_K_ROOT_ID] = "RX-2025-000123";
            rows[r][CX_K_PARENT_ID] = r ? "RX-2025-000123" : NULL;
            rows[r][CX_K_LEVEL] = r ? "2" : "1";
            rows[r][CX_K_ISSUER_NAME] = "91440300MA5G8T1X2K";
            rows[r][CX_K_HOLDER_NAME] =
                r ? "91440606MA4UJ7KQ3E" : "91441900MA51XKQ67B";
            rows[r][CX_K_AMOUNT] = r ? part : full;
            rows[r][CX_K_REMAINING] = r ? part : rest;
            rows[r][CX_K_ISSUE_DATE] = d1;
            rows[r][CX_K_MATURITY_DATE] = d2;
            rows[r][CX_K_VOUCHER_STATUS] =
                cx_tab_bank(&p->t_voucher_status, r ? "pending" : "held");
        }
        rc = read_made(p, CX_FN_VOUCHER_OPERATION, &b.pl.v, top, rows, 2, &a,
                       &err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        rc = cx_scf_result(&X[i], &b.pl, CX_FN_VOUCHER_OPERATION, &a, &doc, &dl,
                           &final, NULL, &err);
        if (rc)
            fprintf(stderr, "  %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(final, 1);
        src = (struct fmt_src){.buf = doc, .len = dl, .name = "r"};
        CU_ASSERT_EQUAL(fmt_canon_scf_read_result(&src, &res, NULL, &err), 0);
        CU_ASSERT_EQUAL(res.kind, FMT_CANON_SCF_VOP_RESULT);
        CU_ASSERT_STRING_EQUAL(res.vrslt.req_id, "VT-2025-0012");
        CU_ASSERT_EQUAL(res.vrslt.op, FMT_VOUCHER_TRANSFER);
        CU_ASSERT_EQUAL(res.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
        CU_ASSERT_EQUAL_FATAL(res.vrslt.n_vouchers, 2);
        CU_ASSERT_EQUAL(res.vrslt.vouchers[0].remaining, 60000000);
        CU_ASSERT_EQUAL(res.vrslt.vouchers[1].status, FMT_VOUCHER_PENDING);
        CU_ASSERT_STRING_EQUAL(res.vrslt.vouchers[1].parent_id,
                               "RX-2025-000123");
        fmt_canon_scf_result_release(&res);
        free(doc);
        cx_answer_release(&a);
        built_free(&b);
    }
}

/* A notice row and the pool figures. */
static void test_notice_and_pool(void)
{
    for (int i = 0; i < 2; i++) {
        struct cx_profile *p = P[i];
        struct cx_vals v = {0};
        struct cx_common com;
        struct cx_plan pl = {.fn = CX_FN_BILL_NOTICES};
        fill_common(p, &pl, &com);
        v = pl.v;
        char page[8];
        snprintf(page, sizeof(page), "%ld", p->page_first);
        v.v[CX_T_PAGE] = p->paging == CX_PAGING_PAGE ? page : "";
        char amt[32], d1[16], d2[16], rd[16];
        yuan(p, "2000.00", amt, sizeof(amt));
        date_of(p, "2024-02-01", d1, sizeof(d1));
        date_of(p, "2024-08-01", d2, sizeof(d2));
        date_of(p, "2024-03-03", rd, sizeof(rd));
        const char *top[CX_K_N] = {0};
        top[CX_K_MORE] = p->last_value;
        const char *rows[1][CX_K_N] = {{0}};
        const char **r = rows[0];
        r[CX_K_NOTICE_ID] = "NT-88001";
        r[CX_K_NOTICE_KIND] = cx_tab_bank(&p->t_bill_ops, "endorse");
        r[CX_K_FROM_NAME] = "岭南配件有限公司";
        r[CX_K_FROM_BANK] = "104100000045";
        r[CX_K_RECEIVED_DATE] = rd;
        r[CX_K_DRAFT_NO] = "630158000002202402010000654321";
        r[CX_K_DRAFT_KIND] = cx_tab_bank(&p->t_draft_kinds, "AC02");
        r[CX_K_AMOUNT] = amt;
        r[CX_K_ISSUE_DATE] = d1;
        r[CX_K_MATURITY_DATE] = d2;
        r[CX_K_DRAWER_NAME] = "西部重工集团有限公司";
        r[CX_K_DRAWER_BANK] = "105100000017";
        r[CX_K_ACCEPTOR_NAME] = "西部重工集团有限公司";
        r[CX_K_ACCEPTOR_BANK] = "105100000017";
        r[CX_K_PAYEE_NAME] = "岭南配件有限公司";
        r[CX_K_PAYEE_BANK] = "104100000045";
        r[CX_K_DRAFT_STATUS] =
            cx_tab_bank(&p->t_draft_status, "pending_endorsement");
        r[CX_K_TRANSFERABLE] = p->yes;
        r[CX_K_DIVISIBLE] = p->yes;
        r[CX_K_SUB_FROM] = "1";
        r[CX_K_SUB_TO] = "200000";
        struct cx_answer a = {0};
        struct h2h_err err;
        int rc = read_made(p, CX_FN_BILL_NOTICES, &v, top, rows, 1, &a, &err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        char *doc = NULL;
        size_t dl;
        const char *id = NULL;
        rc = cx_bill_notice_doc(&X[i], &a, 0, &doc, &dl, &id, &err);
        if (rc)
            fprintf(stderr, "  %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(id, "NT-88001");
        struct fmt_bill_notice n = {0};
        struct fmt_src src = {.buf = doc, .len = dl, .name = "n"};
        CU_ASSERT_EQUAL(fmt_canon_bill_read_notice(&src, &n, NULL, &err), 0);
        CU_ASSERT_EQUAL(n.kind, FMT_BILL_OP_ENDORSE);
        CU_ASSERT_EQUAL(n.draft.amount.minor, 200000);
        CU_ASSERT_STRING_EQUAL(n.from.party.name, "岭南配件有限公司");
        fmt_bill_notice_release(&n);
        free(doc);
        cx_answer_release(&a);

        /* the pool */
        pl.fn = CX_FN_BILL_POOL;
        fill_common(p, &pl, &com);
        char a1[32], a2[32], a3[32], a4[32], a5[32], asof[16];
        yuan(p, "30000.00", a1, sizeof(a1));
        yuan(p, "1000.00", a2, sizeof(a2));
        yuan(p, "31000.00", a3, sizeof(a3));
        yuan(p, "10000.00", a4, sizeof(a4));
        yuan(p, "21000.00", a5, sizeof(a5));
        date_of(p, "2024-03-06", asof, sizeof(asof));
        memset(top, 0, sizeof(top));
        top[CX_K_POOL_ID] = "PJC-2024-0001";
        top[CX_K_AS_OF] = asof;
        top[CX_K_PLEDGED_COUNT] = "2";
        top[CX_K_PLEDGED_TOTAL] = a1;
        top[CX_K_DEPOSIT] = a2;
        top[CX_K_QUOTA_TOTAL] = a3;
        top[CX_K_QUOTA_USED] = a4;
        top[CX_K_QUOTA_AVAILABLE] = a5;
        CU_ASSERT_EQUAL_FATAL(
            read_made(p, CX_FN_BILL_POOL, &pl.v, top, NULL, 0, &a, &err), 0);
        char *sum = NULL;
        rc = cx_bill_pool_doc(&X[i], "TR-P-1", &a, &doc, &dl, &sum, &err);
        if (rc)
            fprintf(stderr, "  %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(
            sum, "PJC-2024-0001|2|3000000|100000|3100000|1000000|2100000");
        struct fmt_bill_result res = {0};
        src = (struct fmt_src){.buf = doc, .len = dl, .name = "p"};
        CU_ASSERT_EQUAL(fmt_canon_bill_read_result(&src, &res, NULL, &err), 0);
        CU_ASSERT_TRUE(res.has_pool);
        CU_ASSERT_EQUAL(res.pool.quota_available.minor, 2100000);
        CU_ASSERT_STRING_EQUAL(res.pool.as_of, "2024-03-06");
        fmt_bill_result_release(&res);
        free(doc);
        free(sum);
        cx_answer_release(&a);
    }
}

static const struct tu_case cases[] = {
    {"every operation's request, both profiles", test_requests},
    {"a financing's invoices", test_financing_items},
    {"refused before sending", test_refusals},
    {"a profile without the families", test_no_family},
    {"bill operation answers", test_bill_answer},
    {"scf answers", test_scf_answers},
    {"a notice and the pool", test_notice_and_pool},
    {NULL, NULL},
};

int main(void)
{
    xmlInitParser();
    if (setup() != 0) {
        fprintf(stderr, "the shipped profiles do not load\n");
        return 1;
    }
    int rc = tu_main("cx_bills", cases);
    teardown();
    return rc;
}
