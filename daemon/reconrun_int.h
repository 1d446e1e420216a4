/*
 * reconrun_int.h - what reconrun.c (the loop's side of a run) hands to
 * reconfeed.c (the pool's side) and gets back.  Not an API.
 *
 * The loop thread fills a struct rr_job from the store and the
 * configuration (copies only: a reload may replace the configuration while
 * the work runs), the pool thread reads files into the engine, runs it and
 * writes the reports, and the loop thread takes the results.  Only the
 * progress fields and `cancel` are touched by both threads at once.
 */
#ifndef H2H_RECONRUN_INT_H
#define H2H_RECONRUN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"
#include "recon.h"
#include "store.h"

/* A transaction the bank refused (a pain.002 RJCT), left out of the run;
 * end_to_end_id "" for a whole payment group. */
struct rr_rejected {
    char *pmt_inf_id, *end_to_end_id;
};

/* One submitted message to read. */
struct rr_msg {
    char id[STORE_ID_MAX];
    char *bank, *state, *path; /* path: h2hd's copy of the payload */
    char created_day[11];      /* execution day of undated transactions */
    /* the adapter's booking references (adapter.h booking_refs), NULL:
     * none */
    char *serial_pattern, *batch_pattern, *batch_purpose;
    struct rr_rejected *rejected;
    size_t n_rejected;
    /* worker: transactions the bank accepted (not rejected, in the run's
     * range or not) and of those matched cleanly; matched == taken > 0
     * means booked */
    size_t n_taken, n_matched;
    int unreadable;
};

/* One kept statement file. */
struct rr_file {
    char *bank, *remote, *path, *charset; /* charset may be NULL */
};

/* A problem with an input, logged by the loop: the file, where in it, and
 * what (rule as in fmt_problem; line 0 when none). */
struct rr_problem {
    char *file, *rule, *msg;
    int line;
    int expected; /* 1: an expected-receipts file */
};

struct rr_job {
    char id[STORE_ID_MAX];
    char from[11], to[11];
    char *account;         /* NULL: all */
    char *channel_charset; /* CSV input charset of the channel, NULL UTF-8 */
    char *report_dir;      /* the channel's reconcile dir */
    char *expected_dir;    /* NULL: none */
    struct recon_opts opts;

    struct rr_msg *msgs; /* sorted by id */
    size_t n_msgs;
    struct rr_file *files; /* in the order received */
    size_t n_files;

    /* results (pool thread, read by the loop after the work) */
    int rc;
    struct h2h_err err;
    struct recon *engine;
    char run_dir[4096];
    struct rr_problem *probs;
    size_t n_probs, probs_dropped;

    /* shared while running */
    pthread_mutex_t mu;
    const char *phase; /* static string */
    uint64_t done, total;
    atomic_int cancel;
};

/* Pool thread: everything between the inputs and the reports. */
void rr_work(struct rr_job *j);

/* Free the job and everything it owns (NULL-safe). */
void rr_job_free(struct rr_job *j);

#endif
