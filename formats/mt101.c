/*
 * mt101.c - MT101 writer; see mt101.h.
 *
 * Every field is composed into a small buffer first and checked (character
 * set, line lengths, line count) before it is written, so an error names
 * the field and never leaves half a field in the output.
 */
#include "mt101.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

#define LINE_MAX_CHARS 35
#define FIELD_MAX 1024

struct fmt_mt101_writer {
    FILE *out;
    struct fmt_mt101_opts o;
    char sender[13], receiver[13];
    struct h2h_err err;
    int failed;
    int in_msg, began, ended;
    char msg_id[17]; /* header MsgId when it fits :20: */
    long n_grp, n_tx;
};

static int fail(struct fmt_mt101_writer *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct fmt_mt101_writer *w, int code, const char *fmt, ...)
{
    if (w->failed)
        return w->err.code;
    char msg[H2H_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->failed = 1;
    if (w->n_tx)
        return h2h_err_set(&w->err, code, "message %ld, transaction %ld: %s",
                           w->n_grp, w->n_tx, msg);
    if (w->n_grp)
        return h2h_err_set(&w->err, code, "message %ld: %s", w->n_grp, msg);
    return h2h_err_set(&w->err, code, "%s", msg);
}

/* ---- text in the X character set ---------------------------------------- */

/* A new string with v in the X set, or NULL with the writer failed. */
static char *x_text(struct fmt_mt101_writer *w, const char *field,
                    const char *v)
{
    char *t;
    if (fmt_sepa_charset_ok(v)) {
        t = strdup(v);
    } else {
        if (!w->o.transliterate) {
            fail(w, H2H_ECHARSET,
                 "field %s: \"%.40s\" has characters outside the SWIFT X "
                 "character set",
                 field, v);
            return NULL;
        }
        t = fmt_sepa_transliterate(v);
    }
    if (!t)
        fail(w, H2H_ENOMEM, "out of memory");
    return t;
}

/* Identifiers (:20:, :21:): 1..16 X characters, no leading/trailing '/',
 * no "//". */
static int ref16(struct fmt_mt101_writer *w, const char *field, const char *v,
                 char out[17])
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0)
        return fail(w, H2H_EINVALID, "field %s: reference is missing", field);
    if (n > 16)
        return fail(w, H2H_EINVALID,
                    "field %s: reference \"%.40s\" is longer than 16 "
                    "characters",
                    field, v);
    if (!fmt_sepa_charset_ok(v))
        return fail(w, H2H_ECHARSET,
                    "field %s: reference \"%s\" has characters outside the "
                    "SWIFT X character set",
                    field, v);
    if (v[0] == '/' || v[n - 1] == '/' || strstr(v, "//"))
        return fail(w, H2H_EINVALID,
                    "field %s: reference \"%s\" must not start or end with '/' "
                    "or contain \"//\"",
                    field, v);
    memcpy(out, v, n + 1);
    return 0;
}

/* Lines accumulated for one multi-line field. */
struct lines {
    char l[8][LINE_MAX_CHARS + 1];
    int n, max;
    int overflow;
};

/* Append text (already in the X set) wrapped at 35 characters. */
static void add_wrapped(struct lines *L, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        size_t take = len > LINE_MAX_CHARS ? LINE_MAX_CHARS : len;
        if (L->n >= L->max) {
            L->overflow = 1;
            return;
        }
        memcpy(L->l[L->n], s, take);
        L->l[L->n][take] = '\0';
        L->n++;
        s += take;
        len -= take;
    }
}

static int add_text(struct fmt_mt101_writer *w, struct lines *L,
                    const char *field, const char *v)
{
    if (!v || !*v)
        return 0;
    /* the model joins lines with '\n': keep them as separate lines */
    char *all = strdup(v);
    if (!all)
        return fail(w, H2H_ENOMEM, "out of memory");
    char *save = NULL;
    for (char *p = strtok_r(all, "\n", &save); p;
         p = strtok_r(NULL, "\n", &save)) {
        char *t = x_text(w, field, p);
        if (!t) {
            free(all);
            return w->err.code;
        }
        add_wrapped(L, t);
        free(t);
    }
    free(all);
    return 0;
}

/* A line may not start with ':' or '-' (they would end the field or the
 * message). */
static int fix_starts(struct fmt_mt101_writer *w, struct lines *L,
                      const char *field, int from)
{
    for (int i = from; i < L->n; i++) {
        if (L->l[i][0] == ':' || L->l[i][0] == '-') {
            if (!w->o.transliterate)
                return fail(w, H2H_ECHARSET,
                            "field %s: line \"%s\" must not start with '%c'",
                            field, L->l[i], L->l[i][0]);
            L->l[i][0] = '.';
        }
    }
    return 0;
}

static void put_field(struct fmt_mt101_writer *w, const char *tag,
                      const struct lines *L)
{
    fprintf(w->out, ":%s:", tag);
    for (int i = 0; i < L->n; i++)
        fprintf(w->out, "%s\r\n", L->l[i]);
}

/* /account line then name and address, 4*35x: used by :50H: and :59:. */
static int party_field(struct fmt_mt101_writer *w, const char *tag,
                       const struct fmt_account *a, const struct fmt_party *p,
                       int account_mandatory)
{
    struct lines L = {.max = 5};
    const char *acct = a->iban ? a->iban : a->other_id;
    if (acct) {
        if (strlen(acct) > 34 || !fmt_sepa_charset_ok(acct))
            return fail(w, H2H_EINVALID,
                        "field %s: account \"%.40s\" is not 1 to 34 SWIFT "
                        "characters",
                        tag, acct);
        snprintf(L.l[0], sizeof(L.l[0]), "/%s", acct);
        L.n = 1;
    } else if (account_mandatory) {
        return fail(w, H2H_EINVALID, "field %s: the account is missing", tag);
    }
    int first = L.n;
    L.max = first + 4;
    if (!p->name || !*p->name)
        return fail(w, H2H_EINVALID, "field %s: the name is missing", tag);
    if (add_text(w, &L, tag, p->name) < 0)
        return w->err.code;
    const struct fmt_postal *ad = &p->addr;
    char buf[256];
    if (ad->street) {
        snprintf(buf, sizeof(buf), "%s%s%s", ad->street,
                 ad->building ? " " : "", ad->building ? ad->building : "");
        if (add_text(w, &L, tag, buf) < 0)
            return w->err.code;
    }
    if (ad->postcode || ad->town) {
        snprintf(buf, sizeof(buf), "%s%s%s", ad->postcode ? ad->postcode : "",
                 ad->postcode && ad->town ? " " : "", ad->town ? ad->town : "");
        if (add_text(w, &L, tag, buf) < 0)
            return w->err.code;
    }
    for (int i = 0; i < 7 && ad->lines[i]; i++)
        if (add_text(w, &L, tag, ad->lines[i]) < 0)
            return w->err.code;
    if (ad->country && add_text(w, &L, tag, ad->country) < 0)
        return w->err.code;
    if (L.overflow)
        return fail(w, H2H_EINVALID,
                    "field %s: name and address need more than 4 lines of 35 "
                    "characters",
                    tag);
    if (fix_starts(w, &L, tag, first) < 0)
        return w->err.code;
    put_field(w, tag, &L);
    return 0;
}

static int bic_ok(const char *b)
{
    size_t n = strlen(b);
    if (n != 8 && n != 11)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int up = b[i] >= 'A' && b[i] <= 'Z', dig = b[i] >= '0' && b[i] <= '9';
        if (i >= 4 && i < 6 ? !up : !(up || dig))
            return 0;
    }
    return 1;
}

/* ---- sink
 * ---------------------------------------------------------------------- */

static int w_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_mt101_writer *w = ctx;
    if (w->failed)
        return w->err.code;
    if (w->began)
        return fail(w, H2H_ESTATE, "begin called twice");
    w->began = 1;
    w->msg_id[0] = '\0';
    if (h->msg_id && strlen(h->msg_id) <= 16)
        memcpy(w->msg_id, h->msg_id, strlen(h->msg_id) + 1);
    return 0;
}

static int w_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_mt101_writer *w = ctx;
    char ref[17];
    if (w->failed)
        return w->err.code;
    if (!w->began || w->in_msg || w->ended)
        return fail(w, H2H_ESTATE, "group_begin called out of order");
    w->n_grp++;
    w->n_tx = 0;
    const char *r20 = g->pmt_inf_id ? g->pmt_inf_id : w->msg_id;
    if (ref16(w, "20", r20, ref) < 0)
        return w->err.code;
    if (!g->reqd_exctn_dt || strlen(g->reqd_exctn_dt) != 10 ||
        fmt_date_check(g->reqd_exctn_dt, NULL) < 0)
        return fail(w, H2H_EINVALID,
                    "field 30: the requested execution date is missing or "
                    "not a date");
    if (g->dbtr_agt.bic && !bic_ok(g->dbtr_agt.bic))
        return fail(w, H2H_EINVALID, "field 52A: \"%.20s\" is not a BIC",
                    g->dbtr_agt.bic);
    if (w->o.sender_lt && w->o.receiver_lt)
        fprintf(w->out, "{1:F01%s0000000000}{2:I101%sN}", w->sender,
                w->receiver);
    fputs("{4:\r\n", w->out);
    fprintf(w->out, ":20:%s\r\n:28D:1/1\r\n", ref);
    if (party_field(w, "50H", &g->dbtr_acct, &g->dbtr, 1) < 0)
        return w->err.code;
    if (g->dbtr_agt.bic)
        fprintf(w->out, ":52A:%s\r\n", g->dbtr_agt.bic);
    const char *d = g->reqd_exctn_dt;
    fprintf(w->out, ":30:%.2s%.2s%.2s\r\n", d + 2, d + 5, d + 8);
    w->in_msg = 1;
    return 0;
}

static const char *charges(const char *br)
{
    if (br && !strcmp(br, "DEBT"))
        return "OUR";
    if (br && !strcmp(br, "CRED"))
        return "BEN";
    return "SHA";
}

static int w_tx(void *ctx, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    struct fmt_mt101_writer *w = ctx;
    char ref[17], amt[48];
    if (w->failed)
        return w->err.code;
    if (!w->in_msg)
        return fail(w, H2H_ESTATE, "tx called outside a group");
    w->n_tx++;
    const char *r21 = t->instr_id && strlen(t->instr_id) <= 16
                          ? t->instr_id
                          : t->end_to_end_id;
    if (ref16(w, "21", r21, ref) < 0)
        return w->err.code;
    if (!fmt_ccy_valid(t->amt.ccy) || t->amt.minor < 0)
        return fail(w, H2H_EINVALID, "field 32B: invalid amount or currency");
    int n =
        fmt_amount_format(t->amt.minor, t->amt.ccy, ',', amt, sizeof(amt) - 1);
    if (n < 0)
        return fail(w, H2H_EINVALID, "field 32B: amount cannot be formatted");
    if (!strchr(amt, ','))
        strcat(amt, ",");
    if (strlen(amt) > 15)
        return fail(w, H2H_EINVALID,
                    "field 32B: amount %s is longer than 15 characters", amt);
    if (t->cdtr_agt.bic && !bic_ok(t->cdtr_agt.bic))
        return fail(w, H2H_EINVALID, "field 57A: \"%.20s\" is not a BIC",
                    t->cdtr_agt.bic);

    /* compose the multi-line fields before writing anything */
    struct lines f57 = {.max = 5}, f70 = {.max = 4};
    const char *tag57 = NULL;
    if (t->cdtr_agt.bic) {
        tag57 = "57A";
        snprintf(f57.l[0], sizeof(f57.l[0]), "%s", t->cdtr_agt.bic);
        f57.n = 1;
    } else if (t->cdtr_agt.clr_mmb_id) {
        tag57 = "57D";
        char cc[64];
        snprintf(cc, sizeof(cc), "//%s%s",
                 t->cdtr_agt.clr_sys ? t->cdtr_agt.clr_sys : "",
                 t->cdtr_agt.clr_mmb_id);
        if (strlen(cc) > LINE_MAX_CHARS || !fmt_sepa_charset_ok(cc))
            return fail(w, H2H_EINVALID,
                        "field 57D: clearing code \"%s\" does not fit", cc);
        memcpy(f57.l[0], cc, strlen(cc) + 1);
        f57.n = 1;
        if (t->cdtr_agt.name && add_text(w, &f57, "57D", t->cdtr_agt.name) < 0)
            return w->err.code;
        if (f57.overflow)
            return fail(w, H2H_EINVALID,
                        "field 57D: the agent name needs more than 4 lines");
        if (fix_starts(w, &f57, "57D", 1) < 0)
            return w->err.code;
    }
    const char *rmt = t->rmt_ustrd ? t->rmt_ustrd : t->rmt_strd.cdtr_ref;
    if (add_text(w, &f70, "70", rmt) < 0)
        return w->err.code;
    if (f70.overflow)
        return fail(w, H2H_EINVALID,
                    "field 70: remittance information needs more than 4 lines "
                    "of 35 characters");
    if (fix_starts(w, &f70, "70", 0) < 0)
        return w->err.code;

    /* :59: is composed by party_field, which writes only when valid; write
     * the fields before it into a buffer so that nothing is half done */
    char *pre = NULL;
    size_t prelen = 0;
    FILE *real = w->out;
    FILE *mem = open_memstream(&pre, &prelen);
    if (!mem)
        return fail(w, H2H_ENOMEM, "out of memory");
    w->out = mem;
    fprintf(mem, ":21:%s\r\n:32B:%s%s\r\n", ref, t->amt.ccy, amt);
    if (tag57)
        put_field(w, tag57, &f57);
    int rc = party_field(w, "59", &t->cdtr_acct, &t->cdtr, 0);
    if (rc == 0 && f70.n)
        put_field(w, "70", &f70);
    if (rc == 0)
        fprintf(mem, ":71A:%s\r\n",
                charges(t->chrg_br ? t->chrg_br : g->chrg_br));
    fclose(mem);
    w->out = real;
    if (rc == 0)
        fwrite(pre, 1, prelen, real);
    free(pre);
    return rc < 0 ? w->err.code : 0;
}

static int w_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_mt101_writer *w = ctx;
    (void)g;
    if (w->failed)
        return w->err.code;
    if (!w->in_msg)
        return fail(w, H2H_ESTATE, "group_end called outside a group");
    if (w->n_tx == 0)
        return fail(w, H2H_EINVALID, "an MT101 needs at least one transaction");
    fputs("-}\r\n", w->out);
    w->in_msg = 0;
    w->n_tx = 0;
    return 0;
}

static int w_end(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_mt101_writer *w = ctx;
    (void)h;
    if (w->failed)
        return w->err.code;
    if (!w->began || w->in_msg)
        return fail(w, H2H_ESTATE, "end called out of order");
    if (w->n_grp == 0)
        return fail(w, H2H_EINVALID, "no payment group to write");
    w->ended = 1;
    return 0;
}

/* ---- lifecycle
 * ----------------------------------------------------------------- */

struct fmt_mt101_writer *fmt_mt101_writer_new(FILE *out,
                                              const struct fmt_mt101_opts *o)
{
    struct fmt_mt101_opts none = {0};
    if (!out)
        return NULL;
    if (!o)
        o = &none;
    if ((o->sender_lt && strlen(o->sender_lt) != 12) ||
        (o->receiver_lt && strlen(o->receiver_lt) != 12))
        return NULL;
    struct fmt_mt101_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    w->o = *o;
    if (o->sender_lt)
        memcpy(w->sender, o->sender_lt, 13);
    if (o->receiver_lt)
        memcpy(w->receiver, o->receiver_lt, 13);
    w->o.sender_lt = o->sender_lt ? w->sender : NULL;
    w->o.receiver_lt = o->receiver_lt ? w->receiver : NULL;
    return w;
}

struct fmt_pay_sink fmt_mt101_writer_sink(struct fmt_mt101_writer *w)
{
    struct fmt_pay_sink s = {w_begin,     w_group_begin, w_tx,
                             w_group_end, w_end,         w};
    return s;
}

int fmt_mt101_writer_finish(struct fmt_mt101_writer *w, struct h2h_err *err)
{
    if (!w)
        return h2h_err_set(err, H2H_EINVALID, "no writer");
    if (w->failed)
        return h2h_err_set(err, w->err.code, "%s", w->err.msg);
    if (!w->ended)
        return h2h_err_set(err, H2H_ESTATE, "MT101 output was not completed");
    if (fflush(w->out) != 0 || ferror(w->out))
        return h2h_err_set(err, H2H_EIO, "writing MT101 failed");
    return 0;
}

const struct h2h_err *fmt_mt101_writer_error(const struct fmt_mt101_writer *w)
{
    return &w->err;
}

void fmt_mt101_writer_free(struct fmt_mt101_writer *w)
{
    free(w);
}
