/*
 * recon_tmp.c - scratch memory for the tables a phase builds and drops
 * (fingerprints, the key map, the reference index, the fuzzy buckets,
 * claim sorting).
 *
 * Why not malloc/free: at a million rows each of those tables is tens of
 * megabytes, so the C library maps fresh pages for it and unmaps them on
 * free, and the kernel zeroes every page again for the next phase - that
 * page clearing alone grew the 1M run by far more than ten times the
 * 100k one (whose tables are recycled inside the heap).  Here the blocks
 * stay mapped for the whole run and every phase reuses them from the
 * start (rc_tmp_reset); only memory that was used before is cleared, by
 * memset, and fresh pages come zeroed from the kernel as they are.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "recon_int.h"

#define BLOCK_MIN (UINT64_C(32) << 20)
#define ALIGN2M (UINT64_C(2) << 20) /* block sizes rounded to this */

static void *map_block(size_t cap)
{
    void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *rc_tmp(struct recon *r, size_t n, size_t el)
{
    if (el && n > (SIZE_MAX - 64) / el)
        return NULL;
    size_t sz = (n * el + 63) & ~(size_t)63;
    for (uint32_t k = 0; k < r->n_tmp; k++) {
        struct rc_block *b = &r->tmp[k];
        if (b->cap - b->used < sz)
            continue;
        char *p = b->p + b->used;
        /* what an earlier phase used must be cleared; beyond it the pages
         * are still as the kernel gave them: zero */
        if (b->used < b->touched)
            memset(p, 0, b->touched - b->used < sz ? b->touched - b->used : sz);
        b->used += sz;
        if (b->used > b->touched)
            b->touched = b->used;
        return p;
    }
    if (rc_grow((void **)&r->tmp, &r->cap_tmp, sizeof(*r->tmp), r->n_tmp + 1) <
        0)
        return NULL;
    size_t cap = sz > BLOCK_MIN ? sz : BLOCK_MIN;
    cap = (cap + ALIGN2M - 1) & ~(size_t)(ALIGN2M - 1);
    char *p = map_block(cap);
    if (!p)
        return NULL;
    r->tmp[r->n_tmp++] = (struct rc_block){p, cap, sz, sz};
    return p;
}

struct rc_tmp_mark rc_tmp_mark(const struct recon *r)
{
    struct rc_tmp_mark m = {0, 0};
    for (uint32_t k = 0; k < r->n_tmp; k++)
        if (r->tmp[k].used)
            m = (struct rc_tmp_mark){k, r->tmp[k].used};
    return m;
}

void rc_tmp_rewind(struct recon *r, struct rc_tmp_mark m)
{
    for (uint32_t k = m.blk; k < r->n_tmp; k++)
        r->tmp[k].used = k == m.blk ? m.used : 0;
}

void rc_tmp_reset(struct recon *r)
{
    for (uint32_t k = 0; k < r->n_tmp; k++)
        r->tmp[k].used = 0;
}

void rc_tmp_release(struct recon *r)
{
    for (uint32_t k = 0; k < r->n_tmp; k++)
        munmap(r->tmp[k].p, r->tmp[k].cap);
    free(r->tmp);
    r->tmp = NULL;
    r->n_tmp = r->cap_tmp = 0;
}
