/*
 * deliver.c - one file at a time to the daemon; see deliver.h.
 */
#include "deliver.h"

#include <string.h>

void adl_deliver(struct adl *d)
{
    struct h2h_download dl = {.remote_name = d->remote,
                              .local_path = d->local,
                              .kind = d->kind,
                              .sha256 = d->sha256,
                              .size = d->size};
    d->waiting = 1;
    d->answered = 0;
    d->in_deliver = 1;
    d->preq->deliver(d->a, d->preq, &dl);
    d->in_deliver = 0;
    if (d->answered)
        d->on_answer(d);
}

int adl_delivered(struct adl *d, const struct h2h_download *dl, int rc)
{
    if (!d->waiting || !dl || !dl->remote_name ||
        strcmp(dl->remote_name, d->remote) != 0)
        return 0;
    d->waiting = 0;
    d->answered = 1;
    d->answer = rc;
    if (!d->in_deliver)
        d->on_answer(d);
    return 1;
}

int adl_taken(const struct adl *d)
{
    return d->answer == 0 || d->answer == H2H_EDUP;
}
