/*
 * recon_index.c - the string map behind every key and reference index:
 * open addressing with linear probing, one 12-byte slot per key (hash,
 * pool reference, value) so that a lookup costs one cache line in the
 * common case.  Sized up front from a count (phases know how many keys
 * they insert), it grows only as a fallback.
 */
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

static uint32_t cap_for(uint32_t expect)
{
    uint64_t c = 16;
    while (c < (uint64_t)expect * 10 / 7 + 1) /* at most 70 % full */
        c *= 2;
    return c > (UINT32_C(1) << 31) ? (UINT32_C(1) << 31) : (uint32_t)c;
}

static struct rc_mslot *slots(struct rc_smap *m, uint32_t cap)
{
    return m->tmp ? rc_tmp(m->tmp, cap, sizeof(struct rc_mslot))
                  : calloc(cap, sizeof(struct rc_mslot));
}

int rc_smap_init(struct rc_smap *m, uint32_t expect, struct recon *r)
{
    uint32_t cap = cap_for(expect);
    m->tmp = r;
    m->slot = slots(m, cap);
    if (!m->slot)
        return H2H_ENOMEM;
    m->mask = cap - 1;
    m->n = 0;
    return 0;
}

void rc_smap_release(struct rc_smap *m)
{
    if (!m->tmp)
        free(m->slot);
    m->slot = NULL;
    m->mask = m->n = 0;
}

static int smap_grow(struct rc_smap *m)
{
    uint32_t ncap = (m->mask + 1) * 2;
    if (ncap == 0)
        return H2H_ENOMEM;
    struct rc_mslot *t = slots(m, ncap);
    if (!t)
        return H2H_ENOMEM;
    for (uint32_t i = 0; i <= m->mask; i++) {
        if (!m->slot[i].key)
            continue;
        uint32_t j = m->slot[i].hash & (ncap - 1);
        while (t[j].key)
            j = (j + 1) & (ncap - 1);
        t[j] = m->slot[i];
    }
    if (!m->tmp)
        free(m->slot);
    m->slot = t;
    m->mask = ncap - 1;
    return 0;
}

uint32_t *rc_smap_get(const struct rc_smap *m, const struct rc_pool *p,
                      const char *s, uint32_t h)
{
    if (!m->slot)
        return NULL;
    for (uint32_t j = h & m->mask;; j = (j + 1) & m->mask) {
        struct rc_mslot *sl = &m->slot[j];
        if (!sl->key)
            return NULL;
        if (sl->hash == h && rc_key_eq(rc_s(p, sl->key), s))
            return &sl->val;
    }
}

int rc_smap_put(struct rc_smap *m, const struct rc_pool *p, rc_str key,
                uint32_t h, uint32_t **val)
{
    if (m->n + 1 > (m->mask + 1) / 4 * 3) {
        int rc = smap_grow(m);
        if (rc < 0)
            return rc;
    }
    const char *s = rc_s(p, key);
    for (uint32_t j = h & m->mask;; j = (j + 1) & m->mask) {
        struct rc_mslot *sl = &m->slot[j];
        if (!sl->key) {
            sl->key = key;
            sl->hash = h;
            sl->val = RC_NONE;
            m->n++;
            *val = &sl->val;
            return 1;
        }
        if (sl->hash == h &&
            (sl->key == key || rc_key_eq(rc_s(p, sl->key), s))) {
            *val = &sl->val;
            return 0;
        }
    }
}

int rc_posts_push(struct rc_posts *ps, uint32_t *head, uint32_t id)
{
    int rc = rc_grow((void **)&ps->v, &ps->cap, sizeof(*ps->v), ps->n + 1);
    if (rc < 0)
        return rc;
    ps->v[ps->n].id = id;
    ps->v[ps->n].next = *head;
    *head = ps->n++;
    return 0;
}

void rc_posts_release(struct rc_posts *ps)
{
    free(ps->v);
    memset(ps, 0, sizeof(*ps));
}
