/*
 * pain001_read.c - streaming pain.001 reader; see pain001.h.
 *
 * The reader walks the document node by node and keeps the path of open
 * elements.  Three contexts matter: GrpHdr, PmtInf and CdtTrfTxInf; a leaf
 * element is mapped to a model field by its path relative to the innermost
 * context, so the same party / account / agent mapping serves Dbtr, Cdtr,
 * InitgPty and the rest, and an element the model does not know simply
 * never matches.  begin() is sent when GrpHdr closes, group_begin() at the
 * first CdtTrfTxInf (the schema puts every PmtInf field before it), tx()
 * when a CdtTrfTxInf closes; the transaction is released right after.
 */
#include "pain001.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"
#include "xmlsafe.h"

#define PATH_MAX_LEN 1024
#define NAME_MAX_LEN 64
#define MAX_DEPTH 64

enum ctx { CTX_NONE, CTX_HDR, CTX_GRP, CTX_TX };

enum slot_kind { SLOT_FIRST, SLOT_APPEND };

struct rd {
    struct fmt_xml x;
    const struct fmt_pay_sink *sink;
    struct fmt_diag *diag;
    struct h2h_err *err;
    int version; /* 2, 3, 9, 10, 11 */
    const char *format;

    struct fmt_pay_header hdr;
    struct fmt_pay_group grp;
    struct fmt_pay_tx tx;
    int hdr_seen, hdr_sent, in_grp, grp_sent, in_tx, tx_has_amt;

    char path[PATH_MAX_LEN];
    size_t off[MAX_DEPTH + 2]; /* off[d]: start of the name at depth d */
    int depth;                 /* open elements; Document is depth 1 */
    int hdr_depth, grp_depth, tx_depth;

    long n_grp;    /* PmtInf seen so far (1-based index) */
    long n_tx_grp; /* CdtTrfTxInf seen in the current group */
    int64_t cnt_grp, cnt_all;
    int64_t sum_grp, sum_all; /* in 1/1000 units */
    int sum_ok_grp, sum_ok_all;
    int line;
};

/* ---- small helpers ------------------------------------------------------ */

static const char *where(struct rd *r, const char *rel, char *buf, size_t sz)
{
    if (r->in_tx)
        snprintf(buf, sz, "PmtInf[%ld]/CdtTrfTxInf[%ld]%s%s", r->n_grp,
                 r->n_tx_grp, rel ? "/" : "", rel ? rel : "");
    else if (r->in_grp)
        snprintf(buf, sz, "PmtInf[%ld]%s%s", r->n_grp, rel ? "/" : "",
                 rel ? rel : "");
    else
        snprintf(buf, sz, "GrpHdr%s%s", rel ? "/" : "", rel ? rel : "");
    return buf;
}

static void problem(struct rd *r, int line, const char *rel, const char *rule,
                    const char *msg)
{
    char w[PATH_MAX_LEN + 64];
    if (r->diag)
        fmt_diag_add(r->diag, line, where(r, rel, w, sizeof(w)), rule, "%s",
                     msg);
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

static int store(char **slot, char *v, enum slot_kind kind)
{
    if (!*slot) {
        *slot = v;
        return 0;
    }
    if (kind == SLOT_FIRST) {
        /* Repeated elements the model holds once (Othr, Strd, Dtls): the
         * first one wins. */
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

/* ---- field maps --------------------------------------------------------- */

static char **postal_slot(struct fmt_postal *p, const char *rel, int *adrline)
{
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
        *adrline = 1;
        for (size_t i = 0; i < sizeof(p->lines) / sizeof(p->lines[0]); i++)
            if (!p->lines[i])
                return &p->lines[i];
        return NULL;
    }
    return NULL;
}

static int starts(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n))
        return 0;
    *rest = s + n;
    return 1;
}

static char **party_slot(struct fmt_party *p, const char *rel, int *adrline)
{
    const char *t;
    if (!strcmp(rel, "Nm"))
        return &p->name;
    if (starts(rel, "PstlAdr/", &t))
        return postal_slot(&p->addr, t, adrline);
    if (!strcmp(rel, "Id/OrgId/BICOrBEI") || !strcmp(rel, "Id/OrgId/AnyBIC") ||
        !strcmp(rel, "Id/OrgId/BIC"))
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
        !strcmp(rel, "Id/PrtryAcct/Id"))
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

static char **agent_slot(struct fmt_agent *a, const char *rel, int *adrline)
{
    const char *t;
    if (!starts(rel, "FinInstnId/", &t))
        return NULL;
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
        return postal_slot(&a->addr, t, adrline);
    if (!strcmp(t, "Othr/Id"))
        return &a->other_id;
    return NULL;
}

static char **hdr_slot(struct rd *r, const char *rel, int *adrline)
{
    const char *t;
    if (!strcmp(rel, "MsgId"))
        return &r->hdr.msg_id;
    if (!strcmp(rel, "CreDtTm"))
        return &r->hdr.cre_dt_tm;
    if (starts(rel, "InitgPty/", &t))
        return party_slot(&r->hdr.initg_pty, t, adrline);
    return NULL;
}

static char **grp_slot(struct rd *r, const char *rel, int *adrline)
{
    struct fmt_pay_group *g = &r->grp;
    const char *t;
    if (!strcmp(rel, "PmtInfId"))
        return &g->pmt_inf_id;
    if (!strcmp(rel, "PmtMtd"))
        return &g->pmt_mtd;
    if (!strcmp(rel, "PmtTpInf/InstrPrty"))
        return &g->instr_prty;
    if (!strcmp(rel, "PmtTpInf/SvcLvl/Cd") ||
        !strcmp(rel, "PmtTpInf/SvcLvl/Prtry"))
        return &g->svc_lvl;
    if (!strcmp(rel, "PmtTpInf/LclInstrm/Cd") ||
        !strcmp(rel, "PmtTpInf/LclInstrm/Prtry"))
        return &g->lcl_instrm;
    if (!strcmp(rel, "PmtTpInf/CtgyPurp/Cd") ||
        !strcmp(rel, "PmtTpInf/CtgyPurp/Prtry"))
        return &g->ctgy_purp;
    if (!strcmp(rel, "ChrgBr"))
        return &g->chrg_br;
    if (starts(rel, "Dbtr/", &t))
        return party_slot(&g->dbtr, t, adrline);
    if (starts(rel, "DbtrAcct/", &t))
        return account_slot(&g->dbtr_acct, t);
    if (starts(rel, "DbtrAgt/", &t))
        return agent_slot(&g->dbtr_agt, t, adrline);
    if (starts(rel, "UltmtDbtr/", &t))
        return party_slot(&g->ult_dbtr, t, adrline);
    return NULL;
}

static char **tx_slot(struct rd *r, const char *rel, int *adrline,
                      enum slot_kind *kind)
{
    struct fmt_pay_tx *x = &r->tx;
    const char *t;
    if (!strcmp(rel, "PmtId/InstrId"))
        return &x->instr_id;
    if (!strcmp(rel, "PmtId/EndToEndId"))
        return &x->end_to_end_id;
    if (!strcmp(rel, "PmtId/UETR"))
        return &x->uetr;
    if (!strcmp(rel, "ChrgBr"))
        return &x->chrg_br;
    if (starts(rel, "CdtrAgt/", &t))
        return agent_slot(&x->cdtr_agt, t, adrline);
    if (starts(rel, "Cdtr/", &t))
        return party_slot(&x->cdtr, t, adrline);
    if (starts(rel, "CdtrAcct/", &t))
        return account_slot(&x->cdtr_acct, t);
    if (starts(rel, "UltmtCdtr/", &t))
        return party_slot(&x->ult_cdtr, t, adrline);
    if (!strcmp(rel, "Purp/Cd") || !strcmp(rel, "Purp/Prtry"))
        return &x->purp;
    if (!strcmp(rel, "InstrForDbtrAgt"))
        return &x->instr_for_dbtr_agt;
    if (!strcmp(rel, "RmtInf/Ustrd")) {
        *kind = SLOT_APPEND;
        return &x->rmt_ustrd;
    }
    if (starts(rel, "RmtInf/Strd/", &t)) {
        struct fmt_strd_rmt *s = &x->rmt_strd;
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
        if (!strcmp(t, "RfrdDocInf/RltdDt"))
            return &s->doc_date;
        if (!strcmp(t, "AddtlRmtInf")) {
            *kind = SLOT_APPEND;
            return &s->addtl_info;
        }
        return NULL;
    }
    if (!strcmp(rel, "RgltryRptg/Dtls/Cd"))
        return &x->rgltry.code;
    if (!strcmp(rel, "RgltryRptg/Dtls/Inf")) {
        *kind = SLOT_APPEND;
        return &x->rgltry.info;
    }
    if (!strcmp(rel, "RgltryRptg/Authrty/Ctry"))
        return &x->rgltry.authority_ctry;
    return NULL;
}

/* ---- namespace -> version ----------------------------------------------- */

static const struct {
    const char *key;
    const char *format;
    int version;
} versions[] = {
    {"pain.001.001.03.ch.02", "pain.001.001.03.ch.02", 3},
    {"pain.001.001.02", "pain.001.001.02", 2},
    {"pain.001.002.02", "pain.001.002.02", 2},
    {"pain.001.001.03", "pain.001.001.03", 3},
    {"pain.001.002.03", "pain.001.002.03", 3},
    {"pain.001.003.03", "pain.001.003.03", 3},
    {"pain.001.001.09", "pain.001.001.09", 9},
    {"pain.001.001.10", "pain.001.001.10", 10},
    {"pain.001.001.11", "pain.001.001.11", 11},
};

static int detect_version(struct rd *r, const char *ns)
{
    if (!ns || !*ns)
        return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                           "line %d: <Document> has no namespace, cannot tell "
                           "the pain.001 version",
                           r->line);
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        const char *p = strstr(ns, versions[i].key);
        if (!p)
            continue;
        char c = p[strlen(versions[i].key)];
        if (c != '\0' && c != '.')
            continue;
        r->version = versions[i].version;
        r->format = versions[i].format;
        return 0;
    }
    return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                       "line %d: namespace \"%.200s\" is not a known pain.001 "
                       "version (.02, .03, .09, .10, .11)",
                       r->line, ns);
}

/* ---- sink calls -----------------------------------------------------------
 */

static int sink_rc(struct rd *r, int rc, const char *what)
{
    if (rc < 0)
        return h2h_err_set(r->err, rc, "line %d: payment sink aborted in %s",
                           r->line, what);
    return 0;
}

static void check_header(struct rd *r)
{
    if (!r->hdr_seen) {
        problem(r, r->line, NULL, "pain001.grphdr.missing",
                "the file has no group header (GrpHdr)");
        return;
    }
    if (!r->hdr.msg_id || !*r->hdr.msg_id)
        problem(r, r->line, "MsgId", "pain001.msgid.missing",
                "the message id (MsgId) is missing");
    if (!r->hdr.cre_dt_tm) {
        problem(r, r->line, "CreDtTm", "pain001.credttm.missing",
                "the creation time (CreDtTm) is missing");
    } else {
        struct h2h_err e = {0};
        if (fmt_datetime_check(r->hdr.cre_dt_tm, &e) < 0) {
            char msg[H2H_ERR_MSG_MAX + 32];
            snprintf(msg, sizeof(msg), "creation time: %.900s", e.msg);
            problem(r, r->line, "CreDtTm", "pain001.credttm.syntax", msg);
        }
    }
    if (r->hdr.nb_of_txs < 0)
        problem(r, r->line, "NbOfTxs", "pain001.nboftxs.missing",
                "the number of transactions (NbOfTxs) is missing");
}

static int send_header(struct rd *r)
{
    if (r->hdr_sent)
        return 0;
    r->hdr_sent = 1;
    r->hdr.source_format = r->format;
    check_header(r);
    if (r->sink && r->sink->begin)
        return sink_rc(r, r->sink->begin(r->sink->ctx, &r->hdr), "begin");
    return 0;
}

static int send_group(struct rd *r)
{
    if (r->grp_sent)
        return 0;
    r->grp_sent = 1;
    int line = r->grp.line;
    if (!r->grp.pmt_inf_id)
        problem(r, line, "PmtInfId", "pain001.pmtinfid.missing",
                "the payment information id (PmtInfId) is missing");
    if (!r->grp.reqd_exctn_dt)
        problem(r, line, "ReqdExctnDt", "pain001.reqdexctndt.missing",
                r->version >= 9
                    ? "the requested execution date (ReqdExctnDt/Dt or "
                      "ReqdExctnDt/DtTm) is missing"
                    : "the requested execution date (ReqdExctnDt) is "
                      "missing");
    if (!r->grp.dbtr_acct.iban && !r->grp.dbtr_acct.other_id)
        problem(r, line, "DbtrAcct", "pain001.dbtracct.missing",
                "the debtor account (DbtrAcct) is missing");
    if (r->sink && r->sink->group_begin)
        return sink_rc(r, r->sink->group_begin(r->sink->ctx, &r->grp),
                       "group_begin");
    return 0;
}

/* ---- special leaves -------------------------------------------------------
 */

static void leaf_count(struct rd *r, const char *rel, const char *v,
                       int64_t *dst)
{
    if (parse_count(v, dst) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "number of transactions \"%.40s\" is not a number of 1 to "
                 "15 digits",
                 v);
        problem(r, r->line, rel, "pain001.nboftxs.syntax", msg);
    }
}

static void leaf_ctrlsum(struct rd *r, const char *rel, const char *v, int *has,
                         int64_t *dst)
{
    struct h2h_err e = {0};
    if (fmt_milli_parse(v, strlen(v), dst, &e) < 0) {
        char msg[H2H_ERR_MSG_MAX + 64];
        snprintf(msg, sizeof(msg), "control sum \"%.40s\": %.900s", v, e.msg);
        problem(r, r->line, rel, "pain001.ctrlsum.syntax", msg);
        return;
    }
    *has = 1;
}

static void leaf_date(struct rd *r, const char *rel, char *v, int is_dttm)
{
    struct h2h_err e = {0};
    int bad;
    if (is_dttm) {
        bad = fmt_datetime_check(v, &e) < 0;
    } else {
        /* xs:date may carry a zone ("2017-06-30+02:00"): the civil date is
         * what the bank executes on. */
        size_t n = strlen(v);
        if (n > 10 && (v[10] == 'Z' || v[10] == '+' || v[10] == '-'))
            v[10] = '\0';
        bad = fmt_date_check(v, &e) < 0;
    }
    if (bad) {
        char msg[H2H_ERR_MSG_MAX + 64];
        snprintf(msg, sizeof(msg), "requested execution date \"%.40s\": %.900s",
                 v, e.msg);
        problem(r, r->line, rel, "pain001.reqdexctndt.syntax", msg);
        free(v);
        return;
    }
    if (is_dttm)
        v[10] = '\0';
    store(&r->grp.reqd_exctn_dt, v, SLOT_FIRST);
}

static void leaf_amount(struct rd *r, const char *rel, const char *v,
                        const char *ccy)
{
    struct h2h_err e = {0};
    char msg[H2H_ERR_MSG_MAX + 96];
    r->tx_has_amt = 1;
    if (!ccy || strlen(ccy) != 3) {
        snprintf(msg, sizeof(msg), "amount %.40s has no valid currency (Ccy)",
                 v);
        problem(r, r->line, rel, "pain001.amount.ccy", msg);
        return;
    }
    memcpy(r->tx.amt.ccy, ccy, 4);
    if (fmt_amount_parse(v, strlen(v), ccy, 0, &r->tx.amt.minor, &e) < 0) {
        snprintf(msg, sizeof(msg), "amount %.40s %s: %.900s", v, ccy, e.msg);
        problem(r, r->line, rel, "pain001.amount.invalid", msg);
        r->tx.amt.minor = 0;
        r->sum_ok_grp = r->sum_ok_all = 0;
    }
}

/* Map one element that has just started.  1 when it was a leaf (its text
 * has been read, the reader sits on its end), 0 when it is a container or
 * unknown, negative on a fatal error. */
static int on_leaf(struct rd *r, int empty)
{
    int ctx_depth;
    enum ctx ctx;
    if (r->in_tx) {
        ctx = CTX_TX;
        ctx_depth = r->tx_depth;
    } else if (r->in_grp) {
        ctx = CTX_GRP;
        ctx_depth = r->grp_depth;
    } else if (r->hdr_depth) {
        ctx = CTX_HDR;
        ctx_depth = r->hdr_depth;
    } else {
        return 0;
    }
    if (r->depth <= ctx_depth)
        return 0;
    const char *rel = r->path + r->off[ctx_depth + 1];
    int adrline = 0, special = 0;
    enum slot_kind kind = SLOT_FIRST;
    char **slot = NULL;

    switch (ctx) {
    case CTX_HDR:
        if (!strcmp(rel, "NbOfTxs") || !strcmp(rel, "CtrlSum"))
            special = 1;
        else
            slot = hdr_slot(r, rel, &adrline);
        break;
    case CTX_GRP:
        if (!strcmp(rel, "NbOfTxs") || !strcmp(rel, "CtrlSum") ||
            !strcmp(rel, "BtchBookg") ||
            (r->version < 9 && !strcmp(rel, "ReqdExctnDt")) ||
            (r->version >= 9 && (!strcmp(rel, "ReqdExctnDt/Dt") ||
                                 !strcmp(rel, "ReqdExctnDt/DtTm"))))
            special = 1;
        else
            slot = grp_slot(r, rel, &adrline);
        break;
    case CTX_TX:
        if (!strcmp(rel, "Amt/InstdAmt") || !strcmp(rel, "Amt/EqvtAmt"))
            special = 1;
        else
            slot = tx_slot(r, rel, &adrline, &kind);
        break;
    default: return 0;
    }
    if (!slot && !special) {
        if (adrline)
            problem(r, r->line, rel, "pain001.adrline.toomany",
                    "more than 7 address lines (AdrLine)");
        return 0;
    }

    char *ccy = NULL;
    if (special && !strcmp(rel, "Amt/InstdAmt"))
        ccy = (char *)xmlTextReaderGetAttribute(r->x.r, BAD_CAST "Ccy");
    if (special && !strcmp(rel, "Amt/EqvtAmt")) {
        problem(r, r->line, rel, "pain001.eqvtamt.unsupported",
                "equivalent amounts (EqvtAmt) are not supported; give the "
                "instructed amount (InstdAmt)");
        r->tx_has_amt = 1;
        r->sum_ok_grp = r->sum_ok_all = 0;
        return 0; /* walked like any unknown subtree: nothing in it maps */
    }
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
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    }
    trim(v);

    if (slot) {
        int rc = store(slot, v, kind);
        if (rc < 0)
            return h2h_err_set(r->err, rc, "out of memory");
        return 1;
    }
    /* special leaves */
    if (!strcmp(rel, "Amt/InstdAmt")) {
        leaf_amount(r, rel, v, ccy);
    } else if (!strcmp(rel, "NbOfTxs")) {
        leaf_count(r, rel, v,
                   ctx == CTX_HDR ? &r->hdr.nb_of_txs : &r->grp.nb_of_txs);
    } else if (!strcmp(rel, "CtrlSum")) {
        if (ctx == CTX_HDR)
            leaf_ctrlsum(r, rel, v, &r->hdr.has_ctrl_sum,
                         &r->hdr.ctrl_sum_milli);
        else
            leaf_ctrlsum(r, rel, v, &r->grp.has_ctrl_sum,
                         &r->grp.ctrl_sum_milli);
    } else if (!strcmp(rel, "BtchBookg")) {
        if (!strcmp(v, "true") || !strcmp(v, "1"))
            r->grp.batch_booking = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0"))
            r->grp.batch_booking = 0;
        else
            problem(r, r->line, rel, "pain001.btchbookg.syntax",
                    "batch booking (BtchBookg) must be true or false");
    } else {
        leaf_date(r, rel, v, !strcmp(rel, "ReqdExctnDt/DtTm"));
        v = NULL; /* leaf_date took it */
    }
    free(v);
    xmlFree(ccy);
    return 1;
}

/* ---- element start / end --------------------------------------------------
 */

static int push(struct rd *r, const char *name)
{
    if (r->depth >= MAX_DEPTH)
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: elements nested deeper than %d", r->line,
                           MAX_DEPTH);
    size_t n = strlen(name);
    if (n > NAME_MAX_LEN)
        n = NAME_MAX_LEN; /* never matches anything we know */
    size_t at =
        r->depth ? r->off[r->depth] + strlen(r->path + r->off[r->depth]) : 0;
    size_t start = r->depth ? at + 1 : 0;
    if (start + n + 1 > PATH_MAX_LEN)
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: element path too long", r->line);
    if (r->depth)
        r->path[at] = '/';
    memcpy(r->path + start, name, n);
    r->path[start + n] = '\0';
    r->depth++;
    r->off[r->depth] = start;
    return 0;
}

static void pop(struct rd *r)
{
    if (r->depth <= 0)
        return;
    size_t start = r->off[r->depth];
    r->path[start ? start - 1 : 0] = '\0';
    r->depth--;
}

static int tx_end(struct rd *r)
{
    int line = r->tx.line;
    if (!r->tx_has_amt)
        problem(r, line, "Amt", "pain001.amount.missing",
                "the transaction has no amount (Amt/InstdAmt)");
    if (!r->tx.end_to_end_id)
        problem(r, line, "PmtId/EndToEndId", "pain001.endtoendid.missing",
                "the end-to-end id (PmtId/EndToEndId) is missing");
    if (r->tx.uetr) {
        struct h2h_err e = {0};
        if (fmt_uuid_check(r->tx.uetr, &e) < 0) {
            char msg[H2H_ERR_MSG_MAX + 32];
            snprintf(msg, sizeof(msg), "UETR: %.900s", e.msg);
            problem(r, line, "PmtId/UETR", "pain001.uetr.syntax", msg);
        }
    }
    int64_t milli = r->tx.amt.ccy[0]
                        ? fmt_minor_to_milli(r->tx.amt.minor, r->tx.amt.ccy)
                        : 0;
    r->sum_grp += milli;
    r->sum_all += milli;
    r->cnt_grp++;
    r->cnt_all++;
    int rc = 0;
    if (r->sink && r->sink->tx)
        rc = sink_rc(r, r->sink->tx(r->sink->ctx, &r->grp, &r->tx), "tx");
    fmt_pay_tx_release(&r->tx);
    r->in_tx = 0;
    r->tx_depth = 0;
    return rc;
}

static void check_totals(struct rd *r, int line, int is_group, int64_t declared,
                         int64_t counted, int has_sum, int64_t declared_sum,
                         int64_t sum, int sum_ok, const char *rule_n,
                         const char *rule_s)
{
    char msg[256];
    if (declared >= 0 && declared != counted) {
        snprintf(msg, sizeof(msg),
                 "declared number of transactions %lld but the %s has %lld",
                 (long long)declared, is_group ? "payment information" : "file",
                 (long long)counted);
        problem(r, line, "NbOfTxs", rule_n, msg);
    }
    if (has_sum && sum_ok && declared_sum != sum) {
        char a[48], b[48];
        fmt_milli_format(declared_sum, a, sizeof(a));
        fmt_milli_format(sum, b, sizeof(b));
        snprintf(msg, sizeof(msg),
                 "declared control sum %s but the amounts add up to %s", a, b);
        problem(r, line, "CtrlSum", rule_s, msg);
    }
}

static int grp_end(struct rd *r)
{
    int rc = send_group(r);
    if (rc < 0)
        return rc;
    if (r->cnt_grp == 0)
        problem(r, r->grp.line, NULL, "pain001.pmtinf.empty",
                "payment information without transactions (CdtTrfTxInf)");
    check_totals(r, r->grp.line, 1, r->grp.nb_of_txs, r->cnt_grp,
                 r->grp.has_ctrl_sum, r->grp.ctrl_sum_milli, r->sum_grp,
                 r->sum_ok_grp, "pain001.pmtinf.nboftxs",
                 "pain001.pmtinf.ctrlsum");
    if (r->sink && r->sink->group_end)
        rc = sink_rc(r, r->sink->group_end(r->sink->ctx, &r->grp), "group_end");
    fmt_pay_group_release(&r->grp);
    fmt_pay_group_init(&r->grp);
    r->in_grp = 0;
    r->grp_sent = 0;
    r->grp_depth = 0;
    return rc;
}

static int on_start(struct rd *r, const char *name, int empty)
{
    int rc;
    if (r->depth == 1) {
        if (strcmp(name, "Document"))
            return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                               "line %d: root element <%.64s> is not a "
                               "pain.001 <Document>",
                               r->line, name);
        const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->x.r);
        return detect_version(r, ns);
    }
    if (r->depth == 2) {
        /* .02 (and the German urn:sepade stubs) name the message element
         * after the message, e.g. <pain.001.001.02> */
        if (strcmp(name, "CstmrCdtTrfInitn") && strncmp(name, "pain.001.", 9))
            return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                               "line %d: <%.64s> is not a pain.001 credit "
                               "transfer initiation (CstmrCdtTrfInitn)",
                               r->line, name);
        return 0;
    }
    if (r->depth == 3 && !strcmp(name, "GrpHdr")) {
        r->hdr_depth = 3;
        r->hdr_seen = 1;
        return 0;
    }
    if (r->depth == 3 && !strcmp(name, "PmtInf")) {
        if ((rc = send_header(r)) < 0)
            return rc;
        r->in_grp = 1;
        r->grp_depth = 3;
        r->n_grp++;
        r->n_tx_grp = 0;
        r->cnt_grp = 0;
        r->sum_grp = 0;
        r->sum_ok_grp = 1;
        fmt_pay_group_init(&r->grp);
        r->grp.line = r->line;
        return 0;
    }
    if (r->depth == 4 && r->in_grp && !strcmp(name, "CdtTrfTxInf")) {
        if ((rc = send_group(r)) < 0)
            return rc;
        r->in_tx = 1;
        r->tx_depth = 4;
        r->n_tx_grp++;
        r->tx_has_amt = 0;
        memset(&r->tx, 0, sizeof(r->tx));
        r->tx.line = r->line;
        return 0;
    }
    return on_leaf(r, empty);
}

/* Called when the element at r->depth closes (end tag or empty element). */
static int on_end(struct rd *r)
{
    if (r->in_tx && r->depth == r->tx_depth)
        return tx_end(r);
    if (r->in_grp && r->depth == r->grp_depth)
        return grp_end(r);
    if (r->hdr_depth && r->depth == r->hdr_depth) {
        r->hdr_depth = 0;
        return send_header(r);
    }
    return 0;
}

int fmt_pain001_read(const struct fmt_src *src, const struct fmt_pay_sink *sink,
                     struct fmt_diag *diag, struct h2h_err *err)
{
    struct rd *r = calloc(1, sizeof(*r));
    int rc;
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->sink = sink;
    r->diag = diag;
    r->err = err;
    r->sum_ok_all = 1;
    fmt_pay_header_init(&r->hdr);
    fmt_pay_group_init(&r->grp);

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
            /* libxml2 depth is 0 for Document; ignore an end tag we have
             * already closed ourselves after reading a leaf's text */
            if (xmlTextReaderDepth(r->x.r) + 1 != r->depth)
                continue;
            if ((rc = on_end(r)) < 0)
                goto out;
            pop(r);
        }
    }
    if (rc < 0)
        goto out;
    if (!r->version) {
        rc = h2h_err_set(err, H2H_EPARSE, "%s: empty document",
                         r->x.name ? r->x.name : "input");
        goto out;
    }
    if ((rc = send_header(r)) < 0)
        goto out;
    check_totals(r, 0, 0, r->hdr.nb_of_txs, r->cnt_all, r->hdr.has_ctrl_sum,
                 r->hdr.ctrl_sum_milli, r->sum_all, r->sum_ok_all,
                 "pain001.grphdr.nboftxs", "pain001.grphdr.ctrlsum");
    if (sink && sink->end)
        rc = sink_rc(r, sink->end(sink->ctx, &r->hdr), "end");
    else
        rc = 0;
out:
    fmt_xml_close(&r->x);
    fmt_pay_tx_release(&r->tx);
    fmt_pay_group_release(&r->grp);
    fmt_pay_header_release(&r->hdr);
    free(r);
    return rc < 0 ? rc : 0;
}
