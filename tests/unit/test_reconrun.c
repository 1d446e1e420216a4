/*
 * test_reconrun.c - the pool thread's half of a reconciliation run
 * (daemon/reconfeed.c; the rules are in daemon/reconrun.h).
 *
 * Each case builds a struct rr_job by hand as reconrun.c would from the
 * store (messages with their payload copies and RJCT transactions, kept
 * statements in the order received, the expected-receipts folder), writes
 * the input files it names into a temporary folder - camt.052/053 and
 * pain.001 generated from small tables below, each checked to read without
 * a single reader problem, so that what a case sees is reconfeed's doing -
 * runs rr_work() and looks at the outcome: what the engine holds (entry ids
 * "<bank>/<remote>#<n>" and payment ids "<msg>/<n>" named by its pairs and
 * exceptions, the summary's counts and totals), the per-message counters,
 * the problems, and the published folder.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "reconrun_int.h"
#include "testutil.h"

#define BANK "bank1"
#define ACCT_A "DE89370400440532013000"
#define ACCT_B "GB29NWBK60161331926819"
#define CPTY_ACCT "NL91ABNA0417164300"

#define MAX_ENT 6
#define MAX_TX 4
#define MAX_GRP 5

/* table rows with every field named (-Wmissing-field-initializers) */
#define E(amt, cd, day, ref)                                                   \
    {                                                                          \
        amt, cd, day, ref, NULL, NULL, NULL                                    \
    }
#define EE(amt, cd, day, ref, e2e)                                             \
    {                                                                          \
        amt, cd, day, ref, e2e, NULL, NULL                                     \
    }
#define T(e2e, amt)                                                            \
    {                                                                          \
        e2e, amt, NULL, NULL                                                   \
    }

/* ---- a growing string ---------------------------------------------------- */

struct sb {
    char *p;
    size_t n, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = (b->n + (size_t)k + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

/* ---- camt.052 / camt.053 ------------------------------------------------- */

struct ent {
    const char *amt;   /* NULL ends the list */
    const char *cd;    /* CRDT / DBIT */
    const char *day;   /* BookgDt */
    const char *ref;   /* AcctSvcrRef, NULL none */
    const char *e2e;   /* TxDtls/Refs/EndToEndId, NULL none */
    const char *name;  /* the counterparty (Dbtr of a credit, Cdtr of a
                          debit), NULL none */
    const char *ustrd; /* RmtInf/Ustrd, NULL none */
};

struct doc {
    int msg; /* 52 (Rpt) or 53 (Stmt); 0 ends a list */
    const char *remote;
    const char *acct;
    const char *fr, *to;          /* FrToDt days, NULL: none */
    const char *bal_tp, *bal_day; /* one balance, NULL: none */
    struct ent e[MAX_ENT];
};

static char *camt_xml(const struct doc *d)
{
    struct sb b = {0};
    const char *root = d->msg == 52 ? "BkToCstmrAcctRpt" : "BkToCstmrStmt";
    const char *st = d->msg == 52 ? "Rpt" : "Stmt";
    sb_add(&b,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.%03d.001."
           "02\">\n"
           "<%s>\n"
           "<GrpHdr><MsgId>MSG-%s</MsgId>"
           "<CreDtTm>2026-03-10T06:00:00</CreDtTm></GrpHdr>\n"
           "<%s><Id>%s</Id><CreDtTm>2026-03-10T06:00:00</CreDtTm>\n",
           d->msg, root, d->remote, st, d->remote);
    if (d->fr)
        sb_add(&b,
               "<FrToDt><FrDtTm>%sT00:00:00</FrDtTm>"
               "<ToDtTm>%sT23:59:59</ToDtTm></FrToDt>\n",
               d->fr, d->to);
    sb_add(&b, "<Acct><Id><IBAN>%s</IBAN></Id><Ccy>EUR</Ccy></Acct>\n",
           d->acct);
    if (d->bal_tp)
        sb_add(&b,
               "<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp>"
               "<Amt Ccy=\"EUR\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
               "<Dt><Dt>%s</Dt></Dt></Bal>\n",
               d->bal_tp, d->bal_day);
    for (const struct ent *e = d->e; e < d->e + MAX_ENT && e->amt; e++) {
        int credit = strcmp(e->cd, "CRDT") == 0;
        sb_add(&b,
               "<Ntry><Amt Ccy=\"EUR\">%s</Amt><CdtDbtInd>%s</CdtDbtInd>"
               "<Sts>BOOK</Sts><BookgDt><Dt>%s</Dt></BookgDt>"
               "<ValDt><Dt>%s</Dt></ValDt>",
               e->amt, e->cd, e->day, e->day);
        if (e->ref)
            sb_add(&b, "<AcctSvcrRef>%s</AcctSvcrRef>", e->ref);
        sb_add(&b, "<BkTxCd/>");
        if (e->e2e || e->name || e->ustrd) {
            sb_add(&b, "<NtryDtls><TxDtls>");
            if (e->e2e)
                sb_add(&b, "<Refs><EndToEndId>%s</EndToEndId></Refs>", e->e2e);
            if (e->name)
                sb_add(&b, "<RltdPties><%s><Nm>%s</Nm></%s></RltdPties>",
                       credit ? "Dbtr" : "Cdtr", e->name,
                       credit ? "Dbtr" : "Cdtr");
            if (e->ustrd)
                sb_add(&b, "<RmtInf><Ustrd>%s</Ustrd></RmtInf>", e->ustrd);
            sb_add(&b, "</TxDtls></NtryDtls>");
        }
        sb_add(&b, "</Ntry>\n");
    }
    sb_add(&b, "</%s>\n</%s>\n</Document>\n", st, root);
    return b.p;
}

/* ---- pain.001.001.03 ----------------------------------------------------- */

struct ptx {
    const char *e2e; /* NULL ends the list */
    const char *amt;
    const char *name;
    const char *ustrd;
};

struct pgrp {
    const char *id; /* PmtInfId; NULL ends the list */
    const char *day;
    const char *acct;
    struct ptx tx[MAX_TX];
};

struct pay {
    const char *msg_id;
    struct pgrp g[MAX_GRP];
};

static size_t grp_txs(const struct pgrp *g)
{
    size_t n = 0;
    while (n < MAX_TX && g->tx[n].e2e)
        n++;
    return n;
}

static char *pain_xml(const struct pay *p)
{
    struct sb b = {0};
    size_t total = 0;
    for (const struct pgrp *g = p->g; g < p->g + MAX_GRP && g->id; g++)
        total += grp_txs(g);
    sb_add(&b,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001."
           "03\">\n"
           "<CstmrCdtTrfInitn>\n"
           "<GrpHdr><MsgId>%s</MsgId>"
           "<CreDtTm>2026-03-01T09:00:00</CreDtTm><NbOfTxs>%zu</NbOfTxs>"
           "<InitgPty><Nm>Acme Treasury</Nm></InitgPty></GrpHdr>\n",
           p->msg_id, total);
    for (const struct pgrp *g = p->g; g < p->g + MAX_GRP && g->id; g++) {
        sb_add(&b,
               "<PmtInf><PmtInfId>%s</PmtInfId><PmtMtd>TRF</PmtMtd>"
               "<NbOfTxs>%zu</NbOfTxs><ReqdExctnDt>%s</ReqdExctnDt>"
               "<Dbtr><Nm>Acme GmbH</Nm></Dbtr>"
               "<DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>"
               "<DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId>"
               "</DbtrAgt><ChrgBr>SLEV</ChrgBr>\n",
               g->id, grp_txs(g), g->day, g->acct);
        for (const struct ptx *t = g->tx; t < g->tx + MAX_TX && t->e2e; t++)
            sb_add(&b,
                   "<CdtTrfTxInf><PmtId><EndToEndId>%s</EndToEndId></PmtId>"
                   "<Amt><InstdAmt Ccy=\"EUR\">%s</InstdAmt></Amt>"
                   "<Cdtr><Nm>%s</Nm></Cdtr>"
                   "<CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct>"
                   "<RmtInf><Ustrd>%s</Ustrd></RmtInf></CdtTrfTxInf>\n",
                   t->e2e, t->amt, t->name ? t->name : "Supplier BV", CPTY_ACCT,
                   t->ustrd ? t->ustrd : "goods");
        sb_add(&b, "</PmtInf>\n");
    }
    sb_add(&b, "</CstmrCdtTrfInitn>\n</Document>\n");
    return b.p;
}

/* ---- files --------------------------------------------------------------- */

static void put(const char *dir, const char *name, const char *text,
                char path[4096])
{
    snprintf(path, 4096, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(tu_write_file(path, text, strlen(text)), 0);
}

/* The generated inputs must read cleanly: a problem found here is the
 * test's fault, not reconfeed's. */
static void assert_clean(const char *path, int payments)
{
    struct fmt_src src = {.path = path};
    struct fmt_diag dg;
    struct h2h_err err = {0};
    struct fmt_stmt_sink ss = {0};
    struct fmt_pay_sink ps = {0};
    fmt_diag_init(&dg, path);
    int rc = payments ? fmt_read_payments(&src, FMT_UNKNOWN, &ps, &dg, &err)
                      : fmt_read_statements(&src, FMT_UNKNOWN, &ss, &dg, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(dg.n, 0);
    if (rc || dg.n) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        fmt_diag_print(&dg, stderr);
    }
    fmt_diag_release(&dg);
}

/* ---- the job ------------------------------------------------------------- */

static struct rr_job *job_new(const char *base, const char *id,
                              const char *from, const char *to)
{
    char p[4096];
    struct rr_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    pthread_mutex_init(&j->mu, NULL);
    snprintf(j->id, sizeof(j->id), "%s", id);
    snprintf(j->from, sizeof(j->from), "%s", from);
    snprintf(j->to, sizeof(j->to), "%s", to);
    snprintf(p, sizeof(p), "%s/reports", base);
    j->report_dir = xstrdup(p);
    recon_opts_init(&j->opts);
    j->opts.window_days = 3;
    j->opts.grace_days = 5;
    return j;
}

static void job_add_file(struct rr_job *j, const char *remote, const char *path)
{
    struct rr_file *v = realloc(j->files, (j->n_files + 1) * sizeof(*v));
    if (!v)
        abort();
    j->files = v;
    v[j->n_files++] = (struct rr_file){.bank = xstrdup(BANK),
                                       .remote = xstrdup(remote),
                                       .path = xstrdup(path)};
}

/* A statement file from the table, kept as received (appended). */
static void job_stmt(struct rr_job *j, const char *dir, const struct doc *d)
{
    char path[4096];
    char *xml = camt_xml(d);
    put(dir, d->remote, xml, path);
    free(xml);
    assert_clean(path, 0);
    job_add_file(j, d->remote, path);
}

static void job_add_msg(struct rr_job *j, const char *id, const char *path)
{
    struct rr_msg *v = realloc(j->msgs, (j->n_msgs + 1) * sizeof(*v));
    if (!v)
        abort();
    j->msgs = v;
    struct rr_msg *m = &v[j->n_msgs++];
    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id);
    m->bank = xstrdup(BANK);
    m->state = xstrdup("acknowledged");
    m->path = xstrdup(path);
    snprintf(m->created_day, sizeof(m->created_day), "2026-03-01");
}

/* A submitted message: its payload copy written from the table. */
static void job_pay(struct rr_job *j, const char *dir, const char *id,
                    const struct pay *p)
{
    char path[4096], name[64];
    snprintf(name, sizeof(name), "%s.xml", id);
    char *xml = pain_xml(p);
    put(dir, name, xml, path);
    free(xml);
    assert_clean(path, 1);
    job_add_msg(j, id, path);
}

static struct rr_msg *find_msg(struct rr_job *j, const char *id)
{
    for (size_t i = 0; i < j->n_msgs; i++)
        if (strcmp(j->msgs[i].id, id) == 0)
            return &j->msgs[i];
    return NULL;
}

/* A pain.002 RJCT of the message (end_to_end_id "": the whole group). */
static void job_reject(struct rr_job *j, const char *msg, const char *pmt_inf,
                       const char *e2e)
{
    struct rr_msg *m = find_msg(j, msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct rr_rejected *v =
        realloc(m->rejected, (m->n_rejected + 1) * sizeof(*v));
    if (!v)
        abort();
    m->rejected = v;
    v[m->n_rejected++] = (struct rr_rejected){.pmt_inf_id = xstrdup(pmt_inf),
                                              .end_to_end_id = xstrdup(e2e)};
}

/* ---- what the engine holds ----------------------------------------------- */

/* 1 when a pair or an exception names entry id (every entry the run took
 * is one or the other: matched, or unmatched / duplicate / ...). */
static int entry_known(const struct recon *r, const char *id)
{
    struct recon_pair p;
    struct recon_exception x;
    for (size_t i = 0; i < recon_pair_count(r); i++)
        if (recon_pair_get(r, i, &p) == 0 && strcmp(p.entry_id, id) == 0)
            return 1;
    for (size_t i = 0; i < recon_exception_count(r); i++)
        if (recon_exception_get(r, i, &x) == 0 &&
            (strcmp(x.entry_id, id) == 0 || strcmp(x.other_id, id) == 0))
            return 1;
    return 0;
}

/* 1 when a pair or an exception names payment (or receipt) id. */
static int item_known(const struct recon *r, const char *id)
{
    struct recon_pair p;
    struct recon_exception x;
    for (size_t i = 0; i < recon_pair_count(r); i++)
        if (recon_pair_get(r, i, &p) == 0 && strcmp(p.item_id, id) == 0)
            return 1;
    for (size_t i = 0; i < recon_exception_count(r); i++)
        if (recon_exception_get(r, i, &x) == 0 &&
            (strcmp(x.item_id, id) == 0 || strcmp(x.other_id, id) == 0))
            return 1;
    return 0;
}

/* The pair of item with entry; 0 when found. */
static int find_pair(const struct recon *r, const char *item, const char *entry,
                     struct recon_pair *out)
{
    for (size_t i = 0; i < recon_pair_count(r); i++)
        if (recon_pair_get(r, i, out) == 0 && strcmp(out->item_id, item) == 0 &&
            strcmp(out->entry_id, entry) == 0)
            return 0;
    return -1;
}

static size_t problems_of(const struct rr_job *j, const char *file)
{
    size_t n = 0;
    for (size_t i = 0; i < j->n_probs; i++)
        if (strcmp(j->probs[i].file, file) == 0)
            n++;
    return n;
}

static void dump_problems(const struct rr_job *j)
{
    for (size_t i = 0; i < j->n_probs; i++)
        fprintf(stderr, "  problem: %s:%d [%s] %s%s\n", j->probs[i].file,
                j->probs[i].line, j->probs[i].rule, j->probs[i].msg,
                j->probs[i].expected ? " (expected)" : "");
}

struct want {
    const char *id; /* NULL ends the list */
    int in;         /* 1: the engine holds it, 0: left out */
};

static void check_entries(const struct rr_job *j, const struct want *w)
{
    for (; w->id; w++) {
        int in = entry_known(j->engine, w->id);
        if (in != w->in)
            fprintf(stderr, "  entry %s: %s, want %s\n", w->id,
                    in ? "in" : "out", w->in ? "in" : "out");
        CU_ASSERT_EQUAL(in, w->in);
    }
}

static void check_items(const struct rr_job *j, const struct want *w)
{
    for (; w->id; w++) {
        int in = item_known(j->engine, w->id);
        if (in != w->in)
            fprintf(stderr, "  item %s: %s, want %s\n", w->id,
                    in ? "in" : "out", w->in ? "in" : "out");
        CU_ASSERT_EQUAL(in, w->in);
    }
}

static void run_ok(struct rr_job *j)
{
    rr_work(j);
    if (j->rc)
        fprintf(stderr, "  rr_work: %d %s\n", j->rc, j->err.msg);
    CU_ASSERT_EQUAL_FATAL(j->rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j->engine);
}

static const struct recon_ccy_total *eur(const struct recon_summary *s)
{
    for (size_t i = 0; i < s->n_ccy; i++)
        if (strcmp(s->ccy[i].ccy, "EUR") == 0)
            return &s->ccy[i];
    return NULL;
}

/* ---- 1. end-of-day precedence, reports of other days --------------------- */

#define D2 "2026-03-02"
#define D3 "2026-03-03"

static const struct doc eod_docs[] = {
    /* 0: the first end-of-day statement of 03-02 */
    {53,
     "s1.xml",
     ACCT_A,
     NULL,
     NULL,
     "CLBD",
     D2,
     {E("100.00", "DBIT", D2, "R1"), E("200.00", "DBIT", D2, "R2")}},
    /* 1: its correction: R2 of another amount, R3 added */
    {53,
     "s2.xml",
     ACCT_A,
     NULL,
     NULL,
     "CLBD",
     D2,
     {E("100.00", "DBIT", D2, "R1"), E("250.00", "DBIT", D2, "R2"),
      E("50.00", "CRDT", D2, "R3")}},
    /* 2: an intraday report of that same day */
    {52,
     "r1.xml",
     ACCT_A,
     NULL,
     NULL,
     NULL,
     NULL,
     {E("70.00", "DBIT", D2, "R9")}},
    /* 3: an intraday report of 03-03, no statement for that day */
    {52,
     "r2.xml",
     ACCT_A,
     NULL,
     NULL,
     NULL,
     NULL,
     {E("30.00", "DBIT", D3, "R4"), E("40.00", "DBIT", D3, "R5")}},
    /* 4: a later one, repeating R4 and R5, adding R6 */
    {52,
     "r3.xml",
     ACCT_A,
     NULL,
     NULL,
     NULL,
     NULL,
     {E("30.00", "DBIT", D3, "R4"), E("60.00", "CRDT", D3, "R6"),
      E("40.00", "DBIT", D3, "R5")}},
};

static const struct eod_case {
    const char *name;
    int order[5]; /* eod_docs in the order received */
    struct want want[14];
    uint64_t entries;
    int64_t debits, credits;
} eod_cases[] = {
    {"correction received last",
     {0, 1, 2, 3, 4},
     {{"bank1/s2.xml#1", 1},
      {"bank1/s2.xml#2", 1},
      {"bank1/s2.xml#3", 1},
      {"bank1/s1.xml#1", 0},
      {"bank1/s1.xml#2", 0},
      {"bank1/r1.xml#1", 0},
      {"bank1/r2.xml#1", 1},
      {"bank1/r2.xml#2", 1},
      {"bank1/r3.xml#1", 0},
      {"bank1/r3.xml#2", 1},
      {"bank1/r3.xml#3", 0},
      {NULL, 0}},
     6,
     10000 + 25000 + 3000 + 4000,
     5000 + 6000},
    {"the other statement received last",
     {1, 0, 2, 3, 4},
     {{"bank1/s1.xml#1", 1},
      {"bank1/s1.xml#2", 1},
      {"bank1/s2.xml#1", 0},
      {"bank1/s2.xml#2", 0},
      {"bank1/s2.xml#3", 0},
      {"bank1/r1.xml#1", 0},
      {"bank1/r2.xml#1", 1},
      {"bank1/r2.xml#2", 1},
      {"bank1/r3.xml#2", 1},
      {NULL, 0}},
     5,
     10000 + 20000 + 3000 + 4000,
     6000},
    {"reports only: the same bookings repeated are taken once",
     {2, 3, 4, -1, -1},
     {{"bank1/r1.xml#1", 1},
      {"bank1/r2.xml#1", 1},
      {"bank1/r2.xml#2", 1},
      {"bank1/r3.xml#1", 0},
      {"bank1/r3.xml#2", 1},
      {"bank1/r3.xml#3", 0},
      {NULL, 0}},
     4,
     7000 + 3000 + 4000,
     6000},
};

static void test_eod_precedence(void)
{
    for (size_t c = 0; c < sizeof(eod_cases) / sizeof(eod_cases[0]); c++) {
        const struct eod_case *k = &eod_cases[c];
        char base[256];
        snprintf(base, sizeof(base), "%s", tu_mkdtemp());
        fprintf(stderr, "\n  case: %s\n", k->name);
        struct rr_job *j = job_new(base, "RUN1", "2026-03-01", "2026-03-10");
        for (size_t i = 0; i < 5 && k->order[i] >= 0; i++)
            job_stmt(j, base, &eod_docs[k->order[i]]);
        run_ok(j);
        struct recon_summary s;
        recon_summary(j->engine, &s);
        CU_ASSERT_EQUAL(s.entries, k->entries);
        CU_ASSERT_EQUAL(s.exceptions[RECON_EXC_DUPLICATE_ENTRY], 0);
        CU_ASSERT_EQUAL(s.unmatched_entries, k->entries);
        const struct recon_ccy_total *t = eur(&s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_EQUAL(t->debits, k->debits);
        CU_ASSERT_EQUAL(t->credits, k->credits);
        check_entries(j, k->want);
        CU_ASSERT_EQUAL(j->n_probs, 0);
        dump_problems(j);
        rr_job_free(j);
        tu_rmtree(base);
    }
}

/* ---- 2. a statement's period covers days without entries ----------------- */

#define D4 "2026-03-04"
#define D5 "2026-03-05"
#define D6 "2026-03-06"

static const struct doc period_docs[] = {
    /* A: 03-03..03-04, entries on 03-03 only, no closing balance */
    {53, "sa.xml", ACCT_A, D3, D4, "OPBD", D3, {E("10.00", "DBIT", D3, "R1")}},
    /* B: the same without a period: it speaks for 03-03 only */
    {53,
     "sb.xml",
     ACCT_B,
     NULL,
     NULL,
     "OPBD",
     D3,
     {E("10.00", "DBIT", D3, "R1")}},
    /* B: a quiet day's statement (no entries, no period) still speaks for
     * the day of its closing balance */
    {53, "sc.xml", ACCT_B, NULL, NULL, "CLBD", D6, {E(NULL, NULL, NULL, NULL)}},
    {52,
     "ra.xml",
     ACCT_A,
     NULL,
     NULL,
     NULL,
     NULL,
     {E("11.00", "DBIT", D4, "R7"), E("12.00", "DBIT", D5, "R8")}},
    {52,
     "rb.xml",
     ACCT_B,
     NULL,
     NULL,
     NULL,
     NULL,
     {E("11.00", "DBIT", D4, "R7"), E("13.00", "DBIT", D3, "R9"),
      E("14.00", "DBIT", D6, "R10")}},
    {0},
};

static const struct want period_want[] = {
    {"bank1/sa.xml#1", 1}, {"bank1/sb.xml#1", 1},
    {"bank1/ra.xml#1", 0}, {"bank1/ra.xml#2", 1},
    {"bank1/rb.xml#1", 1}, {"bank1/rb.xml#2", 0},
    {"bank1/rb.xml#3", 0}, {NULL, 0},
};

static void test_period_coverage(void)
{
    char base[256];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    struct rr_job *j = job_new(base, "RUN2", "2026-03-01", "2026-03-10");
    for (const struct doc *d = period_docs; d->msg; d++)
        job_stmt(j, base, d);
    run_ok(j);
    struct recon_summary s;
    recon_summary(j->engine, &s);
    CU_ASSERT_EQUAL(s.entries, 4);
    const struct recon_ccy_total *t = eur(&s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->debits, 1000 + 1000 + 1200 + 1100);
    check_entries(j, period_want);
    CU_ASSERT_EQUAL(j->n_probs, 0);
    rr_job_free(j);
    tu_rmtree(base);
}

/* ---- 3. payments: rejections, booked in full or not ---------------------- */

static const struct pay pay_msgs[] = {
    {"M1",
     {{"PI-1",
       D2,
       ACCT_A,
       {T("E2E-1", "100.00"), T("E2E-2", "200.00"), T("E2E-3", "300.00")}}}},
    {"M2",
     {{"PI-2", D2, ACCT_A, {T("E2E-4", "400.00"), T("E2E-5", "500.00")}}}},
    {"M3",
     {{"PI-3A", D2, ACCT_A, {T("E2E-6", "60.00"), T("E2E-7", "70.00")}},
      {"PI-3B", D2, ACCT_A, {T("E2E-8", "300.00")}}}},
    {"M4", {{"PI-4", D2, ACCT_A, {T("E2E-9", "90.00")}}}},
};

static const struct doc pay_stmt = {53,
                                    "st.xml",
                                    ACCT_A,
                                    NULL,
                                    NULL,
                                    "CLBD",
                                    D2,
                                    {EE("100.00", "DBIT", D2, "R11", "E2E-1"),
                                     EE("300.00", "DBIT", D2, "R13", "E2E-3"),
                                     EE("400.00", "DBIT", D2, "R14", "E2E-4"),
                                     EE("300.00", "DBIT", D2, "R18", "E2E-8"),
                                     EE("95.00", "DBIT", D2, "R19", "E2E-9")}};

static const struct {
    const char *msg;
    size_t taken, matched;
} pay_counts[] = {
    {"M1", 2, 2}, /* E2E-2 rejected, the others booked */
    {"M2", 2, 1}, /* E2E-5 not booked */
    {"M3", 1, 1}, /* PI-3A rejected as a whole */
    {"M4", 1, 0}, /* booked with another amount */
};

static const struct want pay_items[] = {
    {"M1/1", 1}, {"M1/2", 0}, {"M1/3", 1}, {"M2/1", 1}, {"M2/2", 1},
    {"M3/1", 0}, {"M3/2", 0}, {"M3/3", 1}, {"M4/1", 1}, {NULL, 0},
};

static void test_payments(void)
{
    char base[256];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    struct rr_job *j = job_new(base, "RUN3", "2026-03-01", "2026-03-10");
    /* not in id order: rr_work sorts them */
    static const int order[] = {2, 0, 3, 1};
    for (size_t i = 0; i < 4; i++)
        job_pay(j, base, pay_msgs[order[i]].msg_id, &pay_msgs[order[i]]);
    job_reject(j, "M1", "PI-1", "E2E-2");
    job_reject(j, "M2", "PI-OTHER", "E2E-4"); /* another group's: no effect */
    job_reject(j, "M3", "PI-3A", "");
    job_stmt(j, base, &pay_stmt);
    run_ok(j);

    struct recon_summary s;
    recon_summary(j->engine, &s);
    CU_ASSERT_EQUAL(s.payments, 6);
    CU_ASSERT_EQUAL(s.entries, 5);
    CU_ASSERT_EQUAL(s.matched_payments, 5);
    CU_ASSERT_EQUAL(s.exceptions[RECON_EXC_AMOUNT_MISMATCH], 1);
    check_items(j, pay_items);
    for (size_t i = 0; i < sizeof(pay_counts) / sizeof(pay_counts[0]); i++) {
        struct rr_msg *m = find_msg(j, pay_counts[i].msg);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        if (m->n_taken != pay_counts[i].taken ||
            m->n_matched != pay_counts[i].matched)
            fprintf(stderr, "  %s: taken %zu matched %zu\n", m->id, m->n_taken,
                    m->n_matched);
        CU_ASSERT_EQUAL(m->n_taken, pay_counts[i].taken);
        CU_ASSERT_EQUAL(m->n_matched, pay_counts[i].matched);
        CU_ASSERT_EQUAL(m->unreadable, 0);
    }
    /* sorted by id for the loop's bsearch */
    for (size_t i = 1; i < j->n_msgs; i++)
        CU_ASSERT(strcmp(j->msgs[i - 1].id, j->msgs[i].id) < 0);

    struct recon_pair p;
    CU_ASSERT_EQUAL_FATAL(find_pair(j->engine, "M1/1", "bank1/st.xml#1", &p),
                          0);
    CU_ASSERT_EQUAL(p.rule, RECON_RULE_EXACT);
    CU_ASSERT_EQUAL(p.key, RECON_KEY_E2E);
    CU_ASSERT_EQUAL(p.item_amount, 10000);
    CU_ASSERT_STRING_EQUAL(p.item_date, D2);
    CU_ASSERT_EQUAL(find_pair(j->engine, "M3/3", "bank1/st.xml#4", &p), 0);
    CU_ASSERT_EQUAL(find_pair(j->engine, "M4/1", "bank1/st.xml#5", &p), 0);
    CU_ASSERT(p.flags & RECON_F_AMOUNT_MISMATCH);
    CU_ASSERT_EQUAL(j->n_probs, 0);
    dump_problems(j);
    rr_job_free(j);
    tu_rmtree(base);
}

/* ---- 4. the run's days and account --------------------------------------- */

static const struct pay range_pay = {
    "M1",
    {{"G1", "2026-03-01", ACCT_A, {T("E2E-41", "10.00")}},
     {"G2", D2, ACCT_A, {T("E2E-42", "20.00")}},
     {"G3", D4, ACCT_A, {T("E2E-43", "30.00")}},
     {"G4", D5, ACCT_A, {T("E2E-44", "40.00")}},
     {"G5", D3, ACCT_B, {T("E2E-45", "50.00")}}}};

static const struct doc range_docs[] = {
    {53,
     "ra.xml",
     ACCT_A,
     "2026-03-01",
     D5,
     "CLBD",
     D5,
     {EE("10.00", "DBIT", "2026-03-01", "R41", "E2E-41"),
      EE("20.00", "DBIT", D2, "R42", "E2E-42"),
      EE("30.00", "DBIT", D4, "R43", "E2E-43"),
      EE("40.00", "DBIT", D5, "R44", "E2E-44")}},
    {53,
     "rb.xml",
     ACCT_B,
     NULL,
     NULL,
     "CLBD",
     D3,
     {EE("50.00", "DBIT", D3, "R45", "E2E-45")}},
    {0},
};

static const struct range_case {
    const char *name;
    const char *account; /* NULL: all */
    uint64_t entries, payments;
    size_t matched;
    struct want entry_want[6];
    struct want item_want[6];
} range_cases[] = {
    {"every account",
     NULL,
     3,
     3,
     3,
     {{"bank1/ra.xml#1", 0},
      {"bank1/ra.xml#2", 1},
      {"bank1/ra.xml#3", 1},
      {"bank1/ra.xml#4", 0},
      {"bank1/rb.xml#1", 1},
      {NULL, 0}},
     {{"M1/1", 0}, {"M1/2", 1}, {"M1/3", 1}, {"M1/4", 0}, {"M1/5", 1}}},
    {"one account, written in groups and lower case",
     " de89 3704 0044 0532 0130 00",
     2,
     2,
     2,
     {{"bank1/ra.xml#1", 0},
      {"bank1/ra.xml#2", 1},
      {"bank1/ra.xml#3", 1},
      {"bank1/ra.xml#4", 0},
      {"bank1/rb.xml#1", 0},
      {NULL, 0}},
     {{"M1/1", 0}, {"M1/2", 1}, {"M1/3", 1}, {"M1/4", 0}, {"M1/5", 0}}},
};

static void test_range_and_account(void)
{
    for (size_t c = 0; c < sizeof(range_cases) / sizeof(range_cases[0]); c++) {
        const struct range_case *k = &range_cases[c];
        char base[256];
        snprintf(base, sizeof(base), "%s", tu_mkdtemp());
        fprintf(stderr, "\n  case: %s\n", k->name);
        struct rr_job *j = job_new(base, "RUN4", D2, D4);
        if (k->account)
            j->account = xstrdup(k->account);
        job_pay(j, base, "M1", &range_pay);
        for (const struct doc *d = range_docs; d->msg; d++)
            job_stmt(j, base, d);
        run_ok(j);
        struct recon_summary s;
        recon_summary(j->engine, &s);
        CU_ASSERT_EQUAL(s.entries, k->entries);
        CU_ASSERT_EQUAL(s.payments, k->payments);
        CU_ASSERT_EQUAL(s.matched_payments, k->matched);
        CU_ASSERT_STRING_EQUAL(s.as_of, D4);
        check_entries(j, k->entry_want);
        check_items(j, k->item_want);
        /* transactions outside the run were not seen booked: the message
         * is not booked in full */
        CU_ASSERT_EQUAL(j->msgs[0].n_matched, k->matched);
        CU_ASSERT(j->msgs[0].n_matched < j->msgs[0].n_taken);
        CU_ASSERT_EQUAL(j->n_probs, 0);
        dump_problems(j);
        rr_job_free(j);
        tu_rmtree(base);
    }
}

/* ---- 5. expected receipts ------------------------------------------------ */

static const struct {
    const char *name, *text;
} exp_files[] = {
    {"open.csv", "reference,payer,amount,currency,due_date\r\n"
                 "INV-2026-0042,Acme Trading GmbH,1250.00,EUR,2026-03-03\r\n"
                 "INV-2026-0043,Broken Payer,12.345,EUR,2026-03-03\r\n"},
    {"more.XML", "<ExpectedReceipts xmlns=\"urn:h2hd:recon:1\">\n"
                 "<Receipt><Ref>INV-2026-0050</Ref><Payer>Initech</Payer>"
                 "<Amt Ccy=\"EUR\">10.00</Amt><DueDt>2026-03-09</DueDt>"
                 "</Receipt>\n</ExpectedReceipts>\n"},
    /* not read: another suffix, a hidden file */
    {"notes.txt", "reference,payer,amount,currency,due_date\r\n"
                  "INV-2026-0099,Other,5.00,EUR,2026-03-03\r\n"},
    {".draft.csv", "reference,payer,amount,currency,due_date\r\n"
                   "INV-2026-0098,Other,6.00,EUR,2026-03-03\r\n"},
};

static const struct doc exp_stmt = {
    53,
    "se.xml",
    ACCT_A,
    NULL,
    NULL,
    "CLBD",
    D4,
    {{"1250.00", "CRDT", D4, "R51", NULL, "Acme Trading GmbH",
      "Payment INV-2026-0042 thanks"}}};

static void test_expected(void)
{
    char base[256], edir[4096], path[4096], csv[4096];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    snprintf(edir, sizeof(edir), "%s/expected", base);
    CU_ASSERT_EQUAL_FATAL(mkdir(edir, 0750), 0);
    for (size_t i = 0; i < sizeof(exp_files) / sizeof(exp_files[0]); i++)
        put(edir, exp_files[i].name, exp_files[i].text, path);
    snprintf(path, sizeof(path), "%s/sub.csv", edir); /* a folder */
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0750), 0);
    snprintf(csv, sizeof(csv), "%s/open.csv", edir);

    struct rr_job *j = job_new(base, "RUN5", "2026-03-01", "2026-03-10");
    j->expected_dir = xstrdup(edir);
    job_stmt(j, base, &exp_stmt);
    run_ok(j);
    struct recon_summary s;
    recon_summary(j->engine, &s);
    CU_ASSERT_EQUAL(s.receipts, 2); /* INV-2026-0042, INV-2026-0050 */
    CU_ASSERT_EQUAL(s.matched_receipts, 1);
    CU_ASSERT_EQUAL(s.by_rule[RECON_RULE_REFERENCE], 1);
    struct recon_pair p;
    CU_ASSERT_EQUAL_FATAL(
        find_pair(j->engine, "INV-2026-0042", "bank1/se.xml#1", &p), 0);
    CU_ASSERT_EQUAL(p.side, RECON_SIDE_RECEIPT);
    CU_ASSERT_EQUAL(p.rule, RECON_RULE_REFERENCE);
    CU_ASSERT_EQUAL(p.item_amount, 125000);
    CU_ASSERT_EQUAL(s.pending_receipts, 1); /* INV-2026-0050, due 03-09 */
    CU_ASSERT_EQUAL(item_known(j->engine, "INV-2026-0043"), 0);
    CU_ASSERT_EQUAL(item_known(j->engine, "INV-2026-0098"), 0);
    CU_ASSERT_EQUAL(item_known(j->engine, "INV-2026-0099"), 0);

    CU_ASSERT_EQUAL(j->n_probs, 1);
    CU_ASSERT_EQUAL(j->probs_dropped, 0);
    if (j->n_probs >= 1) {
        CU_ASSERT_EQUAL(j->probs[0].expected, 1);
        CU_ASSERT_STRING_EQUAL(j->probs[0].file, csv);
        CU_ASSERT_EQUAL(j->probs[0].line, 3);
        CU_ASSERT_STRING_EQUAL(j->probs[0].rule, "recon.amount");
    }
    dump_problems(j);
    rr_job_free(j);

    /* a folder that does not exist (yet) is no problem */
    j = job_new(base, "RUN5B", "2026-03-01", "2026-03-10");
    snprintf(path, sizeof(path), "%s/nothere", base);
    j->expected_dir = xstrdup(path);
    run_ok(j);
    CU_ASSERT_EQUAL(j->n_probs, 0);
    rr_job_free(j);
    tu_rmtree(base);
}

/* ---- 6. unreadable inputs ------------------------------------------------ */

static const struct pay good_pay = {
    "M2", {{"PI-2", D2, ACCT_A, {T("E2E-61", "61.00")}}}};

static const struct pay cut_pay = {
    "M3", {{"PI-3", D2, ACCT_A, {T("E2E-71", "71.00"), T("E2E-72", "72.00")}}}};

static const struct doc good_stmt = {
    53,
    "sg.xml",
    ACCT_A,
    NULL,
    NULL,
    "CLBD",
    D2,
    {EE("61.00", "DBIT", D2, "R61", "E2E-61"),
     EE("71.00", "DBIT", D2, "R71", "E2E-71")}};

static void test_unreadable(void)
{
    char base[256], junk[4096], cut[4096], junk_stmt[4096];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    struct rr_job *j = job_new(base, "RUN6", "2026-03-01", "2026-03-10");

    put(base, "junk.bin", "this is no payment\n\x01\x02\x03 at all\n", junk);
    job_add_msg(j, "M1", junk);
    job_pay(j, base, "M2", &good_pay);
    /* half a file: the first transaction reads, then the XML breaks off */
    char *xml = pain_xml(&cut_pay);
    char *stop = strstr(xml, "</CdtTrfTxInf>");
    CU_ASSERT_PTR_NOT_NULL_FATAL(stop);
    stop[strlen("</CdtTrfTxInf>") + 1] = '\0';
    put(base, "M3.xml", xml, cut);
    free(xml);
    job_add_msg(j, "M3", cut);
    /* a kept statement that is not one */
    put(base, "junk.stmt", "garbage, not a statement\n", junk_stmt);
    job_add_file(j, "junk.stmt", junk_stmt);
    job_stmt(j, base, &good_stmt);

    run_ok(j);
    CU_ASSERT_NOT_EQUAL(j->run_dir[0], '\0');
    struct rr_msg *m1 = find_msg(j, "M1"), *m2 = find_msg(j, "M2"),
                  *m3 = find_msg(j, "M3");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m3);
    CU_ASSERT_EQUAL(m1->unreadable, 1);
    CU_ASSERT_EQUAL(m1->n_taken, 0);
    CU_ASSERT_EQUAL(m2->unreadable, 0);
    CU_ASSERT_EQUAL(m2->n_taken, 1);
    CU_ASSERT_EQUAL(m2->n_matched, 1);
    CU_ASSERT_EQUAL(m3->unreadable, 1); /* never booked from half a file */
    CU_ASSERT(problems_of(j, junk) >= 1);
    CU_ASSERT(problems_of(j, cut) >= 1);
    /* said once, though both passes read it */
    CU_ASSERT_EQUAL(problems_of(j, junk_stmt), 1);
    for (size_t i = 0; i < j->n_probs; i++)
        CU_ASSERT_EQUAL(j->probs[i].expected, 0);
    struct recon_summary s;
    recon_summary(j->engine, &s);
    CU_ASSERT_EQUAL(s.entries, 2);
    CU_ASSERT(find_pair(j->engine, "M2/1", "bank1/sg.xml#1",
                        &(struct recon_pair){0}) == 0);
    dump_problems(j);
    rr_job_free(j);
    tu_rmtree(base);
}

/* ---- 7. publication ------------------------------------------------------ */

/* The names in dir other than . and .., sorted, joined by blanks. */
static void list_dir(const char *dir, char *out, size_t outsz)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            size_t k = strlen(out);
            snprintf(out + k, outsz - k, "%s%s", k ? " " : "",
                     names[i]->d_name);
        }
        free(names[i]);
    }
    free(names);
}

static void test_publish(void)
{
    char base[256], rdir[4096], path[4096], want[4096], names[4096];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    snprintf(rdir, sizeof(rdir), "%s/reports", base);
    CU_ASSERT_EQUAL_FATAL(mkdir(rdir, 0750), 0);
    /* what a run cut short left, and a folder that only looks alike */
    snprintf(path, sizeof(path), "%s/.OLD.tmp", rdir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0750), 0);
    put(path, "matched.csv", "half\n", want);
    snprintf(path, sizeof(path), "%s/keep.tmp", rdir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0750), 0);

    struct rr_job *j = job_new(base, "RUN7", "2026-03-01", "2026-03-10");
    job_pay(j, base, "M2", &good_pay);
    job_stmt(j, base, &good_stmt);
    run_ok(j);
    snprintf(want, sizeof(want), "%s/RUN7", rdir);
    CU_ASSERT_STRING_EQUAL(j->run_dir, want);
    for (int o = 0; o < RECON_OUT_COUNT; o++) {
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", j->run_dir,
                 recon_output_name((enum recon_output)o));
        CU_ASSERT_EQUAL(stat(path, &sb), 0);
        CU_ASSERT(S_ISREG(sb.st_mode) && sb.st_size > 0);
    }
    list_dir(j->run_dir, names, sizeof(names));
    CU_ASSERT_STRING_EQUAL(names,
                           "ambiguous.csv duplicates.csv matched.csv "
                           "mismatches.csv open_receipts.csv report.html "
                           "result.xml reversals.csv unmatched_entries.csv "
                           "unmatched_payments.csv");
    /* the stale folder is gone, the temporary name too */
    list_dir(rdir, names, sizeof(names));
    CU_ASSERT_STRING_EQUAL(names, "RUN7 keep.tmp");
    snprintf(path, sizeof(path), "%s/matched.csv", j->run_dir);
    char *m = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "M2/1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "bank1/sg.xml#1"));
    /* the last progress report */
    CU_ASSERT_STRING_EQUAL(j->phase, "writing");
    CU_ASSERT_EQUAL(j->done, 1);
    CU_ASSERT_EQUAL(j->total, 1);
    rr_job_free(j);

    /* the same id again never replaces a published report */
    j = job_new(base, "RUN7", "2026-03-01", "2026-03-10");
    rr_work(j);
    CU_ASSERT(j->rc < 0);
    CU_ASSERT_EQUAL(j->run_dir[0], '\0');
    CU_ASSERT_NOT_EQUAL(j->err.msg[0], '\0');
    char *again = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(again);
    if (again)
        CU_ASSERT_STRING_EQUAL(again, m);
    free(again);
    free(m);
    rr_job_free(j);
    tu_rmtree(base);
}

/* ---- 8. cancel ----------------------------------------------------------- */

static void test_cancel(void)
{
    char base[256], rdir[4096], names[4096];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    snprintf(rdir, sizeof(rdir), "%s/reports", base);
    /* with inputs, and with none (the engine's own progress sees it) */
    for (int empty = 0; empty <= 1; empty++) {
        struct rr_job *j = job_new(base, "RUN8", "2026-03-01", "2026-03-10");
        if (!empty) {
            job_pay(j, base, "M2", &good_pay);
            job_stmt(j, base, &good_stmt);
        }
        atomic_store(&j->cancel, 1);
        rr_work(j);
        CU_ASSERT_EQUAL(j->rc, H2H_ECANCELED);
        CU_ASSERT_EQUAL(j->err.code, H2H_ECANCELED);
        CU_ASSERT_EQUAL(j->run_dir[0], '\0');
        if (!empty) {
            CU_ASSERT_EQUAL(j->msgs[0].n_taken, 0);
            CU_ASSERT_EQUAL(j->msgs[0].n_matched, 0);
        }
        list_dir(rdir, names, sizeof(names));
        CU_ASSERT_STRING_EQUAL(names, "");
        rr_job_free(j);
    }
    tu_rmtree(base);
}

/* ---- 9. currencies of one account, pages of one statement ---------------- */

/* A camt.053 of one statement: id, electronic sequence, page (0: no
 * pagination), account, currency and one entry on 03-03. */
static void put_page(struct rr_job *j, const char *dir, const char *remote,
                     const char *id, int page, const char *acct,
                     const char *ccy, const char *amt)
{
    char path[4096], pg[160] = "", *xml = NULL;
    if (page)
        snprintf(pg, sizeof(pg),
                 "<StmtPgntn><PgNb>%d</PgNb><LastPgInd>false</LastPgInd>"
                 "</StmtPgntn>",
                 page);
    int n = asprintf(
        &xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
        "<BkToCstmrStmt><GrpHdr><MsgId>%s</MsgId>"
        "<CreDtTm>2026-03-10T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>%s</Id>%s<ElctrncSeqNb>7</ElctrncSeqNb>"
        "<CreDtTm>2026-03-10T06:00:00</CreDtTm>"
        "<Acct><Id><IBAN>%s</IBAN></Id><Ccy>%s</Ccy></Acct>"
        "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
        "<Amt Ccy=\"%s\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
        "<Dt><Dt>" D3 "</Dt></Dt></Bal>"
        "<Ntry><Amt Ccy=\"%s\">%s</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
        "<Sts>BOOK</Sts><BookgDt><Dt>" D3 "</Dt></BookgDt><BkTxCd/></Ntry>"
        "</Stmt></BkToCstmrStmt></Document>\n",
        remote, id, pg, acct, ccy, ccy, ccy, amt);
    CU_ASSERT_FATAL(n > 0);
    put(dir, remote, xml, path);
    free(xml);
    assert_clean(path, 0);
    job_add_file(j, remote, path);
}

static const struct want pages_want[] = {
    {"bank1/eur.xml#1", 1}, {"bank1/usd.xml#1", 1}, /* one IBAN, 2 ccys */
    {"bank1/p1.xml#1", 1},  {"bank1/p2.xml#1", 0},  /* p2 replaced ... */
    {"bank1/p2b.xml#1", 1},                         /* ... by p2b */
    {"bank1/p3.xml#1", 1},                          /* page 3 adds */
    {NULL, 0},
};

static void test_currencies_and_pages(void)
{
    char base[256];
    snprintf(base, sizeof(base), "%s", tu_mkdtemp());
    struct rr_job *j = job_new(base, "RUN9", "2026-03-01", "2026-03-10");
    put_page(j, base, "eur.xml", "S-EUR", 0, ACCT_A, "EUR", "10.00");
    put_page(j, base, "usd.xml", "S-USD", 0, ACCT_A, "USD", "20.00");
    put_page(j, base, "p1.xml", "S-B", 1, ACCT_B, "EUR", "30.00");
    put_page(j, base, "p2.xml", "S-B", 2, ACCT_B, "EUR", "40.00");
    put_page(j, base, "p2b.xml", "S-B", 2, ACCT_B, "EUR", "41.00");
    put_page(j, base, "p3.xml", "S-B", 3, ACCT_B, "EUR", "50.00");
    run_ok(j);
    struct recon_summary s;
    recon_summary(j->engine, &s);
    CU_ASSERT_EQUAL(s.entries, 5);
    check_entries(j, pages_want);
    CU_ASSERT_EQUAL(j->n_probs, 0);
    rr_job_free(j);
    tu_rmtree(base);
}

static const struct tu_case suite[] = {
    {"end-of-day precedence", test_eod_precedence},
    {"statement period coverage", test_period_coverage},
    {"payments", test_payments},
    {"date range and account", test_range_and_account},
    {"expected receipts", test_expected},
    {"unreadable inputs", test_unreadable},
    {"publication", test_publish},
    {"cancel", test_cancel},
    {"currencies and pages", test_currencies_and_pages},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("reconrun", suite);
}
