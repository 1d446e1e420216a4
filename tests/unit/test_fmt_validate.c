/* test_fmt_validate.c - the payment validator and the diag collector. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "amount.h"
#include "model.h"
#include "testutil.h"
#include "validate.h"

/* ---- a clean batch that each case breaks in one way ------------------- */

struct batch {
    struct fmt_pay_header hdr;
    struct fmt_pay_group grp;
    struct fmt_pay_tx tx[3];
    int ntx;
};

static char *S(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void batch_init(struct batch *b)
{
    memset(b, 0, sizeof(*b));
    fmt_pay_header_init(&b->hdr);
    b->hdr.msg_id = S("MSG-2024-0001");
    b->hdr.cre_dt_tm = S("2024-05-02T10:00:00");
    b->hdr.nb_of_txs = 2;
    b->hdr.has_ctrl_sum = 1;
    b->hdr.ctrl_sum_milli = 1250 * 10 + 99999 * 10; /* 12.50 + 999.99 */
    b->hdr.initg_pty.name = S("ACME Treasury");
    fmt_pay_group_init(&b->grp);
    b->grp.pmt_inf_id = S("PMT-1");
    b->grp.pmt_mtd = S("TRF");
    b->grp.nb_of_txs = 2;
    b->grp.has_ctrl_sum = 1;
    b->grp.ctrl_sum_milli = b->hdr.ctrl_sum_milli;
    b->grp.svc_lvl = S("SEPA");
    b->grp.reqd_exctn_dt = S("2024-05-03");
    b->grp.dbtr.name = S("ACME GmbH");
    b->grp.dbtr.addr.country = S("DE");
    b->grp.dbtr_acct.iban = S("DE89370400440532013000");
    b->grp.dbtr_agt.bic = S("COBADEFFXXX");
    b->grp.chrg_br = S("SLEV");
    b->grp.line = 10;
    b->ntx = 2;
    for (int i = 0; i < 2; i++) {
        struct fmt_pay_tx *t = &b->tx[i];
        char id[32];
        snprintf(id, sizeof(id), "E2E-%d", i + 1);
        t->end_to_end_id = S(id);
        t->instr_id = S(id);
        memcpy(t->amt.ccy, "EUR", 4);
        t->amt.minor = i == 0 ? 1250 : 99999;
        t->cdtr.name = S(i == 0 ? "Supplier One SA" : "Lieferant Zwei AG");
        t->cdtr.addr.country = S(i == 0 ? "FR" : "DE");
        t->cdtr_acct.iban = S(i == 0 ? "FR1420041010050500013M02606"
                                     : "DE89370400440532013000");
        t->cdtr_agt.bic = S("BNPAFRPPXXX");
        t->rmt_ustrd = S("Invoice 4711");
        t->line = 20 + i * 10;
    }
}

static void batch_release(struct batch *b)
{
    fmt_pay_header_release(&b->hdr);
    fmt_pay_group_release(&b->grp);
    for (int i = 0; i < 3; i++)
        fmt_pay_tx_release(&b->tx[i]);
}

/* A downstream sink that counts what it receives. */
struct counts {
    int begin, gb, tx, ge, end;
    int fail_at_tx;
};
static int c_begin(void *c, const struct fmt_pay_header *h)
{
    (void)h;
    ((struct counts *)c)->begin++;
    return 0;
}
static int c_gb(void *c, const struct fmt_pay_group *g)
{
    (void)g;
    ((struct counts *)c)->gb++;
    return 0;
}
static int c_tx(void *c, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    (void)g;
    (void)t;
    struct counts *k = c;
    k->tx++;
    return k->fail_at_tx && k->tx == k->fail_at_tx ? H2H_EIO : 0;
}
static int c_ge(void *c, const struct fmt_pay_group *g)
{
    (void)g;
    ((struct counts *)c)->ge++;
    return 0;
}
static int c_end(void *c, const struct fmt_pay_header *h)
{
    (void)h;
    ((struct counts *)c)->end++;
    return 0;
}

static int run(const struct fmt_profile *p, struct batch *b, struct fmt_diag *d,
               struct counts *k)
{
    struct fmt_pay_sink next = {c_begin, c_gb, c_tx, c_ge, c_end, k};
    struct fmt_pay_validator *v = fmt_pay_validator_new(p, d, &next);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct fmt_pay_sink s = fmt_pay_validator_sink(v);
    int rc = s.begin(s.ctx, &b->hdr);
    if (!rc)
        rc = s.group_begin(s.ctx, &b->grp);
    for (int i = 0; !rc && i < b->ntx; i++)
        rc = s.tx(s.ctx, &b->grp, &b->tx[i]);
    if (!rc)
        rc = s.group_end(s.ctx, &b->grp);
    if (!rc)
        rc = s.end(s.ctx, &b->hdr);
    int n = fmt_pay_validator_finish(v);
    fmt_pay_validator_free(v);
    return rc < 0 ? rc : n;
}

static const struct fmt_problem *find_rule(const struct fmt_diag *d,
                                           const char *rule)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].rule && !strcmp(d->v[i].rule, rule))
            return &d->v[i];
    return NULL;
}

/* mutations */
#define SET(field, val)                                                        \
    do {                                                                       \
        free(field);                                                           \
        field = S(val);                                                        \
    } while (0)
static void m_none(struct batch *b)
{
    (void)b;
}
static void m_bad_iban(struct batch *b)
{
    SET(b->tx[1].cdtr_acct.iban, "DE89370400440532013001");
}
static void m_iban_spaces(struct batch *b)
{
    SET(b->grp.dbtr_acct.iban, "DE89 3704 0044 0532 0130 00");
}
static void m_no_cdtr_acct(struct batch *b)
{
    SET(b->tx[0].cdtr_acct.iban, NULL);
}
static void m_other_acct(struct batch *b)
{
    SET(b->tx[0].cdtr_acct.iban, NULL);
    SET(b->tx[0].cdtr_acct.other_id, "1234567890");
}
static void m_bad_bic(struct batch *b)
{
    SET(b->tx[0].cdtr_agt.bic, "BNPAFRP");
}
static void m_bad_ccy(struct batch *b)
{
    memcpy(b->tx[0].amt.ccy, "EUX", 4);
}
static void m_usd(struct batch *b)
{
    memcpy(b->tx[0].amt.ccy, "USD", 4);
}
static void m_zero_amt(struct batch *b)
{
    b->tx[0].amt.minor = 0;
    b->hdr.ctrl_sum_milli = b->grp.ctrl_sum_milli = 999990;
}
static void m_no_amt(struct batch *b)
{
    b->tx[0].amt.ccy[0] = '\0';
}
static void m_bad_country(struct batch *b)
{
    SET(b->tx[0].cdtr.addr.country, "UK");
}
static void m_past(struct batch *b)
{
    SET(b->grp.reqd_exctn_dt, "2024-04-20");
}
static void m_past_ok(struct batch *b)
{
    SET(b->grp.reqd_exctn_dt, "2024-04-25");
}
static void m_bad_date(struct batch *b)
{
    SET(b->grp.reqd_exctn_dt, "2024-02-30");
}
static void m_no_date(struct batch *b)
{
    SET(b->grp.reqd_exctn_dt, NULL);
}
static void m_no_msgid(struct batch *b)
{
    SET(b->hdr.msg_id, "");
}
static void m_long_msgid(struct batch *b)
{
    SET(b->hdr.msg_id, "ABCDEFGHIJ0123456789ABCDEFGHIJ0123456");
}
static void m_no_pmtinfid(struct batch *b)
{
    SET(b->grp.pmt_inf_id, NULL);
}
static void m_no_e2e(struct batch *b)
{
    SET(b->tx[1].end_to_end_id, NULL);
}
static void m_dup_e2e(struct batch *b)
{
    SET(b->tx[1].end_to_end_id, "E2E-1");
}
static void m_notprovided(struct batch *b)
{
    SET(b->tx[0].end_to_end_id, "NOTPROVIDED");
    SET(b->tx[1].end_to_end_id, "NOTPROVIDED");
}
static void m_no_dbtr_name(struct batch *b)
{
    SET(b->grp.dbtr.name, NULL);
}
static void m_no_cdtr_name(struct batch *b)
{
    SET(b->tx[0].cdtr.name, "");
}
static void m_long_name(struct batch *b)
{
    char n[200];
    memset(n, 'x', 141);
    n[141] = '\0';
    SET(b->tx[0].cdtr.name, n);
}
static void m_140_umlauts(struct batch *b)
{
    /* 140 characters, 280 bytes: within Max140Text */
    char n[300] = "";
    for (int i = 0; i < 140; i++)
        strcat(n, "\xc3\xbc");
    SET(b->tx[0].cdtr.name, n);
}
static void m_umlaut_name(struct batch *b)
{
    SET(b->tx[1].cdtr.name, "M\xc3\xbcller & S\xc3\xb6hne");
}
static void m_long_rmt(struct batch *b)
{
    char n[200];
    memset(n, 'r', 141);
    n[141] = '\0';
    SET(b->tx[0].rmt_ustrd, n);
}
static void m_two_rmt_lines(struct batch *b)
{
    SET(b->tx[0].rmt_ustrd, "line one\nline two");
}
static void m_svclvl(struct batch *b)
{
    SET(b->grp.svc_lvl, "URGP");
}
static void m_chrgbr(struct batch *b)
{
    SET(b->grp.chrg_br, "DEBT");
}
static void m_sepa_id(struct batch *b)
{
    SET(b->tx[0].end_to_end_id, "E2E_1");
}
static void m_sepa_id_slash(struct batch *b)
{
    SET(b->tx[0].end_to_end_id, "/E2E-1");
}
static void m_nb_grp(struct batch *b)
{
    b->grp.nb_of_txs = 3;
}
static void m_nb_hdr(struct batch *b)
{
    b->hdr.nb_of_txs = 5;
}
static void m_sum_grp(struct batch *b)
{
    b->grp.ctrl_sum_milli += 10;
}
static void m_sum_hdr(struct batch *b)
{
    b->hdr.ctrl_sum_milli = 1;
}
static void m_no_totals(struct batch *b)
{
    b->hdr.nb_of_txs = b->grp.nb_of_txs = -1;
    b->hdr.has_ctrl_sum = b->grp.has_ctrl_sum = 0;
    b->hdr.ctrl_sum_milli = 42;
}
static void m_no_cdtr_agt(struct batch *b)
{
    SET(b->tx[0].cdtr_agt.bic, NULL);
}
static void m_clr_only(struct batch *b)
{
    SET(b->tx[0].cdtr_agt.bic, NULL);
    SET(b->tx[0].cdtr_agt.clr_sys, "USABA");
    SET(b->tx[0].cdtr_agt.clr_mmb_id, "021000021");
}
static void m_no_cdtr_ctry(struct batch *b)
{
    SET(b->tx[1].cdtr.addr.country, NULL);
}
static void m_bad_uetr(struct batch *b)
{
    SET(b->tx[0].uetr, "not-a-uuid");
}

struct vcase {
    const char *label;
    enum fmt_practice practice;
    int translit;
    void (*mut)(struct batch *);
    const char *rule;  /* expected rule, NULL: clean */
    const char *where; /* expected path (substring) */
    int line;          /* expected line, -1: don't check */
};

static const struct vcase vcases[] = {
    {"clean none", FMT_PRACTICE_NONE, 0, m_none, NULL, NULL, -1},
    {"clean sepa", FMT_PRACTICE_SEPA, 0, m_none, NULL, NULL, -1},
    {"clean cgi", FMT_PRACTICE_CGI, 0, m_none, NULL, NULL, -1},
    {"iban checksum", FMT_PRACTICE_NONE, 0, m_bad_iban, "tx.cdtracct.iban",
     "PmtInf[1]/CdtTrfTxInf[2]/CdtrAcct/Id/IBAN", 30},
    {"iban with spaces", FMT_PRACTICE_NONE, 0, m_iban_spaces,
     "grp.dbtracct.iban", "PmtInf[1]/DbtrAcct/Id/IBAN", 10},
    {"creditor account missing", FMT_PRACTICE_NONE, 0, m_no_cdtr_acct,
     "tx.cdtracct.missing", "CdtTrfTxInf[1]/CdtrAcct/Id", 20},
    {"other account fine outside sepa", FMT_PRACTICE_NONE, 0, m_other_acct,
     NULL, NULL, -1},
    {"other account not in sepa", FMT_PRACTICE_SEPA, 0, m_other_acct,
     "tx.cdtracct.sepa_iban", "CdtrAcct/Id/IBAN", 20},
    {"bic", FMT_PRACTICE_NONE, 0, m_bad_bic, "bic.invalid",
     "CdtTrfTxInf[1]/CdtrAgt/FinInstnId/BIC", 20},
    {"unknown currency", FMT_PRACTICE_NONE, 0, m_bad_ccy, "ccy.unknown",
     "CdtTrfTxInf[1]/Amt/InstdAmt", 20},
    {"usd in sepa", FMT_PRACTICE_SEPA, 0, m_usd, "sepa.ccy", "Amt", 20},
    {"zero amount", FMT_PRACTICE_NONE, 0, m_zero_amt, "tx.amt.notpositive",
     "Amt/InstdAmt", 20},
    {"amount missing", FMT_PRACTICE_NONE, 0, m_no_amt, "tx.amt.missing",
     "Amt/InstdAmt", 20},
    {"country", FMT_PRACTICE_NONE, 0, m_bad_country, "country.invalid",
     "CdtTrfTxInf[1]/Cdtr/PstlAdr/Ctry", 20},
    {"date 13 days past", FMT_PRACTICE_NONE, 0, m_past, "grp.reqdexctndt.past",
     "PmtInf[1]/ReqdExctnDt", 10},
    {"date 8 days past within 10", FMT_PRACTICE_NONE, 0, m_past_ok, NULL, NULL,
     -1},
    {"date invalid", FMT_PRACTICE_NONE, 0, m_bad_date, "grp.reqdexctndt.format",
     "ReqdExctnDt", 10},
    {"date missing", FMT_PRACTICE_NONE, 0, m_no_date, "grp.reqdexctndt.missing",
     "ReqdExctnDt", 10},
    {"msgid missing", FMT_PRACTICE_NONE, 0, m_no_msgid, "hdr.msgid.missing",
     "GrpHdr/MsgId", 0},
    {"msgid too long", FMT_PRACTICE_NONE, 0, m_long_msgid, "hdr.msgid.length",
     "GrpHdr/MsgId", 0},
    {"pmtinfid missing", FMT_PRACTICE_NONE, 0, m_no_pmtinfid,
     "grp.pmtinfid.missing", "PmtInf[1]/PmtInfId", 10},
    {"e2e missing", FMT_PRACTICE_NONE, 0, m_no_e2e, "tx.endtoendid.missing",
     "CdtTrfTxInf[2]/PmtId/EndToEndId", 30},
    {"e2e duplicate", FMT_PRACTICE_NONE, 0, m_dup_e2e, "tx.endtoendid.dup",
     "CdtTrfTxInf[2]/PmtId/EndToEndId", 30},
    {"NOTPROVIDED twice is fine", FMT_PRACTICE_NONE, 0, m_notprovided, NULL,
     NULL, -1},
    {"debtor name missing", FMT_PRACTICE_NONE, 0, m_no_dbtr_name,
     "grp.dbtr.name.missing", "PmtInf[1]/Dbtr/Nm", 10},
    {"creditor name empty", FMT_PRACTICE_NONE, 0, m_no_cdtr_name,
     "tx.cdtr.name.missing", "CdtTrfTxInf[1]/Cdtr/Nm", 20},
    {"name 141 chars", FMT_PRACTICE_NONE, 0, m_long_name, "tx.cdtr.name.length",
     "Cdtr/Nm", 20},
    {"name 140 umlauts", FMT_PRACTICE_NONE, 0, m_140_umlauts, NULL, NULL, -1},
    {"umlauts in sepa", FMT_PRACTICE_SEPA, 0, m_umlaut_name,
     "tx.cdtr.name.charset", "CdtTrfTxInf[2]/Cdtr/Nm", 30},
    {"umlauts in sepa, transliterated", FMT_PRACTICE_SEPA, 1, m_umlaut_name,
     NULL, NULL, -1},
    {"umlauts outside sepa", FMT_PRACTICE_NONE, 0, m_umlaut_name, NULL, NULL,
     -1},
    {"remittance 141", FMT_PRACTICE_NONE, 0, m_long_rmt, "tx.rmt.length",
     "RmtInf/Ustrd", 20},
    {"two remittance lines ok", FMT_PRACTICE_NONE, 0, m_two_rmt_lines, NULL,
     NULL, -1},
    {"two remittance lines sepa", FMT_PRACTICE_SEPA, 0, m_two_rmt_lines,
     "sepa.rmt.lines", "RmtInf/Ustrd", 20},
    {"svclvl sepa", FMT_PRACTICE_SEPA, 0, m_svclvl, "sepa.svclvl",
     "PmtTpInf/SvcLvl/Cd", 10},
    {"svclvl any outside sepa", FMT_PRACTICE_NONE, 0, m_svclvl, NULL, NULL, -1},
    {"chrgbr sepa", FMT_PRACTICE_SEPA, 0, m_chrgbr, "sepa.chrgbr", "ChrgBr",
     10},
    {"sepa id charset", FMT_PRACTICE_SEPA, 1, m_sepa_id,
     "tx.endtoendid.charset", "EndToEndId", 20},
    {"sepa id leading slash", FMT_PRACTICE_SEPA, 0, m_sepa_id_slash,
     "tx.endtoendid.charset", "EndToEndId", 20},
    {"group NbOfTxs", FMT_PRACTICE_NONE, 0, m_nb_grp, "grp.nboftxs",
     "PmtInf[1]/NbOfTxs", 10},
    {"header NbOfTxs", FMT_PRACTICE_NONE, 0, m_nb_hdr, "hdr.nboftxs",
     "GrpHdr/NbOfTxs", 0},
    {"group CtrlSum", FMT_PRACTICE_NONE, 0, m_sum_grp, "grp.ctrlsum",
     "PmtInf[1]/CtrlSum", 10},
    {"header CtrlSum", FMT_PRACTICE_NONE, 0, m_sum_hdr, "hdr.ctrlsum",
     "GrpHdr/CtrlSum", 0},
    {"totals absent", FMT_PRACTICE_NONE, 0, m_no_totals, NULL, NULL, -1},
    {"cgi creditor agent", FMT_PRACTICE_CGI, 0, m_no_cdtr_agt,
     "cgi.cdtragt.missing", "CdtTrfTxInf[1]/CdtrAgt/FinInstnId", 20},
    {"cgi clearing id instead of bic", FMT_PRACTICE_CGI, 0, m_clr_only, NULL,
     NULL, -1},
    {"no creditor agent outside cgi", FMT_PRACTICE_SEPA, 0, m_no_cdtr_agt, NULL,
     NULL, -1},
    {"cgi creditor country", FMT_PRACTICE_CGI, 0, m_no_cdtr_ctry,
     "cgi.addr.country", "CdtTrfTxInf[2]/Cdtr/PstlAdr/Ctry", 30},
    {"uetr", FMT_PRACTICE_NONE, 0, m_bad_uetr, "tx.uetr", "PmtId/UETR", 20},
};

static void test_rules(void)
{
    for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
        const struct vcase *c = &vcases[i];
        struct batch b;
        batch_init(&b);
        c->mut(&b);
        struct fmt_profile p;
        fmt_profile_init(&p);
        p.practice = c->practice;
        p.transliterate = c->translit;
        p.today = "2024-05-02";
        p.exec_date_tolerance_days = 10;
        struct fmt_diag d;
        fmt_diag_init(&d, "batch.xml");
        struct counts k = {0};
        int n = run(&p, &b, &d, &k);
        const struct fmt_problem *pr = c->rule ? find_rule(&d, c->rule) : NULL;
        int ok = c->rule ? (n >= 1 && pr != NULL) : n == 0;
        if (ok && pr) {
            ok = pr->where && strstr(pr->where, c->where) &&
                 (c->line < 0 || pr->line == c->line) && pr->msg &&
                 strlen(pr->msg) > 10;
        }
        if (!ok || getenv("TU_VERBOSE")) {
            fprintf(stderr, "\ncase \"%s\": %d problems\n", c->label, n);
            fmt_diag_print(&d, stderr);
        }
        CU_ASSERT(ok);
        /* tee: everything forwarded, whatever the problems */
        CU_ASSERT_EQUAL(k.begin, 1);
        CU_ASSERT_EQUAL(k.gb, 1);
        CU_ASSERT_EQUAL(k.tx, 2);
        CU_ASSERT_EQUAL(k.ge, 1);
        CU_ASSERT_EQUAL(k.end, 1);
        /* no full IBAN in any message */
        for (size_t j = 0; j < d.n; j++)
            CU_ASSERT_PTR_NULL(strstr(d.v[j].msg, "370400440532013"));
        fmt_diag_release(&d);
        batch_release(&b);
    }
}

static void test_words(void)
{
    struct batch b;
    batch_init(&b);
    m_bad_iban(&b);
    m_past(&b);
    struct fmt_profile p;
    fmt_profile_init(&p);
    p.today = "2024-05-02";
    struct fmt_diag d;
    fmt_diag_init(&d, "batch.xml");
    struct counts k = {0};
    CU_ASSERT_EQUAL(run(&p, &b, &d, &k), 2);
    char *all = fmt_diag_join(&d);
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "check digit"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "12 days in the past"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "batch.xml:30: PmtInf[1]/"
                                       "CdtTrfTxInf[2]/CdtrAcct/Id/IBAN: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "[tx.cdtracct.iban]\n"));
    free(all);
    fmt_diag_release(&d);
    batch_release(&b);
}

static int seen_cb(void *ctx, const char *kind, const char *id)
{
    int *calls = ctx;
    (*calls)++;
    return (!strcmp(kind, "MsgId") && !strcmp(id, "MSG-2024-0001")) ||
           (!strcmp(kind, "EndToEndId") && !strcmp(id, "E2E-2"));
}

static void test_seen_before(void)
{
    struct batch b;
    batch_init(&b);
    struct fmt_profile p;
    fmt_profile_init(&p);
    p.today = "2024-05-02";
    int calls = 0;
    p.seen_before = seen_cb;
    p.seen_ctx = &calls;
    struct fmt_diag d;
    fmt_diag_init(&d, "b");
    struct counts k = {0};
    CU_ASSERT_EQUAL(run(&p, &b, &d, &k), 2);
    CU_ASSERT_PTR_NOT_NULL(find_rule(&d, "hdr.msgid.dup_earlier"));
    const struct fmt_problem *pr = find_rule(&d, "tx.endtoendid.dup_earlier");
    CU_ASSERT_PTR_NOT_NULL(pr);
    CU_ASSERT_EQUAL(calls, 4); /* MsgId, PmtInfId, 2 x EndToEndId */
    fmt_diag_release(&d);
    batch_release(&b);
}

static void test_abort_from_next(void)
{
    struct batch b;
    batch_init(&b);
    struct fmt_diag d;
    fmt_diag_init(&d, "b");
    struct counts k = {.fail_at_tx = 1};
    struct fmt_profile p;
    fmt_profile_init(&p);
    p.today = "2024-05-02";
    CU_ASSERT_EQUAL(run(&p, &b, &d, &k), H2H_EIO);
    CU_ASSERT_EQUAL(k.tx, 1);
    fmt_diag_release(&d);
    batch_release(&b);
}

static void test_profile(void)
{
    enum fmt_practice pr = FMT_PRACTICE_NONE;
    CU_ASSERT_EQUAL(fmt_practice_parse("SEPA", &pr), 0);
    CU_ASSERT_EQUAL(pr, FMT_PRACTICE_SEPA);
    CU_ASSERT_EQUAL(fmt_practice_parse("cgi", &pr), 0);
    CU_ASSERT_EQUAL(pr, FMT_PRACTICE_CGI);
    CU_ASSERT_EQUAL(fmt_practice_parse("swift", &pr), H2H_EINVALID);
    struct fmt_profile p;
    fmt_profile_init(&p);
    CU_ASSERT_EQUAL(p.exec_date_tolerance_days, 7);
    p.today = "2024-02-30";
    struct fmt_diag d;
    fmt_diag_init(&d, NULL);
    CU_ASSERT_PTR_NULL(fmt_pay_validator_new(&p, &d, NULL));
    /* NULL profile: defaults, real today; a date far in the past fails */
    struct fmt_pay_validator *v = fmt_pay_validator_new(NULL, &d, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    struct batch b;
    batch_init(&b);
    SET(b.grp.reqd_exctn_dt, "2001-01-01");
    struct fmt_pay_sink s = fmt_pay_validator_sink(v);
    s.begin(s.ctx, &b.hdr);
    s.group_begin(s.ctx, &b.grp);
    s.tx(s.ctx, &b.grp, &b.tx[0]);
    s.tx(s.ctx, &b.grp, &b.tx[1]);
    s.group_end(s.ctx, &b.grp);
    s.end(s.ctx, &b.hdr);
    CU_ASSERT_EQUAL(fmt_pay_validator_finish(v), 1);
    CU_ASSERT_PTR_NOT_NULL(find_rule(&d, "grp.reqdexctndt.past"));
    fmt_pay_validator_free(v);
    fmt_pay_validator_free(NULL);
    fmt_diag_release(&d);
    batch_release(&b);
}

/* One million transactions: duplicates found, memory stays small. */
static void test_million(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long before = ru.ru_maxrss;

    struct batch b;
    batch_init(&b);
    struct fmt_profile p;
    fmt_profile_init(&p);
    p.today = "2024-05-02";
    struct fmt_diag d;
    fmt_diag_init(&d, "big");
    struct fmt_pay_validator *v = fmt_pay_validator_new(&p, &d, NULL);
    struct fmt_pay_sink s = fmt_pay_validator_sink(v);
    const int64_t n = 1000000;
    b.hdr.nb_of_txs = b.grp.nb_of_txs = n;
    b.hdr.has_ctrl_sum = b.grp.has_ctrl_sum = 0;
    s.begin(s.ctx, &b.hdr);
    s.group_begin(s.ctx, &b.grp);
    char id[40];
    struct fmt_pay_tx *t = &b.tx[0];
    for (int64_t i = 0; i < n; i++) {
        /* ids 0..n-1, except that i = 777777 repeats id 123456 */
        snprintf(id, sizeof(id), "E2E-%lld",
                 (long long)(i == 777777 ? 123456 : i));
        free(t->end_to_end_id);
        t->end_to_end_id = strdup(id);
        t->line = (int)i + 1;
        CU_ASSERT_EQUAL(s.tx(s.ctx, &b.grp, t), 0);
    }
    s.group_end(s.ctx, &b.grp);
    s.end(s.ctx, &b.hdr);
    CU_ASSERT_EQUAL(fmt_pay_validator_finish(v), 1);
    const struct fmt_problem *pr = find_rule(&d, "tx.endtoendid.dup");
    CU_ASSERT_PTR_NOT_NULL(pr);
    if (pr)
        CU_ASSERT_EQUAL(pr->line, 777778);
    getrusage(RUSAGE_SELF, &ru);
    long grown_kb = ru.ru_maxrss - before;
    fprintf(stderr, "\n1M transactions: max RSS grew by %ld kB\n", grown_kb);
#ifndef __SANITIZE_ADDRESS__
    /* (ASan's quarantine keeps freed memory, so RSS says nothing there) */
    CU_ASSERT(grown_kb < 48 * 1024);
#endif
    fmt_pay_validator_free(v);
    fmt_diag_release(&d);
    batch_release(&b);
}

/* ---- fmt_diag --------------------------------------------------------- */

static void test_diag(void)
{
    struct fmt_diag d;
    fmt_diag_init(&d, "f.xml");
    d.max = 3;
    fmt_diag_add(&d, 12, "A/B", "r.one", "first %d", 1);
    fmt_diag_add(&d, 0, NULL, "r.two", "second");
    fmt_diag_add(&d, 5, "C", NULL, "third");
    fmt_diag_add(&d, 6, "D", "r.four", "fourth");
    fmt_diag_add(&d, 7, "E", "r.five", "fifth");
    CU_ASSERT_EQUAL(d.n, 3);
    CU_ASSERT_EQUAL(d.dropped, 2);
    char *j = fmt_diag_join(&d);
    CU_ASSERT_STRING_EQUAL(j, "f.xml:12: A/B: first 1 [r.one]\n"
                              "f.xml: second [r.two]\n"
                              "f.xml:5: C: third\n"
                              "f.xml: 2 more problems not shown [diag.max]\n");
    char buf[512] = "";
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    fmt_diag_print(&d, f);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, j);
    free(j);
    fmt_diag_release(&d);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_PTR_NULL(d.v);
    fmt_diag_release(&d); /* twice is fine */
    fmt_diag_release(NULL);

    /* default cap 1000 */
    fmt_diag_init(&d, "g");
    for (int i = 0; i < 1500; i++)
        fmt_diag_add(&d, i, "x", "r", "p %d", i);
    CU_ASSERT_EQUAL(d.n, 1000);
    CU_ASSERT_EQUAL(d.dropped, 500);
    j = fmt_diag_join(&d);
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "g:999: x: p 999 [r]\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "500 more problems"));
    free(j);
    fmt_diag_release(&d);

    fmt_diag_init(&d, "empty");
    j = fmt_diag_join(&d);
    CU_ASSERT_STRING_EQUAL(j, "");
    free(j);
}

static void test_model_release(void)
{
    /* release leaves a reusable, "absent"-marked struct; twice is fine */
    struct fmt_pay_group g;
    fmt_pay_group_init(&g);
    CU_ASSERT_EQUAL(g.nb_of_txs, -1);
    CU_ASSERT_EQUAL(g.batch_booking, -1);
    CU_ASSERT_EQUAL(fmt_strset(&g.pmt_inf_id, "A"), 0);
    CU_ASSERT_EQUAL(fmt_strset(&g.pmt_inf_id, "B"), 0);
    CU_ASSERT_STRING_EQUAL(g.pmt_inf_id, "B");
    CU_ASSERT_EQUAL(fmt_strnset(&g.dbtr.name, "Hello world", 5), 0);
    CU_ASSERT_STRING_EQUAL(g.dbtr.name, "Hello");
    CU_ASSERT_EQUAL(fmt_strset(&g.dbtr.addr.lines[6], "line"), 0);
    CU_ASSERT_EQUAL(fmt_strset(&g.svc_lvl, NULL), 0);
    CU_ASSERT_PTR_NULL(g.svc_lvl);
    g.nb_of_txs = 5;
    fmt_pay_group_release(&g);
    CU_ASSERT_EQUAL(g.nb_of_txs, -1);
    CU_ASSERT_PTR_NULL(g.pmt_inf_id);
    fmt_pay_group_release(&g);
    fmt_pay_group_release(NULL);

    struct fmt_status_report r;
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL(r.orgnl_nb_of_txs, -1);
    r.pmts = calloc(2, sizeof(*r.pmts));
    r.n_pmts = 2;
    r.pmts[1].txs = calloc(1, sizeof(*r.pmts[1].txs));
    r.pmts[1].n_txs = 1;
    r.pmts[1].txs[0].reasons = calloc(1, sizeof(struct fmt_reason));
    r.pmts[1].txs[0].n_reasons = 1;
    fmt_strset(&r.pmts[1].txs[0].reasons[0].code, "AC01");
    fmt_strset(&r.pmts[1].txs[0].sts, "RJCT");
    fmt_strset(&r.msg_id, "m");
    fmt_status_report_release(&r); /* ASan proves nothing leaks */
    CU_ASSERT_PTR_NULL(r.pmts);

    struct fmt_entry e = {0};
    e.dtls = calloc(2, sizeof(*e.dtls));
    e.n_dtls = 2;
    fmt_strset(&e.dtls[1].cpty.name, "x");
    fmt_strset(&e.dtls[0].rmt_strd.cdtr_ref, "RF18");
    fmt_entry_release(&e);
    struct fmt_stmt st = {0};
    st.bals = calloc(1, sizeof(*st.bals));
    st.n_bals = 1;
    fmt_strset(&st.bals[0].date, "2024-01-01");
    fmt_stmt_release(&st);
    fmt_stmt_release(NULL);
}

static const struct tu_case cases[] = {
    {"rules table", test_rules},
    {"messages and paths", test_words},
    {"ids seen in earlier files", test_seen_before},
    {"abort from the next sink", test_abort_from_next},
    {"profile defaults and parsing", test_profile},
    {"1,000,000 transactions", test_million},
    {"diag cap, print, join", test_diag},
    {"model release and strset", test_model_release},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_validate", cases);
}
