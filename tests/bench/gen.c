/* credsync-gen: a deterministic stream of realistic inbound events for the benchmark, one
 * kcat-ready file per credit.in.<producer> topic plus a manifest of what it wrote. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"
#include "paths.h"

static int
load_lists(struct gen *g, const char *datadir, char *err, size_t errsz)
{
	char path[4096], line[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/data/lists.tsv", datadir);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "could not open \"%.300s\": %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *f[5] = {0};
		char *p = line;
		int n = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		while (n < 5) {
			f[n++] = p;
			p = strchr(p, '\t');
			if (p == NULL)
				break;
			*p++ = '\0';
		}
		if (n < 4 || g->nlists == MAX_LISTS || strlen(f[0]) >= 64)
			continue;
		struct list *l = &g->lists[g->nlists];
		memset(l, 0, sizeof(*l));
		memcpy(l->code, f[0], strlen(f[0]));
		l->abnormal = strcmp(f[1], "abnormal") == 0;
		for (char *o = f[3]; *o != '\0' && l->nowners < MAX_OWNERS;) {
			size_t len = strcspn(o, ",");

			if (len < 64 && len > 0) {
				memcpy(l->owners[l->nowners], o, len);
				l->owners[l->nowners][len] = '\0';
				l->nowners++;
			}
			o += len;
			if (*o == ',')
				o++;
		}
		if (l->nowners > 0 && rules_list_known(g->r, l->code))
			g->nlists++;
	}
	fclose(fp);
	if (g->nlists == 0) {
		snprintf(err, errsz, "no lists in \"%.300s\"", path);
		return -1;
	}
	return 0;
}

/* ---- main ---- */

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "usage: credsync-gen --seed N --events N --out DIR [--dup-rate 0.01]\n"
	        "                    [--invalid-rate 0.005] [--schemas DIR] [--today YYYY-MM-DD]\n"
	        "Writes DIR/credit.in.<producer>.tsv (\"<uscc>\\t<json>\" per line, for\n"
	        "kcat -P -K '\\t' -l) and DIR/manifest.json. The same seed, size and --today give\n"
	        "the same bytes; dates fall in the 700 days before --today (default %s).\n",
	        "2026-11-20");
}

static int
parse_long(const char *s, long min, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		return -1;
	*ret = v;
	return 0;
}

static int
parse_rate(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 0.5))
		return -1;
	*ret = v;
	return 0;
}

static int
write_manifest(const struct gen *g, const char *dir, long seed, double dup, double inv)
{
	static const char *const INTENDED[] = {"not_list_owner", "not_entry_owner", "wrong_channel",
	                                       "not_repairable"};
	json_t *m = json_object(), *topics = json_object(), *types = json_object(),
	       *invs = json_object(), *intended = json_object();
	char path[4096], day[DATE_STRLEN];
	long rejects = g->invalid;
	int rc;

	for (int i = 0; i < g->nprod; i++) {
		char t[128];

		snprintf(t, sizeof(t), "credit.in.%s", g->prod[i].code);
		json_object_set_new(topics, t, json_integer(g->prod[i].count));
	}
	for (int i = 0; i < 9; i++)
		json_object_set_new(types, GEN_TYPES[i], json_integer(g->by_type[i]));
	for (int i = 0; i < INVALID_KINDS; i++)
		json_object_set_new(invs, GEN_INVALID_NAMES[i], json_integer(g->invalid_by[i]));
	for (int i = 0; i < 4; i++) {
		json_object_set_new(intended, INTENDED[i], json_integer(g->intended[i]));
		rejects += g->intended[i];
	}
	json_object_set_new(m, "seed", json_integer(seed));
	json_object_set_new(m, "today", json_string(date_format(g->today, day)));
	json_object_set_new(m, "dup_rate", json_real(dup));
	json_object_set_new(m, "invalid_rate", json_real(inv));
	json_object_set_new(m, "messages", json_integer(g->emitted));
	json_object_set_new(m, "unique_events", json_integer(g->emitted - g->dups));
	json_object_set_new(m, "duplicates", json_integer(g->dups));
	json_object_set_new(m, "invalid", json_integer(g->invalid));
	json_object_set_new(m, "invalid_by_reason", invs);
	json_object_set_new(m, "intended_stateful_rejects", intended);
	json_object_set_new(m, "expected_rejects_at_least", json_integer(rejects));
	json_object_set_new(m, "by_type", types);
	json_object_set_new(m, "subjects", json_integer(gen_nsubjects));
	json_object_set_new(m, "topics", topics);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	rc = json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"seed", required_argument, NULL, 's'},
	                                     {"events", required_argument, NULL, 'n'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"dup-rate", required_argument, NULL, 'd'},
	                                     {"invalid-rate", required_argument, NULL, 'i'},
	                                     {"schemas", required_argument, NULL, 'S'},
	                                     {"today", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	static struct gen g;
	const char *out = NULL, *datadir = NULL, *today = "2026-11-20";
	long seed = -1, events = -1;
	double dup = 0.01, inv = 0.005;
	char err[512];
	rules *r;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "s:n:o:d:i:S:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_long(optarg, 0, &seed) < 0)
				goto bad;
			break;
		case 'n':
			if (parse_long(optarg, 1, &events) < 0)
				goto bad;
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			if (parse_rate(optarg, &dup) < 0)
				goto bad;
			break;
		case 'i':
			if (parse_rate(optarg, &inv) < 0)
				goto bad;
			break;
		case 'S':
			datadir = optarg;
			break;
		case 't':
			today = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || out == NULL || seed < 0 || events < 1) {
		usage(stderr);
		return 2;
	}
	if (date_parse(today, &g.today) < 0) {
		fprintf(stderr, "credsync-gen: invalid --today \"%s\"\n", today);
		return 2;
	}
	if (datadir == NULL)
		datadir = paths_datadir();
	if ((r = rules_load(datadir, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "credsync-gen: could not load the rules: %s\n", err);
		return 1;
	}
	g.r = r;
	g.target = events;
	gen_seed((uint64_t)seed);
	if (mkdir(out, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "credsync-gen: could not create \"%s\": %s\n", out,
		        strerror(errno));
		goto done;
	}
	for (const char *code;
	     g.nprod < MAX_PRODUCERS && (code = rules_producer_at(r, (size_t)g.nprod)) != NULL;) {
		struct producer *p = &g.prod[g.nprod];
		char path[4096];

		p->code = code;
		p->system = rules_producer_is_system(r, code);
		gen_uscc(p->issuer_uscc, "11", "150000");
		if (!p->system)
			g.authorities[g.nauth++] = g.nprod;
		snprintf(path, sizeof(path), "%s/credit.in.%s.tsv", out, code);
		if ((p->fp = fopen(path, "w")) == NULL) {
			fprintf(stderr, "credsync-gen: could not create \"%s\": %s\n", path,
			        strerror(errno));
			goto done;
		}
		g.nprod++;
	}
	if (g.nauth < 2 || load_lists(&g, datadir, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsync-gen: %s\n",
		        g.nauth < 2 ? "fewer than 2 authorities" : err);
		goto done;
	}
	gen_nsubjects = events / 3 < 1000 ? 1000 : events / 3;
	if ((gen_subject_tab = calloc((size_t)gen_nsubjects, sizeof(*gen_subject_tab))) == NULL) {
		fprintf(stderr, "credsync-gen: out of memory\n");
		goto done;
	}
	gen_subjects(gen_nsubjects);

	while (g.emitted < g.target) {
		/* Duplicates and invalid events keep to their rates of the messages written; a
		 * story writes several events. */
		double next = (double)(g.emitted + 1);
		int st;

		if ((double)g.dups < dup * next && g.ring_n > 0 && gen_chance(0.5))
			st = gen_duplicate(&g);
		else if ((double)g.invalid < inv * next && gen_chance(0.5))
			st = gen_invalid(&g);
		else if (gen_chance(0.3))
			st = gen_list_story(&g);
		else
			st = gen_penalty_story(&g);
		if (st < 0) {
			fprintf(stderr, "credsync-gen: could not write an event: %s\n",
			        strerror(errno));
			goto done;
		}
	}
	rc = 0;
done:
	for (int i = 0; i < g.nprod; i++)
		if (g.prod[i].fp != NULL && fclose(g.prod[i].fp) != 0 && rc == 0) {
			fprintf(stderr, "credsync-gen: could not write \"%s\": %s\n",
			        g.prod[i].code, strerror(errno));
			rc = 1;
		}
	if (rc == 0 && write_manifest(&g, out, seed, dup, inv) != 0) {
		fprintf(stderr, "credsync-gen: could not write the manifest\n");
		rc = 1;
	}
	for (int i = 0; i < g.ring_n; i++)
		free(g.ring[i]);
	free(gen_subject_tab);
	rules_free(r);
	return rc;
bad:
	fprintf(stderr, "credsync-gen: invalid value \"%s\"\n", optarg);
	usage(stderr);
	return 2;
}
