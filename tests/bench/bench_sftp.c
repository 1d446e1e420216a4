/*
 * bench_sftp.c - drives the asynchronous SFTP transport (adapters/transport/
 * sftp.h) for bench_sftp.py, which times it against OpenSSH's sftp client.
 *
 *   bench_sftp [conn] [-F] upload LOCAL REMOTE
 *   bench_sftp [conn] download REMOTE LOCAL
 *   bench_sftp [conn] connect
 *   bench_sftp [conn] [-F] many LOCALDIR N REMOTEDIR
 *   bench_sftp [conn] [-s] [-m FILES] [-r ROUNDS] poll-many CONFIG LOCALDIR
 *
 * conn: -H host -P port -u user -k private_key -K known_hosts, each
 * defaulting to $H2H_SFTP_HOST / _PORT / _USER / _KEY / _KNOWN_HOSTS
 * (host 127.0.0.1, port 22, user $USER).  -F uploads without
 * fsync@openssh.com (SFTP_UPLOAD_NO_FSYNC).
 *
 * upload / download: one session, one operation.  connect: one session
 * that stats "." and closes, the fixed cost of a session (the script
 * subtracts it to compare transfers alone).  many: the first N files
 * of LOCALDIR (by name) queued at once on ONE session, which runs them in
 * order, as a burst of files to one bank does.
 *
 * poll-many: CONFIG lists banks, one "NAME PORT REMOTEDIR" a line (# starts
 * a comment; host, user and keys come from conn).  Every bank gets its own
 * pool (one session), as the daemon gives every bank its own; a round lists
 * REMOTEDIR and downloads up to FILES (3) of the files listed into
 * LOCALDIR/<round>/<NAME>/.  Rounds are polls: round 1 connects, later
 * rounds reuse the open sessions.  Default: every bank polls at once on one
 * loop, round by round; -s (serial): one bank at a time, so that each
 * bank's time is its own (the baseline).
 *
 * Output: "key=value" lines on stdout for the script; failures on stderr.
 * Exit status 0 when every operation succeeded, 1 when one failed, 2 on
 * bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <uv.h>

#include "sftp.h"

/* ---- common ----------------------------------------------------------- */

static uv_loop_t loop;
static struct sftp_opts opts;
static unsigned upload_flags;

static double now_s(void)
{
    return (double)uv_hrtime() / 1e9;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_sftp [-H host] [-P port] [-u user] [-k key] "
            "[-K known_hosts] [-F]\n"
            "         upload LOCAL REMOTE | download REMOTE LOCAL | connect |\n"
            "         many LOCALDIR N REMOTEDIR |\n"
            "         [-s] [-m FILES] [-r ROUNDS] poll-many CONFIG LOCALDIR\n");
    exit(2);
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* Split PATH into a folder (copied into dir) and its last component. */
static const char *split_path(const char *path, char *dir, size_t dirsz)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dirsz, ".");
        return path;
    }
    size_t n = (size_t)(slash - path);
    snprintf(dir, dirsz, "%.*s", n ? (int)n : 1, n ? path : "/");
    return slash + 1;
}

static int closed_count;

static void closed_cb(void *data)
{
    (void)data;
    closed_count++;
}

/* Run the loop until *flag reaches want. */
static void run_until(const int *flag, int want)
{
    while (*flag < want)
        uv_run(&loop, UV_RUN_ONCE);
}

static void close_loop(void)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "bench_sftp: handles left open on the loop\n");
}

static struct sftp_session *session_open(void)
{
    struct sftp_session *s = NULL;
    struct h2h_err err;
    if (sftp_session_new(&loop, &opts, &s, &err) < 0) {
        fprintf(stderr, "bench_sftp: session: %s\n", err.msg);
        exit(1);
    }
    return s;
}

static void session_done(struct sftp_session *s)
{
    int want = closed_count + 1;
    sftp_session_close(s, closed_cb, NULL);
    run_until(&closed_count, want);
}

/* ---- upload / download ------------------------------------------------ */

struct one {
    int done;
    int ok;
    uint64_t size;
    double t_end;
};

static void one_cb(const struct sftp_result *r, void *data)
{
    struct one *o = data;
    o->done = 1;
    o->t_end = now_s();
    o->ok = r->outcome == H2H_OUT_OK;
    o->size = r->size;
    if (!o->ok)
        fprintf(stderr, "bench_sftp: %s\n", r->err.msg);
}

static int cmd_transfer(int upload, const char *from, const char *to)
{
    /* the target names the folder and the name in both directions */
    char dir[4096];
    const char *name = split_path(to, dir, sizeof(dir));
    struct one o = {0};
    struct h2h_err err;
    double t0 = now_s();
    struct sftp_session *s = session_open();
    int rc =
        upload ? sftp_upload(s, from, dir, name, upload_flags, one_cb, &o, &err)
               : sftp_download(s, from, dir, name, one_cb, &o, &err);
    if (rc < 0) {
        fprintf(stderr, "bench_sftp: %s\n", err.msg);
        o.done = 1;
    }
    run_until(&o.done, 1);
    session_done(s);
    double t1 = now_s();
    close_loop();
    if (!o.ok)
        return 1;
    printf("op=%s\nbytes=%llu\nop_seconds=%.6f\ntotal_seconds=%.6f\n",
           upload ? "upload" : "download", (unsigned long long)o.size,
           o.t_end - t0, t1 - t0);
    return 0;
}

static int cmd_connect(void)
{
    struct one o = {0};
    struct h2h_err err;
    double t0 = now_s();
    struct sftp_session *s = session_open();
    if (sftp_stat(s, ".", one_cb, &o, &err) < 0) {
        fprintf(stderr, "bench_sftp: %s\n", err.msg);
        o.done = 1;
    }
    run_until(&o.done, 1);
    session_done(s);
    double t1 = now_s();
    close_loop();
    if (!o.ok)
        return 1;
    printf("op=connect\nop_seconds=%.6f\ntotal_seconds=%.6f\n", o.t_end - t0,
           t1 - t0);
    return 0;
}

/* ---- many ------------------------------------------------------------- */

struct many {
    int done;
    int failed;
    uint64_t bytes;
};

static void many_cb(const struct sftp_result *r, void *data)
{
    struct many *m = data;
    m->done++;
    if (r->outcome != H2H_OUT_OK) {
        if (m->failed++ < 5)
            fprintf(stderr, "bench_sftp: %s\n", r->err.msg);
    } else {
        m->bytes += r->size;
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_many(const char *ldir, int n, const char *rdir)
{
    DIR *d = opendir(ldir);
    if (!d) {
        fprintf(stderr, "bench_sftp: %s: %s\n", ldir, strerror(errno));
        return 1;
    }
    size_t cap = 64, cnt = 0;
    char **names = malloc(cap * sizeof(*names));
    struct dirent *e;
    while (names && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (cnt == cap)
            names = realloc(names, (cap *= 2) * sizeof(*names));
        if (names)
            names[cnt++] = strdup(e->d_name);
    }
    closedir(d);
    if (!names || (int)cnt < n) {
        fprintf(stderr, "bench_sftp: %s has %zu files, %d wanted\n", ldir, cnt,
                n);
        return 1;
    }
    qsort(names, cnt, sizeof(*names), name_cmp);

    struct many m = {0};
    double t0 = now_s();
    struct sftp_session *s = session_open();
    int queued = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct h2h_err err;
        snprintf(path, sizeof(path), "%s/%s", ldir, names[i]);
        /* all queued now: the session runs them one after another */
        if (sftp_upload(s, path, rdir, names[i], upload_flags, many_cb, &m,
                        &err) < 0) {
            fprintf(stderr, "bench_sftp: %s\n", err.msg);
            m.failed++;
            continue;
        }
        queued++;
    }
    run_until(&m.done, queued);
    double t_ops = now_s();
    session_done(s);
    double t1 = now_s();
    close_loop();
    for (size_t i = 0; i < cnt; i++)
        free(names[i]);
    free(names);
    printf("op=many\nfiles=%d\nfailed=%d\nbytes=%llu\nop_seconds=%.6f\n"
           "total_seconds=%.6f\n",
           n, m.failed, (unsigned long long)m.bytes, t_ops - t0, t1 - t0);
    return m.failed ? 1 : 0;
}

/* ---- poll-many -------------------------------------------------------- */

struct bank {
    char name[64];
    unsigned port;
    char rdir[1024];
    struct sftp_pool *pool;
    int pending; /* downloads in flight this round */
    int busy;
    int files;
    uint64_t bytes;
    double t0;
    double *secs; /* per round */
    int failed;
};

static struct {
    struct bank *b;
    int n;
    int rounds;
    int max_files;
    int serial;
    const char *ldir;
    int round; /* current round, 0-based */
    int busy;  /* banks not done with this round */
    int failed;
} pm;

static void bank_done(struct bank *b)
{
    b->secs[pm.round] = now_s() - b->t0;
    b->busy = 0;
    pm.busy--;
    printf("bank=%s round=%d seconds=%.6f files=%d bytes=%llu ok=%d\n", b->name,
           pm.round + 1, b->secs[pm.round], b->files,
           (unsigned long long)b->bytes, !b->failed);
}

static void bank_fail(struct bank *b, const char *msg)
{
    fprintf(stderr, "bench_sftp: bank %s: %s\n", b->name, msg);
    if (!b->failed++)
        pm.failed++;
}

static void dl_cb(const struct sftp_result *r, void *data)
{
    struct bank *b = data;
    if (r->outcome != H2H_OUT_OK)
        bank_fail(b, r->err.msg);
    else {
        b->files++;
        b->bytes += r->size;
    }
    if (--b->pending == 0)
        bank_done(b);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct sftp_entry *const *)a)->name,
                  (*(const struct sftp_entry *const *)b)->name);
}

static void list_cb(const struct sftp_result *r, void *data)
{
    struct bank *b = data;
    if (r->outcome != H2H_OUT_OK) {
        bank_fail(b, r->err.msg);
        bank_done(b);
        return;
    }
    char ldir[4096];
    snprintf(ldir, sizeof(ldir), "%s/%d/%s", pm.ldir, pm.round + 1, b->name);
    /* the first names in sorted order: the listing order is the server's */
    const struct sftp_entry **ents = malloc((r->n_entries + 1) * sizeof(*ents));
    if (!ents) {
        bank_fail(b, "out of memory");
        bank_done(b);
        return;
    }
    for (size_t i = 0; i < r->n_entries; i++)
        ents[i] = &r->entries[i];
    qsort(ents, r->n_entries, sizeof(*ents), entry_cmp);
    for (size_t i = 0; i < r->n_entries && (int)i < pm.max_files; i++) {
        char remote[2048];
        struct h2h_err err;
        snprintf(remote, sizeof(remote), "%s/%s", b->rdir, ents[i]->name);
        if (sftp_pool_download(b->pool, remote, ldir, ents[i]->name, dl_cb, b,
                               &err) < 0)
            bank_fail(b, err.msg);
        else
            b->pending++;
    }
    free(ents);
    if (b->pending == 0)
        bank_done(b);
}

static int mkdirs(const char *path)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static void bank_start(struct bank *b)
{
    char ldir[4096];
    struct h2h_err err;
    snprintf(ldir, sizeof(ldir), "%s/%d/%s", pm.ldir, pm.round + 1, b->name);
    b->busy = 1;
    pm.busy++;
    b->files = 0;
    b->bytes = 0;
    b->t0 = now_s();
    if (mkdirs(ldir) < 0) {
        bank_fail(b, strerror(errno));
        bank_done(b);
        return;
    }
    if (!b->pool) {
        struct sftp_opts o = opts;
        o.port = b->port;
        /* idle timeout longer than a run: later rounds reuse the session */
        if (sftp_pool_new(&loop, &o, 1, 600000, &b->pool, &err) < 0) {
            bank_fail(b, err.msg);
            bank_done(b);
            return;
        }
    }
    if (sftp_pool_list(b->pool, b->rdir, list_cb, b, &err) < 0) {
        bank_fail(b, err.msg);
        bank_done(b);
    }
}

static int read_config(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_sftp: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[2048];
    int cap = 0;
    while (fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char name[64], rdir[1024];
        unsigned port;
        if (sscanf(line, "%63s %u %1023s", name, &port, rdir) != 3)
            continue;
        if (pm.n == cap) {
            cap = cap ? cap * 2 : 64;
            pm.b = realloc(pm.b, (size_t)cap * sizeof(*pm.b));
            if (!pm.b) {
                fclose(f);
                return -1;
            }
        }
        struct bank *b = &pm.b[pm.n++];
        memset(b, 0, sizeof(*b));
        snprintf(b->name, sizeof(b->name), "%s", name);
        snprintf(b->rdir, sizeof(b->rdir), "%s", rdir);
        b->port = port;
        b->secs = calloc((size_t)pm.rounds, sizeof(double));
        if (!b->secs) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return pm.n ? 0 : -1;
}

static void close_pools(void)
{
    int want = closed_count;
    for (int i = 0; i < pm.n; i++)
        if (pm.b[i].pool) {
            sftp_pool_close(pm.b[i].pool, closed_cb, NULL);
            pm.b[i].pool = NULL;
            want++;
        }
    run_until(&closed_count, want);
}

static void round_summary(int r, double wall)
{
    double sum = 0, slow = 0;
    const char *slowest = "";
    for (int i = 0; i < pm.n; i++) {
        sum += pm.b[i].secs[r];
        if (pm.b[i].secs[r] > slow) {
            slow = pm.b[i].secs[r];
            slowest = pm.b[i].name;
        }
    }
    printf("round=%d mode=%s banks=%d seconds=%.6f sum=%.6f slowest=%.6f "
           "slowest_bank=%s\n",
           r + 1, pm.serial ? "serial" : "concurrent", pm.n, wall, sum, slow,
           slowest);
}

static int cmd_poll(const char *config, const char *ldir)
{
    pm.ldir = ldir;
    if (read_config(config) < 0) {
        fprintf(stderr, "bench_sftp: no banks in %s\n", config);
        return 2;
    }
    double *wall = calloc((size_t)pm.rounds, sizeof(double));
    if (!wall)
        return 1;
    if (pm.serial) {
        /* one bank at a time: its rounds, then its pool closes (so that
         * at most one connection is open, as if it were the only bank) */
        for (int i = 0; i < pm.n; i++) {
            for (pm.round = 0; pm.round < pm.rounds; pm.round++) {
                double t0 = now_s();
                bank_start(&pm.b[i]);
                while (pm.busy)
                    uv_run(&loop, UV_RUN_ONCE);
                wall[pm.round] += now_s() - t0;
            }
            int want = closed_count + 1;
            if (pm.b[i].pool) {
                sftp_pool_close(pm.b[i].pool, closed_cb, NULL);
                pm.b[i].pool = NULL;
                run_until(&closed_count, want);
            }
        }
    } else {
        for (pm.round = 0; pm.round < pm.rounds; pm.round++) {
            double t0 = now_s();
            for (int i = 0; i < pm.n; i++)
                bank_start(&pm.b[i]);
            while (pm.busy)
                uv_run(&loop, UV_RUN_ONCE);
            wall[pm.round] = now_s() - t0;
        }
    }
    for (int r = 0; r < pm.rounds; r++)
        round_summary(r, wall[r]);
    close_pools();
    close_loop();
    for (int i = 0; i < pm.n; i++)
        free(pm.b[i].secs);
    free(pm.b);
    free(wall);
    return pm.failed ? 1 : 0;
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    opts.host = env_or("H2H_SFTP_HOST", "127.0.0.1");
    opts.port = (unsigned)atoi(env_or("H2H_SFTP_PORT", "22"));
    opts.user = env_or("H2H_SFTP_USER", getenv("USER"));
    opts.private_key = env_or("H2H_SFTP_KEY", NULL);
    opts.known_hosts = env_or("H2H_SFTP_KNOWN_HOSTS", NULL);
    pm.rounds = 2;
    pm.max_files = 3;
    int c;
    while ((c = getopt(argc, argv, "+H:P:u:k:K:Fsm:r:")) != -1) {
        switch (c) {
        case 'H': opts.host = optarg; break;
        case 'P': opts.port = (unsigned)atoi(optarg); break;
        case 'u': opts.user = optarg; break;
        case 'k': opts.private_key = optarg; break;
        case 'K': opts.known_hosts = optarg; break;
        case 'F': upload_flags |= SFTP_UPLOAD_NO_FSYNC; break;
        case 's': pm.serial = 1; break;
        case 'm': pm.max_files = atoi(optarg); break;
        case 'r': pm.rounds = atoi(optarg); break;
        default: usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1 || pm.rounds < 1 || pm.max_files < 0)
        usage();
    /* pipes to the script: one line at a time */
    setvbuf(stdout, NULL, _IOLBF, 0);
    uv_loop_init(&loop);
    const char *cmd = argv[0];
    if (!strcmp(cmd, "upload") && argc == 3)
        return cmd_transfer(1, argv[1], argv[2]);
    if (!strcmp(cmd, "download") && argc == 3)
        return cmd_transfer(0, argv[1], argv[2]);
    if (!strcmp(cmd, "connect") && argc == 1)
        return cmd_connect();
    if (!strcmp(cmd, "many") && argc == 4)
        return cmd_many(argv[1], atoi(argv[2]), argv[3]);
    if (!strcmp(cmd, "poll-many") && argc == 3)
        return cmd_poll(argv[1], argv[2]);
    usage();
    return 2;
}
