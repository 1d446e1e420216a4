/*
 * test_fmt_csv.c - CSV payment reader and CSV statement writer.
 *
 * The reader is checked against small fixtures (tests/fixtures/csv) and
 * in-memory files; the statement writer's output is parsed back by
 * Python's csv module (an independent RFC 4180 implementation).  A CSV
 * file converted to the canonical XML must validate against
 * canonical.xsd and read back with the same (UTF-8) names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "csv_pay.h"
#include "csv_stmt.h"
#include "testutil.h"

/* ---- collector ---------------------------------------------------------- */

#define MAXTX 32

struct ctx_row {
    int line, grp_line;
    char *e2e, *cdtr, *cdtr_iban, *cdtr_acct, *rmt, *clr_sys, *clr_id, *country,
        *uetr, *pmt_inf_id, *dbtr, *dbtr_iban, *dbtr_acct, *dbtr_bic, *cdtr_bic,
        *date;
    int64_t minor;
    char ccy[4];
};

struct coll {
    int begins, ends, groups, group_ends, ntx;
    int64_t nb_of_txs, ctrl_sum;
    int has_ctrl_sum;
    char *msg_id;
    const char *source_format;
    struct ctx_row tx[MAXTX];
};

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int c_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct coll *c = ctx;
    c->begins++;
    c->nb_of_txs = h->nb_of_txs;
    c->has_ctrl_sum = h->has_ctrl_sum;
    c->ctrl_sum = h->ctrl_sum_milli;
    c->msg_id = dup(h->msg_id);
    c->source_format = h->source_format;
    return 0;
}

static int c_group(void *ctx, const struct fmt_pay_group *g)
{
    struct coll *c = ctx;
    (void)g;
    c->groups++;
    return 0;
}

static int c_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct coll *c = ctx;
    (void)g;
    c->group_ends++;
    return 0;
}

static int c_tx(void *ctx, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    struct coll *c = ctx;
    if (c->ntx >= MAXTX)
        return 0;
    struct ctx_row *r = &c->tx[c->ntx++];
    r->line = t->line;
    r->grp_line = g->line;
    r->e2e = dup(t->end_to_end_id);
    r->cdtr = dup(t->cdtr.name);
    r->cdtr_iban = dup(t->cdtr_acct.iban);
    r->cdtr_acct = dup(t->cdtr_acct.other_id);
    r->rmt = dup(t->rmt_ustrd);
    r->clr_sys = dup(t->cdtr_agt.clr_sys);
    r->clr_id = dup(t->cdtr_agt.clr_mmb_id);
    r->cdtr_bic = dup(t->cdtr_agt.bic);
    r->country = dup(t->cdtr.addr.country);
    r->uetr = dup(t->uetr);
    r->pmt_inf_id = dup(g->pmt_inf_id);
    r->dbtr = dup(g->dbtr.name);
    r->dbtr_iban = dup(g->dbtr_acct.iban);
    r->dbtr_acct = dup(g->dbtr_acct.other_id);
    r->dbtr_bic = dup(g->dbtr_agt.bic);
    r->date = dup(g->reqd_exctn_dt);
    r->minor = t->amt.minor;
    memcpy(r->ccy, t->amt.ccy, 4);
    return 0;
}

static int c_end(void *ctx, const struct fmt_pay_header *h)
{
    struct coll *c = ctx;
    (void)h;
    c->ends++;
    return 0;
}

static void coll_release(struct coll *c)
{
    free(c->msg_id);
    for (int i = 0; i < c->ntx; i++) {
        struct ctx_row *r = &c->tx[i];
        char **v[] = {
            &r->e2e,       &r->cdtr,       &r->cdtr_iban, &r->cdtr_acct,
            &r->rmt,       &r->clr_sys,    &r->clr_id,    &r->country,
            &r->uetr,      &r->pmt_inf_id, &r->dbtr,      &r->dbtr_iban,
            &r->dbtr_acct, &r->dbtr_bic,   &r->cdtr_bic,  &r->date};
        for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
            free(*v[k]);
    }
    memset(c, 0, sizeof(*c));
}

static int read_csv(const struct fmt_src *src, struct coll *c,
                    struct fmt_diag *d)
{
    struct fmt_pay_sink s = {c_begin, c_group, c_tx, c_group_end, c_end, c};
    struct h2h_err err = {0};
    memset(c, 0, sizeof(*c));
    int rc = fmt_csv_pay_read(src, &s, d, &err);
    if (rc)
        fprintf(stderr, "csv read: %s\n", err.msg);
    if (d && d->n)
        fmt_diag_print(d, stderr);
    return rc;
}

static int read_mem(const char *text, const char *charset, struct coll *c,
                    struct fmt_diag *d)
{
    struct fmt_src src = {
        .buf = text, .len = strlen(text), .name = "<test>", .charset = charset};
    return read_csv(&src, c, d);
}

static const char *fixture(const char *name)
{
    static char buf[8][1024];
    static int slot;
    char rel[256];
    snprintf(rel, sizeof(rel), "tests/fixtures/csv/%s", name);
    char *b = buf[slot++ % 8];
    snprintf(b, 1024, "%s", tu_src(rel));
    return b;
}

static int has_problem(const struct fmt_diag *d, int line, const char *where,
                       const char *rule)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct fmt_problem *p = &d->v[i];
        if (p->line == line && !strcmp(p->rule, rule) &&
            ((!where && !p->where) ||
             (where && p->where && !strcmp(p->where, where))))
            return 1;
    }
    fprintf(stderr, "  missing problem line %d %s [%s]\n", line,
            where ? where : "-", rule);
    return 0;
}

/* ---- reader ------------------------------------------------------------- */

static void test_bom_semicolon_quotes(void)
{
    struct fmt_src src = {.path = fixture("utf8_bom_semicolon.csv")};
    struct coll c;
    struct fmt_diag d;
    fmt_diag_init(&d, src.path);
    CU_ASSERT_EQUAL(read_csv(&src, &c, &d), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(c.begins, 1);
    CU_ASSERT_EQUAL(c.ends, 1);
    CU_ASSERT_EQUAL(c.groups, 1);
    CU_ASSERT_EQUAL(c.group_ends, 1);
    CU_ASSERT_EQUAL_FATAL(c.ntx, 2);
    CU_ASSERT_STRING_EQUAL(c.msg_id, "MSG-1");
    CU_ASSERT_STRING_EQUAL(c.source_format, "csv.pay.1");
    /* totals from the first pass: 1250.50 + 0.99 */
    CU_ASSERT_EQUAL(c.nb_of_txs, 2);
    CU_ASSERT_EQUAL(c.has_ctrl_sum, 1);
    CU_ASSERT_EQUAL(c.ctrl_sum, 1251490);
    /* decimal comma in a ';' file */
    CU_ASSERT_EQUAL(c.tx[0].minor, 125050);
    CU_ASSERT_STRING_EQUAL(c.tx[0].ccy, "EUR");
    CU_ASSERT_STRING_EQUAL(c.tx[0].cdtr, "M\xc3\xbcller; S\xc3\xb6hne");
    /* CRLF inside quotes becomes "\n", doubled quotes one */
    CU_ASSERT_STRING_EQUAL(c.tx[0].rmt, "Invoice 4711\nsecond line \"quoted\"");
    /* IBAN printed in groups is normalised */
    CU_ASSERT_STRING_EQUAL(c.tx[0].dbtr_iban, "DE89370400440532013000");
    CU_ASSERT_STRING_EQUAL(c.tx[0].dbtr_bic, "COBADEFFXXX");
    CU_ASSERT_STRING_EQUAL(c.tx[0].cdtr_bic, "BYLADEM1001");
    CU_ASSERT_STRING_EQUAL(c.tx[0].country, "DE");
    CU_ASSERT_STRING_EQUAL(c.tx[0].pmt_inf_id, "PI-1");
    CU_ASSERT_STRING_EQUAL(c.tx[0].date, "2024-03-04");
    /* lines: the first row spans lines 2-3 */
    CU_ASSERT_EQUAL(c.tx[0].line, 2);
    CU_ASSERT_EQUAL(c.tx[1].line, 4);
    CU_ASSERT_EQUAL(c.tx[1].grp_line, 2);
    CU_ASSERT_EQUAL(c.tx[1].minor, 99);
    CU_ASSERT_PTR_NULL(c.tx[1].cdtr_bic);
    coll_release(&c);
    fmt_diag_release(&d);
}

static void test_gb18030(void)
{
    struct fmt_src src = {.path = fixture("gb18030_names.csv"),
                          .charset = "GB18030"};
    struct coll c;
    struct fmt_diag d;
    fmt_diag_init(&d, src.path);
    CU_ASSERT_EQUAL(read_csv(&src, &c, &d), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL_FATAL(c.ntx, 2);
    CU_ASSERT_STRING_EQUAL(c.tx[0].dbtr, "上海某某贸易有限公司");
    CU_ASSERT_STRING_EQUAL(c.tx[0].cdtr, "北京示例科技有限公司");
    CU_ASSERT_STRING_EQUAL(c.tx[1].cdtr, "张三");
    CU_ASSERT_STRING_EQUAL(c.tx[0].rmt, "货款 2024年5月");
    CU_ASSERT_STRING_EQUAL(c.tx[0].dbtr_acct, "31001234567890");
    CU_ASSERT_STRING_EQUAL(c.tx[0].cdtr_acct, "11001234567890123");
    CU_ASSERT_STRING_EQUAL(c.tx[0].clr_sys, "CNAPS");
    CU_ASSERT_STRING_EQUAL(c.tx[0].clr_id, "102100099996");
    CU_ASSERT_STRING_EQUAL(c.tx[0].e2e, "E1");
    CU_ASSERT_EQUAL(c.tx[0].minor, 1000000);
    CU_ASSERT_EQUAL(c.tx[1].minor, 8880);
    CU_ASSERT_EQUAL(c.ctrl_sum, 10088800);
    /* one group, id generated from msg_id */
    CU_ASSERT_EQUAL(c.groups, 1);
    CU_ASSERT_STRING_EQUAL(c.tx[1].pmt_inf_id, "CN-001-1");
    coll_release(&c);
    fmt_diag_release(&d);

    /* the same bytes read as UTF-8 fail closed, with line and column */
    src.charset = NULL;
    fmt_diag_init(&d, src.path);
    CU_ASSERT_EQUAL(read_csv(&src, &c, &d), 0);
    CU_ASSERT(has_problem(&d, 2, "debtor_name", "csv.charset"));
    CU_ASSERT(has_problem(&d, 3, "creditor_name", "csv.charset"));
    coll_release(&c);
    fmt_diag_release(&d);
}

/* GB18030 CSV -> canonical XML (schema-valid) -> back: names in UTF-8. */
static int names_tx(void *ctx, const struct fmt_pay_group *g,
                    const struct fmt_pay_tx *t)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 1024 - n, "%s>%s|", g->dbtr.name ? g->dbtr.name : "",
             t->cdtr.name ? t->cdtr.name : "");
    return 0;
}

static void test_gb18030_to_canonical(void)
{
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/cn.xml", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct fmt_canon_writer *w = fmt_canon_writer_new(f);
    struct fmt_pay_sink s = fmt_canon_pay_sink(w);
    struct fmt_src src = {.path = fixture("gb18030_names.csv"),
                          .charset = "GB18030"};
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(fmt_csv_pay_read(&src, &s, NULL, &err), 0);
    CU_ASSERT_EQUAL(fmt_canon_writer_finish(w, &err), 0);
    fmt_canon_writer_free(w);
    fclose(f);
    CU_ASSERT_EQUAL(tu_system("xmllint --noout --nonet --schema '%s' '%s' "
                              ">/dev/null 2>&1",
                              tu_src("formats/schemas/canonical.xsd"), path),
                    0);
    char names[1024] = "";
    struct fmt_pay_sink ns = {NULL, NULL, names_tx, NULL, NULL, names};
    struct fmt_src csrc = {.path = path};
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&csrc, &ns, NULL, &err), 0);
    CU_ASSERT_STRING_EQUAL(names, "上海某某贸易有限公司>北京示例科技有限公司|"
                                  "上海某某贸易有限公司>张三|");
    tu_rmtree(dir);
}

static void test_malformed_all_reported(void)
{
    struct fmt_src src = {.path = fixture("malformed.csv")};
    struct coll c;
    struct fmt_diag d;
    fmt_diag_init(&d, src.path);
    CU_ASSERT_EQUAL(read_csv(&src, &c, &d), 0);
    static const struct {
        int line;
        const char *where, *rule;
    } want[] = {
        {1, "colour", "csv.column.unknown"},
        {2, "amount", "csv.amount"},       /* 12.345 EUR */
        {3, "execution_date", "csv.date"}, /* month 13 */
        {4, "currency", "csv.currency"},   /* EURO */
        {4, "creditor_name", "csv.required"},
        {4, "debtor_name", "csv.group.split"},
        {5, NULL, "csv.columns"},
        {5, "creditor_iban", "csv.required"},
        {6, "amount", "csv.amount"},       /* 1e3 */
        {7, "creditor_name", "csv.quote"}, /* "Bob "x */
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CU_ASSERT(has_problem(&d, want[i].line, want[i].where, want[i].rule));
    CU_ASSERT_EQUAL(d.n, sizeof(want) / sizeof(want[0]));
    /* rows are still emitted: the caller judges the file by diag */
    CU_ASSERT_EQUAL(c.ntx, 6);
    CU_ASSERT_EQUAL(c.nb_of_txs, 6);
    coll_release(&c);
    fmt_diag_release(&d);
}

static const char HDR[] =
    "msg_id,pmt_inf_id,execution_date,debtor_name,debtor_iban,amount,"
    "currency,creditor_name,creditor_iban";

struct mem_case {
    const char *label;
    const char *rows; /* after HDR\n */
    int line;
    const char *where, *rule;
};

static void test_row_problems(void)
{
    static const struct mem_case cases[] = {
        {"JPY has no decimals", "M,P,2024-01-02,A,DE1,100.5,JPY,B,DE2\n", 2,
         "amount", "csv.amount"},
        {"negative amount", "M,P,2024-01-02,A,DE1,-5.00,EUR,B,DE2\n", 2,
         "amount", "csv.amount"},
        {"thousands separator", "M,P,2024-01-02,A,DE1,\"1,000.00\",EUR,B,DE2\n",
         2, "amount", "csv.amount"},
        {"group reappears",
         "M,P1,2024-01-02,A,DE1,1.00,EUR,B,DE2\n"
         "M,P2,2024-01-02,A,DE1,1.00,EUR,B,DE2\n"
         "M,P1,2024-01-02,A,DE1,1.00,EUR,B,DE2\n",
         4, "pmt_inf_id", "csv.group.split"},
        {"pmt_inf_id for two groups",
         "M,P1,2024-01-02,A,DE1,1.00,EUR,B,DE2\n"
         "M,P1,2024-01-03,A,DE1,1.00,EUR,B,DE2\n",
         3, "pmt_inf_id", "csv.pmt_inf_id"},
        {"msg_id changes",
         "M,P1,2024-01-02,A,DE1,1.00,EUR,B,DE2\n"
         "N,P1,2024-01-02,A,DE1,1.00,EUR,B,DE2\n",
         3, "msg_id", "csv.msg_id"},
        {"unterminated quote", "M,P,2024-01-02,\"A,DE1,1.00,EUR,B,DE2\n", 2,
         "debtor_name", "csv.quote"},
        {"quote in unquoted field", "M,P,2024-01-02,A\"x,DE1,1.00,EUR,B,DE2\n",
         2, "debtor_name", "csv.quote"},
        {"empty required", "M,P,2024-01-02,,DE1,1.00,EUR,B,DE2\n", 2,
         "debtor_name", "csv.required"},
        {"no rows", "", 2, NULL, "csv.empty"},
        {NULL, NULL, 0, NULL, NULL},
    };
    for (int i = 0; cases[i].label; i++) {
        char text[1024];
        snprintf(text, sizeof(text), "%s\n%s", HDR, cases[i].rows);
        struct coll c;
        struct fmt_diag d;
        fmt_diag_init(&d, cases[i].label);
        fprintf(stderr, "case %s\n", cases[i].label);
        CU_ASSERT_EQUAL(read_mem(text, NULL, &c, &d), 0);
        CU_ASSERT(
            has_problem(&d, cases[i].line, cases[i].where, cases[i].rule));
        CU_ASSERT_EQUAL(d.n, 1);
        CU_ASSERT_EQUAL(c.begins, 1);
        CU_ASSERT_EQUAL(c.ends, 1);
        CU_ASSERT_EQUAL(c.groups, c.group_ends);
        coll_release(&c);
        fmt_diag_release(&d);
    }
}

static void test_header_problems(void)
{
    struct coll c;
    struct fmt_diag d;
    fmt_diag_init(&d, "hdr");
    /* unknown + duplicate + missing columns, all on line 1; separator ';'
     * chosen because it is more frequent */
    static const char text[] =
        "Msg_ID ; amount;amount;currency;debtor_name;Creditor_Name;"
        "creditor_account;debtor_account;iban\n"
        "M;1.00;2.00;EUR;A;B;123;456;x\n";
    CU_ASSERT_EQUAL(read_mem(text, NULL, &c, &d), 0);
    CU_ASSERT(has_problem(&d, 1, "iban", "csv.column.unknown"));
    CU_ASSERT(has_problem(&d, 1, "amount", "csv.column.duplicate"));
    CU_ASSERT(has_problem(&d, 1, "execution_date", "csv.column.missing"));
    CU_ASSERT_EQUAL(d.n, 3);
    CU_ASSERT_EQUAL_FATAL(c.ntx, 1);
    CU_ASSERT_EQUAL(c.tx[0].minor, 100); /* the first amount column */
    CU_ASSERT_STRING_EQUAL(c.tx[0].e2e, "NOTPROVIDED");
    coll_release(&c);
    fmt_diag_release(&d);

    /* fatal: no header, unknown charset */
    struct fmt_src src = {.buf = "\n\n", .len = 2};
    struct h2h_err err = {0};
    struct fmt_pay_sink s = {0};
    CU_ASSERT_EQUAL(fmt_csv_pay_read(&src, &s, NULL, &err), H2H_EPARSE);
    src.buf = "a,b\n";
    src.len = 4;
    src.charset = "NO-SUCH-CHARSET";
    CU_ASSERT_EQUAL(fmt_csv_pay_read(&src, &s, NULL, &err), H2H_EUNSUPPORTED);
}

/* LF-only file, uetr upper case is stored lower case, blank lines skipped,
 * clearing columns. */
static void test_misc_valid(void)
{
    static const char text[] =
        "msg_id,execution_date,debtor_name,debtor_iban,amount,currency,"
        "creditor_name,creditor_account,creditor_clearing_system,"
        "creditor_clearing_id,uetr\n"
        "\n"
        "M,2024-01-02,A,DE89370400440532013000,7,USD,B,12345,USABA,"
        "026009593,EB6A4C4B-1E5D-4F8A-9C8B-2D3E4F5A6B7C\n"
        "\n";
    struct coll c;
    struct fmt_diag d;
    fmt_diag_init(&d, "misc");
    CU_ASSERT_EQUAL(read_mem(text, NULL, &c, &d), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL_FATAL(c.ntx, 1);
    CU_ASSERT_EQUAL(c.tx[0].line, 3);
    CU_ASSERT_EQUAL(c.tx[0].minor, 700);
    CU_ASSERT_STRING_EQUAL(c.tx[0].uetr,
                           "eb6a4c4b-1e5d-4f8a-9c8b-2d3e4f5a6b7c");
    CU_ASSERT_STRING_EQUAL(c.tx[0].clr_sys, "USABA");
    CU_ASSERT_STRING_EQUAL(c.tx[0].clr_id, "026009593");
    CU_ASSERT_EQUAL(c.nb_of_txs, 1);
    coll_release(&c);
    fmt_diag_release(&d);
}

/* ---- statement writer --------------------------------------------------- */

static void test_stmt_writer(void)
{
    const char *dir = tu_mkdtemp();
    char path[512], out[512];
    snprintf(path, sizeof(path), "%s/st.csv", dir);
    snprintf(out, sizeof(out), "%s/st.txt", dir);

    struct fmt_stmt_doc doc = {.kind = FMT_STMT_STATEMENT};
    struct fmt_stmt st;
    memset(&st, 0, sizeof(st));
    st.id = "STMT-1";
    st.acct.iban = "DE89370400440532013000";
    st.acct.ccy = "EUR";

    struct fmt_entry_dtl dt[2];
    memset(dt, 0, sizeof(dt));
    dt[0].end_to_end_id = "E2E-A";
    dt[0].cpty.name = "Smith, \"Jr\"";
    dt[0].cpty_acct.iban = "GB29NWBK60161331926819";
    dt[0].cpty_agt.bic = "NWBKGB2L";
    dt[0].rmt_ustrd = "inv 1\ninv 2";
    dt[1].end_to_end_id = "E2E-B";
    dt[1].cpty.name = "张三";
    dt[1].cpty_acct.other_id = "6222020200112233";
    dt[1].cpty_agt.clr_sys = "CNAPS";
    dt[1].cpty_agt.clr_mmb_id = "102100099996";
    dt[1].rmt_strd.cdtr_ref = "RF18539007547034";

    struct fmt_entry e[3];
    memset(e, 0, sizeof(e));
    e[0].amt.minor = 123456;
    strcpy(e[0].amt.ccy, "EUR");
    e[0].credit = 1;
    e[0].sts = "BOOK";
    e[0].book_dt = "2024-03-01";
    e[0].val_dt = "2024-03-02";
    e[0].acct_svcr_ref = "REF;1";
    e[0].bk_tx_domain = "PMNT";
    e[0].bk_tx_family = "RCDT";
    e[0].bk_tx_subfamily = "ESCT";
    e[0].dtls = dt;
    e[0].n_dtls = 2;
    e[1].amt.minor = 5;
    strcpy(e[1].amt.ccy, "JPY");
    e[1].reversal = 1;
    e[1].bk_tx_prtry = "NTRF";
    e[1].addtl_ntry_inf = "=cmd()";
    e[1].dtls = dt;
    e[1].n_dtls = 1;
    e[2].amt.minor = 1;
    strcpy(e[2].amt.ccy, "BHD");
    e[2].addtl_ntry_inf = " padded ";

    FILE *f = fopen(path, "w");
    struct fmt_csv_stmt_opts o = {.sep = ',', .bom = 1, .excel_safe = 1};
    struct fmt_csv_stmt_writer *w = fmt_csv_stmt_writer_new(f, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct fmt_stmt_sink s = fmt_csv_stmt_sink(w);
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(s.entry(s.ctx, &st, &e[0]), H2H_ESTATE);
    fmt_csv_stmt_writer_free(w);
    w = fmt_csv_stmt_writer_new(f, &o);
    s = fmt_csv_stmt_sink(w);
    CU_ASSERT_EQUAL(s.begin(s.ctx, &doc), 0);
    CU_ASSERT_EQUAL(s.stmt_begin(s.ctx, &st), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(s.entry(s.ctx, &st, &e[i]), 0);
    CU_ASSERT_EQUAL(s.stmt_end(s.ctx, &st), 0);
    CU_ASSERT_EQUAL(s.end(s.ctx, &doc), 0);
    CU_ASSERT_EQUAL(fmt_csv_stmt_writer_finish(w, &err), 0);
    fmt_csv_stmt_writer_free(w);
    fclose(f);

    /* Python's csv module parses it; cells joined by '~', one row a line,
     * line breaks inside cells shown as '\n' */
    int rc = tu_system(
        "/usr/bin/python3 -c '"
        "import csv,sys\n"
        "raw=open(sys.argv[1],\"rb\").read()\n"
        "assert raw.startswith(b\"\\xef\\xbb\\xbf\"), \"bom\"\n"
        "assert raw.count(b\"\\r\\n\")>=4, \"crlf\"\n"
        "rows=list(csv.reader(open(sys.argv[1],newline=\"\","
        "encoding=\"utf-8-sig\")))\n"
        "out=open(sys.argv[2],\"w\",encoding=\"utf-8\")\n"
        "for r in rows: out.write(\"~\".join(c.replace(\"\\n\",\"\\\\n\") "
        "for c in r)+\"\\n\")\n"
        "' '%s' '%s'",
        path, out);
    CU_ASSERT_EQUAL(rc, 0);
    char *txt = tu_read_file(out, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    const char *want =
        "account~account_currency~statement_id~booking_date~value_date~"
        "credit_debit~reversal~amount~currency~status~bank_reference~"
        "customer_reference~bank_transaction_code~end_to_end_id~"
        "counterparty_name~counterparty_account~counterparty_agent~"
        "remittance~additional_info\n"
        "DE89370400440532013000~EUR~STMT-1~2024-03-01~2024-03-02~CRDT~~"
        "1234.56~EUR~BOOK~REF;1~~PMNT/RCDT/ESCT~E2E-A | E2E-B~"
        "Smith, \"Jr\" | 张三~"
        "GB29NWBK60161331926819 | 6222020200112233~"
        "NWBKGB2L | CNAPS/102100099996~inv 1\\ninv 2 | RF18539007547034~\n"
        "DE89370400440532013000~EUR~STMT-1~~~DBIT~Y~5~JPY~~~~NTRF~E2E-A~"
        "Smith, \"Jr\"~GB29NWBK60161331926819~NWBKGB2L~inv 1\\ninv 2~"
        "'=cmd()\n"
        "DE89370400440532013000~EUR~STMT-1~~~DBIT~~0.001~BHD~~~~~~~~~~"
        " padded \n";
    CU_ASSERT_STRING_EQUAL(txt, want);
    if (strcmp(txt, want))
        fprintf(stderr, "got:\n%s", txt);
    free(txt);
    tu_rmtree(dir);
}

static const struct tu_case cases[] = {
    {"utf-8 bom, semicolon, quoted separators and newlines",
     test_bom_semicolon_quotes},
    {"gb18030 declared", test_gb18030},
    {"gb18030 csv to canonical xml", test_gb18030_to_canonical},
    {"malformed file: all problems with lines", test_malformed_all_reported},
    {"row problems", test_row_problems},
    {"header problems", test_header_problems},
    {"misc valid", test_misc_valid},
    {"statement csv writer", test_stmt_writer},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_csv", cases);
}
