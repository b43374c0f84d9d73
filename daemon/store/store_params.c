/* store_params: statement parameters (text, numbers, dates, UUIDs, bytes; text from outside
 * made valid UTF-8), binary arrays and COPY rows and result fields in text format, for the
 * store_*.c files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "utf8.h"
#include "uuid5.h"

/* --- parameters ------------------------------------------------------------------------ */

void
sq_params_reset(struct sq_params *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->owned[i]);
		p->owned[i] = NULL;
	}
	p->n = 0;
}

static int
p_next(struct sq_params *p)
{
	int i = p->n;

	/* A statement with more parameters than SQ_MAXPARAMS is a programming error caught by
	 * the tests: the extra values are dropped and the server refuses the statement. */
	if (i >= SQ_MAXPARAMS)
		return SQ_MAXPARAMS - 1;
	p->n++;
	p->val[i] = NULL;
	p->len[i] = 0;
	p->fmt[i] = 0;
	p->owned[i] = NULL;
	return i;
}

void
sq_p_text(struct sq_params *p, const char *s)
{
	p->val[p_next(p)] = s;
}

void
sq_p_text_or_null(struct sq_params *p, const char *s)
{
	p->val[p_next(p)] = s != NULL && s[0] != '\0' ? s : NULL;
}

/* Copies s[0..n) to o, bytes that are not UTF-8 replaced with U+FFFD and each ASCII byte
 * through esc (its escape, or NULL to copy it) when esc is given; o has room for 3n bytes.
 * Returns the end. */
static char *
put_utf8(char *o, const char *s, size_t n, const char *(*esc)(char c))
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		if (esc == NULL && u[i] < 0x80) {
			/* a run of ASCII, copied at once (the payloads are mostly ASCII) */
			size_t j = i + 1;
			while (j < n && u[j] < 0x80)
				j++;
			memcpy(o, s + i, j - i);
			o += j - i;
			i = j;
			continue;
		}
		size_t part, l = utf8_seq(u + i, n - i, &part);
		const char *e = l == 1 && esc != NULL ? esc(s[i]) : NULL;

		if (l == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			l = 1;
		} else if (e != NULL) {
			size_t el = strlen(e);
			memcpy(o, e, el);
			o += el;
		} else {
			memcpy(o, s + i, l);
			o += l;
		}
		i += l;
	}
	return o;
}

int
sq_p_text_clean(struct sq_params *p, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i, o, bad = 0;
	char *copy;
	int k;

	if (s == NULL) {
		sq_p_text(p, NULL);
		return 0;
	}
	n = strlen(s);
	for (i = 0; i < n;) {
		size_t part, l = utf8_seq(u + i, n - i, &part);

		if (l == 0) {
			bad++;
			l = 1;
		}
		i += l;
	}
	if (bad == 0) {
		sq_p_text(p, s);
		return 0;
	}
	copy = malloc(n + bad * 2 + 1);
	if (copy == NULL)
		return -1;
	o = (size_t)(put_utf8(copy, s, n, NULL) - copy);
	copy[o] = '\0';
	k = p_next(p);
	p->val[k] = copy;
	p->owned[k] = copy;
	return 0;
}

/* v in decimal into buf (24 bytes at least), NUL-terminated; returns its length. snprintf
 * was 5% of credsyncd's CPU in the profile run, mostly for the batch arrays' integers. */
static size_t
fmt_i64(char *buf, int64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

void
sq_p_i64(struct sq_params *p, int64_t v)
{
	int i = p_next(p);

	fmt_i64(p->num[i], v);
	p->val[i] = p->num[i];
}

void
sq_p_bool(struct sq_params *p, bool b)
{
	p->val[p_next(p)] = b ? "t" : "f";
}

void
sq_p_date(struct sq_params *p, cs_date d)
{
	if (d == DATE_NONE)
		sq_p_text(p, NULL);
	else
		sq_p_i64(p, d);
}

void
sq_p_secs_or_null(struct sq_params *p, int64_t s)
{
	if (s == 0)
		sq_p_text(p, NULL);
	else
		sq_p_i64(p, s);
}

bool
sq_uuid_valid(const char *s)
{
	unsigned char b[16];

	return s != NULL && uuid_text_bytes(s, b);
}

void
sq_p_uuid(struct sq_params *p, const char *s)
{
	sq_p_text(p, sq_uuid_valid(s) ? s : NULL);
}

void
sq_p_bytes(struct sq_params *p, const void *b, size_t n)
{
	int i = p_next(p);

	p->val[i] = b != NULL ? b : "";
	p->len[i] = (int)n;
	p->fmt[i] = 1;
}

/* --- result fields --------------------------------------------------------------------- */

int
sq_get_i64(const PGresult *res, int row, int col, int64_t *ret, char *err, size_t errsz)
{
	const char *s = PQgetvalue(res, row, col);
	char *end;
	long long v;

	if (PQgetisnull(res, row, col)) {
		*ret = 0;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		snprintf(err, errsz, "column \"%s\" holds \"%s\", not an integer",
		         PQfname(res, col), s);
		return -1;
	}
	*ret = v;
	return 0;
}

int
sq_get_str(const PGresult *res, int row, int col, char *buf, size_t bufsz, char *err, size_t errsz)
{
	int len = PQgetlength(res, row, col);

	if (PQgetisnull(res, row, col)) {
		buf[0] = '\0';
		return 0;
	}
	if ((size_t)len >= bufsz) {
		snprintf(err, errsz, "column \"%s\" holds %d bytes, more than the %zu allowed",
		         PQfname(res, col), len, bufsz - 1);
		return -1;
	}
	memcpy(buf, PQgetvalue(res, row, col), (size_t)len);
	buf[len] = '\0';
	return 0;
}

bool
sq_get_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

/* --- array parameters (binary) -------------------------------------------------------- */

/* The binary form (array_recv): ndim, flags, element type, then the one dimension's size and
 * lower bound; each element its length (-1: NULL) and bytes. */
#define BARR_HEADER 20
#define TEXT_OID    25

static bool
arr_reserve(struct sq_arr *a, size_t more)
{
	if (a->oom)
		return false;
	if (a->len + more + 1 <= a->cap)
		return true;
	size_t cap = a->cap ? a->cap : 4096;
	while (cap < a->len + more + 1)
		cap *= 2;
	char *nb = realloc(a->buf, cap);
	if (nb == NULL) {
		a->oom = true;
		return false;
	}
	a->buf = nb;
	a->cap = cap;
	return true;
}

/* Appends raw bytes. */
static void
arr_raw(struct sq_arr *a, const char *s, size_t n)
{
	if (!arr_reserve(a, n))
		return;
	memcpy(a->buf + a->len, s, n);
	a->len += n;
	a->buf[a->len] = '\0';
}

static void
put_be32(char *o, uint32_t v)
{
	o[0] = (char)(v >> 24);
	o[1] = (char)(v >> 16);
	o[2] = (char)(v >> 8);
	o[3] = (char)v;
}

static void
put_be64(char *o, uint64_t v)
{
	put_be32(o, (uint32_t)(v >> 32));
	put_be32(o + 4, (uint32_t)v);
}

/* The header of a binary array of n elements of type oid at o (BARR_HEADER bytes; 12 when n
 * is 0: an empty array has no dimension). */
static void
put_barr_header(char *o, int n, bool has_null, uint32_t oid)
{
	put_be32(o, n > 0 ? 1 : 0);
	put_be32(o + 4, has_null ? 1 : 0);
	put_be32(o + 8, oid);
	if (n > 0) {
		put_be32(o + 12, (uint32_t)n);
		put_be32(o + 16, 1);
	}
}

/* The element type's OID (pg_type.h). */
static uint32_t
el_oid(char el)
{
	switch (el) {
	case 'u':
		return 2950;
	case '4':
		return 23;
	case '8':
		return 20;
	case 'b':
		return 16;
	case 'y':
		return 17;
	default:
		return TEXT_OID;
	}
}

void
sq_arrs_begin(struct sq_arr *a, const char *types)
{
	for (size_t i = 0; types[i] != '\0'; i++) {
		a[i].len = 0;
		a[i].oom = false;
		a[i].el = types[i];
		a[i].n_el = 0;
		a[i].has_null = false;
		if (arr_reserve(&a[i], BARR_HEADER))
			a[i].len = BARR_HEADER;
	}
}

void
sq_arr_free(struct sq_arr *a)
{
	free(a->buf);
	*a = (struct sq_arr){0};
}

/* Opens an element of n bytes (-1: NULL); returns where its bytes go, or NULL (NULL, or out
 * of memory). */
static char *
barr_el(struct sq_arr *a, int32_t n)
{
	a->n_el++;
	if (n < 0)
		a->has_null = true;
	if (!arr_reserve(a, 4 + (n > 0 ? (size_t)n : 0)))
		return NULL;
	put_be32(a->buf + a->len, (uint32_t)n);
	a->len += 4;
	return n < 0 ? NULL : a->buf + a->len;
}

/* s[0..n) at start (NULL: out of memory), an element or field opened for n * 3 bytes (at
 * worst every byte is replaced by U+FFFD's 3), its length in the 4 bytes before it set once
 * known; the buffer ends after it. */
static void
put_text_at(struct sq_arr *a, char *start, const char *s, size_t n)
{
	if (start == NULL)
		return;
	char *end = put_utf8(start, s, n, NULL);
	put_be32(start - 4, (uint32_t)(end - start));
	a->len = (size_t)(end - a->buf);
}

/* An element of type el (or NULL), n bytes at v. Any other type: the caller's mistake,
 * failed as running out of memory is (sq_p_arr returns -1), never sent as something else. */
static void
barr_fixed(struct sq_arr *a, char el, const void *v, int32_t n)
{
	if (a->el != el) {
		a->oom = true;
		return;
	}
	char *o = barr_el(a, n);
	if (o != NULL && n > 0) {
		memcpy(o, v, (size_t)n);
		a->len += (size_t)n;
	}
}

void
sq_arr_null(struct sq_arr *a)
{
	barr_el(a, -1);
}

void
sq_arr_text(struct sq_arr *a, const char *s)
{
	if (a->el == 'u') {
		sq_arr_uuid(a, s);
		return;
	}
	if (a->el != 't') {
		a->oom = true;
		return;
	}
	if (s == NULL) {
		sq_arr_null(a);
		return;
	}
	size_t n = strlen(s);
	if (n > INT32_MAX / 3)
		a->oom = true;
	else
		put_text_at(a, barr_el(a, (int32_t)(n * 3)), s, n);
}

void
sq_arr_text_or_null(struct sq_arr *a, const char *s)
{
	sq_arr_text(a, s != NULL && s[0] != '\0' ? s : NULL);
}

void
sq_arr_i64(struct sq_arr *a, int64_t v)
{
	char b[8];

	if (a->el == '4' && v >= INT32_MIN && v <= INT32_MAX) {
		put_be32(b, (uint32_t)v);
		barr_fixed(a, '4', b, 4);
	} else {
		/* a bigint; for an integer array, out of its range: refused as the server would */
		put_be64(b, (uint64_t)v);
		barr_fixed(a, '8', b, 8);
	}
}

void
sq_arr_bool(struct sq_arr *a, bool b)
{
	char v = b ? 1 : 0;

	barr_fixed(a, 'b', &v, 1);
}

void
sq_arr_date(struct sq_arr *a, cs_date d)
{
	if (d == DATE_NONE)
		sq_arr_null(a);
	else
		sq_arr_i64(a, d);
}

void
sq_arr_secs_or_null(struct sq_arr *a, int64_t s)
{
	if (s == 0)
		sq_arr_null(a);
	else
		sq_arr_i64(a, s);
}

void
sq_arr_uuid(struct sq_arr *a, const char *s)
{
	unsigned char b[16];

	if (a->el != 'u')
		a->oom = true;
	else if (s == NULL || !uuid_text_bytes(s, b))
		sq_arr_null(a);
	else
		barr_fixed(a, 'u', b, sizeof(b));
}

void
sq_arr_bytes(struct sq_arr *a, const void *b, size_t n)
{
	if (n > INT32_MAX)
		a->oom = true;
	else
		barr_fixed(a, 'y', b, (int32_t)n);
}

int
sq_p_arr(struct sq_params *p, struct sq_arr *a)
{
	if (a->oom || a->len > INT32_MAX)
		return -1;
	put_barr_header(a->buf, a->n_el, a->has_null, el_oid(a->el));
	sq_p_bytes(p, a->buf, a->n_el > 0 ? a->len : 12);
	return 0;
}

/* --- COPY rows (binary format) ---------------------------------------------------------- */

/* PostgreSQL's epoch (2000-01-01) in days and milliseconds after the Unix one. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_MS   INT64_C(946684800000)

static void
put_be16(char *o, uint16_t v)
{
	o[0] = (char)(v >> 8);
	o[1] = (char)v;
}

void
sq_copy_begin(struct sq_arr *a)
{
	/* signature, flags (no OIDs), length of the header extension */
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

	a->len = 0;
	a->oom = false;
	a->row_start = true;
	arr_raw(a, header, sizeof(header));
}

/* Opens a field of n bytes (-1: NULL), the row first when it is the row's first field.
 * Returns where its n bytes go, or NULL (out of memory, or NULL). */
static char *
copy_field(struct sq_arr *a, int32_t n)
{
	if (!arr_reserve(a, 2 + 4 + (n > 0 ? (size_t)n : 0)))
		return NULL;
	if (a->row_start) {
		a->row_at = a->len; /* the field count, set by sq_copy_row_end */
		a->len += 2;
		a->n_el = 0;
		a->row_start = false;
	}
	a->n_el++;
	put_be32(a->buf + a->len, (uint32_t)n);
	a->len += 4;
	return n < 0 ? NULL : a->buf + a->len;
}

static void
copy_fixed(struct sq_arr *a, const void *v, int32_t n)
{
	char *o = copy_field(a, n);

	if (o != NULL) {
		memcpy(o, v, (size_t)n);
		a->len += (size_t)n;
	}
}

void
sq_copy_null(struct sq_arr *a)
{
	copy_field(a, -1);
}

void
sq_copy_text(struct sq_arr *a, const char *s)
{
	if (s == NULL) {
		sq_copy_null(a);
		return;
	}
	size_t n = strlen(s);
	if (n > INT32_MAX / 3)
		a->oom = true;
	else
		put_text_at(a, copy_field(a, (int32_t)(n * 3)), s, n);
}

void
sq_copy_text_or_null(struct sq_arr *a, const char *s)
{
	sq_copy_text(a, s != NULL && s[0] != '\0' ? s : NULL);
}

void
sq_copy_i32(struct sq_arr *a, int32_t v)
{
	char b[4];

	put_be32(b, (uint32_t)v);
	copy_fixed(a, b, 4);
}

void
sq_copy_i64(struct sq_arr *a, int64_t v)
{
	char b[8];

	put_be64(b, (uint64_t)v);
	copy_fixed(a, b, 8);
}

void
sq_copy_uuid(struct sq_arr *a, const char *s)
{
	unsigned char b[16];

	if (s == NULL || !uuid_text_bytes(s, b))
		sq_copy_null(a);
	else
		copy_fixed(a, b, sizeof(b));
}

void
sq_copy_date(struct sq_arr *a, cs_date d)
{
	if (d == DATE_NONE)
		sq_copy_null(a);
	else
		sq_copy_i32(a, d - PG_EPOCH_DAYS);
}

void
sq_copy_instant_ms(struct sq_arr *a, int64_t ms)
{
	sq_copy_i64(a, (ms - PG_EPOCH_MS) * 1000); /* microseconds */
}

void
sq_copy_bool(struct sq_arr *a, bool b)
{
	char v = b ? 1 : 0;

	copy_fixed(a, &v, 1);
}

void
sq_copy_text_array(struct sq_arr *a, const char *const *el, int n)
{
	/* array_recv's form, as sq_p_barr writes it; the elements go as they are (credsync's own
	 * names, not sanitised) */
	size_t len = n > 0 ? BARR_HEADER : 12;

	for (int i = 0; i < n; i++)
		len += 4 + strlen(el[i]);
	if (len > INT32_MAX) {
		a->oom = true;
		return;
	}
	char *o = copy_field(a, (int32_t)len);
	if (o == NULL)
		return;
	put_barr_header(o, n, false, TEXT_OID);
	o += n > 0 ? BARR_HEADER : 12;
	for (int i = 0; i < n; i++) {
		size_t m = strlen(el[i]);
		put_be32(o, (uint32_t)m);
		memcpy(o + 4, el[i], m);
		o += 4 + m;
	}
	a->len += len;
}

void
sq_copy_secs_or_null(struct sq_arr *a, int64_t s)
{
	if (s == 0)
		sq_copy_null(a);
	else
		sq_copy_instant_ms(a, s * 1000);
}

void
sq_copy_bytes(struct sq_arr *a, const void *b, size_t n)
{
	if (n > INT32_MAX)
		a->oom = true;
	else
		copy_fixed(a, b, (int32_t)n);
}

void
sq_copy_row_end(struct sq_arr *a)
{
	if (!a->oom && !a->row_start)
		put_be16(a->buf + a->row_at, (uint16_t)a->n_el);
	a->row_start = true;
}

void
sq_copy_end(struct sq_arr *a)
{
	arr_raw(a, "\377\377", 2); /* a field count of -1 */
}
