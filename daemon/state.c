/*
 * state.c - the message state table; see state.h.
 *
 * The table is a bit set of allowed targets per source state.  Each row
 * says why its edges exist; an edge that is not here cannot be taken by
 * any code path, because store_transition() consults this table.
 */
#include "state.h"

#include <string.h>

static const char *const names[ST__COUNT] = {
    [ST_ACCEPTED] = "accepted",
    [ST_RENDERED] = "rendered",
    [ST_SUBMITTING] = "submitting",
    [ST_SUBMITTED] = "submitted",
    [ST_ACKNOWLEDGED] = "acknowledged",
    [ST_REJECTED] = "rejected",
    [ST_PARTIALLY_ACCEPTED] = "partially_accepted",
    [ST_BOOKED] = "booked",
    [ST_HELD] = "held",
    [ST_DEFERRED] = "deferred",
    [ST_FAILED] = "failed",
};

#define B(s) (1u << (s))

static const unsigned next[ST__COUNT] = {
    /* Rendering either works, fails for good (bad data, no route: a
     * person must look), or an operator stops the message first. */
    [ST_ACCEPTED] = B(ST_RENDERED) | B(ST_FAILED) | B(ST_HELD),
    /* "submitting" is committed before the first byte leaves. */
    [ST_RENDERED] = B(ST_SUBMITTING) | B(ST_HELD) | B(ST_FAILED),
    /* The send worked, failed temporarily (retry later), failed for good,
     * or its outcome is unknown and a person holds it (recovery could not
     * ask the bank).  Never back to rendered directly: that could send
     * twice. */
    [ST_SUBMITTING] = B(ST_SUBMITTED) | B(ST_DEFERRED) | B(ST_FAILED)
                      | B(ST_HELD),
    /* The bank's answers.  A bank may skip acknowledging and report the
     * booking directly (statement first). */
    [ST_SUBMITTED] = B(ST_ACKNOWLEDGED) | B(ST_REJECTED)
                     | B(ST_PARTIALLY_ACCEPTED) | B(ST_BOOKED) | B(ST_HELD),
    /* A bank can still reject after a technical acknowledgement. */
    [ST_ACKNOWLEDGED] = B(ST_BOOKED) | B(ST_REJECTED)
                        | B(ST_PARTIALLY_ACCEPTED),
    [ST_REJECTED] = 0,
    /* The accepted part is booked; the rejected part is reported. */
    [ST_PARTIALLY_ACCEPTED] = B(ST_BOOKED),
    [ST_BOOKED] = 0,
    /* Release: back to where it was held from (store checks held_from),
     * or to rendered when a person decides to resend.  Never to
     * submitting. */
    [ST_HELD] = B(ST_ACCEPTED) | B(ST_RENDERED) | B(ST_DEFERRED)
                | B(ST_FAILED) | B(ST_SUBMITTED),
    /* Time to retry (submitting), re-render first (e.g. the bank wants a
     * new file name or cut-off date), give up, or an operator stops it. */
    [ST_DEFERRED] = B(ST_SUBMITTING) | B(ST_RENDERED) | B(ST_FAILED)
                    | B(ST_HELD),
    /* A person fixed the cause and retries (from rendering again when it
     * never got that far), or parks it. */
    [ST_FAILED] = B(ST_RENDERED) | B(ST_ACCEPTED) | B(ST_HELD),
};

_Static_assert(ST__COUNT <= 32, "state bit set must fit in unsigned");

const char *state_name(enum msg_state s)
{
    if ((unsigned)s >= ST__COUNT)
        return "?";
    return names[s];
}

int state_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < ST__COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int state_can_transition(enum msg_state from, enum msg_state to)
{
    if ((unsigned)from >= ST__COUNT || (unsigned)to >= ST__COUNT)
        return 0;
    return (next[from] & B(to)) != 0;
}

int state_is_terminal(enum msg_state s)
{
    return s == ST_REJECTED || s == ST_BOOKED;
}
