/*
 * state.h - the lifecycle of an outgoing message as data.
 *
 * Purpose: one place that says which states a message can be in and which
 * moves between them are legal.  The store (store.h) refuses every
 * transition this table does not allow, so the rest of the daemon cannot
 * move a message somewhere it must not go (e.g. back to "submitting" after
 * the outcome of a send became unknown).
 *
 *   accepted ──▶ rendered ──▶ submitting ──▶ submitted ──▶ acknowledged
 *                                 │              │            │
 *                                 ▼              ├──▶ rejected ◀┤
 *                             deferred           ├──▶ partially_accepted
 *                          (retry later)         └──▶ booked ◀──┘
 *   plus held (a person stops it) and failed (a person must look at it).
 *
 * The full table with the reason for each edge is in state.c.  Terminal
 * states (nothing moves out): rejected, booked.
 *
 * Leaving "held" is special: the table lists every state a message may be
 * held from, but the store additionally requires the target to be the
 * state it was held from (held_from), or "rendered" when a person decided
 * to resend.  A message is never released into "submitting": one held from
 * "submitting" has an unknown outcome at the bank, and sending it again is
 * a human decision that goes through "rendered".
 *
 * Names are stable: they are stored in the database and shown by h2hctl.
 *
 * Lifecycle/ownership: pure functions over constants; strings returned are
 * static.  Threads: any.
 */
#ifndef H2H_STATE_H
#define H2H_STATE_H

/* The numeric values are not stored anywhere (the store keeps names), so
 * new states may be inserted; ST__COUNT stays last. */
enum msg_state {
    ST_ACCEPTED,
    ST_RENDERED,
    ST_SUBMITTING,
    ST_SUBMITTED,
    ST_ACKNOWLEDGED,
    ST_REJECTED,
    ST_PARTIALLY_ACCEPTED,
    ST_BOOKED,
    ST_HELD,
    ST_DEFERRED,
    ST_FAILED,
    ST__COUNT
};

/* Value of store_msg.held_from when the message is not held. */
#define ST_NONE ST__COUNT

/* "accepted", "partially_accepted", ...; "?" for a value out of range. */
const char *state_name(enum msg_state s);

/* Inverse of state_name (exact, lower case); -1 if unknown or NULL. */
int state_parse(const char *name);

/* 1 if the table allows from -> to, else 0 (also for out-of-range values).
 * For from == ST_HELD this is the union over every possible held_from; the
 * store checks the held_from rule on top (see above). */
int state_can_transition(enum msg_state from, enum msg_state to);

/* 1 for rejected and booked: no transition leaves them. */
int state_is_terminal(enum msg_state s);

#endif
