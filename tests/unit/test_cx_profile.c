/*
 * test_cx_profile.c - the cnbank_xml profile loader (cx_profile.c).
 *
 * Both shipped profiles (etc/cnbank/) load and carry the values of
 * PROFILE.md's comparison table; a table of broken copies of a shipped
 * profile (one text edit each) is refused with the expected message at
 * the expected line of the copy (the setting reported must come from the
 * copy, so that the daemon prints its file:line); a file that cannot be
 * read or parsed is reported once at the bank's `profile` setting; the
 * lookups (return code classes, currencies, statuses); and loading frees
 * everything it allocates (also run under the ASan build).  The optional
 * bill pool and scf families (PROFILE.md "Bill pool and supply-chain
 * finance"): both profiles have both, a profile may have neither, and
 * each of their rules refuses a broken copy (several edits each) at the
 * line of the setting concerned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cx_int.h"
#include "testutil.h"

/* ---- loading with a recording reporter ---------------------------------- */

struct rep {
    int n;
    char first[600];
    int first_line;
    const config_setting_t *first_s;
    char first_file[1024];
    char all[16384];
};

static void report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    struct rep *r = ctx;
    int line = s ? (int)config_setting_source_line(s) : -1;
    if (r->n++ == 0) {
        snprintf(r->first, sizeof(r->first), "%s", msg);
        r->first_line = line;
        r->first_s = s;
        const char *f = s ? config_setting_source_file(s) : NULL;
        snprintf(r->first_file, sizeof(r->first_file), "%s", f ? f : "");
    }
    size_t l = strlen(r->all);
    snprintf(r->all + l, sizeof(r->all) - l, "  %d: %s\n", line, msg);
}

/* The bank's `profile` setting in h2hd.conf, where problems with the file
 * as a whole are reported: line 3 of this text. */
static config_t at_cfg;
static const config_setting_t *AT;
#define AT_LINE 3

static void at_init(void)
{
    config_init(&at_cfg);
    if (config_read_string(&at_cfg, "# h2hd.conf\n\nprofile = \"x\";\n") !=
        CONFIG_TRUE)
        abort();
    AT = config_lookup(&at_cfg, "profile");
}

static int load(const char *path, struct rep *r, struct cx_profile **out)
{
    memset(r, 0, sizeof(*r));
    struct aset a = {.report = report_cb, .ctx = r, .group = "cnbank_xml"};
    int n = cx_profile_load(path, &a, AT, out);
    CU_ASSERT_EQUAL(a.n, n);
    CU_ASSERT_EQUAL(r->n, n);
    CU_ASSERT_FALSE(a.oom);
    return n;
}

static char cmb_path[4096], icbc_path[4096];

static void paths_init(void)
{
    snprintf(cmb_path, sizeof(cmb_path), "%s",
             tu_src("etc/cnbank/cmb-style.profile"));
    snprintf(icbc_path, sizeof(icbc_path), "%s",
             tu_src("etc/cnbank/icbc-style.profile"));
}

static struct cx_profile *load_ok(const char *path)
{
    struct rep r;
    struct cx_profile *p = NULL;
    int n = load(path, &r, &p);
    if (n)
        fprintf(stderr, "  %s: %d problems:\n%s", path, n, r.all);
    CU_ASSERT_EQUAL(n, 0);
    return p;
}

/* ---- the shipped profiles ----------------------------------------------- */

#define STREQ(a, b) CU_ASSERT_STRING_EQUAL((a) ? (a) : "(null)", (b))

static void test_cmb(void)
{
    struct cx_profile *p = load_ok(cmb_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    STREQ(p->file, cmb_path);
    STREQ(p->name, "cmb-style");
    STREQ(p->encoding, "GBK");
    CU_ASSERT_EQUAL(p->framing, CX_FRAMING_HTTP);
    STREQ(p->content_type, "text/xml; charset=GBK");
    CU_ASSERT_EQUAL(p->length_digits, 0);
    CU_ASSERT_EQUAL(p->amount_fen, 0);
    STREQ(p->date_format, "%Y%m%d");
    STREQ(p->time_format, "%H%M%S");
    CU_ASSERT_EQUAL(p->utc_offset_min, 480);
    CU_ASSERT_EQUAL(p->n_ccy, 3);
    STREQ(cx_ccy_bank(p, "CNY"), "10");
    STREQ(cx_ccy_bank(p, "USD"), "32");
    STREQ(cx_ccy_iso(p, "21"), "HKD");
    CU_ASSERT_PTR_NULL(cx_ccy_bank(p, "EUR"));
    CU_ASSERT_PTR_NULL(cx_ccy_iso(p, "CNY"));
    CU_ASSERT_EQUAL(p->limits.serial, 30);
    CU_ASSERT_EQUAL(p->limits.name, 60);
    CU_ASSERT_EQUAL(p->limits.remittance, 60);
    CU_ASSERT_EQUAL(p->limits.bank_name, 60);
    CU_ASSERT_EQUAL(p->limits.batch_items, 500);

    STREQ(p->root, "CMBSDKPGK");
    CU_ASSERT_EQUAL_FATAL(p->n_header, 4);
    STREQ(p->header[0].path, "INFO/FUNNAM");
    STREQ(p->header[0].tmpl, "{function}");
    STREQ(p->header[1].tmpl, "2");
    STREQ(p->header[3].path, "INFO/SEQNBR");
    STREQ(p->header[3].tmpl, "{request_id}");
    STREQ(p->body, "");
    STREQ(p->response_body, "");

    STREQ(p->code_path, "INFO/RETCOD");
    STREQ(p->message_path, "INFO/ERRMSG");
    CU_ASSERT_EQUAL_FATAL(p->n_echo, 2);
    STREQ(p->echo[0], "INFO/FUNNAM");
    STREQ(p->echo[1], "INFO/SEQNBR");
    CU_ASSERT_EQUAL(cx_code_class(p, "0"), CX_CODE_OK);
    CU_ASSERT_EQUAL(cx_code_class(p, "-9"), CX_CODE_BUSY);
    CU_ASSERT_EQUAL(cx_code_class(p, "-6"), CX_CODE_NOT_FOUND);
    CU_ASSERT_EQUAL(cx_code_class(p, "-5"), CX_CODE_DUPLICATE);
    CU_ASSERT_EQUAL(cx_code_class(p, "-4"), CX_CODE_ERROR);
    CU_ASSERT_EQUAL(cx_code_class(p, "-1"), CX_CODE_ERROR);
    CU_ASSERT_EQUAL(cx_code_class(p, "00"), CX_CODE_ERROR);
    CU_ASSERT_EQUAL(cx_code_class(p, ""), CX_CODE_ERROR);
    CU_ASSERT_EQUAL(cx_code_class(p, NULL), CX_CODE_ERROR);
    STREQ(p->errors.format, "-1");
    STREQ(p->errors.signature, "-2");
    STREQ(p->errors.login, "-3");
    STREQ(p->errors.invalid, "-4");
    STREQ(p->errors.duplicate, "-5");
    STREQ(p->errors.account, "-7");

    CU_ASSERT_EQUAL(p->sig_where, CX_SIG_HEADER);
    STREQ(p->sig_header, "X-Sign");
    CU_ASSERT_PTR_NULL(p->sig_element);
    CU_ASSERT_EQUAL(p->resp_sig_where, CX_SIG_HEADER);
    STREQ(p->resp_sig_header, "X-Sign");
    CU_ASSERT_PTR_NULL(p->resp_sig_element);
    CU_ASSERT_EQUAL(p->paging, CX_PAGING_TOKEN);
    CU_ASSERT_PTR_NULL(p->more_value);

    const struct cx_function *f = &p->fn[CX_FN_PAYMENT];
    STREQ(f->code, "DCPAYMNT");
    CU_ASSERT_EQUAL(f->n_header, 0);
    CU_ASSERT_EQUAL_FATAL(f->n_request, 11);
    STREQ(f->request[0].path, "SDKPAYRQX/BUSCOD");
    STREQ(f->request[0].tmpl, "N02031");
    STREQ(f->request[2].path, "DCOPDPAYX/YURREF");
    STREQ(f->request[2].tmpl, "{serial}");
    STREQ(f->request[10].tmpl, "{creditor_bank}");
    STREQ(f->result[CX_K_SERIAL], "NTQPAYRQZ/YURREF");
    STREQ(f->result[CX_K_BANK_REF], "NTQPAYRQZ/REQNBR");
    STREQ(f->result[CX_K_REASON], "NTQPAYRQZ/ERRTXT");
    CU_ASSERT_PTR_NULL(f->result[CX_K_AMOUNT]);
    CU_ASSERT_PTR_NULL(f->items);
    STREQ(p->fn[CX_FN_PAYMENT_STATUS].code, "GetPaymentInfo");
    STREQ(p->fn[CX_FN_PAYMENT_STATUS].result[CX_K_AMOUNT], "NTQPAYQYZ/TRSAMT");

    f = &p->fn[CX_FN_PAYROLL];
    STREQ(f->code, "AgentRequest");
    STREQ(f->items, "SDKATDRQX");
    CU_ASSERT_EQUAL_FATAL(f->n_item, 5);
    STREQ(f->item[0].path, "TRXSEQ");
    STREQ(f->item[0].tmpl, "{item_no}");
    CU_ASSERT_EQUAL_FATAL(f->n_request, 9);
    STREQ(f->request[8].tmpl, "\xe4\xbb\xa3\xe5\x8f\x91\xe5\xb7\xa5\xe8\xb5"
                              "\x84"); /* 代发工资, UTF-8 as in the file */

    f = &p->fn[CX_FN_PAYROLL_RESULT];
    STREQ(f->result[CX_K_ITEMS], "NTAGDINFZ");
    STREQ(f->item_result[CX_K_ITEM_NO], "TRXSEQ");
    STREQ(f->item_result[CX_K_STATUS], "STSCOD");
    CU_ASSERT_PTR_NULL(f->result[CX_K_REASON]);

    f = &p->fn[CX_FN_TRANSACTIONS];
    STREQ(f->code, "GetTransInfo");
    STREQ(f->request[3].tmpl, "{page}");
    STREQ(f->result[CX_K_NEXT], "NTSTPINFZ/CTNKEY");
    CU_ASSERT_PTR_NULL(f->result[CX_K_MORE]);
    STREQ(f->item_result[CX_K_DEBIT_VALUE], "D");
    STREQ(f->item_result[CX_K_CREDIT_VALUE], "C");
    STREQ(f->item_result[CX_K_COUNTERPARTY_ACCOUNT], "RPYACC");
    STREQ(p->fn[CX_FN_RECEIPTS].result[CX_K_NEXT], "NTRCDCTNZ/CTNKEY");

    f = &p->fn[CX_FN_RECEIPT_DOWNLOAD];
    STREQ(f->code, "DCRCDFIL");
    CU_ASSERT_EQUAL(f->content_base64, 1);
    STREQ(f->result[CX_K_CONTENT], "NTRCDFILZ/FILDAT");

    CU_ASSERT_EQUAL(p->n_status_map, 4);
    STREQ(cx_status_iso(p, "BNK"), "PDNG");
    STREQ(cx_status_iso(p, "AUT"), "PDNG");
    STREQ(cx_status_iso(p, "FIN"), "ACSC");
    STREQ(cx_status_iso(p, "REJ"), "RJCT");
    CU_ASSERT_PTR_NULL(cx_status_iso(p, "PDNG"));
    CU_ASSERT_PTR_NULL(cx_status_iso(p, "bnk"));
    cx_profile_free(p);
}

static void test_icbc(void)
{
    struct cx_profile *p = load_ok(icbc_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    STREQ(p->name, "icbc-style");
    STREQ(p->encoding, "GB18030");
    CU_ASSERT_EQUAL(p->framing, CX_FRAMING_TCP);
    CU_ASSERT_PTR_NULL(p->content_type);
    CU_ASSERT_EQUAL(p->length_digits, 6);
    CU_ASSERT_EQUAL(p->amount_fen, 1);
    STREQ(p->date_format, "%Y-%m-%d");
    STREQ(p->time_format, "%H:%M:%S");
    CU_ASSERT_EQUAL(p->utc_offset_min, 480);
    STREQ(cx_ccy_bank(p, "CNY"), "001");
    STREQ(cx_ccy_iso(p, "014"), "USD");
    CU_ASSERT_PTR_NULL(cx_ccy_iso(p, "10"));
    CU_ASSERT_EQUAL(p->limits.remittance, 40);
    CU_ASSERT_EQUAL(p->limits.batch_items, 200);

    STREQ(p->root, "CMS");
    CU_ASSERT_EQUAL_FATAL(p->n_header, 7);
    STREQ(p->header[0].path, "eb/pub/TransCode");
    STREQ(p->header[6].path, "eb/pub/fSeqno");
    STREQ(p->header[6].tmpl, "{request_id}");
    STREQ(p->body, "eb/in");
    STREQ(p->response_body, "eb/out");
    STREQ(p->code_path, "eb/pub/RetCode");
    CU_ASSERT_EQUAL(p->n_echo, 3);

    CU_ASSERT_EQUAL(cx_code_class(p, "0"), CX_CODE_OK);
    CU_ASSERT_EQUAL(cx_code_class(p, "9999"), CX_CODE_BUSY);
    CU_ASSERT_EQUAL(cx_code_class(p, "B0116"), CX_CODE_NOT_FOUND);
    CU_ASSERT_EQUAL(cx_code_class(p, "B0005"), CX_CODE_DUPLICATE);
    CU_ASSERT_EQUAL(cx_code_class(p, "B0001"), CX_CODE_ERROR);
    CU_ASSERT_EQUAL(cx_code_class(p, "-5"), CX_CODE_ERROR); /* cmb's */
    CU_ASSERT_EQUAL(cx_code_class(p, "-9"), CX_CODE_ERROR);

    CU_ASSERT_EQUAL(p->sig_where, CX_SIG_ELEMENT);
    STREQ(p->sig_element, "eb/pub/SignData");
    CU_ASSERT_PTR_NULL(p->sig_header);
    CU_ASSERT_EQUAL(p->resp_sig_where, CX_SIG_ELEMENT);
    STREQ(p->resp_sig_element, "eb/pub/SignData");
    CU_ASSERT_EQUAL(p->paging, CX_PAGING_PAGE);
    CU_ASSERT_EQUAL(p->page_first, 1);
    STREQ(p->more_value, "1");
    STREQ(p->last_value, "0");

    const struct cx_function *f = &p->fn[CX_FN_PAYMENT];
    STREQ(f->code, "PAYENT");
    CU_ASSERT_EQUAL_FATAL(f->n_header, 1);
    STREQ(f->header[0].path, "eb/pub/fSeqno");
    STREQ(f->header[0].tmpl, "{serial}");
    CU_ASSERT_EQUAL_FATAL(f->n_request, 14);
    STREQ(f->request[3].tmpl, "{amount}");
    STREQ(f->request[12].path, "rd/PayAmt");
    STREQ(f->request[12].tmpl, "{amount}");
    STREQ(f->result[CX_K_SERIAL], "fSeqno");
    CU_ASSERT_EQUAL(p->fn[CX_FN_PAYROLL].n_header, 1);
    STREQ(p->fn[CX_FN_PAYROLL].items, "rd");
    CU_ASSERT_EQUAL(p->fn[CX_FN_PAYROLL].n_item, 6);
    CU_ASSERT_EQUAL(p->fn[CX_FN_BALANCE].n_header, 0);
    STREQ(p->fn[CX_FN_BALANCE].result[CX_K_AVAILABLE], "rd/UsableBalance");

    f = &p->fn[CX_FN_TRANSACTIONS];
    STREQ(f->code, "QHISD");
    STREQ(f->result[CX_K_MORE], "MoreFlag");
    CU_ASSERT_PTR_NULL(f->result[CX_K_NEXT]);
    STREQ(f->result[CX_K_ITEMS], "rd");
    STREQ(f->item_result[CX_K_DEBIT_VALUE], "1");
    STREQ(f->item_result[CX_K_CREDIT_VALUE], "2");
    STREQ(f->item_result[CX_K_VALUE_DATE], "ValueDate");
    STREQ(p->fn[CX_FN_RECEIPTS].result[CX_K_MORE], "MoreFlag");
    CU_ASSERT_EQUAL(p->fn[CX_FN_RECEIPT_DOWNLOAD].content_base64, 1);

    CU_ASSERT_EQUAL(p->n_status_map, 6);
    STREQ(cx_status_iso(p, "9"), "PDNG");
    STREQ(cx_status_iso(p, "7"), "ACSC");
    STREQ(cx_status_iso(p, "8"), "RJCT");
    CU_ASSERT_PTR_NULL(cx_status_iso(p, "5"));
    cx_profile_free(p);
}

static void test_names(void)
{
    STREQ(cx_fn_name(CX_FN_PAYMENT), "payment");
    STREQ(cx_fn_name(CX_FN_RECEIPT_DOWNLOAD), "receipt_download");
    STREQ(cx_tok_name(CX_T_FUNCTION), "function");
    STREQ(cx_tok_name(CX_T_CURRENCY_CODE), "currency_code");
    STREQ(cx_tok_name(CX_T_RECEIPT_ID), "receipt_id");
    STREQ(cx_key_name(CX_K_SERIAL), "serial");
    STREQ(cx_key_name(CX_K_COUNTERPARTY_ACCOUNT), "counterparty_account");
    STREQ(cx_key_name(CX_K_CONTENT), "content");
}

/* ---- broken copies ------------------------------------------------------ */

/* The shipped profile base with its first `from` replaced by `to`. */
static char *edited(const char *base, const char *from, const char *to)
{
    char *text = tu_read_file(base, NULL);
    if (!text)
        return NULL;
    char *at = strstr(text, from);
    if (!at) {
        fprintf(stderr, "  edit: \"%s\" not in %s\n", from, base);
        free(text);
        return NULL;
    }
    size_t pre = (size_t)(at - text), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(text) - fl + tl + 1);
    memcpy(out, text, pre);
    memcpy(out + pre, to, tl);
    strcpy(out + pre + tl, at + fl);
    free(text);
    return out;
}

static int line_of(const char *text, const char *marker)
{
    const char *at = strstr(text, marker);
    if (!at)
        return -2;
    int line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

static const struct bad_case {
    const char *label;
    int icbc;              /* edit icbc-style.profile, not cmb-style */
    const char *from, *to; /* the first `from` becomes `to` */
    const char *needle;    /* in the first message */
    const char *marker;    /* its line: where this begins in the copy;
                              NULL: the profile as a whole (line 0) */
    int n;                 /* problems; 0: at least one */
} bad_cases[] = {
    {"unknown setting", 0, "amount_unit = \"yuan\";",
     "amount_unit = \"yuan\";\nframming = \"tcp\";",
     "framming: unknown setting (a profile has profile_version,", "framming",
     1},
    {"unknown nested setting", 0, "body = \"\";", "body = \"\"; bdy = \"\";",
     "envelope.bdy: unknown setting (this group has root, header, body and "
     "response_body)",
     "bdy", 1},
    {"missing nested setting", 0,
     "  batch_items = 500;   # items in one payroll batch\n", "",
     "limits.batch_items is missing", "limits = {", 1},
    {"missing top-level setting", 0, "amount_unit = \"yuan\";", "",
     "amount_unit is missing (yuan or fen)", NULL, 1},
    {"wrong type", 0, "utc_offset = \"+08:00\";", "utc_offset = 8;",
     "utc_offset must be a string", "utc_offset = 8", 1},
    {"profile_version 2", 0, "profile_version = 1;", "profile_version = 2;",
     "profile_version: only 1 exists", "profile_version = 2", 1},
    {"encoding in lower case", 0, "encoding = \"GBK\";", "encoding = \"gbk\";",
     "encoding must be one of GBK, GB18030, GB2312 or UTF-8; it is \"gbk\"",
     "encoding = \"gbk\"", 1},
    {"content_type charset", 0, "charset=GBK\";", "charset=UTF-8\";",
     "http.content_type: charset=UTF-8 is not the profile's encoding GBK",
     "content_type =", 1},
    {"content_type not xml", 0, "\"text/xml; charset=GBK\"",
     "\"text/plain; charset=GBK\"", "is not text/xml or application/xml",
     "content_type =", 1},
    {"http group with framing tcp", 0, "framing = \"http\";",
     "framing = \"tcp\";\nlength = { digits = 6; counts = \"bytes\"; };",
     "http: only with framing \"http\"", "http = {", 3},
    {"length group with framing http", 0, "amount_unit = \"yuan\";",
     "amount_unit = \"yuan\";\nlength = { digits = 6; counts = \"bytes\"; };",
     "length: only with framing \"tcp\"", "length = {", 1},
    {"length digits 3", 1, "digits = 6;", "digits = 3;",
     "length.digits must be 4..10", "digits = 3", 1},
    {"length counts", 1, "counts = \"bytes\";", "counts = \"chars\";",
     "length.counts must be \"bytes\"; it is \"chars\"", "counts = \"chars\"",
     1},
    {"date_format %d twice", 0, "date_format = \"%Y%m%d\";",
     "date_format = \"%Y%m%d%d\";", "has %d more than once",
     "date_format = \"%Y%m%d%d\"", 1},
    {"date_format without %d", 0, "date_format = \"%Y%m%d\";",
     "date_format = \"%Y-%m\";", "\"%Y-%m\" lacks %d", "date_format =", 1},
    {"time_format %y", 0, "time_format = \"%H%M%S\";",
     "time_format = \"%H%M%S%y\";", "%y is not allowed", "time_format =", 1},
    {"utc_offset +8:00", 0, "utc_offset = \"+08:00\";",
     "utc_offset = \"+8:00\";", "is not +HH:MM or -HH:MM", "utc_offset =", 1},
    {"duplicate currency", 0, "( \"USD\", \"32\" ) );",
     "( \"USD\", \"32\" ),\n                   ( \"CNY\", \"11\" ) );",
     "currency_codes: ISO code \"CNY\" is listed twice", "( \"CNY\", \"11\" )",
     1},
    {"duplicate bank currency code", 0, "( \"HKD\", \"21\" ),",
     "( \"HKD\", \"10\" ),", "bank code \"10\" is listed twice",
     "( \"HKD\", \"10\" )", 1},
    {"limits.serial 31", 0, "serial      = 30;", "serial      = 31;",
     "limits.serial must be 1..30", "serial      = 31", 1},
    {"bad token", 0, "( \"INFO/SEQNBR\", \"{request_id}\" )",
     "( \"INFO/SEQNBR\", \"{request-id}\" )",
     "envelope.header: unknown token {request-id}; the tokens are "
     "{function} {login}",
     "{request-id}", 1},
    {"unclosed token", 0, "\"{creditor_bank}\"", "\"{creditor_bank\"",
     "has a '{' that starts no token", "\"{creditor_bank\"", 1},
    {"stray }", 0, "( \"INFO/DATTYP\", \"2\" )", "( \"INFO/DATTYP\", \"2}\" )",
     "has a '}' that closes no token", "\"2}\"", 1},
    {"token not allowed in the function", 0,
     "( ( \"SDKACINFX/ACCNBR\", \"{account}\" ) );",
     "( ( \"SDKACINFX/ACCNBR\", \"{account}\" ),\n"
     "                ( \"SDKACINFX/YURREF\", \"{serial}\" ) );",
     "functions.balance.request: token {serial} is not allowed here; it may "
     "be used only in functions.payment, functions.payment_status, "
     "functions.payroll, functions.payroll_result",
     "( \"SDKACINFX/YURREF\"", 1},
    {"item token in the payroll request", 0,
     "( \"SDKATSRQX/TOTAL\", "
     "\"{count}\" )",
     "( \"SDKATSRQX/TOTAL\", \"{item_no}\" )",
     "functions.payroll.request: token {item_no} is not allowed here; it may "
     "be used only in functions.payroll.item",
     "{item_no}\" )", 1},
    {"token not allowed in envelope.header", 0, "( \"INFO/DATTYP\", \"2\" )",
     "( \"INFO/DATTYP\", \"{serial}\" )",
     "envelope.header: token {serial} is not allowed here", "\"{serial}\" )",
     1},
    {"header without {function}", 0, "( \"INFO/FUNNAM\", \"{function}\" ),",
     "( \"INFO/FUNNAM\", \"DCPAYMNT\" ),",
     "envelope.header: {function} is missing", "header = ( ( \"INFO/FUNNAM\"",
     1},
    {"{function} twice", 0, "( \"INFO/DATTYP\", \"2\" )",
     "( \"INFO/DATTYP\", \"{function}\" )",
     "{function} must appear exactly once", "( \"INFO/DATTYP\"", 1},
    {"{function} not alone", 0, "( \"INFO/FUNNAM\", \"{function}\" ),",
     "( \"INFO/FUNNAM\", \"F{function}\" ),",
     "{function} must appear exactly once", "( \"INFO/FUNNAM\"", 1},
    {"header without {login}", 0, "( \"INFO/LGNNAM\", \"{login}\" ),",
     "( \"INFO/LGNNAM\", \"{user}\" ),", "envelope.header: {login} is missing",
     "header = ( ( \"INFO/FUNNAM\"", 1},
    {"header path twice", 0, "( \"INFO/DATTYP\", \"2\" )",
     "( \"INFO/LGNNAM\", \"2\" )",
     "envelope.header: \"INFO/LGNNAM\" appears twice",
     "( \"INFO/LGNNAM\", \"{login}\" )", 1},
    {"echo path not in the header", 0,
     "echo = ( \"INFO/FUNNAM\", \"INFO/SEQNBR\" );",
     "echo = ( \"INFO/FUNNAM\", \"INFO/SEQNUM\" );",
     "response.echo: \"INFO/SEQNUM\" is not a path of envelope.header",
     "echo = (", 1},
    {"code at a header path", 0, "code    = \"INFO/RETCOD\";",
     "code    = \"INFO/SEQNBR\";",
     "response.code: INFO/SEQNBR is a path of envelope.header",
     "code    = \"INFO/SEQNBR\"", 1},
    {"code and message at one path", 0, "message = \"INFO/ERRMSG\";",
     "message = \"INFO/RETCOD\";",
     "response.message: INFO/RETCOD is also the path of response.code",
     "message = \"INFO/RETCOD\"", 1},
    {"overlapping code lists", 0, "busy = ( \"-9\" );",
     "busy = ( \"-9\", \"0\" );", "response: code \"0\" is both ok and busy",
     "busy = (", 1},
    {"an error code that is not_found", 0, "duplicate = \"-5\";",
     "duplicate = \"-6\";",
     "code \"-6\" is both not_found and errors.duplicate", "duplicate = \"-6\"",
     1},
    {"two errors alike", 0, "account   = \"-7\";", "account   = \"-4\";",
     "code \"-4\" is both errors.invalid and errors.account",
     "account   = \"-4\"", 1},
    {"an error missing", 0,
     "    account   = \"-7\";   # not one of this customer's accounts\n", "",
     "response.errors.account is missing", "errors = {", 1},
    {"signature element name clash", 0,
     "where  = \"http-header\";\n  header = \"X-Sign\";",
     "where  = \"element\";\n  element = \"INFO/YURREF\";",
     "signature.element: the element name \"YURREF\" is also used by "
     "functions.payment.request (DCOPDPAYX/YURREF)",
     "element = \"INFO/YURREF\"", 1},
    {"signature element name clash (icbc)", 1, "element = \"eb/pub/SignData\";",
     "element = \"eb/pub/TotalAmt\";",
     "the element name \"TotalAmt\" is also used by functions.payment.request",
     "element = \"eb/pub/TotalAmt\"", 1},
    {"signature element at a header path", 1, "element = \"eb/pub/SignData\";",
     "element = \"eb/pub/fSeqno\";",
     "signature.element: eb/pub/fSeqno is a path of envelope.header",
     "element = \"eb/pub/fSeqno\"", 1},
    {"signature http-header with framing tcp", 1,
     "where   = \"element\";\n  element = \"eb/pub/SignData\";",
     "where   = \"http-header\";\n  header = \"X-Sign\";",
     "signature.where: \"http-header\" needs framing \"http\"",
     "where   = \"http-header\"", 1},
    {"signature header with where element", 1, "element = \"eb/pub/SignData\";",
     "element = \"eb/pub/SignData\"; header = \"X-Sign\";",
     "signature.header: only with where = \"http-header\"",
     "header = \"X-Sign\"", 1},
    {"signature header name", 0, "header = \"X-Sign\";", "header = \"X Sign\";",
     "signature.header: \"X Sign\" is not a header name", "header = \"X Sign\"",
     1},
    {"paging values alike", 1, "more_value = \"1\";", "more_value = \"0\";",
     "paging.last_value: \"0\" is also more_value", "last_value =", 1},
    {"paging first with token style", 0, "style = \"token\";",
     "style = \"token\"; first = 1;", "paging.first: unknown setting",
     "first = 1", 1},
    {"payment without {amount}", 0,
     "                ( \"DCOPDPAYX/TRSAMT\", \"{amount}\" ),\n", "",
     "functions.payment.request: {amount} is missing: a payment needs "
     "{serial} {debtor_account} {creditor_account} {creditor_name} {amount} "
     "and {currency} or {currency_code}",
     "request = ( ( \"SDKPAYRQX/BUSCOD\"", 1},
    {"payment without a currency", 0,
     "( \"DCOPDPAYX/CCYNBR\", \"{currency_code}\" )",
     "( \"DCOPDPAYX/CCYNBR\", \"10\" )",
     "functions.payment.request: {currency} or {currency_code} is missing",
     "request = ( ( \"SDKPAYRQX/BUSCOD\"", 1},
    {"transactions without {page}", 0, "( \"SDKTSINFX/CTNKEY\", \"{page}\" )",
     "( \"SDKTSINFX/CTNKEY\", \"\" )",
     "functions.transactions.request: {page} is missing: a transaction list "
     "needs {account} {from} {to} {page}",
     "request = ( ( \"SDKTSINFX/ACCNBR\"", 1},
    {"payroll item without {item_no}", 0, "( ( \"TRXSEQ\", \"{item_no}\" ),",
     "( ( \"TRXSEQ\", \"1\" ),",
     "functions.payroll.item: {item_no} is missing: each payroll item needs",
     "item = ( ( \"TRXSEQ\"", 1},
    {"request path twice", 0, "( \"DCOPDPAYX/STLCHN\", \"N\" )",
     "( \"DCOPDPAYX/YURREF\", \"N\" )",
     "functions.payment.request: \"DCOPDPAYX/YURREF\" appears twice",
     "( \"DCOPDPAYX/YURREF\", \"N\" )", 1},
    {"request path at a header path", 0, "( \"DCOPDPAYX/STLCHN\", \"N\" )",
     "( \"INFO/DATTYP\", \"N\" )",
     "functions.payment.request: INFO/DATTYP is also the path of "
     "envelope.header",
     "( \"INFO/DATTYP\", \"N\" )", 1},
    {"a value with children", 0, "( \"DCOPDPAYX/STLCHN\", \"N\" )",
     "( \"DCOPDPAYX\", \"N\" )",
     "functions.payment.request: DCOPDPAYX (functions.payment.request) has a "
     "value, so it cannot also contain DCOPDPAYX/",
     "( \"DCOPDPAYX\", \"N\" )", 1},
    {"request inside the payroll items", 0,
     "( \"SDKATSRQX/MEMO\", \"\xe4\xbb\xa3",
     "( \"SDKATDRQX/MEMO\", \"\xe4\xbb\xa3",
     "functions.payroll.request: SDKATDRQX/MEMO (functions.payroll.request) "
     "is inside the items element SDKATDRQX",
     "( \"SDKATDRQX/MEMO\"", 1},
    {"attribute not last", 0, "( \"DCOPDPAYX/STLCHN\", \"N\" )",
     "( \"DCOPDPAYX/@x/STLCHN\", \"N\" )",
     "an attribute (@name) can only be the last part", "@x/STLCHN", 1},
    {"bad element name", 0, "( \"DCOPDPAYX/STLCHN\", \"N\" )",
     "( \"DCOPDPAYX/1STLCHN\", \"N\" )", "\"1STLCHN\" is not an element name",
     "1STLCHN", 1},
    {"function header override not in the header", 1,
     "header = ( ( \"eb/pub/fSeqno\", \"{serial}\" ) );",
     "header = ( ( \"eb/pub/fSeq\", \"{serial}\" ) );",
     "functions.payment.header: eb/pub/fSeq is not a path of envelope.header",
     "\"eb/pub/fSeq\"", 1},
    {"function header override of {function}", 1,
     "header = ( ( \"eb/pub/fSeqno\", \"{serial}\" ) );",
     "header = ( ( \"eb/pub/TransCode\", \"{serial}\" ) );",
     "functions.payment.header: eb/pub/TransCode is the {function} entry",
     "\"eb/pub/TransCode\", \"{serial}\"", 1},
    {"function header override drops {login}", 1,
     "header = ( ( \"eb/pub/fSeqno\", \"{serial}\" ) );",
     "header = ( ( \"eb/pub/CIS\", \"{serial}\" ) );",
     "functions.payment.header: replaces envelope.header's {login} entry",
     "\"eb/pub/CIS\", \"{serial}\"", 1},
    {"function code twice", 0, "code = \"GetPaymentInfo\";",
     "code = \"DCPAYMNT\";",
     "functions.payment_status.code: \"DCPAYMNT\" is also "
     "functions.payment.code",
     "\"DCPAYMNT\";\n    request = ( ( \"SDKPAYQYX", 1},
    {"unknown function", 0, "functions = {\n",
     "functions = {\n  refund = { code = \"X\"; };\n",
     "functions.refund: unknown setting", "refund", 1},
    {"result path syntax", 0, "status   = \"NTQPAYRQZ/REQSTS\";",
     "status   = \"NTQPAYRQZ//REQSTS\";",
     "functions.payment.result.status: \"NTQPAYRQZ//REQSTS\" has an empty "
     "element name",
     "NTQPAYRQZ//REQSTS", 1},
    {"result path twice", 0, "reason   = \"NTQPAYRQZ/ERRTXT\";",
     "reason   = \"NTQPAYRQZ/REQSTS\";",
     "functions.payment.result.reason: NTQPAYRQZ/REQSTS is also the path of "
     "functions.payment.result.status",
     "reason   = \"NTQPAYRQZ/REQSTS\"", 1},
    {"result key missing", 0,
     "      next = \"NTSTPINFZ/CTNKEY\";                    # token style: "
     "next page\n",
     "", "functions.transactions.result: next is missing",
     "result = {\n      items = \"NTQTSINFZ\"", 1},
    {"result more with token paging", 0, "next = \"NTSTPINFZ/CTNKEY\";",
     "more = \"NTSTPINFZ/CTNKEY\";",
     "functions.transactions.result.more: only with paging.style \"page\"",
     "more = \"NTSTPINFZ", 1},
    {"unknown result key", 0, "bank_ref = \"NTQPAYRQZ/REQNBR\"; };",
     "bank_ref = \"NTQPAYRQZ/REQNBR\"; bankref = \"X\"; };",
     "functions.payment.result.bankref: unknown result key", "bankref", 1},
    {"result item key missing", 0, "entry_id             = \"REFNBR\";", "",
     "functions.transactions.result.item: entry_id is missing",
     "item = {      # unique per entry", 1},
    {"debit and credit values alike", 0, "debit_value          = \"D\";",
     "debit_value          = \"C\";",
     "functions.transactions.result.item.credit_value: \"C\" is also "
     "debit_value",
     "credit_value         = \"C\"", 1},
    {"result inside the items element", 0, "bank_ref = \"NTAGTINFZ/REQNBR\";",
     "bank_ref = \"NTAGDINFZ/REQNBR\";",
     "functions.payroll_result.result.bank_ref: NTAGDINFZ/REQNBR "
     "(functions.payroll_result.result.bank_ref) is inside the items element",
     "bank_ref = \"NTAGDINFZ/REQNBR\"", 1},
    {"debit_value without credit_debit", 0,
     "               credit_debit      = \"TRSDIR\";\n", "",
     "functions.receipts.result.item.debit_value: only with credit_debit",
     "debit_value       = \"D\"", 1},
    {"a function misnamed", 0, "receipt_download = {", "receipt_dl = {",
     "functions.receipt_dl: unknown setting", "receipt_dl = {", 2},
    {"content_encoding", 0, "content_encoding = \"base64\";",
     "content_encoding = \"hex\";",
     "functions.receipt_download.content_encoding must be \"base64\"",
     "content_encoding = \"hex\"", 1},
    {"status_map without RJCT", 0, "( \"REJ\", \"RJCT\" ) );",
     "( \"REJ\", \"PDNG\" ) );", "status_map: no value maps to RJCT",
     "status_map = (", 1},
    {"status_map with ACTC only", 0, "( \"FIN\", \"ACSC\" ),",
     "( \"FIN\", \"ACTC\" ),", "status_map: no value maps to ACSC or ACCP",
     "status_map = (", 1},
    {"status_map bad status", 0, "( \"FIN\", \"ACSC\" ),",
     "( \"FIN\", \"DONE\" ),",
     "status_map: \"DONE\" is not PDNG, ACCP, ACSC, ACTC or RJCT",
     "( \"FIN\", \"DONE\" )", 1},
    {"status_map value twice", 0, "( \"AUT\", \"PDNG\" ),",
     "( \"BNK\", \"PDNG\" ),",
     "status_map: the bank value \"BNK\" is listed "
     "twice",
     "( \"BNK\", \"PDNG\" ),     # waiting", 1},
    {"control character", 0, "( \"INFO/DATTYP\", \"2\" )",
     "( \"INFO/DATTYP\", \"2\\n\" )", "contains a control character",
     "( \"INFO/DATTYP\"", 1},
};

static void test_bad(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/bad.profile", dir);
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char *text = edited(c->icbc ? icbc_path : cmb_path, c->from, c->to);
        CU_ASSERT_PTR_NOT_NULL(text);
        if (!text)
            continue;
        CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
        int want_line = c->marker ? line_of(text, c->marker) : 0;
        struct rep r;
        struct cx_profile *p = (struct cx_profile *)&r; /* must be reset */
        int n = load(path, &r, &p);
        int ok = n >= 1 && (c->n == 0 || n == c->n) &&
                 strstr(r.first, c->needle) && r.first_line == want_line &&
                 strcmp(r.first_file, path) == 0 && p == NULL;
        if (!ok)
            fprintf(stderr,
                    "  case \"%s\": %d problems (want %d), first at line %d "
                    "(want %d) of %s, want \"%s\":\n%s",
                    c->label, n, c->n, r.first_line, want_line, r.first_file,
                    c->needle, r.all);
        else if (getenv("H2H_TEST_VERBOSE"))
            fprintf(stderr, "  case \"%s\":\n%s", c->label, r.all);
        CU_ASSERT(n >= 1);
        if (c->n)
            CU_ASSERT_EQUAL(n, c->n);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.first, c->needle));
        CU_ASSERT_EQUAL(r.first_line, want_line);
        CU_ASSERT_STRING_EQUAL(r.first_file, path);
        CU_ASSERT_PTR_NULL(p);
        free(text);
    }
    tu_rmtree(dir);
}

/* ---- the optional families -------------------------------------------- */

/* text with each ( from, to ) applied in turn (the first occurrence) */
static char *edited_many(const char *base, const char *const (*e)[2])
{
    char *text = tu_read_file(base, NULL);
    for (size_t i = 0; text && e[i][0]; i++) {
        char *at = strstr(text, e[i][0]);
        if (!at) {
            fprintf(stderr, "  edit: \"%s\" not in the copy\n", e[i][0]);
            free(text);
            return NULL;
        }
        size_t pre = (size_t)(at - text), fl = strlen(e[i][0]),
               tl = strlen(e[i][1]);
        char *out = malloc(strlen(text) - fl + tl + 1);
        memcpy(out, text, pre);
        memcpy(out + pre, e[i][1], tl);
        strcpy(out + pre + tl, at + fl);
        free(text);
        text = out;
    }
    return text;
}

/* Comment out both families: their functions and their tables. */
#define NO_BILLS                                                               \
    {"  # ---- bill pool (票据池) family", "/*"},                              \
        {"  # ---- supply-chain finance family.", "*/ /*"},                    \
    {                                                                          \
        "  };\n};\n\n# The bank's status values", "  }; */\n};\n\n#"            \
    }
#define NO_TABLES                                                              \
    {"bill_ops = ( ( \"issue\", \"01\" ),", "/* bill_ops = ( ( \"issue\", \"01\" ),"},  \
    {                                                                          \
        "( \"withdrawn\", \"9\" ) );", "( \"withdrawn\", \"9\" ) ); */"             \
    }

static const struct fam_case {
    const char *label;
    const char *const e[6][2];
    const char *needle; /* in the first message */
    const char *marker; /* its line; NULL: the profile as a whole */
} fam_cases[] = {
    {"bills family incomplete",
     {{"  bill_query = {", "/*  bill_query = {"},
      {"  bill_drafts = {", "*/  bill_drafts = {"}},
     "functions.bill_query is missing: the bills family is complete or "
     "absent",
     "functions = {"},
    {"scf table without its family",
     {{"  # ---- supply-chain finance family.", "/*"},
      {"  };\n};\n\n# The bank's status values", "  }; */\n};\n\n#"}},
     "financing_kinds belongs to the scf family",
     "financing_kinds = ("},
    {"family without its table",
     {{"draft_kinds = ( ( \"AC01\", \"1\" ),", "/* draft_kinds = ( ( \"AC01\", \"1\" ),"},
      {"( \"AC02\", \"2\" ) );", "( \"AC02\", \"2\" ) ); */"}},
     "draft_kinds is missing: the bills family needs",
     NULL},
    {"a name the model does not have",
     {{"( \"AC02\", \"2\" ) );", "( \"AC02\", \"2\" ), ( \"AC03\", \"3\" ) );"}},
     "draft_kinds: \"AC03\" is not one of AC01 and AC02",
     "( \"AC03\", \"3\" )"},
    {"a bank value twice",
     {{"( \"present_receipt\", \"03\" ),", "( \"present_receipt\", \"02\" ),"}},
     "bill_ops: the bank value \"02\" is listed twice",
     "( \"present_receipt\", \"02\" )"},
    {"a name left out",
     {{"             ( \"sign\", \"70\" ),                # 签收\n"
       "             ( \"refuse\", \"71\" ) );",
       "             ( \"sign\", \"70\" ) );"}},
     "bill_ops: refuse is missing",
     "bill_ops = ("},
    {"yes_no the same twice",
     {{"yes_no = ( \"Y\", \"N\" );", "yes_no = ( \"Y\", \"Y\" );"}},
     "yes_no: the bank's true and false must differ",
     "yes_no = ("},
    {"a family token where it does not belong",
     {{"( \"SCFINQRYX/YURREF\", \"{serial}\" )",
       "( \"SCFINQRYX/YURREF\", \"{serial}\" ), ( \"SCFINQRYX/X\", "
       "\"{bill_op}\" )"}},
     "token {bill_op} is not allowed here; it may be used only in "
     "functions.bill_operation",
     "SCFINQRYX/X"},
    {"bill_operation without {rate}",
     {{"                ( \"BBOPRDFTX/INTRAT\", \"{rate}\" ),\n", ""}},
     "functions.bill_operation.request: {rate} is missing",
     "    request = ( ( \"BBOPRDFTX/YURREF\""},
    {"an invoice without its buyer",
     {{"             ( \"BUYNAM\", \"{buyer_name}\" ),\n", ""}},
     "functions.scf_financing.item: {buyer_name} is missing: each invoice "
     "needs",
     "    item = ( ( \"SEQNBR\", \"{item_no}\" ),"},
    {"a result key missing",
     {{"               status      = \"SCFINCCLZ/REQSTS\";\n", ""}},
     "functions.scf_cancel.result: status is missing",
     "    result = { serial      = \"SCFINCCLZ/YURREF\";"},
    {"an unknown result key",
     {{"quota_available = \"BBPOLINFZ/QUOAVL\";",
       "quota_available = \"BBPOLINFZ/QUOAVL\"; quota_lost = \"X\";"}},
     "functions.bill_pool.result.quota_lost: unknown result key",
     "quota_lost"},
};

static void test_families(void)
{
    struct cx_profile *p = load_ok(cmb_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(p->has_bills && p->has_scf);
    STREQ(cx_tab_bank(&p->t_bill_ops, "endorse"), "10");
    STREQ(cx_tab_name(&p->t_draft_status, "170006"), "pledged");
    STREQ(p->yes, "Y");
    STREQ(p->fn[CX_FN_VOUCHER_LIST].code, "SCVCHLST");
    CU_ASSERT_PTR_NOT_NULL(p->fn[CX_FN_SCF_FINANCING].items);
    cx_profile_free(p);
    p = load_ok(icbc_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(p->has_bills && p->has_scf);
    cx_profile_free(p);

    const char *dir = tu_mkdtemp();
    char path[4096];
    snprintf(path, sizeof(path), "%s/fam.profile", dir);
    /* neither family: a payments-only bank */
    static const char *const none[][2] = {NO_BILLS, NO_TABLES, {NULL, NULL}};
    char *text = edited_many(cmb_path, none);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
    free(text);
    p = load_ok(path);
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p)
        CU_ASSERT_FALSE(p->has_bills || p->has_scf);
    cx_profile_free(p);

    for (size_t i = 0; i < sizeof(fam_cases) / sizeof(fam_cases[0]); i++) {
        const struct fam_case *c = &fam_cases[i];
        text = edited_many(cmb_path, c->e);
        CU_ASSERT_PTR_NOT_NULL(text);
        if (!text)
            continue;
        CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
        int want_line = c->marker ? line_of(text, c->marker) : 0;
        struct rep r;
        struct cx_profile *q = (struct cx_profile *)&r;
        int n = load(path, &r, &q);
        int ok = n >= 1 && strstr(r.first, c->needle) &&
                 r.first_line == want_line && q == NULL;
        if (!ok)
            fprintf(stderr,
                    "  case \"%s\": %d problems, first at line %d (want %d), "
                    "want \"%s\":\n%s",
                    c->label, n, r.first_line, want_line, c->needle, r.all);
        CU_ASSERT(ok);
        free(text);
    }
    tu_rmtree(dir);
}

/* Edits a profile may carry and still be fine. */
static void test_good_variants(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/variant.profile", dir);
    static const struct {
        int icbc;
        const char *from, *to;
    } v[] = {
        {0, "name = \"cmb-style\";", ""}, /* optional */
        {0, "( \"INFO/DATTYP\", \"2\" )", "( \"INFO/@DATTYP\", \"2\" )"},
        {0, "ok = ( \"0\" );", "ok = [ \"0\", \"00\" ];"},
        {0, "charset=GBK", "charset=\\\"gbk\\\""},
        {0, "\"text/xml; charset=GBK\"", "\"application/xml\""},
        {0, "utc_offset = \"+08:00\";", "utc_offset = \"-03:30\";"},
        {1, "first      = 1;", "first      = 0;"},
        {1, "date_format = \"%Y-%m-%d\";", "date_format = \"%d.%m.%Y%%\";"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *text =
            edited(v[i].icbc ? icbc_path : cmb_path, v[i].from, v[i].to);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
        free(text);
        struct rep r;
        struct cx_profile *p = NULL;
        int n = load(path, &r, &p);
        if (n)
            fprintf(stderr, "  variant %zu: %d problems:\n%s", i, n, r.all);
        CU_ASSERT_EQUAL(n, 0);
        CU_ASSERT_PTR_NOT_NULL(p);
        if (p && i == 0)
            STREQ(p->name, "variant.profile");
        if (p && i == 1)
            STREQ(p->header[1].path, "INFO/@DATTYP");
        if (p && i == 2)
            CU_ASSERT_EQUAL(cx_code_class(p, "00"), CX_CODE_OK);
        if (p && i == 5)
            CU_ASSERT_EQUAL(p->utc_offset_min, -210);
        if (p && i == 6)
            CU_ASSERT_EQUAL(p->page_first, 0);
        cx_profile_free(p);
    }
    tu_rmtree(dir);
}

/* ---- the file as a whole ------------------------------------------------ */

static void test_unreadable(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/none.profile", dir);
    struct rep r;
    struct cx_profile *p = NULL;
    CU_ASSERT_EQUAL(load(path, &r, &p), 1);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_EQUAL(r.first_s, AT);
    CU_ASSERT_EQUAL(r.first_line, AT_LINE);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, "No such file"));

    /* a directory is no profile either */
    CU_ASSERT_EQUAL(load(dir, &r, &p), 1);
    CU_ASSERT_PTR_EQUAL(r.first_s, AT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, "not a regular file"));
    tu_rmtree(dir);
}

static void test_syntax_error(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/syntax.profile", dir);
    char *text = edited(cmb_path, "framing = \"http\";", "framing = ;");
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
    char want[64];
    snprintf(want, sizeof(want), "line %d: syntax error",
             line_of(text, "framing = ;"));
    free(text);
    struct rep r;
    struct cx_profile *p = NULL;
    CU_ASSERT_EQUAL(load(path, &r, &p), 1);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_EQUAL(r.first_s, AT);
    CU_ASSERT_EQUAL(r.first_line, AT_LINE);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, want));
    if (!strstr(r.first, want))
        fprintf(stderr, "  want \"%s\" in: %s\n", want, r.first);

    /* a duplicate name is libconfig's error too */
    text = edited(cmb_path, "amount_unit = \"yuan\";",
                  "amount_unit = \"yuan\";\n\namount_unit = \"fen\";");
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
    snprintf(want, sizeof(want), "line %d: duplicate setting name",
             line_of(text, "amount_unit = \"fen\""));
    free(text);
    CU_ASSERT_EQUAL(load(path, &r, &p), 1);
    CU_ASSERT_PTR_EQUAL(r.first_s, AT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, want));
    tu_rmtree(dir);
}

/* PROFILE.md: no @include.  libconfig 1.5 follows it anyway; the loader
 * refuses what came from elsewhere, naming that file. */
static void test_include(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[4096], extra[4096];
    snprintf(path, sizeof(path), "%s/inc.profile", dir);
    snprintf(extra, sizeof(extra), "%s/extra.cfg", dir);
    CU_ASSERT_EQUAL(tu_write_file(extra, "\nincluded = 1;\n", 15), 0);
    char *text = tu_read_file(cmb_path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    size_t tl = strlen(text);
    char *all = malloc(tl + strlen(extra) + 32);
    sprintf(all, "%s\n@include \"%s\"\n", text, extra);
    free(text);
    CU_ASSERT_EQUAL(tu_write_file(path, all, strlen(all)), 0);
    free(all);
    struct rep r;
    struct cx_profile *p = NULL;
    CU_ASSERT_EQUAL(load(path, &r, &p), 1);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.first, "@include"));
    CU_ASSERT_STRING_EQUAL(r.first_file, extra);
    CU_ASSERT_EQUAL(r.first_line, 2);
    if (r.n != 1 || !strstr(r.first, "@include"))
        fprintf(stderr, "  include:\n%s", r.all);
    tu_rmtree(dir);
}

/* ---- memory ------------------------------------------------------------- */

/* Live heap blocks, counted by replacing malloc in this program (glibc
 * supports that: libc's own strdup and fopen and libconfig's parser call
 * the replacement too).  Not in sanitizer builds: their runtime owns
 * malloc, and its leak check at exit does this job there. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_BLOCKS 0
#endif
#endif
#ifndef COUNT_BLOCKS
#define COUNT_BLOCKS 1
#endif

#if COUNT_BLOCKS
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
static long live_blocks;

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    live_blocks += p != NULL;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    live_blocks += p != NULL;
    return p;
}

void *realloc(void *p, size_t n)
{
    void *q = __libc_realloc(p, n);
    if (!p && q)
        live_blocks++;
    else if (p && n == 0 && !q)
        live_blocks--; /* glibc's realloc(p, 0) frees p */
    return q;
}

void free(void *p)
{
    live_blocks -= p != NULL;
    __libc_free(p);
}
#endif

/* Loading frees all it allocates: on success (after cx_profile_free), on
 * failure, in check-only mode (out NULL), and for a file it cannot read. */
static void test_free(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char bad[4096], none[4096];
    snprintf(bad, sizeof(bad), "%s/bad.profile", dir);
    snprintf(none, sizeof(none), "%s/none.profile", dir);
    char *text = edited(cmb_path, "( \"REJ\", \"RJCT\" ) );",
                        "( \"REJ\", \"RJCT\" ), ( 1, 2 ) ); x = 1;");
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(tu_write_file(bad, text, strlen(text)), 0);
    free(text);

    struct rep r;
    struct cx_profile *p = NULL;
#if COUNT_BLOCKS
    /* A profile kept is blocks kept, unless the counter is not in the
     * path (valgrind replaces malloc here too, and checks leaks itself) */
    long before = live_blocks;
    CU_ASSERT_EQUAL(load(cmb_path, &r, &p), 0);
    int counting = live_blocks > before + 100;
    cx_profile_free(p);
    if (counting)
        CU_ASSERT_EQUAL(live_blocks, before);
#endif
    for (int i = 0; i < 3; i++) {
        p = NULL;
        CU_ASSERT_EQUAL(load(cmb_path, &r, &p), 0);
        CU_ASSERT_PTR_NOT_NULL(p);
        cx_profile_free(p);
        p = NULL;
        CU_ASSERT_EQUAL(load(icbc_path, &r, &p), 0);
        cx_profile_free(p);
        CU_ASSERT_EQUAL(load(icbc_path, &r, NULL), 0);
        p = NULL;
        CU_ASSERT_EQUAL(load(bad, &r, &p), 2);
        CU_ASSERT_PTR_NULL(p);
        CU_ASSERT_EQUAL(load(bad, &r, NULL), 2);
        CU_ASSERT_EQUAL(load(none, &r, &p), 1);
    }
#if COUNT_BLOCKS
    if (counting && live_blocks != before)
        fprintf(stderr, "  %ld heap blocks before, %ld after\n", before,
                live_blocks);
    if (counting)
        CU_ASSERT_EQUAL(live_blocks, before);
#endif
    cx_profile_free(NULL);
    tu_rmtree(dir);
}

static const struct tu_case cases[] = {
    {"cmb-style profile", test_cmb},
    {"icbc-style profile", test_icbc},
    {"names", test_names},
    {"broken profiles", test_bad},
    {"accepted variants", test_good_variants},
    {"unreadable file", test_unreadable},
    {"syntax error", test_syntax_error},
    {"@include refused", test_include},
    {"load and free", test_free},
    {"bill pool and scf families", test_families},
    {NULL, NULL},
};

int main(void)
{
    at_init();
    paths_init();
    int rc = tu_main("cx_profile", cases);
    config_destroy(&at_cfg);
    return rc;
}
