/* ctl_ops: what the operator subcommands share: options, configuration and database, Beijing
 * times, JSON fields and aligned tables. */
#include "ctl.h"
#include "ctl_ops.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"

int
ctl_ops_args(const char *cmd, const char *synopsis, void (*help)(FILE *), unsigned extras,
             int n_rest, int argc, char **argv, struct ctl_ops_args *ret)
{
	static const struct option base[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	};
	static const struct {
		unsigned bit;
		struct option opt;
	} extra[] = {
	    {CTL_OPT_PRODUCER, {"producer", required_argument, NULL, 'p'}},
	    {CTL_OPT_SINCE, {"since", required_argument, NULL, 's'}},
	    {CTL_OPT_LIMIT, {"limit", required_argument, NULL, 'l'}},
	};
	struct option
	    options[sizeof(base) / sizeof(base[0]) + sizeof(extra) / sizeof(extra[0]) + 1];
	size_t n = 0;
	int c;

	/* Only the options this subcommand takes: another's is an unknown option here. */
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		options[n++] = base[i];
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extras & extra[i].bit)
			options[n++] = extra[i].opt;
	options[n] = (struct option){NULL, 0, NULL, 0};

	memset(ret, 0, sizeof(*ret));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			ret->config = optarg;
			break;
		case 'j':
			ret->json = true;
			break;
		case 'h':
			help(stdout);
			return 0;
		case 'p':
			ret->producer = optarg;
			break;
		case 's':
			ret->since = optarg;
			break;
		case 'l':
			ret->limit = optarg;
			break;
		default:
			ctl_bad_option(cmd, argv, c);
			goto usage;
		}
	}
	ret->rest = argv + optind;
	ret->n_rest = argc - optind;
	if (ret->n_rest != n_rest) {
		if (ret->n_rest > n_rest)
			fprintf(stderr, "credsyncctl %s: unexpected argument \"%s\"\n", cmd,
			        ret->rest[n_rest]);
		else
			fprintf(stderr, "credsyncctl %s: missing argument\n", cmd);
		goto usage;
	}
	if (ret->config == NULL) {
		fprintf(stderr, "credsyncctl %s: -c FILE (credsyncd's configuration) is required\n",
		        cmd);
		goto usage;
	}
	return -1;
usage:
	fprintf(stderr, "usage: credsyncctl %s\nTry 'credsyncctl %s --help' for more.\n", synopsis,
	        cmd);
	return 2;
}

int
ctl_ops_open(const char *cmd, const char *config_path, bool read_only, config **ret_cfg,
             ctl_db **ret_db)
{
	char err[1024];

	*ret_db = NULL;
	*ret_cfg = config_load(config_path, err, sizeof(err));
	if (*ret_cfg == NULL) {
		fprintf(stderr, "credsyncctl %s: %s\n", cmd, err);
		return 1;
	}
	*ret_db = ctl_db_open(*ret_cfg, read_only, err, sizeof(err));
	if (*ret_db == NULL) {
		fprintf(stderr, "credsyncctl %s: %s\n", cmd, err);
		config_free(*ret_cfg);
		*ret_cfg = NULL;
		return 1;
	}
	return 0;
}

int
ctl_ops_fail(const char *cmd, const char *reason)
{
	fprintf(stderr, "credsyncctl %s: %s\n", cmd, reason);
	return 1;
}

/* "YYYY-MM-DDTHH:MM:SS+08:00" -> "YYYY-MM-DD HH:MM:SS": the columns say the zone. */
static const char *
text_of(int64_t t, char *buf)
{
	time_format_rfc3339(t, BEIJING_OFFSET_MIN, buf);
	buf[10] = ' ';
	buf[19] = '\0';
	return buf;
}

const char *
ctl_time_text(const PGresult *res, int row, int col, char *buf)
{
	if (ctl_db_null(res, row, col)) {
		snprintf(buf, TIME_STRLEN, "-");
		return buf;
	}
	return text_of(ctl_db_i64(res, row, col), buf);
}

json_t *
ctl_time_json(const PGresult *res, int row, int col)
{
	char buf[TIME_STRLEN];

	if (ctl_db_null(res, row, col))
		return json_null();
	return json_string(time_format_rfc3339(ctl_db_i64(res, row, col), BEIJING_OFFSET_MIN, buf));
}

const char *
ctl_now_text(char *buf)
{
	return text_of((int64_t)time(NULL), buf);
}

json_t *
ctl_now_json(void)
{
	char buf[TIME_STRLEN];

	return json_string(time_format_rfc3339((int64_t)time(NULL), BEIJING_OFFSET_MIN, buf));
}

json_t *
ctl_json_str(const PGresult *res, int row, int col)
{
	if (ctl_db_null(res, row, col))
		return json_null();
	/* the database is UTF-8, so this fails only when out of memory */
	return json_string(PQgetvalue(res, row, col));
}

json_t *
ctl_json_int(const PGresult *res, int row, int col)
{
	if (ctl_db_null(res, row, col))
		return json_null();
	return json_integer((json_int_t)ctl_db_i64(res, row, col));
}

json_t *
ctl_json_bool(const PGresult *res, int row, int col)
{
	if (ctl_db_null(res, row, col))
		return json_null();
	return json_boolean(PQgetvalue(res, row, col)[0] == 't');
}

const char *
ctl_text(const PGresult *res, int row, int col)
{
	const char *s = ctl_db_str(res, row, col);

	return s[0] != '\0' ? s : "-";
}

json_t *
ctl_json_done(json_t *out, bool ok)
{
	if (!ok) {
		json_decref(out);
		return NULL;
	}
	return out;
}

int
ctl_json_set(json_t *obj, const char *key, json_t *value)
{
	if (obj == NULL || value == NULL) {
		json_decref(value);
		return -1;
	}
	return json_object_set_new(obj, key, value);
}

static json_t *
col_json(const PGresult *res, int row, int col, enum ctl_col_kind kind)
{
	switch (kind) {
	case CTL_COL_INT:
		return ctl_json_int(res, row, col);
	case CTL_COL_BOOL:
		return ctl_json_bool(res, row, col);
	case CTL_COL_TIME:
		return ctl_time_json(res, row, col);
	case CTL_COL_JSON: {
		json_t *v = ctl_db_null(res, row, col)
		                ? NULL
		                : json_loads(PQgetvalue(res, row, col), JSON_DECODE_ANY, NULL);
		return v != NULL ? v : json_null();
	}
	default:
		return ctl_json_str(res, row, col);
	}
}

int
ctl_json_rows(json_t *array, const PGresult *res, const struct ctl_col *cols, size_t n_cols)
{
	for (int row = 0; row < PQntuples(res); row++) {
		json_t *obj = json_object();
		if (json_array_append_new(array, obj) < 0)
			return -1;
		for (size_t c = 0; c < n_cols && (int)c < PQnfields(res); c++)
			if (cols[c].kind != CTL_COL_SKIP &&
			    ctl_json_set(obj, cols[c].name,
			                 col_json(res, row, (int)c, cols[c].kind)) < 0)
				return -1;
	}
	return 0;
}

/* --- tables ----------------------------------------------------------------------------- */

struct ctl_table {
	size_t n_cols, n_rows, cap_rows;
	char **cells; /* row-major; row 0 holds the headers */
};

/* Terminal columns of a UTF-8 string: East Asian wide and fullwidth characters (Chinese
 * names, decision numbers with 〔〕) take two. Bad bytes count one each. */
static size_t
display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p != '\0') {
		uint32_t cp;
		int len;

		if (*p < 0x80) {
			cp = *p;
			len = 1;
		} else if ((*p & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
			cp = (uint32_t)(*p & 0x1F) << 6 | (p[1] & 0x3F);
			len = 2;
		} else if ((*p & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
			cp = (uint32_t)(*p & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
			     (p[2] & 0x3F);
			len = 3;
		} else if ((*p & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
		           (p[3] & 0xC0) == 0x80) {
			cp = (uint32_t)(*p & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
			     (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
			len = 4;
		} else {
			cp = '?';
			len = 1;
		}
		p += len;
		bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
		            (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		            (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
		            (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
		w += wide ? 2 : 1;
	}
	return w;
}

ctl_table *
ctl_table_new(size_t n_cols, const char *const *headers)
{
	ctl_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->n_cols = n_cols;
	if (ctl_table_add(t, headers) < 0) {
		ctl_table_free(t);
		return NULL;
	}
	return t;
}

int
ctl_table_add(ctl_table *t, const char *const *cells)
{
	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **grown = realloc(t->cells, cap * t->n_cols * sizeof(*grown));
		if (grown == NULL)
			return -1;
		t->cells = grown;
		t->cap_rows = cap;
	}
	char **row = t->cells + t->n_rows * t->n_cols;
	for (size_t i = 0; i < t->n_cols; i++) {
		row[i] = strdup(cells[i] != NULL ? cells[i] : "-");
		if (row[i] == NULL) {
			while (i > 0)
				free(row[--i]);
			return -1;
		}
	}
	t->n_rows++;
	return 0;
}

size_t
ctl_table_rows(const ctl_table *t)
{
	return t->n_rows - 1;
}

void
ctl_table_print(const ctl_table *t, FILE *fp, const char *indent)
{
	size_t *width = calloc(t->n_cols, sizeof(*width));

	if (width == NULL)
		return;
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++) {
			size_t w = display_width(t->cells[r * t->n_cols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		char **row = t->cells + r * t->n_cols;
		size_t last = t->n_cols - 1;
		while (last > 0 && row[last][0] == '\0')
			last--; /* no trailing blanks */
		fputs(indent, fp);
		for (size_t c = 0; c <= last; c++) {
			const char *cell = row[c];
			fputs(cell, fp);
			if (c == last)
				break;
			for (size_t pad = display_width(cell); pad < width[c] + 2; pad++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	free(width);
}

void
ctl_table_free(ctl_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
