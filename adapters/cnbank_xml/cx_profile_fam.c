/*
 * cx_profile_fam.c - the value tables of a profile's optional families
 * (PROFILE.md "Bill pool and supply-chain finance", "Value tables"): the
 * bank's codes for h2hd's names of operations, kinds and statuses.
 *
 * cx_profile.c has read the functions and set has_bills / has_scf; here
 * each table is checked against the families present: a table without
 * its family, or a family without one of its tables, is a problem at the
 * profile's own file:line.  Every name of the model (formats/bill.h,
 * formats/scf.h: fmt_*_name()) must be listed, each side once, so that a
 * value the bank sends always means exactly one thing.
 */
#include "cx_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "scf.h"

#define BANK_VALUE_MAX 64

enum { FAM_BILLS = 1, FAM_SCF = 2, FAM_BOTH = 3 };

/* The names a table must list, from the model. */
typedef const char *(*name_fn)(int i);

static const char *bill_op_nm(int i)
{
    return i >= FMT_BILL_OP_ISSUE && i <= FMT_BILL_OP_REFUSE
               ? fmt_bill_op_name((enum fmt_bill_op)i)
               : NULL;
}
static const char *draft_kind_nm(int i)
{
    return i >= FMT_DRAFT_AC01 && i <= FMT_DRAFT_AC02
               ? fmt_draft_kind_name((enum fmt_draft_kind)i)
               : NULL;
}
static const char *draft_status_nm(int i)
{
    return i >= FMT_DRAFT_REGISTERED && i < FMT_DRAFT_STATUS_COUNT
               ? fmt_draft_status_name((enum fmt_draft_status)i)
               : NULL;
}
static const char *result_nm(int i)
{
    return i >= FMT_BILL_ACCEPTED && i <= FMT_BILL_REJECTED
               ? fmt_bill_outcome_name((enum fmt_bill_outcome)i)
               : NULL;
}
static const char *fin_kind_nm(int i)
{
    return i >= 0 && i <= FMT_SCF_REVERSE_FACTORING
               ? fmt_scf_kind_name((enum fmt_scf_kind)i)
               : NULL;
}
static const char *fin_status_nm(int i)
{
    return i >= 0 && i < FMT_SCF_STATUS__COUNT
               ? fmt_scf_status_name((enum fmt_scf_status)i)
               : NULL;
}
static const char *voucher_op_nm(int i)
{
    return i >= 0 && i < FMT_VOUCHER_OP__COUNT
               ? fmt_voucher_op_name((enum fmt_voucher_op_kind)i)
               : NULL;
}
static const char *voucher_status_nm(int i)
{
    return i >= 0 && i < FMT_VOUCHER_STATUS__COUNT
               ? fmt_voucher_status_name((enum fmt_voucher_status)i)
               : NULL;
}

static const struct table_def {
    const char *name;
    int fam; /* the families that need it */
    name_fn names;
    int first, last; /* the model's values */
    size_t off;      /* of the struct cx_table in the profile */
} tables[] = {
    {"bill_ops", FAM_BILLS, bill_op_nm, FMT_BILL_OP_ISSUE, FMT_BILL_OP_REFUSE,
     offsetof(struct cx_profile, t_bill_ops)},
    {"draft_kinds", FAM_BILLS, draft_kind_nm, FMT_DRAFT_AC01, FMT_DRAFT_AC02,
     offsetof(struct cx_profile, t_draft_kinds)},
    {"draft_status_map", FAM_BILLS, draft_status_nm, FMT_DRAFT_REGISTERED,
     FMT_DRAFT_STATUS_COUNT - 1, offsetof(struct cx_profile, t_draft_status)},
    {"request_results", FAM_BOTH, result_nm, FMT_BILL_ACCEPTED,
     FMT_BILL_REJECTED, offsetof(struct cx_profile, t_results)},
    {"financing_kinds", FAM_SCF, fin_kind_nm, 0, FMT_SCF_REVERSE_FACTORING,
     offsetof(struct cx_profile, t_fin_kinds)},
    {"financing_status_map", FAM_SCF, fin_status_nm, 0,
     FMT_SCF_STATUS__COUNT - 1, offsetof(struct cx_profile, t_fin_status)},
    {"voucher_ops", FAM_SCF, voucher_op_nm, 0, FMT_VOUCHER_OP__COUNT - 1,
     offsetof(struct cx_profile, t_voucher_ops)},
    {"voucher_status_map", FAM_SCF, voucher_status_nm, 0,
     FMT_VOUCHER_STATUS__COUNT - 1,
     offsetof(struct cx_profile, t_voucher_status)},
};

static const char *fam_name(int fam)
{
    return fam == FAM_BILLS ? "bills" : fam == FAM_SCF ? "scf" : "bills or scf";
}

/* "a, b and c": the names a table lists. */
static void names_text(const struct table_def *d, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = d->first; i <= d->last && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s",
                                 i == d->first  ? ""
                                 : i == d->last ? " and "
                                                : ", ",
                                 d->names(i));
}

static int bank_value_ok(const char *v)
{
    return *v && strlen(v) <= BANK_VALUE_MAX && !aset_has_ctl(v);
}

static void table_free(struct cx_table *t)
{
    for (size_t i = 0; t->v && i < t->n; i++) {
        free(t->v[i].a);
        free(t->v[i].b);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static int read_table(struct cx_profile *p, const struct table_def *d,
                      const config_setting_t *l, struct aset *a)
{
    struct cx_table *t = (struct cx_table *)((char *)p + d->off);
    int n0 = a->n;
    char all[700];
    names_text(d, all, sizeof(all));
    int n = config_setting_is_list(l) ? config_setting_length(l) : -1;
    if (n < 1 || n > 1000) {
        aset_problem(a, l,
                     "%s must be a list of pairs ( \"h2hd name\", \"bank "
                     "value\" ) for %s",
                     d->name, all);
        return a->n - n0;
    }
    if (!(t->v = calloc((size_t)n, sizeof(*t->v)))) {
        a->oom = 1;
        return a->n - n0;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const config_setting_t *xs = NULL, *ys = NULL;
        if ((config_setting_is_list(e) || config_setting_is_array(e)) &&
            config_setting_length(e) == 2) {
            xs = config_setting_get_elem(e, 0);
            ys = config_setting_get_elem(e, 1);
        }
        if (!xs || config_setting_type(xs) != CONFIG_TYPE_STRING ||
            config_setting_type(ys) != CONFIG_TYPE_STRING) {
            aset_problem(a, e,
                         "%s: each entry must be ( \"h2hd name\", \"bank "
                         "value\" ), two strings",
                         d->name);
            continue;
        }
        const char *nm = config_setting_get_string(xs);
        const char *bv = config_setting_get_string(ys);
        int known = 0;
        for (int k = d->first; k <= d->last; k++)
            known |= strcmp(d->names(k), nm) == 0;
        if (!known) {
            aset_problem(a, xs, "%s: \"%.40s\" is not one of %s", d->name, nm,
                         all);
            continue;
        }
        if (!bank_value_ok(bv)) {
            aset_problem(a, ys,
                         "%s: the bank's value for %s must be 1 to %d "
                         "characters without control characters",
                         d->name, nm, BANK_VALUE_MAX);
            continue;
        }
        const char *dup = NULL;
        for (size_t j = 0; j < t->n && !dup; j++)
            if (strcmp(t->v[j].a, nm) == 0)
                dup = "name";
            else if (strcmp(t->v[j].b, bv) == 0)
                dup = "bank value";
        if (dup) {
            aset_problem(a, strcmp(dup, "name") == 0 ? xs : ys,
                         "%s: the %s \"%.40s\" is listed twice; each side of "
                         "the table is unique",
                         d->name, dup, strcmp(dup, "name") == 0 ? nm : bv);
            continue;
        }
        t->v[t->n].a = strdup(nm);
        t->v[t->n].b = strdup(bv);
        if (!t->v[t->n].a || !t->v[t->n].b) {
            free(t->v[t->n].a);
            free(t->v[t->n].b);
            a->oom = 1;
            continue;
        }
        t->n++;
    }
    if (a->n != n0)
        return a->n - n0;
    for (int k = d->first; k <= d->last; k++)
        if (!cx_tab_bank(t, d->names(k)))
            aset_problem(a, l,
                         "%s: %s is missing (every one of %s needs the bank's "
                         "value)",
                         d->name, d->names(k), all);
    return a->n - n0;
}

static void read_yes_no(struct cx_profile *p, const config_setting_t *l,
                        struct aset *a)
{
    const config_setting_t *y = NULL, *n = NULL;
    if ((config_setting_is_list(l) || config_setting_is_array(l)) &&
        config_setting_length(l) == 2) {
        y = config_setting_get_elem(l, 0);
        n = config_setting_get_elem(l, 1);
    }
    if (!y || config_setting_type(y) != CONFIG_TYPE_STRING ||
        config_setting_type(n) != CONFIG_TYPE_STRING ||
        !bank_value_ok(config_setting_get_string(y)) ||
        !bank_value_ok(config_setting_get_string(n))) {
        aset_problem(a, l,
                     "yes_no must be ( \"yes value\", \"no value\" ): the "
                     "bank's true and false, two strings of 1 to %d "
                     "characters",
                     BANK_VALUE_MAX);
        return;
    }
    if (strcmp(config_setting_get_string(y), config_setting_get_string(n)) ==
        0) {
        aset_problem(a, l, "yes_no: the bank's true and false must differ");
        return;
    }
    p->yes = strdup(config_setting_get_string(y));
    p->no = strdup(config_setting_get_string(n));
    if (!p->yes || !p->no)
        a->oom = 1;
}

int cx_fam_read(struct cx_profile *p, const config_setting_t *root,
                struct aset *a)
{
    int n0 = a->n;
    int have = (p->has_bills ? FAM_BILLS : 0) | (p->has_scf ? FAM_SCF : 0);
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        const struct table_def *d = &tables[i];
        const config_setting_t *l = config_setting_get_member(root, d->name);
        if (!(have & d->fam)) {
            if (l)
                aset_problem(a, l,
                             "%s belongs to the %s family, and the profile "
                             "has none of its functions (a table without "
                             "its family is a mistake)",
                             d->name, fam_name(d->fam));
            continue;
        }
        if (!l) {
            char all[700];
            names_text(d, all, sizeof(all));
            aset_problem(a, root,
                         "%s is missing: the %s family needs the bank's "
                         "value of each of %s",
                         d->name, fam_name(have & d->fam), all);
            continue;
        }
        read_table(p, d, l, a);
    }
    const config_setting_t *yn = config_setting_get_member(root, "yes_no");
    if (!have && yn)
        aset_problem(a, yn,
                     "yes_no belongs to the bills and scf families, and the "
                     "profile has none of their functions");
    else if (have && !yn)
        aset_problem(a, root,
                     "yes_no is missing: the %s family needs the bank's "
                     "true and false, yes_no = ( \"Y\", \"N\" );",
                     fam_name(have));
    else if (have)
        read_yes_no(p, yn, a);
    return a->n - n0;
}

void cx_fam_free(struct cx_profile *p)
{
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        table_free((struct cx_table *)((char *)p + tables[i].off));
    free(p->yes);
    free(p->no);
    p->yes = p->no = NULL;
}

const char *cx_tab_bank(const struct cx_table *t, const char *name)
{
    for (size_t i = 0; t && name && i < t->n; i++)
        if (strcmp(t->v[i].a, name) == 0)
            return t->v[i].b;
    return NULL;
}

const char *cx_tab_name(const struct cx_table *t, const char *bank)
{
    for (size_t i = 0; t && bank && i < t->n; i++)
        if (strcmp(t->v[i].b, bank) == 0)
            return t->v[i].a;
    return NULL;
}
