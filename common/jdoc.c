/* jdoc: a read-only JSON document, read by its own strict reader or copied from jansson. */
#include "jdoc.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Both arrays are sized before reading: the nodes and strings never move, so that the nodes'
 * pointers stay valid. A value takes at least one byte of input and one more to separate it
 * from the next, and a string's bytes and NUL fit in its input with its quotes. */
static int
jdoc_alloc(struct jdoc *d, size_t nodes, size_t strs)
{
	memset(d, 0, sizeof(*d));
	d->nodes = malloc(nodes * sizeof(*d->nodes));
	d->strs = malloc(strs ? strs : 1);
	if (d->nodes == NULL || d->strs == NULL) {
		jdoc_free(d);
		return -1;
	}
	d->cap_nodes = nodes;
	return 0;
}

void
jdoc_free(struct jdoc *d)
{
	free(d->nodes);
	free(d->strs);
	memset(d, 0, sizeof(*d));
}

static struct jv *
node_new(struct jdoc *d, enum jv_type type)
{
	if (d->n_nodes == d->cap_nodes)
		return NULL;
	struct jv *v = &d->nodes[d->n_nodes++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

const struct jv *
jv_get(const struct jv *obj, const char *key)
{
	if (obj == NULL || obj->type != JV_OBJECT)
		return NULL;
	for (const struct jv *v = obj->first; v != NULL; v = v->next)
		if (strcmp(v->key, key) == 0)
			return v;
	return NULL;
}

bool
jv_same(const struct jv *a, const struct jv *b)
{
	if (a->type != b->type || a->len != b->len)
		return false;
	if ((a->key == NULL) != (b->key == NULL) || (a->key != NULL && strcmp(a->key, b->key) != 0))
		return false;
	if (a->type == JV_STRING)
		return memcmp(a->str, b->str, a->len + 1) == 0;
	const struct jv *x = a->first, *y = b->first;
	for (; x != NULL && y != NULL; x = x->next, y = y->next)
		if (!jv_same(x, y))
			return false;
	return x == NULL && y == NULL;
}

/* ---- the strict reader ---- */

struct reader {
	const unsigned char *s;
	size_t n, i;
	struct jdoc *d;
};

static void
skip_ws(struct reader *r)
{
	while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\n' || r->s[r->i] == '\r' ||
	                       r->s[r->i] == '\t'))
		r->i++;
}

/* A string at s[i] == '"': decoded into d->strs. Only the two-character escapes. */
static const char *
read_string(struct reader *r, uint32_t *ret_len)
{
	char *out = r->d->strs + r->d->n_strs;
	size_t o = 0;

	r->i++; /* the opening quote */
	while (r->i < r->n) {
		unsigned char c = r->s[r->i];
		if (c == '"') {
			r->i++;
			out[o] = '\0';
			r->d->n_strs += o + 1;
			*ret_len = (uint32_t)o;
			return out;
		}
		if (c < 0x20) {
			return NULL;
		} else if (c == '\\') {
			if (r->i + 1 >= r->n)
				return NULL;
			switch (r->s[r->i + 1]) {
			case '"':
				c = '"';
				break;
			case '\\':
				c = '\\';
				break;
			case '/':
				c = '/';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			default:
				return NULL; /* \u (a NUL, surrogates) and invalid escapes:
				                jansson's */
			}
			out[o++] = (char)c;
			r->i += 2;
		} else if (c < 0x80) {
			out[o++] = (char)c;
			r->i++;
		} else {
			/* well-formed as jansson's utf8_check_full has it: no overlong forms, no
			 * surrogates, nothing past U+10FFFF */
			size_t part, k = utf8_seq(r->s + r->i, r->n - r->i, &part);
			if (k == 0)
				return NULL;
			memcpy(out + o, r->s + r->i, k);
			o += k;
			r->i += k;
		}
	}
	return NULL;
}

/* An integer of at most 18 digits: it fits jansson's json_int_t (no "too big integer"). */
static int
read_number(struct reader *r)
{
	size_t j = r->i, digits = 0;

	if (j < r->n && r->s[j] == '-')
		j++;
	if (j < r->n && r->s[j] == '0') {
		j++;
		digits = 1;
	} else {
		while (j < r->n && r->s[j] >= '0' && r->s[j] <= '9' && digits <= 18) {
			j++;
			digits++;
		}
	}
	if (digits == 0 || digits > 18 ||
	    (j < r->n && ((r->s[j] >= '0' && r->s[j] <= '9') || r->s[j] == '.' || r->s[j] == 'e' ||
	                  r->s[j] == 'E')))
		return -1;
	r->i = j;
	return 0;
}

static int
read_word(struct reader *r, const char *word)
{
	size_t k = strlen(word);
	if (r->n - r->i < k || memcmp(r->s + r->i, word, k) != 0)
		return -1;
	r->i += k;
	return 0;
}

static struct jv *read_value(struct reader *r, int depth);

/* An object's members or an array's elements, at s[i] just past its opening bracket. */
static int
read_children(struct reader *r, struct jv *c, int depth)
{
	char close = c->type == JV_OBJECT ? '}' : ']';
	struct jv *last = NULL;

	if (depth > r->d->depth)
		r->d->depth = depth;
	skip_ws(r);
	if (r->i < r->n && r->s[r->i] == close) {
		r->i++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		if (c->type == JV_OBJECT) {
			uint32_t klen;
			if (r->i >= r->n || r->s[r->i] != '"' ||
			    (key = read_string(r, &klen)) == NULL)
				return -1;
			for (const struct jv *m = c->first; m != NULL; m = m->next)
				if (strcmp(m->key, key) == 0)
					return -1; /* a duplicate: jansson names it */
			skip_ws(r);
			if (r->i >= r->n || r->s[r->i] != ':')
				return -1;
			r->i++;
			skip_ws(r);
		}
		struct jv *v = read_value(r, depth);
		if (v == NULL)
			return -1;
		v->key = key;
		if (last == NULL)
			c->first = v;
		else
			last->next = v;
		last = v;
		c->len++;
		skip_ws(r);
		if (r->i >= r->n)
			return -1;
		if (r->s[r->i] == close) {
			r->i++;
			return 0;
		}
		if (r->s[r->i] != ',')
			return -1;
		r->i++;
		skip_ws(r);
	}
}

/* A value at s[i] (no white space before it). */
static struct jv *
read_value(struct reader *r, int depth)
{
	struct jv *v;

	if (r->i >= r->n)
		return NULL;
	switch (r->s[r->i]) {
	case '{':
	case '[':
		if (depth >= JDOC_MAX_DEPTH ||
		    (v = node_new(r->d, r->s[r->i] == '{' ? JV_OBJECT : JV_ARRAY)) == NULL)
			return NULL;
		r->i++;
		return read_children(r, v, depth + 1) == 0 ? v : NULL;
	case '"':
		if ((v = node_new(r->d, JV_STRING)) == NULL)
			return NULL;
		return (v->str = read_string(r, &v->len)) != NULL ? v : NULL;
	case 't':
		return read_word(r, "true") == 0 ? node_new(r->d, JV_TRUE) : NULL;
	case 'f':
		return read_word(r, "false") == 0 ? node_new(r->d, JV_FALSE) : NULL;
	case 'n':
		return read_word(r, "null") == 0 ? node_new(r->d, JV_NULL) : NULL;
	default:
		return read_number(r) == 0 ? node_new(r->d, JV_NUMBER) : NULL;
	}
}

int
jdoc_parse(struct jdoc *d, const char *buf, size_t len)
{
	if (jdoc_alloc(d, len / 2 + 2, len + 1) < 0)
		return -1;
	struct reader r = {(const unsigned char *)buf, len, 0, d};
	skip_ws(&r);
	if (r.i >= len || buf[r.i] != '{' || read_value(&r, 0) == NULL)
		goto fail;
	skip_ws(&r);
	if (r.i != len)
		goto fail;
	return 0;
fail:
	jdoc_free(d);
	return -1;
}

/* ---- a copy of jansson's tree ---- */

static void
count(json_t *v, size_t *nodes, size_t *strs)
{
	const char *k;
	json_t *child;
	size_t i;

	++*nodes;
	if (json_is_object(v)) {
		json_object_foreach(v, k, child)
		{
			*strs += strlen(k) + 1;
			count(child, nodes, strs);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) count(child, nodes, strs);
	} else if (json_is_string(v)) {
		*strs += json_string_length(v) + 1;
	}
}

static const char *
copy_str(struct jdoc *d, const char *s, size_t n)
{
	char *out = d->strs + d->n_strs;
	memcpy(out, s, n);
	out[n] = '\0';
	d->n_strs += n + 1;
	return out;
}

static struct jv *copy(struct jdoc *d, json_t *v, int depth);

/* Appends the copy of child, a member key (NULL in an array), to container c after *last. */
static void
copy_child(struct jdoc *d, struct jv *c, struct jv **last, const char *key, json_t *child,
           int depth)
{
	struct jv *m = copy(d, child, depth);

	m->key = key;
	if (*last == NULL)
		c->first = m;
	else
		(*last)->next = m;
	*last = m;
	c->len++;
}

/* count() sized d for exactly these nodes and strings. */
static struct jv *
copy(struct jdoc *d, json_t *v, int depth)
{
	static const enum jv_type types[] = {
	    [JSON_OBJECT] = JV_OBJECT,  [JSON_ARRAY] = JV_ARRAY, [JSON_STRING] = JV_STRING,
	    [JSON_INTEGER] = JV_NUMBER, [JSON_REAL] = JV_NUMBER, [JSON_TRUE] = JV_TRUE,
	    [JSON_FALSE] = JV_FALSE,    [JSON_NULL] = JV_NULL};
	struct jv *c = node_new(d, types[json_typeof(v)]), *last = NULL;
	const char *k;
	json_t *child;
	size_t i;

	if (json_is_string(v)) {
		c->len = (uint32_t)json_string_length(v);
		c->str = copy_str(d, json_string_value(v), c->len);
	} else if (json_is_object(v)) {
		if (depth + 1 > d->depth)
			d->depth = depth + 1;
		json_object_foreach(v, k, child)
		    copy_child(d, c, &last, copy_str(d, k, strlen(k)), child, depth + 1);
	} else if (json_is_array(v)) {
		if (depth + 1 > d->depth)
			d->depth = depth + 1;
		json_array_foreach(v, i, child) copy_child(d, c, &last, NULL, child, depth + 1);
	}
	return c;
}

int
jdoc_from_jansson(struct jdoc *d, json_t *root)
{
	size_t nodes = 0, strs = 0;

	count(root, &nodes, &strs);
	if (jdoc_alloc(d, nodes, strs) < 0)
		return -1;
	copy(d, root, 0);
	return 0;
}
