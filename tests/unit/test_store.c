/* test_store.c - the durable state store (daemon/store.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "testutil.h"

/* ---- fixtures --------------------------------------------------------- */

static char db_path[512];
static char cur_dir[256];

/* A fresh directory for the database; the previous one is removed. */
static void new_dir(void)
{
    if (cur_dir[0])
        tu_rmtree(cur_dir);
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    snprintf(cur_dir, sizeof(cur_dir), "%s", dir);
    snprintf(db_path, sizeof(db_path), "%s/state.db", cur_dir);
}

static struct store *fresh(void)
{
    new_dir();
    struct store *s = NULL;
    struct h2h_err err = {0};
    int rc = store_open(db_path, &s, &err);
    if (rc)
        fprintf(stderr, "\n  store_open: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return s;
}

static struct store *reopen(struct store *s)
{
    store_close(s);
    struct store *n = NULL;
    struct h2h_err err = {0};
    int rc = store_open(db_path, &n, &err);
    if (rc)
        fprintf(stderr, "\n  store_open: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return n;
}

/* Deterministic distinct content hash for n. */
static const char *sha(unsigned n)
{
    static char buf[4][65];
    static int slot;
    char *b = buf[slot++ % 4];
    for (int i = 0; i < 8; i++)
        snprintf(b + i * 8, 9, "%08x", n * 2654435761u + (unsigned)i);
    return b;
}

static int accept_n(struct store *s, const char *channel, const char *bank,
                    unsigned n, char id[STORE_ID_MAX])
{
    char path[64], name[64];
    snprintf(path, sizeof(path), "/spool/data/%u.xml", n);
    snprintf(name, sizeof(name), "pay%u.xml", n);
    struct store_accept in = {
        .channel = channel,
        .bank = bank,
        .kind = "payment",
        .orig_name = name,
        .sha256 = sha(n),
        .payload_path = path,
        .size = 100 + n,
        .drop_dev = 1,
        .drop_ino = 1000 + n,
        .drop_mtime_ns = 5,
    };
    struct h2h_err err = {0};
    int rc = store_accept(s, &in, id, &err);
    if (rc && rc != H2H_EDUP)
        fprintf(stderr, "\n  store_accept: %s\n", err.msg);
    return rc;
}

static enum msg_state state_of(struct store *s, const char *id)
{
    struct store_msg m;
    int rc = store_get(s, id, &m, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    enum msg_state st = rc ? ST__COUNT : m.state;
    store_msg_release(&m);
    return st;
}

static int count_events_cb(void *ctx, const struct store_event *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

static int n_events(struct store *s, const char *id)
{
    int n = 0;
    CU_ASSERT_EQUAL(store_history(s, id, count_events_cb, &n, NULL), 0);
    return n;
}

static int64_t seq_of(const char *id)
{
    const char *dash = strchr(id, '-');
    return dash ? strtoll(dash + 1, NULL, 10) : -1;
}

/* Run SQL on the database file through a separate connection. */
static void raw_sql(const char *sql)
{
    sqlite3 *db = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "\n  raw_sql: %s\n", msg);
    sqlite3_free(msg);
    CU_ASSERT_EQUAL(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* Allowed edges, written independently of state.c. */
static const struct {
    enum msg_state from, to;
} edges[] = {
    {ST_ACCEPTED, ST_RENDERED},     {ST_ACCEPTED, ST_FAILED},
    {ST_ACCEPTED, ST_HELD},         {ST_RENDERED, ST_SUBMITTING},
    {ST_RENDERED, ST_HELD},         {ST_RENDERED, ST_FAILED},
    {ST_SUBMITTING, ST_SUBMITTED},  {ST_SUBMITTING, ST_DEFERRED},
    {ST_SUBMITTING, ST_FAILED},     {ST_SUBMITTING, ST_HELD},
    {ST_SUBMITTED, ST_ACKNOWLEDGED}, {ST_SUBMITTED, ST_REJECTED},
    {ST_SUBMITTED, ST_PARTIALLY_ACCEPTED}, {ST_SUBMITTED, ST_BOOKED},
    {ST_SUBMITTED, ST_HELD},        {ST_ACKNOWLEDGED, ST_BOOKED},
    {ST_ACKNOWLEDGED, ST_REJECTED}, {ST_ACKNOWLEDGED, ST_PARTIALLY_ACCEPTED},
    {ST_PARTIALLY_ACCEPTED, ST_BOOKED}, {ST_DEFERRED, ST_SUBMITTING},
    {ST_DEFERRED, ST_RENDERED},     {ST_DEFERRED, ST_FAILED},
    {ST_DEFERRED, ST_HELD},         {ST_FAILED, ST_RENDERED},
    {ST_FAILED, ST_ACCEPTED},
    {ST_FAILED, ST_HELD},           {ST_HELD, ST_ACCEPTED},
    {ST_HELD, ST_RENDERED},         {ST_HELD, ST_DEFERRED},
    {ST_HELD, ST_FAILED},           {ST_HELD, ST_SUBMITTED},
};

/* A path from accepted to each state (held via accepted). */
static const enum msg_state path_to[ST__COUNT][5] = {
    [ST_ACCEPTED] = {ST_ACCEPTED},
    [ST_RENDERED] = {ST_ACCEPTED, ST_RENDERED},
    [ST_SUBMITTING] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING},
    [ST_SUBMITTED] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING, ST_SUBMITTED},
    [ST_ACKNOWLEDGED] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING,
                         ST_SUBMITTED, ST_ACKNOWLEDGED},
    [ST_REJECTED] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING, ST_SUBMITTED,
                     ST_REJECTED},
    [ST_PARTIALLY_ACCEPTED] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING,
                               ST_SUBMITTED, ST_PARTIALLY_ACCEPTED},
    [ST_BOOKED] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING, ST_SUBMITTED,
                   ST_BOOKED},
    [ST_HELD] = {ST_ACCEPTED, ST_HELD},
    [ST_DEFERRED] = {ST_ACCEPTED, ST_RENDERED, ST_SUBMITTING, ST_DEFERRED},
    [ST_FAILED] = {ST_ACCEPTED, ST_FAILED},
};

static int path_len(enum msg_state s)
{
    int n = 1;
    while (n < 5 && path_to[s][n] != ST_ACCEPTED)
        n++;
    return n;
}

/* Drive message id from accepted to state st along path_to. */
static void drive(struct store *s, const char *id, enum msg_state st)
{
    int n = path_len(st);
    for (int i = 1; i < n; i++) {
        struct h2h_err err = {0};
        int rc = store_transition(s, id, path_to[st][i - 1], path_to[st][i],
                                  NULL, &err);
        if (rc)
            fprintf(stderr, "\n  drive: %s\n", err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
    }
}

/* ---- tests ------------------------------------------------------------ */

static void test_open_schema(void)
{
    struct store *s = fresh();
    struct stat st;
    CU_ASSERT_EQUAL(stat(db_path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    s = reopen(s);
    store_close(s);

    sqlite3 *db = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db,
                                       "SELECT value FROM meta WHERE key = "
                                       "'schema_version'",
                                       -1, &q, NULL),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
                                       NULL),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
    CU_ASSERT_STRING_EQUAL(sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);

    /* A database from a newer h2hd is refused, not silently used. */
    raw_sql("UPDATE meta SET value = 99 WHERE key = 'schema_version'");
    struct h2h_err err = {0};
    s = NULL;
    CU_ASSERT_EQUAL(store_open(db_path, &s, &err), H2H_EDB);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "99"));

    /* Not a directory we can create in. */
    CU_ASSERT_NOT_EQUAL(store_open("/nonexistent-dir/x.db", &s, &err), 0);
    CU_ASSERT_PTR_NULL(s);
}

static void test_accept_dup(void)
{
    struct store *s = fresh();
    char id[STORE_ID_MAX], id2[STORE_ID_MAX], id3[STORE_ID_MAX];
    int64_t before = (int64_t)time(NULL) * 1000 - 1000;
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "bankA", 1, id), 0);

    /* id: M + today's UTC date + - + 6 digits */
    char want[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(want, sizeof(want), "M%Y%m%d-", &tm);
    CU_ASSERT_EQUAL(strncmp(id, want, 10), 0);
    CU_ASSERT_EQUAL(strlen(id), 16);
    CU_ASSERT_EQUAL(strspn(id + 10, "0123456789"), 6);

    struct store_msg m;
    CU_ASSERT_EQUAL_FATAL(store_get(s, id, &m, NULL), 0);
    CU_ASSERT_STRING_EQUAL(m.id, id);
    CU_ASSERT_STRING_EQUAL(m.channel, "erp");
    CU_ASSERT_STRING_EQUAL(m.bank, "bankA");
    CU_ASSERT_STRING_EQUAL(m.kind, "payment");
    CU_ASSERT_STRING_EQUAL(m.orig_name, "pay1.xml");
    CU_ASSERT_STRING_EQUAL(m.sha256, sha(1));
    CU_ASSERT_STRING_EQUAL(m.payload_path, "/spool/data/1.xml");
    CU_ASSERT_EQUAL(m.size, 101);
    CU_ASSERT_EQUAL(m.state, ST_ACCEPTED);
    CU_ASSERT_EQUAL(m.held_from, ST_NONE);
    CU_ASSERT_PTR_NULL(m.rendered_path);
    CU_ASSERT_PTR_NULL(m.last_error);
    CU_ASSERT_PTR_NULL(m.business_id);
    CU_ASSERT_EQUAL(m.attempts, 0);
    CU_ASSERT_EQUAL(m.drop_ino, 1001);
    CU_ASSERT_EQUAL(m.drop_mtime_ns, 5);
    CU_ASSERT(m.created_ms >= before);
    CU_ASSERT_EQUAL(m.created_ms, m.updated_ms);
    store_msg_release(&m);
    store_msg_release(&m); /* idempotent */
    CU_ASSERT_EQUAL(n_events(s, id), 1);

    /* Same content on the same channel: duplicate, existing id. */
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(accept_n(s, "erp", "bankA", 1, id2), H2H_EDUP);
    CU_ASSERT_STRING_EQUAL(id2, id);
    /* Upper-case hex is the same hash. */
    char upper[65];
    snprintf(upper, sizeof(upper), "%s", sha(1));
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    struct store_accept in = {.channel = "erp", .sha256 = upper,
                              .payload_path = "/x"};
    CU_ASSERT_EQUAL(store_accept(s, &in, id2, &err), H2H_EDUP);
    CU_ASSERT_STRING_EQUAL(id2, id);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, id));

    /* Same content on another channel is another message. */
    CU_ASSERT_EQUAL(accept_n(s, "other", "bankA", 1, id3), 0);
    CU_ASSERT_STRING_NOT_EQUAL(id3, id);

    CU_ASSERT_EQUAL(store_find_hash(s, "erp", sha(1), &m, NULL), 0);
    CU_ASSERT_STRING_EQUAL(m.id, id);
    store_msg_release(&m);
    CU_ASSERT_EQUAL(store_find_hash(s, "erp", upper, &m, NULL), 0);
    CU_ASSERT_STRING_EQUAL(m.id, id);
    store_msg_release(&m);
    CU_ASSERT_EQUAL(store_find_hash(s, "erp", sha(2), &m, NULL),
                    H2H_ENOTFOUND);
    store_msg_release(&m);
    CU_ASSERT_EQUAL(store_get(s, "M19700101-000999", &m, NULL),
                    H2H_ENOTFOUND);
    store_msg_release(&m);

    /* Bad input. */
    static const struct {
        const char *label, *channel, *sha, *payload;
    } bad[] = {
        {"no channel", NULL, "0", "/p"},
        {"short sha", "erp", "abc", "/p"},
        {"non-hex sha", "erp",
         "zz00000000000000000000000000000000000000000000000000000000000000",
         "/p"},
        {"no payload", "erp",
         "0000000000000000000000000000000000000000000000000000000000000000",
         NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store_accept b = {.channel = bad[i].channel,
                                 .sha256 = bad[i].sha,
                                 .payload_path = bad[i].payload};
        int rc = store_accept(s, &b, id2, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  %s: %d\n", bad[i].label, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_id_sequence(void)
{
    struct store *s = fresh();
    char ids[8][STORE_ID_MAX];
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(accept_n(s, "erp", NULL, i, ids[i]), 0);
    s = reopen(s);
    for (unsigned i = 3; i < 5; i++)
        CU_ASSERT_EQUAL(accept_n(s, "erp", NULL, i, ids[i]), 0);
    for (int i = 1; i < 5; i++)
        CU_ASSERT(seq_of(ids[i]) > seq_of(ids[i - 1]));
    CU_ASSERT_EQUAL(seq_of(ids[0]), 1);

    /* Deleting the newest message never frees its number. */
    store_close(s);
    char sql[256];
    snprintf(sql, sizeof(sql), "DELETE FROM msg WHERE id = '%s'", ids[4]);
    raw_sql(sql);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, NULL), 0);
    CU_ASSERT_EQUAL(accept_n(s, "erp", NULL, 5, ids[5]), 0);
    CU_ASSERT(seq_of(ids[5]) > seq_of(ids[4]));
    store_close(s);
}

/* Every pair (from, to): allowed edges succeed and append an event; all
 * others are refused with H2H_ESTATE and change nothing.  Messages reach
 * "held" from accepted, so held may go back to accepted or to rendered. */
static void test_all_transitions(void)
{
    struct store *s = fresh();
    unsigned n = 0;
    int ok = 0, refused = 0;
    for (int f = 0; f < ST__COUNT; f++)
        for (int t = 0; t < ST__COUNT; t++) {
            int want = 0;
            for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
                if (edges[i].from == (enum msg_state)f
                    && edges[i].to == (enum msg_state)t)
                    want = 1;
            if (f == ST_HELD && t != ST_ACCEPTED && t != ST_RENDERED)
                want = 0; /* held_from is accepted */
            char id[STORE_ID_MAX];
            CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", n++, id), 0);
            drive(s, id, (enum msg_state)f);
            int before = n_events(s, id);
            struct h2h_err err = {0};
            int rc = store_transition(s, id, (enum msg_state)f,
                                      (enum msg_state)t, NULL, &err);
            if ((rc == 0) != want)
                fprintf(stderr, "\n  %s -> %s: rc %d (%s)\n",
                        state_name((enum msg_state)f),
                        state_name((enum msg_state)t), rc, err.msg);
            if (want) {
                CU_ASSERT_EQUAL(rc, 0);
                CU_ASSERT_EQUAL(state_of(s, id), (enum msg_state)t);
                CU_ASSERT_EQUAL(n_events(s, id), before + 1);
                ok++;
            } else {
                CU_ASSERT_EQUAL(rc, H2H_ESTATE);
                CU_ASSERT_EQUAL(state_of(s, id), (enum msg_state)f);
                CU_ASSERT_EQUAL(n_events(s, id), before);
                refused++;
            }
        }
    CU_ASSERT_EQUAL(ok + refused, ST__COUNT * ST__COUNT);
    CU_ASSERT(ok >= 25);
    struct h2h_err err = {0};
    int rc = store_check(s, &err);
    if (rc)
        fprintf(stderr, "\n  check: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    store_close(s);
}

static void test_cas_and_changes(void)
{
    struct store *s = fresh();
    char id[STORE_ID_MAX];
    struct h2h_err err = {0};
    struct store_msg m;
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 1, id), 0);

    struct store_change ch = {
        .rendered_path = "/spool/out/1.xml",
        .remote_name = "PAY-1.xml",
        .business_id = "MSG-1",
        .next_attempt_ms = 12345,
        .detail = "rendered pain.001.001.09",
    };
    CU_ASSERT_EQUAL(store_transition(s, id, ST_ACCEPTED, ST_RENDERED, &ch,
                                     &err),
                    0);
    /* Compare-and-set: the caller's view is stale. */
    CU_ASSERT_EQUAL(store_transition(s, id, ST_ACCEPTED, ST_RENDERED, NULL,
                                     &err),
                    H2H_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is rendered, not accepted"));
    CU_ASSERT_EQUAL(store_transition(s, "M20000101-999999", ST_ACCEPTED,
                                     ST_RENDERED, NULL, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_transition(s, "", ST_ACCEPTED, ST_RENDERED, NULL,
                                     &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_transition(s, id, ST_RENDERED, ST__COUNT, NULL,
                                     &err),
                    H2H_EINVALID);

    CU_ASSERT_EQUAL_FATAL(store_get(s, id, &m, NULL), 0);
    CU_ASSERT_STRING_EQUAL(m.rendered_path, "/spool/out/1.xml");
    CU_ASSERT_STRING_EQUAL(m.remote_name, "PAY-1.xml");
    CU_ASSERT_STRING_EQUAL(m.business_id, "MSG-1");
    CU_ASSERT_EQUAL(m.next_attempt_ms, 12345);
    store_msg_release(&m);

    /* Attempts, error set and kept, next_attempt kept with < 0. */
    struct store_change fail = {.error = "connection refused",
                                .attempts_inc = 1,
                                .next_attempt_ms = 99999};
    CU_ASSERT_EQUAL(store_transition(s, id, ST_RENDERED, ST_SUBMITTING, NULL,
                                     &err),
                    0);
    CU_ASSERT_EQUAL(store_transition(s, id, ST_SUBMITTING, ST_DEFERRED, &fail,
                                     &err),
                    0);
    struct store_change again = {.attempts_inc = 1, .next_attempt_ms = -1};
    CU_ASSERT_EQUAL(store_transition(s, id, ST_DEFERRED, ST_SUBMITTING,
                                     &again, &err),
                    0);
    CU_ASSERT_EQUAL_FATAL(store_get(s, id, &m, NULL), 0);
    CU_ASSERT_EQUAL(m.attempts, 2);
    CU_ASSERT_STRING_EQUAL(m.last_error, "connection refused");
    CU_ASSERT_EQUAL(m.next_attempt_ms, 99999);
    CU_ASSERT_STRING_EQUAL(m.rendered_path, "/spool/out/1.xml");
    store_msg_release(&m);

    /* "" clears the error; reset_attempts before inc. */
    struct store_change clear = {.error = "", .reset_attempts = 1,
                                 .attempts_inc = 1, .next_attempt_ms = -1,
                                 .actor = "uid=1000"};
    CU_ASSERT_EQUAL(store_transition(s, id, ST_SUBMITTING, ST_SUBMITTED,
                                     &clear, &err),
                    0);
    CU_ASSERT_EQUAL_FATAL(store_get(s, id, &m, NULL), 0);
    CU_ASSERT_PTR_NULL(m.last_error);
    CU_ASSERT_EQUAL(m.attempts, 1);
    CU_ASSERT(m.updated_ms >= m.created_ms);
    store_msg_release(&m);

    /* Oversized detail is cut, not refused. */
    char *big = malloc(3 * STORE_TEXT_MAX);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'x', 3 * STORE_TEXT_MAX - 1);
    big[3 * STORE_TEXT_MAX - 1] = '\0';
    struct store_change bigch = {.error = big, .next_attempt_ms = -1};
    CU_ASSERT_EQUAL(store_transition(s, id, ST_SUBMITTED, ST_REJECTED,
                                     &bigch, &err),
                    0);
    free(big);
    CU_ASSERT_EQUAL_FATAL(store_get(s, id, &m, NULL), 0);
    CU_ASSERT_EQUAL(strlen(m.last_error), STORE_TEXT_MAX);
    store_msg_release(&m);
    /* Terminal. */
    CU_ASSERT_EQUAL(store_transition(s, id, ST_REJECTED, ST_BOOKED, NULL,
                                     &err),
                    H2H_ESTATE);
    store_close(s);
}

struct hist {
    int n;
    char from[16][24], to[16][24], detail[16][200], actor[16][24];
    int64_t seq[16];
};

static int hist_cb(void *ctx, const struct store_event *e)
{
    struct hist *h = ctx;
    if (h->n >= 16)
        return 1;
    snprintf(h->from[h->n], 24, "%s", e->from ? e->from : "-");
    snprintf(h->to[h->n], 24, "%s", e->to);
    snprintf(h->detail[h->n], 200, "%s", e->detail ? e->detail : "");
    snprintf(h->actor[h->n], 24, "%s", e->actor);
    h->seq[h->n] = e->seq;
    h->n++;
    return 0;
}

static void test_hold_release_retry(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    unsigned n = 0;

    /* Release goes back to held_from; submitting goes to rendered. */
    static const struct {
        enum msg_state from, released_to;
    } cases[] = {
        {ST_ACCEPTED, ST_ACCEPTED},   {ST_RENDERED, ST_RENDERED},
        {ST_SUBMITTING, ST_RENDERED}, {ST_SUBMITTED, ST_SUBMITTED},
        {ST_DEFERRED, ST_DEFERRED},   {ST_FAILED, ST_FAILED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char id[STORE_ID_MAX];
        CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", n++, id), 0);
        drive(s, id, cases[i].from);
        CU_ASSERT_EQUAL(store_hold(s, id, "operator hold", "uid=1000", &err),
                        0);
        struct store_msg m;
        CU_ASSERT_EQUAL_FATAL(store_get(s, id, &m, NULL), 0);
        CU_ASSERT_EQUAL(m.state, ST_HELD);
        CU_ASSERT_EQUAL(m.held_from, cases[i].from);
        store_msg_release(&m);
        CU_ASSERT_EQUAL(store_hold(s, id, NULL, NULL, &err), H2H_ESTATE);
        /* Never straight back into submitting. */
        CU_ASSERT_EQUAL(store_transition(s, id, ST_HELD, ST_SUBMITTING, NULL,
                                         &err),
                        H2H_ESTATE);
        enum msg_state to = ST__COUNT;
        CU_ASSERT_EQUAL(store_release(s, id, "uid=1001", &err, &to), 0);
        CU_ASSERT_EQUAL(to, cases[i].released_to);
        CU_ASSERT_FATAL(store_get(s, id, &m, NULL) == 0);
        CU_ASSERT_EQUAL(m.state, cases[i].released_to);
        CU_ASSERT_EQUAL(m.held_from, ST_NONE);
        store_msg_release(&m);
        CU_ASSERT_EQUAL(store_release(s, id, NULL, &err, NULL), H2H_ESTATE);

        struct hist h = {0};
        CU_ASSERT_EQUAL(store_history(s, id, hist_cb, &h, NULL), 0);
        CU_ASSERT_FATAL(h.n >= 3);
        CU_ASSERT_STRING_EQUAL(h.to[h.n - 2], "held");
        CU_ASSERT_STRING_EQUAL(h.actor[h.n - 2], "uid=1000");
        CU_ASSERT_STRING_EQUAL(h.detail[h.n - 2], "operator hold");
        CU_ASSERT_STRING_EQUAL(h.from[h.n - 1], "held");
        CU_ASSERT_STRING_EQUAL(h.actor[h.n - 1], "uid=1001");
        if (cases[i].from == ST_SUBMITTING)
            CU_ASSERT_PTR_NOT_NULL(strstr(h.detail[h.n - 1], "resend"));
    }

    /* Not holdable: terminal, acknowledged, partially accepted. */
    static const enum msg_state no_hold[] = {
        ST_ACKNOWLEDGED, ST_PARTIALLY_ACCEPTED, ST_BOOKED, ST_REJECTED};
    for (size_t i = 0; i < sizeof(no_hold) / sizeof(no_hold[0]); i++) {
        char id[STORE_ID_MAX];
        CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", n++, id), 0);
        drive(s, id, no_hold[i]);
        CU_ASSERT_EQUAL(store_hold(s, id, NULL, NULL, &err), H2H_ESTATE);
        CU_ASSERT_EQUAL(state_of(s, id), no_hold[i]);
    }
    CU_ASSERT_EQUAL(store_hold(s, "M20000101-000077", NULL, NULL, &err),
                    H2H_ENOTFOUND);

    /* Held from submitted: a person may resend (rendered) but the message
     * cannot be released anywhere else than submitted. */
    char id[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", n++, id), 0);
    drive(s, id, ST_SUBMITTED);
    CU_ASSERT_EQUAL(store_hold(s, id, NULL, NULL, &err), 0);
    CU_ASSERT_EQUAL(store_transition(s, id, ST_HELD, ST_FAILED, NULL, &err),
                    H2H_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "held from submitted"));
    CU_ASSERT_EQUAL(store_transition(s, id, ST_HELD, ST_RENDERED, NULL, &err),
                    0);

    /* Retry: failed | deferred -> rendered, attempts reset, due now; a
     * failed message without a rendered file goes back to accepted. */
    static const enum msg_state retry_from[] = {ST_FAILED, ST_DEFERRED,
                                                ST_FAILED};
    static const char *const retry_rendered[] = {NULL, NULL, "/r/x.xml"};
    static const enum msg_state retry_to[] = {ST_ACCEPTED, ST_RENDERED,
                                              ST_RENDERED};
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", n++, id), 0);
        drive(s, id, retry_from[i]);
        /* give it some attempts and an error and a far-away due time */
        CU_ASSERT_EQUAL(store_hold(s, id, NULL, NULL, &err), 0);
        struct store_change ch = {.error = "bank down", .attempts_inc = 3,
                                  .next_attempt_ms = INT64_MAX / 2,
                                  .rendered_path = retry_rendered[i]};
        CU_ASSERT_EQUAL(store_transition(s, id, ST_HELD, retry_from[i], &ch,
                                         &err),
                        0);
        int64_t t0 = (int64_t)time(NULL) * 1000;
        CU_ASSERT_EQUAL(store_retry(s, id, "uid=1000", &err), 0);
        struct store_msg m;
        CU_ASSERT_FATAL(store_get(s, id, &m, NULL) == 0);
        CU_ASSERT_EQUAL(m.state, retry_to[i]);
        CU_ASSERT_EQUAL(m.attempts, 0);
        CU_ASSERT_PTR_NULL(m.last_error);
        CU_ASSERT(m.next_attempt_ms >= t0 - 1000
                  && m.next_attempt_ms <= t0 + 2000);
        store_msg_release(&m);
        CU_ASSERT_EQUAL(store_retry(s, id, NULL, &err), H2H_ESTATE);
    }
    CU_ASSERT_EQUAL(store_retry(s, "M20000101-000077", NULL, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

struct collect {
    int n, stop_at;
    char ids[64][STORE_ID_MAX];
    struct store *s; /* when set, the callback modifies the store */
};

static int collect_cb(void *ctx, const struct store_msg *m)
{
    struct collect *c = ctx;
    if (c->n < 64)
        snprintf(c->ids[c->n], STORE_ID_MAX, "%s", m->id);
    c->n++;
    if (c->s) /* re-entrant use: move it on while listing */
        CU_ASSERT_EQUAL(store_transition(c->s, m->id, m->state, ST_RENDERED,
                                         NULL, NULL),
                        0);
    if (c->stop_at && c->n == c->stop_at)
        return 42;
    return 0;
}

static int list_n(struct store *s, const struct store_filter *f)
{
    struct collect c = {0};
    CU_ASSERT_EQUAL(store_list(s, f, collect_cb, &c, NULL), 0);
    return c.n;
}

static void test_list_counts(void)
{
    struct store *s = fresh();
    char id[12][STORE_ID_MAX];
    struct h2h_err err = {0};
    /* 0-5 bankA/erp, 6-8 bankB/erp, 9-11 bankB/treasury */
    for (unsigned i = 0; i < 12; i++) {
        CU_ASSERT_EQUAL_FATAL(accept_n(s, i < 9 ? "erp" : "treasury",
                                       i < 6 ? "bankA" : "bankB", i, id[i]),
                              0);
    }
    /* 0,1 rendered; 2 deferred (due at 1000); 3 deferred (due at 5000);
     * 6 failed. */
    drive(s, id[0], ST_RENDERED);
    drive(s, id[1], ST_RENDERED);
    drive(s, id[2], ST_SUBMITTING);
    drive(s, id[3], ST_SUBMITTING);
    struct store_change d1 = {.next_attempt_ms = 1000};
    struct store_change d2 = {.next_attempt_ms = 5000};
    CU_ASSERT_EQUAL(store_transition(s, id[3], ST_SUBMITTING, ST_DEFERRED,
                                     &d2, &err),
                    0);
    CU_ASSERT_EQUAL(store_transition(s, id[2], ST_SUBMITTING, ST_DEFERRED,
                                     &d1, &err),
                    0);
    drive(s, id[6], ST_FAILED);

    static const struct {
        const char *label;
        struct store_filter f;
        int want;
    } cases[] = {
        {"all", {.state = -1}, 12},
        {"accepted", {.state = ST_ACCEPTED}, 7},
        {"rendered", {.state = ST_RENDERED}, 2},
        {"deferred", {.state = ST_DEFERRED}, 2},
        {"bankA", {.state = -1, .bank = "bankA"}, 6},
        {"bankB accepted", {.state = ST_ACCEPTED, .bank = "bankB"}, 5},
        {"treasury", {.state = -1, .channel = "treasury"}, 3},
        {"bankB erp", {.state = -1, .bank = "bankB", .channel = "erp"}, 3},
        {"deferred due 1000", {.state = ST_DEFERRED, .due_before_ms = 1000},
         1},
        {"deferred due 4999", {.state = ST_DEFERRED, .due_before_ms = 4999},
         1},
        {"deferred due 5000", {.state = ST_DEFERRED, .due_before_ms = 5000},
         2},
        {"limit 5", {.state = -1, .limit = 5}, 5},
        {"nothing", {.state = ST_BOOKED}, 0},
        {"unknown bank", {.state = -1, .bank = "nope"}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = list_n(s, &cases[i].f);
        if (got != cases[i].want)
            fprintf(stderr, "\n  %s: got %d want %d\n", cases[i].label, got,
                    cases[i].want);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    CU_ASSERT_EQUAL(list_n(s, NULL), 12);

    /* Order: acceptance order; due lists by due time. */
    struct collect c = {0};
    struct store_filter f = {.state = -1, .channel = "erp"};
    CU_ASSERT_EQUAL(store_list(s, &f, collect_cb, &c, NULL), 0);
    CU_ASSERT_EQUAL(c.n, 9);
    for (int i = 0; i < 9; i++)
        CU_ASSERT_STRING_EQUAL(c.ids[i], id[i]);
    memset(&c, 0, sizeof(c));
    struct store_filter due = {.state = ST_DEFERRED, .due_before_ms = 9999};
    CU_ASSERT_EQUAL(store_list(s, &due, collect_cb, &c, NULL), 0);
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.ids[0], id[2]); /* due 1000 before 5000 */
    CU_ASSERT_STRING_EQUAL(c.ids[1], id[3]);

    /* Stop value is returned. */
    memset(&c, 0, sizeof(c));
    c.stop_at = 3;
    CU_ASSERT_EQUAL(store_list(s, NULL, collect_cb, &c, NULL), 42);
    CU_ASSERT_EQUAL(c.n, 3);

    /* Callbacks may change the rows being listed. */
    memset(&c, 0, sizeof(c));
    c.s = s;
    struct store_filter acc_a = {.state = ST_ACCEPTED, .bank = "bankA"};
    CU_ASSERT_EQUAL(store_list(s, &acc_a, collect_cb, &c, NULL), 0);
    CU_ASSERT_EQUAL(c.n, 2); /* 4 and 5 */
    CU_ASSERT_EQUAL(list_n(s, &acc_a), 0);

    /* Counts: bankA now 4 rendered, 2 deferred. */
    int64_t cnt[ST__COUNT];
    CU_ASSERT_EQUAL(store_counts(s, NULL, cnt, &err), 0);
    CU_ASSERT_EQUAL(cnt[ST_ACCEPTED], 5);
    CU_ASSERT_EQUAL(cnt[ST_RENDERED], 4);
    CU_ASSERT_EQUAL(cnt[ST_DEFERRED], 2);
    CU_ASSERT_EQUAL(cnt[ST_FAILED], 1);
    CU_ASSERT_EQUAL(cnt[ST_BOOKED], 0);
    int64_t total = 0;
    for (int i = 0; i < ST__COUNT; i++)
        total += cnt[i];
    CU_ASSERT_EQUAL(total, 12);
    CU_ASSERT_EQUAL(store_counts(s, "bankA", cnt, &err), 0);
    CU_ASSERT_EQUAL(cnt[ST_ACCEPTED], 0);
    CU_ASSERT_EQUAL(cnt[ST_RENDERED], 4);
    CU_ASSERT_EQUAL(cnt[ST_DEFERRED], 2);
    CU_ASSERT_EQUAL(cnt[ST_FAILED], 0);
    CU_ASSERT_EQUAL(store_counts(s, "nope", cnt, &err), 0);
    CU_ASSERT_EQUAL(cnt[ST_ACCEPTED], 0);

    struct store_filter badf = {.state = ST__COUNT};
    CU_ASSERT_EQUAL(store_list(s, &badf, collect_cb, &c, &err), H2H_EINVALID);
    store_close(s);
}

static void test_history(void)
{
    struct store *s = fresh();
    char id[STORE_ID_MAX], other[STORE_ID_MAX];
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 1, id), 0);
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 2, other), 0);
    drive(s, other, ST_RENDERED); /* interleave another message's events */
    drive(s, id, ST_SUBMITTED);
    struct store_change ch = {.detail = "camt.054 BOOK", .actor = "bank"};
    CU_ASSERT_EQUAL(store_transition(s, id, ST_SUBMITTED, ST_BOOKED, &ch,
                                     &err),
                    0);

    struct hist h = {0};
    CU_ASSERT_EQUAL(store_history(s, id, hist_cb, &h, &err), 0);
    static const char *const want[][2] = {
        {"-", "accepted"},           {"accepted", "rendered"},
        {"rendered", "submitting"},  {"submitting", "submitted"},
        {"submitted", "booked"},
    };
    CU_ASSERT_EQUAL_FATAL(h.n, 5);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(h.from[i], want[i][0]);
        CU_ASSERT_STRING_EQUAL(h.to[i], want[i][1]);
        if (i)
            CU_ASSERT(h.seq[i] > h.seq[i - 1]);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(h.detail[0], "pay1.xml"));
    CU_ASSERT_STRING_EQUAL(h.actor[0], "daemon");
    CU_ASSERT_STRING_EQUAL(h.detail[4], "camt.054 BOOK");
    CU_ASSERT_STRING_EQUAL(h.actor[4], "bank");
    CU_ASSERT_EQUAL(store_history(s, "M20000101-000001", hist_cb, &h, &err),
                    H2H_ENOTFOUND);
    store_close(s);
}

static void test_downloads(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    int reg = -1, del = -1;
    CU_ASSERT_EQUAL(store_download_state(s, "bankA", "stmt1.xml", sha(1),
                                         &reg, &del, &err),
                    0);
    CU_ASSERT_EQUAL(reg, 0);
    CU_ASSERT_EQUAL(del, 0);
    CU_ASSERT_EQUAL(store_download_delivered(s, "bankA", "stmt1.xml", sha(1),
                                             "/out/x", &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_download_register(s, "bankA", "stmt1.xml", sha(1),
                                            10, &err),
                    0);
    CU_ASSERT_EQUAL(store_download_register(s, "bankA", "stmt1.xml", sha(1),
                                            10, &err),
                    H2H_EDUP);
    /* Same name with new content, or same file at another bank: new. */
    CU_ASSERT_EQUAL(store_download_register(s, "bankA", "stmt1.xml", sha(2),
                                            10, &err),
                    0);
    CU_ASSERT_EQUAL(store_download_register(s, "bankB", "stmt1.xml", sha(1),
                                            10, &err),
                    0);
    CU_ASSERT_EQUAL(store_download_state(s, "bankA", "stmt1.xml", sha(1),
                                         &reg, &del, &err),
                    0);
    CU_ASSERT_EQUAL(reg, 1);
    CU_ASSERT_EQUAL(del, 0);
    CU_ASSERT_EQUAL(store_download_delivered(s, "bankA", "stmt1.xml", sha(1),
                                             "/out/x", &err),
                    0);
    CU_ASSERT_EQUAL(store_download_delivered(s, "bankA", "stmt1.xml", sha(1),
                                             "/out/y", &err),
                    0);
    s = reopen(s);
    CU_ASSERT_EQUAL(store_download_state(s, "bankA", "stmt1.xml", sha(1),
                                         &reg, &del, &err),
                    0);
    CU_ASSERT_EQUAL(reg, 1);
    CU_ASSERT_EQUAL(del, 1);
    CU_ASSERT_EQUAL(store_download_state(s, "bankB", "stmt1.xml", sha(1),
                                         &reg, &del, &err),
                    0);
    CU_ASSERT_EQUAL(reg, 1);
    CU_ASSERT_EQUAL(del, 0);
    CU_ASSERT_EQUAL(store_download_register(s, "bankA", "stmt1.xml", sha(1),
                                            10, &err),
                    H2H_EDUP);
    CU_ASSERT_EQUAL(store_download_register(s, "bankA", "", sha(1), 10, &err),
                    H2H_EINVALID);
    store_close(s);
}

static void test_business_ids(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    char id[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 1, id), 0);
    int64_t t0 = (int64_t)time(NULL) * 1000 - 1000;
    CU_ASSERT_EQUAL(store_id_seen(s, "msgid", "MSG-1", 0, &err), 0);
    CU_ASSERT_EQUAL(store_id_record(s, "msgid", "MSG-1", id, &err), 0);
    CU_ASSERT_EQUAL(store_id_seen(s, "msgid", "MSG-1", 0, &err), 1);
    CU_ASSERT_EQUAL(store_id_seen(s, "msgid", "MSG-1", t0, &err), 1);
    /* Outside the window: not seen. */
    CU_ASSERT_EQUAL(store_id_seen(s, "msgid", "MSG-1", t0 + 3600000, &err),
                    0);
    /* Kinds are separate name spaces. */
    CU_ASSERT_EQUAL(store_id_seen(s, "e2e", "MSG-1", 0, &err), 0);
    CU_ASSERT_EQUAL(store_id_record(s, "e2e", "E-1", NULL, &err), 0);
    CU_ASSERT_EQUAL(store_id_record(s, "e2e", "E-1", NULL, &err), 0);
    CU_ASSERT_EQUAL(store_id_seen(s, "e2e", "E-1", 0, &err), 1);
    CU_ASSERT_EQUAL(store_id_record(s, "e2e", "E-2", "M20000101-000001",
                                    &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_id_seen(s, "e2e", "E-2", 0, &err), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(store_id_seen(s, "msgid", "MSG-1", 0, &err), 1);
    /* owner: how a status report finds its message */
    char owner[STORE_ID_MAX];
    CU_ASSERT_EQUAL(store_id_owner(s, "msgid", "MSG-1", owner, &err), 0);
    CU_ASSERT_STRING_EQUAL(owner, id);
    CU_ASSERT_EQUAL(store_id_owner(s, "e2e", "E-1", owner, &err),
                    H2H_ENOTFOUND); /* recorded without a message */
    CU_ASSERT_EQUAL(store_id_owner(s, "msgid", "MSG-9", owner, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(owner, "");
    store_close(s);
}

struct tx_rows {
    int n;
    char last[200];
};

static int tx_row(void *ctx, const struct store_tx_status *t)
{
    struct tx_rows *r = ctx;
    r->n++;
    snprintf(r->last, sizeof(r->last), "%s/%s %s %s %s", t->pmt_inf_id,
             t->end_to_end_id, t->status, t->reasons ? t->reasons : "-",
             t->report ? t->report : "-");
    return 0;
}

static void test_tx_status(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    char id[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 1, id), 0);
    struct store_tx_status t = {.pmt_inf_id = "P1",
                                .end_to_end_id = "E1",
                                .status = "PDNG",
                                .report = "r1.xml"};
    CU_ASSERT_EQUAL(store_tx_status_put(s, id, &t, &err), 0);
    t.status = "RJCT", t.reasons = "AC04", t.report = "r2.xml";
    CU_ASSERT_EQUAL(store_tx_status_put(s, id, &t, &err), 0); /* replaces */
    struct store_tx_status grp = {.pmt_inf_id = "P1", .status = "PART"};
    CU_ASSERT_EQUAL(store_tx_status_put(s, id, &grp, &err), 0);
    struct tx_rows r = {0};
    s = reopen(s);
    CU_ASSERT_EQUAL(store_tx_status_list(s, id, tx_row, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 2);
    CU_ASSERT_STRING_EQUAL(r.last, "P1/E1 RJCT AC04 r2.xml");
    /* unknown message: the foreign key refuses it */
    CU_ASSERT_NOT_EQUAL(
        store_tx_status_put(s, "M20000101-000009", &t, &err), 0);
    t.status = "";
    CU_ASSERT_EQUAL(store_tx_status_put(s, id, &t, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);

    /* a version 1 store (before payment statuses) is migrated in place */
    raw_sql("DROP TABLE tx_status");
    raw_sql("UPDATE meta SET value = 1 WHERE key = 'schema_version'");
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    r.n = 0;
    CU_ASSERT_EQUAL(store_tx_status_list(s, id, tx_row, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    t.status = "ACCP";
    CU_ASSERT_EQUAL(store_tx_status_put(s, id, &t, &err), 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_counters(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    int64_t v = -1;
    CU_ASSERT_EQUAL(store_counter_next(s, "ctr:name:b:20261129", &v, &err), 0);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(store_counter_next(s, "ctr:name:b:20261129", &v, &err), 0);
    CU_ASSERT_EQUAL(v, 2);
    CU_ASSERT_EQUAL(store_counter_next(s, "ctr:name:b:20261130", &v, &err), 0);
    CU_ASSERT_EQUAL(v, 1); /* each counter on its own */
    /* a rolled-back transaction hands the same value out again */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(store_counter_next(s, "ctr:name:b:20261129", &v, &err), 0);
    CU_ASSERT_EQUAL(v, 3);
    store_txn_rollback(s);
    s = reopen(s); /* and a committed one survives a reopen */
    CU_ASSERT_EQUAL(store_counter_next(s, "ctr:name:b:20261129", &v, &err), 0);
    CU_ASSERT_EQUAL(v, 3);
    /* not a way to touch the store's own meta values */
    CU_ASSERT_EQUAL(store_counter_next(s, "id_seq", &v, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_group_txn(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    char ids[10][STORE_ID_MAX];

    CU_ASSERT_EQUAL(store_txn_commit(s, &err), H2H_ESTATE);
    CU_ASSERT_EQUAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(store_txn_active(s), 1);
    CU_ASSERT_EQUAL(store_txn_begin(s, &err), H2H_ESTATE);
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(accept_n(s, "erp", "b", i, ids[i]), 0);
    /* A failing call inside the group undoes only itself. */
    char dup[STORE_ID_MAX];
    CU_ASSERT_EQUAL(accept_n(s, "erp", "b", 1, dup), H2H_EDUP);
    CU_ASSERT_STRING_EQUAL(dup, ids[1]);
    CU_ASSERT_EQUAL(store_transition(s, ids[0], ST_RENDERED, ST_SUBMITTING,
                                     NULL, &err),
                    H2H_ESTATE);
    CU_ASSERT_EQUAL(store_transition(s, ids[0], ST_ACCEPTED, ST_RENDERED,
                                     NULL, &err),
                    0);
    /* Visible inside the group. */
    CU_ASSERT_EQUAL(state_of(s, ids[0]), ST_RENDERED);
    CU_ASSERT_EQUAL(store_txn_commit(s, &err), 0);
    CU_ASSERT_EQUAL(store_txn_active(s), 0);

    s = reopen(s);
    CU_ASSERT_EQUAL(state_of(s, ids[0]), ST_RENDERED);
    CU_ASSERT_EQUAL(state_of(s, ids[1]), ST_ACCEPTED);
    CU_ASSERT_EQUAL(state_of(s, ids[2]), ST_ACCEPTED);
    CU_ASSERT_EQUAL(n_events(s, ids[0]), 2);

    /* Rollback: nothing of the group remains. */
    CU_ASSERT_EQUAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(accept_n(s, "erp", "b", 3, ids[3]), 0);
    CU_ASSERT_EQUAL(accept_n(s, "erp", "b", 4, ids[4]), 0);
    CU_ASSERT_EQUAL(store_transition(s, ids[1], ST_ACCEPTED, ST_FAILED, NULL,
                                     &err),
                    0);
    store_txn_rollback(s);
    store_txn_rollback(s); /* no-op */
    struct store_msg m;
    CU_ASSERT_EQUAL(store_find_hash(s, "erp", sha(3), &m, NULL),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_get(s, ids[4], &m, NULL), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(state_of(s, ids[1]), ST_ACCEPTED);
    /* Ids handed out in the rolled-back group are not reused. */
    CU_ASSERT_EQUAL(accept_n(s, "erp", "b", 3, ids[5]), 0);
    CU_ASSERT(seq_of(ids[5]) > seq_of(ids[4]));

    /* A call that fails after writing part of its work inside a group
     * (here: the id counter moved, then the insert hit a row planted
     * under the next id) leaves no trace of that part. */
    char planted[STORE_ID_MAX], sql[512];
    snprintf(planted, sizeof(planted), "%.10s%06" PRId64, ids[5],
             seq_of(ids[5]) + 1);
    snprintf(sql, sizeof(sql),
             "INSERT INTO msg (id, channel, sha256, size, state, "
             "payload_path, created_ms, updated_ms) VALUES ('%s', 'x', "
             "'%s', 1, 'accepted', '/p', 1, 1)",
             planted, sha(99));
    raw_sql(sql);
    CU_ASSERT_EQUAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(accept_n(s, "erp", "b", 7, ids[7]), H2H_EDB);
    CU_ASSERT_EQUAL(store_txn_commit(s, &err), 0);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db,
                                       "SELECT value FROM meta WHERE key = "
                                       "'id_seq'",
                                       -1, &q, NULL),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int64(q, 0), seq_of(ids[5]));
    sqlite3_finalize(q);
    snprintf(sql, sizeof(sql), "DELETE FROM msg WHERE id = '%s'", planted);
    CU_ASSERT_EQUAL(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    /* Close with an open group: rolled back. */
    CU_ASSERT_EQUAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(accept_n(s, "erp", "b", 6, ids[6]), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(store_get(s, ids[6], &m, NULL), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void expect_check_fails(const char *sql, const char *needle)
{
    struct store *s = fresh();
    char id[STORE_ID_MAX], id2[STORE_ID_MAX];
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 1, id), 0);
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "b", 2, id2), 0);
    drive(s, id, ST_SUBMITTED);
    CU_ASSERT_EQUAL(store_hold(s, id2, NULL, NULL, &err), 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);

    char buf[512];
    snprintf(buf, sizeof(buf), sql, id);
    raw_sql(buf);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, NULL), 0);
    memset(&err, 0, sizeof(err));
    int rc = store_check(s, &err);
    CU_ASSERT_EQUAL(rc, H2H_EDB);
    if (!strstr(err.msg, needle))
        fprintf(stderr, "\n  check message \"%s\" lacks \"%s\"\n", err.msg,
                needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, needle));
    store_close(s);
}

static void test_check(void)
{
    static const struct {
        const char *label, *sql, *needle;
    } cases[] = {
        {"state changed without event",
         "UPDATE msg SET state = 'booked' WHERE id = '%s'",
         "last event ends in submitted"},
        {"payload path lost",
         "UPDATE msg SET payload_path = NULL WHERE id = '%s'",
         "without a payload path"},
        {"events deleted", "DELETE FROM event WHERE msg_id = '%s'",
         "has no events"},
        {"unknown state",
         "UPDATE msg SET state = 'sent' WHERE id = '%1$s';"
         "UPDATE event SET to_state = 'sent' WHERE seq = (SELECT max(seq) "
         "FROM event WHERE msg_id = '%1$s')",
         "unknown state sent"},
        {"held without held_from",
         "UPDATE msg SET held_from = NULL WHERE state = 'held' AND id <> '%s'",
         "state held with held_from NULL"},
        {"chain broken",
         "DELETE FROM event WHERE msg_id = '%s' AND to_state = 'rendered'",
         "does not follow"},
        {"forbidden step recorded",
         "UPDATE event SET from_state = 'accepted' WHERE msg_id = '%s' AND "
         "to_state = 'submitted'",
         "accepted -> submitted is not allowed"},
        {"id counter behind", "UPDATE meta SET value = 0 WHERE key = 'id_seq'"
                              " AND '%s' <> ''",
         "id sequence 0 is behind"},
        {"finished run without end time",
         "INSERT INTO meta (key, value) VALUES ('ctr:recon', 1);"
         "INSERT INTO recon_run (id, channel, bank, account, from_day, "
         "to_day, run_trigger, started_ms, result) SELECT "
         "'R20261101-000001', '', '', '', '2026-11-01', '2026-11-01', 'ctl', "
         "1, 'ok' WHERE '%s' <> ''",
         "run R20261101-000001 is ok with ended_ms 0"},
        {"run with unknown result",
         "INSERT INTO meta (key, value) VALUES ('ctr:recon', 1);"
         "INSERT INTO recon_run (id, channel, bank, account, from_day, "
         "to_day, run_trigger, started_ms, ended_ms, result) SELECT "
         "'R20261101-000001', '', '', '', '2026-11-01', '2026-11-01', 'ctl', "
         "1, 2, 'weird' WHERE '%s' <> ''",
         "unknown result weird"},
        {"run counter behind",
         "INSERT INTO recon_run (id, channel, bank, account, from_day, "
         "to_day, run_trigger, started_ms, result) SELECT "
         "'R20261101-000005', '', '', '', '2026-11-01', '2026-11-01', 'ctl', "
         "1, 'running' WHERE '%s' <> ''",
         "reconciliation counter 0 is behind run id number 5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_check_fails(cases[i].sql, cases[i].needle);
}

/* A child accepts N messages and exits without closing the store (no
 * checkpoint, no clean shutdown); the parent sees all N. */
static void test_durability_fork(void)
{
    enum { N = 25 };
    new_dir();
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct store *s = NULL;
        if (store_open(db_path, &s, NULL) != 0)
            _exit(2);
        for (unsigned i = 0; i < N; i++) {
            char id[STORE_ID_MAX];
            if (accept_n(s, "erp", "b", i, id) != 0)
                _exit(3);
            if (i % 2 == 0 && store_transition(s, id, ST_ACCEPTED,
                                               ST_RENDERED, NULL, NULL) != 0)
                _exit(4);
        }
        _exit(0);
    }
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);

    struct store *s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, NULL), 0);
    int64_t cnt[ST__COUNT];
    CU_ASSERT_EQUAL(store_counts(s, NULL, cnt, NULL), 0);
    CU_ASSERT_EQUAL(cnt[ST_ACCEPTED] + cnt[ST_RENDERED], N);
    CU_ASSERT_EQUAL(cnt[ST_RENDERED], (N + 1) / 2);
    for (unsigned i = 0; i < N; i++) {
        struct store_msg m;
        CU_ASSERT_EQUAL(store_find_hash(s, "erp", sha(i), &m, NULL), 0);
        store_msg_release(&m);
    }
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

/* ---- statement archive and reconciliation runs ------------------------ */

struct ledger_rows {
    int n, stop_at;
    char bank[8][16], name[8][32], sha[8][65], path[8][64], charset[8][16];
    int64_t size[8], received_ms[8];
    struct store *s; /* when set, the callback adds a file while listing */
};

static int ledger_cb(void *ctx, const struct store_ledger_file *f)
{
    struct ledger_rows *r = ctx;
    if (r->n < 8) {
        snprintf(r->bank[r->n], 16, "%s", f->bank);
        snprintf(r->name[r->n], 32, "%s", f->remote_name);
        snprintf(r->sha[r->n], 65, "%s", f->sha256);
        snprintf(r->path[r->n], 64, "%s", f->path);
        snprintf(r->charset[r->n], 16, "%s", f->charset ? f->charset : "-");
        r->size[r->n] = f->size;
        r->received_ms[r->n] = f->received_ms;
    }
    r->n++;
    if (r->s) {
        struct store_ledger_file more = {.bank = "bankC",
                                         .remote_name = "late.xml",
                                         .sha256 = sha(500 + (unsigned)r->n),
                                         .path = "/arch/late.xml"};
        CU_ASSERT_EQUAL(store_ledger_add(r->s, &more, NULL), 0);
    }
    if (r->stop_at && r->n == r->stop_at)
        return 7;
    return 0;
}

static int ledger_add_n(struct store *s, const char *bank, unsigned n,
                        const char *charset, struct h2h_err *err)
{
    char name[32], path[64];
    snprintf(name, sizeof(name), "stmt%u.xml", n);
    snprintf(path, sizeof(path), "/arch/%s/stmt%u.xml", bank, n);
    struct store_ledger_file f = {.bank = bank,
                                  .remote_name = name,
                                  .sha256 = sha(n),
                                  .path = path,
                                  .charset = charset,
                                  .size = 1000 + n,
                                  .received_ms = 1};
    return store_ledger_add(s, &f, err);
}

static void test_ledger(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct ledger_rows r = {0};
    int64_t t0 = (int64_t)time(NULL) * 1000 - 1000;
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 0);

    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 1, "UTF-8", &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankB", 2, NULL, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 3, "ISO-8859-1", &err), 0);
    /* The same content at another bank is another file. */
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankB", 1, NULL, &err), 0);

    /* (bank, sha256) again, under another name and path: a duplicate,
     * in either hex case, and the first row stays as it was. */
    struct store_ledger_file dup = {.bank = "bankA",
                                    .remote_name = "renamed.xml",
                                    .sha256 = sha(1),
                                    .path = "/elsewhere/x.xml",
                                    .size = 5};
    CU_ASSERT_EQUAL(store_ledger_add(s, &dup, &err), H2H_EDUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bankA"));
    char upper[65];
    snprintf(upper, sizeof(upper), "%s", sha(3));
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    dup.sha256 = upper;
    CU_ASSERT_EQUAL(store_ledger_add(s, &dup, &err), H2H_EDUP);

    s = reopen(s);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 4);
    static const struct {
        const char *bank;
        unsigned n;
        const char *charset;
    } want[] = {{"bankA", 1, "UTF-8"},
                {"bankB", 2, "-"},
                {"bankA", 3, "ISO-8859-1"},
                {"bankB", 1, "-"}};
    for (int i = 0; i < 4; i++) {
        char name[32], path[64];
        snprintf(name, sizeof(name), "stmt%u.xml", want[i].n);
        snprintf(path, sizeof(path), "/arch/%s/stmt%u.xml", want[i].bank,
                 want[i].n);
        CU_ASSERT_STRING_EQUAL(r.bank[i], want[i].bank);
        CU_ASSERT_STRING_EQUAL(r.name[i], name);
        CU_ASSERT_STRING_EQUAL(r.sha[i], sha(want[i].n));
        CU_ASSERT_STRING_EQUAL(r.path[i], path);
        CU_ASSERT_STRING_EQUAL(r.charset[i], want[i].charset);
        CU_ASSERT_EQUAL(r.size[i], 1000 + want[i].n);
        /* received_ms is the store's clock, not the caller's value */
        CU_ASSERT(r.received_ms[i] >= t0);
        CU_ASSERT(r.received_ms[i] <= t0 + 60000);
    }
    /* stored lower case whatever the caller passed */
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankC", 9, NULL, &err), 0);
    snprintf(upper, sizeof(upper), "%s", sha(10));
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    struct store_ledger_file up = {.bank = "bankD",
                                   .remote_name = "u.xml",
                                   .sha256 = upper,
                                   .path = "/arch/u.xml"};
    CU_ASSERT_EQUAL(store_ledger_add(s, &up, &err), 0);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_ledger_list(s, "bankD", ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_STRING_EQUAL(r.sha[0], sha(10));
    CU_ASSERT_STRING_EQUAL(r.charset[0], "-");
    CU_ASSERT_EQUAL(r.size[0], 0);

    /* Per bank, in the order added. */
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_ledger_list(s, "bankA", ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_STRING_EQUAL(r.name[0], "stmt1.xml");
    CU_ASSERT_STRING_EQUAL(r.name[1], "stmt3.xml");
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_ledger_list(s, "bankB", ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_STRING_EQUAL(r.name[0], "stmt2.xml");
    CU_ASSERT_STRING_EQUAL(r.name[1], "stmt1.xml");
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_ledger_list(s, "nope", ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 0);

    /* The callback's non-zero value stops and is returned. */
    memset(&r, 0, sizeof(r));
    r.stop_at = 2;
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &r, &err), 7);
    CU_ASSERT_EQUAL(r.n, 2);

    /* Callbacks may write to the store (rows were read first). */
    memset(&r, 0, sizeof(r));
    r.s = s;
    CU_ASSERT_EQUAL(store_ledger_list(s, "bankA", ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 2);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_ledger_list(s, "bankC", ledger_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 3); /* stmt9 and the two added while listing */

    /* Bad input. */
    static const struct {
        const char *label, *bank, *name, *sha, *path;
        int64_t size;
    } bad[] = {
        {"no bank", NULL, "a.xml", NULL, "/p", 1},
        {"empty bank", "", "a.xml", NULL, "/p", 1},
        {"no remote name", "b", NULL, NULL, "/p", 1},
        {"no path", "b", "a.xml", NULL, NULL, 1},
        {"empty path", "b", "a.xml", NULL, "", 1},
        {"short sha", "b", "a.xml", "abc", "/p", 1},
        {"negative size", "b", "a.xml", NULL, "/p", -1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store_ledger_file b = {.bank = bad[i].bank,
                                      .remote_name = bad[i].name,
                                      .sha256 = bad[i].sha ? bad[i].sha
                                                           : sha(77),
                                      .path = bad[i].path,
                                      .size = bad[i].size};
        int rc = store_ledger_add(s, &b, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  %s: %d\n", bad[i].label, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    CU_ASSERT_EQUAL(store_ledger_add(s, NULL, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void recon_req(struct store_recon_run *r, const char *bank,
                      const char *trigger)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->channel, sizeof(r->channel), "erp");
    snprintf(r->bank, sizeof(r->bank), "%s", bank);
    snprintf(r->account, sizeof(r->account), "DE02120300000000202051");
    snprintf(r->from, sizeof(r->from), "2026-11-01");
    snprintf(r->to, sizeof(r->to), "2026-11-30");
    snprintf(r->trigger, sizeof(r->trigger), "%s", trigger);
}

/* 1 if s is well-formed UTF-8 (enough for the cut tests). */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = -1; /* continuation bytes that follow */
        if (*p < 0x80)
            n = 0;
        else if (*p >= 0xF0)
            n = 3;
        else if (*p >= 0xE0)
            n = 2;
        else if (*p >= 0xC0)
            n = 1;
        if (n < 0)
            return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

static void test_recon_runs(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_recon_run r, got;
    char id[STORE_ID_MAX], id2[STORE_ID_MAX];

    CU_ASSERT_EQUAL(store_recon_get(s, NULL, &got, &err), H2H_ENOTFOUND);

    int64_t t0 = (int64_t)time(NULL) * 1000 - 1000;
    recon_req(&r, "bankA", "ctl");
    /* ignored fields */
    snprintf(r.id, sizeof(r.id), "R19990101-999999");
    snprintf(r.result, sizeof(r.result), "ok");
    snprintf(r.dir, sizeof(r.dir), "/ignored");
    r.ended_ms = 5;
    r.booked = 9;
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, id, &err), 0);

    /* id: R + today's UTC date + - + 6 digits */
    char want[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(want, sizeof(want), "R%Y%m%d-", &tm);
    CU_ASSERT_EQUAL(strncmp(id, want, 10), 0);
    CU_ASSERT_EQUAL(strlen(id), 16);
    CU_ASSERT_EQUAL(strspn(id + 10, "0123456789"), 6);
    CU_ASSERT_EQUAL(seq_of(id), 1);

    /* latest begun */
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, NULL, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.id, id);
    CU_ASSERT_STRING_EQUAL(got.channel, "erp");
    CU_ASSERT_STRING_EQUAL(got.bank, "bankA");
    CU_ASSERT_STRING_EQUAL(got.account, "DE02120300000000202051");
    CU_ASSERT_STRING_EQUAL(got.from, "2026-11-01");
    CU_ASSERT_STRING_EQUAL(got.to, "2026-11-30");
    CU_ASSERT_STRING_EQUAL(got.trigger, "ctl");
    CU_ASSERT_STRING_EQUAL(got.result, "running");
    CU_ASSERT(got.started_ms >= t0);
    CU_ASSERT_EQUAL(got.ended_ms, 0);
    CU_ASSERT_STRING_EQUAL(got.error, "");
    CU_ASSERT_STRING_EQUAL(got.dir, "");
    CU_ASSERT_STRING_EQUAL(got.summary, "");
    CU_ASSERT_EQUAL(got.booked, 0);

    /* "" = all; a second run has the next number and is now the latest */
    recon_req(&r, "", "schedule");
    r.channel[0] = r.account[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, id2, &err), 0);
    CU_ASSERT_EQUAL(seq_of(id2), seq_of(id) + 1);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, NULL, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.id, id2);
    CU_ASSERT_STRING_EQUAL(got.bank, "");
    CU_ASSERT_STRING_EQUAL(got.channel, "");
    CU_ASSERT_STRING_EQUAL(got.account, "");
    CU_ASSERT_STRING_EQUAL(got.trigger, "schedule");

    /* end -> get by id */
    CU_ASSERT_EQUAL(store_recon_end(s, id, "ok", NULL, "/srv/recon/out1",
                                    "matched=10 open=2", 10, &err),
                    0);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.id, id);
    CU_ASSERT_STRING_EQUAL(got.result, "ok");
    CU_ASSERT(got.ended_ms >= got.started_ms);
    CU_ASSERT_STRING_EQUAL(got.error, "");
    CU_ASSERT_STRING_EQUAL(got.dir, "/srv/recon/out1");
    CU_ASSERT_STRING_EQUAL(got.summary, "matched=10 open=2");
    CU_ASSERT_EQUAL(got.booked, 10);
    CU_ASSERT_STRING_EQUAL(got.bank, "bankA");
    /* the latest begun is still the second */
    CU_ASSERT_EQUAL(store_recon_get(s, NULL, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.id, id2);

    /* twice: refused, nothing changes */
    CU_ASSERT_EQUAL(store_recon_end(s, id, "failed", "again", NULL, NULL, 0,
                                    &err),
                    H2H_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is ok"));
    CU_ASSERT_EQUAL(store_recon_get(s, id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "ok");
    CU_ASSERT_STRING_EQUAL(got.dir, "/srv/recon/out1");
    CU_ASSERT_EQUAL(got.booked, 10);

    /* failed, with an error and no folder */
    CU_ASSERT_EQUAL(store_recon_end(s, id2, "failed", "statement missing",
                                    NULL, "matched=0", 0, &err),
                    0);
    CU_ASSERT_EQUAL(store_recon_get(s, id2, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "failed");
    CU_ASSERT_STRING_EQUAL(got.error, "statement missing");
    CU_ASSERT_STRING_EQUAL(got.dir, "");
    CU_ASSERT_STRING_EQUAL(got.summary, "matched=0");
    CU_ASSERT(got.ended_ms > 0);

    /* unknown id */
    CU_ASSERT_EQUAL(store_recon_end(s, "R20000101-000099", "ok", NULL, NULL,
                                    NULL, 0, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_recon_get(s, "R20000101-000099", &got, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(got.id, "");

    /* Numbers keep growing across reopen. */
    s = reopen(s);
    recon_req(&r, "bankB", "ctl");
    char id3[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, id3, &err), 0);
    CU_ASSERT(seq_of(id3) > seq_of(id2));
    CU_ASSERT(strcmp(id3, id2) > 0);

    /* Bad input. */
    static const struct {
        const char *label, *from, *to, *trigger;
    } bad[] = {
        {"empty from", "", "2026-11-30", "ctl"},
        {"short date", "2026-11-1", "2026-11-30", "ctl"},
        {"slashes", "2026/11/01", "2026-11-30", "ctl"},
        {"month 13", "2026-13-01", "2026-11-30", "ctl"},
        {"day 00", "2026-11-01", "2026-11-00", "ctl"},
        {"from after to", "2026-12-01", "2026-11-30", "ctl"},
        {"no trigger", "2026-11-01", "2026-11-30", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        recon_req(&r, "bankA", bad[i].trigger);
        snprintf(r.from, sizeof(r.from), "%s", bad[i].from);
        snprintf(r.to, sizeof(r.to), "%s", bad[i].to);
        int rc = store_recon_begin(s, &r, id2, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  %s: %d\n", bad[i].label, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        CU_ASSERT_STRING_EQUAL(id2, "");
    }
    recon_req(&r, "bankA", "ctl");
    memset(r.bank, 'b', sizeof(r.bank)); /* not terminated */
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, id2, &err), H2H_EINVALID);
    recon_req(&r, "bankA", "ctl");
    memset(r.to, '1', sizeof(r.to));
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, id2, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(store_recon_begin(s, NULL, id2, &err), H2H_EINVALID);
    /* one-day period is fine */
    recon_req(&r, "bankA", "ctl");
    snprintf(r.to, sizeof(r.to), "%s", r.from);
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, id2, &err), 0);

    CU_ASSERT_EQUAL(store_recon_end(s, id3, "running", NULL, NULL, NULL, 0,
                                    &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_recon_end(s, id3, "interrupted", NULL, NULL, NULL,
                                    0, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_recon_end(s, id3, NULL, NULL, NULL, NULL, 0, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_recon_end(s, id3, "ok", NULL, NULL, NULL, -1, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_recon_end(s, NULL, "ok", NULL, NULL, NULL, 0, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_recon_end(s, "", "ok", NULL, NULL, NULL, 0, &err),
                    H2H_EINVALID);
    char *longdir = malloc(5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(longdir);
    memset(longdir, 'd', 4999);
    longdir[0] = '/';
    longdir[4999] = '\0';
    CU_ASSERT_EQUAL(store_recon_end(s, id3, "ok", NULL, longdir, NULL, 0,
                                    &err),
                    H2H_EINVALID);
    longdir[4095] = '\0'; /* the longest that fits */
    CU_ASSERT_EQUAL(store_recon_end(s, id3, "ok", NULL, longdir, NULL, 0,
                                    &err),
                    0);
    CU_ASSERT_EQUAL(store_recon_get(s, id3, &got, &err), 0);
    CU_ASSERT_EQUAL(strlen(got.dir), 4095);
    free(longdir);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_recon_interrupted(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_recon_run r, got;
    char done_id[STORE_ID_MAX], failed_id[STORE_ID_MAX], run[2][STORE_ID_MAX];

    /* none at all */
    CU_ASSERT_EQUAL(store_recon_interrupted(s, &err), 0);

    recon_req(&r, "bankA", "schedule");
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, done_id, &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, run[0], &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, failed_id, &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, run[1], &err), 0);
    CU_ASSERT_EQUAL(store_recon_end(s, done_id, "ok", "", "/out/1", "n=1", 3,
                                    &err),
                    0);
    CU_ASSERT_EQUAL(store_recon_end(s, failed_id, "failed", "disk full", NULL,
                                    NULL, 0, &err),
                    0);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, done_id, &got, &err), 0);
    int64_t done_end = got.ended_ms;

    /* A run survives close and reopen (h2hd died during it). */
    s = reopen(s);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, run[0], &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "running");
    CU_ASSERT_STRING_EQUAL(got.bank, "bankA");
    CU_ASSERT_STRING_EQUAL(got.trigger, "schedule");
    CU_ASSERT_EQUAL(got.ended_ms, 0);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, NULL, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.id, run[1]);

    int64_t t0 = (int64_t)time(NULL) * 1000 - 1000;
    CU_ASSERT_EQUAL(store_recon_interrupted(s, &err), 2);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(store_recon_get(s, run[i], &got, &err), 0);
        CU_ASSERT_STRING_EQUAL(got.result, "interrupted");
        CU_ASSERT_STRING_EQUAL(got.error, "h2hd stopped during the run");
        CU_ASSERT(got.ended_ms >= t0);
        CU_ASSERT_STRING_EQUAL(got.dir, "");
        CU_ASSERT_EQUAL(got.booked, 0);
    }
    /* the finished ones are left alone */
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, done_id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "ok");
    CU_ASSERT_STRING_EQUAL(got.error, "");
    CU_ASSERT_STRING_EQUAL(got.dir, "/out/1");
    CU_ASSERT_STRING_EQUAL(got.summary, "n=1");
    CU_ASSERT_EQUAL(got.booked, 3);
    CU_ASSERT_EQUAL(got.ended_ms, done_end);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, failed_id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "failed");
    CU_ASSERT_STRING_EQUAL(got.error, "disk full");

    /* nothing left to mark; an interrupted run cannot be ended */
    CU_ASSERT_EQUAL(store_recon_interrupted(s, &err), 0);
    CU_ASSERT_EQUAL(store_recon_end(s, run[0], "ok", NULL, NULL, NULL, 0,
                                    &err),
                    H2H_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "interrupted"));

    /* Inside a group transaction it takes part like any other call. */
    char id[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, id, &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(store_recon_interrupted(s, &err), 1);
    store_txn_rollback(s);
    CU_ASSERT_EQUAL(store_recon_get(s, id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "running");
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_recon_ledger_txn(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_recon_run r, got;
    struct ledger_rows rows = {0};
    char id[STORE_ID_MAX], id2[STORE_ID_MAX], id3[STORE_ID_MAX];
    recon_req(&r, "bankA", "ctl");

    /* Commit: a duplicate inside the group does not spoil it. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 1, NULL, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 1, NULL, &err), H2H_EDUP);
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, id, &err), 0);
    CU_ASSERT_EQUAL(store_recon_end(s, id, "ok", NULL, "/o", NULL, 1, &err),
                    0);
    CU_ASSERT_EQUAL(store_recon_end(s, id, "ok", NULL, "/o", NULL, 1, &err),
                    H2H_ESTATE);
    CU_ASSERT_EQUAL(store_txn_commit(s, &err), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &rows, &err), 0);
    CU_ASSERT_EQUAL(rows.n, 1);
    CU_ASSERT_EQUAL(store_recon_get(s, id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "ok");

    /* Rollback: nothing of the group remains. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 2, "UTF-8", &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankB", 3, NULL, &err), 0);
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, id2, &err), 0);
    CU_ASSERT_EQUAL(store_recon_end(s, id2, "failed", "x", NULL, NULL, 0,
                                    &err),
                    0);
    CU_ASSERT_EQUAL(store_recon_get(s, NULL, &got, &err), 0); /* visible */
    CU_ASSERT_STRING_EQUAL(got.id, id2);
    store_txn_rollback(s);
    memset(&rows, 0, sizeof(rows));
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &rows, &err), 0);
    CU_ASSERT_EQUAL(rows.n, 1);
    CU_ASSERT_EQUAL(store_recon_get(s, id2, &got, &err), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_recon_get(s, NULL, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.id, id);
    /* the rolled-back file can be added again; its id is not reused */
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 2, "UTF-8", &err), 0);
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, id3, &err), 0);
    CU_ASSERT(seq_of(id3) > seq_of(id2));

    /* Closed with the group open: rolled back as well. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankC", 4, NULL, &err), 0);
    CU_ASSERT_EQUAL(store_recon_end(s, id3, "ok", NULL, NULL, NULL, 0, &err),
                    0);
    s = reopen(s);
    memset(&rows, 0, sizeof(rows));
    CU_ASSERT_EQUAL(store_ledger_list(s, "bankC", ledger_cb, &rows, &err), 0);
    CU_ASSERT_EQUAL(rows.n, 0);
    CU_ASSERT_EQUAL(store_recon_get(s, id3, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "running");
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_recon_text_cut(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_recon_run r, got;
    char id[STORE_ID_MAX];
    recon_req(&r, "bankA", "ctl");
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, id, &err), 0);

    /* error: 400 x U+00E9 (2 bytes) = 800 bytes; the buffer holds 511, and
     * byte 511 would split a character, so 510 bytes remain. */
    char *e = malloc(801);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    for (int i = 0; i < 400; i++)
        memcpy(e + 2 * i, "\xC3\xA9", 2);
    e[800] = '\0';
    /* summary: "a" + 2000 x U+20AC (3 bytes); 4095 fit, byte 4094 starts
     * a cut character, so 4093 bytes remain. */
    char *sum = malloc(6002);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sum);
    sum[0] = 'a';
    for (int i = 0; i < 2000; i++)
        memcpy(sum + 1 + 3 * i, "\xE2\x82\xAC", 3);
    sum[6001] = '\0';
    CU_ASSERT_EQUAL(store_recon_end(s, id, "failed", e, NULL, sum, 0, &err),
                    0);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, id, &got, &err), 0);
    CU_ASSERT_EQUAL(strlen(got.error), 510);
    CU_ASSERT_EQUAL(memcmp(got.error, e, 510), 0);
    CU_ASSERT(utf8_ok(got.error));
    CU_ASSERT_EQUAL(strlen(got.summary), 4093);
    CU_ASSERT_EQUAL(memcmp(got.summary, sum, 4093), 0);
    CU_ASSERT(utf8_ok(got.summary));
    /* cut when stored, not only when read back */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db,
                                       "SELECT length(CAST(error AS BLOB)), "
                                       "length(CAST(summary AS BLOB)) FROM "
                                       "recon_run WHERE id = ?1",
                                       -1, &q, NULL),
                    SQLITE_OK);
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(q, 0), 510);
    CU_ASSERT_EQUAL(sqlite3_column_int(q, 1), 4093);
    sqlite3_finalize(q);
    sqlite3_close(db);

    /* Exactly full buffers are kept whole. */
    char id2[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, id2, &err), 0);
    memset(e, 'x', 511);
    e[511] = '\0';
    memset(sum, 'y', STORE_RECON_SUMMARY_MAX - 1);
    sum[STORE_RECON_SUMMARY_MAX - 1] = '\0';
    CU_ASSERT_EQUAL(store_recon_end(s, id2, "ok", e, "/o", sum, 0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, id2, &got, &err), 0);
    CU_ASSERT_EQUAL(strlen(got.error), 511);
    CU_ASSERT_EQUAL(strlen(got.summary), STORE_RECON_SUMMARY_MAX - 1);
    free(e);
    free(sum);

    /* Over-long text planted by hand is cut on the way out as well. */
    store_close(s);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE recon_run SET bank = 'b' || hex(randomblob(100)), "
             "error = hex(zeroblob(1000)) WHERE id = '%s'",
             id);
    raw_sql(sql);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_recon_get(s, id, &got, &err), 0);
    CU_ASSERT_EQUAL(strlen(got.bank), sizeof(got.bank) - 1);
    CU_ASSERT_EQUAL(strlen(got.error), sizeof(got.error) - 1);
    store_close(s);
}

/* A version 3 store (before the ledger and reconciliation runs) opens,
 * keeps its data and gains the new tables. */
static void test_migrate_v3(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    char id[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "bankA", 1, id), 0);
    drive(s, id, ST_SUBMITTED);
    CU_ASSERT_EQUAL(store_job_mark(s, "bankA", "statements", 1234, &err), 0);
    CU_ASSERT_EQUAL(store_cutoff_put(s, id, "in_time", 0, &err), 0);
    CU_ASSERT_EQUAL(store_download_register(s, "bankA", "s.xml", sha(5), 10,
                                            &err),
                    0);
    store_close(s);
    raw_sql("DROP TABLE ledger; DROP TABLE recon_run;"
            "UPDATE meta SET value = 3 WHERE key = 'schema_version'");

    /* really a version 3 file now */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db,
                                       "SELECT count(*) FROM sqlite_master "
                                       "WHERE name IN ('ledger', "
                                       "'recon_run', 'ledger_bank')",
                                       -1, &q, NULL),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(q, 0), 0);
    sqlite3_finalize(q);
    sqlite3_close(db);

    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    /* old data kept */
    CU_ASSERT_EQUAL(state_of(s, id), ST_SUBMITTED);
    CU_ASSERT_EQUAL(n_events(s, id), 4);
    struct store_job j;
    CU_ASSERT_EQUAL(store_job_get(s, "bankA", "statements", &j, &err), 0);
    CU_ASSERT_EQUAL(j.sched_ms, 1234);
    char act[16];
    CU_ASSERT_EQUAL(store_cutoff_get(s, id, act, NULL, &err), 0);
    CU_ASSERT_STRING_EQUAL(act, "in_time");
    int reg = 0;
    CU_ASSERT_EQUAL(store_download_state(s, "bankA", "s.xml", sha(5), &reg,
                                         NULL, &err),
                    0);
    CU_ASSERT_EQUAL(reg, 1);
    /* new tables work */
    struct ledger_rows rows = {0};
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &rows, &err), 0);
    CU_ASSERT_EQUAL(rows.n, 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 5, "UTF-8", &err), 0);
    struct store_recon_run r, got;
    CU_ASSERT_EQUAL(store_recon_get(s, NULL, &got, &err), H2H_ENOTFOUND);
    recon_req(&r, "bankA", "ctl");
    char rid[STORE_ID_MAX];
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, rid, &err), 0);
    CU_ASSERT_EQUAL(seq_of(rid), 1);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);

    /* the version now written is 4 */
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db_path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db,
                                       "SELECT value FROM meta WHERE key = "
                                       "'schema_version'",
                                       -1, &q, NULL),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(q, 0), 4);
    sqlite3_finalize(q);
    sqlite3_close(db);

    /* and a version 2 store (before the scheduler tables) too */
    raw_sql("DROP TABLE ledger; DROP TABLE recon_run; DROP TABLE sched_job;"
            "DROP TABLE msg_cutoff;"
            "UPDATE meta SET value = 2 WHERE key = 'schema_version'");
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    CU_ASSERT_EQUAL(state_of(s, id), ST_SUBMITTED);
    CU_ASSERT_EQUAL(store_job_mark(s, "bankA", "statements", 1, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 5, NULL, &err), 0);
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, rid, &err), 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

int main(void)
{
    static const struct tu_case cases[] = {
        {"open, schema, version guard", test_open_schema},
        {"accept and duplicate detection", test_accept_dup},
        {"id sequence across reopen and delete", test_id_sequence},
        {"every transition pair", test_all_transitions},
        {"compare-and-set and change fields", test_cas_and_changes},
        {"hold, release, retry", test_hold_release_retry},
        {"list filters and counts", test_list_counts},
        {"history order", test_history},
        {"download registry", test_downloads},
        {"business id registry", test_business_ids},
        {"counters", test_counters},
        {"payment statuses", test_tx_status},
        {"group transaction commit and rollback", test_group_txn},
        {"check finds corruption", test_check},
        {"durability across an unclean exit", test_durability_fork},
        {"statement ledger", test_ledger},
        {"reconciliation runs", test_recon_runs},
        {"interrupted reconciliation runs", test_recon_interrupted},
        {"ledger and runs in group transactions", test_recon_ledger_txn},
        {"reconciliation text cut at characters", test_recon_text_cut},
        {"migration from version 3", test_migrate_v3},
        {NULL, NULL},
    };
    int rc = tu_main("store", cases);
    if (cur_dir[0])
        tu_rmtree(cur_dir);
    return rc;
}
