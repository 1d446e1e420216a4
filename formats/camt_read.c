/*
 * camt_read.c - streaming camt.052 / camt.053 / camt.054 reader; see camt.h.
 *
 * The reader walks the document node by node and keeps the path of open
 * elements.  Five contexts matter: GrpHdr, the statement (Stmt / Rpt /
 * Ntfctn), Bal, Ntry and NtryDtls/TxDtls.  A leaf is mapped to a model
 * field by its path relative to the innermost context, so one party /
 * account / agent mapping serves Ownr, Dbtr, Cdtr and the rest across
 * versions, and an element the model does not know never matches.
 *
 * Nothing grows with the file: a balance, an entry and a detail live in
 * the reader only until they are complete; an entry's details are freed
 * right after the entry() call.  Subtrees that are not ours (AppHdr,
 * SplmtryData) are passed over by depth, not by buffering.
 */
#include "camt.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"
#include "xmlsafe.h"

#define PATH_MAX_LEN 2048
#define MAX_DEPTH 200
#define MAX_BALS 64     /* balances per statement */
#define MAX_DTLS 200000 /* TxDtls per entry (batch bookings) */

enum ctx { CTX_NONE, CTX_HDR, CTX_STMT, CTX_BAL, CTX_NTRY, CTX_DTL };

enum slot_kind { SLOT_FIRST, SLOT_APPEND };

/* Special leaves that need more than a string copy. */
enum special {
    SP_NONE,
    SP_BAL_AMT,
    SP_BAL_CD,
    SP_BAL_DT,
    SP_BAL_DTTM,
    SP_NTRY_AMT,
    SP_NTRY_CD,
    SP_NTRY_RVSL,
    SP_NTRY_BOOK,
    SP_NTRY_VAL,
    SP_DTL_AMT1,
    SP_DTL_AMT2,
    SP_DTL_AMT3,
    SP_DTL_CD,
    SP_SUM_CR_NB,
    SP_SUM_CR_SUM,
    SP_SUM_DB_NB,
    SP_SUM_DB_SUM,
};

struct bal_st {
    struct fmt_balance b;
    char *amt; /* raw Amt text, signed once CdtDbtInd known */
    char ccy[4];
    int cd; /* -1 absent, 0 DBIT, 1 CRDT */
    int has_type, has_date, line, amt_line;
};

struct dtl_st {
    struct fmt_entry_dtl d;
    struct fmt_party dbtr, cdtr, udbtr, ucdtr;
    struct fmt_account dacct, cacct;
    struct fmt_agent dagt, cagt;
    int cd;       /* TxDtls/CdtDbtInd: -1 absent */
    int amt_prio; /* which amount we hold: 0 none .. 3 */
};

struct rd {
    struct fmt_xml x;
    const struct fmt_stmt_sink *sink;
    struct fmt_diag *diag;
    struct h2h_err *err;
    int msg;     /* 52, 53, 54 */
    int version; /* 1 .. 12 */

    struct fmt_stmt_doc doc;
    int hdr_seen, doc_sent;

    struct fmt_stmt st;
    int st_sent;
    long n_stmt, n_ntry, n_dtl;
    char *sum_cr, *sum_db; /* raw TxsSummry sums */
    int sum_cr_line, sum_db_line, sum_seen;
    size_t bal_cap;

    struct bal_st bal;
    struct fmt_entry e;
    int e_has_amt, e_cd_seen, e_sts_seen;
    size_t dtl_cap;
    int dtl_dropped;
    struct dtl_st dt;

    char path[PATH_MAX_LEN];
    size_t off[MAX_DEPTH + 2];
    int depth;
    int doc_depth, msg_depth, hdr_depth, stmt_depth, bal_depth, ntry_depth,
        dtl_depth;
    int skip_depth; /* > 0: ignore everything below this depth */
    int line;
    char root[64]; /* first element name, for messages */
};

/* ---- small helpers ------------------------------------------------------ */

static const char *stmt_elem(const struct rd *r)
{
    return r->msg == 52 ? "Rpt" : r->msg == 54 ? "Ntfctn" : "Stmt";
}

static enum ctx cur_ctx(const struct rd *r, int *base)
{
    if (r->dtl_depth) {
        *base = r->dtl_depth;
        return CTX_DTL;
    }
    if (r->ntry_depth) {
        *base = r->ntry_depth;
        return CTX_NTRY;
    }
    if (r->bal_depth) {
        *base = r->bal_depth;
        return CTX_BAL;
    }
    if (r->stmt_depth) {
        *base = r->stmt_depth;
        return CTX_STMT;
    }
    if (r->hdr_depth) {
        *base = r->hdr_depth;
        return CTX_HDR;
    }
    *base = 0;
    return CTX_NONE;
}

/* Element path for messages: "Stmt[2]/Ntry[5]/NtryDtls/TxDtls[1]/Amt". */
static const char *where(struct rd *r, const char *rel, char *buf, size_t sz)
{
    int n = 0;
    const char *sep = rel && *rel ? "/" : "";
    const char *tail = rel ? rel : "";
    if (r->dtl_depth)
        n = snprintf(buf, sz, "%s[%ld]/Ntry[%ld]/NtryDtls/TxDtls[%ld]%s%s",
                     stmt_elem(r), r->n_stmt, r->n_ntry, r->n_dtl, sep, tail);
    else if (r->ntry_depth)
        n = snprintf(buf, sz, "%s[%ld]/Ntry[%ld]%s%s", stmt_elem(r), r->n_stmt,
                     r->n_ntry, sep, tail);
    else if (r->bal_depth)
        n = snprintf(buf, sz, "%s[%ld]/Bal[%zu]%s%s", stmt_elem(r), r->n_stmt,
                     r->st.n_bals + 1, sep, tail);
    else if (r->stmt_depth)
        n = snprintf(buf, sz, "%s[%ld]%s%s", stmt_elem(r), r->n_stmt, sep,
                     tail);
    else if (r->hdr_depth)
        n = snprintf(buf, sz, "GrpHdr%s%s", sep, tail);
    else
        n = snprintf(buf, sz, "%s", tail);
    (void)n;
    return buf;
}

static void problem(struct rd *r, int line, const char *rel, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem(struct rd *r, int line, const char *rel, const char *rule,
                    const char *fmt, ...)
{
    if (!r->diag)
        return;
    char w[PATH_MAX_LEN + 128], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_diag_add(r->diag, line, where(r, rel, w, sizeof(w)), rule, "%s", msg);
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                     s[n - 1] == '\r'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
}

/* Takes ownership of v. */
static int store(char **slot, char *v, enum slot_kind kind)
{
    if (!*slot) {
        *slot = v;
        return 0;
    }
    if (kind == SLOT_FIRST) {
        free(v);
        return 0;
    }
    size_t a = strlen(*slot), b = strlen(v);
    char *n = realloc(*slot, a + b + 2);
    if (!n) {
        free(v);
        return H2H_ENOMEM;
    }
    n[a] = '\n';
    memcpy(n + a + 1, v, b + 1);
    *slot = n;
    free(v);
    return 0;
}

static int starts(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n))
        return 0;
    *rest = s + n;
    return 1;
}

static int parse_count(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 15)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int enomem(struct rd *r)
{
    return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
}

/* ---- field maps --------------------------------------------------------- */

static char **postal_slot(struct fmt_postal *p, const char *rel,
                          enum slot_kind *kind)
{
    (void)kind;
    if (!strcmp(rel, "Dept"))
        return &p->dept;
    if (!strcmp(rel, "StrtNm"))
        return &p->street;
    if (!strcmp(rel, "BldgNb"))
        return &p->building;
    if (!strcmp(rel, "PstCd"))
        return &p->postcode;
    if (!strcmp(rel, "TwnNm"))
        return &p->town;
    if (!strcmp(rel, "CtrySubDvsn"))
        return &p->subdivision;
    if (!strcmp(rel, "Ctry"))
        return &p->country;
    if (!strcmp(rel, "AdrLine")) {
        for (size_t i = 0; i < sizeof(p->lines) / sizeof(p->lines[0]); i++)
            if (!p->lines[i])
                return &p->lines[i];
        /* an eighth line has no room in the model (the schema allows 7) */
        return NULL;
    }
    return NULL;
}

static char **party_slot(struct fmt_party *p, const char *rel,
                         enum slot_kind *kind)
{
    const char *t;
    /* .08 Party40Choice wraps the party in Pty, or gives an agent */
    if (starts(rel, "Pty/", &t))
        rel = t;
    if (!strcmp(rel, "Nm") || !strcmp(rel, "Agt/FinInstnId/Nm"))
        return &p->name;
    if (starts(rel, "PstlAdr/", &t))
        return postal_slot(&p->addr, t, kind);
    if (!strcmp(rel, "Id/OrgId/BICOrBEI") || !strcmp(rel, "Id/OrgId/AnyBIC") ||
        !strcmp(rel, "Id/OrgId/BIC") || !strcmp(rel, "Agt/FinInstnId/BICFI") ||
        !strcmp(rel, "Agt/FinInstnId/BIC"))
        return &p->org_bic;
    if (!strcmp(rel, "Id/OrgId/Othr/Id") || !strcmp(rel, "Id/OrgId/PrtryId/Id"))
        return &p->org_id;
    if (!strcmp(rel, "Id/OrgId/Othr/SchmeNm/Cd") ||
        !strcmp(rel, "Id/OrgId/Othr/SchmeNm/Prtry"))
        return &p->org_id_scheme;
    if (!strcmp(rel, "Id/PrvtId/Othr/Id"))
        return &p->prvt_id;
    if (!strcmp(rel, "CtryOfRes"))
        return &p->ctry_of_res;
    return NULL;
}

static char **account_slot(struct fmt_account *a, const char *rel)
{
    if (!strcmp(rel, "Id/IBAN"))
        return &a->iban;
    if (!strcmp(rel, "Id/Othr/Id") || !strcmp(rel, "Id/BBAN") ||
        !strcmp(rel, "Id/PrtryAcct/Id") || !strcmp(rel, "Id/UPIC"))
        return &a->other_id;
    if (!strcmp(rel, "Id/Othr/SchmeNm/Cd") ||
        !strcmp(rel, "Id/Othr/SchmeNm/Prtry"))
        return &a->other_scheme;
    if (!strcmp(rel, "Ccy"))
        return &a->ccy;
    if (!strcmp(rel, "Nm"))
        return &a->name;
    if (!strcmp(rel, "Tp/Cd") || !strcmp(rel, "Tp/Prtry"))
        return &a->type;
    return NULL;
}

static char **agent_slot(struct fmt_agent *a, const char *rel,
                         enum slot_kind *kind)
{
    const char *t;
    if (!starts(rel, "FinInstnId/", &t))
        return NULL;
    if (starts(t, "NmAndAdr/", &t)) {
        /* .01 */
        if (!strcmp(t, "Nm"))
            return &a->name;
        if (starts(t, "PstlAdr/", &t))
            return postal_slot(&a->addr, t, kind);
        return NULL;
    }
    if (!strcmp(t, "BIC") || !strcmp(t, "BICFI"))
        return &a->bic;
    if (!strcmp(t, "ClrSysMmbId/ClrSysId/Cd") ||
        !strcmp(t, "ClrSysMmbId/ClrSysId/Prtry"))
        return &a->clr_sys;
    if (!strcmp(t, "ClrSysMmbId/MmbId"))
        return &a->clr_mmb_id;
    if (!strcmp(t, "Nm"))
        return &a->name;
    if (starts(t, "PstlAdr/", &t))
        return postal_slot(&a->addr, t, kind);
    if (!strcmp(t, "Othr/Id") || !strcmp(t, "PrtryId/Id"))
        return &a->other_id;
    return NULL;
}

static char **hdr_slot(struct rd *r, const char *rel)
{
    if (!strcmp(rel, "MsgId"))
        return &r->doc.msg_id;
    if (!strcmp(rel, "CreDtTm"))
        return &r->doc.cre_dt_tm;
    if (!strcmp(rel, "MsgRcpt/Nm") || !strcmp(rel, "MsgRcpt/Pty/Nm"))
        return &r->doc.msg_rcpt;
    return NULL;
}

static char **stmt_slot(struct rd *r, const char *rel, enum slot_kind *kind,
                        enum special *sp)
{
    struct fmt_stmt *s = &r->st;
    const char *t;
    if (!strcmp(rel, "Id"))
        return &s->id;
    if (!strcmp(rel, "ElctrncSeqNb"))
        return &s->elctrnc_seq_nb;
    if (!strcmp(rel, "LglSeqNb"))
        return &s->lgl_seq_nb;
    if (!strcmp(rel, "StmtPgntn/PgNb") || !strcmp(rel, "RptPgntn/PgNb") ||
        !strcmp(rel, "NtfctnPgntn/PgNb"))
        return &s->page_nb;
    if (!strcmp(rel, "CreDtTm"))
        return &s->cre_dt_tm;
    if (!strcmp(rel, "FrToDt/FrDtTm"))
        return &s->fr_dt_tm;
    if (!strcmp(rel, "FrToDt/ToDtTm"))
        return &s->to_dt_tm;
    if (!strcmp(rel, "AddtlStmtInf") || !strcmp(rel, "AddtlRptInf") ||
        !strcmp(rel, "AddtlNtfctnInf")) {
        *kind = SLOT_APPEND;
        return &s->addtl_stmt_inf;
    }
    if (starts(rel, "Acct/Ownr/", &t))
        return party_slot(&s->owner, t, kind);
    if (starts(rel, "Acct/Svcr/", &t))
        return agent_slot(&s->svcr, t, kind);
    if (starts(rel, "Acct/", &t))
        return account_slot(&s->acct, t);
    if (!strcmp(rel, "TxsSummry/TtlCdtNtries/NbOfNtries"))
        *sp = SP_SUM_CR_NB;
    else if (!strcmp(rel, "TxsSummry/TtlCdtNtries/Sum"))
        *sp = SP_SUM_CR_SUM;
    else if (!strcmp(rel, "TxsSummry/TtlDbtNtries/NbOfNtries"))
        *sp = SP_SUM_DB_NB;
    else if (!strcmp(rel, "TxsSummry/TtlDbtNtries/Sum"))
        *sp = SP_SUM_DB_SUM;
    return NULL;
}

static char **bal_slot(struct rd *r, const char *rel, enum special *sp)
{
    struct bal_st *b = &r->bal;
    if (!strcmp(rel, "Tp/CdOrPrtry/Cd") || !strcmp(rel, "Tp/CdOrPrtry/Prtry") ||
        !strcmp(rel, "Tp/Cd") || !strcmp(rel, "Tp/Prtry")) {
        /* the type lives in a fixed char[8]; handled as special below */
        *sp = SP_NONE;
        return NULL;
    }
    if (!strcmp(rel, "Tp/SubTp/Cd") || !strcmp(rel, "Tp/SubTp/Prtry"))
        return &b->b.sub_type;
    if (!strcmp(rel, "Amt"))
        *sp = SP_BAL_AMT;
    else if (!strcmp(rel, "CdtDbtInd"))
        *sp = SP_BAL_CD;
    else if (!strcmp(rel, "Dt/Dt"))
        *sp = SP_BAL_DT;
    else if (!strcmp(rel, "Dt/DtTm"))
        *sp = SP_BAL_DTTM;
    return NULL;
}

static char **ntry_slot(struct rd *r, const char *rel, enum special *sp)
{
    struct fmt_entry *e = &r->e;
    if (!strcmp(rel, "NtryRef"))
        return &e->ntry_ref;
    if (!strcmp(rel, "Sts/Cd") || !strcmp(rel, "Sts/Prtry"))
        return &e->sts;
    if (!strcmp(rel, "AcctSvcrRef"))
        return &e->acct_svcr_ref;
    if (!strcmp(rel, "BkTxCd/Domn/Cd"))
        return &e->bk_tx_domain;
    if (!strcmp(rel, "BkTxCd/Domn/Fmly/Cd"))
        return &e->bk_tx_family;
    if (!strcmp(rel, "BkTxCd/Domn/Fmly/SubFmlyCd"))
        return &e->bk_tx_subfamily;
    if (!strcmp(rel, "BkTxCd/Prtry/Cd"))
        return &e->bk_tx_prtry;
    if (!strcmp(rel, "BkTxCd/Prtry/Issr"))
        return &e->bk_tx_prtry_issuer;
    if (!strcmp(rel, "AddtlNtryInf"))
        return &e->addtl_ntry_inf;
    if (!strcmp(rel, "Amt"))
        *sp = SP_NTRY_AMT;
    else if (!strcmp(rel, "CdtDbtInd"))
        *sp = SP_NTRY_CD;
    else if (!strcmp(rel, "RvslInd"))
        *sp = SP_NTRY_RVSL;
    else if (!strcmp(rel, "BookgDt/Dt") || !strcmp(rel, "BookgDt/DtTm"))
        *sp = SP_NTRY_BOOK;
    else if (!strcmp(rel, "ValDt/Dt") || !strcmp(rel, "ValDt/DtTm"))
        *sp = SP_NTRY_VAL;
    return NULL;
}

static char **strd_slot(struct fmt_strd_rmt *s, const char *t,
                        enum slot_kind *kind)
{
    if (!strcmp(t, "CdtrRefInf/Ref"))
        return &s->cdtr_ref;
    if (!strcmp(t, "CdtrRefInf/Tp/CdOrPrtry/Cd") ||
        !strcmp(t, "CdtrRefInf/Tp/CdOrPrtry/Prtry"))
        return &s->cdtr_ref_type;
    if (!strcmp(t, "CdtrRefInf/Tp/Issr"))
        return &s->cdtr_ref_issuer;
    if (!strcmp(t, "RfrdDocInf/Nb"))
        return &s->doc_nb;
    if (!strcmp(t, "RfrdDocInf/Tp/CdOrPrtry/Cd") ||
        !strcmp(t, "RfrdDocInf/Tp/CdOrPrtry/Prtry"))
        return &s->doc_type;
    if (!strcmp(t, "RfrdDocInf/RltdDt") || !strcmp(t, "RfrdDocRltdDt"))
        return &s->doc_date;
    if (!strcmp(t, "AddtlRmtInf")) {
        *kind = SLOT_APPEND;
        return &s->addtl_info;
    }
    return NULL;
}

static char **dtl_slot(struct rd *r, const char *rel, enum slot_kind *kind,
                       enum special *sp)
{
    struct dtl_st *x = &r->dt;
    struct fmt_entry_dtl *d = &x->d;
    const char *t;
    if (starts(rel, "Refs/", &t)) {
        if (!strcmp(t, "MsgId"))
            return &d->msg_id;
        if (!strcmp(t, "AcctSvcrRef"))
            return &d->acct_svcr_ref;
        if (!strcmp(t, "PmtInfId"))
            return &d->pmt_inf_id;
        if (!strcmp(t, "InstrId"))
            return &d->instr_id;
        if (!strcmp(t, "EndToEndId"))
            return &d->end_to_end_id;
        if (!strcmp(t, "UETR"))
            return &d->uetr;
        if (!strcmp(t, "TxId"))
            return &d->tx_id;
        if (!strcmp(t, "MndtId"))
            return &d->mndt_id;
        if (!strcmp(t, "ChqNb"))
            return &d->chq_nb;
        if (!strcmp(t, "ClrSysRef"))
            return &d->clr_sys_ref;
        return NULL;
    }
    if (starts(rel, "RltdPties/", &t)) {
        const char *u;
        if (starts(t, "Dbtr/", &u))
            return party_slot(&x->dbtr, u, kind);
        if (starts(t, "Cdtr/", &u))
            return party_slot(&x->cdtr, u, kind);
        if (starts(t, "UltmtDbtr/", &u))
            return party_slot(&x->udbtr, u, kind);
        if (starts(t, "UltmtCdtr/", &u))
            return party_slot(&x->ucdtr, u, kind);
        if (starts(t, "DbtrAcct/", &u))
            return account_slot(&x->dacct, u);
        if (starts(t, "CdtrAcct/", &u))
            return account_slot(&x->cacct, u);
        return NULL;
    }
    if (starts(rel, "RltdAgts/", &t)) {
        const char *u;
        if (starts(t, "DbtrAgt/", &u))
            return agent_slot(&x->dagt, u, kind);
        if (starts(t, "CdtrAgt/", &u))
            return agent_slot(&x->cagt, u, kind);
        return NULL;
    }
    if (!strcmp(rel, "RmtInf/Ustrd")) {
        *kind = SLOT_APPEND;
        return &d->rmt_ustrd;
    }
    if (starts(rel, "RmtInf/Strd/", &t))
        return strd_slot(&d->rmt_strd, t, kind);
    if (!strcmp(rel, "Purp/Cd") || !strcmp(rel, "Purp/Prtry"))
        return &d->purp;
    if (!strcmp(rel, "RtrInf/Rsn/Cd") || !strcmp(rel, "RtrInf/Rsn/Prtry"))
        return &d->rtr_rsn;
    if (!strcmp(rel, "AddtlTxInf"))
        return &d->addtl_tx_inf;
    if (!strcmp(rel, "BkTxCd/Prtry/Cd"))
        return &d->bk_tx_cd_prtry;
    if (!strcmp(rel, "Amt"))
        *sp = SP_DTL_AMT3;
    else if (!strcmp(rel, "AmtDtls/TxAmt/Amt"))
        *sp = SP_DTL_AMT2;
    else if (!strcmp(rel, "AmtDtls/InstdAmt/Amt"))
        *sp = SP_DTL_AMT1;
    else if (!strcmp(rel, "CdtDbtInd"))
        *sp = SP_DTL_CD;
    return NULL;
}

/* ---- namespace -> message and version ----------------------------------- */

static const char *const formats[3][13] = {
    {"camt.052", "camt.052.001.01", "camt.052.001.02", "camt.052.001.03",
     "camt.052.001.04", "camt.052.001.05", "camt.052.001.06", "camt.052.001.07",
     "camt.052.001.08", "camt.052.001.09", "camt.052.001.10", "camt.052.001.11",
     "camt.052.001.12"},
    {"camt.053", "camt.053.001.01", "camt.053.001.02", "camt.053.001.03",
     "camt.053.001.04", "camt.053.001.05", "camt.053.001.06", "camt.053.001.07",
     "camt.053.001.08", "camt.053.001.09", "camt.053.001.10", "camt.053.001.11",
     "camt.053.001.12"},
    {"camt.054", "camt.054.001.01", "camt.054.001.02", "camt.054.001.03",
     "camt.054.001.04", "camt.054.001.05", "camt.054.001.06", "camt.054.001.07",
     "camt.054.001.08", "camt.054.001.09", "camt.054.001.10", "camt.054.001.11",
     "camt.054.001.12"},
};

static int detect_version(struct rd *r, const char *ns)
{
    static const char pfx[] = "urn:iso:std:iso:20022:tech:xsd:camt.05";
    if (!ns || !*ns)
        return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                           "line %d: <Document> has no namespace, so this is "
                           "not a camt.052/053/054 message (or its version "
                           "cannot be told)",
                           r->line);
    /* "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02", optionally followed
     * by a national suffix (".ch.02") */
    const char *p = ns;
    int m = 0, v = 0;
    if (!strncmp(p, pfx, sizeof(pfx) - 1)) {
        p += sizeof(pfx) - 1;
        if ((p[0] == '2' || p[0] == '3' || p[0] == '4') &&
            !strncmp(p + 1, ".001.", 5) && p[6] >= '0' && p[6] <= '9' &&
            p[7] >= '0' && p[7] <= '9' && (p[8] == '\0' || p[8] == '.')) {
            m = 50 + (p[0] - '0');
            v = (p[6] - '0') * 10 + (p[7] - '0');
        }
    }
    if (!m || v < 1 || v > 12)
        return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                           "line %d: namespace \"%.200s\" is not a known "
                           "camt.052/053/054 version (.001.01 to .001.12)",
                           r->line, ns);
    r->msg = m;
    r->version = v;
    r->doc.kind = m == 52   ? FMT_STMT_REPORT
                  : m == 54 ? FMT_STMT_NOTIFICATION
                            : FMT_STMT_STATEMENT;
    r->doc.source_format = formats[m - 52][v];
    return 0;
}

static int msg_elem_ok(const struct rd *r, const char *name)
{
    const char *want = r->msg == 52   ? "BkToCstmrAcctRpt"
                       : r->msg == 54 ? "BkToCstmrDbtCdtNtfctn"
                                      : "BkToCstmrStmt";
    size_t n = strlen(want);
    /* .01 names carry a version suffix: BkToCstmrStmtV01 */
    return !strncmp(name, want, n) && (name[n] == '\0' || name[n] == 'V');
}

/* ---- sink calls -----------------------------------------------------------
 */

static int sink_rc(struct rd *r, int rc, const char *what)
{
    if (rc < 0)
        return h2h_err_set(r->err, rc, "line %d: statement sink aborted in %s",
                           r->line, what);
    return 0;
}

static int send_begin(struct rd *r)
{
    if (r->doc_sent)
        return 0;
    r->doc_sent = 1;
    if (!r->hdr_seen)
        problem(r, r->line, "GrpHdr", "camt.grphdr.missing",
                "the message has no group header (GrpHdr)");
    else if (!r->doc.msg_id || !*r->doc.msg_id)
        problem(r, r->line, "GrpHdr/MsgId", "camt.msgid.missing",
                "the message id (GrpHdr/MsgId) is missing");
    if (r->sink && r->sink->begin)
        return sink_rc(r, r->sink->begin(r->sink->ctx, &r->doc), "begin");
    return 0;
}

/* Currency for TxsSummry sums, which carry none of their own. */
static const char *summary_ccy(const struct rd *r)
{
    if (r->st.acct.ccy && fmt_ccy_exponent(r->st.acct.ccy) >= 0)
        return r->st.acct.ccy;
    for (size_t i = 0; i < r->st.n_bals; i++)
        if (r->st.bals[i].amt.ccy[0])
            return r->st.bals[i].amt.ccy;
    return NULL;
}

static void parse_sum(struct rd *r, const char *raw, int line, const char *rel,
                      struct fmt_amount *out)
{
    const char *ccy = summary_ccy(r);
    if (!raw)
        return;
    if (!ccy) {
        problem(r, line, rel, "camt.txssummry.ccy",
                "cannot tell the currency of the transaction summary sum "
                "\"%.40s\": the account has no currency and there is no "
                "balance",
                raw);
        return;
    }
    struct h2h_err e = {0};
    int64_t v;
    if (fmt_amount_parse(raw, strlen(raw), ccy, 0, &v, &e) < 0) {
        problem(r, line, rel, "camt.amount", "transaction summary sum: %s",
                e.msg);
        return;
    }
    out->minor = v;
    memcpy(out->ccy, ccy, 4);
}

static int send_stmt_begin(struct rd *r)
{
    if (r->st_sent)
        return 0;
    r->st_sent = 1;
    if (r->sum_seen) {
        parse_sum(r, r->sum_cr, r->sum_cr_line, "TxsSummry/TtlCdtNtries/Sum",
                  &r->st.sum_credits);
        parse_sum(r, r->sum_db, r->sum_db_line, "TxsSummry/TtlDbtNtries/Sum",
                  &r->st.sum_debits);
    }
    if (r->sink && r->sink->stmt_begin)
        return sink_rc(r, r->sink->stmt_begin(r->sink->ctx, &r->st),
                       "stmt_begin");
    return 0;
}

/* ---- contexts: start and end ----------------------------------------------
 */

static void stmt_start(struct rd *r)
{
    fmt_stmt_release(&r->st);
    free(r->sum_cr);
    free(r->sum_db);
    r->sum_cr = r->sum_db = NULL;
    r->sum_seen = 0;
    r->bal_cap = 0;
    r->st_sent = 0;
    r->n_stmt++;
    r->n_ntry = 0;
    r->st.line = r->line;
    r->stmt_depth = r->depth;
}

static int stmt_end(struct rd *r)
{
    int rc;
    if (!r->st.id || !*r->st.id)
        problem(r, r->st.line, "Id", "camt.stmt.id.missing",
                "the %s has no identification (Id)",
                r->msg == 52   ? "report"
                : r->msg == 54 ? "notification"
                               : "statement");
    if (!r->st.acct.iban && !r->st.acct.other_id)
        problem(r, r->st.line, "Acct/Id", "camt.acct.missing",
                "the account (Acct/Id) is missing");
    if (r->msg == 53 && r->st.n_bals == 0)
        problem(r, r->st.line, "Bal", "camt.bal.missing",
                "the statement has no balance (Bal)");
    if ((rc = send_stmt_begin(r)) < 0)
        return rc;
    if (r->sink && r->sink->stmt_end &&
        (rc = sink_rc(r, r->sink->stmt_end(r->sink->ctx, &r->st), "stmt_end")) <
            0)
        return rc;
    fmt_stmt_release(&r->st);
    r->stmt_depth = 0;
    return 0;
}

static void bal_start(struct rd *r)
{
    free(r->bal.amt);
    free(r->bal.b.sub_type);
    free(r->bal.b.date);
    memset(&r->bal, 0, sizeof(r->bal));
    r->bal.cd = -1;
    r->bal.line = r->line;
    r->bal_depth = r->depth;
}

static int bal_end(struct rd *r)
{
    struct bal_st *b = &r->bal;
    int ok = 1;
    if (!b->has_type) {
        problem(r, b->line, "Tp", "camt.bal.type.missing",
                "the balance has no type (Tp/CdOrPrtry)");
        ok = 0;
    }
    if (!b->amt) {
        problem(r, b->line, "Amt", "camt.bal.amount.missing",
                "balance %s has no amount (Amt)", b->b.type);
        ok = 0;
    }
    if (b->cd < 0) {
        problem(r, b->line, "CdtDbtInd", "camt.bal.cdtdbt.missing",
                "balance %s does not say credit or debit (CdtDbtInd)",
                b->b.type);
        ok = 0;
    }
    if (!b->has_date) {
        problem(r, b->line, "Dt", "camt.bal.date.missing",
                "balance %s has no date (Dt/Dt or Dt/DtTm)", b->b.type);
    }
    if (b->amt) {
        struct h2h_err e = {0};
        int64_t v = 0;
        if (!b->ccy[0]) {
            problem(r, b->amt_line, "Amt", "camt.ccy.missing",
                    "balance %s amount has no currency (Ccy)", b->b.type);
            ok = 0;
        } else if (fmt_amount_parse(b->amt, strlen(b->amt), b->ccy, 0, &v, &e) <
                   0) {
            problem(r, b->amt_line, "Amt", "camt.amount", "balance %s: %s",
                    b->b.type, e.msg);
            ok = 0;
        } else {
            b->b.amt.minor = b->cd == 0 ? -v : v;
            memcpy(b->b.amt.ccy, b->ccy, 4);
        }
    }
    r->bal_depth = 0;
    /* a balance without a usable amount would only mislead the checks */
    if (!ok)
        goto drop;
    if (r->st.n_bals >= MAX_BALS) {
        problem(r, b->line, NULL, "camt.bal.toomany",
                "more than %d balances in one statement", MAX_BALS);
        goto drop;
    }
    if (r->st.n_bals == r->bal_cap) {
        size_t nc = r->bal_cap ? r->bal_cap * 2 : 4;
        struct fmt_balance *nv = realloc(r->st.bals, nc * sizeof(*nv));
        if (!nv)
            return enomem(r);
        r->st.bals = nv;
        r->bal_cap = nc;
    }
    r->st.bals[r->st.n_bals++] = b->b;
    b->b.sub_type = b->b.date = NULL;
drop:
    free(b->amt);
    free(b->b.sub_type);
    free(b->b.date);
    memset(b, 0, sizeof(*b));
    b->cd = -1;
    return 0;
}

static void ntry_start(struct rd *r)
{
    fmt_entry_release(&r->e);
    r->e_has_amt = r->e_cd_seen = r->e_sts_seen = 0;
    r->dtl_cap = 0;
    r->dtl_dropped = 0;
    r->n_ntry++;
    r->n_dtl = 0;
    r->e.line = r->line;
    r->ntry_depth = r->depth;
}

static int ntry_end(struct rd *r)
{
    int rc;
    if (!r->e_has_amt)
        problem(r, r->e.line, "Amt", "camt.ntry.amount.missing",
                "the entry has no amount (Amt)");
    if (!r->e_cd_seen)
        problem(r, r->e.line, "CdtDbtInd", "camt.ntry.cdtdbt.missing",
                "the entry does not say credit or debit (CdtDbtInd)");
    if (!r->e_sts_seen || !r->e.sts || !*r->e.sts)
        problem(r, r->e.line, "Sts", "camt.ntry.sts.missing",
                "the entry has no status (Sts)");
    if (r->dtl_dropped)
        problem(r, r->e.line, "NtryDtls", "camt.dtls.toomany",
                "%d transaction details beyond the limit of %d were not read",
                r->dtl_dropped, MAX_DTLS);
    r->ntry_depth = 0;
    if (r->sink && r->sink->entry &&
        (rc = sink_rc(r, r->sink->entry(r->sink->ctx, &r->st, &r->e),
                      "entry")) < 0)
        return rc;
    fmt_entry_release(&r->e);
    return 0;
}

static void dtl_clear(struct dtl_st *x)
{
    fmt_entry_dtl_release(&x->d);
    fmt_party_release(&x->dbtr);
    fmt_party_release(&x->cdtr);
    fmt_party_release(&x->udbtr);
    fmt_party_release(&x->ucdtr);
    fmt_account_release(&x->dacct);
    fmt_account_release(&x->cacct);
    fmt_agent_release(&x->dagt);
    fmt_agent_release(&x->cagt);
    x->cd = -1;
    x->amt_prio = 0;
}

static void dtl_start(struct rd *r)
{
    dtl_clear(&r->dt);
    r->n_dtl++;
    r->dtl_depth = r->depth;
}

static int dtl_end(struct rd *r)
{
    struct dtl_st *x = &r->dt;
    r->dtl_depth = 0;
    if (r->e.n_dtls >= MAX_DTLS) {
        r->dtl_dropped++;
        dtl_clear(x);
        return 0;
    }
    /* the other side of the booking: the creditor for a debit */
    int credit = x->cd >= 0 ? x->cd : r->e.credit;
    if (credit) {
        x->d.cpty = x->dbtr;
        x->d.cpty_acct = x->dacct;
        x->d.cpty_agt = x->dagt;
        x->d.ult_cpty = x->udbtr;
        memset(&x->dbtr, 0, sizeof(x->dbtr));
        memset(&x->dacct, 0, sizeof(x->dacct));
        memset(&x->dagt, 0, sizeof(x->dagt));
        memset(&x->udbtr, 0, sizeof(x->udbtr));
    } else {
        x->d.cpty = x->cdtr;
        x->d.cpty_acct = x->cacct;
        x->d.cpty_agt = x->cagt;
        x->d.ult_cpty = x->ucdtr;
        memset(&x->cdtr, 0, sizeof(x->cdtr));
        memset(&x->cacct, 0, sizeof(x->cacct));
        memset(&x->cagt, 0, sizeof(x->cagt));
        memset(&x->ucdtr, 0, sizeof(x->ucdtr));
    }
    if (r->e.n_dtls == r->dtl_cap) {
        size_t nc = r->dtl_cap ? r->dtl_cap * 2 : 2;
        struct fmt_entry_dtl *nv = realloc(r->e.dtls, nc * sizeof(*nv));
        if (!nv)
            return enomem(r);
        r->e.dtls = nv;
        r->dtl_cap = nc;
    }
    r->e.dtls[r->e.n_dtls++] = x->d;
    memset(&x->d, 0, sizeof(x->d));
    dtl_clear(x);
    return 0;
}

/* ---- leaves -----------------------------------------------------------------
 */

static int parse_cd(const char *v)
{
    if (!strcmp(v, "CRDT"))
        return 1;
    if (!strcmp(v, "DBIT"))
        return 0;
    return -1;
}

static void check_date(struct rd *r, const char *rel, const char *v,
                       int is_dttm)
{
    struct h2h_err e = {0};
    int rc = is_dttm ? fmt_datetime_check(v, &e) : fmt_date_check(v, &e);
    if (rc < 0)
        problem(r, r->line, rel, "camt.date", "%s", e.msg);
}

static void amount_leaf(struct rd *r, const char *rel, const char *v,
                        const char *ccy, struct fmt_amount *out, int *ok)
{
    struct h2h_err e = {0};
    int64_t m;
    *ok = 0;
    if (!ccy || !*ccy) {
        problem(r, r->line, rel, "camt.ccy.missing",
                "the amount \"%.40s\" has no currency (Ccy)", v);
        return;
    }
    if (fmt_amount_parse(v, strlen(v), ccy, 0, &m, &e) < 0) {
        problem(r, r->line, rel, "camt.amount", "%s", e.msg);
        return;
    }
    out->minor = m;
    snprintf(out->ccy, sizeof(out->ccy), "%s", ccy);
    *ok = 1;
}

static int special_leaf(struct rd *r, enum special sp, const char *rel, char *v,
                        const char *ccy)
{
    int ok, c;
    switch (sp) {
    case SP_BAL_AMT:
        free(r->bal.amt);
        r->bal.amt = v;
        r->bal.amt_line = r->line;
        snprintf(r->bal.ccy, sizeof(r->bal.ccy), "%s", ccy ? ccy : "");
        if (ccy && strlen(ccy) != 3)
            problem(r, r->line, rel, "camt.ccy",
                    "\"%.20s\" is not a currency code", ccy);
        return 0;
    case SP_BAL_CD:
        if ((r->bal.cd = parse_cd(v)) < 0)
            problem(r, r->line, rel, "camt.cdtdbt",
                    "credit/debit indicator \"%.20s\" is neither CRDT nor "
                    "DBIT",
                    v);
        break;
    case SP_BAL_DT:
    case SP_BAL_DTTM:
        check_date(r, rel, v, sp == SP_BAL_DTTM);
        r->bal.has_date = 1;
        if (!r->bal.b.date) {
            r->bal.b.date = v;
            return 0;
        }
        break;
    case SP_NTRY_AMT:
        amount_leaf(r, rel, v, ccy, &r->e.amt, &ok);
        r->e_has_amt = 1;
        break;
    case SP_NTRY_CD:
        if ((c = parse_cd(v)) < 0)
            problem(r, r->line, rel, "camt.cdtdbt",
                    "credit/debit indicator \"%.20s\" is neither CRDT nor "
                    "DBIT",
                    v);
        else
            r->e.credit = c;
        r->e_cd_seen = 1;
        break;
    case SP_NTRY_RVSL:
        if (!strcmp(v, "true") || !strcmp(v, "1"))
            r->e.reversal = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0"))
            r->e.reversal = 0;
        else
            problem(r, r->line, rel, "camt.rvslind",
                    "reversal indicator \"%.20s\" is neither true nor false",
                    v);
        break;
    case SP_NTRY_BOOK:
    case SP_NTRY_VAL: {
        char **slot = sp == SP_NTRY_BOOK ? &r->e.book_dt : &r->e.val_dt;
        check_date(r, rel, v, strstr(rel, "DtTm") != NULL);
        if (!*slot) {
            *slot = v;
            return 0;
        }
        break;
    }
    case SP_DTL_AMT1:
    case SP_DTL_AMT2:
    case SP_DTL_AMT3: {
        int prio = sp == SP_DTL_AMT3 ? 3 : sp == SP_DTL_AMT2 ? 2 : 1;
        struct fmt_amount a = {0};
        amount_leaf(r, rel, v, ccy, &a, &ok);
        if (ok && prio > r->dt.amt_prio) {
            r->dt.d.amt = a;
            r->dt.amt_prio = prio;
        }
        break;
    }
    case SP_DTL_CD:
        if ((c = parse_cd(v)) < 0)
            problem(r, r->line, rel, "camt.cdtdbt",
                    "credit/debit indicator \"%.20s\" is neither CRDT nor "
                    "DBIT",
                    v);
        else
            r->dt.cd = c;
        break;
    case SP_SUM_CR_NB:
    case SP_SUM_DB_NB: {
        int64_t n;
        if (parse_count(v, &n) < 0) {
            problem(r, r->line, rel, "camt.txssummry.count",
                    "number of entries \"%.20s\" is not a number", v);
            break;
        }
        r->st.has_summary = r->sum_seen = 1;
        if (sp == SP_SUM_CR_NB)
            r->st.n_credits = n;
        else
            r->st.n_debits = n;
        break;
    }
    case SP_SUM_CR_SUM:
    case SP_SUM_DB_SUM:
        r->st.has_summary = r->sum_seen = 1;
        if (sp == SP_SUM_CR_SUM) {
            free(r->sum_cr);
            r->sum_cr = v;
            r->sum_cr_line = r->line;
        } else {
            free(r->sum_db);
            r->sum_db = v;
            r->sum_db_line = r->line;
        }
        return 0;
    default: break;
    }
    free(v);
    return 0;
}

/* Balance type goes into a fixed buffer. */
static int is_bal_type(const char *rel)
{
    return !strcmp(rel, "Tp/CdOrPrtry/Cd") ||
           !strcmp(rel, "Tp/CdOrPrtry/Prtry") || !strcmp(rel, "Tp/Cd") ||
           !strcmp(rel, "Tp/Prtry");
}

/*
 * A start tag inside a context.  Returns 1 when the element was a leaf and
 * has been read to its end tag, 0 when it stays open, negative on error.
 */
static int on_leaf(struct rd *r, int empty)
{
    int base;
    enum ctx ctx = cur_ctx(r, &base);
    if (ctx == CTX_NONE)
        return 0;
    if (base >= r->depth)
        return 0;
    const char *rel = r->path + r->off[base + 1];
    enum slot_kind kind = SLOT_FIRST;
    enum special sp = SP_NONE;
    char **slot = NULL;
    int baltype = 0;
    switch (ctx) {
    case CTX_HDR: slot = hdr_slot(r, rel); break;
    case CTX_STMT: slot = stmt_slot(r, rel, &kind, &sp); break;
    case CTX_BAL:
        baltype = is_bal_type(rel);
        slot = bal_slot(r, rel, &sp);
        break;
    case CTX_NTRY: slot = ntry_slot(r, rel, &sp); break;
    case CTX_DTL: slot = dtl_slot(r, rel, &kind, &sp); break;
    default: break;
    }
    if (!slot && sp == SP_NONE && !baltype)
        return 0;

    char *ccy = NULL;
    if (sp == SP_BAL_AMT || sp == SP_NTRY_AMT || sp == SP_DTL_AMT1 ||
        sp == SP_DTL_AMT2 || sp == SP_DTL_AMT3)
        ccy = (char *)xmlTextReaderGetAttribute(r->x.r, BAD_CAST "Ccy");
    char *v;
    if (empty) {
        v = strdup("");
    } else {
        v = fmt_xml_text(&r->x, r->err);
        if (!v) {
            xmlFree(ccy);
            return r->err && r->err->code ? r->err->code : H2H_EPARSE;
        }
    }
    if (!v) {
        xmlFree(ccy);
        return enomem(r);
    }
    trim(v);
    int rc = 0;
    if (baltype) {
        if (strlen(v) >= sizeof(r->bal.b.type))
            problem(r, r->line, rel, "camt.bal.type",
                    "balance type \"%.40s\" is longer than %zu characters", v,
                    sizeof(r->bal.b.type) - 1);
        else if (!r->bal.has_type && *v) {
            memcpy(r->bal.b.type, v, strlen(v) + 1);
            r->bal.has_type = 1;
        }
        free(v);
    } else if (slot) {
        if (*v == '\0') {
            /* <Cd></Cd>: absent, not an empty value */
            free(v);
        } else if ((rc = store(slot, v, kind)) < 0) {
            rc = enomem(r);
        }
        if (ctx == CTX_NTRY && slot == &r->e.sts)
            r->e_sts_seen = 1;
    } else {
        rc = special_leaf(r, sp, rel, v, ccy);
    }
    xmlFree(ccy);
    return rc < 0 ? rc : 1;
}

/* ---- structure -------------------------------------------------------------
 */

static int push(struct rd *r, const char *name)
{
    size_t cur =
        r->depth ? r->off[r->depth] + strlen(r->path + r->off[r->depth]) : 0;
    size_t n = strlen(name);
    if (r->depth >= MAX_DEPTH || cur + n + 2 >= sizeof(r->path))
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: elements nested too deep", r->line);
    if (r->depth)
        r->path[cur++] = '/';
    r->depth++;
    r->off[r->depth] = cur;
    memcpy(r->path + cur, name, n + 1);
    return 0;
}

static void pop(struct rd *r)
{
    if (r->depth <= 0)
        return;
    size_t at = r->off[r->depth];
    r->path[at > 0 ? at - 1 : 0] = '\0';
    r->depth--;
}

static int on_start(struct rd *r, const char *name, int empty)
{
    int rc;
    if (r->skip_depth)
        return 0;
    if (!r->root[0])
        snprintf(r->root, sizeof(r->root), "%s", name);
    if (!r->doc_depth) {
        if (!strcmp(name, "Document")) {
            const char *ns =
                (const char *)xmlTextReaderConstNamespaceUri(r->x.r);
            if ((rc = detect_version(r, ns)) < 0)
                return rc;
            r->doc_depth = r->depth;
        } else if (!strcmp(name, "AppHdr")) {
            /* business application header (head.001): not ours */
            r->skip_depth = r->depth;
        }
        return 0;
    }
    if (!r->msg_depth) {
        if (r->depth == r->doc_depth + 1) {
            if (!msg_elem_ok(r, name))
                return h2h_err_set(
                    r->err, H2H_EUNSUPPORTED,
                    "line %d: <Document> holds <%.60s>, not the %s message "
                    "its namespace announces",
                    r->line, name,
                    r->msg == 52   ? "BkToCstmrAcctRpt"
                    : r->msg == 54 ? "BkToCstmrDbtCdtNtfctn"
                                   : "BkToCstmrStmt");
            r->msg_depth = r->depth;
        }
        return 0;
    }
    if (r->depth == r->msg_depth + 1) {
        if (!strcmp(name, "GrpHdr")) {
            r->hdr_seen = 1;
            r->hdr_depth = r->depth;
        } else if (!strcmp(name, stmt_elem(r))) {
            if ((rc = send_begin(r)) < 0)
                return rc;
            stmt_start(r);
        } else {
            r->skip_depth = r->depth; /* SplmtryData and the like */
        }
        return 0;
    }
    if (r->stmt_depth && !r->bal_depth && !r->ntry_depth &&
        r->depth == r->stmt_depth + 1) {
        if (!strcmp(name, "Bal")) {
            bal_start(r);
            return 0;
        }
        if (!strcmp(name, "Ntry")) {
            if ((rc = send_stmt_begin(r)) < 0)
                return rc;
            ntry_start(r);
            return 0;
        }
    }
    if (r->ntry_depth && !r->dtl_depth && r->depth == r->ntry_depth + 2 &&
        !strcmp(name, "TxDtls") &&
        !strcmp(r->path + r->off[r->ntry_depth + 1], "NtryDtls/TxDtls")) {
        dtl_start(r);
        return 0;
    }
    return on_leaf(r, empty);
}

/* Text directly inside an element that is not a leaf we read: only the .02
 * <Sts>BOOK</Sts> matters (in .08 Sts has children, so it is not a leaf). */
static int on_text(struct rd *r)
{
    if (r->skip_depth || !r->ntry_depth || r->dtl_depth ||
        r->depth != r->ntry_depth + 1 ||
        strcmp(r->path + r->off[r->depth], "Sts"))
        return 0;
    const char *t = (const char *)xmlTextReaderConstValue(r->x.r);
    if (!t)
        return 0;
    char *v = strdup(t);
    if (!v)
        return enomem(r);
    trim(v);
    if (*v && !r->e.sts) {
        r->e.sts = v;
        r->e_sts_seen = 1;
    } else {
        free(v);
    }
    return 0;
}

static int on_end(struct rd *r)
{
    int rc = 0;
    if (r->skip_depth) {
        if (r->depth == r->skip_depth)
            r->skip_depth = 0;
        return 0;
    }
    if (r->depth == r->dtl_depth)
        rc = dtl_end(r);
    else if (r->depth == r->ntry_depth)
        rc = ntry_end(r);
    else if (r->depth == r->bal_depth)
        rc = bal_end(r);
    else if (r->depth == r->stmt_depth)
        rc = stmt_end(r);
    else if (r->depth == r->hdr_depth)
        r->hdr_depth = 0;
    else if (r->depth == r->msg_depth) {
        if (!r->doc_sent) {
            problem(r, r->line, NULL, "camt.stmt.missing",
                    "the message has no %s (%s)",
                    r->msg == 52   ? "report"
                    : r->msg == 54 ? "notification"
                                   : "statement",
                    stmt_elem(r));
            rc = send_begin(r);
        }
        if (rc >= 0 && r->sink && r->sink->end)
            rc = sink_rc(r, r->sink->end(r->sink->ctx, &r->doc), "end");
        r->msg_depth = -1; /* done; a second message is ignored */
    }
    return rc;
}

int fmt_camt_read(const struct fmt_src *src, const struct fmt_stmt_sink *sink,
                  struct fmt_diag *diag, struct h2h_err *err)
{
    struct rd *r = calloc(1, sizeof(*r));
    int rc;
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->sink = sink;
    r->diag = diag;
    r->err = err;
    r->dt.cd = -1;
    r->bal.cd = -1;

    fmt_xml_init();
    if ((rc = fmt_xml_open(&r->x, src, err)) < 0) {
        free(r);
        return rc;
    }
    while ((rc = fmt_xml_read(&r->x, err)) == 1) {
        int type = xmlTextReaderNodeType(r->x.r);
        r->line = fmt_xml_line(&r->x);
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *name =
                (const char *)xmlTextReaderConstLocalName(r->x.r);
            int empty = xmlTextReaderIsEmptyElement(r->x.r);
            if ((rc = push(r, name ? name : "")) < 0)
                goto out;
            rc = on_start(r, name ? name : "", empty);
            if (rc < 0)
                goto out;
            if (rc == 1 || empty) {
                /* a leaf read to its end tag, or <X/>: no end event comes */
                if (rc != 1 && (rc = on_end(r)) < 0)
                    goto out;
                pop(r);
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            /* an end tag we have already closed after reading a leaf */
            if (xmlTextReaderDepth(r->x.r) + 1 != r->depth)
                continue;
            if ((rc = on_end(r)) < 0)
                goto out;
            pop(r);
        } else if (type == XML_READER_TYPE_TEXT ||
                   type == XML_READER_TYPE_CDATA) {
            if ((rc = on_text(r)) < 0)
                goto out;
        }
    }
    if (rc < 0)
        goto out;
    if (!r->doc_depth) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "%s: no camt <Document> found (root element <%s>)",
                         r->x.name ? r->x.name : "input",
                         r->root[0] ? r->root : "none");
        goto out;
    }
    if (!r->msg_depth) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "%s: <Document> is empty: no camt.%03d message "
                         "(BkToCstmr...) in it",
                         r->x.name ? r->x.name : "input", r->msg);
        goto out;
    }
    rc = 0;
out:
    fmt_xml_close(&r->x);
    fmt_entry_release(&r->e);
    dtl_clear(&r->dt);
    free(r->bal.amt);
    free(r->bal.b.sub_type);
    free(r->bal.b.date);
    fmt_stmt_release(&r->st);
    fmt_stmt_doc_release(&r->doc);
    free(r->sum_cr);
    free(r->sum_db);
    free(r);
    return rc < 0 ? rc : 0;
}
