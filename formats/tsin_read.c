/*
 * tsin_read.c - tsin.001 / .002 / .003 readers; see tsin.h.
 *
 * One streaming walker for the three messages, driven by tables.  A table
 * lists the elements of one component (a message, an invoice, a party, an
 * account, ...) by their path relative to the element that opened it,
 * with what to do with each: descend (group), read a leaf into a field,
 * open a sub-component (context) or a repeated record, or report it as
 * unsupported.  An element no table lists is unknown.  Each context keeps
 * a bit per entry it has seen, which is all it takes to find repeated and
 * missing elements when the context closes; a mandatory element inside an
 * optional group is missing only when its group was there.
 *
 * Pointers into the growing invoice arrays are held only while their
 * record is open, and a record array grows only when a sibling record
 * starts, after the previous one has closed.
 */
#include "tsin.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"
#include "xmlsafe.h"

#define MAX_DEPTH 48 /* tsin nests about 10 deep; anything deeper is junk */
#define NAME_MAX_LEN 64
#define MAX_CTX 8
#define PATH_MAX_LEN 512
#define NOTPROVIDED "NOTPROVIDED"

enum kind {
    K_GROUP,  /* descend */
    K_LEAF,   /* read the text into the target */
    K_CTX,    /* a component: its own table, target at off */
    K_REC,    /* a repeated record: its table's rec_new gives the target */
    K_SKIP,   /* known and deliberately not read (echoes of the request) */
    K_UNSUP,  /* in the message, not in the model: a problem */
    K_INSTAL, /* instalments: a problem of their own */
};

enum conv { V_STR, V_APPEND, V_DATE, V_DTTM, V_AMT, V_RATE, V_NUM, V_FN };

#define F_REQ 1u /* mandatory when its parent group is present */
#define F_REP 2u /* may repeat */

struct rd;
struct ctx;

struct ent {
    const char *path;
    unsigned char kind, flags, conv;
    size_t off;
    /* V_FN: takes ownership of v; ccy is the Ccy attribute or NULL. */
    int (*fn)(struct rd *r, void *tgt, char *v, const char *ccy);
    const struct table *sub;
};

struct table {
    const struct ent *e;
    size_t n;
    /* K_REC: the new record's target and its 1-based index; NULL with
     * r->err set when the reader must stop. */
    void *(*rec_new)(struct rd *r, size_t *index);
    /* The context closes (after the missing-element check). */
    int (*end)(struct rd *r, struct ctx *c);
};

struct ctx {
    const struct table *t;
    void *tgt;
    int depth; /* of the element that opened it */
    int line;
    uint64_t seen;
    int lines[64]; /* where each seen entry was, for missing children */
};

/* Scratch records whose content lands in the model only when complete. */
struct ai_rec {
    char *cd, *prtry, *val;
};
struct doc_rec {
    char *cd, *prtry, *nb;
};

struct rd {
    struct fmt_xml x;
    struct fmt_diag *diag;
    struct h2h_err *err; /* the caller's, or own when it passed none */
    struct h2h_err own;
    int msg; /* 1, 2, 3 */
    int line, depth;
    int started, root_done, fatal_noted;
    char ns[160];
    char names[MAX_DEPTH + 2][NAME_MAX_LEN + 1];
    size_t idx[MAX_DEPTH + 2];
    struct ctx c[MAX_CTX];
    int nc;

    struct fmt_scf_request *req;
    struct fmt_scf_status_report *rep;
    struct fmt_scf_cancel *cxl;
    size_t cap; /* of the invoice (result) array */

    struct ai_rec ai;
    size_t n_ai;
    unsigned h2h_seen; /* H2H: codes met, a bit each */
    struct doc_rec doc;
    size_t n_docs;
    char *pid_id, *pid_tp; /* an agent's PrtryId, resolved at its end */
    char *reqamt;
    int reqamt_line;
    int64_t declared_n;
    int declared_n_line;
    struct fmt_amount declared_total;
    int declared_total_line;
    int vsts; /* 0 none, 1 RCCF, 2 RCER */
    int book_dates;
};

/* ---- problems ------------------------------------------------------------ */

/* The element path below the message element down to depth upto, then
 * rel: "InvcReqInf[2]/InvcTtlsInf/TtlInvcAmt". */
static const char *where(struct rd *r, int upto, const char *rel, char *buf,
                         size_t sz)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int d = 3; d <= upto && d <= MAX_DEPTH && n < sz; d++) {
        if (r->idx[d])
            n += snprintf(buf + n, sz - n, "%s%s[%zu]", n ? "/" : "",
                          r->names[d], r->idx[d]);
        else
            n += snprintf(buf + n, sz - n, "%s%s", n ? "/" : "", r->names[d]);
    }
    if (rel && n < sz)
        snprintf(buf + n, sz - n, "%s%s", n ? "/" : "", rel);
    return buf;
}

static void problem_at(struct rd *r, int line, int upto, const char *rel,
                       const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void problem_at(struct rd *r, int line, int upto, const char *rel,
                       const char *rule, const char *fmt, ...)
{
    char w[PATH_MAX_LEN], msg[H2H_ERR_MSG_MAX];
    va_list ap;
    if (!r->diag)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    where(r, upto, rel, w, sizeof(w));
    fmt_diag_add(r->diag, line, w[0] ? w : NULL, rule, "%s", msg);
}

/* A problem with the element just read. */
#define PROBLEM(r, rule, ...)                                                  \
    problem_at((r), (r)->line, (r)->depth, NULL, (rule), __VA_ARGS__)

/* A reason to stop: err filled, and the same words in diag so that a
 * caller that only shows problems shows this one too. */
static int fatal(struct rd *r, int code, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fatal(struct rd *r, int code, const char *rule, const char *fmt, ...)
{
    /* Formatted aside first: the arguments are often r->err->msg itself. */
    char msg[H2H_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    h2h_err_set(r->err, code, "%s", msg);
    /* diag has the line in its own column: no "line N: " twice */
    const char *m = msg;
    int n = 0;
    if (sscanf(msg, "line %*d: %n", &n) == 0 && n > 0)
        m += n;
    if (r->diag && !r->fatal_noted)
        fmt_diag_add(r->diag, r->line, NULL, rule, "%s", m);
    r->fatal_noted = 1;
    return code;
}

/* ---- small helpers --------------------------------------------------------
 */

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

static int streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Take v into *slot (first value wins; the seen bits already report a
 * second one). */
static void put(char **slot, char *v)
{
    if (*slot)
        free(v);
    else
        *slot = v;
}

static int append(char **slot, char *v)
{
    if (!*slot) {
        *slot = v;
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

static int nomem(struct rd *r)
{
    return fatal(r, H2H_ENOMEM, "tsin.nomem", "out of memory");
}

/* Parse an amount with its Ccy attribute; 0 and a problem when bad. */
static int parse_amount(struct rd *r, const char *v, const char *ccy,
                        struct fmt_amount *out)
{
    struct h2h_err e = {0};
    if (!ccy || !fmt_ccy_valid(ccy)) {
        PROBLEM(r, "tsin.amount.ccy",
                "amount %.40s has no valid ISO 4217 currency (Ccy \"%.8s\")", v,
                ccy ? ccy : "");
        return 0;
    }
    int64_t minor;
    if (fmt_amount_parse(v, strlen(v), ccy, 0, &minor, &e) < 0) {
        PROBLEM(r, "tsin.amount.invalid", "%s (currency %s)", e.msg, ccy);
        return 0;
    }
    out->minor = minor;
    memcpy(out->ccy, ccy, 4);
    return 1;
}

static int parse_count(struct rd *r, const char *v, int64_t *out)
{
    size_t n = strlen(v);
    int64_t k = 0;
    if (n == 0 || n > 18)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            goto bad;
        k = k * 10 + (v[i] - '0');
    }
    *out = k;
    return 1;
bad:
    PROBLEM(r, "tsin.number.invalid", "\"%.40s\" is not a whole number", v);
    return 0;
}

/* ---- leaf handlers (V_FN) -------------------------------------------------
 */

/* An IdTp h2hd wrote as NOTPROVIDED is the model's "no scheme". */
static int fn_pty25_idtp(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_party *p = tgt;
    (void)r, (void)ccy;
    if (!strcmp(v, NOTPROVIDED))
        free(v);
    else
        put(&p->org_id_scheme, v);
    return 0;
}

static int fn_adrline(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_party *p = tgt;
    (void)ccy;
    size_t i = 0;
    while (i < 7 && p->addr.lines[i])
        i++;
    if (i >= 5) {
        PROBLEM(r, "tsin.element.repeated",
                "more than 5 address lines; \"%.40s\" was not read", v);
        free(v);
        return 0;
    }
    p->addr.lines[i] = v;
    return 0;
}

/* One organisation id per party in the model: the first one is kept. */
static int org_id(struct rd *r, struct fmt_party *p, char *v,
                  const char *scheme)
{
    if (p->org_id) {
        PROBLEM(r, "tsin.element.unsupported",
                "a second organisation id \"%.40s\" was not read (h2hd "
                "keeps one)",
                v);
        free(v);
        return 0;
    }
    p->org_id = v;
    if (scheme && !(p->org_id_scheme = strdup(scheme)))
        return nomem(r);
    return 0;
}

static int fn_orgid_bank(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)ccy;
    return org_id(r, tgt, v, "BANK");
}

static int fn_orgid_tax(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)ccy;
    return org_id(r, tgt, v, "TXID");
}

static int fn_orgid_prtry(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)ccy;
    return org_id(r, tgt, v, NULL);
}

static int fn_orgid_issr(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_party *p = tgt;
    (void)r, (void)ccy;
    put(&p->org_id_scheme, v);
    return 0;
}

static int fn_prvt_idtp(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt, (void)ccy;
    if (strcmp(v, NOTPROVIDED) != 0)
        PROBLEM(r, "tsin.element.unsupported",
                "the type \"%.35s\" of a private id is not kept", v);
    free(v);
    return 0;
}

static int acct_scheme(struct rd *r, struct fmt_account *a, char *v,
                       const char *scheme)
{
    put(&a->other_id, v);
    if (!a->other_scheme && !(a->other_scheme = strdup(scheme)))
        return nomem(r);
    return 0;
}

static int fn_bban(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)ccy;
    return acct_scheme(r, tgt, v, "BBAN");
}

static int fn_upic(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)ccy;
    return acct_scheme(r, tgt, v, "UPIC");
}

static int fn_pid_id(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt, (void)ccy;
    put(&r->pid_id, v);
    return 0;
}

static int fn_pid_tp(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt, (void)ccy;
    put(&r->pid_tp, v);
    return 0;
}

static int fn_ccy(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_scf_request *q = tgt;
    (void)ccy;
    if (!fmt_ccy_valid(v))
        PROBLEM(r, "tsin.code.invalid",
                "\"%.20s\" is not an ISO 4217 "
                "currency",
                v);
    else
        memcpy(q->ccy, v, 4);
    free(v);
    return 0;
}

static int fn_nbinvc(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt, (void)ccy;
    if (parse_count(r, v, &r->declared_n))
        r->declared_n_line = r->line;
    free(v);
    return 0;
}

static int fn_total(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt;
    if (parse_amount(r, v, ccy, &r->declared_total))
        r->declared_total_line = r->line;
    free(v);
    return 0;
}

static int fn_doctp(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt, (void)ccy;
    if (strcmp(v, "CINV") != 0)
        PROBLEM(r, "tsin.code.invalid",
                "document type \"%.10s\" is not CINV (commercial invoice)", v);
    free(v);
    return 0;
}

static int fn_pmtmtd(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_scf_invoice *iv = tgt;
    (void)ccy;
    if (strcmp(v, "CHK") && strcmp(v, "TRF") && strcmp(v, "DD") &&
        strcmp(v, "TRA")) {
        PROBLEM(r, "tsin.code.invalid",
                "\"%.10s\" is not a payment method (CHK, TRF, DD, TRA)", v);
        free(v);
        return 0;
    }
    put(&iv->pmt_method, v);
    return 0;
}

static int fn_vsts(struct rd *r, void *tgt, char *v, const char *ccy)
{
    (void)tgt, (void)ccy;
    if (!strcmp(v, "RCCF"))
        r->vsts = 1;
    else if (!strcmp(v, "RCER"))
        r->vsts = 2;
    else
        PROBLEM(r, "tsin.code.invalid",
                "validation status \"%.10s\" is not RCCF or RCER", v);
    free(v);
    return 0;
}

static int fn_csts(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_scf_status_report *s = tgt;
    (void)ccy;
    if (!strcmp(v, "PACK"))
        s->cancel_answer = FMT_SCF_CXL_ACCEPTED;
    else if (!strcmp(v, "REJT"))
        s->cancel_answer = FMT_SCF_CXL_REFUSED;
    else
        PROBLEM(r, "tsin.code.invalid",
                "cancellation status \"%.10s\" is not PACK or REJT", v);
    free(v);
    return 0;
}

static int fn_item(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_scf_invoice_result *x = tgt;
    (void)ccy;
    int i = fmt_scf_item_from_iso(v);
    if (i < 0)
        PROBLEM(r, "tsin.code.invalid",
                "financing status \"%.10s\" is not FNCD, PDNG or NTFD", v);
    else
        x->result = (enum fmt_scf_item)i;
    free(v);
    return 0;
}

/* TtlFincdAmt is mandatory; 0 is the model's "nothing financed". */
static int fn_fincd(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_scf_status_report *s = tgt;
    struct fmt_amount a = {0};
    if (parse_amount(r, v, ccy, &a) && a.minor > 0)
        s->financed = a;
    free(v);
    return 0;
}

static int fn_bookdt(struct rd *r, void *tgt, char *v, const char *ccy)
{
    struct fmt_scf_status_report *s = tgt;
    struct h2h_err e = {0};
    (void)ccy;
    if (++r->book_dates > 1) {
        PROBLEM(r, "tsin.element.unsupported",
                "a second booking date %.20s was not read (h2hd keeps one)", v);
        free(v);
    } else if (fmt_date_check(v, &e) < 0) {
        PROBLEM(r, "tsin.date.invalid", "%s", e.msg);
        free(v);
    } else {
        put(&s->book_date, v);
    }
    return 0;
}

/* ---- tables ---------------------------------------------------------------
 */

#define E_G(p, fl)                                                             \
    {                                                                          \
        p, K_GROUP, fl, 0, 0, NULL, NULL                                       \
    }
#define E_V(p, fl, cv, T, f)                                                   \
    {                                                                          \
        p, K_LEAF, fl, cv, offsetof(T, f), NULL, NULL                          \
    }
#define E_F(p, fl, fn)                                                         \
    {                                                                          \
        p, K_LEAF, fl, V_FN, 0, fn, NULL                                       \
    }
#define E_C(p, fl, T, f, sub)                                                  \
    {                                                                          \
        p, K_CTX, fl, 0, offsetof(T, f), NULL, &sub                            \
    }
#define E_R(p, fl, sub)                                                        \
    {                                                                          \
        p, K_REC, fl, 0, 0, NULL, &sub                                         \
    }
#define E_S(p)                                                                 \
    {                                                                          \
        p, K_SKIP, F_REP, 0, 0, NULL, NULL                                     \
    }
#define E_U(p)                                                                 \
    {                                                                          \
        p, K_UNSUP, F_REP, 0, 0, NULL, NULL                                    \
    }
#define E_I(p)                                                                 \
    {                                                                          \
        p, K_INSTAL, F_REP, 0, 0, NULL, NULL                                   \
    }
#define TABLE(name, ents, rec, end)                                            \
    _Static_assert(sizeof(ents) / sizeof(ents[0]) <= 64, #ents " too big");    \
    static const struct table name = {ents, sizeof(ents) / sizeof(ents[0]),    \
                                      rec, end}

#define P struct fmt_party
static const struct ent party25_e[] = {
    E_V("Nm", F_REQ, V_STR, P, name),
    E_G("PrtryId", 0),
    E_V("PrtryId/Id", F_REQ, V_STR, P, org_id),
    E_F("PrtryId/IdTp", F_REQ, fn_pty25_idtp),
    E_V("BEI", 0, V_STR, P, org_bic),
};
TABLE(party25_t, party25_e, NULL, NULL);

static const struct ent party8_e[] = {
    E_V("Nm", 0, V_STR, P, name),
    E_G("PstlAdr", 0),
    E_U("PstlAdr/AdrTp"),
    E_F("PstlAdr/AdrLine", F_REP, fn_adrline),
    E_V("PstlAdr/StrtNm", 0, V_STR, P, addr.street),
    E_V("PstlAdr/BldgNb", 0, V_STR, P, addr.building),
    E_V("PstlAdr/PstCd", 0, V_STR, P, addr.postcode),
    E_V("PstlAdr/TwnNm", 0, V_STR, P, addr.town),
    E_V("PstlAdr/CtrySubDvsn", 0, V_STR, P, addr.subdivision),
    E_V("PstlAdr/Ctry", F_REQ, V_STR, P, addr.country),
    E_G("Id", 0),
    E_G("Id/OrgId", 0),
    E_V("Id/OrgId/BIC", 0, V_STR, P, org_bic),
    E_U("Id/OrgId/IBEI"),
    E_U("Id/OrgId/BEI"),
    E_U("Id/OrgId/EANGLN"),
    E_U("Id/OrgId/USCHU"),
    E_U("Id/OrgId/DUNS"),
    E_F("Id/OrgId/BkPtyId", 0, fn_orgid_bank),
    E_F("Id/OrgId/TaxIdNb", 0, fn_orgid_tax),
    E_G("Id/OrgId/PrtryId", 0),
    E_F("Id/OrgId/PrtryId/Id", F_REQ, fn_orgid_prtry),
    E_F("Id/OrgId/PrtryId/Issr", 0, fn_orgid_issr),
    E_G("Id/PrvtId", F_REP),
    E_G("Id/PrvtId/OthrId", 0),
    E_V("Id/PrvtId/OthrId/Id", F_REQ, V_STR, P, prvt_id),
    E_F("Id/PrvtId/OthrId/IdTp", F_REQ, fn_prvt_idtp),
    E_U("Id/PrvtId/DrvrsLicNb"),
    E_U("Id/PrvtId/CstmrNb"),
    E_U("Id/PrvtId/SclSctyNb"),
    E_U("Id/PrvtId/AlnRegnNb"),
    E_U("Id/PrvtId/PsptNb"),
    E_U("Id/PrvtId/TaxIdNb"),
    E_U("Id/PrvtId/IdntyCardNb"),
    E_U("Id/PrvtId/MplyrIdNb"),
    E_U("Id/PrvtId/DtAndPlcOfBirth"),
    E_U("Id/PrvtId/Issr"),
    E_V("CtryOfRes", 0, V_STR, P, ctry_of_res),
};
TABLE(party8_t, party8_e, NULL, NULL);
#undef P

#define A struct fmt_account
static const struct ent account_e[] = {
    E_G("Id", F_REQ),
    E_V("Id/IBAN", 0, V_STR, A, iban),
    E_F("Id/BBAN", 0, fn_bban),
    E_F("Id/UPIC", 0, fn_upic),
    E_G("Id/PrtryAcct", 0),
    E_V("Id/PrtryAcct/Id", F_REQ, V_STR, A, other_id),
    E_G("Tp", 0),
    E_V("Tp/Cd", 0, V_STR, A, type),
    E_V("Tp/Prtry", 0, V_STR, A, type),
    E_V("Ccy", 0, V_STR, A, ccy),
    E_V("Nm", 0, V_STR, A, name),
};
TABLE(account_t, account_e, NULL, NULL);
#undef A

/* PrtryId holds either a clearing member id with its system in IdTp, or
 * the agent's other id with IdTp NOTPROVIDED (see tsin.h). */
static int agent_end(struct rd *r, struct ctx *c)
{
    struct fmt_agent *a = c->tgt;
    char *id = r->pid_id, *tp = r->pid_tp;
    r->pid_id = r->pid_tp = NULL;
    if (!id) {
        free(tp);
        return 0;
    }
    if (!tp || !strcmp(tp, NOTPROVIDED)) {
        put(&a->other_id, id);
        free(tp);
    } else if (a->clr_mmb_id) {
        problem_at(r, c->line, c->depth, "PrtryId", "tsin.element.unsupported",
                   "a second clearing member id %.35s (%.35s) was not read", id,
                   tp);
        free(id);
        free(tp);
    } else {
        a->clr_mmb_id = id;
        a->clr_sys = tp;
    }
    return 0;
}

#define G struct fmt_agent
static const struct ent agent_e[] = {
    E_G("ClrSysMmbId", 0),
    E_V("ClrSysMmbId/OthrClrCdId", 0, V_STR, G, clr_mmb_id),
    E_U("ClrSysMmbId/USCHU"),
    E_U("ClrSysMmbId/NZNCC"),
    E_U("ClrSysMmbId/IENSC"),
    E_U("ClrSysMmbId/GBSC"),
    E_U("ClrSysMmbId/USCH"),
    E_U("ClrSysMmbId/CHBC"),
    E_U("ClrSysMmbId/USFW"),
    E_U("ClrSysMmbId/PTNCC"),
    E_U("ClrSysMmbId/RUCB"),
    E_U("ClrSysMmbId/ITNCC"),
    E_U("ClrSysMmbId/ATBLZ"),
    E_U("ClrSysMmbId/CACPA"),
    E_U("ClrSysMmbId/CHSIC"),
    E_U("ClrSysMmbId/DEBLZ"),
    E_U("ClrSysMmbId/ESNCC"),
    E_U("ClrSysMmbId/ZANCC"),
    E_U("ClrSysMmbId/HKNCC"),
    E_U("ClrSysMmbId/AUBSBx"),
    E_U("ClrSysMmbId/AUBSBs"),
    E_U("ClrSysMmbId/INIFSC"),
    E_U("ClrSysMmbId/GRHEBIC"),
    E_U("ClrSysMmbId/PLKNR"),
    E_G("PrtryId", 0),
    E_F("PrtryId/Id", F_REQ, fn_pid_id),
    E_F("PrtryId/IdTp", F_REQ, fn_pid_tp),
    E_V("BIC", 0, V_STR, G, bic),
};
TABLE(agent_t, agent_e, NULL, agent_end);
#undef G

/* ---- tsin.001 -------------------------------------------------------------
 */

enum {
    H2H_KIND = 1,
    H2H_PRODUCT = 2,
    H2H_VALUEDATE = 4,
    H2H_REQAMT = 8,
    H2H_CONTRACT = 16,
    H2H_INFO = 32
};

static void *ai_new(struct rd *r, size_t *index)
{
    memset(&r->ai, 0, sizeof(r->ai));
    *index = ++r->n_ai;
    return &r->ai;
}

/* An AddtlInf is one of the model fields tsin has no element for. */
static int ai_end(struct rd *r, struct ctx *c)
{
    static const struct {
        const char *code;
        unsigned bit;
    } codes[] = {{"H2H:KIND", H2H_KIND},           {"H2H:PRODUCT", H2H_PRODUCT},
                 {"H2H:VALUEDATE", H2H_VALUEDATE}, {"H2H:REQAMT", H2H_REQAMT},
                 {"H2H:CONTRACT", H2H_CONTRACT},   {"H2H:INFO", H2H_INFO}};
    struct fmt_scf_request *q = r->req;
    struct ai_rec a = r->ai;
    unsigned bit = 0;
    memset(&r->ai, 0, sizeof(r->ai));
    for (size_t i = 0; a.prtry && i < sizeof(codes) / sizeof(codes[0]); i++)
        if (!strcmp(a.prtry, codes[i].code))
            bit = codes[i].bit;
    if (!a.val) {
        /* the missing-element check has said so */
    } else if (!bit) {
        problem_at(r, c->line, c->depth, NULL, "tsin.addtlinf.unsupported",
                   "additional information of type %.40s is not h2hd's and "
                   "was not read: \"%.60s\"",
                   a.prtry ? a.prtry
                   : a.cd  ? a.cd
                           : "(none)",
                   a.val);
    } else if (r->h2h_seen & bit) {
        problem_at(r, c->line, c->depth, NULL, "tsin.element.repeated",
                   "%s appears twice; the first one was kept", a.prtry);
    } else {
        struct h2h_err e = {0};
        r->h2h_seen |= bit;
        switch (bit) {
        case H2H_KIND: {
            int k = fmt_scf_kind_parse(a.val);
            if (k < 0)
                problem_at(r, c->line, c->depth, "InfVal", "tsin.code.invalid",
                           "request kind \"%.30s\" is not receivable or "
                           "reverse_factoring",
                           a.val);
            else
                q->kind = (enum fmt_scf_kind)k;
            break;
        }
        case H2H_VALUEDATE:
            if (fmt_date_check(a.val, &e) < 0) {
                problem_at(r, c->line, c->depth, "InfVal", "tsin.date.invalid",
                           "value date: %s", e.msg);
                break;
            }
            q->value_date = a.val, a.val = NULL;
            break;
        case H2H_PRODUCT: q->product = a.val, a.val = NULL; break;
        case H2H_CONTRACT: q->contract_ref = a.val, a.val = NULL; break;
        case H2H_INFO: q->addtl_info = a.val, a.val = NULL; break;
        case H2H_REQAMT:
            /* The currency may come later in a document out of order. */
            r->reqamt = a.val, a.val = NULL;
            r->reqamt_line = c->line;
            break;
        }
    }
    free(a.cd);
    free(a.prtry);
    free(a.val);
    return 0;
}

#define I struct ai_rec
static const struct ent ai_e[] = {
    E_G("InfTp", F_REQ),
    E_V("InfTp/Cd", 0, V_STR, I, cd),
    E_V("InfTp/Prtry", 0, V_STR, I, prtry),
    E_V("InfVal", F_REQ, V_STR, I, val),
};
TABLE(ai_t, ai_e, ai_new, ai_end);
#undef I

static void *doc_new(struct rd *r, size_t *index)
{
    memset(&r->doc, 0, sizeof(r->doc));
    *index = ++r->n_docs;
    return &r->doc;
}

/* Referred documents: the invoice's contract (CMCN) and VAT invoice code
 * (Prtry TAXCODE); other kinds are not in the model. */
static int doc_end(struct rd *r, struct ctx *c)
{
    struct fmt_scf_invoice *iv = &r->req->invoices[r->req->n_invoices - 1];
    struct doc_rec d = r->doc;
    char **slot = NULL;
    memset(&r->doc, 0, sizeof(r->doc));
    if (d.cd && !strcmp(d.cd, "CMCN"))
        slot = &iv->contract_ref;
    else if (!d.cd && d.prtry && !strcmp(d.prtry, "TAXCODE"))
        slot = &iv->tax_invoice_code;
    if (!slot) {
        problem_at(r, c->line, c->depth, NULL, "tsin.element.unsupported",
                   "referred document of type %.35s is not kept (h2hd reads "
                   "the contract, CMCN, and the VAT invoice code, TAXCODE)",
                   d.cd      ? d.cd
                   : d.prtry ? d.prtry
                             : "(none)");
    } else if (!d.nb) {
        problem_at(r, c->line, c->depth, "DocNb", "tsin.element.missing",
                   "the referred document has no number");
    } else if (*slot) {
        problem_at(r, c->line, c->depth, NULL, "tsin.element.repeated",
                   "a second %s was not read", d.cd ? d.cd : d.prtry);
    } else {
        *slot = d.nb, d.nb = NULL;
    }
    free(d.cd);
    free(d.prtry);
    free(d.nb);
    return 0;
}

#define D struct doc_rec
static const struct ent doc_e[] = {
    E_G("Tp", 0),
    E_V("Tp/Cd", 0, V_STR, D, cd),
    E_V("Tp/Prtry", 0, V_STR, D, prtry),
    E_U("Tp/Issr"),
    E_V("DocNb", 0, V_STR, D, nb),
    E_U("RltdDt"),
    E_U("DocAmt"),
};
TABLE(doc_t, doc_e, doc_new, doc_end);
#undef D

static int grow(struct rd *r, void **v, size_t n, size_t sz)
{
    if (n >= FMT_TSIN_MAX_INVOICES)
        return fatal(r, H2H_ETOOBIG, "tsin.toobig",
                     "line %d: more than %d invoices", r->line,
                     FMT_TSIN_MAX_INVOICES);
    if (n < r->cap)
        return 0;
    size_t nc = r->cap ? r->cap * 2 : 8;
    void *p = realloc(*v, nc * sz);
    if (!p)
        return nomem(r);
    *v = p;
    r->cap = nc;
    return 0;
}

static void *invoice_new(struct rd *r, size_t *index)
{
    struct fmt_scf_request *q = r->req;
    if (grow(r, (void **)&q->invoices, q->n_invoices, sizeof(*q->invoices)))
        return NULL;
    struct fmt_scf_invoice *iv = &q->invoices[q->n_invoices++];
    fmt_scf_invoice_init(iv);
    iv->line = r->line;
    r->n_docs = 0;
    *index = q->n_invoices;
    return iv;
}

/* The defaults the writer fills into mandatory elements are the model's
 * "absent" (tsin.h, Lossless). */
static int invoice_end(struct rd *r, struct ctx *c)
{
    struct fmt_scf_invoice *iv = c->tgt;
    (void)r;
    if (iv->taxable.ccy[0] && iv->taxable.minor == iv->amount.minor &&
        !strcmp(iv->taxable.ccy, iv->amount.ccy))
        memset(&iv->taxable, 0, sizeof(iv->taxable));
    if (iv->tax.ccy[0] && iv->tax.minor == 0)
        memset(&iv->tax, 0, sizeof(iv->tax));
    if (iv->pmt_method && !strcmp(iv->pmt_method, "TRF")) {
        free(iv->pmt_method);
        iv->pmt_method = NULL;
    }
    return 0;
}

#define V struct fmt_scf_invoice
static const struct ent invoice_e[] = {
    E_G("InvcGnlInf", F_REQ),
    E_F("InvcGnlInf/DocTp", F_REQ, fn_doctp),
    E_V("InvcGnlInf/DocNb", F_REQ, V_STR, V, number),
    E_U("InvcGnlInf/SndrRcvrSeqId"),
    E_V("InvcGnlInf/IsseDt", F_REQ, V_DATE, V, issue_date),
    E_U("InvcGnlInf/URL"),
    E_G("InvcTtlsInf", F_REQ),
    E_V("InvcTtlsInf/TtlTaxblAmt", F_REQ, V_AMT, V, taxable),
    E_V("InvcTtlsInf/TtlTaxAmt", F_REQ, V_AMT, V, tax),
    E_U("InvcTtlsInf/Adjstmnt"),
    E_V("InvcTtlsInf/TtlInvcAmt", F_REQ, V_AMT, V, amount),
    E_V("InvcTtlsInf/PmtDueDt", F_REQ, V_DATE, V, due_date),
    E_U("CdtDbtNoteAmt"),
    E_I("InstlmtInf"),
    E_G("ReqdAmt", 0),
    E_V("ReqdAmt/Amt", 0, V_AMT, V, requested),
    E_V("ReqdAmt/Rate", 0, V_RATE, V, requested_rate),
    E_G("Spplr", F_REQ),
    E_C("Spplr/PtyId", F_REQ, V, seller, party8_t),
    E_C("Spplr/AcctId", 0, V, seller_acct, account_t),
    E_U("Spplr/CtctInf"),
    E_G("Buyr", F_REQ),
    E_C("Buyr/PtyId", F_REQ, V, buyer, party8_t),
    E_U("Buyr/CtctInf"),
    E_G("InvcPmtInf", F_REQ),
    E_F("InvcPmtInf/PmtMtd", F_REQ, fn_pmtmtd),
    E_U("InvcPmtInf/PmtAcct"),
    E_R("RfrdDoc", F_REP, doc_t),
};
TABLE(invoice_t, invoice_e, invoice_new, invoice_end);
#undef V

static int same_party(const struct fmt_party *a, const struct fmt_party *b)
{
    return streq(a->name, b->name) && streq(a->org_bic, b->org_bic) &&
           streq(a->org_id, b->org_id) &&
           streq(a->org_id_scheme, b->org_id_scheme) &&
           streq(a->prvt_id, b->prvt_id) &&
           streq(a->ctry_of_res, b->ctry_of_res);
}

static int only_ids(const struct fmt_party *p)
{
    const struct fmt_postal *a = &p->addr;
    return !a->dept && !a->street && !a->building && !a->postcode && !a->town &&
           !a->subdivision && !a->country && !a->lines[0];
}

static int req_end(struct rd *r, struct ctx *c)
{
    struct fmt_scf_request *q = r->req;
    (void)c;
    if (r->declared_n_line && r->declared_n != (int64_t)q->n_invoices)
        problem_at(r, r->declared_n_line, 2, "ReqGrpInf/NbOfInvcReqs",
                   "tsin.count.mismatch",
                   "the request declares %lld invoices but holds %zu",
                   (long long)r->declared_n, q->n_invoices);
    if (r->declared_total_line) {
        int64_t sum = 0;
        int same = 1, all = 1;
        for (size_t i = 0; i < q->n_invoices; i++) {
            /* an invoice whose amount was unreadable has its problem */
            all &= q->invoices[i].amount.ccy[0] != '\0';
            same &= !strcmp(q->invoices[i].amount.ccy, r->declared_total.ccy);
            sum += q->invoices[i].amount.minor;
        }
        if (all && (!same || sum != r->declared_total.minor)) {
            char a[48], b[48];
            fmt_amount_format(r->declared_total.minor, r->declared_total.ccy,
                              '.', a, sizeof(a));
            fmt_amount_format(sum, r->declared_total.ccy, '.', b, sizeof(b));
            problem_at(r, r->declared_total_line, 2, "ReqGrpInf/TtlBlkInvcAmt",
                       "tsin.sum.mismatch",
                       same ? "the declared total %s %s is not the sum of the "
                              "invoices, %s"
                            : "the declared total %s %s is not in the "
                              "invoices' currency%s",
                       a, r->declared_total.ccy, same ? b : "");
        }
    }
    if (r->reqamt) {
        struct h2h_err e = {0};
        if (!q->ccy[0] || fmt_amount_parse(r->reqamt, strlen(r->reqamt), q->ccy,
                                           0, &q->requested.minor, &e) < 0)
            problem_at(r, r->reqamt_line, 2, "ReqGrpInf/AddtlInf",
                       "tsin.amount.invalid",
                       "requested total \"%.40s\" %s: %s", r->reqamt, q->ccy,
                       q->ccy[0] ? e.msg : "the request has no currency");
        else
            memcpy(q->requested.ccy, q->ccy, 4);
    }
    /* A receivable's supplier is the requestor: the writer had to name it
     * in the mandatory Spplr, the model leaves it empty. */
    if (q->kind == FMT_SCF_RECEIVABLE)
        for (size_t i = 0; i < q->n_invoices; i++) {
            struct fmt_party *s = &q->invoices[i].seller;
            if (s->name && same_party(s, &q->requestor) && only_ids(s)) {
                fmt_party_release(s);
                memset(s, 0, sizeof(*s));
            }
        }
    return 0;
}

#define Q struct fmt_scf_request
static const struct ent req_e[] = {
    E_G("ReqGrpInf", F_REQ),
    E_V("ReqGrpInf/GrpId", F_REQ, V_STR, Q, request_id),
    E_V("ReqGrpInf/CreDtTm", F_REQ, V_DTTM, Q, cre_dt_tm),
    E_U("ReqGrpInf/Authstn"),
    E_F("ReqGrpInf/NbOfInvcReqs", 0, fn_nbinvc),
    E_F("ReqGrpInf/TtlBlkInvcAmt", 0, fn_total),
    E_F("ReqGrpInf/Ccy", F_REQ, fn_ccy),
    E_V("ReqGrpInf/FincgAgrmt", 0, V_STR, Q, agreement_ref),
    E_G("ReqGrpInf/FincgRqstr", F_REQ),
    E_C("ReqGrpInf/FincgRqstr/PtyId", F_REQ, Q, requestor, party25_t),
    E_C("ReqGrpInf/FincgRqstr/CdtAcct", 0, Q, credit_acct, account_t),
    E_C("ReqGrpInf/FincgRqstr/FincgAcct", 0, Q, financing_acct, account_t),
    E_C("ReqGrpInf/IntrmyAgt", 0, Q, intermediary, agent_t),
    E_C("ReqGrpInf/FrstAgt", F_REQ, Q, bank, agent_t),
    E_U("ReqGrpInf/AgrmtClauses"),
    E_R("ReqGrpInf/AddtlInf", F_REP, ai_t),
    E_R("InvcReqInf", F_REQ | F_REP, invoice_t),
};
TABLE(req_t, req_e, NULL, req_end);
#undef Q

/* ---- tsin.002 -------------------------------------------------------------
 */

static void *result_new(struct rd *r, size_t *index)
{
    struct fmt_scf_status_report *s = r->rep;
    if (grow(r, (void **)&s->invoices, s->n_invoices, sizeof(*s->invoices)))
        return NULL;
    struct fmt_scf_invoice_result *x = &s->invoices[s->n_invoices++];
    fmt_scf_invoice_result_init(x);
    *index = s->n_invoices;
    return x;
}

#define X struct fmt_scf_invoice_result
static const struct ent result_e[] = {
    E_G("OrgnlInvcInf", F_REQ),
    E_V("OrgnlInvcInf/DocNb", F_REQ, V_STR, X, number),
    E_V("OrgnlInvcInf/TtlInvcAmt", F_REQ, V_AMT, X, invoice_amount),
    E_V("OrgnlInvcInf/IsseDt", F_REQ, V_DATE, X, issue_date),
    E_V("OrgnlInvcInf/PmtDueDt", F_REQ, V_DATE, X, due_date),
    E_C("Spplr", 0, X, seller, party8_t),
    E_G("InvcFincgRslt", F_REQ),
    E_F("InvcFincgRslt/FincgReqSts", F_REQ, fn_item),
    E_G("InvcFincgRslt/StsRsn", 0),
    E_V("InvcFincgRslt/StsRsn/Cd", 0, V_STR, X, reason.code),
    E_V("InvcFincgRslt/StsRsn/Prtry", 0, V_STR, X, reason.prtry),
    E_V("InvcFincgRslt/AddtlStsRsnInf", F_REP, V_APPEND, X, reason.addtl_info),
    E_G("InvcFincgRslt/FincdAmt", 0),
    E_V("InvcFincgRslt/FincdAmt/Amt", 0, V_AMT, X, financed),
    E_V("InvcFincgRslt/FincdAmt/Rate", 0, V_RATE, X, financed_rate),
    E_I("InstlmtFincgInf"),
};
TABLE(result_t, result_e, result_new, NULL);
#undef X

static int entry_seen(const struct ctx *c, const char *path);

/* The status is not a tsin field: derived as scf.h says. */
static int rep_end(struct rd *r, struct ctx *c)
{
    struct fmt_scf_status_report *s = r->rep;
    size_t ntfd = 0, fncd = 0;
    for (size_t i = 0; i < s->n_invoices; i++) {
        ntfd += s->invoices[i].result == FMT_SCF_ITEM_REJECTED;
        fncd += s->invoices[i].result == FMT_SCF_ITEM_ACCEPTED;
    }
    if (r->vsts == 2 || (s->n_invoices > 0 && ntfd == s->n_invoices))
        s->status = FMT_SCF_REJECTED;
    else if (s->cancel_answer == FMT_SCF_CXL_ACCEPTED)
        s->status = FMT_SCF_CANCELLED;
    else if (s->value_date)
        s->status = FMT_SCF_FINANCED;
    else if (fncd)
        s->status = FMT_SCF_APPROVED;
    else if (entry_seen(c, "FincgInfAndSts"))
        s->status = FMT_SCF_UNDER_REVIEW;
    else
        s->status = FMT_SCF_SUBMITTED;
    return 0;
}

#define S struct fmt_scf_status_report
#define OR "OrgnlReqInfAndSts/"
#define SU "FincgInfAndSts/FincgAllwdSummry/"
static const struct ent rep_e[] = {
    E_G("StsId", F_REQ),
    E_V("StsId/Id", F_REQ, V_STR, S, status_id),
    E_V("StsId/CreDtTm", F_REQ, V_DTTM, S, cre_dt_tm),
    E_G("OrgnlReqInfAndSts", F_REQ),
    E_V(OR "Id", F_REQ, V_STR, S, orgnl_request_id),
    E_V(OR "CreDtTm", F_REQ, V_DTTM, S, orgnl_cre_dt_tm),
    E_S(OR "FincgRqstr"),
    E_S(OR "IntrmyAgt"),
    E_S(OR "FrstAgt"),
    E_G(OR "VldtnStsInf", F_REQ),
    E_F(OR "VldtnStsInf/Sts", F_REQ, fn_vsts),
    E_G(OR "VldtnStsInf/StsRsn", 0),
    E_V(OR "VldtnStsInf/StsRsn/Cd", 0, V_STR, S, reason.code),
    E_V(OR "VldtnStsInf/StsRsn/Prtry", 0, V_STR, S, reason.prtry),
    E_V(OR "VldtnStsInf/AddtlStsRsnInf", F_REP, V_APPEND, S, reason.addtl_info),
    E_G(OR "CxlStsInf", 0),
    E_F(OR "CxlStsInf/Sts", F_REQ, fn_csts),
    E_G(OR "CxlStsInf/StsRsn", 0),
    E_V(OR "CxlStsInf/StsRsn/Cd", 0, V_STR, S, cancel_reason.code),
    E_V(OR "CxlStsInf/StsRsn/Prtry", 0, V_STR, S, cancel_reason.prtry),
    E_V(OR "CxlStsInf/AddtlStsRsnInf", F_REP, V_APPEND, S,
        cancel_reason.addtl_info),
    E_G("FincgInfAndSts", 0),
    E_G("FincgInfAndSts/FincgAllwdSummry", F_REQ),
    E_V(SU "FincdItmNb", F_REQ, V_NUM, S, n_financed_items),
    E_V(SU "TtlAccptdItmsAmt", F_REQ, V_AMT, S, accepted_total),
    E_V(SU "ApldPctg", 0, V_RATE, S, applied_pctg),
    E_F(SU "TtlFincdAmt", F_REQ, fn_fincd),
    E_G(SU "FincgDtDtls", 0),
    E_F(SU "FincgDtDtls/BookDt", F_REP, fn_bookdt),
    E_V(SU "FincgDtDtls/CdtDt", F_REQ, V_DATE, S, value_date),
    E_V(SU "FincgDtDtls/DbtDt", 0, V_DATE, S, maturity_date),
    E_C(SU "CdtAcct", 0, S, credit_acct, account_t),
    E_C(SU "FincgAcct", 0, S, financing_acct, account_t),
    E_R("FincgInfAndSts/InvcFincgDtls", F_REQ | F_REP, result_t),
};
TABLE(rep_t, rep_e, NULL, rep_end);
#undef S
#undef OR
#undef SU

/* ---- tsin.003 -------------------------------------------------------------
 */

#define C struct fmt_scf_cancel
static const struct ent cxl_e[] = {
    E_G("CxlReqId", F_REQ),
    E_V("CxlReqId/Id", F_REQ, V_STR, C, cancel_id),
    E_V("CxlReqId/CreDtTm", F_REQ, V_DTTM, C, cre_dt_tm),
    E_G("CxlReqInf", F_REQ),
    E_V("CxlReqInf/OrgnlGrpId", F_REQ, V_STR, C, orgnl_request_id),
    E_V("CxlReqInf/OrgnlCreDtTm", F_REQ, V_DTTM, C, orgnl_cre_dt_tm),
    E_V("CxlReqInf/NbOfInvcReqs", 0, V_NUM, C, nb_of_invoices),
    E_V("CxlReqInf/TtlBlkInvcAmt", 0, V_AMT, C, total_invoice_amount),
    E_V("CxlReqInf/CxlRsn", F_REQ, V_STR, C, reason),
    E_G("CxlReqInf/FincgRqstr", 0),
    E_C("CxlReqInf/FincgRqstr/PtyId", F_REQ, C, requestor, party25_t),
    E_U("CxlReqInf/FincgRqstr/CdtAcct"),
    E_U("CxlReqInf/FincgRqstr/FincgAcct"),
    E_U("CxlReqInf/IntrmyAgt"),
    E_C("CxlReqInf/FrstAgt", 0, C, bank, agent_t),
};
TABLE(cxl_t, cxl_e, NULL, NULL);
#undef C

/* ---- the walker -----------------------------------------------------------
 */

static const struct {
    const char *ns, *root, *name;
    const struct table *t;
} msgs[] = {
    {NULL, NULL, NULL, NULL},
    {"urn:iso:std:iso:20022:tech:xsd:tsin.001.001.01", "InvcFincgReq",
     "tsin.001 invoice financing request", &req_t},
    {"urn:iso:std:iso:20022:tech:xsd:tsin.002.001.01", "InvcFincgReqSts",
     "tsin.002 invoice financing request status", &rep_t},
    {"urn:iso:std:iso:20022:tech:xsd:tsin.003.001.01", "InvcFincgCxlReq",
     "tsin.003 invoice financing cancellation request", &cxl_t},
};

/* The line of the entry at path when the context has seen it, else 0. */
static int entry_seen(const struct ctx *c, const char *path)
{
    for (size_t i = 0; i < c->t->n; i++)
        if (!strcmp(c->t->e[i].path, path))
            return (c->seen >> i) & 1u ? c->lines[i] : 0;
    return 0;
}

/* Path of the current element relative to the top context. */
static const char *rel_path(struct rd *r, const struct ctx *c, char *buf,
                            size_t sz)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int d = c->depth + 1; d <= r->depth && n < sz; d++)
        n += snprintf(buf + n, sz - n, "%s%s", n ? "/" : "", r->names[d]);
    return buf;
}

static int push_ctx(struct rd *r, const struct table *t, void *tgt)
{
    if (r->nc >= MAX_CTX)
        H2H_BUG("tsin reader: contexts nested deeper than the tables");
    struct ctx *c = &r->c[r->nc++];
    c->t = t;
    c->tgt = tgt;
    c->depth = r->depth;
    c->line = r->line;
    c->seen = 0;
    return 0;
}

static int close_ctx(struct rd *r)
{
    struct ctx *c = &r->c[r->nc - 1];
    for (size_t i = 0; i < c->t->n; i++) {
        const struct ent *e = &c->t->e[i];
        if (!(e->flags & F_REQ) || ((c->seen >> i) & 1u))
            continue;
        /* Mandatory only where its group is: look for the parent, and
         * report at its line, where the element should have been. */
        const char *slash = strrchr(e->path, '/');
        int line = c->line;
        if (slash) {
            char parent[128];
            size_t n = (size_t)(slash - e->path);
            if (n >= sizeof(parent))
                continue;
            memcpy(parent, e->path, n);
            parent[n] = '\0';
            if (!(line = entry_seen(c, parent)))
                continue;
        }
        problem_at(r, line, c->depth, e->path, "tsin.element.missing",
                   "mandatory element <%s> is missing",
                   slash ? slash + 1 : e->path);
    }
    int rc = c->t->end ? c->t->end(r, c) : 0;
    r->nc--;
    return rc;
}

static int leaf(struct rd *r, struct ctx *c, const struct ent *e, int empty)
{
    char *ccy = NULL;
    int rc = 0;
    if (e->conv == V_AMT || e->fn == fn_total || e->fn == fn_fincd)
        ccy = (char *)xmlTextReaderGetAttribute(r->x.r, BAD_CAST "Ccy");
    char *v = empty ? strdup("") : fmt_xml_text(&r->x, r->err);
    if (!v) {
        xmlFree(ccy);
        if (empty)
            return nomem(r);
        return fatal(r, r->err && r->err->code ? r->err->code : H2H_EPARSE,
                     "tsin.xml", "%s", r->err ? r->err->msg : "parse error");
    }
    trim(v);
    if (!*v) {
        PROBLEM(r, "tsin.element.missing", "element %s is empty",
                r->names[r->depth]);
        free(v);
        xmlFree(ccy);
        return 0;
    }
    void *slot = (char *)c->tgt + e->off;
    struct h2h_err e2 = {0};
    switch (e->conv) {
    case V_STR: put(slot, v), v = NULL; break;
    case V_APPEND:
        rc = append(slot, v), v = NULL;
        if (rc < 0)
            rc = nomem(r);
        break;
    case V_DATE:
        if (fmt_date_check(v, &e2) < 0)
            PROBLEM(r, "tsin.date.invalid", "%s", e2.msg);
        else
            put(slot, v), v = NULL;
        break;
    case V_DTTM:
        if (fmt_datetime_check(v, &e2) < 0)
            PROBLEM(r, "tsin.datetime.invalid", "%s", e2.msg);
        else
            put(slot, v), v = NULL;
        break;
    case V_AMT: parse_amount(r, v, ccy, slot); break;
    case V_RATE:
        if (fmt_scf_rate_parse(v, strlen(v), slot, &e2) < 0)
            PROBLEM(r, "tsin.rate.invalid", "%s", e2.msg);
        break;
    case V_NUM: parse_count(r, v, slot); break;
    case V_FN: rc = e->fn(r, c->tgt, v, ccy), v = NULL; break;
    }
    free(v);
    xmlFree(ccy);
    return rc;
}

/* 0: the element stays open (descend), 1: it was consumed, < 0: stop. */
static int on_start(struct rd *r, const char *name, int empty)
{
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->x.r);
    ns = ns ? ns : "";
    if (r->depth == 1) {
        r->started = 1;
        if (strcmp(name, "Document") != 0)
            return fatal(r, H2H_EUNSUPPORTED, "tsin.root",
                         "line %d: root element <%.64s> is not an ISO 20022 "
                         "<Document>",
                         r->line, name);
        if (*ns && strcmp(ns, msgs[r->msg].ns) != 0)
            return fatal(r, H2H_EUNSUPPORTED, "tsin.namespace",
                         "line %d: namespace \"%.120s\" is not that of a %s "
                         "(%s)",
                         r->line, ns, msgs[r->msg].name, msgs[r->msg].ns);
        snprintf(r->ns, sizeof(r->ns), "%s", ns);
        return 0;
    }
    if (r->depth == 2 && !r->root_done) {
        r->root_done = 1;
        if (strcmp(name, msgs[r->msg].root) != 0 || strcmp(ns, r->ns) != 0)
            return fatal(r, H2H_EUNSUPPORTED, "tsin.root",
                         "line %d: <%.64s> is not a %s (%s)", r->line, name,
                         msgs[r->msg].name, msgs[r->msg].root);
        push_ctx(r, msgs[r->msg].t,
                 r->msg == 1   ? (void *)r->req
                 : r->msg == 2 ? (void *)r->rep
                               : (void *)r->cxl);
        return 0;
    }
    if (strcmp(ns, r->ns) != 0) {
        PROBLEM(r, "tsin.namespace",
                "element <%.64s> is in namespace \"%.100s\", not the "
                "document's",
                name, ns);
        goto skip;
    }
    if (r->nc == 0) {
        PROBLEM(r, "tsin.element.unknown",
                "<%.64s> is not part of the message and was not read", name);
        goto skip;
    }
    struct ctx *c = &r->c[r->nc - 1];
    char rel[PATH_MAX_LEN];
    rel_path(r, c, rel, sizeof(rel));
    size_t i = 0;
    while (i < c->t->n && strcmp(c->t->e[i].path, rel) != 0)
        i++;
    if (i == c->t->n) {
        PROBLEM(r, "tsin.element.unknown",
                "<%.64s> is not an element of %s here and was not read", name,
                msgs[r->msg].name);
        goto skip;
    }
    const struct ent *e = &c->t->e[i];
    if (((c->seen >> i) & 1u) && !(e->flags & F_REP)) {
        PROBLEM(r, "tsin.element.repeated",
                "<%.64s> appears more than once; the first one was kept", name);
        goto skip;
    }
    c->seen |= (uint64_t)1 << i;
    c->lines[i] = r->line;
    switch ((enum kind)e->kind) {
    case K_GROUP: return 0;
    case K_LEAF: {
        int rc = leaf(r, c, e, empty);
        return rc < 0 ? rc : 1;
    }
    case K_CTX: return push_ctx(r, e->sub, (char *)c->tgt + e->off);
    case K_REC: {
        size_t index = 0;
        void *tgt = e->sub->rec_new(r, &index);
        if (!tgt)
            return r->err && r->err->code ? r->err->code : H2H_ENOMEM;
        r->idx[r->depth] = index;
        return push_ctx(r, e->sub, tgt);
    }
    case K_SKIP: goto skip;
    case K_UNSUP:
        PROBLEM(r, "tsin.element.unsupported",
                "<%.64s> is not supported by h2hd and was not read", name);
        goto skip;
    case K_INSTAL:
        PROBLEM(r, "tsin.instalment.unsupported",
                "instalments are not supported by h2hd: <%.64s> was not read",
                name);
        goto skip;
    }
skip:
    if (!empty) {
        int rc = fmt_xml_skip(&r->x, r->err);
        if (rc < 0)
            return fatal(r, rc, "tsin.xml", "%s",
                         r->err ? r->err->msg : "parse error");
    }
    return 1;
}

static int on_end(struct rd *r)
{
    int rc = 0;
    if (r->nc && r->c[r->nc - 1].depth == r->depth)
        rc = close_ctx(r);
    r->idx[r->depth] = 0;
    return rc;
}

/* The line an xmlsafe error names ("line N: ..."), else the last node's. */
static int err_line(struct rd *r)
{
    const char *m = r->err ? strstr(r->err->msg, "line ") : NULL;
    int n = 0;
    if (m && sscanf(m, "line %d", &n) == 1 && n > 0)
        return n;
    return r->line;
}

static int read_doc(int msg, const struct fmt_src *src, struct rd *r)
{
    int rc;
    r->msg = msg;
    fmt_xml_init();
    if ((rc = fmt_xml_open(&r->x, src, r->err)) < 0) {
        r->line = err_line(r);
        return fatal(r, rc, "tsin.xml", "%s", r->err ? r->err->msg : "");
    }
    while ((rc = fmt_xml_read(&r->x, r->err)) == 1) {
        int type = xmlTextReaderNodeType(r->x.r);
        r->line = fmt_xml_line(&r->x);
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *name =
                (const char *)xmlTextReaderConstLocalName(r->x.r);
            int empty = xmlTextReaderIsEmptyElement(r->x.r);
            int d = xmlTextReaderDepth(r->x.r) + 1;
            if (d > MAX_DEPTH) {
                rc = fatal(r, H2H_ETOOBIG, "tsin.toobig",
                           "line %d: elements nested deeper than %d", r->line,
                           MAX_DEPTH);
                goto out;
            }
            r->depth = d;
            snprintf(r->names[d], sizeof(r->names[d]), "%s", name ? name : "");
            r->idx[d] = 0;
            if ((rc = on_start(r, r->names[d], empty)) < 0)
                goto out;
            if (rc == 1 || empty) {
                if (rc != 1 && (rc = on_end(r)) < 0)
                    goto out;
                r->depth = d - 1;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (xmlTextReaderDepth(r->x.r) + 1 != r->depth)
                continue;
            if ((rc = on_end(r)) < 0)
                goto out;
            r->depth--;
        }
    }
    if (rc < 0) {
        if (!r->fatal_noted) {
            r->line = err_line(r);
            rc = fatal(r, rc, "tsin.xml", "%s", r->err ? r->err->msg : "");
        }
        goto out;
    }
    if (!r->started) {
        rc = fatal(r, H2H_EPARSE, "tsin.xml", "the document is empty");
        goto out;
    }
    if (!r->root_done) {
        rc = fatal(r, H2H_EUNSUPPORTED, "tsin.root",
                   "the document holds no %s (%s)", msgs[msg].name,
                   msgs[msg].root);
        goto out;
    }
    rc = 0;
out:
    fmt_xml_close(&r->x);
    free(r->ai.cd);
    free(r->ai.prtry);
    free(r->ai.val);
    free(r->doc.cd);
    free(r->doc.prtry);
    free(r->doc.nb);
    free(r->pid_id);
    free(r->pid_tp);
    free(r->reqamt);
    return rc;
}

int fmt_tsin001_read(const struct fmt_src *src, struct fmt_scf_request *out,
                     struct fmt_diag *diag, struct h2h_err *err)
{
    if (!out || !src)
        return h2h_err_set(err, H2H_EINVALID, "no source or request to fill");
    fmt_scf_request_release(out);
    struct rd *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->req = out;
    r->diag = diag;
    r->err = err ? err : &r->own;
    int rc = read_doc(FMT_TSIN_001, src, r);
    free(r);
    return rc;
}

int fmt_tsin002_read(const struct fmt_src *src,
                     struct fmt_scf_status_report *out, struct fmt_diag *diag,
                     struct h2h_err *err)
{
    if (!out || !src)
        return h2h_err_set(err, H2H_EINVALID, "no source or report to fill");
    fmt_scf_status_report_release(out);
    struct rd *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->rep = out;
    r->diag = diag;
    r->err = err ? err : &r->own;
    int rc = read_doc(FMT_TSIN_002, src, r);
    free(r);
    return rc;
}

int fmt_tsin003_read(const struct fmt_src *src, struct fmt_scf_cancel *out,
                     struct fmt_diag *diag, struct h2h_err *err)
{
    if (!out || !src)
        return h2h_err_set(err, H2H_EINVALID,
                           "no source or cancellation to fill");
    fmt_scf_cancel_release(out);
    struct rd *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->cxl = out;
    r->diag = diag;
    r->err = err ? err : &r->own;
    int rc = read_doc(FMT_TSIN_003, src, r);
    free(r);
    return rc;
}

/* ---- detection ------------------------------------------------------------
 */

/* s occurs in b[0..n) and is followed by one of the bytes in after. */
static const char *find(const char *b, size_t n, const char *s,
                        const char *after)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k < n; i++)
        if (!memcmp(b + i, s, k) && strchr(after, b[i + k]))
            return b + i;
    return NULL;
}

int fmt_tsin_detect(const char *buf, size_t len)
{
    static const char *const roots[] = {NULL, "<InvcFincgReq",
                                        "<InvcFincgReqSts", "<InvcFincgCxlReq"};
    if (!buf)
        return FMT_TSIN_NONE;
    size_t n = len < 4096 ? len : 4096;
    for (int m = FMT_TSIN_001; m <= FMT_TSIN_003; m++)
        if (find(buf, n, msgs[m].ns, "\"'"))
            return m;
    /* No namespace: the message element decides ("<InvcFincgReq" is a
     * prefix of the other two, hence the closing character). */
    for (int m = FMT_TSIN_001; m <= FMT_TSIN_003; m++)
        if (find(buf, n, roots[m], "> \t\r\n/"))
            return m;
    return FMT_TSIN_NONE;
}
