/*
 * test_fmt_pain002.c - pain.002 status report reader and writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pain002.h"
#include "testutil.h"

/* Every field of a report as "key=value" lines, for comparisons. */
static char *dump(const struct fmt_status_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
#define KV(k, v)                                                               \
    do {                                                                       \
        if (v)                                                                 \
            fprintf(f, "%s=%s\n", k, v);                                       \
    } while (0)
    KV("msg_id", r->msg_id);
    KV("cre_dt_tm", r->cre_dt_tm);
    KV("initg.name", r->initg_pty.name);
    KV("initg.bic", r->initg_pty.org_bic);
    KV("initg.org_id", r->initg_pty.org_id);
    KV("orgnl_msg_id", r->orgnl_msg_id);
    KV("orgnl_msg_nm_id", r->orgnl_msg_nm_id);
    fprintf(f, "orgnl_nb_of_txs=%lld\n", (long long)r->orgnl_nb_of_txs);
    KV("grp_sts", r->grp_sts);
    for (size_t i = 0; i < r->n_reasons; i++) {
        KV("grp.rsn.code", r->reasons[i].code);
        KV("grp.rsn.prtry", r->reasons[i].prtry);
        KV("grp.rsn.info", r->reasons[i].addtl_info);
    }
    for (size_t i = 0; i < r->n_pmts; i++) {
        const struct fmt_pmt_status *p = &r->pmts[i];
        fprintf(f, "pmt[%zu]\n", i + 1);
        KV("pmt.id", p->orgnl_pmt_inf_id);
        KV("pmt.sts", p->sts);
        for (size_t k = 0; k < p->n_reasons; k++) {
            KV("pmt.rsn.code", p->reasons[k].code);
            KV("pmt.rsn.prtry", p->reasons[k].prtry);
            KV("pmt.rsn.info", p->reasons[k].addtl_info);
        }
        for (size_t j = 0; j < p->n_txs; j++) {
            const struct fmt_tx_status *t = &p->txs[j];
            fprintf(f, "tx[%zu]\n", j + 1);
            KV("tx.sts_id", t->sts_id);
            KV("tx.instr_id", t->orgnl_instr_id);
            KV("tx.e2e", t->orgnl_end_to_end_id);
            KV("tx.uetr", t->orgnl_uetr);
            KV("tx.sts", t->sts);
            if (t->amt.ccy[0])
                fprintf(f, "tx.amt=%lld %s\n", (long long)t->amt.minor,
                        t->amt.ccy);
            for (size_t k = 0; k < t->n_reasons; k++) {
                KV("tx.rsn.code", t->reasons[k].code);
                KV("tx.rsn.prtry", t->reasons[k].prtry);
                KV("tx.rsn.info", t->reasons[k].addtl_info);
            }
        }
    }
#undef KV
    fclose(f);
    return buf;
}

static size_t total_txs(const struct fmt_status_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_pmts; i++)
        n += r->pmts[i].n_txs;
    return n;
}

struct case2 {
    const char *file, *format, *msg_id, *grp_sts;
    size_t n_pmts, n_txs;
    const char *pmt1_sts, *a_reason; /* a reason code somewhere, or NULL */
};

static const struct case2 cases2[] = {
    {"hbci4j__test-pain-parse-0020110-01.xml", "pain.002",
     "8fe2133db36b4026ba7d6766583d434e", "RVMC", 1, 1, "RVMC", NULL},
    {"hbci4j__test-pain-parse-0020110-02.xml", "pain.002.001.10",
     "8fe2133db36b4026ba7d6766583d434e", "RVMC", 1, 1, "RVMC", NULL},
    {"hbci4j__test-pain-parse-0020110-03.xml", "pain.002.001.10",
     "dc6f9da5b431-4956-8e23-1bef7d23f948", "RCVC", 1, 0, "RCVC", NULL},
    {"libeufin__2_pain002_B-Level_ACCP_v2009.xml", "pain.002.001.03.ch.02",
     "20180326375204011678275", NULL, 1, 1, "RJCT", "AC01"},
    {"libeufin__2_pain002_B-Level_ACCP_v2019.xml", "pain.002.001.10",
     "204691ACFC/071125/023228", NULL, 1, 0, "ACCP", NULL},
    {"libeufin__3_pain002_B-Level_und_C-Level_RJCT_ISO2019_v2019.xml",
     "pain.002.001.10", "204691ACFC/071125/023362", NULL, 1, 0, "RJCT", "AC01"},
    {"libeufin__3_pain002_B-Level_und_C-Level_RJCT_v2009.xml",
     "pain.002.001.03.ch.02", "20180315375204222822452", NULL, 1, 1, "PART",
     "AC01"},
    {"libeufin__5_pain002_A-Level_ACTC_Empfangsbestaetigung_FDS_v2009.xml",
     "pain.002.001.03.ch.02", "20180315375204222821684", "ACTC", 0, 0, NULL,
     NULL},
    {"libeufin__5_pain002_A-Level_ACTC_Empfangsbestaetigung_FDS_v2019.xml",
     "pain.002.001.10", "20180315375204222821684", "ACTC", 0, 0, NULL, NULL},
    {"libeufin__6_pain002_A-Level_RJCT_Empfangsbestaetigung_FDS_v2009.xml",
     "pain.002.001.03.ch.02", "20180326375204011685776", "RJCT", 0, 0, NULL,
     "AM10"},
    {"libeufin__6_pain002_A-Level_RJCT_Empfangsbestaetigung_FDS_v2019.xml",
     "pain.002.001.10", "20180326375204011685776", "RJCT", 0, 0, NULL, "AM10"},
    {"libeufin__pain002_CHDD_P_CH2909000000250094239_1110097483_0_"
     "20220614375204216308259.xml",
     "pain.002.001.03.ch.02", "20220614375204216308259", NULL, 1, 0, "ACCP",
     NULL},
};

static int read_corpus(const char *file, struct fmt_status_report *r,
                       struct fmt_diag *dg, struct h2h_err *e)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "pain002/%s", file);
    struct fmt_src src = {.path = tu_corpus(rel)};
    return fmt_pain002_read(&src, r, dg, e);
}

static void test_corpus(void)
{
    if (!tu_corpus_present()) {
        printf("corpus absent: skipped ");
        return;
    }
    for (size_t i = 0; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
        const struct case2 *c = &cases2[i];
        struct fmt_status_report r;
        struct fmt_diag dg;
        struct h2h_err e = {0};
        fmt_status_report_init(&r);
        fmt_diag_init(&dg, c->file);
        int rc = read_corpus(c->file, &r, &dg, &e);
        if (rc)
            fprintf(stderr, "%s: %s\n", c->file, e.msg);
        CU_ASSERT_EQUAL(rc, 0);
        if (dg.n)
            fmt_diag_print(&dg, stderr);
        CU_ASSERT_EQUAL(dg.n, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.source_format);
        CU_ASSERT_STRING_EQUAL(r.source_format, c->format);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r.msg_id);
        CU_ASSERT_STRING_EQUAL(r.msg_id, c->msg_id);
        if (c->grp_sts) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(r.grp_sts);
            CU_ASSERT_STRING_EQUAL(r.grp_sts, c->grp_sts);
        } else {
            CU_ASSERT_PTR_NULL(r.grp_sts);
        }
        CU_ASSERT_EQUAL(r.n_pmts, c->n_pmts);
        CU_ASSERT_EQUAL(total_txs(&r), c->n_txs);
        if (c->pmt1_sts && r.n_pmts) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(r.pmts[0].sts);
            CU_ASSERT_STRING_EQUAL(r.pmts[0].sts, c->pmt1_sts);
        }
        if (c->a_reason) {
            char *d = dump(&r);
            char want[64];
            snprintf(want, sizeof(want), ".rsn.code=%s\n", c->a_reason);
            CU_ASSERT_PTR_NOT_NULL(strstr(d, want));
            free(d);
        }
        CU_ASSERT_PTR_NOT_NULL(r.orgnl_msg_id);
        fmt_status_report_release(&r);
        fmt_diag_release(&dg);
    }
}

static void test_corpus_fields(void)
{
    if (!tu_corpus_present())
        return;
    struct fmt_status_report r;
    struct h2h_err e = {0};
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL_FATAL(
        read_corpus("hbci4j__test-pain-parse-0020110-02.xml", &r, NULL, &e), 0);
    CU_ASSERT_STRING_EQUAL(r.orgnl_msg_id, "2025-10-20T23:33:49:0045");
    CU_ASSERT_STRING_EQUAL(r.orgnl_msg_nm_id, "pain.001");
    CU_ASSERT_EQUAL(r.orgnl_nb_of_txs, 1);
    CU_ASSERT_EQUAL_FATAL(r.n_reasons, 1);
    CU_ASSERT_PTR_NULL(r.reasons[0].code);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reasons[0].addtl_info,
                                  "abgeglichen (Empfaengerueberpruefung). "
                                  "Der\nRVNM Name"));
    const struct fmt_tx_status *t = &r.pmts[0].txs[0];
    CU_ASSERT_STRING_EQUAL(t->orgnl_end_to_end_id, "NOTPROVIDED");
    CU_ASSERT_STRING_EQUAL(t->orgnl_uetr,
                           "a34743b9-fb22-4ec6-9947-03b7e191584e");
    CU_ASSERT_STRING_EQUAL(t->sts, "RVNM");
    CU_ASSERT_STRING_EQUAL(r.cre_dt_tm, "2025-10-20T21:33:51.999511");

    CU_ASSERT_EQUAL_FATAL(
        read_corpus("libeufin__2_pain002_B-Level_ACCP_v2009.xml", &r, NULL, &e),
        0);
    CU_ASSERT_STRING_EQUAL(r.initg_pty.org_bic, "POFICHBE");
    CU_ASSERT_STRING_EQUAL(r.pmts[0].orgnl_pmt_inf_id, "PmtInfId-006-01");
    CU_ASSERT_EQUAL_FATAL(r.pmts[0].n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.pmts[0].reasons[0].code, "NARR");
    t = &r.pmts[0].txs[0];
    CU_ASSERT_STRING_EQUAL(t->orgnl_instr_id, "InstrId-006-01-01");
    CU_ASSERT_STRING_EQUAL(t->orgnl_end_to_end_id, "EndToEndId-006-01-01");
    CU_ASSERT_EQUAL_FATAL(t->n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(t->reasons[0].code, "AC01");
    CU_ASSERT_STRING_EQUAL(t->reasons[0].addtl_info,
                           "1301813;Konto ung\xc3\xbcltig");
    CU_ASSERT_EQUAL(r.orgnl_nb_of_txs, -1);
    fmt_status_report_release(&r);
}

static void test_negative(void)
{
    static const char unknown[] =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.99\">"
        "<CstmrPmtStsRpt/></Document>";
    static const char wrong[] =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">"
        "<CstmrCdtTrfInitn/></Document>";
    static const char broken[] =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">"
        "<CstmrPmtStsRpt><GrpHdr></CstmrPmtStsRpt></Document>";
    const char *docs[] = {unknown, wrong, broken};
    int codes[] = {H2H_EUNSUPPORTED, H2H_EUNSUPPORTED, 0};
    for (int i = 0; i < 3; i++) {
        struct fmt_src src = {.buf = docs[i], .len = strlen(docs[i])};
        struct fmt_status_report r;
        struct h2h_err e = {0};
        fmt_status_report_init(&r);
        int rc = fmt_pain002_read(&src, &r, NULL, &e);
        CU_ASSERT(rc < 0);
        if (codes[i])
            CU_ASSERT_EQUAL(rc, codes[i]);
        CU_ASSERT(e.msg[0] != '\0');
        fmt_status_report_release(&r);
    }
    /* an empty report: read, with problems */
    static const char empty[] =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">"
        "<CstmrPmtStsRpt/></Document>";
    struct fmt_src src = {.buf = empty, .len = strlen(empty)};
    struct fmt_status_report r;
    struct fmt_diag dg;
    fmt_status_report_init(&r);
    fmt_diag_init(&dg, "mem");
    CU_ASSERT_EQUAL(fmt_pain002_read(&src, &r, &dg, NULL), 0);
    CU_ASSERT_EQUAL(dg.n, 2);
    fmt_diag_release(&dg);
    fmt_status_report_release(&r);
}

/* pain.002.001.02 has no OrgnlPmtInfAndSts: one payment per id. */
static void test_v02(void)
{
    static const char doc[] =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.02\">"
        "<pain.002.001.02><GrpHdr><MsgId>S1</MsgId>"
        "<CreDtTm>2010-01-01T00:00:00</CreDtTm></GrpHdr>"
        "<OrgnlGrpInfAndSts><OrgnlMsgId>O1</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.001.001.02</OrgnlMsgNmId><GrpSts>PART</GrpSts>"
        "</OrgnlGrpInfAndSts>"
        "<TxInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId>"
        "<OrgnlEndToEndId>E1</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
        "<StsRsnInf><StsRsn><Cd>AC04</Cd></StsRsn>"
        "<AddtlStsRsnInf>closed</AddtlStsRsnInf></StsRsnInf></TxInfAndSts>"
        "<TxInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId>"
        "<OrgnlEndToEndId>E2</OrgnlEndToEndId><TxSts>ACCP</TxSts>"
        "</TxInfAndSts>"
        "<TxInfAndSts><OrgnlPmtInfId>P2</OrgnlPmtInfId>"
        "<OrgnlEndToEndId>E3</OrgnlEndToEndId><TxSts>ACCP</TxSts>"
        "<OrgnlTxRef><Amt><InstdAmt Ccy=\"EUR\">12.5</InstdAmt></Amt>"
        "</OrgnlTxRef></TxInfAndSts>"
        "</pain.002.001.02></Document>";
    struct fmt_src src = {.buf = doc, .len = strlen(doc)};
    struct fmt_status_report r;
    struct h2h_err e = {0};
    fmt_status_report_init(&r);
    int rc = fmt_pain002_read(&src, &r, NULL, &e);
    if (rc)
        fprintf(stderr, "%s\n", e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(r.source_format, "pain.002.001.02");
    CU_ASSERT_EQUAL_FATAL(r.n_pmts, 2);
    CU_ASSERT_STRING_EQUAL(r.pmts[0].orgnl_pmt_inf_id, "P1");
    CU_ASSERT_EQUAL_FATAL(r.pmts[0].n_txs, 2);
    CU_ASSERT_STRING_EQUAL(r.pmts[0].txs[0].reasons[0].code, "AC04");
    CU_ASSERT_STRING_EQUAL(r.pmts[0].txs[0].reasons[0].addtl_info, "closed");
    CU_ASSERT_STRING_EQUAL(r.pmts[1].orgnl_pmt_inf_id, "P2");
    CU_ASSERT_EQUAL_FATAL(r.pmts[1].n_txs, 1);
    CU_ASSERT_STRING_EQUAL(r.pmts[1].txs[0].orgnl_end_to_end_id, "E3");
    CU_ASSERT_EQUAL(r.pmts[1].txs[0].amt.minor, 1250);
    fmt_status_report_release(&r);
}

/* .11 and .13 share the .10 structure for every field the model has. */
static void test_versions_11_13(void)
{
    if (!tu_corpus_present())
        return;
    size_t len = 0;
    char *doc = tu_read_file(
        tu_corpus("pain002/hbci4j__test-pain-parse-0020110-02.xml"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct fmt_src src = {.buf = doc, .len = len};
    struct fmt_status_report ref, r;
    struct h2h_err e = {0};
    fmt_status_report_init(&ref);
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL_FATAL(fmt_pain002_read(&src, &ref, NULL, &e), 0);
    char *dref = dump(&ref);
    static const char *vers[] = {"11", "13"};
    for (int i = 0; i < 2; i++) {
        /* both the schemaLocation and the xmlns mention the version */
        for (char *p = doc; (p = strstr(p, "pain.002.001.10")); p += 15)
            memcpy(p + 13, vers[i], 2);
        CU_ASSERT_EQUAL_FATAL(fmt_pain002_read(&src, &r, NULL, &e), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.source_format, vers[i]));
        char *d = dump(&r);
        CU_ASSERT_STRING_EQUAL(d, dref);
        free(d);
        /* back to .10 for the next substitution */
        for (char *p = doc; (p = strstr(p, "pain.002.001.")); p += 13)
            if (!strncmp(p + 13, vers[i], 2))
                memcpy(p + 13, "10", 2);
    }
    free(dref);
    free(doc);
    fmt_status_report_release(&ref);
    fmt_status_report_release(&r);
}

static int xsd_ok(const char *xsd_rel, const char *file)
{
    int x = tu_system("xmllint --noout --nonet --schema '%s' '%s' >/dev/null "
                      "2>&1",
                      tu_corpus(xsd_rel), file);
    if (x)
        tu_system("xmllint --noout --nonet --schema '%s' '%s'",
                  tu_corpus(xsd_rel), file);
    return x == 0;
}

/* Write r as version v into a temp file, check XSD when given, read back
 * and compare every field. */
static void roundtrip(const struct fmt_status_report *r, int v,
                      const char *xsd_rel)
{
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/r.xml", dir);
    FILE *f = fopen(path, "w");
    struct h2h_err e = {0};
    int rc = fmt_pain002_write(f, r, v, &e);
    fclose(f);
    if (rc)
        fprintf(stderr, "write v%d: %s\n", v, e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    if (xsd_rel)
        CU_ASSERT(xsd_ok(xsd_rel, path));
    struct fmt_status_report b;
    struct fmt_diag dg;
    fmt_status_report_init(&b);
    fmt_diag_init(&dg, path);
    struct fmt_src src = {.path = path};
    CU_ASSERT_EQUAL(fmt_pain002_read(&src, &b, &dg, &e), 0);
    CU_ASSERT_EQUAL(dg.n, 0);
    char *da = dump(r), *db = dump(&b);
    if (strcmp(da, db))
        fprintf(stderr, "pain.002 v%d round trip differs:\n%s---\n%s", v, da,
                db);
    CU_ASSERT_STRING_EQUAL(da, db);
    free(da);
    free(db);
    fmt_status_report_release(&b);
    fmt_diag_release(&dg);
    tu_rmtree(dir);
}

static void test_write_v10_corpus(void)
{
    if (!tu_corpus_present())
        return;
    for (size_t i = 0; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
        struct fmt_status_report r;
        struct h2h_err e = {0};
        fmt_status_report_init(&r);
        CU_ASSERT_EQUAL_FATAL(read_corpus(cases2[i].file, &r, NULL, &e), 0);
        roundtrip(&r, 10, "xsd/hbci4j__pain.002.001.10.xsd");
        fmt_status_report_release(&r);
    }
}

static void test_write_v03(void)
{
    if (!tu_corpus_present())
        return;
    /* ISO .03 structure for reports whose statuses exist in .03 */
    for (size_t i = 3; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
        struct fmt_status_report r;
        struct h2h_err e = {0};
        fmt_status_report_init(&r);
        CU_ASSERT_EQUAL_FATAL(read_corpus(cases2[i].file, &r, NULL, &e), 0);
        roundtrip(&r, 3, NULL);
        fmt_status_report_release(&r);
    }
    /* RCVC (verification of payee) does not exist in .03 */
    struct fmt_status_report r;
    struct h2h_err e = {0};
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL_FATAL(
        read_corpus("hbci4j__test-pain-parse-0020110-03.xml", &r, NULL, &e), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(fmt_pain002_write(f, &r, 3, &e), H2H_EINVALID);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "RCVC"));
    CU_ASSERT_EQUAL(len, 0); /* nothing written */
    free(buf);
    fmt_status_report_release(&r);
}

/* A rejection report without InitgPty and AddtlInf fits the German DK
 * restriction of pain.002.001.03 too. */
static void test_write_v03_dk(void)
{
    if (!tu_corpus_present())
        return;
    struct fmt_status_report r;
    fmt_status_report_init(&r);
    fmt_strset(&r.msg_id, "STS-0001");
    fmt_strset(&r.cre_dt_tm, "2024-03-02T08:00:00");
    fmt_strset(&r.orgnl_msg_id, "H2H-FIX-0003");
    fmt_strset(&r.orgnl_msg_nm_id, "pain.001.001.03");
    fmt_strset(&r.grp_sts, "RJCT");
    r.n_pmts = 1;
    r.pmts = calloc(1, sizeof(*r.pmts));
    fmt_strset(&r.pmts[0].orgnl_pmt_inf_id, "PMT-1");
    fmt_strset(&r.pmts[0].sts, "RJCT");
    r.pmts[0].n_txs = 1;
    r.pmts[0].txs = calloc(1, sizeof(*r.pmts[0].txs));
    struct fmt_tx_status *t = &r.pmts[0].txs[0];
    fmt_strset(&t->orgnl_end_to_end_id, "E2E-1");
    fmt_strset(&t->sts, "RJCT");
    t->n_reasons = 1;
    t->reasons = calloc(1, sizeof(*t->reasons));
    fmt_strset(&t->reasons[0].code, "AC04");
    t->amt.minor = 100000;
    memcpy(t->amt.ccy, "EUR", 4);
    roundtrip(&r, 3, "xsd/variants/hbci4j__pain.002.001.03_DK.xsd");
    roundtrip(&r, 10, "xsd/hbci4j__pain.002.001.10.xsd");

    /* long AddtlInf is split at 105 characters; still valid */
    char longinfo[300];
    memset(longinfo, 'x', 250);
    longinfo[250] = '\0';
    fmt_strset(&t->reasons[0].addtl_info, longinfo);
    fmt_strset(&t->orgnl_uetr, "8a562c67-ca16-48ba-b074-65581be6f011");
    char *buf = NULL;
    size_t len = 0;
    struct h2h_err e = {0};
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(fmt_pain002_write(f, &r, 10, &e), 0);
    fclose(f);
    int n = 0;
    for (const char *p = buf; (p = strstr(p, "<AddtlInf>")); p++)
        n++;
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<OrgnlUETR>8a562c67"));
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/long.xml", dir);
    tu_write_file(path, buf, len);
    CU_ASSERT(xsd_ok("xsd/hbci4j__pain.002.001.10.xsd", path));
    tu_rmtree(dir);
    free(buf);

    /* a bad UETR is refused before writing */
    fmt_strset(&t->orgnl_uetr, "not-a-uuid");
    buf = NULL;
    f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(fmt_pain002_write(f, &r, 10, &e), H2H_EINVALID);
    fclose(f);
    free(buf);
    fmt_status_report_release(&r);
}

static const struct tu_case cases[] = {
    {"corpus reports parse", test_corpus},
    {"corpus field values", test_corpus_fields},
    {"negative documents", test_negative},
    {"pain.002.001.02 grouping", test_v02},
    {"versions .11 and .13", test_versions_11_13},
    {"write .10 from corpus, xsd valid, round trip", test_write_v10_corpus},
    {"write .03 round trip", test_write_v03},
    {"write .03 fits DK; long AddtlInf", test_write_v03_dk},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_pain002", cases);
}
