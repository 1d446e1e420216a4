/*
 * validate.c - payment validator (tee sink); see validate.h.
 *
 * Every check adds at most one problem per field so that one bad value
 * does not bury the others; messages name the field in words and, for
 * identifiers, quote the offending value (never a full account number:
 * fmt_iban_check masks IBANs).
 */
#include "validate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "amount.h"
#include "ident.h"

#define MAX35 35
#define MAX140 140
#define SEPA_MAX_MINOR 99999999999LL /* 999,999,999.99 EUR */

struct fmt_pay_validator {
    struct fmt_profile p;
    char today[11];
    long today_days;
    struct fmt_diag *diag;
    struct fmt_pay_sink next;
    int has_next;

    int began, ended;
    int64_t hdr_nb; /* declared, from begin/end */
    int hdr_has_sum;
    int64_t hdr_sum;

    size_t grp_index; /* 1-based index of the current PmtInf */
    size_t tx_index;  /* 1-based index within the PmtInf */
    int64_t grp_cnt, grp_sum;
    int grp_sum_ok;
    int64_t all_cnt, all_sum;
    int all_sum_ok;

    /* open addressing set of 64-bit id hashes, 0 = empty slot */
    uint64_t *set;
    size_t set_cap, set_n;
    int nomem;
};

/* ---- small helpers ----------------------------------------------------- */

static int blank(const char *s)
{
    return !s || !*s;
}

/* Length in characters (UTF-8 code points), as ISO MaxNText counts. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* A value quoted in a message: shortened, control bytes hidden. */
static const char *q(char *dst, size_t dsz, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 4 < dsz; s++)
        dst[n++] = ((unsigned char)*s < 0x20) ? '?' : *s;
    if (s && *s) {
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)dst[n] & 0xC0) == 0x80)
            n--;
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
    return dst;
}

static void prob(struct fmt_pay_validator *v, int line, const char *where,
                 const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void prob(struct fmt_pay_validator *v, int line, const char *where,
                 const char *rule, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_diag_add(v->diag, line, where, rule, "%s", msg);
}

/* Text building for paths and labels.  Every transaction builds some
 * twenty of them before knowing whether a problem needs one, so they are
 * concatenated by hand: snprintf here cost a tenth of a conversion.  The
 * result is what snprintf would give, cut at sz - 1 bytes. */
static void app(char *dst, size_t sz, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (*n + l >= sz)
        l = sz - 1 - *n;
    memcpy(dst + *n, s, l);
    *n += l;
    dst[*n] = '\0';
}

static void app_num(char *dst, size_t sz, size_t *n, size_t v)
{
    char t[24], *e = t + sizeof(t), *q = e;
    *--q = '\0';
    do
        *--q = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    app(dst, sz, n, q);
}

/* Element paths.  The generic path follows pain.001 names whatever the
 * input format was, so a treasury user can find the field in any tool. */
static const char *gpath(struct fmt_pay_validator *v, char *buf, size_t sz,
                         const char *rel)
{
    size_t n = 0;
    buf[0] = '\0';
    app(buf, sz, &n, "PmtInf[");
    app_num(buf, sz, &n, v->grp_index);
    app(buf, sz, &n, "]/");
    app(buf, sz, &n, rel);
    return buf;
}

static const char *tpath(struct fmt_pay_validator *v, char *buf, size_t sz,
                         const char *rel)
{
    size_t n = 0;
    buf[0] = '\0';
    app(buf, sz, &n, "PmtInf[");
    app_num(buf, sz, &n, v->grp_index);
    app(buf, sz, &n, "]/CdtTrfTxInf[");
    app_num(buf, sz, &n, v->tx_index);
    app(buf, sz, &n, "]/");
    app(buf, sz, &n, rel);
    return buf;
}

/* base + "/" + rel into dst; a path cut short is still a useful hint. */
static const char *pjoin(char *dst, size_t sz, const char *base,
                         const char *rel)
{
    size_t n = 0;
    dst[0] = '\0';
    app(dst, sz, &n, base);
    app(dst, sz, &n, "/");
    app(dst, sz, &n, rel);
    return dst;
}

/* label + suffix into dst ("Creditor" " name"). */
static const char *lcat(char *dst, size_t sz, const char *label,
                        const char *suffix)
{
    size_t n = 0;
    dst[0] = '\0';
    app(dst, sz, &n, label);
    app(dst, sz, &n, suffix);
    return dst;
}

/* ---- id set ------------------------------------------------------------ */

static uint64_t id_hash(const char *kind, const char *id)
{
    /* FNV-1a over kind, a separator and id, then a murmur3 finaliser to
     * spread the bits for the power-of-two table. */
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = kind; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *s = id; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static int set_grow(struct fmt_pay_validator *v)
{
    size_t nc = v->set_cap ? v->set_cap * 2 : 1024;
    uint64_t *ns = calloc(nc, sizeof(*ns));
    if (!ns)
        return H2H_ENOMEM;
    for (size_t i = 0; i < v->set_cap; i++) {
        uint64_t h = v->set[i];
        if (!h)
            continue;
        size_t j = (size_t)h & (nc - 1);
        while (ns[j])
            j = (j + 1) & (nc - 1);
        ns[j] = h;
    }
    free(v->set);
    v->set = ns;
    v->set_cap = nc;
    return 0;
}

/* 1 if already present, 0 if inserted, negative on ENOMEM. */
static int set_add(struct fmt_pay_validator *v, const char *kind,
                   const char *id)
{
    if ((v->set_n + 1) * 5 > v->set_cap * 4 && set_grow(v) < 0)
        return H2H_ENOMEM;
    uint64_t h = id_hash(kind, id);
    size_t j = (size_t)h & (v->set_cap - 1);
    while (v->set[j]) {
        if (v->set[j] == h)
            return 1;
        j = (j + 1) & (v->set_cap - 1);
    }
    v->set[j] = h;
    v->set_n++;
    return 0;
}

/* ---- field checks ------------------------------------------------------ */

static void probr(struct fmt_pay_validator *v, int line, const char *where,
                  const char *prefix, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A problem whose rule id is prefix + suffix ("tx.endtoendid" ".dup"). */
static void probr(struct fmt_pay_validator *v, int line, const char *where,
                  const char *prefix, const char *suffix, const char *fmt, ...)
{
    char rule[96], msg[900];
    snprintf(rule, sizeof(rule), "%s%s", prefix, suffix);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_diag_add(v->diag, line, where, rule, "%s", msg);
}

/* EPC: identifiers use the SEPA set and neither start nor end with '/'
 * nor contain "//". */
static int sepa_id_ok(const char *id)
{
    size_t n = strlen(id);
    return fmt_sepa_charset_ok(id) && id[0] != '/' && id[n - 1] != '/' &&
           !strstr(id, "//");
}

/* An identifier: mandatory or not, Max35Text, optionally unique in the
 * file (kind != NULL) and across files (seen_before). */
static void check_id(struct fmt_pay_validator *v, int line, const char *where,
                     const char *rule, const char *label, const char *kind,
                     const char *id, int mandatory)
{
    char b[64];
    if (blank(id)) {
        if (mandatory)
            probr(v, line, where, rule, ".missing", "%s is missing", label);
        return;
    }
    if (chars(id) > MAX35)
        probr(v, line, where, rule, ".length",
              "%s \"%s\" is longer than 35 characters", label,
              q(b, sizeof(b), id));
    if (v->p.practice == FMT_PRACTICE_SEPA && !sepa_id_ok(id))
        probr(v, line, where, rule, ".charset",
              "%s \"%s\" uses characters not allowed in SEPA (letters, "
              "digits and / - ? : ( ) . , ' + space; no leading, trailing "
              "or double '/')",
              label, q(b, sizeof(b), id));
    if (!kind)
        return;
    /* ISO allows NOTPROVIDED when the debtor gives no reference. */
    if (!strcmp(kind, "EndToEndId") && !strcmp(id, "NOTPROVIDED"))
        return;
    int r = set_add(v, kind, id);
    if (r < 0) {
        v->nomem = 1;
        return;
    }
    if (r == 1) {
        probr(v, line, where, rule, ".dup",
              "%s \"%s\" is used more than once in this file", label,
              q(b, sizeof(b), id));
        return;
    }
    if (v->p.seen_before && v->p.seen_before(v->p.seen_ctx, kind, id) == 1)
        probr(v, line, where, rule, ".dup_earlier",
              "%s \"%s\" was already used in an earlier file; a bank would "
              "reject or, worse, pay twice",
              label, q(b, sizeof(b), id));
}

/* A name: mandatory or not, Max140Text, SEPA character set. */
static void check_name(struct fmt_pay_validator *v, int line, const char *where,
                       const char *rule, const char *label, const char *name,
                       int mandatory)
{
    char b[64];
    if (blank(name)) {
        if (mandatory)
            probr(v, line, where, rule, ".missing", "%s is missing", label);
        return;
    }
    if (chars(name) > MAX140)
        probr(v, line, where, rule, ".length",
              "%s \"%s\" is longer than 140 characters", label,
              q(b, sizeof(b), name));
    if (v->p.practice == FMT_PRACTICE_SEPA && !v->p.transliterate &&
        !fmt_sepa_charset_ok(name))
        probr(v, line, where, rule, ".charset",
              "%s \"%s\" uses characters outside the SEPA set (letters "
              "without accents, digits, / - ? : ( ) . , ' + space); "
              "replace them or enable transliteration for this bank",
              label, q(b, sizeof(b), name));
}

static void check_country(struct fmt_pay_validator *v, int line,
                          const char *where, const char *label, const char *cc)
{
    char b[16];
    if (!blank(cc) && !fmt_country_valid(cc))
        prob(v, line, where, "country.invalid",
             "%s \"%s\" is not an ISO 3166 country code", label,
             q(b, sizeof(b), cc));
}

/* Postal address: countries valid; CGI wants a structured address with a
 * country. */
static void check_postal(struct fmt_pay_validator *v, int line,
                         const char *where_base, const char *label,
                         const struct fmt_postal *a, int cgi_required)
{
    char w[160];
    pjoin(w, sizeof(w), where_base, "PstlAdr/Ctry");
    check_country(v, line, w, label, a->country);
    if (cgi_required && v->p.practice == FMT_PRACTICE_CGI && blank(a->country))
        prob(v, line, w, "cgi.addr.country",
             "%s: the postal address must give a country (CGI-MP "
             "structured address)",
             label);
}

static void check_party(struct fmt_pay_validator *v, int line,
                        const char *where_base, const char *rule,
                        const char *label, const struct fmt_party *p,
                        int mandatory, int cgi_addr)
{
    char w[160], lbl[96];
    pjoin(w, sizeof(w), where_base, "Nm");
    lcat(lbl, sizeof(lbl), label, " name");
    check_name(v, line, w, rule, lbl, p->name, mandatory);
    lcat(lbl, sizeof(lbl), label, " country");
    check_postal(v, line, where_base, lbl, &p->addr, cgi_addr);
    pjoin(w, sizeof(w), where_base, "CtryOfRes");
    lcat(lbl, sizeof(lbl), label, " country of residence");
    check_country(v, line, w, lbl, p->ctry_of_res);
    if (!blank(p->org_bic)) {
        struct h2h_err e = {0};
        if (fmt_bic_check(p->org_bic, &e) < 0) {
            pjoin(w, sizeof(w), where_base, "Id/OrgId/AnyBIC");
            prob(v, line, w, "bic.invalid", "%s identifier: %s", label, e.msg);
        }
    }
}

static void check_account(struct fmt_pay_validator *v, int line,
                          const char *where_base, const char *rule,
                          const char *label, const struct fmt_account *a)
{
    char w[160], b[16];
    if (blank(a->iban) && blank(a->other_id)) {
        pjoin(w, sizeof(w), where_base, "Id");
        probr(v, line, w, rule, ".missing", "%s is missing", label);
        return;
    }
    if (!blank(a->iban)) {
        struct h2h_err e = {0};
        pjoin(w, sizeof(w), where_base, "Id/IBAN");
        if (fmt_iban_check(a->iban, &e) < 0)
            probr(v, line, w, rule, ".iban", "%s: %s", label, e.msg);
    } else if (v->p.practice == FMT_PRACTICE_SEPA) {
        pjoin(w, sizeof(w), where_base, "Id/IBAN");
        probr(v, line, w, rule, ".sepa_iban", "%s must be an IBAN in SEPA",
              label);
    } else if (chars(a->other_id) > 34) {
        pjoin(w, sizeof(w), where_base, "Id/Othr/Id");
        probr(v, line, w, rule, ".length",
              "%s number is longer than 34 characters", label);
    }
    if (!blank(a->ccy) && !fmt_ccy_valid(a->ccy)) {
        pjoin(w, sizeof(w), where_base, "Ccy");
        prob(v, line, w, "ccy.unknown",
             "%s currency \"%s\" is not an ISO 4217 currency code", label,
             q(b, sizeof(b), a->ccy));
    }
}

static void check_agent(struct fmt_pay_validator *v, int line,
                        const char *where_base, const char *label,
                        const struct fmt_agent *a)
{
    char w[160];
    if (!blank(a->bic)) {
        struct h2h_err e = {0};
        if (fmt_bic_check(a->bic, &e) < 0) {
            pjoin(w, sizeof(w), where_base, "FinInstnId/BIC");
            prob(v, line, w, "bic.invalid", "%s: %s", label, e.msg);
        }
    }
    pjoin(w, sizeof(w), where_base, "FinInstnId");
    char lbl[96];
    lcat(lbl, sizeof(lbl), label, " country");
    check_postal(v, line, w, lbl, &a->addr, 0);
}

/* ---- sink callbacks ---------------------------------------------------- */

static int v_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_pay_validator *v = ctx;
    v->began = 1;
    v->hdr_nb = h->nb_of_txs;
    v->hdr_has_sum = h->has_ctrl_sum;
    v->hdr_sum = h->ctrl_sum_milli;
    check_id(v, 0, "GrpHdr/MsgId", "hdr.msgid", "Message id (MsgId)", "MsgId",
             h->msg_id, 1);
    if (!blank(h->cre_dt_tm) && fmt_datetime_check(h->cre_dt_tm, NULL) < 0)
        prob(v, 0, "GrpHdr/CreDtTm", "hdr.credttm.format",
             "creation time \"%.40s\" is not an ISO date and time",
             h->cre_dt_tm);
    check_party(v, 0, "GrpHdr/InitgPty", "hdr.initgpty.name",
                "Initiating party", &h->initg_pty, 0, 0);
    if (v->has_next && v->next.begin)
        return v->next.begin(v->next.ctx, h);
    return 0;
}

static int v_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_pay_validator *v = ctx;
    char w[160], b[64];
    int line = g->line;
    v->grp_index++;
    v->tx_index = 0;
    v->grp_cnt = 0;
    v->grp_sum = 0;
    v->grp_sum_ok = 1;

    check_id(v, line, gpath(v, w, sizeof(w), "PmtInfId"), "grp.pmtinfid",
             "Payment information id (PmtInfId)", "PmtInfId", g->pmt_inf_id, 1);

    gpath(v, w, sizeof(w), "ReqdExctnDt");
    if (blank(g->reqd_exctn_dt)) {
        prob(v, line, w, "grp.reqdexctndt.missing",
             "requested execution date is missing");
    } else if (fmt_date_check(g->reqd_exctn_dt, NULL) < 0) {
        prob(v, line, w, "grp.reqdexctndt.format",
             "requested execution date \"%s\" is not a valid date "
             "(YYYY-MM-DD)",
             q(b, sizeof(b), g->reqd_exctn_dt));
    } else {
        long d = fmt_date_days(g->reqd_exctn_dt);
        long tol = v->p.exec_date_tolerance_days;
        if (d < v->today_days - tol)
            prob(v, line, w, "grp.reqdexctndt.past",
                 "requested execution date %s is %ld days in the past "
                 "(at most %ld allowed); correct the date",
                 g->reqd_exctn_dt, v->today_days - d, tol);
    }

    check_party(v, line, gpath(v, w, sizeof(w), "Dbtr"), "grp.dbtr.name",
                "Debtor", &g->dbtr, 1, 1);
    check_account(v, line, gpath(v, w, sizeof(w), "DbtrAcct"), "grp.dbtracct",
                  "Debtor account", &g->dbtr_acct);
    check_agent(v, line, gpath(v, w, sizeof(w), "DbtrAgt"), "Debtor bank",
                &g->dbtr_agt);
    check_party(v, line, gpath(v, w, sizeof(w), "UltmtDbtr"),
                "grp.ultmtdbtr.name", "Ultimate debtor", &g->ult_dbtr, 0, 0);

    if (v->p.practice == FMT_PRACTICE_SEPA) {
        if (!blank(g->svc_lvl) && strcmp(g->svc_lvl, "SEPA"))
            prob(v, line, gpath(v, w, sizeof(w), "PmtTpInf/SvcLvl/Cd"),
                 "sepa.svclvl", "service level \"%s\" is not SEPA",
                 q(b, sizeof(b), g->svc_lvl));
        if (!blank(g->chrg_br) && strcmp(g->chrg_br, "SLEV"))
            prob(v, line, gpath(v, w, sizeof(w), "ChrgBr"), "sepa.chrgbr",
                 "charge bearer \"%s\" is not allowed in SEPA (only SLEV)",
                 q(b, sizeof(b), g->chrg_br));
    }
    if (v->has_next && v->next.group_begin)
        return v->next.group_begin(v->next.ctx, g);
    return 0;
}

static void check_remittance(struct fmt_pay_validator *v, int line,
                             const struct fmt_pay_tx *t)
{
    char w[160], b[64];
    if (blank(t->rmt_ustrd))
        goto strd;
    tpath(v, w, sizeof(w), "RmtInf/Ustrd");
    size_t nlines = 0;
    int long_seen = 0, charset_seen = 0;
    const char *s = t->rmt_ustrd;
    while (s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char buf[4 * MAX140 + 8];
        nlines++;
        /* count characters of this line without copying unbounded text */
        size_t nchar = 0;
        for (size_t i = 0; i < len; i++)
            if (((unsigned char)s[i] & 0xC0) != 0x80)
                nchar++;
        if (nchar > MAX140 && !long_seen) {
            long_seen = 1;
            prob(v, line, w, "tx.rmt.length",
                 "remittance line %zu is %zu characters long; at most 140 "
                 "are allowed per line",
                 nlines, nchar);
        }
        if (v->p.practice == FMT_PRACTICE_SEPA && !v->p.transliterate &&
            !charset_seen && len < sizeof(buf)) {
            memcpy(buf, s, len);
            buf[len] = '\0';
            if (!fmt_sepa_charset_ok(buf)) {
                charset_seen = 1;
                prob(v, line, w, "tx.rmt.charset",
                     "remittance \"%s\" uses characters outside the SEPA "
                     "set; replace them or enable transliteration for this "
                     "bank",
                     q(b, sizeof(b), buf));
            }
        }
        s = nl ? nl + 1 : NULL;
    }
    if (v->p.practice == FMT_PRACTICE_SEPA && nlines > 1)
        prob(v, line, w, "sepa.rmt.lines",
             "SEPA allows one unstructured remittance line of 140 "
             "characters; this payment has %zu",
             nlines);
strd:
    if (!blank(t->rmt_strd.cdtr_ref) && chars(t->rmt_strd.cdtr_ref) > MAX35)
        prob(v, line, tpath(v, w, sizeof(w), "RmtInf/Strd/CdtrRefInf/Ref"),
             "tx.cdtrref.length",
             "creditor reference \"%s\" is longer than 35 characters",
             q(b, sizeof(b), t->rmt_strd.cdtr_ref));
}

static int v_tx(void *ctx, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    struct fmt_pay_validator *v = ctx;
    char w[160], b[64];
    int line = t->line;
    v->tx_index++;
    v->grp_cnt++;
    v->all_cnt++;

    check_id(v, line, tpath(v, w, sizeof(w), "PmtId/InstrId"), "tx.instrid",
             "Instruction id (InstrId)", NULL, t->instr_id, 0);
    check_id(v, line, tpath(v, w, sizeof(w), "PmtId/EndToEndId"),
             "tx.endtoendid", "End-to-end id (EndToEndId)", "EndToEndId",
             t->end_to_end_id, 1);
    if (!blank(t->uetr) && fmt_uuid_check(t->uetr, NULL) < 0)
        prob(v, line, tpath(v, w, sizeof(w), "PmtId/UETR"), "tx.uetr",
             "UETR \"%s\" is not a lower-case version 4 UUID",
             q(b, sizeof(b), t->uetr));

    /* amount */
    tpath(v, w, sizeof(w), "Amt/InstdAmt");
    if (blank(t->amt.ccy)) {
        prob(v, line, w, "tx.amt.missing",
             "amount or its currency is "
             "missing");
        v->grp_sum_ok = v->all_sum_ok = 0;
    } else {
        int exp = fmt_ccy_exponent(t->amt.ccy);
        if (exp < 0) {
            prob(v, line, w, "ccy.unknown",
                 "currency \"%s\" is not an ISO 4217 currency code",
                 q(b, sizeof(b), t->amt.ccy));
            v->grp_sum_ok = v->all_sum_ok = 0;
        }
        if (t->amt.minor <= 0) {
            char a[32] = "?";
            fmt_amount_format(t->amt.minor, t->amt.ccy, '.', a, sizeof(a));
            prob(v, line, w, "tx.amt.notpositive",
                 "amount %s %s must be greater than zero", a, t->amt.ccy);
        }
        if (v->p.practice == FMT_PRACTICE_SEPA) {
            if (strcmp(t->amt.ccy, "EUR"))
                prob(v, line, w, "sepa.ccy",
                     "SEPA payments must be in EUR, not %s",
                     q(b, sizeof(b), t->amt.ccy));
            else if (t->amt.minor > SEPA_MAX_MINOR)
                prob(v, line, w, "sepa.amt.max",
                     "SEPA payments are limited to 999999999.99 EUR");
        }
        if (exp >= 0) {
            int64_t m = fmt_minor_to_milli(t->amt.minor, t->amt.ccy);
            if (__builtin_add_overflow(v->grp_sum, m, &v->grp_sum))
                v->grp_sum_ok = 0;
            if (__builtin_add_overflow(v->all_sum, m, &v->all_sum))
                v->all_sum_ok = 0;
        }
    }

    check_agent(v, line, tpath(v, w, sizeof(w), "CdtrAgt"), "Creditor bank",
                &t->cdtr_agt);
    if (v->p.practice == FMT_PRACTICE_CGI && blank(t->cdtr_agt.bic) &&
        blank(t->cdtr_agt.clr_mmb_id))
        prob(v, line, tpath(v, w, sizeof(w), "CdtrAgt/FinInstnId"),
             "cgi.cdtragt.missing",
             "the creditor's bank must be identified by BIC or by clearing "
             "system member id");
    check_party(v, line, tpath(v, w, sizeof(w), "Cdtr"), "tx.cdtr.name",
                "Creditor", &t->cdtr, 1, 1);
    check_account(v, line, tpath(v, w, sizeof(w), "CdtrAcct"), "tx.cdtracct",
                  "Creditor account", &t->cdtr_acct);
    check_party(v, line, tpath(v, w, sizeof(w), "UltmtCdtr"),
                "tx.ultmtcdtr.name", "Ultimate creditor", &t->ult_cdtr, 0, 0);
    if (v->p.practice == FMT_PRACTICE_SEPA && !blank(t->chrg_br) &&
        strcmp(t->chrg_br, "SLEV"))
        prob(v, line, tpath(v, w, sizeof(w), "ChrgBr"), "sepa.chrgbr",
             "charge bearer \"%s\" is not allowed in SEPA (only SLEV)",
             q(b, sizeof(b), t->chrg_br));
    check_country(v, line, tpath(v, w, sizeof(w), "RgltryRptg/Authrty/Ctry"),
                  "Regulatory authority country", t->rgltry.authority_ctry);
    check_remittance(v, line, t);

    if (v->has_next && v->next.tx)
        return v->next.tx(v->next.ctx, g, t);
    return 0;
}

static void check_totals(struct fmt_pay_validator *v, int line,
                         const char *where_nb, const char *where_sum,
                         const char *rule_nb, const char *rule_sum,
                         const char *what, int64_t decl_nb, int has_sum,
                         int64_t decl_sum, int64_t cnt, int64_t sum, int sum_ok)
{
    if (decl_nb >= 0 && decl_nb != cnt)
        prob(v, line, where_nb, rule_nb,
             "%s declares %lld transactions (NbOfTxs) but contains %lld", what,
             (long long)decl_nb, (long long)cnt);
    if (has_sum && sum_ok && decl_sum != sum) {
        char d[40], c[40];
        fmt_milli_format(decl_sum, d, sizeof(d));
        fmt_milli_format(sum, c, sizeof(c));
        prob(v, line, where_sum, rule_sum,
             "%s declares a control sum (CtrlSum) of %s but its amounts "
             "add up to %s",
             what, d, c);
    }
}

static int v_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_pay_validator *v = ctx;
    char w1[64], w2[64], what[48];
    snprintf(w1, sizeof(w1), "PmtInf[%zu]/NbOfTxs", v->grp_index);
    snprintf(w2, sizeof(w2), "PmtInf[%zu]/CtrlSum", v->grp_index);
    snprintf(what, sizeof(what), "payment block %zu", v->grp_index);
    check_totals(v, g->line, w1, w2, "grp.nboftxs", "grp.ctrlsum", what,
                 g->nb_of_txs, g->has_ctrl_sum, g->ctrl_sum_milli, v->grp_cnt,
                 v->grp_sum, v->grp_sum_ok);
    if (v->grp_cnt == 0)
        prob(v, g->line, gpath(v, w1, sizeof(w1), "CdtTrfTxInf"), "grp.empty",
             "payment block %zu contains no transactions", v->grp_index);
    if (v->has_next && v->next.group_end)
        return v->next.group_end(v->next.ctx, g);
    return 0;
}

static int v_end(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_pay_validator *v = ctx;
    v->ended = 1;
    /* end() carries the final declared values */
    v->hdr_nb = h->nb_of_txs;
    v->hdr_has_sum = h->has_ctrl_sum;
    v->hdr_sum = h->ctrl_sum_milli;
    if (v->has_next && v->next.end)
        return v->next.end(v->next.ctx, h);
    return 0;
}

/* ---- public ------------------------------------------------------------ */

void fmt_profile_init(struct fmt_profile *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof(*p));
    p->practice = FMT_PRACTICE_NONE;
    p->exec_date_tolerance_days = 7;
}

int fmt_practice_parse(const char *s, enum fmt_practice *out)
{
    if (!s)
        return H2H_EINVALID;
    if (!strcasecmp(s, "none"))
        *out = FMT_PRACTICE_NONE;
    else if (!strcasecmp(s, "sepa"))
        *out = FMT_PRACTICE_SEPA;
    else if (!strcasecmp(s, "cgi"))
        *out = FMT_PRACTICE_CGI;
    else
        return H2H_EINVALID;
    return 0;
}

struct fmt_pay_validator *fmt_pay_validator_new(const struct fmt_profile *p,
                                                struct fmt_diag *diag,
                                                const struct fmt_pay_sink *next)
{
    if (!diag)
        return NULL;
    struct fmt_pay_validator *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    if (p)
        v->p = *p;
    else
        fmt_profile_init(&v->p);
    if (v->p.exec_date_tolerance_days < 0)
        v->p.exec_date_tolerance_days = 0;
    if (v->p.today) {
        if (fmt_date_check(v->p.today, NULL) < 0) {
            free(v);
            return NULL;
        }
        memcpy(v->today, v->p.today, 10);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(v->today, sizeof(v->today), "%Y-%m-%d", &tm);
    }
    v->today[10] = '\0';
    v->p.today = v->today;
    v->today_days = fmt_date_days(v->today);
    v->diag = diag;
    if (next) {
        v->next = *next;
        v->has_next = 1;
    }
    v->grp_sum_ok = v->all_sum_ok = 1;
    return v;
}

struct fmt_pay_sink fmt_pay_validator_sink(struct fmt_pay_validator *v)
{
    struct fmt_pay_sink s = {
        .begin = v_begin,
        .group_begin = v_group_begin,
        .tx = v_tx,
        .group_end = v_group_end,
        .end = v_end,
        .ctx = v,
    };
    return s;
}

int fmt_pay_validator_finish(struct fmt_pay_validator *v)
{
    if (!v)
        return H2H_EINVALID;
    if (v->ended)
        check_totals(v, 0, "GrpHdr/NbOfTxs", "GrpHdr/CtrlSum", "hdr.nboftxs",
                     "hdr.ctrlsum", "the file", v->hdr_nb, v->hdr_has_sum,
                     v->hdr_sum, v->all_cnt, v->all_sum, v->all_sum_ok);
    if (v->ended && v->all_cnt == 0)
        prob(v, 0, "PmtInf", "file.empty", "the file contains no payments");
    if (v->nomem)
        return H2H_ENOMEM;
    size_t n = v->diag->n + v->diag->dropped;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

void fmt_pay_validator_free(struct fmt_pay_validator *v)
{
    if (!v)
        return;
    free(v->set);
    free(v);
}
