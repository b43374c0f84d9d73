/* batch: the working set of one batch of the pipeline (batch.h). */
#include "batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"

static bool
key_eq(const struct record_key *a, const struct record_key *b)
{
	return a->kind == b->kind && strcmp(a->uscc, b->uscc) == 0 &&
	       strcmp(a->list, b->list) == 0 && strcmp(a->decision_no, b->decision_no) == 0;
}

/* FNV-1a over s and a separator, continuing from h. */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	return fnv1a64_byte(fnv1a64_str(h, s), 0xff);
}

static uint64_t
hash_key(const struct record_key *k)
{
	uint64_t h = FNV1A64_SEED ^ (uint64_t)k->kind;
	return hash_str(hash_str(hash_str(h, k->uscc), k->list), k->decision_no);
}

/* The slot of the entry eq() finds, or the empty slot where it belongs (linear probing; the
 * table never fills: it has twice the batch's slots). */
static uint32_t *
hslot(uint32_t *tab, size_t mask, uint64_t h,
      bool (*eq)(const struct batch *, size_t, const void *), const struct batch *b,
      const void *want)
{
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
		if (tab[i] == 0 || eq(b, tab[i] - 1, want))
			return &tab[i];
}

static bool
eq_key(const struct batch *b, size_t i, const void *want)
{
	return key_eq(&b->keys[i], want);
}

static bool
eq_uscc(const struct batch *b, size_t i, const void *want)
{
	return strcmp(b->usccs[i], want) == 0;
}

static bool
eq_id(const struct batch *b, size_t i, const void *want)
{
	return strcmp(b->ids[i], want) == 0;
}

int
batch_key(struct batch *b, const struct record_key *key)
{
	uint32_t *slot = hslot(b->h_keys, b->hmask, hash_key(key), eq_key, b, key);
	if (*slot != 0)
		return (int)(*slot - 1);
	b->keys[b->n_keys] = *key;
	*slot = (uint32_t)++b->n_keys;
	slot =
	    hslot(b->h_usccs, b->hmask, hash_str(FNV1A64_SEED, key->uscc), eq_uscc, b, key->uscc);
	if (*slot == 0) {
		memcpy(b->usccs[b->n_uscc++], key->uscc, USCC_BUF);
		*slot = (uint32_t)b->n_uscc;
	}
	return (int)(b->n_keys - 1);
}

void
batch_id_note(struct batch *b, uint32_t *tab, size_t i)
{
	uint32_t *slot =
	    hslot(tab, b->hmask, hash_str(FNV1A64_SEED, b->ids[i]), eq_id, b, b->ids[i]);
	if (*slot == 0)
		*slot = (uint32_t)i + 1;
}

bool
batch_id_in(const struct batch *b, const uint32_t *tab, const char *event_id)
{
	for (size_t i = (size_t)hash_str(FNV1A64_SEED, event_id) & b->hmask;;
	     i = (i + 1) & b->hmask) {
		if (tab[i] == 0)
			return false;
		if (strcmp(b->ids[tab[i] - 1], event_id) == 0)
			return true;
	}
}

/* The arrays of a batch for m messages and its hash tables (at least 2m slots). Each message
 * yields at most RECON_MAX_OBLIGATIONS obligations and out rows, or one reject: the arrays of
 * those are written before they are read, and a batch reusing them does not clear them. */
/* clang-format off */
#define BATCH_CLEARED(X, m) \
	X(items, m) X(keys, m) X(recs, m) X(found, m) X(dirty, m) X(stored, m) X(usccs, m) \
	X(ids, m) X(seen, m) X(in, m) X(acks, m) X(ack_in, m) X(offsets, m)
#define BATCH_WRITTEN(X, m) \
	X(obl, (m) * RECON_MAX_OBLIGATIONS) X(out, (m) * RECON_MAX_OBLIGATIONS) \
	X(payloads, (m) * RECON_MAX_OBLIGATIONS) X(out_ids, (m) * RECON_MAX_OBLIGATIONS) \
	X(out_topics, (m) * RECON_MAX_OBLIGATIONS)
/* clang-format on */
#define BATCH_TABLES(X, slots) X(h_keys, slots) X(h_usccs, slots) X(h_seen, slots) X(h_done, slots)

/* Each thread's batch arrays, kept from one batch to the next for up to cap messages. Freed
 * and allocated per batch, their megabytes (3 MiB of obligations alone for 500 messages)
 * were mapped and unmapped by the kernel each time (page faults, TLB shootdowns): a fifth
 * of credsyncd's CPU in the profile run. Those a batch writes before it reads stay
 * uncleared, so that their pages beyond what batches use are never touched (peak RSS). */
struct batch_cache {
	struct batch b; /* the arrays; counts always 0 */
	size_t cap;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_ok;

static void
batch_arrays_free(struct batch *b)
{
#define X(f, n) free(b->f);
	BATCH_CLEARED(X, 0)
	BATCH_WRITTEN(X, 0)
	BATCH_TABLES(X, 0)
#undef X
	memset(b, 0, sizeof(*b));
}

static void
cache_free(void *arg)
{
	struct batch_cache *c = arg;

	batch_arrays_free(&c->b);
	free(c);
}

static void
cache_key_make(void)
{
	cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

int
batch_get(struct batch *b, size_t n)
{
	size_t m = n ? n : 1, slots = 16;
	struct batch_cache *c;

	memset(b, 0, sizeof(*b));
	if (pthread_once(&cache_once, cache_key_make) != 0 || !cache_ok)
		return -1;
	if ((c = pthread_getspecific(cache_key)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return -1;
		if (pthread_setspecific(cache_key, c) != 0) {
			free(c);
			return -1;
		}
	}
	if (m > c->cap) {
		batch_arrays_free(&c->b);
		c->cap = 0;
		while (slots < 2 * m)
			slots *= 2;
		c->b.hmask = slots - 1;
		bool ok = true;
#define X(f, k) ok = ok && (c->b.f = calloc((k), sizeof(*c->b.f))) != NULL;
		BATCH_CLEARED(X, m)
		BATCH_WRITTEN(X, m)
		BATCH_TABLES(X, slots)
#undef X
		if (!ok) {
			batch_arrays_free(&c->b);
			return -1;
		}
		c->cap = m;
	} else {
#define X(f, k) memset(c->b.f, 0, (k) * sizeof(*c->b.f));
		BATCH_CLEARED(X, m)
		BATCH_TABLES(X, c->b.hmask + 1)
#undef X
	}
	*b = c->b;
	return 0;
}

void
batch_done(struct batch *b)
{
	if (b->payloads != NULL)
		for (size_t i = 0; i < b->n_out; i++)
			free(b->payloads[i]);
}

/* snprintf(dst, size, "%s", src) without its formatting: two copies an out message. */
static void
copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
batch_add_out(struct batch *b, const char *id, const char *topic, const char *key, char *payload)
{
	if (payload == NULL)
		return -1;
	size_t i = b->n_out++;
	b->payloads[i] = payload;
	copy_cut(b->out_ids[i], sizeof(b->out_ids[i]), id);
	copy_cut(b->out_topics[i], sizeof(b->out_topics[i]), topic);
	b->out[i] = (struct store_outrow){
	    .id = b->out_ids[i], .topic = b->out_topics[i], .key = key, .payload = payload};
	return 0;
}
