/*
 * settings_parties.c - the scf_parties setting (settings.h): voucher
 * platform member ids and the bank's parties they stand for.
 */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digits(const char *s, size_t len)
{
    return strlen(s) == len && strspn(s, "0123456789") == len;
}

void aset_parties(struct aset *a, const config_setting_t *g, const char *where,
                  size_t name_max, int (*account_ok)(const char *account),
                  const char *account_rule, struct aset_party **out,
                  size_t *n)
{
    static const char *const keys[] = {"id", "name", "account", "bank_code",
                                       NULL};
    const config_setting_t *l = config_setting_get_member(g, "scf_parties");
    if (!l)
        return;
    int len = config_setting_is_list(l) ? config_setting_length(l) : -1;
    if (len < 0 || len > 10000) {
        aset_problem(a, l,
                     "%sscf_parties must be a list of groups ( { id = ...; "
                     "name = ...; account = ...; bank_code = ...; } )",
                     where);
        return;
    }
    if (out && len > 0 && !(*out = calloc((size_t)len, sizeof(**out)))) {
        a->oom = 1;
        return;
    }
    char w[128];
    snprintf(w, sizeof(w), "%sscf_parties[].", where);
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(e)) {
            aset_problem(a, e, "%sscf_parties[%d] must be a group", where, i);
            continue;
        }
        aset_check_known(a, e, w, keys);
        const char *id =
            aset_str(a, e, w, "id", 1, 64, "the platform's member id");
        const char *nm = aset_str(a, e, w, "name", 1, name_max, "its name");
        const char *ac = aset_str(a, e, w, "account", 1, 34, "its account");
        const char *bc =
            aset_str(a, e, w, "bank_code", 1, 12, "its bank's code (CNAPS)");
        if (ac && !account_ok(ac)) {
            aset_problem(a, config_setting_get_member(e, "account"),
                         "%sscf_parties[%d].account must be %s", where, i,
                         account_rule);
            ac = NULL;
        }
        if (bc && !digits(bc, 12)) {
            aset_problem(a, config_setting_get_member(e, "bank_code"),
                         "%sscf_parties[%d].bank_code must be 12 digits",
                         where, i);
            bc = NULL;
        }
        for (int k = 0; id && k < i; k++) {
            const char *other = NULL;
            const config_setting_t *o = config_setting_get_elem(l, (unsigned)k);
            if (config_setting_is_group(o) &&
                config_setting_lookup_string(o, "id", &other) &&
                strcmp(other, id) == 0) {
                aset_problem(a, e, "%sscf_parties[%d]: %s is listed twice",
                             where, i, id);
                id = NULL;
            }
        }
        if (out && id && nm && ac && bc) {
            struct aset_party *p = &(*out)[(*n)++];
            p->id = aset_dup(a, id);
            p->name = aset_dup(a, nm);
            p->account = aset_dup(a, ac);
            p->bank_code = aset_dup(a, bc);
        }
    }
}

void aset_parties_free(struct aset_party *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].id);
        free(p[i].name);
        free(p[i].account);
        free(p[i].bank_code);
    }
    free(p);
}

const struct aset_party *aset_party_find(const struct aset_party *p, size_t n,
                                         const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (strcmp(p[i].id, id) == 0)
            return &p[i];
    return NULL;
}
