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
 * thread while a reload swaps the configuration.  Owns its routes:
 * release with render_in_opts_release(). */
struct render_in_opts {
    char input_format[32];       /* "passthrough", "auto", "pain.001", ... */
    char profile[32];            /* "none", "sepa", "sepa-translit", "cgi" */
    char charset[32];            /* CSV input charset; "" = UTF-8 */
    char bank[CFG_NAME_MAX + 1]; /* the channel's default bank */
    struct cfg_route *routes;    /* debtor account -> bank */
    size_t n_routes;
};

/* 0 or H2H_ENOMEM (o is then empty but safe to release). */
int render_in_opts_init(struct render_in_opts *o, const struct cfg_channel *c);
void render_in_opts_release(struct render_in_opts *o);

/*
 * Validate an accepted payload copy and pick its bank.  0 when acceptable;
 * otherwise -1 and *why (malloc'd, caller frees) lists every problem for
 * the .reason file.  business_id receives the message's own id (MsgId)
 * when the format has one; bank receives the bank the payment goes to:
 * the route of its debtor account, else the channel's bank.  A file whose
 * payment groups route to different banks is refused (one file, one
 * bank: a half-sent file cannot be explained to anyone).  kind receives
 * the message family: "payment", or "bill" for a bill-pool request
 * (<BillRequest>, formats/canon_bill.h, whatever the channel's
 * input_format: it is recognised by its root), whose business id is its
 * ReqId and whose bank is the channel's, or "scf" for a
 * supply-chain-finance request (<ScfRequest>, formats/canon_scf.h, or a
 * tsin.001 / tsin.003, likewise by its root; business id: the financing
 * request's id, the voucher operation's ReqId, the inquiry's or
 * cancellation's id; bank: the channel's).  A <ScfResult> or tsin.002 is
 * h2hd's own output and refused.  Pool thread.
 */
int render_validate_input(const struct render_in_opts *o, const char *path,
                          const char *name, char *business_id, size_t bidsz,
                          char *bank, size_t banksz, char *kind,
                          size_t kindsz, char **why);

/* 1 when the bank wants another format than the one received. */
int render_needed(const struct cfg_bank *b);

struct render_job;
typedef void (*render_done_cb)(struct render_job *rj, int rc,
                               const char *out_path, const char *why);
/* Render m's payload for bank b (its payment_format and profile) into
 * data_dir on the pool (in_charset: the channel's charset for CSV input,
 * NULL for UTF-8): a temporary, fsync, then "<id>.r.<ext>" and a
 * directory fsync.  done runs on the loop thread exactly once when this
 * returns 0; rc != 0 there means the payload cannot be rendered for this
 * bank (why says why: every problem). */
int render_start(uv_loop_t *loop, const struct cfg_bank *b,
                 const struct store_msg *m, const char *in_charset,
                 const char *data_dir, render_done_cb done, void *data);
void *render_job_data(struct render_job *rj);
const char *render_job_msg(struct render_job *rj);
const char *render_job_bank(struct render_job *rj);
void render_job_free(struct render_job *rj);

/* Sort a file fetched from a bank into an out sub-folder by sniffing its
 * content: "status" (pain.002), "statements" (camt.05x, MT940/942),
 * "receipts" (PDF), "bills" (bill-pool results and notices,
 * urn:h2hd:bills:1), "scf" (urn:h2hd:scf:1 results, tsin.001/002/003),
 * else "other".  Blocking (reads the file's start). */
const char *render_classify(const char *path);
/* remote with its extension replaced by ext ("stmt.xml" -> "stmt.sta");
 * a name without one gets one. */
void render_renamed(char *out, size_t outsz, const char *remote,
                    const char *ext);

/*
 * What a bank sent, made ready for treasury: classified, and statements
 * (and, for "canonical", status reports) converted into the channel's
 * output_format.  Runs on the pool; done runs on the loop thread exactly
 * once when render_download_start returns 0.  in_charset: the bank's
 * charset for MT940/942 and CSV files (NULL: UTF-8 or what a file
 * declares).
 *   kind      out sub-folder (see render_classify)
 *   path      the file to deliver: in_path itself, or a converted
 *             temporary beside it (converted != 0; the caller removes
 *             in_path once path is delivered)
 *   name      the name to deliver under (remote name, extension changed
 *             when converted)
 *   sha256    of path
 *   note      NULL, or why the file is delivered as received although a
 *             conversion was asked for, or that a statement's own figures
 *             do not add up (for the log; the file is delivered anyway)
 *   status    what a status report (pain.002 / canonical) says, so that
 *             the daemon can move the message it answers
 * rc != 0 only when nothing can be delivered (I/O).
 */
struct render_status {
    int present;            /* the file is a status report we could read */
    char orgnl_msg_id[128]; /* the MsgId it answers */
    char verdict[8];        /* ACCP, RJCT, PART, PDNG, ... (group level,
                               or derived from the transactions) */
    size_t n_tx, n_accepted, n_rejected;
    char reasons[256]; /* "AC01 x2, AM04" */
    /* Per payment group and transaction, as reported (owned by the
     * render job, valid during the callback): a group's own status has
     * e2e "", a transaction without a status of its own takes its
     * group's. */
    struct render_tx_status {
        char pmt_inf_id[64], e2e[64], sts[8], reasons[64];
    } *txs;
    size_t n_txs, cap_txs;
};

struct render_dl_result {
    int rc;
    const char *kind, *path, *name, *sha256, *note;
    int converted;
    const struct render_status *status; /* never NULL */
};
typedef void (*render_dl_cb)(void *data, const struct render_dl_result *r);
int render_download_start(uv_loop_t *loop, const char *output_format,
                          const char *in_charset, const char *in_path,
                          const char *remote_name, render_dl_cb done,
                          void *data);

#endif
