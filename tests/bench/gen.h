/* gen: credsync-gen's shared state and its story writer (gen_story.c), used by its main
 * (gen.c). A test tool: one process, one thread, global randomness. */
#ifndef CREDSYNC_BENCH_GEN_H
#define CREDSYNC_BENCH_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "date.h"
#include "rules.h"
#include "uscc.h"

#define MAX_PRODUCERS  128
#define MAX_LISTS      128
#define MAX_OWNERS     16
#define DUP_RING       256
#define GEN_TYPE_COUNT 9
#define INVALID_KINDS  8

struct list {
	char code[64];
	char owners[MAX_OWNERS][64];
	int nowners;
	bool abnormal;
};

struct producer {
	const char *code;
	bool system;
	FILE *fp;
	long count;
	char issuer_uscc[USCC_BUF];
	long next_no; /* decision numbers, per producer */
};

struct gen {
	const rules *r;
	struct producer prod[MAX_PRODUCERS];
	int nprod;
	int authorities[MAX_PRODUCERS]; /* indexes of the authorities */
	int nauth;
	struct list lists[MAX_LISTS];
	int nlists;
	cs_date today;
	long target, emitted, dups, invalid;
	long by_type[GEN_TYPE_COUNT];
	long invalid_by[INVALID_KINDS];
	long intended[4]; /* not_list_owner, not_entry_owner, wrong_channel, not_repairable */
	/* recent lines for re-sending (duplicates) */
	char *ring[DUP_RING];
	int ring_prod[DUP_RING];
	int ring_n;
};

struct subject {
	char uscc[USCC_BUF];
	char name[160];
	bool individual;
};

/* Type names (inbound event types) and invalid kinds, in the manifest's order. */
extern const char *const GEN_TYPES[GEN_TYPE_COUNT];
extern const char *const GEN_INVALID_NAMES[INVALID_KINDS];

/* The subjects: gen_subjects fills gen_subject_tab (calloc'd by the caller, n entries). */
extern struct subject *gen_subject_tab;
extern long gen_nsubjects;

/* Seeds the generator's randomness; every later draw follows from it. */
void gen_seed(uint64_t seed);
/* Whether a draw in [0, 1) falls below p. */
bool gen_chance(double p);
/* A valid USCC: head2 (department and type), region (6 digits), 9 random characters, check. */
void gen_uscc(char out[USCC_BUF], const char *head2, const char *region);
void gen_subjects(long n);
/* Index of a producer code in g->prod, or -1. */
int gen_prod_index(const struct gen *g, const char *code);

/* Each writes one message or a record's story of messages to the producers' files (none past
 * g->target); returns 0, or -1 on a write or allocation failure (errno set). */
int gen_penalty_story(struct gen *g);
int gen_list_story(struct gen *g);
int gen_invalid(struct gen *g);
int gen_duplicate(struct gen *g);

#endif
