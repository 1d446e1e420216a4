/*
 * certwatch.c - expiry warnings for the certificates the banks use; see
 * certwatch.h.
 *
 * The memory is a small array (one entry per certificate with a warning,
 * a handful per bank), searched linearly: it is walked once an hour and
 * at reloads, never on a hot path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certwatch.h"
#include "log.h"

struct cw_entry {
    char *bank;
    char fp[CERT_FP_LEN + 1];
    enum cert_warn warned; /* most severe level logged so far */
    int seen;              /* checked in the current round */
};

struct certwatch {
    struct cw_entry *v;
    size_t n, cap;
};

int certwatch_new(struct certwatch **out, struct h2h_err *err)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

void certwatch_free(struct certwatch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].bank);
    free(w->v);
    free(w);
}

size_t certwatch_size(const struct certwatch *w)
{
    return w ? w->n : 0;
}

void certwatch_round_begin(struct certwatch *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->v[i].seen = 0;
}

void certwatch_round_end(struct certwatch *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].seen)
            w->v[k++] = w->v[i];
        else
            free(w->v[i].bank);
    }
    w->n = k;
}

static struct cw_entry *find(struct certwatch *w, const char *bank,
                             const char *fp)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->v[i].fp, fp) == 0 && strcmp(w->v[i].bank, bank) == 0)
            return &w->v[i];
    return NULL;
}

/* NULL when out of memory: the warning is then logged without being
 * remembered (and repeated next round), which beats not logging it. */
static struct cw_entry *add(struct certwatch *w, const char *bank,
                            const char *fp)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? 2 * w->cap : 8;
        struct cw_entry *p = realloc(w->v, ncap * sizeof(*p));
        if (!p)
            return NULL;
        w->v = p;
        w->cap = ncap;
    }
    struct cw_entry *e = &w->v[w->n];
    memset(e, 0, sizeof(*e));
    if (!(e->bank = strdup(bank)))
        return NULL;
    snprintf(e->fp, sizeof(e->fp), "%s", fp);
    w->n++;
    return e;
}

enum cert_warn certwatch_check(struct certwatch *w, const char *bank,
                               const char *label, X509 *x, time_t now)
{
    struct cert_info ci;
    struct h2h_err err;
    h2h_err_clear(&err);
    if (cert_info_get(x, now, &ci, &err) < 0) {
        h2h_log(H2H_LOG_WARN, "cert.check.failed", "bank", bank, "label", label,
                "error", err.msg, NULL);
        return CERT_WARN_NONE;
    }
    enum cert_warn level = cert_warn_level(ci.not_after_t, now);
    struct cw_entry *e = find(w, bank, ci.fingerprint);
    if (e)
        e->seen = 1;
    if (level == CERT_WARN_NONE || (e && e->warned >= level))
        return CERT_WARN_NONE;
    if (!e && (e = add(w, bank, ci.fingerprint)) != NULL)
        e->seen = 1;
    if (e)
        e->warned = level;

    char days[32];
    snprintf(days, sizeof(days), "%ld", ci.days_left);
    int expired = level == CERT_WARN_EXPIRED;
    h2h_log(expired ? H2H_LOG_ERROR : H2H_LOG_WARN,
            expired ? "cert.expired" : "cert.expiring", "bank", bank, "label",
            label, "subject", ci.subject, "issuer", ci.issuer, "not_after",
            ci.not_after, "days_left", days, "threshold", cert_warn_name(level),
            "fingerprint", ci.fingerprint, NULL);
    return level;
}
