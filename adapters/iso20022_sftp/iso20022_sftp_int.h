/*
 * iso20022_sftp_int.h - shared by iso20022_sftp.c (settings, submit,
 * recover, health, close) and iso20022_sftp_poll.c (poll).  Not an API:
 * see iso20022_sftp.h.
 */
#ifndef H2H_ISO20022_SFTP_INT_H
#define H2H_ISO20022_SFTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "iso20022_sftp.h"
#include "sftp.h"

/* Longest remote path we build (the transport's own cap). */
#define ISX_PATH_MAX 4096
/* Most names remembered as "an upload of it broke off" (see dirty). */
#define ISX_DIRTY_MAX 4096
/* How often upload_dir is swept for dead temporaries of ours, and what
 * counts as dead (see iso20022_sftp_sweep.c). */
#define ISX_SWEEP_EVERY_MS (3600 * 1000)
#define ISX_SWEEP_RETRY_MS (60 * 1000)
#define ISX_SWEEP_AGE_S 3600

enum isx_after { ISX_DELETE = 0, ISX_KEEP, ISX_MOVE };

/*
 * A remote file the daemon already holds (it answered 0 or H2H_EDUP) and
 * that is still in its folder: kept on purpose ("keep"), or its delete or
 * move failed (due = 1: do that again, without fetching it again).  Known
 * by name, size and mtime; forgotten once a listing no longer shows it.
 */
struct isx_seen {
    char *name;
    uint64_t size;
    int64_t mtime;
    int due;
    unsigned long gen; /* the listing that last showed it */
};

/* One `downloads` entry, with its remembered files sorted by name. */
struct isx_download {
    char *dir;
    char *pattern;
    struct isx_seen *seen;
    size_t n_seen, cap_seen;
};

/* One `archive_dirs` entry; match NULL: the upload's own name. */
struct isx_archive {
    char *dir;
    char *match; /* glob with "{name}" for the remote name */
};

struct isx_poll;
struct isx_job;

struct isx {
    struct h2h_adapter base;
    struct sftp_opts so; /* points into the strings below */
    char *host, *user, *key, *passphrase_file, *password_file, *known_hosts;
    char *upload_dir;
    struct isx_download *dls;
    size_t n_dls;
    struct isx_archive *arch;
    size_t n_arch;
    enum isx_after after;
    char *move_to;
    int consumed_by_bank;
    unsigned max_sessions;
    unsigned idle_ms;

    struct sftp_pool *pool;
    int inflight;         /* submits, recovers and the poll still running */
    struct isx_job *jobs; /* submits and recovers still running */
    /* Names whose last upload broke off (temporary or unknown failure):
     * its temporary may still be on the server, so the next submit of the
     * name removes it first. */
    char **dirty;
    size_t n_dirty;
    struct isx *next_live; /* every instance of this process */
    int sole;              /* no other live instance shares upload_dir */
    int sweeping;
    int swept;              /* a sweep listed upload_dir */
    int sweep_retry;        /* the last sweep could not list it */
    uint64_t next_sweep_ms; /* uv_now() when the next one is due */
    int closing;
    int pool_closing;
    void (*close_cb)(struct h2h_adapter *a);

    struct isx_poll *poll; /* the running poll, or NULL */
    unsigned long gen;     /* listings made so far */
    unsigned long dl_seq;  /* local download names */
    char tag[9];           /* random, keeps local names unique per run */

    char last_err[H2H_ERR_MSG_MAX]; /* "" while healthy */
    char health[H2H_ERR_MSG_MAX + 16];
};

/* iso20022_sftp.c */
/* Keep the health summary in step with a transport result.  A taken name
 * (H2H_EDUP) never counts; per_file: neither does a missing file (it is
 * about that file, not the bank).  A success also restarts a sweep that
 * found the server unreachable.  Call it from transport callbacks only. */
void isx_note(struct isx *x, const struct sftp_result *r, int per_file);
/* An operation counted in x->inflight has called back: finish a close
 * that waits for it. */
void isx_op_done(struct isx *x);
/* dir + "/" + name into buf; H2H_ETOOBIG when it does not fit. */
int isx_join(char *buf, size_t bufsz, const char *dir, const char *name);
/* 1 while a submit or recover of remote_name runs. */
int isx_busy(const struct isx *x, const char *remote_name);

/* iso20022_sftp_config.c */
typedef void (*isx_report_fn)(void *ctx, const config_setting_t *s,
                              const char *msg);
/* The ops table's check_config. */
int isx_check_config(const config_setting_t *bank, isx_report_fn report,
                     void *ctx);
/* Copy bank's settings into x (local paths resolved against base_dir):
 * 0, H2H_ECONFIG with the first problem ("line N: ...") or H2H_ENOMEM.
 * What was copied before a failure is x's to free. */
int isx_settings(const config_setting_t *bank, const char *base_dir,
                 struct isx *x, struct h2h_err *err);

/* iso20022_sftp_sweep.c */
/* Register x as live (sets x->sole) / unregister it. */
void isx_live_add(struct isx *x);
void isx_live_del(struct isx *x);
/* Start a sweep of upload_dir when one is due; counted in x->inflight. */
void isx_sweep_maybe(struct isx *x);

/* iso20022_sftp_poll.c */
int isx_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
             struct h2h_err *err);
void isx_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                        const struct h2h_download *dl, int rc);
/* Free the remembered files of every download entry. */
void isx_seen_release(struct isx *x);

#endif
