/* jdoc: a read-only JSON document for the messages credsyncd parses (event.c).
 *
 * jansson builds a tree of allocated values with a hash table per object: 22% of credsyncd's
 * CPU in the profile run went to json_loadb. jdoc reads a message into one array of nodes
 * and one buffer of strings. Its own reader (jdoc_parse) takes only a strict subset of JSON
 * that jansson takes the same way (with JSON_REJECT_DUPLICATES): no \u escapes, integers of
 * at most 18 digits, no fractions or exponents, well-formed UTF-8, no duplicate keys, at most
 * JDOC_MAX_DEPTH levels. Anything else it leaves to jansson, whose tree jdoc_from_jansson
 * copies, so that what is accepted and the error texts of what is not stay jansson's. */
#ifndef CREDSYNC_JDOC_H
#define CREDSYNC_JDOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jv_type { JV_OBJECT, JV_ARRAY, JV_STRING, JV_NUMBER, JV_TRUE, JV_FALSE, JV_NULL };

/* A value. In an object, key is its member's name; len is a string's length in bytes or a
 * container's number of children, first its first child and next the value after it in its
 * container (NULL: none). */
struct jv {
	enum jv_type type;
	uint32_t len;
	const struct jv *first, *next;
	const char *key, *str;
};

struct jdoc {
	struct jv *nodes; /* nodes[0] is the root */
	size_t n_nodes, cap_nodes;
	char *strs; /* every string and key, NUL-terminated */
	size_t n_strs;
	int depth; /* levels of objects and arrays, the root being level 1 (0: a scalar root) */
};

/* Deeper than this, jdoc_parse leaves the message to jansson. */
#define JDOC_MAX_DEPTH 64

/* Reads buf[0..len) when it is a JSON object in jdoc's subset. Returns 0, or -1 when it is
 * not (invalid, or outside the subset: read it with jansson) or out of memory. */
int jdoc_parse(struct jdoc *d, const char *buf, size_t len);
/* Copies jansson's tree into d. Returns 0, or -1 out of memory. */
int jdoc_from_jansson(struct jdoc *d, json_t *root);
void jdoc_free(struct jdoc *d);

static inline const struct jv *
jdoc_root(const struct jdoc *d)
{
	return &d->nodes[0];
}

/* The value of obj's member key, or NULL (absent, or obj is no object). */
const struct jv *jv_get(const struct jv *obj, const char *key);
/* Whether a and b hold the same values, keys and order (tests/unit/test_jdoc.c and
 * tests/fuzz/fuzz_event.c compare jdoc's reading with jansson's). */
bool jv_same(const struct jv *a, const struct jv *b);

#endif
