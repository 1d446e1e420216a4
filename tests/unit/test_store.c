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

/* The first column of the first row of sql run on db_path behind the
 * store's back; -1 when it cannot be read. */
static int sql_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int n = -1;
    if (sqlite3_open(db_path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* How many schema objects of db_path match where ("WHERE name IN
 * (...)"). */
static int tables_in(const char *where)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master %s",
             where);
    return sql_int(sql);
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
        {"draft with an unknown status",
         "INSERT INTO draft (bank, number, sub_from, sub_to, kind, status, "
         "amount, ccy, maturity_date, updated_ms) SELECT 'bankA', "
         "'100000000000000000000000000001', 0, 0, 'AC01', '', 1, 'CNY', "
         "'2026-12-01', 1 WHERE '%s' <> ''",
         "draft bankA 100000000000000000000000000001 0-0: unknown status ''"},
        {"draft sub-range backwards",
         "INSERT INTO draft (bank, number, sub_from, sub_to, kind, status, "
         "amount, ccy, maturity_date, updated_ms) SELECT 'bankA', "
         "'100000000000000000000000000001', 7, 3, 'AC01', 'held', 1, 'CNY', "
         "'2026-12-01', 1 WHERE '%s' <> ''",
         "bad sub-range 7-3"},
        {"draft with a bad kind and pending flag",
         "INSERT INTO draft (bank, number, sub_from, sub_to, kind, status, "
         "amount, ccy, maturity_date, pending, updated_ms) SELECT 'bankA', "
         "'100000000000000000000000000001', 0, 0, 'AC9', 'held', 1, 'CNY', "
         "'2026-12-01', 2, 1 WHERE '%s' <> ''",
         "kind 'AC9' with pending 2"},
        {"draft with a negative amount",
         "INSERT INTO draft (bank, number, sub_from, sub_to, kind, status, "
         "amount, ccy, maturity_date, updated_ms) SELECT 'bankA', "
         "'100000000000000000000000000001', 0, 0, 'AC02', 'held', -5, 'CNY', "
         "'2026-12-01', 1 WHERE '%s' <> ''",
         "amount -5"},
        {"voucher remaining above amount",
         "INSERT INTO voucher (bank, id, root_id, level, issuer, holder, "
         "status, amount, ccy, remaining, issue_date, maturity_date, "
         "ours_role, updated_ms) SELECT 'bankA', 'V1', 'V1', 1, 'C', 'T1', "
         "'held', 100, 'CNY', 101, '2026-07-01', '2027-01-01', 'held', 1 "
         "WHERE '%s' <> ''",
         "voucher bankA V1: remaining 101 outside 0..100"},
        {"voucher with an unknown status",
         "INSERT INTO voucher (bank, id, root_id, level, issuer, holder, "
         "status, amount, ccy, remaining, issue_date, maturity_date, "
         "ours_role, updated_ms) SELECT 'bankA', 'V1', 'V1', 1, 'C', 'T1', "
         "'lost', 100, 'CNY', 10, '2026-07-01', '2027-01-01', 'held', 1 "
         "WHERE '%s' <> ''",
         "voucher bankA V1: unknown status 'lost'"},
        {"voucher child without a parent",
         "INSERT INTO voucher (bank, id, root_id, level, issuer, holder, "
         "status, amount, ccy, remaining, issue_date, maturity_date, "
         "ours_role, updated_ms) SELECT 'bankA', 'V1-1', 'V1', 2, 'C', 'T1', "
         "'held', 100, 'CNY', 10, '2026-07-01', '2027-01-01', 'held', 1 "
         "WHERE '%s' <> ''",
         "voucher bankA V1-1: level 2 with parent ''"},
        {"financing request with an unknown status",
         "INSERT INTO scf_request (bank, request_id, kind, status, ccy, "
         "updated_ms) SELECT 'bankA', 'REQ-1', 'receivable', 'paid', 'CNY', "
         "1 WHERE '%s' <> ''",
         "financing request bankA REQ-1: unknown status 'paid'"},
        {"financing request with a negative amount",
         "INSERT INTO scf_request (bank, request_id, kind, status, ccy, "
         "repaid, updated_ms) SELECT 'bankA', 'REQ-1', 'receivable', "
         "'financed', 'CNY', -1, 1 WHERE '%s' <> ''",
         "financing request bankA REQ-1 has a negative amount"},
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

/* ---- bill pool and supply-chain finance -------------------------------- */

/* A 30-digit draft number ending in n. */
static const char *draft_no(unsigned n)
{
    static char buf[4][31];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, 31, "1%029u", n);
    return b;
}

static void draft_fill(struct store_draft *d, const char *bank, unsigned n,
                       int64_t from, int64_t to, const char *status,
                       const char *maturity)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->bank, sizeof(d->bank), "%s", bank);
    snprintf(d->number, sizeof(d->number), "%s", draft_no(n));
    d->sub_from = from;
    d->sub_to = to;
    snprintf(d->kind, sizeof(d->kind), "AC01");
    snprintf(d->status, sizeof(d->status), "%s", status);
    d->amount = to ? to - from + 1 : 1000000;
    snprintf(d->ccy, sizeof(d->ccy), "CNY");
    snprintf(d->issue_date, sizeof(d->issue_date), "2026-06-01");
    snprintf(d->maturity_date, sizeof(d->maturity_date), "%s", maturity);
    snprintf(d->holder, sizeof(d->holder), "Acme Trading Co., Ltd.");
    d->updated_ms = 1000 + n;
    d->last_alert_days = -1;
}

static int put_draft(struct store *s, const char *bank, unsigned n,
                     int64_t from, int64_t to, const char *status,
                     const char *maturity)
{
    struct store_draft d;
    struct h2h_err err = {0};
    draft_fill(&d, bank, n, from, to, status, maturity);
    int rc = store_draft_put(s, &d, &err);
    if (rc)
        fprintf(stderr, "\n  store_draft_put: %s\n", err.msg);
    return rc;
}

/* Keys of the listed pieces: "bank nnnn from-to" (the number's last 4
 * digits). */
struct draft_rows {
    int n, stop_at;
    char key[16][48];
    int alert[16];
    struct store *s; /* when set, the callback deletes each row listed */
};

static int draft_cb(void *ctx, const struct store_draft *d)
{
    struct draft_rows *r = ctx;
    if (r->n < 16) {
        snprintf(r->key[r->n], sizeof(r->key[0]), "%s %s %" PRId64 "-%" PRId64,
                 d->bank, d->number + 26, d->sub_from, d->sub_to);
        r->alert[r->n] = d->last_alert_days;
    }
    r->n++;
    if (r->s)
        CU_ASSERT_EQUAL(store_draft_delete(r->s, d->bank, d->number,
                                           d->sub_from, d->sub_to, NULL),
                        0);
    if (r->stop_at && r->n == r->stop_at)
        return 7;
    return 0;
}

static int draft_count(struct store *s)
{
    struct draft_rows r = {0};
    CU_ASSERT_EQUAL(store_draft_list(s, NULL, draft_cb, &r, NULL), 0);
    return r.n;
}

static void test_draft_put_get(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_draft d, got;
    const char *doc = "<Draft><Nb>1000</Nb><Sts>pledged</Sts></Draft>";

    draft_fill(&d, "bankA", 7, 1, 1000000, "pledged", "2026-12-01");
    snprintf(d.kind, sizeof(d.kind), "AC02");
    snprintf(d.holder, sizeof(d.holder), "\xE4\xB8\x8A\xE6\xB5\xB7 Acme");
    d.pending = 1;
    d.updated_ms = 1234567;
    d.last_alert_days = 3; /* ignored by put */
    d.doc = (char *)doc;
    CU_ASSERT_EQUAL_FATAL(store_draft_put(s, &d, &err), 0);

    CU_ASSERT_EQUAL_FATAL(
        store_draft_get(s, "bankA", draft_no(7), 1, 1000000, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.bank, "bankA");
    CU_ASSERT_STRING_EQUAL(got.number, draft_no(7));
    CU_ASSERT_EQUAL(got.sub_from, 1);
    CU_ASSERT_EQUAL(got.sub_to, 1000000);
    CU_ASSERT_STRING_EQUAL(got.kind, "AC02");
    CU_ASSERT_STRING_EQUAL(got.status, "pledged");
    CU_ASSERT_EQUAL(got.amount, 1000000);
    CU_ASSERT_STRING_EQUAL(got.ccy, "CNY");
    CU_ASSERT_STRING_EQUAL(got.issue_date, "2026-06-01");
    CU_ASSERT_STRING_EQUAL(got.maturity_date, "2026-12-01");
    CU_ASSERT_STRING_EQUAL(got.holder, "\xE4\xB8\x8A\xE6\xB5\xB7 Acme");
    CU_ASSERT_EQUAL(got.pending, 1);
    CU_ASSERT_EQUAL(got.updated_ms, 1234567);
    CU_ASSERT_EQUAL(got.last_alert_days, -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got.doc);
    CU_ASSERT_STRING_EQUAL(got.doc, doc);
    CU_ASSERT_PTR_NOT_EQUAL(got.doc, doc); /* the store's own copy */
    store_draft_release(&got);
    CU_ASSERT_PTR_NULL(got.doc);
    CU_ASSERT_EQUAL(got.last_alert_days, -1);
    store_draft_release(&got); /* idempotent */
    store_draft_release(NULL);

    /* Another piece of the same draft, and the same number at another
     * bank, are rows of their own. */
    CU_ASSERT_EQUAL(
        put_draft(s, "bankA", 7, 1000001, 2000000, "held", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankB", 7, 1, 1000000, "held", "2026-12-01"),
                    0);
    CU_ASSERT_EQUAL(draft_count(s), 3);

    /* Replace: every column follows, doc NULL clears it; updated_ms 0 is
     * the store's clock. */
    int64_t t0 = (int64_t)time(NULL) * 1000 - 1000;
    draft_fill(&d, "bankA", 7, 1, 1000000, "held", "2026-12-02");
    d.updated_ms = 0;
    d.holder[0] = '\0';
    d.issue_date[0] = '\0';
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), 0);
    CU_ASSERT_EQUAL(draft_count(s), 3);
    CU_ASSERT_EQUAL_FATAL(
        store_draft_get(s, "bankA", draft_no(7), 1, 1000000, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.kind, "AC01");
    CU_ASSERT_STRING_EQUAL(got.status, "held");
    CU_ASSERT_STRING_EQUAL(got.maturity_date, "2026-12-02");
    CU_ASSERT_STRING_EQUAL(got.holder, "");
    CU_ASSERT_STRING_EQUAL(got.issue_date, "");
    CU_ASSERT_EQUAL(got.pending, 0);
    CU_ASSERT_PTR_NULL(got.doc);
    CU_ASSERT(got.updated_ms >= t0);
    CU_ASSERT(got.updated_ms <= t0 + 60000);
    store_draft_release(&got);

    /* A whole ECDS draft (0/0), with a large document. */
    size_t big_len = 300000;
    char *big = malloc(big_len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    big[big_len] = '\0';
    draft_fill(&d, "bankA", 8, 0, 0, "dishonoured", "2026-10-01");
    d.doc = big;
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), 0);

    /* Survives close and reopen. */
    s = reopen(s);
    CU_ASSERT_EQUAL_FATAL(
        store_draft_get(s, "bankA", draft_no(8), 0, 0, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.status, "dishonoured");
    CU_ASSERT_EQUAL(got.amount, 1000000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got.doc);
    CU_ASSERT_EQUAL(strlen(got.doc), big_len);
    CU_ASSERT_EQUAL(memcmp(got.doc, big, big_len), 0);
    store_draft_release(&got);
    free(big);
    CU_ASSERT_EQUAL(
        store_draft_get(s, "bankB", draft_no(7), 1, 1000000, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.bank, "bankB");
    store_draft_release(&got);

    /* Unknown pieces: the key is exact. */
    static const struct {
        const char *bank;
        unsigned n;
        int64_t from, to;
    } missing[] = {
        {"bankA", 7, 1, 999999},  {"bankA", 7, 2, 1000000},
        {"bankC", 7, 1, 1000000}, {"bankA", 9, 1, 1000000},
        {"bankA", 8, 1, 1000000},
    };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        memset(&got, 'x', sizeof(got));
        CU_ASSERT_EQUAL(store_draft_get(s, missing[i].bank,
                                        draft_no(missing[i].n), missing[i].from,
                                        missing[i].to, &got, &err),
                        H2H_ENOTFOUND);
        CU_ASSERT_PTR_NULL(got.doc); /* zeroed: release is safe */
        CU_ASSERT_EQUAL(got.last_alert_days, -1);
        CU_ASSERT_STRING_EQUAL(got.bank, "");
        store_draft_release(&got);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, draft_no(8)));

    /* Delete: once, then not found; the other pieces stay. */
    CU_ASSERT_EQUAL(
        store_draft_delete(s, "bankA", draft_no(7), 1, 1000000, &err), 0);
    CU_ASSERT_EQUAL(
        store_draft_get(s, "bankA", draft_no(7), 1, 1000000, &got, &err),
        H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(
        store_draft_delete(s, "bankA", draft_no(7), 1, 1000000, &err),
        H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_draft_delete(s, "bankA", draft_no(9), 0, 0, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(draft_count(s), 3);
    s = reopen(s);
    CU_ASSERT_EQUAL(
        store_draft_get(s, "bankA", draft_no(7), 1, 1000000, &got, &err),
        H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(draft_count(s), 3);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_draft_list(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    /* Put in an order that is not the listing order. */
    CU_ASSERT_EQUAL(put_draft(s, "bankB", 5, 0, 0, "held", "2027-01-15"), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankB", 1, 0, 0, "endorsed", "2026-12-10"),
                    0);
    CU_ASSERT_EQUAL(
        put_draft(s, "bankA", 6, 0, 0, "pending_endorsement", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(
        put_draft(s, "bankA", 2, 400001, 1000000, "held", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 3, 0, 0, "pledged", "2026-12-31"), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 1, 0, 0, "held", "2026-12-10"), 0);
    CU_ASSERT_EQUAL(
        put_draft(s, "bankA", 2, 1, 400000, "pledged", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankB", 4, 0, 0, "held", "2026-11-30"), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 9, 0, 0, "discounted", "2026-11-30"),
                    0);

    static const char *const order[] = {
        "bankB 0004 0-0",      "bankA 0009 0-0",
        "bankA 0002 1-400000", "bankA 0002 400001-1000000",
        "bankA 0006 0-0",      "bankA 0001 0-0",
        "bankB 0001 0-0",      "bankA 0003 0-0",
        "bankB 0005 0-0",
    };
    struct draft_rows r = {0};
    CU_ASSERT_EQUAL(store_draft_list(s, NULL, draft_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 9);
    for (int i = 0; i < 9; i++) {
        if (strcmp(r.key[i], order[i]) != 0)
            fprintf(stderr, "\n  row %d: %s, want %s\n", i, r.key[i], order[i]);
        CU_ASSERT_STRING_EQUAL(r.key[i], order[i]);
    }

    /* Each case lists the indexes into order[] it expects, in order. */
    static const struct {
        const char *label;
        struct store_draft_filter f;
        int want[9], n;
    } cases[] = {
        {"all, empty strings",
         {.bank = "",
          .status = "",
          .number = "",
          .maturity_from = "",
          .maturity_to = ""},
         {0, 1, 2, 3, 4, 5, 6, 7, 8},
         9},
        {"window, ends inclusive",
         {.maturity_from = "2026-12-01", .maturity_to = "2026-12-10"},
         {2, 3, 4, 5, 6},
         5},
        {"one day",
         {.maturity_from = "2026-12-01", .maturity_to = "2026-12-01"},
         {2, 3, 4},
         3},
        {"from only", {.maturity_from = "2026-12-11"}, {7, 8}, 2},
        {"to only", {.maturity_to = "2026-11-30"}, {0, 1}, 2},
        {"empty window",
         {.maturity_from = "2026-12-02", .maturity_to = "2026-12-09"},
         {0},
         0},
        {"status", {.status = "pledged"}, {2, 7}, 2},
        {"other status", {.status = "discounted"}, {1}, 1},
        {"bank", {.bank = "bankB"}, {0, 6, 8}, 3},
        {"bank, status and window",
         {.bank = "bankA", .status = "held", .maturity_to = "2026-12-10"},
         {3, 5},
         2},
        {"number", {.number = "100000000000000000000000000002"}, {2, 3}, 2},
        {"number at two banks",
         {.number = "100000000000000000000000000001"},
         {5, 6},
         2},
        {"limit", {.limit = 3}, {0, 1, 2}, 3},
        {"limit with a filter", {.bank = "bankA", .limit = 2}, {1, 2}, 2},
        {"limit above the count", {.bank = "bankB", .limit = 50}, {0, 6, 8}, 3},
        {"no such status", {.status = "paid"}, {0}, 0},
        {"no such bank", {.bank = "nope"}, {0}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&r, 0, sizeof(r));
        CU_ASSERT_EQUAL(store_draft_list(s, &cases[i].f, draft_cb, &r, &err),
                        0);
        int ok = r.n == cases[i].n;
        for (int j = 0; ok && j < r.n; j++)
            ok = strcmp(r.key[j], order[cases[i].want[j]]) == 0;
        if (!ok)
            fprintf(stderr, "\n  %s: %d rows, first %s\n", cases[i].label, r.n,
                    r.n ? r.key[0] : "-");
        CU_ASSERT(ok);
    }

    /* Bad filters. */
    static const struct {
        const char *label;
        struct store_draft_filter f;
    } bad[] = {
        {"unknown status", {.status = "bogus"}},
        {"status none", {.status = "none"}},
        {"bad from", {.maturity_from = "2026-13-01"}},
        {"bad to", {.maturity_to = "2026/12/01"}},
        {"from after to",
         {.maturity_from = "2026-12-02", .maturity_to = "2026-12-01"}},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&r, 0, sizeof(r));
        int rc = store_draft_list(s, &bad[i].f, draft_cb, &r, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  %s: %d\n", bad[i].label, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        CU_ASSERT_EQUAL(r.n, 0);
    }

    /* The callback's value stops and is returned. */
    memset(&r, 0, sizeof(r));
    r.stop_at = 2;
    CU_ASSERT_EQUAL(store_draft_list(s, NULL, draft_cb, &r, &err), 7);
    CU_ASSERT_EQUAL(r.n, 2);

    /* Callbacks may change the rows being listed (here delete them). */
    memset(&r, 0, sizeof(r));
    r.s = s;
    struct store_draft_filter fb = {.bank = "bankB"};
    CU_ASSERT_EQUAL(store_draft_list(s, &fb, draft_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 3);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_draft_list(s, &fb, draft_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(draft_count(s), 6);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

/* A piece is split (part endorsed): its row is replaced by two in one
 * group transaction; a rolled-back split leaves the original. */
static void test_draft_split(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_draft d, got;
    struct draft_rows r = {0};
    CU_ASSERT_EQUAL_FATAL(
        put_draft(s, "bankA", 1, 1, 1000000, "held", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(
        store_draft_alerted(s, "bankA", draft_no(1), 1, 1000000, 30, &err), 0);

    /* Rolled back: the original stays, the parts are gone. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(
        store_draft_delete(s, "bankA", draft_no(1), 1, 1000000, &err), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 1, 1, 400000, "pending_endorsement",
                              "2026-12-01"),
                    0);
    CU_ASSERT_EQUAL(
        put_draft(s, "bankA", 1, 400001, 1000000, "held", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(draft_count(s), 2); /* visible inside the group */
    store_txn_rollback(s);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_draft_list(s, NULL, draft_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_STRING_EQUAL(r.key[0], "bankA 0001 1-1000000");
    CU_ASSERT_EQUAL(r.alert[0], 30);
    CU_ASSERT_EQUAL(
        store_draft_get(s, "bankA", draft_no(1), 1, 400000, &got, &err),
        H2H_ENOTFOUND);

    /* Committed: the parts replace it, the alert memory carried over by
     * the caller; a failing call inside the group spoils nothing. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(
        store_draft_delete(s, "bankA", draft_no(1), 1, 1000000, &err), 0);
    CU_ASSERT_EQUAL(
        store_draft_delete(s, "bankA", draft_no(1), 1, 1000000, &err),
        H2H_ENOTFOUND);
    draft_fill(&d, "bankA", 1, 1, 400000, "pending_endorsement", "2026-12-01");
    d.pending = 1;
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), 0);
    CU_ASSERT_EQUAL(
        put_draft(s, "bankA", 1, 400001, 1000000, "held", "2026-12-01"), 0);
    draft_fill(&d, "bankA", 1, 400001, 300000, "held", "2026-12-01");
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(
        store_draft_alerted(s, "bankA", draft_no(1), 400001, 1000000, 30, &err),
        0);
    CU_ASSERT_EQUAL(store_txn_commit(s, &err), 0);
    s = reopen(s);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_draft_list(s, NULL, draft_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_STRING_EQUAL(r.key[0], "bankA 0001 1-400000");
    CU_ASSERT_STRING_EQUAL(r.key[1], "bankA 0001 400001-1000000");
    CU_ASSERT_EQUAL(r.alert[0], -1);
    CU_ASSERT_EQUAL(r.alert[1], 30);
    CU_ASSERT_EQUAL_FATAL(
        store_draft_get(s, "bankA", draft_no(1), 1, 400000, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.status, "pending_endorsement");
    CU_ASSERT_EQUAL(got.pending, 1);
    CU_ASSERT_EQUAL(got.amount, 400000);
    store_draft_release(&got);
    CU_ASSERT_EQUAL(
        store_draft_get(s, "bankA", draft_no(1), 1, 1000000, &got, &err),
        H2H_ENOTFOUND);

    /* Closed with the group open: rolled back as well. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(
        store_draft_delete(s, "bankA", draft_no(1), 1, 400000, &err), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(draft_count(s), 2);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_draft_alerted(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_draft d, got;
    CU_ASSERT_EQUAL_FATAL(put_draft(s, "bankA", 1, 0, 0, "held", "2026-12-01"),
                          0);
    CU_ASSERT_EQUAL_FATAL(put_draft(s, "bankA", 2, 0, 0, "held", "2026-12-02"),
                          0);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(1), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, -1);
    store_draft_release(&got);

    CU_ASSERT_EQUAL(
        store_draft_alerted(s, "bankA", draft_no(1), 0, 0, 30, &err), 0);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(1), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, 30);
    store_draft_release(&got);
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankA", draft_no(1), 0, 0, 7, &err),
                    0);

    /* A refresh from the bank (put) keeps it; the other piece has none. */
    draft_fill(&d, "bankA", 1, 0, 0, "pledged", "2026-12-01");
    d.last_alert_days = -1;
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), 0);
    struct draft_rows r = {0};
    CU_ASSERT_EQUAL(store_draft_list(s, NULL, draft_cb, &r, &err), 0);
    CU_ASSERT_EQUAL_FATAL(r.n, 2);
    CU_ASSERT_EQUAL(r.alert[0], 7);
    CU_ASSERT_EQUAL(r.alert[1], -1);

    /* Survives reopen; 0 is a threshold like any other. */
    s = reopen(s);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(1), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, 7);
    CU_ASSERT_STRING_EQUAL(got.status, "pledged");
    store_draft_release(&got);
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankA", draft_no(2), 0, 0, 0, &err),
                    0);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(2), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, 0);
    store_draft_release(&got);

    /* -1 forgets it. */
    CU_ASSERT_EQUAL(
        store_draft_alerted(s, "bankA", draft_no(1), 0, 0, -1, &err), 0);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(1), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, -1);
    store_draft_release(&got);

    /* A piece deleted and put anew starts without one. */
    CU_ASSERT_EQUAL(store_draft_delete(s, "bankA", draft_no(2), 0, 0, &err), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 2, 0, 0, "held", "2026-12-02"), 0);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(2), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, -1);
    store_draft_release(&got);

    /* Refused: unknown piece, bad days, bad key. */
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankA", draft_no(3), 0, 0, 7, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankB", draft_no(1), 0, 0, 7, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(
        store_draft_alerted(s, "bankA", draft_no(1), 0, 0, -2, &err),
        H2H_EINVALID);
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankA", "123", 0, 0, 7, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(1), 0, 0, &got, &err),
                    0);
    CU_ASSERT_EQUAL(got.last_alert_days, -1);
    store_draft_release(&got);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_draft_bad_input(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_draft d, got;
    CU_ASSERT_EQUAL_FATAL(put_draft(s, "bankA", 1, 0, 0, "held", "2026-12-01"),
                          0);

    enum {
        B_BANK,
        B_SHORT_NO,
        B_ALPHA_NO,
        B_FROM_NEG,
        B_FROM_GT_TO,
        B_ZERO_FROM,
        B_KIND,
        B_KIND_EMPTY,
        B_STATUS,
        B_STATUS_NONE,
        B_STATUS_EMPTY,
        B_AMOUNT,
        B_CCY_LOWER,
        B_CCY_SHORT,
        B_ISSUE,
        B_MATURITY_EMPTY,
        B_MATURITY_BAD,
        B_PENDING,
        B_UPDATED,
        B_BANK_UNTERM,
        B_HOLDER_UNTERM,
        B_CCY_UNTERM,
        B_DATE_UNTERM,
        B__COUNT
    };
    for (int i = 0; i < B__COUNT; i++) {
        draft_fill(&d, "bankA", 2, 1, 100, "held", "2026-12-01");
        switch (i) {
        case B_BANK: d.bank[0] = '\0'; break;
        case B_SHORT_NO: snprintf(d.number, sizeof(d.number), "1300"); break;
        case B_ALPHA_NO: d.number[5] = 'x'; break;
        case B_FROM_NEG: d.sub_from = -1; break;
        case B_FROM_GT_TO: d.sub_from = 101; break;
        case B_ZERO_FROM: d.sub_from = 0; break;
        case B_KIND: snprintf(d.kind, sizeof(d.kind), "AC03"); break;
        case B_KIND_EMPTY: d.kind[0] = '\0'; break;
        case B_STATUS: snprintf(d.status, sizeof(d.status), "lost"); break;
        case B_STATUS_NONE: snprintf(d.status, sizeof(d.status), "none"); break;
        case B_STATUS_EMPTY: d.status[0] = '\0'; break;
        case B_AMOUNT: d.amount = -1; break;
        case B_CCY_LOWER: snprintf(d.ccy, sizeof(d.ccy), "cny"); break;
        case B_CCY_SHORT: snprintf(d.ccy, sizeof(d.ccy), "CN"); break;
        case B_ISSUE:
            snprintf(d.issue_date, sizeof(d.issue_date), "2026-6-1");
            break;
        case B_MATURITY_EMPTY: d.maturity_date[0] = '\0'; break;
        case B_MATURITY_BAD:
            snprintf(d.maturity_date, sizeof(d.maturity_date), "2026-12-32");
            break;
        case B_PENDING: d.pending = 2; break;
        case B_UPDATED: d.updated_ms = -5; break;
        case B_BANK_UNTERM: memset(d.bank, 'b', sizeof(d.bank)); break;
        case B_HOLDER_UNTERM: memset(d.holder, 'h', sizeof(d.holder)); break;
        case B_CCY_UNTERM: memcpy(d.ccy, "CNYX", 4); break;
        case B_DATE_UNTERM:
            memset(d.maturity_date, '1', sizeof(d.maturity_date));
            break;
        }
        int rc = store_draft_put(s, &d, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  bad draft case %d: %d\n", i, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    CU_ASSERT_EQUAL(store_draft_put(s, NULL, &err), H2H_EINVALID);
    /* The good one the cases started from is accepted: each case failed
     * for its own reason. */
    draft_fill(&d, "bankA", 2, 1, 100, "held", "2026-12-01");
    snprintf(d.kind, sizeof(d.kind), "AC02");
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), 0);
    /* Full buffers that are terminated are fine. */
    memset(d.holder, 'h', sizeof(d.holder) - 1);
    d.holder[sizeof(d.holder) - 1] = '\0';
    memset(d.bank, 'b', sizeof(d.bank) - 1);
    d.bank[sizeof(d.bank) - 1] = '\0';
    CU_ASSERT_EQUAL(store_draft_put(s, &d, &err), 0);
    CU_ASSERT_EQUAL(store_draft_get(s, d.bank, d.number, 1, 100, &got, &err),
                    0);
    CU_ASSERT_EQUAL(strlen(got.holder), sizeof(got.holder) - 1);
    store_draft_release(&got);
    CU_ASSERT_EQUAL(draft_count(s), 3);

    /* Keys of get, delete and alerted. */
    char longbank[80];
    memset(longbank, 'b', sizeof(longbank) - 1);
    longbank[sizeof(longbank) - 1] = '\0';
    char no1[31];
    snprintf(no1, sizeof(no1), "%s", draft_no(1));
    const struct {
        const char *label, *bank, *number;
        int64_t from, to;
    } keys[] = {
        {"no bank", NULL, no1, 0, 0},
        {"empty bank", "", no1, 0, 0},
        {"bank too long", longbank, no1, 0, 0},
        {"no number", "bankA", NULL, 0, 0},
        {"31 digits", "bankA", "1000000000000000000000000000001", 0, 0},
        {"range backwards", "bankA", no1, 5, 4},
        {"0 to 5", "bankA", no1, 0, 5},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int rc[3];
        memset(&got, 'x', sizeof(got));
        rc[0] = store_draft_get(s, keys[i].bank, keys[i].number, keys[i].from,
                                keys[i].to, &got, &err);
        CU_ASSERT_PTR_NULL(got.doc);
        rc[1] = store_draft_delete(s, keys[i].bank, keys[i].number,
                                   keys[i].from, keys[i].to, &err);
        rc[2] = store_draft_alerted(s, keys[i].bank, keys[i].number,
                                    keys[i].from, keys[i].to, 1, &err);
        for (int j = 0; j < 3; j++) {
            if (rc[j] != H2H_EINVALID)
                fprintf(stderr, "\n  %s: call %d: %d\n", keys[i].label, j,
                        rc[j]);
            CU_ASSERT_EQUAL(rc[j], H2H_EINVALID);
        }
    }
    CU_ASSERT_EQUAL(draft_count(s), 3);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

/* ---- vouchers ---------------------------------------------------------- */

static void voucher_fill(struct store_voucher *v, const char *bank,
                         const char *id, const char *parent, const char *root,
                         int level, const char *holder, const char *status,
                         int64_t amount, int64_t remaining)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->bank, sizeof(v->bank), "%s", bank);
    snprintf(v->id, sizeof(v->id), "%s", id);
    snprintf(v->parent_id, sizeof(v->parent_id), "%s", parent);
    snprintf(v->root_id, sizeof(v->root_id), "%s", root);
    v->level = level;
    snprintf(v->issuer, sizeof(v->issuer), "91310000CORE00001X");
    snprintf(v->holder, sizeof(v->holder), "%s", holder);
    snprintf(v->status, sizeof(v->status), "%s", status);
    v->amount = amount;
    snprintf(v->ccy, sizeof(v->ccy), "CNY");
    v->remaining = remaining;
    snprintf(v->issue_date, sizeof(v->issue_date), "2026-07-01");
    snprintf(v->maturity_date, sizeof(v->maturity_date), "2027-01-01");
    snprintf(v->ours_role, sizeof(v->ours_role), "held");
    v->updated_ms = 5000;
}

struct voucher_rows {
    int n, stop_at;
    char id[16][24];
};

static int voucher_cb(void *ctx, const struct store_voucher *v)
{
    struct voucher_rows *r = ctx;
    if (r->n < 16)
        snprintf(r->id[r->n], sizeof(r->id[0]), "%s", v->id);
    r->n++;
    if (r->stop_at && r->n == r->stop_at)
        return 9;
    return 0;
}

static void test_vouchers(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_voucher v, got;
    const char *doc = "<Voucher><Id>V1</Id></Voucher>";

    /* A tree V1 (we are tier 1 and transferred parts down), put leaves
     * first, and a root W1 at another platform. */
    voucher_fill(&v, "bankA", "V1-1-1", "V1-1", "V1", 3, "T3", "pending",
                 20000000, 20000000);
    snprintf(v.ours_role, sizeof(v.ours_role), "transferred");
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    voucher_fill(&v, "bankA", "V1-2", "V1", "V1", 2, "T4", "financed", 10000000,
                 10000000);
    snprintf(v.fin_bank, sizeof(v.fin_bank), "ICBC Shanghai");
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    voucher_fill(&v, "bankB", "W1", "", "W1", 1, "T1", "held", 500, 500);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    voucher_fill(&v, "bankA", "V1-1", "V1", "V1", 2, "T2", "held", 30000000,
                 10000000);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    voucher_fill(&v, "bankA", "V1", "", "V1", 1, "T1", "held", 100000000,
                 60000000);
    v.doc = (char *)doc;
    v.updated_ms = 7777;
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);

    CU_ASSERT_EQUAL_FATAL(store_voucher_get(s, "bankA", "V1", &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.bank, "bankA");
    CU_ASSERT_STRING_EQUAL(got.id, "V1");
    CU_ASSERT_STRING_EQUAL(got.parent_id, "");
    CU_ASSERT_STRING_EQUAL(got.root_id, "V1");
    CU_ASSERT_EQUAL(got.level, 1);
    CU_ASSERT_STRING_EQUAL(got.issuer, "91310000CORE00001X");
    CU_ASSERT_STRING_EQUAL(got.holder, "T1");
    CU_ASSERT_STRING_EQUAL(got.status, "held");
    CU_ASSERT_EQUAL(got.amount, 100000000);
    CU_ASSERT_STRING_EQUAL(got.ccy, "CNY");
    CU_ASSERT_EQUAL(got.remaining, 60000000);
    CU_ASSERT_STRING_EQUAL(got.issue_date, "2026-07-01");
    CU_ASSERT_STRING_EQUAL(got.maturity_date, "2027-01-01");
    CU_ASSERT_STRING_EQUAL(got.fin_bank, "");
    CU_ASSERT_STRING_EQUAL(got.ours_role, "held");
    CU_ASSERT_EQUAL(got.updated_ms, 7777);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got.doc);
    CU_ASSERT_STRING_EQUAL(got.doc, doc);
    store_voucher_release(&got);
    CU_ASSERT_PTR_NULL(got.doc);
    store_voucher_release(&got);
    store_voucher_release(NULL);

    CU_ASSERT_EQUAL_FATAL(store_voucher_get(s, "bankA", "V1-2", &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.parent_id, "V1");
    CU_ASSERT_EQUAL(got.level, 2);
    CU_ASSERT_STRING_EQUAL(got.fin_bank, "ICBC Shanghai");
    CU_ASSERT_STRING_EQUAL(got.status, "financed");
    CU_ASSERT_PTR_NULL(got.doc);
    store_voucher_release(&got);

    /* Replace: the pending child was signed; updated_ms 0 is now. */
    int64_t t0 = (int64_t)time(NULL) * 1000 - 1000;
    voucher_fill(&v, "bankA", "V1-1-1", "V1-1", "V1", 3, "T3", "held", 20000000,
                 5000000);
    snprintf(v.ours_role, sizeof(v.ours_role), "transferred");
    v.updated_ms = 0;
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);

    /* Survives reopen. */
    s = reopen(s);
    CU_ASSERT_EQUAL_FATAL(store_voucher_get(s, "bankA", "V1-1-1", &got, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(got.status, "held");
    CU_ASSERT_EQUAL(got.remaining, 5000000);
    CU_ASSERT_STRING_EQUAL(got.ours_role, "transferred");
    CU_ASSERT(got.updated_ms >= t0);
    store_voucher_release(&got);

    /* Not found: the key is (bank, id). */
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankB", "V1", &got, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(got.id, "");
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankA", "V9", &got, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "V9"));

    /* Lists: by root, level, id. */
    static const struct {
        const char *label;
        struct store_voucher_filter f;
        const char *want;
    } cases[] = {
        {"all", {.bank = NULL}, "V1 V1-1 V1-2 V1-1-1 W1"},
        {"empty strings",
         {.bank = "", .status = "", .holder = "", .root_id = ""},
         "V1 V1-1 V1-2 V1-1-1 W1"},
        {"bank", {.bank = "bankB"}, "W1"},
        {"status", {.status = "held"}, "V1 V1-1 V1-1-1 W1"},
        {"financed", {.status = "financed"}, "V1-2"},
        {"holder", {.holder = "T1"}, "V1 W1"},
        {"root", {.root_id = "V1"}, "V1 V1-1 V1-2 V1-1-1"},
        {"root and holder", {.root_id = "V1", .holder = "T3"}, "V1-1-1"},
        {"bank and root", {.bank = "bankB", .root_id = "V1"}, ""},
        {"nothing settled", {.status = "settled"}, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct voucher_rows r = {0};
        CU_ASSERT_EQUAL(
            store_voucher_list(s, &cases[i].f, voucher_cb, &r, &err), 0);
        char got_ids[128] = "";
        size_t o = 0;
        for (int j = 0; j < r.n && j < 16; j++)
            o += (size_t)snprintf(got_ids + o, sizeof(got_ids) - o, "%s%s",
                                  j ? " " : "", r.id[j]);
        if (strcmp(got_ids, cases[i].want) != 0)
            fprintf(stderr, "\n  %s: \"%s\", want \"%s\"\n", cases[i].label,
                    got_ids, cases[i].want);
        CU_ASSERT_STRING_EQUAL(got_ids, cases[i].want);
    }
    struct voucher_rows r = {0};
    CU_ASSERT_EQUAL(store_voucher_list(s, NULL, voucher_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 5);
    memset(&r, 0, sizeof(r));
    r.stop_at = 3;
    CU_ASSERT_EQUAL(store_voucher_list(s, NULL, voucher_cb, &r, &err), 9);
    CU_ASSERT_EQUAL(r.n, 3);
    struct store_voucher_filter badf = {.status = "lost"};
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_voucher_list(s, &badf, voucher_cb, &r, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(r.n, 0);

    /* Bad input: each case breaks one rule of a good voucher. */
    enum {
        V_BANK,
        V_ID,
        V_ROOT,
        V_ISSUER,
        V_HOLDER,
        V_ROLE,
        V_STATUS,
        V_STATUS_EMPTY,
        V_LEVEL0,
        V_ROOT_WITH_PARENT,
        V_CHILD_NO_PARENT,
        V_ROOT_OTHER_ROOT,
        V_OWN_PARENT,
        V_AMOUNT,
        V_REMAINING_NEG,
        V_REMAINING_BIG,
        V_CCY,
        V_ISSUE,
        V_MATURITY,
        V_UPDATED,
        V_HOLDER_UNTERM,
        V_ID_UNTERM,
        V_ROLE_UNTERM,
        V__COUNT
    };
    for (int i = 0; i < V__COUNT; i++) {
        voucher_fill(&v, "bankA", "X1-1", "X1", "X1", 2, "T2", "held", 100, 40);
        switch (i) {
        case V_BANK: v.bank[0] = '\0'; break;
        case V_ID: v.id[0] = '\0'; break;
        case V_ROOT: v.root_id[0] = '\0'; break;
        case V_ISSUER: v.issuer[0] = '\0'; break;
        case V_HOLDER: v.holder[0] = '\0'; break;
        case V_ROLE: v.ours_role[0] = '\0'; break;
        case V_STATUS: snprintf(v.status, sizeof(v.status), "lost"); break;
        case V_STATUS_EMPTY: v.status[0] = '\0'; break;
        case V_LEVEL0: v.level = 0; break;
        case V_ROOT_WITH_PARENT: v.level = 1; break;
        case V_CHILD_NO_PARENT: v.parent_id[0] = '\0'; break;
        case V_ROOT_OTHER_ROOT:
            v.level = 1;
            v.parent_id[0] = '\0';
            break;
        case V_OWN_PARENT:
            snprintf(v.parent_id, sizeof(v.parent_id), "X1-1");
            break;
        case V_AMOUNT: v.amount = -1; break;
        case V_REMAINING_NEG: v.remaining = -1; break;
        case V_REMAINING_BIG: v.remaining = 101; break;
        case V_CCY: snprintf(v.ccy, sizeof(v.ccy), "C1Y"); break;
        case V_ISSUE: v.issue_date[0] = '\0'; break;
        case V_MATURITY:
            snprintf(v.maturity_date, sizeof(v.maturity_date), "2027-00-01");
            break;
        case V_UPDATED: v.updated_ms = -1; break;
        case V_HOLDER_UNTERM: memset(v.holder, 'h', sizeof(v.holder)); break;
        case V_ID_UNTERM: memset(v.id, 'i', sizeof(v.id)); break;
        case V_ROLE_UNTERM:
            memset(v.ours_role, 'r', sizeof(v.ours_role));
            break;
        }
        int rc = store_voucher_put(s, &v, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  bad voucher case %d: %d\n", i, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    CU_ASSERT_EQUAL(store_voucher_put(s, NULL, &err), H2H_EINVALID);
    /* the case they started from is good, and remaining == amount too */
    voucher_fill(&v, "bankA", "X1-1", "X1", "X1", 2, "T2", "held", 100, 100);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    CU_ASSERT_EQUAL(store_voucher_get(s, "", "V1", &got, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankA", NULL, &got, &err),
                    H2H_EINVALID);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(store_voucher_list(s, NULL, voucher_cb, &r, &err), 0);
    CU_ASSERT_EQUAL(r.n, 6);

    /* In a group transaction: rolled back, nothing remains. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    voucher_fill(&v, "bankA", "V1", "", "V1", 1, "T1", "settled", 100000000, 0);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    voucher_fill(&v, "bankA", "Y1", "", "Y1", 1, "T1", "pending", 1, 1);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    store_txn_rollback(s);
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankA", "Y1", &got, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankA", "V1", &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.status, "held");
    CU_ASSERT_EQUAL(got.remaining, 60000000);
    CU_ASSERT_PTR_NOT_NULL(got.doc);
    store_voucher_release(&got);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

/* ---- financing requests -------------------------------------------------- */

static void fin_fill(struct store_financing *f, const char *bank,
                     const char *request_id, const char *kind,
                     const char *status, int64_t updated_ms)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->bank, sizeof(f->bank), "%s", bank);
    snprintf(f->request_id, sizeof(f->request_id), "%s", request_id);
    snprintf(f->kind, sizeof(f->kind), "%s", kind);
    snprintf(f->status, sizeof(f->status), "%s", status);
    snprintf(f->ccy, sizeof(f->ccy), "CNY");
    f->requested = 5000000;
    f->updated_ms = updated_ms;
}

struct fin_rows {
    int n, stop_at;
    char id[16][40];
};

static int fin_cb(void *ctx, const struct store_financing *f)
{
    struct fin_rows *r = ctx;
    if (r->n < 16)
        snprintf(r->id[r->n], sizeof(r->id[0]), "%s/%s", f->bank,
                 f->request_id);
    r->n++;
    if (r->stop_at && r->n == r->stop_at)
        return 5;
    return 0;
}

static void fin_ids(struct store *s, const struct store_financing_filter *f,
                    char *out, size_t outsz)
{
    struct fin_rows r = {0};
    CU_ASSERT_EQUAL(store_financing_list(s, f, fin_cb, &r, NULL), 0);
    size_t o = 0;
    out[0] = '\0';
    for (int j = 0; j < r.n && j < 16 && o < outsz; j++)
        o +=
            (size_t)snprintf(out + o, outsz - o, "%s%s", j ? " " : "", r.id[j]);
}

static void test_financing(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_financing f, got;
    char mid[STORE_ID_MAX], ids[256];
    const char *doc = "<ScfTrack><ReqId>REQ-2</ReqId></ScfTrack>";
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "bankA", 1, mid), 0);

    fin_fill(&f, "bankA", "REQ-1", "receivable", "submitted", 3000);
    snprintf(f.msg_id, sizeof(f.msg_id), "%s", mid);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    fin_fill(&f, "bankA", "REQ-2", "reverse_factoring", "financed", 5000);
    f.approved = 4800000;
    f.financed = 4500000;
    f.repaid = 1000000;
    snprintf(f.loan_ref, sizeof(f.loan_ref), "LN-2026-0042");
    snprintf(f.value_date, sizeof(f.value_date), "2026-08-01");
    snprintf(f.maturity_date, sizeof(f.maturity_date), "2027-02-01");
    f.doc = (char *)doc;
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    fin_fill(&f, "bankB", "REQ-3", "receivable", "rejected", 4000);
    snprintf(f.reason, sizeof(f.reason), "invoice already financed");
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    fin_fill(&f, "bankB", "REQ-0", "receivable", "under_review", 5000);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);

    CU_ASSERT_EQUAL_FATAL(store_financing_get(s, "bankA", "REQ-2", &got, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(got.bank, "bankA");
    CU_ASSERT_STRING_EQUAL(got.request_id, "REQ-2");
    CU_ASSERT_STRING_EQUAL(got.kind, "reverse_factoring");
    CU_ASSERT_STRING_EQUAL(got.status, "financed");
    CU_ASSERT_STRING_EQUAL(got.ccy, "CNY");
    CU_ASSERT_EQUAL(got.requested, 5000000);
    CU_ASSERT_EQUAL(got.approved, 4800000);
    CU_ASSERT_EQUAL(got.financed, 4500000);
    CU_ASSERT_EQUAL(got.repaid, 1000000);
    CU_ASSERT_STRING_EQUAL(got.loan_ref, "LN-2026-0042");
    CU_ASSERT_STRING_EQUAL(got.value_date, "2026-08-01");
    CU_ASSERT_STRING_EQUAL(got.maturity_date, "2027-02-01");
    CU_ASSERT_STRING_EQUAL(got.reason, "");
    CU_ASSERT_STRING_EQUAL(got.msg_id, "");
    CU_ASSERT_EQUAL(got.updated_ms, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got.doc);
    CU_ASSERT_STRING_EQUAL(got.doc, doc);
    store_financing_release(&got);
    CU_ASSERT_PTR_NULL(got.doc);
    store_financing_release(&got);
    store_financing_release(NULL);
    CU_ASSERT_EQUAL_FATAL(store_financing_get(s, "bankA", "REQ-1", &got, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(got.msg_id, mid);
    CU_ASSERT_STRING_EQUAL(got.status, "submitted");
    CU_ASSERT_EQUAL(got.approved, 0);
    CU_ASSERT_PTR_NULL(got.doc);
    store_financing_release(&got);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "REQ-3", &got, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(got.bank, "");
    CU_ASSERT_EQUAL_FATAL(store_financing_get(s, "bankB", "REQ-3", &got, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(got.status, "rejected");
    CU_ASSERT_STRING_EQUAL(got.reason, "invoice already financed");
    CU_ASSERT_STRING_EQUAL(got.loan_ref, "");
    CU_ASSERT_STRING_EQUAL(got.value_date, "");
    store_financing_release(&got);

    /* Newest update first; equal times by bank, then request id. */
    fin_ids(s, NULL, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids,
                           "bankA/REQ-2 bankB/REQ-0 bankB/REQ-3 bankA/REQ-1");
    /* Replace: approved now, and so the newest. */
    fin_fill(&f, "bankA", "REQ-1", "receivable", "approved", 6000);
    f.approved = 5000000;
    snprintf(f.msg_id, sizeof(f.msg_id), "%s", mid);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    s = reopen(s);
    fin_ids(s, NULL, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids,
                           "bankA/REQ-1 bankA/REQ-2 bankB/REQ-0 bankB/REQ-3");
    struct store_financing_filter fa = {.bank = "bankB"};
    fin_ids(s, &fa, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids, "bankB/REQ-0 bankB/REQ-3");
    struct store_financing_filter fs = {.status = "rejected"};
    fin_ids(s, &fs, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids, "bankB/REQ-3");
    struct store_financing_filter fbs = {.bank = "bankA", .status = "approved"};
    fin_ids(s, &fbs, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids, "bankA/REQ-1");
    struct store_financing_filter fe = {.bank = "", .status = ""};
    fin_ids(s, &fe, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids,
                           "bankA/REQ-1 bankA/REQ-2 bankB/REQ-0 bankB/REQ-3");
    struct store_financing_filter fn = {.status = "repaid"};
    fin_ids(s, &fn, ids, sizeof(ids));
    CU_ASSERT_STRING_EQUAL(ids, "");
    struct fin_rows r = {.stop_at = 1};
    CU_ASSERT_EQUAL(store_financing_list(s, NULL, fin_cb, &r, &err), 5);
    CU_ASSERT_EQUAL(r.n, 1);
    struct store_financing_filter fbad = {.status = "paid"};
    CU_ASSERT_EQUAL(store_financing_list(s, &fbad, fin_cb, &r, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL_FATAL(store_financing_get(s, "bankA", "REQ-1", &got, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(got.status, "approved");
    CU_ASSERT_EQUAL(got.approved, 5000000);
    store_financing_release(&got);

    /* The message must exist; inside a group the failure spoils nothing. */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    fin_fill(&f, "bankA", "REQ-4", "receivable", "submitted", 0);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    fin_fill(&f, "bankA", "REQ-5", "receivable", "submitted", 0);
    snprintf(f.msg_id, sizeof(f.msg_id), "M20000101-000099");
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), H2H_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "M20000101-000099"));
    CU_ASSERT_EQUAL(store_txn_commit(s, &err), 0);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "REQ-4", &got, &err), 0);
    store_financing_release(&got);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "REQ-5", &got, &err),
                    H2H_ENOTFOUND);
    /* and rolled back, nothing remains */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    fin_fill(&f, "bankA", "REQ-6", "receivable", "submitted", 0);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    store_txn_rollback(s);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "REQ-6", &got, &err),
                    H2H_ENOTFOUND);

    /* Deleting the message empties msg_id, the request stays. */
    store_close(s);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "PRAGMA foreign_keys = ON; DELETE FROM msg WHERE id = '%s'", mid);
    raw_sql(sql);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    CU_ASSERT_EQUAL_FATAL(store_financing_get(s, "bankA", "REQ-1", &got, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(got.msg_id, "");
    CU_ASSERT_STRING_EQUAL(got.status, "approved");
    store_financing_release(&got);

    /* Bad input: each case breaks one rule of a good request. */
    enum {
        F_BANK,
        F_ID,
        F_KIND,
        F_KIND_EMPTY,
        F_STATUS,
        F_STATUS_EMPTY,
        F_CCY,
        F_REQUESTED,
        F_APPROVED,
        F_FINANCED,
        F_REPAID,
        F_VALUE_DATE,
        F_MATURITY,
        F_UPDATED,
        F_REASON_UNTERM,
        F_MSG_UNTERM,
        F_ID_UNTERM,
        F_LOAN_UNTERM,
        F__COUNT
    };
    for (int i = 0; i < F__COUNT; i++) {
        fin_fill(&f, "bankA", "REQ-9", "receivable", "submitted", 1);
        switch (i) {
        case F_BANK: f.bank[0] = '\0'; break;
        case F_ID: f.request_id[0] = '\0'; break;
        case F_KIND: snprintf(f.kind, sizeof(f.kind), "factoring"); break;
        case F_KIND_EMPTY: f.kind[0] = '\0'; break;
        case F_STATUS: snprintf(f.status, sizeof(f.status), "paid"); break;
        case F_STATUS_EMPTY: f.status[0] = '\0'; break;
        case F_CCY: f.ccy[0] = '\0'; break;
        case F_REQUESTED: f.requested = -1; break;
        case F_APPROVED: f.approved = -1; break;
        case F_FINANCED: f.financed = -1; break;
        case F_REPAID: f.repaid = -1; break;
        case F_VALUE_DATE:
            snprintf(f.value_date, sizeof(f.value_date), "2026-1-01");
            break;
        case F_MATURITY:
            snprintf(f.maturity_date, sizeof(f.maturity_date), "01.02.2027");
            break;
        case F_UPDATED: f.updated_ms = -1; break;
        case F_REASON_UNTERM: memset(f.reason, 'r', sizeof(f.reason)); break;
        case F_MSG_UNTERM: memset(f.msg_id, 'M', sizeof(f.msg_id)); break;
        case F_ID_UNTERM:
            memset(f.request_id, 'q', sizeof(f.request_id));
            break;
        case F_LOAN_UNTERM: memset(f.loan_ref, 'l', sizeof(f.loan_ref)); break;
        }
        int rc = store_financing_put(s, &f, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  bad financing case %d: %d\n", i, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    CU_ASSERT_EQUAL(store_financing_put(s, NULL, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "REQ-9", &got, &err),
                    H2H_ENOTFOUND);
    fin_fill(&f, "bankA", "REQ-9", "receivable", "submitted", 1);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    CU_ASSERT_EQUAL(store_financing_get(s, NULL, "REQ-9", &got, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "", &got, &err),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

/* ---- pool figures ----------------------------------------------------- */

/* Figures of a pool as of as_of, all in CNY, derived from base. */
static void pool_fill(struct store_pool *p, const char *bank,
                      const char *pool_id, const char *as_of, int64_t base)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->bank, sizeof(p->bank), "%s", bank);
    snprintf(p->pool_id, sizeof(p->pool_id), "%s", pool_id);
    snprintf(p->as_of, sizeof(p->as_of), "%s", as_of);
    snprintf(p->ccy, sizeof(p->ccy), "CNY");
    p->pledged_count = 3;
    p->pledged_total = base * 35;
    p->deposit = base * 2;
    p->quota_total = base * 37;
    p->quota_used = base * 12;
    p->quota_available = base * 25;
}

struct pool_rows {
    struct store_pool v[8];
    size_t n;
};

static int pool_cb(void *ctx, const struct store_pool *p)
{
    struct pool_rows *r = ctx;
    if (r->n < 8)
        r->v[r->n] = *p;
    r->n++;
    return 0;
}

static int pool_stop_cb(void *ctx, const struct store_pool *p)
{
    (void)ctx;
    (void)p;
    return 7;
}

static struct pool_rows pools_of(struct store *s, const char *bank)
{
    struct pool_rows r = {0};
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(store_pool_list(s, bank, pool_cb, &r, &err), 0);
    return r;
}

/* The one row of (bank, pool_id); a zeroed struct when there is none. */
static struct store_pool pool_row(struct store *s, const char *bank,
                                  const char *pool_id)
{
    struct pool_rows r = pools_of(s, bank);
    struct store_pool none = {0};
    for (size_t i = 0; i < r.n && i < 8; i++)
        if (strcmp(r.v[i].pool_id, pool_id) == 0)
            return r.v[i];
    return none;
}

static void test_pool_put_list(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_pool p, got;
    CU_ASSERT_EQUAL(pools_of(s, NULL).n, 0);

    pool_fill(&p, "bankB", "PJC-2", "2026-09-01", 100000);
    p.learnt_ms = 5000;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T10:00:00+08:00", 1000);
    p.deposit = -1; /* not given */
    p.learnt_ms = 6000;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    /* a bank that names no pool, and no amount at all */
    memset(&p, 0, sizeof(p));
    snprintf(p.bank, sizeof(p.bank), "bankA");
    p.pledged_count = 0;
    p.pledged_total = p.deposit = p.quota_total = p.quota_used =
        p.quota_available = -1;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);

    struct pool_rows r = pools_of(s, NULL);
    CU_ASSERT_EQUAL_FATAL(r.n, 3);
    /* by bank, then pool id */
    CU_ASSERT_STRING_EQUAL(r.v[0].bank, "bankA");
    CU_ASSERT_STRING_EQUAL(r.v[0].pool_id, "");
    CU_ASSERT_STRING_EQUAL(r.v[0].ccy, "");
    CU_ASSERT_EQUAL(r.v[0].quota_total, -1);
    CU_ASSERT_STRING_EQUAL(r.v[1].pool_id, "PJC-1");
    CU_ASSERT_STRING_EQUAL(r.v[2].bank, "bankB");
    got = r.v[1];
    CU_ASSERT_STRING_EQUAL(got.as_of, "2026-09-01T10:00:00+08:00");
    CU_ASSERT_STRING_EQUAL(got.ccy, "CNY");
    CU_ASSERT_EQUAL(got.pledged_count, 3);
    CU_ASSERT_EQUAL(got.pledged_total, 35000);
    CU_ASSERT_EQUAL(got.deposit, -1);
    CU_ASSERT_EQUAL(got.quota_total, 37000);
    CU_ASSERT_EQUAL(got.quota_used, 12000);
    CU_ASSERT_EQUAL(got.quota_available, 25000);
    CU_ASSERT_EQUAL(got.learnt_ms, 6000);
    CU_ASSERT_EQUAL(pools_of(s, "bankB").n, 1);
    CU_ASSERT_EQUAL(pools_of(s, "").n, 3);
    CU_ASSERT_EQUAL(pools_of(s, "bankC").n, 0);
    /* learnt 0 = now */
    CU_ASSERT(r.v[0].learnt_ms > 1700000000000);

    /* a callback's value stops the list */
    CU_ASSERT_EQUAL(store_pool_list(s, NULL, pool_stop_cb, NULL, &err), 7);

    /* a later day replaces, with the new learnt time */
    pool_fill(&p, "bankB", "PJC-2", "2026-09-02", 200000);
    p.learnt_ms = 7000;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    got = pool_row(s, "bankB", "PJC-2");
    CU_ASSERT_STRING_EQUAL(got.as_of, "2026-09-02");
    CU_ASSERT_EQUAL(got.pledged_total, 7000000);
    CU_ASSERT_EQUAL(got.learnt_ms, 7000);
    /* an earlier one does not */
    pool_fill(&p, "bankB", "PJC-2", "2026-08-31", 300000);
    p.learnt_ms = 8000;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    got = pool_row(s, "bankB", "PJC-2");
    CU_ASSERT_STRING_EQUAL(got.as_of, "2026-09-02");
    CU_ASSERT_EQUAL(got.pledged_total, 7000000);
    CU_ASSERT_EQUAL(got.learnt_ms, 7000);
    /* the same figures again: nothing changes, not the learnt time */
    pool_fill(&p, "bankB", "PJC-2", "2026-09-02", 200000);
    p.learnt_ms = 9000;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_SAME);
    CU_ASSERT_EQUAL(pool_row(s, "bankB", "PJC-2").learnt_ms, 7000);
    /* the same day with other figures: the bank corrected them */
    pool_fill(&p, "bankB", "PJC-2", "2026-09-02", 210000);
    p.learnt_ms = 9500;
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(pool_row(s, "bankB", "PJC-2").pledged_total, 7350000);
    /* a timestamp on the kept day is not older than the day; one on the
     * day before is */
    pool_fill(&p, "bankB", "PJC-2", "2026-09-01T23:59:59Z", 1);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    pool_fill(&p, "bankB", "PJC-2", "2026-09-02T08:00:00Z", 220000);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(pool_row(s, "bankB", "PJC-2").pledged_total, 7700000);

    /* zoned timestamps compare as instants: 10:00+08:00 is 02:00Z */
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T03:00:00+09:00", 1);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T02:30:00Z", 2);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(pool_row(s, "bankA", "PJC-1").pledged_total, 70);
    /* across midnight by the zone: 2026-09-02T01:00+08:00 is 09-01 17:00Z */
    pool_fill(&p, "bankA", "PJC-1", "2026-09-02T01:00:00+08:00", 3);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T18:00:00.5-00:00", 4);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T17:30:00Z", 5);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    /* without a zone on one side: civil date and time */
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T17:59:00", 6);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01T18:00:00", 7);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(pool_row(s, "bankA", "PJC-1").pledged_total, 245);
    /* no as-of on either side: the later learnt wins */
    pool_fill(&p, "bankA", "PJC-1", "", 8);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    pool_fill(&p, "bankA", "PJC-1", "2020-01-01", 9);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(pool_row(s, "bankA", "PJC-1").pledged_total, 315);

    /* inside a group: kept with it, or gone with its rollback */
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    pool_fill(&p, "bankA", "PJC-9", "2026-09-03", 1);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    pool_fill(&p, "bankB", "PJC-2", "2026-09-01", 1);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    store_txn_rollback(s);
    CU_ASSERT_EQUAL(pool_row(s, "bankA", "PJC-9").bank[0], 0);
    CU_ASSERT_EQUAL_FATAL(store_txn_begin(s, &err), 0);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_OLDER);
    pool_fill(&p, "bankA", "PJC-9", "2026-09-03", 1);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(store_txn_commit(s, &err), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(pools_of(s, NULL).n, 4);
    CU_ASSERT_STRING_EQUAL(pool_row(s, "bankA", "PJC-9").as_of, "2026-09-03");
    CU_ASSERT_EQUAL(pool_row(s, "bankB", "PJC-2").pledged_total, 7700000);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);

    /* the check sees a row broken by hand */
    raw_sql("UPDATE bill_pool SET ccy = '' WHERE pool_id = 'PJC-9'");
    CU_ASSERT_EQUAL(store_check(s, &err), H2H_EDB);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PJC-9"));
    raw_sql("UPDATE bill_pool SET ccy = 'CNY', deposit = -5 "
            "WHERE pool_id = 'PJC-9'");
    CU_ASSERT_EQUAL(store_check(s, &err), H2H_EDB);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PJC-9"));
    raw_sql("UPDATE bill_pool SET deposit = NULL WHERE pool_id = 'PJC-9'");
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

static void test_pool_bad_input(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    struct store_pool p;
    enum {
        P_NO_BANK,
        P_BANK_UNTERM,
        P_ID_UNTERM,
        P_ASOF_UNTERM,
        P_ASOF_BAD,
        P_ASOF_MONTH,
        P_ASOF_TIME,
        P_COUNT_NEG,
        P_AMOUNT_NEG,
        P_NO_CCY,
        P_CCY_NO_AMOUNT,
        P_CCY_LOWER,
        P_LEARNT_NEG,
        P__N
    };
    for (int i = 0; i < P__N; i++) {
        pool_fill(&p, "bankA", "PJC-1", "2026-09-01", 100);
        switch (i) {
        case P_NO_BANK: p.bank[0] = '\0'; break;
        case P_BANK_UNTERM: memset(p.bank, 'b', sizeof(p.bank)); break;
        case P_ID_UNTERM: memset(p.pool_id, 'p', sizeof(p.pool_id)); break;
        case P_ASOF_UNTERM: memset(p.as_of, '1', sizeof(p.as_of)); break;
        case P_ASOF_BAD: snprintf(p.as_of, sizeof(p.as_of), "yesterday"); break;
        case P_ASOF_MONTH:
            snprintf(p.as_of, sizeof(p.as_of), "2026-13-01");
            break;
        case P_ASOF_TIME:
            snprintf(p.as_of, sizeof(p.as_of), "2026-09-01T25:00:00Z");
            break;
        case P_COUNT_NEG: p.pledged_count = -1; break;
        case P_AMOUNT_NEG: p.quota_used = -2; break;
        case P_NO_CCY: p.ccy[0] = '\0'; break;
        case P_CCY_NO_AMOUNT:
            p.pledged_total = p.deposit = p.quota_total = p.quota_used =
                p.quota_available = -1;
            break;
        case P_CCY_LOWER: snprintf(p.ccy, sizeof(p.ccy), "cny"); break;
        case P_LEARNT_NEG: p.learnt_ms = -1; break;
        }
        int rc = store_pool_put(s, &p, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  bad pool case %d: %d\n", i, rc);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    CU_ASSERT_EQUAL(store_pool_put(s, NULL, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(pools_of(s, NULL).n, 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
}

/* A version 5 store (before the pool figures) opens, keeps its data and
 * gains the new table. */
static void test_migrate_v5(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    char id[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "bankA", 1, id), 0);
    drive(s, id, ST_SUBMITTED);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 1, 0, 0, "pledged", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankA", draft_no(1), 0, 0, 7, &err),
                    0);
    struct store_voucher v;
    voucher_fill(&v, "bankA", "V1", "", "V1", 1, "T1", "held", 10, 10);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    store_close(s);
    raw_sql("DROP TABLE bill_pool;"
            "UPDATE meta SET value = 5 WHERE key = 'schema_version'");

    /* really a version 5 file now */
    CU_ASSERT_EQUAL(tables_in("WHERE name = 'bill_pool'"), 0);

    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    CU_ASSERT_EQUAL(tables_in("WHERE name = 'bill_pool'"), 1);
    /* old data kept */
    CU_ASSERT_EQUAL(state_of(s, id), ST_SUBMITTED);
    CU_ASSERT_EQUAL(n_events(s, id), 4);
    struct store_draft d;
    CU_ASSERT_EQUAL(store_draft_get(s, "bankA", draft_no(1), 0, 0, &d, &err),
                    0);
    CU_ASSERT_STRING_EQUAL(d.status, "pledged");
    CU_ASSERT_EQUAL(d.last_alert_days, 7);
    store_draft_release(&d);
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankA", "V1", &v, &err), 0);
    store_voucher_release(&v);
    /* the new table works, and survives a reopen */
    CU_ASSERT_EQUAL(pools_of(s, NULL).n, 0);
    struct store_pool p;
    pool_fill(&p, "bankA", "PJC-1", "2026-09-01", 1000);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(pool_row(s, "bankA", "PJC-1").quota_available, 25000);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_SAME);
    store_close(s);

    /* the version now written is 6 */
    CU_ASSERT_EQUAL(sql_int("SELECT value FROM meta WHERE key = "
                            "'schema_version'"),
                    6);
}

/* A version 4 store (before drafts, vouchers and financing requests)
 * opens, keeps its data and gains the new tables. */
static void test_migrate_v4(void)
{
    struct store *s = fresh();
    struct h2h_err err = {0};
    char id[STORE_ID_MAX], rid[STORE_ID_MAX];
    CU_ASSERT_EQUAL_FATAL(accept_n(s, "erp", "bankA", 1, id), 0);
    drive(s, id, ST_SUBMITTED);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 1, "UTF-8", &err), 0);
    struct store_recon_run r, got;
    recon_req(&r, "bankA", "ctl");
    CU_ASSERT_EQUAL_FATAL(store_recon_begin(s, &r, rid, &err), 0);
    CU_ASSERT_EQUAL(store_recon_end(s, rid, "ok", NULL, "/o", "n=1", 2, &err),
                    0);
    CU_ASSERT_EQUAL(store_job_mark(s, "bankA", "bills", 4321, &err), 0);
    store_close(s);
    raw_sql("DROP TABLE draft; DROP TABLE voucher; DROP TABLE scf_request;"
            "DROP TABLE bill_pool;"
            "UPDATE meta SET value = 4 WHERE key = 'schema_version'");

    /* really a version 4 file now */
    CU_ASSERT_EQUAL(tables_in("WHERE name IN ('draft', 'voucher', "
                              "'scf_request', 'draft_maturity', "
                              "'voucher_tree', 'scf_request_msg')"),
                    0);

    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    /* old data kept */
    CU_ASSERT_EQUAL(state_of(s, id), ST_SUBMITTED);
    CU_ASSERT_EQUAL(n_events(s, id), 4);
    struct ledger_rows rows = {0};
    CU_ASSERT_EQUAL(store_ledger_list(s, NULL, ledger_cb, &rows, &err), 0);
    CU_ASSERT_EQUAL(rows.n, 1);
    CU_ASSERT_EQUAL(store_recon_get(s, rid, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.result, "ok");
    CU_ASSERT_EQUAL(got.booked, 2);
    struct store_job j;
    CU_ASSERT_EQUAL(store_job_get(s, "bankA", "bills", &j, &err), 0);
    CU_ASSERT_EQUAL(j.sched_ms, 4321);
    /* new tables work */
    CU_ASSERT_EQUAL(draft_count(s), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 1, 0, 0, "held", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(store_draft_alerted(s, "bankA", draft_no(1), 0, 0, 7, &err),
                    0);
    struct store_voucher v;
    voucher_fill(&v, "bankA", "V1", "", "V1", 1, "T1", "held", 10, 10);
    CU_ASSERT_EQUAL(store_voucher_put(s, &v, &err), 0);
    struct store_financing f;
    fin_fill(&f, "bankA", "REQ-1", "receivable", "submitted", 0);
    snprintf(f.msg_id, sizeof(f.msg_id), "%s", id);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    s = reopen(s);
    CU_ASSERT_EQUAL(draft_count(s), 1);
    CU_ASSERT_EQUAL(store_voucher_get(s, "bankA", "V1", &v, &err), 0);
    store_voucher_release(&v);
    CU_ASSERT_EQUAL(store_financing_get(s, "bankA", "REQ-1", &f, &err), 0);
    CU_ASSERT_STRING_EQUAL(f.msg_id, id);
    store_financing_release(&f);
    store_close(s);

    /* the version now written is the current one, 6 */
    CU_ASSERT_EQUAL(sql_int("SELECT value FROM meta WHERE key = "
                            "'schema_version'"),
                    6);
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
    raw_sql("DROP TABLE ledger; DROP TABLE recon_run; DROP TABLE draft;"
            "DROP TABLE voucher; DROP TABLE scf_request; DROP TABLE bill_pool;"
            "UPDATE meta SET value = 3 WHERE key = 'schema_version'");

    /* really a version 3 file now */
    CU_ASSERT_EQUAL(tables_in("WHERE name IN ('ledger', "
                              "'recon_run', 'ledger_bank', "
                              "'draft', 'voucher', "
                              "'scf_request')"),
                    0);

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
    CU_ASSERT_EQUAL(draft_count(s), 0);
    CU_ASSERT_EQUAL(put_draft(s, "bankA", 1, 0, 0, "held", "2026-12-01"), 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);

    /* the version now written is the current one, 6 */
    CU_ASSERT_EQUAL(sql_int("SELECT value FROM meta WHERE key = "
                            "'schema_version'"),
                    6);
    CU_ASSERT_EQUAL(STORE_SCHEMA_VERSION, 6);

    /* and a version 2 store (before the scheduler tables) too */
    raw_sql("DROP TABLE ledger; DROP TABLE recon_run; DROP TABLE sched_job;"
            "DROP TABLE msg_cutoff; DROP TABLE draft; DROP TABLE voucher;"
            "DROP TABLE scf_request; DROP TABLE bill_pool;"
            "UPDATE meta SET value = 2 WHERE key = 'schema_version'");
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db_path, &s, &err), 0);
    CU_ASSERT_EQUAL(state_of(s, id), ST_SUBMITTED);
    CU_ASSERT_EQUAL(draft_count(s), 0); /* the draft went with its table */
    struct store_financing f;
    fin_fill(&f, "bankA", "REQ-1", "receivable", "submitted", 0);
    snprintf(f.msg_id, sizeof(f.msg_id), "%s", id);
    CU_ASSERT_EQUAL(store_financing_put(s, &f, &err), 0);
    CU_ASSERT_EQUAL(store_job_mark(s, "bankA", "statements", 1, &err), 0);
    CU_ASSERT_EQUAL(ledger_add_n(s, "bankA", 5, NULL, &err), 0);
    CU_ASSERT_EQUAL(store_recon_begin(s, &r, rid, &err), 0);
    struct store_pool p;
    pool_fill(&p, "bankA", "P1", "2026-09-01", 1000);
    CU_ASSERT_EQUAL(store_pool_put(s, &p, &err), STORE_POOL_STORED);
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
        {"drafts: put, get, replace, delete", test_draft_put_get},
        {"drafts: list filters and order", test_draft_list},
        {"drafts: split in a group transaction", test_draft_split},
        {"drafts: maturity alert memory", test_draft_alerted},
        {"drafts: bad input refused", test_draft_bad_input},
        {"credit vouchers", test_vouchers},
        {"financing requests", test_financing},
        {"pool figures: put, list, replace rules", test_pool_put_list},
        {"pool figures: bad input refused", test_pool_bad_input},
        {"migration from version 5", test_migrate_v5},
        {"migration from version 4", test_migrate_v4},
        {"migration from version 3", test_migrate_v3},
        {NULL, NULL},
    };
    int rc = tu_main("store", cases);
    if (cur_dir[0])
        tu_rmtree(cur_dir);
    return rc;
}
