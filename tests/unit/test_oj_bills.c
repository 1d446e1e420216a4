/*
 * test_oj_bills.c - the openapi_json adapter's bill pool and supply-chain
 * finance against the strict simulator tests/sims/bank_openapi.py (B0-B8
 * of tests/sims/README.md), started through tests/sims/openapi_world.py.
 * The counterparty and the bank's desks are played through the admin
 * port; what the bank recorded is read from its request log
 * (/admin/requests), and every document the adapter writes is read back
 * with h2hd's canonical readers (a reader problem fails the test), field
 * by field.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libconfig.h>
#include <uv.h>

#include "adapter.h"
#include "bill.h"
#include "canon_bill.h"
#include "canon_scf.h"
#include "fsutil.h"
#include "oj_testlib.h"
#include "openapi_json.h"
#include "testutil.h"

#define NS "urn:h2hd:bills:1"
#define OURS "GB82WEST12345698765432" /* our CNY account at the bank */
#define BANKCD "999100000010"
#define SUPPLIER                                                                 \
    "<Nm>岭南配件有限公司</Nm><Acct><OthrId>330000000000000003</OthrId>" \
    "</Acct><BkCd>104100000045</BkCd>"
#define SUPPLIER_J                                                                   \
    "{\"name\": \"岭南配件有限公司\", \"account\": \"330000000000000003\", " \
    "\"bank_code\": \"104100000045\"}"
#define DRAWER_J                                                               \
    "{\"name\": \"西部重工集团有限公司\", \"account\": "             \
    "\"440000000000000004\", \"bank_code\": \"105100000017\"}"
#define BANK_J "{\"name\": \"H2HD模拟银行\", \"bank_code\": \"" BANKCD "\"}"
#define US_J                                                                   \
    "{\"name\": \"H2HD测试企业有限公司\", \"account\": \"" OURS                \
    "\", \"bank_code\": \"" BANKCD "\"}"

#define US_ID "91440300US00000001"
#define SUP_ID "91440605SUPPLIER0001"

static const struct h2h_adapter_ops *OPS = &openapi_json_ops;

/* ---- settings ------------------------------------------------------------ */

static int check(const char *extra, struct ojt_reports *r)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "bank = { name = \"b\"; adapter = \"openapi_json\"; "
             "payment_format = \"canonical\"; openapi_json = { base_url = "
             "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
             "bank_cert = \"b\"; tls = { client_cert = \"c\"; }; sign = { "
             "key = \"k\"; cert = \"c\"; }; %s }; };",
             extra);
    return ojt_check(text, r);
}

static void test_settings(void)
{
    struct ojt_reports r;
    CU_ASSERT_EQUAL(check("kinds = ( \"payment\", \"bill\", \"scf\" ); "
                          "bills_interval = 2; bills_account = \"" OURS "\";",
                          &r),
                    0);
    CU_ASSERT_EQUAL(check("kinds = ( \"bill\", \"cheque\" );", &r), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.all, "openapi_json.kinds must be"));
    CU_ASSERT_EQUAL(check("kinds = ( );", &r), 1);
    CU_ASSERT_EQUAL(check("kinds = \"bill\";", &r), 1);
    CU_ASSERT_EQUAL(check("bills_interval = -1;", &r), 1);
    CU_ASSERT_EQUAL(check("bills_account = \"ab-1\";", &r), 1);
    CU_ASSERT_EQUAL(OPS->kinds,
                    H2H_KIND_PAYMENTS | H2H_KIND_BILLS | H2H_KIND_SCF);
    CU_ASSERT_PTR_NOT_NULL(OPS->instance_kinds);
}

/* ---- the simulator --------------------------------------------------------
 */

static int env_start(void)
{
    return ojt_env_start("{\"accounts\": [{\"iban\": \"" OURS "\", "
                         "\"currency\": \"CNY\", "
                         "\"opening_balance\": \"1000000.00\"}]}\n");
}

/* A POST hook that must succeed (200); its answer. */
static json_t *hook(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *hook(const char *path, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&body, fmt, ap) < 0)
        body = NULL;
    va_end(ap);
    int st = 0;
    json_t *j = ojt_admin("POST", path, body, &st);
    if (st != 200) {
        char *t = j ? json_dumps(j, 0) : NULL;
        fprintf(stderr, "  hook %s %s: %d %s\n", path, body, st, t ? t : "");
        free(t);
    }
    CU_ASSERT_EQUAL(st, 200);
    free(body);
    return j;
}

/* Requests the bank logged with this request id and outcome (NULL:
 * any). */
static int logged(const char *req_id, const char *outcome)
{
    json_t *a = ojt_admin("GET", "/admin/requests", NULL, NULL);
    json_t *l = json_is_array(a) ? a : json_object_get(a, "requests");
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(l, i, x)
    {
        const char *k = json_string_value(json_object_get(x, "request_id"));
        const char *o = json_string_value(json_object_get(x, "outcome"));
        if (k && !strcmp(k, req_id) && (!outcome || (o && !strcmp(o, outcome))))
            n++;
    }
    json_decref(a);
    return n;
}

/* ---- a bank ----------------------------------------------------------------
 */

/* Our account, the bill and scf kinds, and both scf parties. */
#define MEMBERS                                                                \
    "kinds = ( \"payment\", \"bill\", \"scf\" ); bills_interval = 2;"          \
    " bills_account = \"" OURS "\"; scf_parties = ("                           \
    " { id = \"" US_ID "\"; name = \"H2HD测试企业有限公司\";"          \
    " account = \"" OURS "\"; bank_code = \"" BANKCD "\"; },"                  \
    " { id = \"" SUP_ID "\"; name = \"岭南配件有限公司\";"             \
    " account = \"330000000000000003\";"                                       \
    " bank_code = \"104100000045\"; } );"

#define OPEN(w)                                                                \
    do {                                                                       \
        if (env_start() != 0) {                                                \
            CU_FAIL("bank simulator did not start");                           \
            return;                                                            \
        }                                                                      \
        if (ojt_world_open(w, NULL, MEMBERS) != 0) {                           \
            CU_FAIL("adapter not created");                                    \
            ojt_world_close(w);                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

/* ---- submit / recover ------------------------------------------------------
 */

/* Write body as a request file for req_id, submit (or recover) it as
 * kind; the outcome. */
static enum h2h_outcome send_req(struct ojt_world *w, const char *kind,
                                 const char *req_id, const char *xml,
                                 int recover, char *msg, size_t msgn)
{
    char path[600];
    struct ojt_got g;
    snprintf(path, sizeof(path), "%s/%s.xml", w->base, req_id);
    CU_ASSERT_EQUAL(tu_write_file(path, xml, strlen(xml)), 0);
    struct h2h_submit_req req = {
        .msg_id = req_id, .remote_name = req_id, .payload = path, .kind = kind};
    ojt_op(w, recover, &req, &g);
    if (msg)
        snprintf(msg, msgn, "%s", g.msg);
    return g.out;
}

/* A <BillRequest> with inner elements after Op and ReqId. */
static enum h2h_outcome bill(struct ojt_world *w, const char *op,
                             const char *req_id, const char *inner)
{
    char xml[8192];
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<BillRequest xmlns=\"" NS "\"><Op>%s</Op><ReqId>%s</ReqId>%s"
             "</BillRequest>\n",
             op, req_id, inner);
    return send_req(w, "bill", req_id, xml, 0, NULL, 0);
}

static int outbox_has(struct ojt_world *w, const char *name)
{
    char p[800];
    snprintf(p, sizeof(p), "%s/outbox/%s", w->state, name);
    return access(p, F_OK) == 0;
}

/* outbox/<name> (or a delivered copy: path) read as a <BillResult>; 0
 * when it read without a problem. */
static int read_bill(const char *path, struct fmt_bill_result *r)
{
    struct fmt_src src = {.path = path};
    struct fmt_diag diag;
    struct h2h_err err = {0};
    fmt_diag_init(&diag, path);
    memset(r, 0, sizeof(*r));
    int rc = fmt_canon_bill_read_result(&src, r, &diag, &err);
    if (rc != 0 || diag.n) {
        fprintf(stderr, "  %s: %s\n", path, err.msg);
        fmt_diag_print(&diag, stderr);
        rc = -1;
    }
    fmt_diag_release(&diag);
    return rc;
}

static int outbox_bill(struct ojt_world *w, const char *name,
                       struct fmt_bill_result *r)
{
    char p[800];
    snprintf(p, sizeof(p), "%s/outbox/%s", w->state, name);
    return read_bill(p, r);
}

static const char *status_name(const struct fmt_draft *d)
{
    return fmt_draft_status_name(d->status);
}

/* The <BillResult> at path says outcome, its first draft in status. */
static void bill_says(const char *path, enum fmt_bill_outcome outcome,
                      const char *status)
{
    struct fmt_bill_result r;
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    CU_ASSERT_EQUAL_FATAL(read_bill(path, &r), 0);
    CU_ASSERT_EQUAL(r.outcome, outcome);
    CU_ASSERT_TRUE(r.n_drafts > 0);
    if (r.n_drafts > 0)
        CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), status);
    fmt_bill_result_release(&r);
}

static void outbox_says(struct ojt_world *w, const char *name,
                        enum fmt_bill_outcome outcome, const char *status)
{
    char p[800];
    snprintf(p, sizeof(p), "%s/outbox/%s", w->state, name);
    bill_says(p, outcome, status);
}

/* ---- polls -----------------------------------------------------------------
 */

/* A bills round (h2hctl fetch --kind bills); everything delivered is in
 * g (and in w->got under its remote name). */
static void poll_bills(struct ojt_world *w, struct ojt_pgot *g)
{
    ojt_poll(w, H2H_POLL_BILLS, 0, g);
    CU_ASSERT_EQUAL(g->out, H2H_OUT_OK);
    if (g->out != H2H_OUT_OK)
        fprintf(stderr, "  poll: %s\n", g->msg);
}

/* The delivered file whose name starts with prefix (nth), or NULL. */
static const char *delivered(const struct ojt_pgot *g, const char *prefix,
                             int nth)
{
    for (int i = 0; i < g->n; i++)
        if (strncmp(g->remote[i], prefix, strlen(prefix)) == 0 && nth-- == 0)
            return g->path[i];
    return NULL;
}

/* Position of the first delivery named prefix..., or -1. */
static int order_of(const struct ojt_pgot *g, const char *prefix)
{
    for (int i = 0; i < g->n; i++)
        if (strncmp(g->remote[i], prefix, strlen(prefix)) == 0)
            return i;
    return -1;
}

static int count_delivered(const struct ojt_pgot *g, const char *prefix)
{
    int n = 0;
    while (delivered(g, prefix, n))
        n++;
    return n;
}

/* ---- the bill pool ---------------------------------------------------------
 */

static char number_a[31], number_b[31];

/* A new divisible AC01 draft of amount (decimal string) presented to us
 * as kind; the notice id (from the admin answer) into nid, number into
 * num. */
static void present_new(const char *kind, const char *amount, int maturity,
                        char *nid, char *num)
{
    char i0[11], m[11];
    ojt_day(-1, i0);
    ojt_day(maturity, m);
    json_t *j = hook("/admin/bills/present",
                     "{\"kind\": \"%s\", \"to_account\": \"" OURS "\", "
                     "\"from\": " DRAWER_J ", \"draft\": {\"kind\": \"AC01\", "
                     "\"amount\": {\"amount\": \"%s\", \"currency\": \"CNY\"}, "
                     "\"issue_date\": \"%s\", \"maturity_date\": \"%s\", "
                     "\"drawer\": " DRAWER_J ", \"acceptor\": " BANK_J ", "
                     "\"payee\": %s, \"divisible\": true}}",
                     kind, amount, i0, m,
                     strcmp(kind, "endorse") == 0 ? SUPPLIER_J : US_J);
    json_t *n = json_object_get(j, "notice");
    snprintf(nid, 40, "%s",
             json_string_value(json_object_get(n, "notice_id"))
                 ? json_string_value(json_object_get(n, "notice_id"))
                 : "");
    snprintf(num, 31, "%s",
             json_string_value(json_object_get(n, "number"))
                 ? json_string_value(json_object_get(n, "number"))
                 : "");
    json_decref(j);
}

static void counterparty(const char *num, long from, long to,
                         const char *action)
{
    json_decref(
        hook("/admin/bills/counterparty",
             "{\"number\": \"%s\", \"sub_range\": {\"from\": %ld, "
             "\"to\": %ld}, \"action\": \"%s\", \"reason\": \"不同意\"}",
             num, from, to, action));
}

/* 1 when the bills rounds' marker of record name is there. */
static int marked(struct ojt_world *w, const char *name)
{
    char p[800];
    snprintf(p, sizeof(p), "%s/fam/open/%s", w->state, name);
    return access(p, F_OK) == 0;
}

/* The state folder as an older version left it: records, no markers. */
static void drop_markers(struct ojt_world *w)
{
    char p[800], f[1200];
    snprintf(p, sizeof(p), "%s/fam/open", w->state);
    DIR *d = opendir(p);
    struct dirent *de;
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            snprintf(f, sizeof(f), "%s/%s", p, de->d_name);
            CU_ASSERT_EQUAL(unlink(f), 0);
        }
    closedir(d);
    CU_ASSERT_EQUAL(rmdir(p), 0);
}

/* Issue, present for acceptance (pending -> signed -> follow-up),
 * withdraw (撤票), a refusal with its code. */
static void test_bills_issue(void)
{
    struct ojt_world w;
    struct fmt_bill_result r;
    struct ojt_pgot g;
    char inner[4096], today[11], mat[11];
    OPEN(&w);
    ojt_day(0, today);
    ojt_day(60, mat);
    snprintf(inner, sizeof(inner),
             "<Drft><Tp>AC01</Tp><Amt Ccy=\"CNY\">5000.00</Amt>"
             "<IsseDt>%s</IsseDt><MtrtyDt>%s</MtrtyDt>"
             "<Drwr><Nm>H2HD测试企业有限公司</Nm><Acct><OthrId>" OURS
             "</OthrId></Acct><BkCd>" BANKCD "</BkCd></Drwr>"
             "<Accptr><Nm>H2HD模拟银行</Nm><BkCd>" BANKCD "</BkCd></Accptr>"
             "<Pyee>" SUPPLIER "</Pyee></Drft><AddtlInf>货款</AddtlInf>",
             today, mat);
    char issue_inner[4096];
    snprintf(issue_inner, sizeof(issue_inner), "%s", inner);
    CU_ASSERT_EQUAL(bill(&w, "issue", "ISS-1", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL(logged("ISS-1", "created"), 1);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-ISS-1-1.xml", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.req_id, "ISS-1");
    CU_ASSERT_EQUAL(r.op, FMT_BILL_OP_ISSUE);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_ACCEPTED);
    CU_ASSERT_EQUAL_FATAL(r.n_drafts, 1);
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), "registered");
    CU_ASSERT_EQUAL(r.drafts[0].amount.minor, 500000);
    CU_ASSERT_EQUAL(strlen(r.drafts[0].number), 30);
    snprintf(number_a, sizeof(number_a), "%s", r.drafts[0].number);
    fmt_bill_result_release(&r);
    /* the same request again: answered from the record, nothing sent */
    CU_ASSERT_EQUAL(bill(&w, "issue", "ISS-1", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL(logged("ISS-1", NULL), 1);

    snprintf(inner, sizeof(inner), "<DrftNb>%s</DrftNb>", number_a);
    CU_ASSERT_EQUAL(bill(&w, "present_acceptance", "PA-1", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-PA-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_PENDING);
    CU_ASSERT_EQUAL_FATAL(r.n_drafts, 1);
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), "pending_acceptance");
    CU_ASSERT_EQUAL(r.drafts[0].pending_dir, FMT_BILL_DIR_OUT);
    fmt_bill_result_release(&r);
    /* only the pending one is left for the rounds to read */
    CU_ASSERT_TRUE(marked(&w, "bills-PA-1.json"));
    CU_ASSERT_FALSE(marked(&w, "bills-ISS-1.json"));
    /* nothing moved yet: the round delivers the pending answer only */
    poll_bills(&w, &g);
    CU_ASSERT_TRUE(marked(&w, "bills-PA-1.json"));
    CU_ASSERT_PTR_NOT_NULL(delivered(&g, "bill-PA-1-1.xml", 0));
    CU_ASSERT_PTR_NULL(delivered(&g, "bill-PA-1-2", 0));
    CU_ASSERT_FALSE(outbox_has(&w, "bill-PA-1-1.xml"));
    counterparty(number_a, 1, 500000, "sign");
    poll_bills(&w, &g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(delivered(&g, "bill-PA-1-2.xml", 0));
    CU_ASSERT_EQUAL_FATAL(read_bill(delivered(&g, "bill-PA-1-2.xml", 0), &r),
                          0);
    CU_ASSERT_STRING_EQUAL(r.req_id, "PA-1");
    CU_ASSERT_EQUAL(r.op, FMT_BILL_OP_PRESENT_ACCEPTANCE);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_ACCEPTED);
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), "accepted");
    fmt_bill_result_release(&r);
    /* followed no more */
    CU_ASSERT_FALSE(marked(&w, "bills-PA-1.json"));
    poll_bills(&w, &g);
    CU_ASSERT_PTR_NULL(delivered(&g, "bill-PA-1", 0));

    /* our own pending operation withdrawn: its follow-up says rejected */
    char inner2[4096];
    CU_ASSERT_EQUAL(bill(&w, "issue", "ISS-2", issue_inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-ISS-2-1.xml", &r), 0);
    char num2[31];
    snprintf(num2, sizeof(num2), "%s", r.drafts[0].number);
    fmt_bill_result_release(&r);
    snprintf(inner2, sizeof(inner2), "<DrftNb>%s</DrftNb>", num2);
    CU_ASSERT_EQUAL(bill(&w, "present_acceptance", "PA-2", inner2), H2H_OUT_OK);
    CU_ASSERT_EQUAL(bill(&w, "withdraw", "WD-2", inner2), H2H_OUT_OK);
    outbox_says(&w, "bill-WD-2-1.xml", FMT_BILL_ACCEPTED, "registered");
    /* records of an older version (no markers) are still followed */
    drop_markers(&w);
    poll_bills(&w, &g);
    CU_ASSERT_TRUE(marked(&w, ".built"));
    CU_ASSERT_FALSE(marked(&w, "bills-PA-2.json"));
    CU_ASSERT_EQUAL_FATAL(read_bill(delivered(&g, "bill-PA-2-2.xml", 0), &r),
                          0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_REJECTED);
    CU_ASSERT_STRING_EQUAL(r.bank_text ? r.bank_text : "", "withdrawn");
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), "registered");
    fmt_bill_result_release(&r);

    /* present_payment of a draft that is not ours to present: BIL002 */
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><PrcdsAcct><OthrId>" OURS
             "</OthrId></PrcdsAcct>",
             number_a);
    CU_ASSERT_EQUAL(bill(&w, "present_payment", "PP-0", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-PP-0-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_REJECTED);
    CU_ASSERT_PTR_NOT_NULL(r.bank_code);
    if (r.bank_code)
        CU_ASSERT_TRUE(strncmp(r.bank_code, "BIL", 3) == 0);
    CU_ASSERT_PTR_NOT_NULL(r.bank_text);
    CU_ASSERT_EQUAL(r.n_drafts, 0);
    fmt_bill_result_release(&r);
    CU_ASSERT_EQUAL(logged("PP-0", "refused"), 1);

    /* withdraw (撤票) of the accepted draft */
    snprintf(inner, sizeof(inner), "<DrftNb>%s</DrftNb>", number_a);
    CU_ASSERT_EQUAL(bill(&w, "withdraw", "WD-1", inner), H2H_OUT_OK);
    outbox_says(&w, "bill-WD-1-1.xml", FMT_BILL_ACCEPTED, "withdrawn");
    ojt_world_close(&w);
}

/* A draft presented to us: the notice, sign; endorse a part (remainder),
 * pledge the rest (pool figures), release, discount refused by the bank
 * of the counterparty, present for payment dishonoured, recourse. */
static void test_bills_held(void)
{
    struct ojt_world w;
    struct fmt_bill_result r;
    struct ojt_pgot g;
    char inner[4096], nid[40];
    OPEN(&w);
    present_new("present_receipt", "10000.00", 20, nid, number_b);
    CU_ASSERT_EQUAL_FATAL(strlen(number_b), 30);
    poll_bills(&w, &g);
    char nname[80];
    snprintf(nname, sizeof(nname), "notice-%s.xml", nid);
    const char *np = delivered(&g, nname, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(np);
    {
        struct fmt_bill_notice n = {0};
        struct fmt_src src = {.path = np};
        struct fmt_diag diag;
        struct h2h_err err = {0};
        fmt_diag_init(&diag, np);
        CU_ASSERT_EQUAL(fmt_canon_bill_read_notice(&src, &n, &diag, &err), 0);
        CU_ASSERT_EQUAL(diag.n, 0);
        CU_ASSERT_STRING_EQUAL(n.notice_id, nid);
        CU_ASSERT_EQUAL(n.kind, FMT_BILL_OP_PRESENT_RECEIPT);
        CU_ASSERT_STRING_EQUAL(n.draft.number, number_b);
        CU_ASSERT_EQUAL(n.draft.amount.minor, 1000000);
        CU_ASSERT_EQUAL(n.draft.sub_to, 1000000);
        CU_ASSERT_STRING_EQUAL(n.from.party.name, "西部重工集团有限公司");
        fmt_bill_notice_release(&n);
        fmt_diag_release(&diag);
    }
    /* delivered once: the next round has nothing */
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL(count_delivered(&g, "notice-"), 0);

    snprintf(inner, sizeof(inner), "<DrftNb>%s</DrftNb><NtceId>%s</NtceId>",
             number_b, nid);
    CU_ASSERT_EQUAL(bill(&w, "sign", "SG-1", inner), H2H_OUT_OK);
    outbox_says(&w, "bill-SG-1-1.xml", FMT_BILL_ACCEPTED, "held");

    /* endorse 3,000.00 of it: pending, the remainder held */
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><SubRg><Fr>1</Fr><To>300000</To></SubRg>"
             "<Amt Ccy=\"CNY\">3000.00</Amt><Cpty>" SUPPLIER "</Cpty>",
             number_b);
    CU_ASSERT_EQUAL(bill(&w, "endorse", "EN-1", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-EN-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_PENDING);
    CU_ASSERT_EQUAL_FATAL(r.n_drafts, 2);
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), "pending_endorsement");
    CU_ASSERT_EQUAL(r.drafts[0].sub_to, 300000);
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[1]), "held");
    CU_ASSERT_EQUAL(r.drafts[1].sub_from, 300001);
    CU_ASSERT_EQUAL(r.drafts[1].sub_to, 1000000);
    CU_ASSERT_EQUAL(r.drafts[1].amount.minor, 700000);
    fmt_bill_result_release(&r);
    counterparty(number_b, 1, 300000, "sign");

    /* pledge the rest */
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To>"
             "</SubRg><PoolId>POOL0001</PoolId>",
             number_b);
    CU_ASSERT_EQUAL(bill(&w, "pledge", "PL-1", inner), H2H_OUT_OK);
    outbox_says(&w, "bill-PL-1-1.xml", FMT_BILL_PENDING, "pending_pledge");
    counterparty(number_b, 300001, 1000000, "sign");
    poll_bills(&w, &g);
    bill_says(delivered(&g, "bill-EN-1-2.xml", 0), FMT_BILL_ACCEPTED,
              "endorsed");
    bill_says(delivered(&g, "bill-PL-1-2.xml", 0), FMT_BILL_ACCEPTED,
              "pledged");
    /* the pool changed: one overview with the pledged piece */
    CU_ASSERT_EQUAL(count_delivered(&g, "pool-"), 1);
    const char *pp = delivered(&g, "pool-", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pp);
    CU_ASSERT_EQUAL_FATAL(read_bill(pp, &r), 0);
    CU_ASSERT_EQUAL(r.op, FMT_BILL_OP_POOL_OVERVIEW);
    CU_ASSERT_EQUAL(r.has_pool, 1);
    CU_ASSERT_EQUAL(r.pool.pledged_count, 1);
    CU_ASSERT_EQUAL(r.pool.pledged_total.minor, 700000);
    CU_ASSERT_STRING_EQUAL(r.pool.pool_id, "POOL0001");
    fmt_bill_result_release(&r);
    poll_bills(&w, &g); /* unchanged: no new overview */
    CU_ASSERT_EQUAL(count_delivered(&g, "pool-"), 0);
    json_decref(hook("/admin/bills/pool", "{\"deposit\": \"100.00\"}"));
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL(count_delivered(&g, "pool-"), 1);

    /* release it; then discount, which the discounting bank refuses */
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To>"
             "</SubRg><PoolId>POOL0001</PoolId>",
             number_b);
    CU_ASSERT_EQUAL(bill(&w, "release", "RL-1", inner), H2H_OUT_OK);
    counterparty(number_b, 300001, 1000000, "sign");
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To>"
             "</SubRg><Cpty><Nm>H2HD模拟银行</Nm><BkCd>" BANKCD "</BkCd></Cpty>"
             "<Rate>1.35</Rate><PrcdsAcct><OthrId>" OURS
             "</OthrId></PrcdsAcct>",
             number_b);
    /* still pledged until the round saw the release? The bank knows it
     * is held: the discount goes */
    CU_ASSERT_EQUAL(bill(&w, "discount", "DC-1", inner), H2H_OUT_OK);
    outbox_says(&w, "bill-DC-1-1.xml", FMT_BILL_PENDING, "pending_discount");
    counterparty(number_b, 300001, 1000000, "refuse");
    poll_bills(&w, &g);
    bill_says(delivered(&g, "bill-RL-1-2.xml", 0), FMT_BILL_ACCEPTED, "held");
    CU_ASSERT_EQUAL_FATAL(read_bill(delivered(&g, "bill-DC-1-2.xml", 0), &r),
                          0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_REJECTED);
    CU_ASSERT_STRING_EQUAL(status_name(&r.drafts[0]), "held");
    CU_ASSERT_PTR_NOT_NULL(r.bank_text);
    if (r.bank_text)
        CU_ASSERT_STRING_EQUAL(r.bank_text, "不同意");
    fmt_bill_result_release(&r);

    /* at maturity: presented for payment, dishonoured; recourse */
    char mat[11];
    ojt_day(20, mat);
    json_decref(hook("/admin/date", "{\"today\": \"%s\"}", mat));
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To>"
             "</SubRg>",
             number_b); /* the account: bills_account */
    CU_ASSERT_EQUAL(bill(&w, "present_payment", "PP-1", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-PP-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_PENDING);
    fmt_bill_result_release(&r);
    counterparty(number_b, 300001, 1000000, "dishonour");
    poll_bills(&w, &g);
    bill_says(delivered(&g, "bill-PP-1-2.xml", 0), FMT_BILL_REJECTED,
              "dishonoured");
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To>"
             "</SubRg><Cpty><Nm>西部重工集团有限公司</Nm><Acct><OthrId>"
             "440000000000000004</OthrId></Acct><BkCd>105100000017</BkCd>"
             "</Cpty><Rsn>到期拒付</Rsn>",
             number_b);
    CU_ASSERT_EQUAL(bill(&w, "recourse", "RC-1", inner), H2H_OUT_OK);
    outbox_says(&w, "bill-RC-1-1.xml", FMT_BILL_PENDING, "pending_recourse");
    counterparty(number_b, 300001, 1000000, "sign");
    poll_bills(&w, &g);
    bill_says(delivered(&g, "bill-RC-1-2.xml", 0), FMT_BILL_ACCEPTED,
              "recourse_settled");
    json_decref(hook("/admin/date", "{\"today\": null}"));

    /* inquiries: the pool, drafts by status, one draft with history */
    CU_ASSERT_EQUAL(bill(&w, "pool_overview", "IQ-1", ""), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-IQ-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.has_pool, 1);
    CU_ASSERT_EQUAL(r.pool.deposit.minor, 10000);
    fmt_bill_result_release(&r);
    CU_ASSERT_EQUAL(
        bill(&w, "drafts", "IQ-2", "<Fltrs><Sts>endorsed</Sts></Fltrs>"),
        H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-IQ-2-1.xml", &r), 0);
    CU_ASSERT_EQUAL_FATAL(r.n_drafts, 1);
    CU_ASSERT_STRING_EQUAL(r.drafts[0].number, number_b);
    CU_ASSERT_EQUAL(r.drafts[0].sub_to, 300000);
    fmt_bill_result_release(&r);
    /* more pieces than a page (page size 2) */
    CU_ASSERT_EQUAL(bill(&w, "drafts", "IQ-3", ""), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-IQ-3-1.xml", &r), 0);
    CU_ASSERT_TRUE(r.n_drafts >= 2);
    fmt_bill_result_release(&r);
    snprintf(inner, sizeof(inner), "<DrftNb>%s</DrftNb>", number_b);
    CU_ASSERT_EQUAL(bill(&w, "draft_detail", "IQ-4", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-IQ-4-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.n_drafts, 2);
    CU_ASSERT_TRUE(r.n_history >= 3);
    fmt_bill_result_release(&r);
    ojt_world_close(&w);
}

/* Refuse a notice; a notice inquiry; recover after the answer was lost;
 * recover of a request never sent; a key used with other bytes; a field
 * the bank refuses. */
static void test_bills_notices_recover(void)
{
    struct ojt_world w;
    struct fmt_bill_result r;
    struct ojt_pgot g;
    char inner[4096], nid[40], num[31], msg[H2H_ERR_MSG_MAX];
    OPEN(&w);
    present_new("endorse", "2000.00", 40, nid, num);
    CU_ASSERT_EQUAL(bill(&w, "notices", "NQ-1", ""), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-NQ-1-1.xml", &r), 0);
    CU_ASSERT_TRUE(r.n_notices >= 1);
    int found = 0;
    for (size_t i = 0; i < r.n_notices; i++)
        found += strcmp(r.notices[i].notice_id, nid) == 0;
    CU_ASSERT_EQUAL(found, 1);
    fmt_bill_result_release(&r);
    snprintf(inner, sizeof(inner),
             "<DrftNb>%s</DrftNb><NtceId>%s</NtceId><Rsn>货不对板</Rsn>", num,
             nid);
    CU_ASSERT_EQUAL(bill(&w, "refuse", "RF-1", inner), H2H_OUT_OK);
    outbox_says(&w, "bill-RF-1-1.xml", FMT_BILL_ACCEPTED, "refused");
    /* the refused notice is answered: sign refused by the bank, BIL014 */
    snprintf(inner, sizeof(inner), "<DrftNb>%s</DrftNb><NtceId>%s</NtceId>",
             num, nid);
    CU_ASSERT_EQUAL(bill(&w, "sign", "SG-9", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_bill(&w, "bill-SG-9-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.outcome, FMT_BILL_REJECTED);
    CU_ASSERT_STRING_EQUAL(r.bank_code ? r.bank_code : "", "BIL014");
    fmt_bill_result_release(&r);

    /* the bank records an issue and the answer is lost */
    char today[11], mat[11], xml[4096];
    ojt_day(0, today);
    ojt_day(30, mat);
    snprintf(inner, sizeof(inner),
             "<Drft><Tp>AC01</Tp><Amt Ccy=\"CNY\">100.00</Amt>"
             "<IsseDt>%s</IsseDt><MtrtyDt>%s</"
             "MtrtyDt><Drwr><Nm>H2HD测试企业有限公司</Nm><Acct>"
             "<OthrId>" OURS "</OthrId></Acct><BkCd>" BANKCD "</BkCd></Drwr>"
             "<Accptr><Nm>H2HD模拟银行</Nm><BkCd>" BANKCD "</BkCd></Accptr>"
             "<Pyee>" SUPPLIER "</Pyee></Drft>",
             today, mat);
    json_decref(hook("/admin/faults", "{\"timeout_after_create_next\": 1, "
                                      "\"timeout_mode\": \"close\"}"));
    enum h2h_outcome o = bill(&w, "issue", "ISS-9", inner);
    CU_ASSERT_EQUAL(o, H2H_OUT_UNKNOWN);
    CU_ASSERT_FALSE(outbox_has(&w, "bill-ISS-9-1.xml"));
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BillRequest "
             "xmlns=\"" NS "\"><Op>issue</Op><ReqId>ISS-9</ReqId>%s"
             "</BillRequest>\n",
             inner);
    CU_ASSERT_EQUAL(send_req(&w, "bill", "ISS-9", xml, 1, msg, sizeof(msg)),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL(logged("ISS-9", "created"), 1);
    CU_ASSERT_EQUAL(logged("ISS-9", NULL), 1);
    outbox_says(&w, "bill-ISS-9-1.xml", FMT_BILL_ACCEPTED, "registered");

    /* never sent: the bank does not know it */
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BillRequest "
             "xmlns=\"" NS "\"><Op>issue</Op><ReqId>ISS-10</ReqId>%s"
             "</BillRequest>\n",
             inner);
    CU_ASSERT_EQUAL(send_req(&w, "bill", "ISS-10", xml, 1, msg, sizeof(msg)),
                    H2H_OUT_NOT_SENT);
    CU_ASSERT_EQUAL(logged("ISS-10", NULL), 0);
    CU_ASSERT_EQUAL(bill(&w, "issue", "ISS-10", inner), H2H_OUT_OK);
    CU_ASSERT_EQUAL(logged("ISS-10", "created"), 1);

    /* ISS-10 again with another amount: refused here (our record) ... */
    char inner2[4096];
    snprintf(inner2, sizeof(inner2), "%s", inner);
    char *p = strstr(inner2, "100.00");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    memcpy(p, "200.00", 6);
    CU_ASSERT_EQUAL(bill(&w, "issue", "ISS-10", inner2), H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(logged("ISS-10", NULL), 1);
    /* ... and by the bank when our record is gone (422 conflict) */
    char rec[800];
    snprintf(rec, sizeof(rec), "%s/fam/bills-ISS-10.json", w.state);
    CU_ASSERT_EQUAL(unlink(rec), 0);
    CU_ASSERT_EQUAL(bill(&w, "issue", "ISS-10", inner2), H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(logged("ISS-10", "conflict"), 1);

    /* a name the bank refuses (more than 100 characters): 400 names it */
    char longname[400] = "";
    for (int i = 0; i < 30; i++)
        strcat(longname, "长名字公");
    snprintf(inner2, sizeof(inner2),
             "<DrftNb>%s</DrftNb><Cpty><Nm>%s</Nm><Acct><OthrId>1</OthrId>"
             "</Acct><BkCd>104100000045</BkCd></Cpty>",
             num, longname);
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BillRequest "
             "xmlns=\"" NS "\"><Op>endorse</Op><ReqId>EN-9</ReqId>%s"
             "</BillRequest>\n",
             inner2);
    o = send_req(&w, "bill", "EN-9", xml, 0, msg, sizeof(msg));
    CU_ASSERT_EQUAL(o, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "counterparty"));
    (void)g;
    ojt_world_close(&w);
}

/* ---- supply-chain finance --------------------------------------------------
 */

static int read_scf(const char *path, struct fmt_canon_scf_result *r)
{
    struct fmt_src src = {.path = path};
    struct fmt_diag diag;
    struct h2h_err err = {0};
    fmt_diag_init(&diag, path);
    fmt_canon_scf_result_init(r);
    int rc = path ? fmt_canon_scf_read_result(&src, r, &diag, &err) : -1;
    if (rc != 0 || diag.n) {
        fprintf(stderr, "  %s: %s\n", path ? path : "(none)", err.msg);
        fmt_diag_print(&diag, stderr);
        rc = -1;
    }
    fmt_diag_release(&diag);
    return rc;
}

static int outbox_scf(struct ojt_world *w, const char *name,
                      struct fmt_canon_scf_result *r)
{
    char p[800];
    snprintf(p, sizeof(p), "%s/outbox/%s", w->state, name);
    return read_scf(p, r);
}

static enum h2h_outcome scf(struct ojt_world *w, const char *req_id,
                            const char *branch)
{
    char xml[8192];
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<ScfRequest xmlns=\"urn:h2hd:scf:1\">%s</ScfRequest>\n",
             branch);
    return send_req(w, "scf", req_id, xml, 0, NULL, 0);
}

static void fincg(char *buf, size_t n, const char *id, const char *amount,
                  const char *value_date)
{
    char i1[11], d1[11];
    ojt_day(-10, i1);
    ojt_day(60, d1);
    snprintf(buf, n,
             "<Fincg><ReqId>%s</ReqId><Kind>receivable</Kind><Ccy>CNY</Ccy>"
             "<ReqdAmt Ccy=\"CNY\">%s</ReqdAmt>%s%s%s"
             "<Rqstr><Nm>H2HD测试企业有限公司</Nm></Rqstr>"
             "<CdtAcct><OthrId>" OURS "</OthrId></CdtAcct>"
             "<FrstAgt><ClrSysId>CNAPS</ClrSysId><ClrSysMmbId>" BANKCD
             "</ClrSysMmbId></FrstAgt><Invcs>"
             "<Invc><Nb>%s-A</Nb><IsseDt>%s</IsseDt><DueDt>%s</DueDt>"
             "<Amt Ccy=\"CNY\">60000.00</Amt><Buyr><Nm>华南精密制造集团有限公司"
             "</Nm></Buyr></Invc>"
             "<Invc><Nb>%s-B</Nb><IsseDt>%s</IsseDt><DueDt>%s</DueDt>"
             "<Amt Ccy=\"CNY\">40000.00</Amt><Buyr><Nm>华南精密制造集团有限公司"
             "</Nm></Buyr></Invc></Invcs></Fincg>",
             id, amount, value_date ? "<ValDt>" : "",
             value_date ? value_date : "", value_date ? "</ValDt>" : "", id, i1,
             d1, id, i1, d1);
}

static const struct fmt_scf_status_report *
sts_of(struct fmt_canon_scf_result *r)
{
    CU_ASSERT_EQUAL(r->kind, FMT_CANON_SCF_STATUS);
    return &r->sts;
}

static void test_scf_financing(void)
{
    struct ojt_world w;
    struct fmt_canon_scf_result r;
    struct ojt_pgot g;
    char branch[8192];
    OPEN(&w);
    fincg(branch, sizeof(branch), "FIN-1", "80000.00", NULL);
    CU_ASSERT_EQUAL(scf(&w, "FIN-1", branch), H2H_OUT_OK);
    CU_ASSERT_EQUAL(logged("FIN-1", "created"), 1);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-FIN-1-1.xml", &r), 0);
    CU_ASSERT_STRING_EQUAL(sts_of(&r)->orgnl_request_id, "FIN-1");
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_SUBMITTED);
    CU_ASSERT_EQUAL(r.sts.n_invoices, 2);
    fmt_canon_scf_result_release(&r);

    json_decref(hook("/admin/scf/review",
                     "{\"request_id\": \"FIN-1\", \"decision\": \"approve\"}"));
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "scf-FIN-1-2.xml", 0), &r), 0);
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_APPROVED);
    CU_ASSERT_EQUAL(r.sts.financed.minor, 8000000);
    CU_ASSERT_TRUE(r.sts.interest_rate > 0);
    CU_ASSERT_PTR_NOT_NULL(r.sts.maturity_date);
    fmt_canon_scf_result_release(&r);
    poll_bills(&w, &g); /* nothing changed: nothing new */
    CU_ASSERT_PTR_NULL(delivered(&g, "scf-FIN-1", 0));
    json_decref(
        hook("/admin/scf/review",
             "{\"request_id\": \"FIN-1\", \"decision\": \"disburse\"}"));
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "scf-FIN-1-3.xml", 0), &r), 0);
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_FINANCED);
    CU_ASSERT_PTR_NOT_NULL(r.sts.loan_ref);
    CU_ASSERT_PTR_NOT_NULL(r.sts.value_date);
    fmt_canon_scf_result_release(&r);
    /* a "due" notice came with the disbursement, delivered after the
     * report that the financing was disbursed */
    CU_ASSERT_EQUAL(count_delivered(&g, "scfrpmt-"), 1);
    CU_ASSERT_TRUE(order_of(&g, "scf-FIN-1-3") >= 0 &&
                   order_of(&g, "scf-FIN-1-3") < order_of(&g, "scfrpmt-"));

    /* too late to cancel: SCF010, the report says refused */
    CU_ASSERT_EQUAL(scf(&w, "FIN-1-C1",
                        "<Cxl><CxlId>FIN-1-C1</CxlId><OrgnlReqId>FIN-1"
                        "</OrgnlReqId><Rsn>不再需要</Rsn></Cxl>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-FIN-1-C1-1.xml", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.sts.orgnl_request_id, "FIN-1");
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_FINANCED);
    CU_ASSERT_EQUAL(r.sts.cancel_answer, FMT_SCF_CXL_REFUSED);
    CU_ASSERT_STRING_EQUAL(
        r.sts.cancel_reason.prtry ? r.sts.cancel_reason.prtry : "", "SCF010");
    fmt_canon_scf_result_release(&r);

    /* repaid: a "paid" notice and the final report */
    json_decref(hook("/admin/scf/review",
                     "{\"request_id\": \"FIN-1\", \"decision\": \"repay\"}"));
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "scf-FIN-1-4.xml", 0), &r), 0);
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_REPAID);
    fmt_canon_scf_result_release(&r);
    /* the "paid" notice goes before the report that says repaid */
    CU_ASSERT_EQUAL(count_delivered(&g, "rpmt-"), 1);
    CU_ASSERT_TRUE(order_of(&g, "rpmt-") >= 0 &&
                   order_of(&g, "rpmt-") < order_of(&g, "scf-FIN-1-4"));
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "rpmt-", 0), &r), 0);
    CU_ASSERT_EQUAL(r.kind, FMT_CANON_SCF_REPAYMENT);
    CU_ASSERT_EQUAL(r.rpmt.kind, FMT_SCF_REPAY_PAID);
    CU_ASSERT_STRING_EQUAL(r.rpmt.request_id, "FIN-1");
    CU_ASSERT_EQUAL(r.rpmt.principal.minor, 8000000);
    fmt_canon_scf_result_release(&r);
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL(
        count_delivered(&g, "rpmt-") + count_delivered(&g, "scfrpmt-"), 0);

    /* a request the bank refuses: value date in the past, SCF006 */
    char past[11];
    ojt_day(-3, past);
    fincg(branch, sizeof(branch), "FIN-2", "1000.00", past);
    CU_ASSERT_EQUAL(scf(&w, "FIN-2", branch), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-FIN-2-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_REJECTED);
    CU_ASSERT_STRING_EQUAL(r.sts.reason.prtry ? r.sts.reason.prtry : "",
                           "SCF006");
    fmt_canon_scf_result_release(&r);

    /* a cancellation before disbursement; the inquiry afterwards */
    fincg(branch, sizeof(branch), "FIN-3", "1000.00", NULL);
    CU_ASSERT_EQUAL(scf(&w, "FIN-3", branch), H2H_OUT_OK);
    CU_ASSERT_EQUAL(scf(&w, "FIN-3-C",
                        "<Cxl><CxlId>FIN-3-C</CxlId><OrgnlReqId>FIN-3"
                        "</OrgnlReqId><Rsn>买方已付款</Rsn></Cxl>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-FIN-3-C-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_CANCELLED);
    CU_ASSERT_EQUAL(r.sts.cancel_answer, FMT_SCF_CXL_ACCEPTED);
    fmt_canon_scf_result_release(&r);
    CU_ASSERT_EQUAL(scf(&w, "INQ-3",
                        "<Inq><InqId>INQ-3</InqId><OrgnlReqId>FIN-3"
                        "</OrgnlReqId></Inq>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-INQ-3-1.xml", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.sts.orgnl_request_id, "FIN-3");
    CU_ASSERT_EQUAL(r.sts.status, FMT_SCF_CANCELLED);
    fmt_canon_scf_result_release(&r);
    ojt_world_close(&w);
}

/* ---- credit vouchers -------------------------------------------------------
 */

static enum h2h_outcome vop(struct ojt_world *w, const char *req_id,
                            const char *op, const char *vid, const char *more)
{
    char b[4096], today[11];
    ojt_day(0, today);
    snprintf(b, sizeof(b),
             "<VchrOp><ReqId>%s</ReqId><Op>%s</Op><VchrId>%s</VchrId>"
             "<Actr>" US_ID "</Actr><Dt>%s</Dt>%s</VchrOp>",
             req_id, op, vid, today, more);
    return scf(w, req_id, b);
}

static const struct fmt_voucher *vfind(const struct fmt_voucher *v, size_t n,
                                       const char *holder, const char *st)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].holder ? v[i].holder : "", holder) &&
            !strcmp(fmt_voucher_status_name(v[i].status), st))
            return &v[i];
    return NULL;
}

static void test_scf_vouchers(void)
{
    struct ojt_world w;
    struct fmt_canon_scf_result r;
    struct ojt_pgot g;
    char more[1024], mat[11], root[40] = "", mine[40] = "";
    OPEN(&w);
    ojt_day(30, mat);
    /* we issue to our supplier: pending until it signs */
    snprintf(more, sizeof(more),
             "<Cpty>" SUP_ID "</Cpty><Amt Ccy=\"CNY\">100000.00</Amt>"
             "<MtrtyDt>%s</MtrtyDt>",
             mat);
    CU_ASSERT_EQUAL(vop(&w, "VI-1", "issue", "NEW-1", more), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VI-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.kind, FMT_CANON_SCF_VOP_RESULT);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_PENDING);
    CU_ASSERT_EQUAL_FATAL(r.vrslt.n_vouchers, 1);
    CU_ASSERT_STRING_EQUAL(r.vrslt.vouchers[0].issuer, US_ID);
    CU_ASSERT_STRING_EQUAL(r.vrslt.vouchers[0].holder, SUP_ID);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].amount.minor, 10000000);
    snprintf(root, sizeof(root), "%s", r.vrslt.vouchers[0].id);
    fmt_canon_scf_result_release(&r);
    json_decref(hook("/admin/scf/vouchers",
                     "{\"action\": \"sign\", \"voucher_id\": \"%s\"}", root));

    /* an outside core enterprise issues one to us */
    json_t *j = hook("/admin/scf/vouchers",
                     "{\"action\": \"issue\", \"issuer\": " DRAWER_J
                     ", \"to\": " US_J ", \"amount\": {\"amount\": "
                     "\"50000.00\", \"currency\": \"CNY\"}, "
                     "\"maturity_date\": \"%s\"}",
                     mat);
    snprintf(mine, sizeof(mine), "%s",
             json_string_value(
                 json_object_get(json_object_get(j, "voucher"), "voucher_id"))
                 ? json_string_value(json_object_get(
                       json_object_get(j, "voucher"), "voucher_id"))
                 : "");
    json_decref(j);
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "scf-VI-1-2.xml", 0), &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].status, FMT_VOUCHER_HELD);
    fmt_canon_scf_result_release(&r);
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "scfhldgs-", 0), &r), 0);
    CU_ASSERT_EQUAL(r.kind, FMT_CANON_SCF_HOLDINGS);
    CU_ASSERT_STRING_EQUAL(r.hldgs.party, US_ID);
    CU_ASSERT_PTR_NOT_NULL(
        vfind(r.hldgs.vouchers, r.hldgs.n_vouchers, US_ID, "pending"));
    CU_ASSERT_EQUAL(r.hldgs.totals.n_pending_in, 1);
    /* and the tree we issued, held by the supplier */
    CU_ASSERT_PTR_NOT_NULL(
        vfind(r.hldgs.vouchers, r.hldgs.n_vouchers, SUP_ID, "held"));
    CU_ASSERT_EQUAL(r.hldgs.totals.issued_live, 10000000);
    CU_ASSERT_EQUAL(r.hldgs.totals.pending_in, 5000000);
    fmt_canon_scf_result_release(&r);
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL(count_delivered(&g, "scfhldgs-"), 0);

    /* sign it, pass 30000.00 on, finance the rest */
    CU_ASSERT_EQUAL(vop(&w, "VS-1", "sign", mine, ""), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VS-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].status, FMT_VOUCHER_HELD);
    fmt_canon_scf_result_release(&r);
    CU_ASSERT_EQUAL(vop(&w, "VT-1", "transfer", mine,
                        "<Cpty>" SUP_ID "</Cpty><Amt Ccy=\"CNY\">30000.00"
                        "</Amt><NewId>CHILD-1</NewId>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VT-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_PENDING);
    CU_ASSERT_EQUAL_FATAL(r.vrslt.n_vouchers, 2);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].remaining, 2000000);
    CU_ASSERT_STRING_EQUAL(r.vrslt.vouchers[1].holder, SUP_ID);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[1].level, 2);
    char child[40];
    snprintf(child, sizeof(child), "%s", r.vrslt.vouchers[1].id);
    fmt_canon_scf_result_release(&r);
    json_decref(hook("/admin/scf/vouchers",
                     "{\"action\": \"sign\", \"voucher_id\": \"%s\"}", child));
    CU_ASSERT_EQUAL(vop(&w, "VF-1", "finance", mine, "<Cpty>" BANKCD "</Cpty>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VF-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].status, FMT_VOUCHER_FINANCED);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].fin_amount, 2000000);
    fmt_canon_scf_result_release(&r);
    poll_bills(&w, &g);
    CU_ASSERT_EQUAL_FATAL(read_scf(delivered(&g, "scf-VT-1-2.xml", 0), &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].status, FMT_VOUCHER_HELD);
    CU_ASSERT_STRING_EQUAL(r.vrslt.vouchers[0].holder, SUP_ID);
    fmt_canon_scf_result_release(&r);
    CU_ASSERT_EQUAL(count_delivered(&g, "scfhldgs-"), 1);

    /* a refusal: financing again, SCF031 */
    CU_ASSERT_EQUAL(vop(&w, "VF-2", "finance", mine, "<Cpty>" BANKCD "</Cpty>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VF-2-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_REJECTED);
    CU_ASSERT_STRING_EQUAL(r.vrslt.bank_code ? r.vrslt.bank_code : "",
                           "SCF031");
    fmt_canon_scf_result_release(&r);

    /* at maturity we settle the tree we issued */
    json_decref(hook("/admin/date", "{\"today\": \"%s\"}", mat));
    CU_ASSERT_EQUAL(vop(&w, "VX-1", "settle", root, ""), H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VX-1-1.xml", &r), 0);
    CU_ASSERT_EQUAL(r.vrslt.outcome, FMT_CANON_SCF_ACCEPTED);
    CU_ASSERT_EQUAL(r.vrslt.vouchers[0].status, FMT_VOUCHER_SETTLED);
    fmt_canon_scf_result_release(&r);
    json_decref(hook("/admin/date", "{\"today\": null}"));

    /* our holdings on request */
    CU_ASSERT_EQUAL(scf(&w, "VQ-1",
                        "<VchrInq><InqId>VQ-1</InqId><Pty>" US_ID
                        "</Pty></VchrInq>"),
                    H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(outbox_scf(&w, "scf-VQ-1-1.xml", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.hldgs.req_id, "VQ-1");
    CU_ASSERT_PTR_NOT_NULL(
        vfind(r.hldgs.vouchers, r.hldgs.n_vouchers, US_ID, "financed"));
    CU_ASSERT_EQUAL(r.hldgs.totals.n_financed, 1);
    fmt_canon_scf_result_release(&r);
    /* a counterparty nobody mapped */
    CU_ASSERT_EQUAL(vop(&w, "VT-9", "transfer", mine,
                        "<Cpty>UNKNOWN-PARTY</Cpty><Amt Ccy=\"CNY\">1.00"
                        "</Amt><NewId>C-9</NewId>"),
                    H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(logged("VT-9", NULL), 0);
    ojt_world_close(&w);
}

static const struct tu_case cases[] = {
    {"settings", test_settings},
    {"bills: issue, acceptance, withdraw, refusal", test_bills_issue},
    {"bills: notice, endorse, pool, discount, payment, recourse",
     test_bills_held},
    {"bills: refuse, recover, conflicts", test_bills_notices_recover},
    {"scf: financing life, cancel, notices", test_scf_financing},
    {"scf: vouchers issue, sign, transfer, finance, settle", test_scf_vouchers},
    {NULL, NULL},
};

int main(void)
{
    return ojt_main("oj_bills", cases);
}
