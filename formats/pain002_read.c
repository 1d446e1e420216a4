/*
 * pain002_read.c - pain.002 status report reader; see pain002.h.
 *
 * Same walking scheme as the pain.001 reader: the path of open elements is
 * kept and a leaf is mapped by its path relative to the innermost context
 * (GrpHdr, OrgnlGrpInfAndSts, OrgnlPmtInfAndSts, TxInfAndSts, StsRsnInf).
 * Arrays grow by doubling and are addressed by index, never by a pointer
 * kept across a realloc.
 */
#include "pain002.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "xmlsafe.h"

#define PATH_MAX_LEN 1024
#define NAME_MAX_LEN 64
#define MAX_DEPTH 64

enum ctx { C_NONE, C_HDR, C_GRP, C_PMT, C_TX };

struct rd {
    struct fmt_xml x;
    struct fmt_status_report *r;
    struct fmt_diag *diag;
    struct h2h_err *err;
    int version; /* 0 when no namespace */
    int line;

    char path[PATH_MAX_LEN];
    size_t off[MAX_DEPTH + 2];
    int depth;

    enum ctx ctx;
    int ctx_depth[5];         /* depth of each open context, 0 if closed */
    int rsn_depth;            /* open StsRsnInf */
    size_t cap_pmts, cap_txs; /* of the current payment */
    size_t n_txs_total;
    size_t rsn_cap;
    struct fmt_reason **rsn_v; /* the array the open StsRsnInf belongs to */
    size_t *rsn_n;
};

static const char *where(struct rd *r, const char *rel, char *buf, size_t sz)
{
    size_t n = 0;
    buf[0] = '\0';
    if (r->ctx_depth[C_PMT] && r->r->n_pmts)
        n += snprintf(buf, sz, "OrgnlPmtInfAndSts[%zu]", r->r->n_pmts);
    else if (r->ctx_depth[C_GRP])
        n += snprintf(buf, sz, "OrgnlGrpInfAndSts");
    else if (r->ctx_depth[C_HDR])
        n += snprintf(buf, sz, "GrpHdr");
    if (r->ctx_depth[C_TX] && r->r->n_pmts && n < sz)
        n += snprintf(buf + n, sz - n, "%sTxInfAndSts[%zu]", n ? "/" : "",
                      r->r->pmts[r->r->n_pmts - 1].n_txs);
    if (rel && n < sz)
        snprintf(buf + n, sz - n, "%s%s", n ? "/" : "", rel);
    return buf;
}

static void problem(struct rd *r, const char *rel, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(struct rd *r, const char *rel, const char *rule,
                    const char *fmt, ...)
{
    char w[PATH_MAX_LEN + 64], msg[H2H_ERR_MSG_MAX + 128];
    va_list ap;
    if (!r->diag)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_diag_add(r->diag, r->line, where(r, rel, w, sizeof(w)), rule, "%s",
                 msg);
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    while (s[i] && strchr(" \t\r\n", s[i]))
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
}

static int store(char **slot, char *v, int append)
{
    if (!*slot) {
        *slot = v;
        return 0;
    }
    if (!append) {
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

/* Grow *v (n used, *cap allocated, elements of size sz) by one zeroed
 * element. */
static int grow(void **v, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap) {
        memset((char *)*v + n * sz, 0, sz);
        return 0;
    }
    size_t nc = *cap ? *cap * 2 : 4;
    void *p = realloc(*v, nc * sz);
    if (!p)
        return H2H_ENOMEM;
    *v = p;
    *cap = nc;
    memset((char *)*v + n * sz, 0, sz);
    return 0;
}

/* ---- element path ---------------------------------------------------------
 */

static int push(struct rd *r, const char *name)
{
    if (r->depth >= MAX_DEPTH)
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: elements nested deeper than %d", r->line,
                           MAX_DEPTH);
    size_t n = strlen(name);
    if (n > NAME_MAX_LEN)
        n = NAME_MAX_LEN;
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

/* ---- namespace --------------------------------------------------------------
 */

static const struct {
    const char *key, *format;
    int version;
} versions[] = {
    {"pain.002.001.03.ch.02", "pain.002.001.03.ch.02", 3},
    {"pain.002.001.02", "pain.002.001.02", 2},
    {"pain.002.002.02", "pain.002.002.02", 2},
    {"pain.002.001.03", "pain.002.001.03", 3},
    {"pain.002.002.03", "pain.002.002.03", 3},
    {"pain.002.003.03", "pain.002.003.03", 3},
    {"pain.002.001.10", "pain.002.001.10", 10},
    {"pain.002.001.11", "pain.002.001.11", 11},
    {"pain.002.001.13", "pain.002.001.13", 13},
};

static int detect(struct rd *r, const char *ns)
{
    if (!ns || !*ns) {
        r->version = 0;
        r->r->source_format = "pain.002";
        return 0;
    }
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        const char *p = strstr(ns, versions[i].key);
        if (!p)
            continue;
        char c = p[strlen(versions[i].key)];
        if (c != '\0' && c != '.')
            continue;
        r->version = versions[i].version;
        r->r->source_format = versions[i].format;
        return 0;
    }
    return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                       "line %d: namespace \"%.200s\" is not a known pain.002 "
                       "version (.02, .03, .10, .11, .13)",
                       r->line, ns);
}

/* ---- structure
 * ---------------------------------------------------------------- */

static struct fmt_pmt_status *cur_pmt(struct rd *r)
{
    return r->r->n_pmts ? &r->r->pmts[r->r->n_pmts - 1] : NULL;
}

static struct fmt_tx_status *cur_tx(struct rd *r)
{
    struct fmt_pmt_status *p = cur_pmt(r);
    return p && p->n_txs ? &p->txs[p->n_txs - 1] : NULL;
}

static int new_pmt(struct rd *r)
{
    int rc = grow((void **)&r->r->pmts, r->r->n_pmts, &r->cap_pmts,
                  sizeof(*r->r->pmts));
    if (rc < 0)
        return h2h_err_set(r->err, rc, "out of memory");
    r->r->n_pmts++;
    r->cap_txs = 0;
    return 0;
}

static int new_tx(struct rd *r)
{
    if (++r->n_txs_total > FMT_PAIN002_MAX_TXS)
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: more than %d transaction statuses",
                           r->line, FMT_PAIN002_MAX_TXS);
    struct fmt_pmt_status *p = cur_pmt(r);
    int rc = grow((void **)&p->txs, p->n_txs, &r->cap_txs, sizeof(*p->txs));
    if (rc < 0)
        return h2h_err_set(r->err, rc, "out of memory");
    p->n_txs++;
    p->txs[p->n_txs - 1].amt.minor = 0;
    return 0;
}

static int new_reason(struct rd *r, struct fmt_reason **v, size_t *n)
{
    if (*n >= FMT_PAIN002_MAX_REASONS)
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: more than %d status reasons in one "
                           "element",
                           r->line, FMT_PAIN002_MAX_REASONS);
    /* the model keeps no capacity: grow at 0 and at every power of two
     * from 4 on, which is where the previous allocation is full */
    size_t n0 = *n;
    if (n0 == 0 || (n0 >= 4 && (n0 & (n0 - 1)) == 0)) {
        size_t nc = n0 == 0 ? 4 : n0 * 2;
        void *p = realloc(*v, nc * sizeof(**v));
        if (!p)
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        *v = p;
    }
    memset(&(*v)[*n], 0, sizeof(**v));
    (*n)++;
    r->rsn_v = v;
    r->rsn_n = n;
    return 0;
}

static char **party_slot(struct fmt_party *p, const char *rel)
{
    if (!strcmp(rel, "Nm"))
        return &p->name;
    if (!strcmp(rel, "Id/OrgId/BICOrBEI") || !strcmp(rel, "Id/OrgId/AnyBIC") ||
        !strcmp(rel, "Id/OrgId/BIC"))
        return &p->org_bic;
    if (!strcmp(rel, "Id/OrgId/Othr/Id"))
        return &p->org_id;
    if (!strcmp(rel, "Id/OrgId/Othr/SchmeNm/Cd") ||
        !strcmp(rel, "Id/OrgId/Othr/SchmeNm/Prtry"))
        return &p->org_id_scheme;
    if (!strcmp(rel, "Id/PrvtId/Othr/Id"))
        return &p->prvt_id;
    if (!strcmp(rel, "CtryOfRes"))
        return &p->ctry_of_res;
    if (!strcmp(rel, "PstlAdr/Ctry"))
        return &p->addr.country;
    return NULL;
}

/* Leaves; *append set for repeated text joined with '\n'. */
static char **slot_for(struct rd *r, const char *rel, int *append,
                       int *is_count, int *is_amt)
{
    struct fmt_status_report *s = r->r;
    if (r->rsn_depth) {
        struct fmt_reason *x = &(*r->rsn_v)[*r->rsn_n - 1];
        const char *t = r->path + r->off[r->rsn_depth + 1];
        if (r->depth <= r->rsn_depth)
            return NULL;
        if (!strcmp(t, "Rsn/Cd") || !strcmp(t, "StsRsn/Cd"))
            return &x->code;
        if (!strcmp(t, "Rsn/Prtry") || !strcmp(t, "StsRsn/Prtry"))
            return &x->prtry;
        if (!strcmp(t, "AddtlInf") || !strcmp(t, "AddtlStsRsnInf")) {
            *append = 1;
            return &x->addtl_info;
        }
        return NULL;
    }
    switch (r->ctx) {
    case C_HDR:
        if (!strcmp(rel, "MsgId"))
            return &s->msg_id;
        if (!strcmp(rel, "CreDtTm"))
            return &s->cre_dt_tm;
        if (!strncmp(rel, "InitgPty/", 9))
            return party_slot(&s->initg_pty, rel + 9);
        return NULL;
    case C_GRP:
        if (!strcmp(rel, "OrgnlMsgId"))
            return &s->orgnl_msg_id;
        if (!strcmp(rel, "OrgnlMsgNmId"))
            return &s->orgnl_msg_nm_id;
        if (!strcmp(rel, "GrpSts"))
            return &s->grp_sts;
        if (!strcmp(rel, "OrgnlNbOfTxs")) {
            *is_count = 1;
            return NULL;
        }
        return NULL;
    case C_PMT: {
        struct fmt_pmt_status *p = cur_pmt(r);
        if (!strcmp(rel, "OrgnlPmtInfId"))
            return &p->orgnl_pmt_inf_id;
        if (!strcmp(rel, "PmtInfSts"))
            return &p->sts;
        return NULL;
    }
    case C_TX: {
        struct fmt_tx_status *t = cur_tx(r);
        if (!strcmp(rel, "StsId"))
            return &t->sts_id;
        if (!strcmp(rel, "OrgnlInstrId"))
            return &t->orgnl_instr_id;
        if (!strcmp(rel, "OrgnlEndToEndId"))
            return &t->orgnl_end_to_end_id;
        if (!strcmp(rel, "OrgnlUETR"))
            return &t->orgnl_uetr;
        if (!strcmp(rel, "TxSts"))
            return &t->sts;
        if (!strcmp(rel, "OrgnlTxRef/Amt/InstdAmt")) {
            *is_amt = 1;
            return NULL;
        }
        return NULL;
    }
    default: return NULL;
    }
}

/* .02 only: TxInfAndSts/OrgnlPmtInfId decides the payment it belongs to,
 * but it arrives after the transaction was opened.  Move the transaction
 * into a payment of that id when it differs from the current one. */
static int regroup_02(struct rd *r, const char *pmt_id)
{
    struct fmt_pmt_status *p = cur_pmt(r);
    if (p->orgnl_pmt_inf_id && !strcmp(p->orgnl_pmt_inf_id, pmt_id))
        return 0;
    if (!p->orgnl_pmt_inf_id && p->n_txs == 1)
        return fmt_strset(&p->orgnl_pmt_inf_id, pmt_id) < 0
                   ? h2h_err_set(r->err, H2H_ENOMEM, "out of memory")
                   : 0;
    struct fmt_tx_status moved = p->txs[p->n_txs - 1];
    p->n_txs--;
    int rc = new_pmt(r);
    if (rc < 0) {
        p->n_txs++; /* keep ownership where release finds it */
        return rc;
    }
    p = cur_pmt(r);
    if (fmt_strset(&p->orgnl_pmt_inf_id, pmt_id) < 0 ||
        grow((void **)&p->txs, 0, &r->cap_txs, sizeof(*p->txs)) < 0) {
        free(moved.sts_id), free(moved.orgnl_instr_id);
        free(moved.orgnl_end_to_end_id), free(moved.orgnl_uetr);
        free(moved.sts);
        for (size_t i = 0; i < moved.n_reasons; i++)
            fmt_reason_release(&moved.reasons[i]);
        free(moved.reasons);
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    }
    p->txs[0] = moved;
    p->n_txs = 1;
    return 0;
}

static int on_start(struct rd *r, const char *name, int empty)
{
    int rc;
    if (r->depth == 1) {
        if (strcmp(name, "Document"))
            return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                               "line %d: root element <%.64s> is not a "
                               "pain.002 <Document>",
                               r->line, name);
        return detect(r, (const char *)xmlTextReaderConstNamespaceUri(r->x.r));
    }
    if (r->depth == 2) {
        if (strcmp(name, "CstmrPmtStsRpt") && strcmp(name, "pain.002.001.02"))
            return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                               "line %d: <%.64s> is not a payment status "
                               "report (CstmrPmtStsRpt)",
                               r->line, name);
        return 0;
    }
    if (r->depth == 3) {
        if (!strcmp(name, "GrpHdr")) {
            r->ctx = C_HDR;
        } else if (!strcmp(name, "OrgnlGrpInfAndSts")) {
            r->ctx = C_GRP;
        } else if (!strcmp(name, "OrgnlPmtInfAndSts")) {
            if ((rc = new_pmt(r)) < 0)
                return rc;
            r->ctx = C_PMT;
        } else if (!strcmp(name, "TxInfAndSts")) {
            /* pain.002.001.02: transactions directly under the message */
            if (!r->r->n_pmts && (rc = new_pmt(r)) < 0)
                return rc;
            if ((rc = new_tx(r)) < 0)
                return rc;
            r->ctx = C_TX;
        } else {
            return 0;
        }
        r->ctx_depth[r->ctx] = r->depth;
        return 0;
    }
    if (r->depth == 4 && r->ctx == C_PMT && !strcmp(name, "TxInfAndSts")) {
        if ((rc = new_tx(r)) < 0)
            return rc;
        r->ctx = C_TX;
        r->ctx_depth[C_TX] = r->depth;
        return 0;
    }
    if (!strcmp(name, "StsRsnInf") && !r->rsn_depth &&
        r->depth == r->ctx_depth[r->ctx] + 1) {
        switch (r->ctx) {
        case C_GRP: rc = new_reason(r, &r->r->reasons, &r->r->n_reasons); break;
        case C_PMT:
            rc = new_reason(r, &cur_pmt(r)->reasons, &cur_pmt(r)->n_reasons);
            break;
        case C_TX:
            rc = new_reason(r, &cur_tx(r)->reasons, &cur_tx(r)->n_reasons);
            break;
        default: return 0;
        }
        if (rc < 0)
            return rc;
        r->rsn_depth = r->depth;
        return 0;
    }
    if (r->ctx == C_NONE || r->depth <= r->ctx_depth[r->ctx])
        return 0;

    const char *rel = r->path + r->off[r->ctx_depth[r->ctx] + 1];
    int append = 0, is_count = 0, is_amt = 0;
    char **slot = slot_for(r, rel, &append, &is_count, &is_amt);
    int pmt02 = r->ctx == C_TX && r->ctx_depth[C_TX] == 3 && !r->rsn_depth &&
                !strcmp(rel, "OrgnlPmtInfId");
    if (!slot && !is_count && !is_amt && !pmt02)
        return 0;
    char *ccy = is_amt
                    ? (char *)xmlTextReaderGetAttribute(r->x.r, BAD_CAST "Ccy")
                    : NULL;
    char *v = empty ? strdup("") : fmt_xml_text(&r->x, r->err);
    if (!v) {
        xmlFree(ccy);
        if (empty)
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        return r->err && r->err->code ? r->err->code : H2H_EPARSE;
    }
    trim(v);
    if (slot) {
        if ((rc = store(slot, v, append)) < 0)
            return h2h_err_set(r->err, rc, "out of memory");
        return 1;
    }
    rc = 1;
    if (pmt02) {
        rc = regroup_02(r, v);
        if (rc == 0)
            rc = 1;
    } else if (is_count) {
        int64_t n = 0;
        size_t len = strlen(v), i;
        for (i = 0; i < len && i < 16 && v[i] >= '0' && v[i] <= '9'; i++)
            n = n * 10 + (v[i] - '0');
        if (len == 0 || len > 15 || i != len)
            problem(r, rel, "pain002.nboftxs.syntax",
                    "number of transactions \"%.40s\" is not a number", v);
        else
            r->r->orgnl_nb_of_txs = n;
    } else if (is_amt) {
        struct fmt_tx_status *t = cur_tx(r);
        struct h2h_err e = {0};
        if (!ccy || strlen(ccy) != 3) {
            problem(r, rel, "pain002.amount.ccy",
                    "amount %.40s has no valid currency (Ccy)", v);
        } else if (fmt_amount_parse(v, strlen(v), ccy, 0, &t->amt.minor, &e) <
                   0) {
            problem(r, rel, "pain002.amount.invalid", "amount %.40s %s: %s", v,
                    ccy, e.msg);
            t->amt.minor = 0;
        } else {
            memcpy(t->amt.ccy, ccy, 4);
        }
    }
    free(v);
    xmlFree(ccy);
    return rc;
}

static void on_end(struct rd *r)
{
    if (r->rsn_depth && r->depth == r->rsn_depth) {
        r->rsn_depth = 0;
        return;
    }
    if (r->ctx != C_NONE && r->depth == r->ctx_depth[r->ctx]) {
        r->ctx_depth[r->ctx] = 0;
        if (r->ctx == C_TX && r->ctx_depth[C_PMT])
            r->ctx = C_PMT;
        else
            r->ctx = C_NONE;
    }
}

int fmt_pain002_read(const struct fmt_src *src, struct fmt_status_report *out,
                     struct fmt_diag *diag, struct h2h_err *err)
{
    int rc;
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no report to fill");
    fmt_status_report_release(out);
    fmt_status_report_init(out);
    struct rd *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->r = out;
    r->diag = diag;
    r->err = err;
    r->version = -1;
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
            if ((rc = on_start(r, name ? name : "", empty)) < 0)
                goto out;
            if (rc == 1 || empty) {
                if (rc != 1)
                    on_end(r);
                pop(r);
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (xmlTextReaderDepth(r->x.r) + 1 != r->depth)
                continue;
            on_end(r);
            pop(r);
        }
    }
    if (rc < 0)
        goto out;
    if (r->version < 0) {
        rc = h2h_err_set(err, H2H_EPARSE, "empty document");
        goto out;
    }
    r->line = 0;
    r->ctx = C_NONE;
    memset(r->ctx_depth, 0, sizeof(r->ctx_depth));
    if (!out->msg_id)
        problem(r, "GrpHdr/MsgId", "pain002.msgid.missing",
                "the status report has no message id (GrpHdr/MsgId)");
    if (!out->orgnl_msg_id)
        problem(r, "OrgnlGrpInfAndSts/OrgnlMsgId", "pain002.orgnlmsgid.missing",
                "the status report does not name the original message "
                "(OrgnlGrpInfAndSts/OrgnlMsgId)");
    rc = 0;
out:
    fmt_xml_close(&r->x);
    free(r);
    return rc;
}
