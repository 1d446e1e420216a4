/*
 * render.h - the daemon's bridge to formats/: validating what treasury
 * drops, rendering canonical payments into a bank's format, and sorting
 * what banks send back.
 *
 * render_validate_input() and the render job's work run on the libuv
 * thread pool (they parse whole files); everything else on the loop thread.
 */
#ifndef H2H_RENDER_H
#define H2H_RENDER_H

#include <stddef.h>

#include <uv.h>

#include "config.h"
#include "store.h"

/* A copy of what validation needs from the channel, safe to use on a pool
 * thread while a reload swaps the configuration. */
struct render_in_opts {
    char input_format[32];   /* "passthrough", "auto", "pain.001", ... */
    char profile[32];
};

void render_in_opts_init(struct render_in_opts *o, const struct cfg_channel *c);

/*
 * Validate an accepted payload copy.  0 when acceptable; otherwise -1 and
 * *why (malloc'd, caller frees) lists every problem for the .reason file.
 * business_id receives the message's own id (MsgId) when the format has
 * one.  Pool thread.
 */
int render_validate_input(const struct render_in_opts *o, const char *path,
                          const char *name, char *business_id, size_t bidsz,
                          char **why);

/* 1 when the bank wants another format than the one received. */
int render_needed(const struct cfg_bank *b);

struct render_job;
typedef void (*render_done_cb)(struct render_job *rj, int rc,
                               const char *out_path, const char *why);
/* Render m's payload for bank b into data_dir on the pool; done runs on the
 * loop thread exactly once when this returns 0. */
int render_start(uv_loop_t *loop, const struct cfg_bank *b,
                 const struct store_msg *m, const char *data_dir,
                 render_done_cb done, void *data);
void *render_job_data(struct render_job *rj);
const char *render_job_msg(struct render_job *rj);
const char *render_job_bank(struct render_job *rj);
void render_job_free(struct render_job *rj);

/* Sort a file fetched from a bank into an out sub-folder by sniffing its
 * content: "status" (pain.002), "statements" (camt.05x, MT940/942),
 * "receipts" (PDF), else "other". */
const char *render_classify(const char *path);

#endif
