/*
 * bench_recon.c - the reconciliation engine (daemon/recon.h) on generated
 * data: N payments x N entries for N = 100,000 and 1,000,000 (or the sizes
 * given), each size in its own child process so that its peak RSS
 * (wait4's ru_maxrss) is its own.
 *
 *     bench_recon [-s SEED] [-r REPEAT] [-o] [-d DIR] [N ...]
 *
 * -o also times writing every output (to /dev/null); -d DIR writes them
 * into DIR/N/ for a look (untimed).
 *
 * Data (deterministic for a seed; payments and entries both in date
 * order, as a store and a statement deliver them): per 1000 payments
 * about 600 found by an exact key (EndToEndId 450, UETR 60, serial 50,
 * bank reference 40), 200 by a remittance reference (RF or invoice number
 * in text), 100 by amount + name (+ account, date shifted 0..2 days),
 * 50 in payroll batches of 20 booked as one entry (half with the batch id,
 * half by amount and size), 20 never booked, 10 split into two entries,
 * 10 booked with another amount or outside the window, 5 returned, 5
 * reversed; 0.5 % of entries arrive twice; unknown entries and incoming
 * credits (half for 1 % expected receipts) fill the entries up to N.
 *
 * Printed per size: the generator alone (a dry pass over the same data:
 * the floor of the ingest), the ingest (generator + recon_add_*),
 * recon_run, and with -o every output written to /dev/null; CPU and
 * kernel time, page faults; peak RSS; the time of each phase of the run;
 * then the ratios of the largest size to the smallest.  Targets (issue
 * 6): the run, and ingest + run, grow at most 12x from 100k to 1M
 * (linear: 10x), peak RSS < 1 GB at 1M x 1M.  Times are the best of
 * REPEAT runs (-r, 3), the sizes taken in turn; ratios are the medians of
 * the rounds' ratios.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "recon.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* CPU seconds of this process (user + system): steadier than the wall
 * clock on a machine others use at the same time. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Kernel time and page faults so far: fresh memory costs a fault and a
 * page clearing on first touch, which a small run recycles from the
 * heap and a large one cannot. */
static void kernel(double *sys, long *faults)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    *faults = ru.ru_minflt;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const w1[] = {
    "Acme",   "Globex", "Initech", "Umbrella", "Stark",  "Wayne",  "Tyrell",
    "Cyber",  "Nova",   "Orion",   "Apex",     "Vertex", "Summit", "Delta",
    "Sigma",  "Omega",  "Polar",   "Solar",    "Lunar",  "Terra",  "Aqua",
    "Pyro",   "Metro",  "Urban",   "Rural",    "Alpine", "Nordic", "Baltic",
    "Iberia", "Gallic", "Saxon",   "Celtic",
};
static const char *const w2[] = {
    "Trading",   "Logistics", "Systems",  "Foods",     "Motors",   "Textiles",
    "Chemicals", "Energy",    "Media",    "Software",  "Hardware", "Pharma",
    "Steel",     "Paper",     "Plastics", "Furniture", "Tools",    "Optics",
    "Marine",    "Aviation",  "Rail",     "Mining",    "Farming",  "Dairy",
    "Brewing",   "Printing",  "Security", "Cleaning",  "Catering", "Travel",
    "Finance",   "Insurance",
};
static const char *const legal[] = {"GmbH", "AG", "Ltd", "SA",
                                    "Inc.", "BV", "KG",  "Co., Ltd."};

/* Counterparty k: name and account, the same every time. */
static void cpty(uint32_t k, char *name, size_t nsz, char *acct, size_t asz)
{
    snprintf(name, nsz, "%s %s %u %s", w1[k % 32], w2[(k / 32) % 32], k / 1024,
             legal[k % 8]);
    snprintf(acct, asz, "DE%02u%018u", k % 97, k * 2654435761u);
}

static void date_str(int day, char out[11])
{
    /* 2026-01-01 + day, for day < 365 * 4: enough for the bench */
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 2026, m = 0;
    for (;;) {
        int yd = (y % 4 == 0) ? 366 : 365;
        if (day < yd)
            break;
        day -= yd;
        y++;
    }
    for (;;) {
        int md = mdays[m] + (m == 1 && y % 4 == 0);
        if (day < md)
            break;
        day -= md;
        m++;
    }
    char tmp[48]; /* roomy enough for any int, so no truncation to fear */
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m + 1, day + 1);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

struct gen {
    struct recon *r;
    uint32_t n, n_entries, stmt_seq;
    char accts[20][40];
    /* the open payroll batch */
    uint32_t batch_no, batch_members;
    int64_t batch_sum;
    int batch_day, batch_acct;
};

static void die(const char *what, const struct h2h_err *err)
{
    fprintf(stderr, "bench_recon: %s: %s\n", what, err->msg);
    exit(1);
}

/* The engine's input calls; none in a dry pass (g->r NULL), which times
 * the generator alone. */
static int add_e(struct gen *g, const struct recon_entry *e,
                 struct h2h_err *err)
{
    return g->r ? recon_add_entry(g->r, e, err) : 0;
}

static int add_p(struct gen *g, const struct recon_payment *p,
                 struct h2h_err *err)
{
    return g->r ? recon_add_payment(g->r, p, err) : 0;
}

static int add_x(struct gen *g, const struct recon_expected *x,
                 struct h2h_err *err)
{
    return g->r ? recon_add_expected(g->r, x, err) : 0;
}

static void add_entry(struct gen *g, struct recon_entry *e, int maybe_dup)
{
    struct h2h_err err = {0};
    char id[32];
    snprintf(id, sizeof(id), "ST%07u/%u", g->stmt_seq / 500, g->stmt_seq % 500);
    g->stmt_seq++;
    e->id = id;
    if (!e->ccy)
        e->ccy = "EUR";
    if (add_e(g, e, &err) < 0)
        die("add entry", &err);
    g->n_entries++;
    if (maybe_dup && rnd() % 1000 < 5) {
        /* the same booking again, in another statement */
        snprintf(id, sizeof(id), "ST%07u/D%u", g->stmt_seq / 500,
                 g->stmt_seq % 500);
        g->stmt_seq++;
        if (add_e(g, e, &err) < 0)
            die("add entry", &err);
        g->n_entries++;
    }
}

static void close_batch(struct gen *g)
{
    if (!g->batch_members)
        return;
    char bid[24], day[11];
    snprintf(bid, sizeof(bid), "PAYROLL-%06u", g->batch_no);
    date_str(g->batch_day, day);
    struct recon_entry e = {
        .account = g->accts[g->batch_acct],
        .book_date = day,
        .amount = g->batch_sum,
        .n_details = g->batch_members,
        .batch_ref = g->batch_no % 2 ? bid : NULL,
        .rmt_text = "SALARIES",
    };
    add_entry(g, &e, 0);
    g->batch_no++;
    g->batch_members = 0;
    g->batch_sum = 0;
}

static void one_payment(struct gen *g, uint32_t i)
{
    struct h2h_err err = {0};
    char id[24], e2e[24], uetr[40], serial[24], bref[24], ref[32];
    char text[64], etext[64], name[64], acct[32], ename[64], day[11];
    char bday[11], bid[24];
    uint32_t cls = (uint32_t)(rnd() % 1000);
    int d = (int)((uint64_t)i * 360 / g->n);
    uint32_t k = (uint32_t)(rnd() % (g->n / 10 + 1000));
    int a = (int)(rnd() % 20);
    int64_t amount = (int64_t)(rnd() % 5000000) + 100;
    if (rnd() % 20 == 0)
        amount = (int64_t)(rnd() % 100 + 1) * 10000; /* round amounts */
    cpty(k, name, sizeof(name), acct, sizeof(acct));
    snprintf(id, sizeof(id), "M%07u/%u", i / 100, i % 100);
    snprintf(e2e, sizeof(e2e), "E2E%010u", i);
    date_str(d, day);
    date_str(d + 1, bday);

    struct recon_payment p = {
        .id = id,
        .bank = a < 10 ? "bank-a" : "bank-b",
        .account = g->accts[a],
        .end_to_end_id = e2e,
        .amount = amount,
        .ccy = "EUR",
        .exec_date = day,
        .cpty_name = name,
        .cpty_account = acct,
        .state = "submitted",
    };
    struct recon_entry e = {
        .account = g->accts[a],
        .book_date = day,
        .value_date = day,
        .amount = amount,
        .cpty_name = name,
        .cpty_account = acct,
        .n_details = 1,
    };
    if (cls < 600) { /* exact keys */
        if (cls < 450) {
            e.end_to_end_id = e2e;
        } else if (cls < 510) {
            uint64_t u = rnd();
            snprintf(uetr, sizeof(uetr), "%08x-%04x-4%03x-8%03x-%012" PRIx64,
                     (unsigned)(u >> 32), (unsigned)(u >> 16) & 0xffff,
                     (unsigned)u & 0xfff, i & 0xfff,
                     (uint64_t)i * 2654435761u & 0xffffffffffff);
            p.uetr = e.uetr = uetr;
        } else if (cls < 560) {
            snprintf(serial, sizeof(serial), "SN%09u", i);
            p.serial = e.cust_ref = serial;
        } else {
            snprintf(bref, sizeof(bref), "BR%010u", i * 7);
            p.bank_ref = e.acct_svcr_ref = bref;
        }
        e.book_date = rnd() % 4 ? day : bday;
        add_entry(g, &e, 1);
    } else if (cls < 800) { /* remittance reference */
        p.end_to_end_id = "NOTPROVIDED";
        if (cls < 700) {
            snprintf(ref, sizeof(ref), "RF%02u%08u", i % 89 + 10, i);
            p.rmt_ref = ref;
            snprintf(etext, sizeof(etext), "PAYMENT %s THANK YOU", ref);
        } else {
            snprintf(text, sizeof(text), "Invoice INV-%08u of %s", i, day);
            p.rmt_text = text;
            snprintf(etext, sizeof(etext), "inv%08u", i);
        }
        e.rmt_text = etext;
        add_entry(g, &e, 1);
    } else if (cls < 900) { /* amount + name */
        p.end_to_end_id = NULL;
        snprintf(ename, sizeof(ename), "%s %s %u", w1[k % 32],
                 w2[(k / 32) % 32], k / 1024);
        for (char *c = ename; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 32);
        e.cpty_name = ename;
        e.cpty_account = rnd() % 2 ? acct : NULL;
        date_str(d + (int)(rnd() % 3), bday);
        e.book_date = bday;
        add_entry(g, &e, 1);
    } else if (cls < 950) { /* payroll */
        if (!g->batch_members) {
            g->batch_day = d;
            g->batch_acct = a;
        }
        snprintf(bid, sizeof(bid), "PAYROLL-%06u", g->batch_no);
        p.batch_id = bid;
        p.account = g->accts[g->batch_acct];
        date_str(g->batch_day, day);
        p.exec_date = day;
        p.end_to_end_id = "NOTPROVIDED";
        p.amount = amount / 10 + 100000;
        g->batch_sum += p.amount;
        if (++g->batch_members == 20) {
            if (add_p(g, &p, &err) < 0)
                die("add payment", &err);
            close_batch(g);
            return;
        }
    } else if (cls < 970) { /* never booked */
        p.end_to_end_id = e2e;
    } else if (cls < 980) { /* split in two */
        e.end_to_end_id = e2e;
        e.amount = amount / 3;
        add_entry(g, &e, 0);
        e.amount = amount - amount / 3;
        e.book_date = bday;
        add_entry(g, &e, 0);
    } else if (cls < 990) { /* other amount, or late */
        e.end_to_end_id = e2e;
        if (cls % 2) {
            e.amount = amount - 150;
        } else {
            date_str(d + 9, bday);
            e.book_date = bday;
        }
        add_entry(g, &e, 0);
    } else if (cls < 995) { /* booked, then returned */
        e.end_to_end_id = e2e;
        add_entry(g, &e, 0);
        e.credit = 1;
        e.return_reason = "AC04";
        date_str(d + 2, bday);
        e.book_date = bday;
        add_entry(g, &e, 0);
    } else { /* booked, then reversed */
        snprintf(bref, sizeof(bref), "AS%010u", i);
        e.end_to_end_id = e2e;
        e.acct_svcr_ref = bref;
        add_entry(g, &e, 0);
        struct recon_entry v = {
            .account = e.account,
            .book_date = bday,
            .amount = amount,
            .credit = 1,
            .reversal = 1,
            .acct_svcr_ref = bref,
        };
        add_entry(g, &v, 0);
    }
    if (add_p(g, &p, &err) < 0)
        die("add payment", &err);
}

/* Unknown debits (fees) and incoming credits, half of them for an
 * expected receipt, until there are n entries. */
static void fill(struct gen *g)
{
    struct h2h_err err = {0};
    uint32_t j = 0;
    while (g->n_entries < g->n) {
        char day[11], ref[32], text[64], name[64], acct[32];
        int d = (int)((uint64_t)g->n_entries * 360 / g->n);
        uint32_t k = (uint32_t)(rnd() % 5000);
        int64_t amount = (int64_t)(rnd() % 2000000) + 100;
        date_str(d, day);
        cpty(k, name, sizeof(name), acct, sizeof(acct));
        struct recon_entry e = {
            .account = g->accts[j % 20],
            .book_date = day,
            .amount = amount,
            .cpty_name = name,
            .cpty_account = acct,
        };
        if (j % 2) {
            e.credit = 1;
            snprintf(ref, sizeof(ref), "INV-R%08u", j);
            snprintf(text, sizeof(text), "Your invoice %s", ref);
            e.rmt_text = text;
            if (j % 4 == 1 && j / 4 < g->n / 100) {
                struct recon_expected x = {
                    .reference = ref,
                    .payer = name,
                    .amount = amount,
                    .ccy = "EUR",
                    .due_date = day,
                };
                if (add_x(g, &x, &err) < 0)
                    die("add expected", &err);
            }
        } else {
            e.rmt_text = "ACCOUNT FEES";
            e.cpty_name = NULL;
            e.cpty_account = NULL;
        }
        add_entry(g, &e, 0);
        j++;
    }
}

#define N_PHASES 5

static const char *const phase_names[N_PHASES] = {
    "prepare", "keys", "reference", "fuzzy", "classify",
};

#define MAX_REPEAT 64

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct result {
    double gen, ingest, run, write; /* ingest includes gen */
    double cpu_ingest, cpu_run, sys_run;
    long faults_run;
    double phase[N_PHASES]; /* seconds spent in each phase of the run */
    uint64_t pairs, exceptions;
    char summary[1024];
};

/* The progress callback at the end of each phase: its time. */
struct clock {
    double last;
    double *phase;
};

static int phase_end(void *ctx, const char *phase, uint64_t done,
                     uint64_t total)
{
    struct clock *c = ctx;
    if (done != total)
        return 0;
    double t = now();
    for (int k = 0; k < N_PHASES; k++)
        if (!strcmp(phase, phase_names[k]))
            c->phase[k] += t - c->last;
    c->last = t;
    return 0;
}

static const char *out_dir; /* -d */

static void measure(uint32_t n, uint64_t seed, int outputs, struct result *res)
{
    struct clock clk = {.phase = res->phase};
    struct h2h_err err = {0};
    struct recon_opts o;
    recon_opts_init(&o);
    o.as_of = "2027-01-10";
    o.progress = phase_end;
    o.progress_ctx = &clk;
    o.progress_every = UINT64_MAX; /* only the end of each phase */
    /* a dry pass first: the same data, no engine, for the generator's
     * own share of the ingest time */
    struct gen g = {.n = n};
    for (int a = 0; a < 20; a++)
        snprintf(g.accts[a], sizeof(g.accts[a]), "DE%02d370400440532%06d",
                 a + 10, a * 7919);
    rng_state = seed;
    double d0 = now();
    for (uint32_t i = 0; i < n; i++)
        one_payment(&g, i);
    close_batch(&g);
    fill(&g);
    res->gen = now() - d0;
    g.n_entries = g.stmt_seq = g.batch_no = g.batch_members = 0;
    g.batch_sum = 0;
    rng_state = seed;
    double t0 = now(), c0 = cpu();
    g.r = recon_new(&o, &err);
    if (!g.r)
        die("new", &err);
    for (uint32_t i = 0; i < n; i++)
        one_payment(&g, i);
    close_batch(&g);
    fill(&g);
    double t1 = now(), c1 = cpu(), s1, s2;
    long f1, f2;
    kernel(&s1, &f1);
    clk.last = t1;
    if (recon_run(g.r, &err) < 0)
        die("run", &err);
    double t2 = now(), c2 = cpu();
    kernel(&s2, &f2);
    res->sys_run = s2 - s1;
    res->faults_run = f2 - f1;
    if (out_dir) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%u", out_dir, n);
        mkdir(out_dir, 0755);
        mkdir(dir, 0755);
        if (recon_write_dir(g.r, dir, &err) < 0)
            die("write", &err);
    }
    if (outputs) {
        FILE *f = fopen("/dev/null", "w");
        for (int k = 0; k < RECON_OUT_COUNT && f; k++) {
            int rc = k == RECON_OUT_HTML  ? recon_write_html(g.r, NULL, f, &err)
                     : k == RECON_OUT_XML ? recon_write_xml(g.r, f, &err)
                                          : recon_write_csv(g.r, k, f, &err);
            if (rc < 0)
                die("write", &err);
        }
        if (f)
            fclose(f);
    }
    double t3 = now();
    struct recon_summary s;
    recon_summary(g.r, &s);
    recon_summary_logfmt(&s, res->summary, sizeof(res->summary));
    res->cpu_ingest = c1 - c0;
    res->cpu_run = c2 - c1;
    res->ingest = t1 - t0;
    res->run = t2 - t1;
    res->write = t3 - t2;
    res->pairs = recon_pair_count(g.r);
    res->exceptions = recon_exception_count(g.r);
    recon_free(g.r);
}

/* One size in a child: its result through a pipe, its RSS from wait4. */
static int run_child(uint32_t n, uint64_t seed, int outputs, struct result *res,
                     long *rss_kb)
{
    int fd[2];
    if (pipe(fd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fd[0]);
        struct result r;
        memset(&r, 0, sizeof(r));
        measure(n, seed, outputs, &r);
        ssize_t w = write(fd[1], &r, sizeof(r));
        _exit(w == (ssize_t)sizeof(r) ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], res, sizeof(*res));
    close(fd[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof(*res))
        return -1;
    *rss_kb = ru.ru_maxrss;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = 7;
    int outputs = 0, repeat = 3, opt;
    while ((opt = getopt(argc, argv, "s:or:d:")) != -1) {
        if (opt == 's')
            seed = strtoull(optarg, NULL, 10);
        else if (opt == 'o')
            outputs = 1;
        else if (opt == 'd')
            out_dir = optarg;
        else if (opt == 'r')
            repeat = atoi(optarg) > 0 ? atoi(optarg) : 1;
        else {
            fprintf(stderr, "usage: bench_recon [-s SEED] [-r REPEAT] [-o] "
                            "[-d DIR] [N ...]\n");
            return 2;
        }
    }
    uint32_t sizes[8] = {100000, 1000000};
    int n_sizes = 2;
    if (optind < argc) {
        n_sizes = 0;
        for (int i = optind; i < argc && n_sizes < 8; i++)
            sizes[n_sizes++] = (uint32_t)strtoul(argv[i], NULL, 10);
    }
    struct result res[8];
    long rss[8];
    printf("bench_recon: N payments x N entries, seed %" PRIu64
           ", best of %d\n",
           seed, repeat);
    printf("%9s %8s %9s %8s %8s %10s %9s %8s\n", "N", "gen s", "ingest s",
           "run s", "write s", "peak RSS", "pairs", "except.");
    /* best of `repeat` runs for each time (a busy machine only ever makes
     * a run slower), the sizes taken in turn so that a busy spell does
     * not fall on one size only; the largest RSS.  The ratios are the
     * medians of the rounds' ratios (as bench_sftp.py does): one lucky
     * fast small run does not decide them. */
    double rr[MAX_REPEAT], ri[MAX_REPEAT];
    if (repeat > MAX_REPEAT)
        repeat = MAX_REPEAT;
    for (int k = 0; k < repeat; k++) {
        struct result first = {0};
        for (int i = 0; i < n_sizes; i++) {
            struct result t;
            long kb;
            if (run_child(sizes[i], seed, outputs, &t, &kb) < 0) {
                fprintf(stderr, "bench_recon: size %u failed\n", sizes[i]);
                return 1;
            }
            if (i == 0)
                first = t;
            if (i == n_sizes - 1) {
                rr[k] = t.run / first.run;
                ri[k] = (t.ingest + t.run) / (first.ingest + first.run);
            }
            if (k == 0) {
                res[i] = t;
                rss[i] = kb;
                continue;
            }
            res[i].ingest = t.ingest < res[i].ingest ? t.ingest : res[i].ingest;
            res[i].gen = t.gen < res[i].gen ? t.gen : res[i].gen;
            if (t.cpu_ingest < res[i].cpu_ingest)
                res[i].cpu_ingest = t.cpu_ingest;
            if (t.cpu_run < res[i].cpu_run) {
                res[i].cpu_run = t.cpu_run;
                res[i].sys_run = t.sys_run;
                res[i].faults_run = t.faults_run;
            }
            res[i].write = t.write < res[i].write ? t.write : res[i].write;
            if (t.run < res[i].run) {
                res[i].run = t.run;
                memcpy(res[i].phase, t.phase, sizeof(t.phase));
            }
            rss[i] = kb > rss[i] ? kb : rss[i];
        }
    }
    for (int i = 0; i < n_sizes; i++) {
        printf("%9u %8.3f %9.3f %8.3f %8.3f %7.1f MB %9" PRIu64 " %8" PRIu64
               "\n",
               sizes[i], res[i].gen, res[i].ingest, res[i].run, res[i].write,
               (double)rss[i] / 1024.0, res[i].pairs, res[i].exceptions);
        printf("          cpu: ingest %.3f s, run %.3f s (kernel %.3f s, "
               "%ld page faults)\n",
               res[i].cpu_ingest, res[i].cpu_run, res[i].sys_run,
               res[i].faults_run);
        printf("          phases:");
        for (int k = 0; k < N_PHASES; k++)
            printf(" %s %.3f s", phase_names[k], res[i].phase[k]);
        printf("\n          %s\n", res[i].summary);
    }
    if (n_sizes < 2)
        return 0;
    int a = 0, b = n_sizes - 1;
    double scale = (double)sizes[b] / sizes[a];
    double ratio = median(rr, repeat), both = median(ri, repeat);
    double rss_mb = (double)rss[b] / 1024.0;
    printf("ratio %ux (medians of the rounds): run %.2fx, ingest + run "
           "%.2fx; target <= %.0fx.  Of the best times: run %.2fx (cpu "
           "%.2fx), ingest %.2fx (the generator alone %.2fx).  Peak RSS at "
           "%u: %.0f MB (target < 1024 MB)\n",
           sizes[b] / sizes[a], ratio, both, scale * 1.2,
           res[b].run / res[a].run, res[b].cpu_run / res[a].cpu_run,
           res[b].ingest / res[a].ingest, res[b].gen / res[a].gen, sizes[b],
           rss_mb);
    int ok = ratio <= scale * 1.2 && both <= scale * 1.2 && rss_mb < 1024.0;
    printf("%s\n", ok ? "targets met" : "TARGETS MISSED");
    return ok ? 0 : 1;
}
