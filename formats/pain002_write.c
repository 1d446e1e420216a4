/*
 * pain002_write.c - pain.002.001.03 / .10 writer; see pain002.h.
 *
 * The whole report is validated first (ids, codes, lengths) so that a
 * report that cannot be rendered fails before a byte is written; the
 * rendering pass then cannot fail except on I/O.
 */
#include "pain002.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

struct pw {
    FILE *out;
    int version;
    int depth;
    const char *stack[12];
    struct h2h_err *err;
};

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static void indent(struct pw *w)
{
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->out);
}

static void open_el(struct pw *w, const char *tag)
{
    indent(w);
    fprintf(w->out, "<%s>\n", tag);
    w->stack[w->depth++] = tag;
}

static void close_el(struct pw *w)
{
    w->depth--;
    indent(w);
    fprintf(w->out, "</%s>\n", w->stack[w->depth]);
}

static void put_escaped_n(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\r': fputs("&#13;", f); break;
        default: fputc(s[i], f);
        }
    }
}

static void leaf(struct pw *w, const char *tag, const char *v)
{
    if (!v || !*v)
        return;
    indent(w);
    fprintf(w->out, "<%s>", tag);
    put_escaped_n(w->out, v, strlen(v));
    fprintf(w->out, "</%s>\n", tag);
}

/* ---- validation pass ---------------------------------------------------- */

static int check_text(const char *what, const char *v, size_t maxlen,
                      struct h2h_err *err)
{
    if (!v)
        return 0;
    if (!*v)
        return h2h_err_set(err, H2H_EINVALID, "%s is empty", what);
    if (!fmt_utf8_valid(v, strlen(v)))
        return h2h_err_set(err, H2H_ECHARSET, "%s is not valid UTF-8", what);
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return h2h_err_set(err, H2H_ECHARSET,
                               "%s has control character 0x%02x", what,
                               (unsigned char)*p);
    if (utf8_chars(v) > maxlen)
        return h2h_err_set(err, H2H_EINVALID,
                           "%s \"%.40s\" is longer than %zu characters", what,
                           v, maxlen);
    return 0;
}

static const char *const grp_sts_03[] = {"ACCP", "ACSC", "ACSP", "ACTC", "ACWC",
                                         "PART", "PDNG", "RCVD", "RJCT", NULL};
static const char *const tx_sts_03[] = {"ACCP", "ACSC", "ACSP", "ACTC",
                                        "ACWC", "PDNG", "RJCT", NULL};

static int check_status(int version, const char *what, const char *v, int group,
                        struct h2h_err *err)
{
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n < 1 || n > 4)
        return h2h_err_set(err, H2H_EINVALID,
                           "%s \"%.20s\" is not a 1 to 4 character status code",
                           what, v);
    if (version == 3) {
        for (const char *const *p = group ? grp_sts_03 : tx_sts_03; *p; p++)
            if (!strcmp(*p, v))
                return 0;
        return h2h_err_set(err, H2H_EINVALID,
                           "%s \"%.20s\" does not exist in pain.002.001.03",
                           what, v);
    }
    return 0;
}

static int check_reasons(const char *what, const struct fmt_reason *v, size_t n,
                         struct h2h_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].code && (strlen(v[i].code) < 1 || strlen(v[i].code) > 4))
            return h2h_err_set(err, H2H_EINVALID,
                               "%s: reason code \"%.20s\" is not 1 to 4 "
                               "characters",
                               what, v[i].code);
        int rc;
        if ((rc = check_text(what, v[i].prtry, 35, err)) < 0)
            return rc;
        /* AddtlInf lines are split at 105 characters when written */
        if ((rc = check_text(what, v[i].addtl_info, (size_t)-1, err)) < 0)
            return rc;
    }
    return 0;
}

static int bic_ok(int version, const char *b)
{
    size_t n = strlen(b);
    if (n != 8 && n != 11)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        int up = c >= 'A' && c <= 'Z', dig = c >= '0' && c <= '9';
        if (i < 4 && !(up || (version >= 10 && dig)))
            return 0;
        if (i >= 4 && i < 6 && !up)
            return 0;
        if (i >= 6 && !(up || dig))
            return 0;
    }
    if (version == 3 && (b[6] == '0' || b[6] == '1' || b[7] == 'O'))
        return 0;
    return 1;
}

static int validate(const struct fmt_status_report *r, int version,
                    struct h2h_err *err)
{
    struct h2h_err e = {0};
    int rc;
    if (!r->msg_id || !*r->msg_id)
        return h2h_err_set(err, H2H_EINVALID, "GrpHdr/MsgId is missing");
    if (!r->cre_dt_tm || fmt_datetime_check(r->cre_dt_tm, &e) < 0)
        return h2h_err_set(err, H2H_EINVALID, "GrpHdr/CreDtTm: %s",
                           r->cre_dt_tm ? e.msg : "missing");
    if (!r->orgnl_msg_id || !*r->orgnl_msg_id)
        return h2h_err_set(err, H2H_EINVALID,
                           "OrgnlGrpInfAndSts/OrgnlMsgId is missing");
    if (!r->orgnl_msg_nm_id || !*r->orgnl_msg_nm_id)
        return h2h_err_set(err, H2H_EINVALID,
                           "OrgnlGrpInfAndSts/OrgnlMsgNmId is missing");
    if ((rc = check_text("GrpHdr/MsgId", r->msg_id, 35, err)) < 0 ||
        (rc = check_text("GrpHdr/InitgPty/Nm", r->initg_pty.name, 140, err)) <
            0 ||
        (rc = check_text("OrgnlMsgId", r->orgnl_msg_id, 35, err)) < 0 ||
        (rc = check_text("OrgnlMsgNmId", r->orgnl_msg_nm_id, 35, err)) < 0 ||
        (rc = check_status(version, "GrpSts", r->grp_sts, 1, err)) < 0 ||
        (rc = check_reasons("OrgnlGrpInfAndSts/StsRsnInf", r->reasons,
                            r->n_reasons, err)) < 0)
        return rc;
    if (r->initg_pty.org_bic && !bic_ok(version, r->initg_pty.org_bic))
        return h2h_err_set(err, H2H_EINVALID,
                           "GrpHdr/InitgPty: \"%.20s\" is not a valid BIC",
                           r->initg_pty.org_bic);
    if (r->orgnl_nb_of_txs > 999999999999999LL)
        return h2h_err_set(err, H2H_EINVALID, "OrgnlNbOfTxs too large");
    for (size_t i = 0; i < r->n_pmts; i++) {
        const struct fmt_pmt_status *p = &r->pmts[i];
        char w[96];
        snprintf(w, sizeof(w), "OrgnlPmtInfAndSts[%zu]", i + 1);
        if (!p->orgnl_pmt_inf_id || !*p->orgnl_pmt_inf_id)
            return h2h_err_set(err, H2H_EINVALID, "%s/OrgnlPmtInfId is missing",
                               w);
        if ((rc = check_text(w, p->orgnl_pmt_inf_id, 35, err)) < 0 ||
            (rc = check_status(version, w, p->sts, 1, err)) < 0 ||
            (rc = check_reasons(w, p->reasons, p->n_reasons, err)) < 0)
            return rc;
        for (size_t j = 0; j < p->n_txs; j++) {
            const struct fmt_tx_status *t = &p->txs[j];
            snprintf(w, sizeof(w), "OrgnlPmtInfAndSts[%zu]/TxInfAndSts[%zu]",
                     i + 1, j + 1);
            if ((rc = check_text(w, t->sts_id, 35, err)) < 0 ||
                (rc = check_text(w, t->orgnl_instr_id, 35, err)) < 0 ||
                (rc = check_text(w, t->orgnl_end_to_end_id, 35, err)) < 0 ||
                (rc = check_status(version, w, t->sts, 0, err)) < 0 ||
                (rc = check_reasons(w, t->reasons, t->n_reasons, err)) < 0)
                return rc;
            if (version >= 10 && t->orgnl_uetr &&
                fmt_uuid_check(t->orgnl_uetr, &e) < 0)
                return h2h_err_set(err, H2H_EINVALID, "%s/OrgnlUETR: %s", w,
                                   e.msg);
            if (t->amt.ccy[0] &&
                (!fmt_ccy_valid(t->amt.ccy) || t->amt.minor < 0))
                return h2h_err_set(err, H2H_EINVALID,
                                   "%s/OrgnlTxRef/Amt: invalid amount", w);
        }
    }
    return 0;
}

/* ---- rendering -------------------------------------------------------------
 */

static void addtl_info(struct pw *w, const char *v)
{
    while (v && *v) {
        const char *e = strchr(v, '\n');
        size_t len = e ? (size_t)(e - v) : strlen(v);
        /* split at 105 characters, never inside a UTF-8 sequence */
        size_t chars = 0, i = 0;
        while (i < len && chars < 105) {
            i++;
            while (i < len && ((unsigned char)v[i] & 0xC0) == 0x80)
                i++;
            chars++;
        }
        if (i > 0) {
            indent(w);
            fputs("<AddtlInf>", w->out);
            put_escaped_n(w->out, v, i);
            fputs("</AddtlInf>\n", w->out);
        }
        if (i < len)
            v += i;
        else
            v = e ? e + 1 : v + len;
    }
}

static void reasons(struct pw *w, const struct fmt_reason *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        open_el(w, "StsRsnInf");
        if (v[i].code || v[i].prtry) {
            open_el(w, "Rsn");
            if (v[i].code)
                leaf(w, "Cd", v[i].code);
            else
                leaf(w, "Prtry", v[i].prtry);
            close_el(w);
        }
        addtl_info(w, v[i].addtl_info);
        close_el(w);
    }
}

static void initg_pty(struct pw *w, const struct fmt_party *p)
{
    if (!p->name && !p->org_bic && !p->org_id)
        return;
    open_el(w, "InitgPty");
    leaf(w, "Nm", p->name);
    if (p->org_bic || p->org_id) {
        open_el(w, "Id");
        open_el(w, "OrgId");
        leaf(w, w->version == 3 ? "BICOrBEI" : "AnyBIC", p->org_bic);
        if (p->org_id) {
            open_el(w, "Othr");
            leaf(w, "Id", p->org_id);
            close_el(w);
        }
        close_el(w);
        close_el(w);
    }
    close_el(w);
}

int fmt_pain002_write(FILE *out, const struct fmt_status_report *r, int version,
                      struct h2h_err *err)
{
    int rc;
    if (!out || !r)
        return h2h_err_set(err, H2H_EINVALID, "no output or report");
    if (version != 3 && version != 10)
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "pain.002 version %d cannot be written (3 or 10)",
                           version);
    if ((rc = validate(r, version, err)) < 0)
        return rc;
    struct pw w = {.out = out, .version = version, .err = err};
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:%s\">\n",
            version == 3 ? "pain.002.001.03" : "pain.002.001.10");
    w.stack[w.depth++] = "Document";
    open_el(&w, "CstmrPmtStsRpt");
    open_el(&w, "GrpHdr");
    leaf(&w, "MsgId", r->msg_id);
    leaf(&w, "CreDtTm", r->cre_dt_tm);
    initg_pty(&w, &r->initg_pty);
    close_el(&w);

    open_el(&w, "OrgnlGrpInfAndSts");
    leaf(&w, "OrgnlMsgId", r->orgnl_msg_id);
    leaf(&w, "OrgnlMsgNmId", r->orgnl_msg_nm_id);
    if (r->orgnl_nb_of_txs >= 0) {
        char b[32];
        snprintf(b, sizeof(b), "%lld", (long long)r->orgnl_nb_of_txs);
        leaf(&w, "OrgnlNbOfTxs", b);
    }
    leaf(&w, "GrpSts", r->grp_sts);
    reasons(&w, r->reasons, r->n_reasons);
    close_el(&w);

    for (size_t i = 0; i < r->n_pmts; i++) {
        const struct fmt_pmt_status *p = &r->pmts[i];
        open_el(&w, "OrgnlPmtInfAndSts");
        leaf(&w, "OrgnlPmtInfId", p->orgnl_pmt_inf_id);
        leaf(&w, "PmtInfSts", p->sts);
        reasons(&w, p->reasons, p->n_reasons);
        for (size_t j = 0; j < p->n_txs; j++) {
            const struct fmt_tx_status *t = &p->txs[j];
            open_el(&w, "TxInfAndSts");
            leaf(&w, "StsId", t->sts_id);
            leaf(&w, "OrgnlInstrId", t->orgnl_instr_id);
            leaf(&w, "OrgnlEndToEndId", t->orgnl_end_to_end_id);
            if (version >= 10)
                leaf(&w, "OrgnlUETR", t->orgnl_uetr);
            leaf(&w, "TxSts", t->sts);
            reasons(&w, t->reasons, t->n_reasons);
            /* .03: always present, the DK restriction requires it */
            if (t->amt.ccy[0] || version == 3) {
                open_el(&w, "OrgnlTxRef");
                if (t->amt.ccy[0]) {
                    char amt[48];
                    fmt_amount_format(t->amt.minor, t->amt.ccy, '.', amt,
                                      sizeof(amt));
                    open_el(&w, "Amt");
                    indent(&w);
                    fprintf(out, "<InstdAmt Ccy=\"%s\">%s</InstdAmt>\n",
                            t->amt.ccy, amt);
                    close_el(&w);
                }
                close_el(&w);
            }
            close_el(&w);
        }
        close_el(&w);
    }
    close_el(&w);
    fputs("</Document>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return h2h_err_set(err, H2H_EIO, "writing pain.002 failed");
    return 0;
}
