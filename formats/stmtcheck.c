/*
 * stmtcheck.c - opening + booked entries == closing, per statement; see
 * stmtcheck.h.
 *
 * Only sums are kept while entries stream past, so memory does not grow
 * with the statement.  The balances are taken from the struct stmt_end()
 * carries, which is the final one.
 */
#include "stmtcheck.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amount.h"

struct fmt_stmt_checker {
    struct fmt_diag *diag;
    const struct fmt_stmt_sink *next;
    struct fmt_stmt_check_results res;

    /* current statement */
    int64_t sum;      /* booked credits - booked debits */
    int64_t rvsl_sum; /* the part of sum that comes from reversals */
    size_t n_rvsl;
    int overflow;
    char ccy[4]; /* currency of the first booked entry */
    int mixed;   /* booked entries in more than one currency */
    int mixed_line;
    char mixed_ccy[4];
};

static int is_booked(const struct fmt_entry *e)
{
    return !e->sts || !*e->sts || !strcasecmp(e->sts, "BOOK");
}

static int begin_cb(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct fmt_stmt_checker *c = ctx;
    if (c->next && c->next->begin)
        return c->next->begin(c->next->ctx, doc);
    return 0;
}

static int stmt_begin_cb(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_stmt_checker *c = ctx;
    c->sum = c->rvsl_sum = 0;
    c->n_rvsl = 0;
    c->overflow = c->mixed = c->mixed_line = 0;
    c->ccy[0] = c->mixed_ccy[0] = '\0';
    c->res.statements++;
    if (c->next && c->next->stmt_begin)
        return c->next->stmt_begin(c->next->ctx, st);
    return 0;
}

static int entry_cb(void *ctx, const struct fmt_stmt *st,
                    const struct fmt_entry *e)
{
    struct fmt_stmt_checker *c = ctx;
    if (is_booked(e)) {
        if (!c->ccy[0]) {
            memcpy(c->ccy, e->amt.ccy, sizeof(c->ccy));
        } else if (strcmp(c->ccy, e->amt.ccy) && !c->mixed) {
            c->mixed = 1;
            c->mixed_line = e->line;
            memcpy(c->mixed_ccy, e->amt.ccy, sizeof(c->mixed_ccy));
        }
        int64_t v = e->credit ? e->amt.minor : -e->amt.minor;
        if (__builtin_add_overflow(c->sum, v, &c->sum))
            c->overflow = 1;
        if (e->reversal) {
            c->n_rvsl++;
            if (__builtin_add_overflow(c->rvsl_sum, v, &c->rvsl_sum))
                c->overflow = 1;
        }
    }
    if (c->next && c->next->entry)
        return c->next->entry(c->next->ctx, st, e);
    return 0;
}

static const struct fmt_balance *find_bal(const struct fmt_stmt *st,
                                          const char *type, int last)
{
    const struct fmt_balance *b = NULL;
    for (size_t i = 0; i < st->n_bals; i++) {
        if (strcmp(st->bals[i].type, type))
            continue;
        b = &st->bals[i];
        if (!last)
            break;
    }
    return b;
}

static void fmt_amt(int64_t v, const char *ccy, char *buf, size_t sz)
{
    if (fmt_amount_format(v, ccy, '.', buf, sz) < 0)
        snprintf(buf, sz, "%lld", (long long)v);
}

static void problem(struct fmt_stmt_checker *c, const struct fmt_stmt *st,
                    int line, const char *rule, const char *msg)
{
    char where[128];
    if (st->id && *st->id)
        snprintf(where, sizeof(where), "statement %.60s", st->id);
    else
        snprintf(where, sizeof(where), "statement %zu", c->res.statements);
    c->res.problems++;
    fmt_diag_add(c->diag, line, where, rule, "%s", msg);
}

static void check(struct fmt_stmt_checker *c, const struct fmt_stmt *st)
{
    const struct fmt_balance *op = find_bal(st, "OPBD", 0);
    if (!op)
        op = find_bal(st, "PRCD", 0);
    const struct fmt_balance *cl = find_bal(st, "CLBD", 1);
    char msg[512], a[40], b[40], d[40];
    if (!op || !cl) {
        c->res.no_balances++;
        return;
    }
    c->res.checked++;
    if (strcmp(op->amt.ccy, cl->amt.ccy)) {
        snprintf(msg, sizeof(msg),
                 "the opening balance is in %s but the closing balance is in "
                 "%s",
                 op->amt.ccy[0] ? op->amt.ccy : "no currency",
                 cl->amt.ccy[0] ? cl->amt.ccy : "no currency");
        problem(c, st, st->line, "stmt.ccy", msg);
        c->res.unbalanced++;
        return;
    }
    const char *ccy = op->amt.ccy;
    if (c->mixed || (c->ccy[0] && strcmp(c->ccy, ccy))) {
        snprintf(msg, sizeof(msg),
                 "booked entries are in %s but the balances are in %s",
                 c->mixed ? (strcmp(c->ccy, ccy) ? c->ccy : c->mixed_ccy)
                          : c->ccy,
                 ccy);
        problem(c, st, c->mixed ? c->mixed_line : st->line, "stmt.ccy", msg);
        c->res.unbalanced++;
        return;
    }
    int64_t want;
    if (c->overflow || __builtin_add_overflow(op->amt.minor, c->sum, &want)) {
        problem(c, st, st->line, "stmt.balance",
                "the entries' total is too large to check");
        c->res.unbalanced++;
        return;
    }
    if (want == cl->amt.minor) {
        c->res.balanced++;
        return;
    }
    fmt_amt(op->amt.minor, ccy, a, sizeof(a));
    fmt_amt(c->sum, ccy, b, sizeof(b));
    fmt_amt(cl->amt.minor, ccy, d, sizeof(d));
    int n = snprintf(msg, sizeof(msg),
                     "the bank's own figures do not add up: opening %s %s + "
                     "entries %s %s != closing %s %s",
                     a, ccy, b, ccy, d, ccy);
    char diff[40];
    fmt_amt(cl->amt.minor - want, ccy, diff, sizeof(diff));
    if (n > 0 && (size_t)n < sizeof(msg))
        n += snprintf(msg + n, sizeof(msg) - (size_t)n, " (difference %s %s)",
                      diff, ccy);
    /* some banks sign reversals the other way; say so when that explains
     * the gap, but still report it */
    if (c->n_rvsl && want - 2 * c->rvsl_sum == cl->amt.minor && n > 0 &&
        (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n,
                 "; it would add up if the %zu reversal entr%s were counted "
                 "the other way round",
                 c->n_rvsl, c->n_rvsl == 1 ? "y" : "ies");
    problem(c, st, st->line, "stmt.balance", msg);
    c->res.unbalanced++;
}

static int stmt_end_cb(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_stmt_checker *c = ctx;
    check(c, st);
    if (c->next && c->next->stmt_end)
        return c->next->stmt_end(c->next->ctx, st);
    return 0;
}

static int end_cb(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct fmt_stmt_checker *c = ctx;
    if (c->next && c->next->end)
        return c->next->end(c->next->ctx, doc);
    return 0;
}

struct fmt_stmt_checker *fmt_stmt_checker_new(struct fmt_diag *diag,
                                              const struct fmt_stmt_sink *next)
{
    struct fmt_stmt_checker *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->diag = diag;
    c->next = next;
    return c;
}

struct fmt_stmt_sink fmt_stmt_checker_sink(struct fmt_stmt_checker *c)
{
    struct fmt_stmt_sink s = {
        .begin = begin_cb,
        .stmt_begin = stmt_begin_cb,
        .entry = entry_cb,
        .stmt_end = stmt_end_cb,
        .end = end_cb,
        .ctx = c,
    };
    return s;
}

int fmt_stmt_checker_finish(struct fmt_stmt_checker *c)
{
    return c ? (int)c->res.problems : 0;
}

void fmt_stmt_checker_results(const struct fmt_stmt_checker *c,
                              struct fmt_stmt_check_results *out)
{
    if (!out)
        return;
    if (!c) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = c->res;
}

void fmt_stmt_checker_free(struct fmt_stmt_checker *c)
{
    free(c);
}
