/*
 * deliver.h - handing files to the daemon during a poll, one at a time.
 *
 * A poll gives the daemon each file through req->deliver and waits for
 * its answer (h2h_poll_delivered: 0, H2H_EDUP or another code), which may
 * come from inside deliver() itself or later.  struct adl keeps that
 * handshake in one place for the adapters that make their files
 * themselves (openapi_json, cnbank_xml): the answer callback always runs
 * after deliver() returned, never nested inside it, and an answer about
 * another file (or none awaited) is ignored.
 *
 * Threads: the loop thread.  The struct is embedded in the adapter's poll
 * and lives as long as it.
 */
#ifndef H2H_DELIVER_H
#define H2H_DELIVER_H

#include <stdint.h>

#include "adapter.h"

#define ADL_PATH_MAX 4096

struct adl {
    struct h2h_adapter *a;
    struct h2h_poll_req *preq;
    /* the file on its way: the caller fills these, then adl_deliver() */
    char remote[256];
    char local[ADL_PATH_MAX];
    char sha256[65];
    uint64_t size;
    const char *kind;
    /* the daemon's answer, valid in on_answer */
    int answer;
    void (*on_answer)(struct adl *d);
    int waiting, in_deliver, answered;
};

/* Hand the described file to the daemon; d->on_answer runs once its
 * answer came (possibly right after this returns). */
void adl_deliver(struct adl *d);
/* From the adapter's poll_delivered: 1 when dl answers the file d waits
 * for (then on_answer runs, now or once adl_deliver returned), else 0. */
int adl_delivered(struct adl *d, const struct h2h_download *dl, int rc);
/* 1 when the daemon holds the file (0 or H2H_EDUP). */
int adl_taken(const struct adl *d);

#endif
