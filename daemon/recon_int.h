/*
 * recon_int.h - shared by the files of the reconciliation engine.  Not an
 * API: see recon.h.  Who does what:
 *   recon.c           options, new/free, adding input, result views, names
 *   recon_pool.c      string arena with 32-bit references, interning, key
 *                     hashing and comparison, array growth
 *   recon_tmp.c       scratch memory the phases reuse for their tables
 *   recon_index.c     open-addressing string map and posting lists
 *   recon_text.c      reference tokens, names, civil dates
 *   recon_score.c     the fuzzy score
 *   recon_prep.c      step 0: duplicates, reversals set aside, batches,
 *                     as-of
 *   recon_match.c     recon_run; step 1 (exact keys); claims (step 4);
 *                     match and exception records
 *   recon_ref.c       step 2 (remittance references)
 *   recon_fuzzy.c     step 3 (amount, date window, score)
 *   recon_rev.c       step 5 (reversals linked to their originals)
 *   recon_classify.c  step 6 (exceptions, summary, totals)
 *   recon_out*.c      CSV, HTML, XML writers; files
 *   recon_input.c     expected receipts from CSV and XML
 *
 * Memory: 1M payments x 1M entries must fit well under 1 GB, so rows are
 * flat structs in growing arrays, every string is a 32-bit reference into
 * one chunked arena (low-cardinality fields interned), and indexes are
 * built per phase over what is still open, in scratch memory the next
 * phase reuses.  Nothing is O(payments x entries): every candidate search
 * is a hash look-up or a scan of one (direction, currency, amount) bucket
 * inside a date window.
 *
 * Time: the run should grow linearly, but at a million rows nothing fits
 * in the caches any more while at 100,000 most does.  So: what can be
 * worked out while a row is added (hashes, the lists steps 0 and 1 read,
 * counts and totals) is, while the row is in cache; passes over all rows
 * are few (step 0's duplicates pass also links reversals, step 2 makes the
 * open item list in its own pass, step 6 reads only the open lists); and
 * every loop that jumps at random (hash slots, scattered open rows, their
 * strings) prefetches a few iterations ahead.
 */
#ifndef H2H_RECON_INT_H
#define H2H_RECON_INT_H

#include <stddef.h>
#include <stdint.h>

#include "recon.h"

#define RC_NONE UINT32_MAX

/* ---- string arena (recon_pool.c) --------------------------------------- */

/* A string: chunk index in the high bits, offset in the low bits.  0 is
 * the empty string at the start of chunk 0, so "absent" reads as "". */
typedef uint32_t rc_str;

#define RC_CHUNK_SHIFT 21
#define RC_CHUNK_SIZE (UINT32_C(1) << RC_CHUNK_SHIFT)
#define RC_MAX_CHUNKS (UINT32_C(1) << (32 - RC_CHUNK_SHIFT))

struct rc_islot {
    uint32_t hash;
    rc_str ref; /* 0: empty slot */
};

/* Where the next string of one kind goes: its chunk and the bytes used. */
struct rc_stream {
    uint32_t chunk, used;
};

/* Interned strings get chunks of their own: they are few and compared
 * often (every interning of a repeated value reads the stored copy), so
 * packed together they stay in cache while millions of one-off strings
 * stream past. */
struct rc_pool {
    char **chunk;
    uint32_t n_chunk, cap_chunk;
    struct rc_stream plain, interned;
    struct rc_islot *itab; /* interned strings */
    uint32_t imask, in;
};

int rc_pool_init(struct rc_pool *p);
void rc_pool_release(struct rc_pool *p);
/* Copy s (sanitised, see recon.h) into the pool; intern: return the
 * reference of an equal string already interned.  NULL or "" gives 0.
 * 0, H2H_ETOOBIG (string or pool too large) or H2H_ENOMEM. */
int rc_pool_put(struct rc_pool *p, const char *s, int intern, rc_str *out);

static inline const char *rc_s(const struct rc_pool *p, rc_str r)
{
    return p->chunk[r >> RC_CHUNK_SHIFT] + (r & (RC_CHUNK_SIZE - 1));
}

/* Keys compare ignoring blanks and ASCII case (recon.h, step 1). */
uint32_t rc_key_hash(const char *s);
int rc_key_eq(const char *a, const char *b);
/* 1 when s is a key: something left after blanks, and not NOTPROVIDED. */
int rc_key_present(const char *s);
/* Plain byte hash (interning, fingerprints). */
uint32_t rc_hash_bytes(const void *s, size_t n, uint32_t seed);
static inline uint32_t rc_hash_u32(uint32_t h, uint32_t v)
{
    uint64_t x = ((uint64_t)h << 32 | v) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

/* ---- string map (recon_index.c) ---------------------------------------- */

struct rc_mslot {
    uint32_t hash;
    rc_str key; /* 0: empty */
    uint32_t val;
};

/* Open addressing, key strings in the pool compared with rc_key_eq. */
struct rc_smap {
    struct rc_mslot *slot;
    uint32_t mask, n;
    struct recon *tmp; /* slots from its scratch (not freed), or NULL */
};

/* Room for `expect` keys without growing; slots from r's scratch when r
 * is given (then valid until the phase ends). */
int rc_smap_init(struct rc_smap *m, uint32_t expect, struct recon *r);
void rc_smap_release(struct rc_smap *m);
/* The value slot of key s (hash h = rc_key_hash(s)), or NULL. */
uint32_t *rc_smap_get(const struct rc_smap *m, const struct rc_pool *p,
                      const char *s, uint32_t h);
/* Find or insert key (a pool string); *val points at its value, set to
 * RC_NONE when inserted.  1 inserted, 0 found, H2H_ENOMEM. */
int rc_smap_put(struct rc_smap *m, const struct rc_pool *p, rc_str key,
                uint32_t h, uint32_t **val);

/* Linked lists of ids in one array: head values live in a map. */
struct rc_post {
    uint32_t id, next;
};

struct rc_posts {
    struct rc_post *v;
    uint32_t n, cap;
};

/* Push id in front of *head.  0 or H2H_ENOMEM. */
int rc_posts_push(struct rc_posts *ps, uint32_t *head, uint32_t id);
void rc_posts_release(struct rc_posts *ps);

/* Grow *v (element size el) to hold need elements.  0 or H2H_ENOMEM. */
int rc_grow(void **v, uint32_t *cap, size_t el, uint32_t need);

/* ---- text (recon_text.c) ------------------------------------------------ */

#define RC_TOK_MAX 64

/* A whole reference normalised to upper-case letters and digits (out holds
 * RC_TOK_MAX + 1); length, or 0 when shorter than 3, longer than
 * RC_TOK_MAX or NOTPROVIDED. */
size_t rc_ref_norm(const char *s, char *out);

/* Reference-like tokens of a text (recon.h, step 2): fn gets each,
 * normalised; a non-zero return stops and is returned. */
typedef int (*rc_tok_fn)(void *ctx, const char *tok, size_t len);
int rc_tokens(const char *text, rc_tok_fn fn, void *ctx);

#define RC_NAME_MAX 64
#define RC_NAME_TOKS 16

/* A counterparty name prepared for comparison. */
struct rc_name {
    uint8_t len, ntok;
    uint8_t off[RC_NAME_TOKS], tl[RC_NAME_TOKS];
    char s[RC_NAME_MAX];
};

void rc_name_prep(const char *raw, struct rc_name *n);
/* Similarity in per mille (recon.h, step 3: N). */
int rc_name_sim(const struct rc_name *a, const struct rc_name *b);
/* Accounts equal ignoring everything but letters and digits, case. */
int rc_acct_eq(const char *a, const char *b);
/* A hash under the same equality; 0 for no letters and digits. */
uint32_t rc_acct_hash(const char *s);

/* Civil dates as days since 1970-01-01; INT32_MIN when invalid. */
int32_t rc_days(const char *iso);
/* "YYYY-MM-DD" into out[11]; "" for INT32_MIN. */
void rc_date_str(int32_t days, char out[11]);

/* ---- rows --------------------------------------------------------------- */

enum rc_item_st {
    RC_I_OPEN = 0,
    RC_I_MATCHED,
    RC_I_AMBIG, /* tied in a fuzzy or key decision */
};

enum rc_entry_st {
    RC_E_OPEN = 0,
    RC_E_MATCHED,
    RC_E_NOTBOOKED, /* PDNG, INFO */
    RC_E_DUP,       /* duplicate_entry */
    RC_E_DUPBOOK,   /* duplicate_booking */
    RC_E_REVERSAL,
    RC_E_RETURN,
    RC_E_AMBIG,
};

/* Item flags. */
enum { RC_IF_RETURNED = 1, RC_IF_DUPKEY = 2 };

/* A payment (kind RECON_SIDE_PAYMENT) or an expected receipt (reference in
 * id and rmt_ref, payer in cpty_name, due date in date). */
struct rc_item {
    int64_t amount;
    rc_str id, bank, account, e2e, uetr, serial, bank_ref;
    rc_str cpty_name, cpty_acct, rmt_text, rmt_ref, batch_id, state;
    int32_t date;
    uint32_t batch; /* index into batches, RC_NONE */
    uint32_t group; /* match group, RC_NONE */
    uint16_t ccy;
    uint8_t kind, st, fl;
};

struct rc_entry {
    int64_t amount;
    rc_str id, account, acct_svcr_ref, e2e, uetr, cust_ref, bank_ref;
    rc_str batch_ref, rtr_rsn, cpty_name, cpty_acct, rmt_text, rmt_ref;
    int32_t book, value;
    /* worked out on adding, while the entry is in cache: the run then
     * knows where it will look before it gets there (prefetch) */
    uint16_t n_dtls;  /* saturated */
    uint32_t claim;   /* unit claimed by a key or reference, RC_NONE */
    uint32_t link;    /* matched: group; dup: first entry; reversal:
                         original entry; open: best candidate unit */
    rc_str claim_key; /* the key value of the claim */
    uint16_t ccy;
    uint8_t credit, reversal, st;
    uint8_t claim_kind; /* enum recon_key */
    uint8_t best;       /* open: best candidate's score */
};

/* Payments with one batch id, booked as one entry for their sum. */
struct rc_batch {
    int64_t sum;
    rc_str id, account;
    uint32_t first, count; /* r->members[first .. first + count) */
    uint32_t group;        /* RC_NONE */
    int32_t date;          /* earliest execution date */
    uint16_t ccy;
    uint8_t st;    /* enum rc_item_st */
    uint8_t mixed; /* currencies differ: not a batch after all */
};

/* Units: what an entry can match, an item (u < n_items) or a batch. */
static inline int rc_unit_is_batch(uint32_t n_items, uint32_t u)
{
    return u >= n_items;
}

/* One item x entry row of a match (its group: the item's). */
struct rc_match {
    uint32_t item, entry;
    rc_str keyval;
    uint8_t rule, key, score, flags; /* flags: RECON_F_*, whole match */
};

struct rc_exc {
    uint32_t item;  /* item, or unit for ambiguous; RC_NONE */
    uint32_t entry; /* RC_NONE */
    uint32_t other; /* entry / item / unit / group by kind; RC_NONE */
    rc_str keyval;
    uint8_t kind, rule, key, score;
    int32_t days;
    int64_t expected, booked;
};

/* A scratch block: [0, used) taken, [0, touched) written at some time. */
struct rc_block {
    char *p;
    size_t cap, used, touched;
};

struct rc_claim {
    uint32_t entry, unit;
};

/* A booked entry as step 0 sees it, listed when it is added: its
 * fingerprint hash and what the reversal filter (recon_rev.c) tests
 * (so that the duplicates pass reads 16 bytes an entry, not the rows). */
struct rc_fent {
    uint32_t entry; /* bit 31: a reversal */
    uint32_t fp;    /* rc_fp_hash */
    uint32_t amt;   /* rc_rev_hash with the entry's account */
    uint32_t amt0;  /* rc_rev_hash with none */
};

/* Amount, currency, direction and account (rc_acct_hash, 0: none),
 * hashed for the reversal filter. */
static inline uint32_t rc_rev_hash(int64_t amount, uint32_t ccy,
                                   uint32_t credit, uint32_t account)
{
    return rc_hash_u32(rc_hash_u32(ccy << 1 | credit, account),
                       (uint32_t)amount ^ (uint32_t)(amount >> 32));
}

/* An entry step 1 has business with (a key, a batch reference, a return
 * reason), listed when it is added with the hash of its first probe:
 * step 1 reads this list, not every entry. */
struct rc_pent {
    uint32_t entry, hash;
    uint8_t probe; /* N_PROBES (5): no key probe */
};

/* A payment's key as step 1's map stores it: hash (of kind and text) and
 * (kind << 30 | payment) + 1.  Listed when the payment is added, so that
 * building the map reads 8 bytes a key, not the payments and their
 * strings again. */
struct rc_kent {
    uint32_t hash, val;
};

struct recon {
    struct recon_opts o;
    int32_t as_of; /* INT32_MIN: from the data */
    int ran;
    struct rc_pool pool;

    struct rc_item *items;
    uint32_t n_items, cap_items, n_pay, n_rcpt;
    struct rc_entry *entries;
    uint32_t n_entries, cap_entries;
    char (*ccy)[4]; /* currency codes by index */
    uint32_t n_ccy, cap_ccy;

    struct rc_batch *batches;
    uint32_t n_batches;
    uint32_t *members;

    struct rc_match *m;
    uint32_t n_m, cap_m;
    uint32_t *group_first; /* first match row of each group */
    uint32_t n_groups, cap_groups;
    struct rc_exc *x;
    uint32_t n_x, cap_x;

    /* gathered while adding, so that the run needs no pass to count */
    struct rc_kent *keys; /* payments' keys, in order (step 1's map) */
    uint32_t n_keys, cap_keys;
    struct rc_pent *probes; /* entries step 1 looks at, in order */
    uint32_t n_probes, cap_probes;
    struct rc_fent *fl; /* booked entries, in order (step 0) */
    uint32_t n_fl, cap_fl;
    int32_t max_book; /* latest booking date, INT32_MIN: none */
    int32_t max_date; /* latest item date */
    uint32_t *bm;     /* payments with a batch id */
    uint32_t n_bm, cap_bm;

    /* what is still open: later phases look at these, not at everything.
     * Never compacted in a pass of their own: step 2 drops what step 1
     * matched as it goes through the entries and makes the item list in
     * its pass over all items; step 3 drops what step 2 matched. */
    uint32_t *open_e, n_open_e;
    uint32_t *open_i, n_open_i;
    uint32_t n_imatched;  /* items matched so far */
    uint64_t *imb;        /* a bit per item: matched (rc_add_match) */
    struct rc_block *tmp; /* scratch blocks (recon_tmp.c) */
    uint32_t n_tmp, cap_tmp;

    uint32_t *rev; /* reversal entries */
    uint32_t n_rev, cap_rev;
    /* entries that claimed a unit in the current phase (scratch; the unit
     * kept beside the entry so that sorting them reads no rows) */
    struct rc_claim *claims;
    uint32_t n_claims, cap_claims;

    /* counts and totals kept up as rows are added and matched, so that
     * the summary needs no pass over everything (recon_classify.c) */
    struct recon_summary acc;
    struct recon_ccy_total *acc_tot; /* by currency index */
    uint32_t cap_tot;
    uint32_t *ret; /* payments that came back (a credit found them) */
    uint32_t n_ret, cap_ret;

    struct recon_summary sum;
    struct recon_ccy_total *tot; /* n_ccy, then sorted */
    uint16_t *tot_ix;            /* tot[k] is currency tot_ix[k] */

    uint64_t tick; /* calls until the next progress report */
};

/* Scratch (recon_tmp.c): n zeroed elements of el bytes, 64-byte aligned,
 * valid until the next rc_tmp_reset (each phase starts with one) or
 * rc_tmp_release (end of the run, recon_free).  NULL when out of memory. */
void *rc_tmp(struct recon *r, size_t n, size_t el);
void rc_tmp_reset(struct recon *r);
/* Give back everything taken since rc_tmp_mark (a table the phase no
 * longer needs), so that the next rc_tmp reuses those pages. */
struct rc_tmp_mark {
    uint32_t blk;
    size_t used;
};
struct rc_tmp_mark rc_tmp_mark(const struct recon *r);
void rc_tmp_rewind(struct recon *r, struct rc_tmp_mark m);
void rc_tmp_release(struct recon *r);

/* Progress: every o.progress_every calls and at the end (done == total).
 * 0, or H2H_ECANCELED. */
int rc_progress(struct recon *r, const char *phase, uint64_t done,
                uint64_t total, struct h2h_err *err);

/* ---- steps -------------------------------------------------------------- */

int rc_prepare(struct recon *r, struct h2h_err *err); /* recon_prep.c */
int rc_keys(struct recon *r, struct h2h_err *err);    /* recon_match.c */
int rc_refs(struct recon *r, struct h2h_err *err);    /* recon_ref.c */
int rc_fuzzy(struct recon *r, struct h2h_err *err);   /* recon_fuzzy.c */
/* Step 5 (recon_rev.c): the index over the reversals (NULL when there are
 * none), every other entry offered as a possible original (during the
 * duplicates pass of step 0, which reads every entry anyway), the links
 * settled; after matching, the exceptions and flags.  0 or H2H_ENOMEM. */
struct rindex;
int rc_rev_begin(struct recon *r, struct rindex **x);
void rc_rev_probe(struct recon *r, struct rindex *x, const struct rc_fent *f);
void rc_rev_link(struct recon *r, struct rindex *x);
int rc_rev_report(struct recon *r);
int rc_classify(struct recon *r, struct h2h_err *err); /* recon_classify.c */

/* Resolve the claims of r->claims (e->claim = unit) made by key or
 * reference (step 4), creating matches and duplicate_bookings; empties
 * r->claims. */
int rc_resolve_claims(struct recon *r, uint8_t rule, struct h2h_err *err);
/* Start a phase's claims (after its rc_tmp_reset; 0 or H2H_ENOMEM); entry
 * i claims unit u by key kind and value (at most once per phase: room
 * was made for every open entry, so this does not fail). */
int rc_claims_begin(struct recon *r);
int rc_claim(struct recon *r, uint32_t i, uint32_t u, uint8_t key, rc_str kv);

/* Hashes worked out when a row is added (recon_prep.c, recon_match.c). */
uint32_t rc_fp_hash(const struct recon *r, const struct rc_entry *e);
/* The keys of payment it (to be row i), listed for step 1; r->keys has
 * room for four more. */
void rc_list_keys(struct recon *r, const struct rc_item *it, uint32_t i);
uint8_t rc_first_probe(const struct recon *r, const struct rc_entry *e,
                       uint32_t *h);

/* A match of unit u (item or batch) with entries ents[0..n): rows, group,
 * flags (mismatches worked out here), states.  0 or H2H_ENOMEM. */
int rc_add_match(struct recon *r, uint32_t u, const uint32_t *ents, uint32_t n,
                 uint8_t rule, uint8_t key, rc_str keyval, uint8_t score,
                 unsigned flags);
int rc_add_exc(struct recon *r, const struct rc_exc *x);
/* An exception with nothing set: item, entry, other RC_NONE. */
struct rc_exc rc_exc_blank(uint8_t kind);

/* Account compatibility: equal, or unknown on one side. */
int rc_acct_compatible(const struct recon *r, rc_str a, rc_str b);

/* Fuzzy score of entry e against unit u (recon.h, step 3); en is e's
 * prepared name. */
int rc_score(const struct recon *r, const struct rc_entry *e,
             const struct rc_name *en, uint32_t u);

/* ---- results (recon.c, recon_out.c) ------------------------------------ */

/* Id, amount, currency index, date and side of a unit. */
struct rc_unit_view {
    const char *id;
    int64_t amount;
    uint16_t ccy;
    int32_t date;
    uint8_t side;
    int is_batch;
};
void rc_unit_view(const struct recon *r, uint32_t u, struct rc_unit_view *v);

/* Totals of the distinct items and entries of a match group. */
void rc_group_totals(const struct recon *r, uint32_t group, int64_t *items,
                     int64_t *entries);

/* Writers' helpers. */
const char *rc_ccy(const struct recon *r, uint16_t ix);
/* Amount in minor units of ccy as a decimal into buf[40]. */
const char *rc_amt(const struct recon *r, int64_t minor, uint16_t ccy,
                   char *buf);
/* "flags" words of a match (RECON_F_*), blank separated, into buf[96]. */
const char *rc_flags_str(unsigned flags, char *buf);
/* XML / HTML escaping of s into f; attr also escapes quotes. */
void rc_xml_esc(FILE *f, const char *s);

#endif
