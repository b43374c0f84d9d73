/* credsync-gen: a deterministic stream of realistic inbound events for the benchmark, one
 * kcat-ready file per credit.in.<producer> topic plus a manifest of what it wrote. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "date.h"
#include "paths.h"
#include "rules.h"
#include "uscc.h"

#define MAX_PRODUCERS 128
#define MAX_LISTS     128
#define MAX_OWNERS    16
#define DUP_RING      256

/* ---- deterministic randomness (xoshiro256**, seeded by splitmix64) ---- */

static uint64_t rng_s[4];

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(void)
{
	uint64_t result = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return result;
}

/* Uniform in [0, n). */
static uint32_t
rnd(uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(rng_next() % n);
}

/* Uniform in [0, 1). */
static double
rndf(void)
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static bool
chance(double p)
{
	return rndf() < p;
}

/* ---- domain data ---- */

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
	long by_type[9];
	long invalid_by[8];
	long intended[4]; /* not_list_owner, not_entry_owner, wrong_channel, not_repairable */
	/* recent lines for re-sending (duplicates) */
	char *ring[DUP_RING];
	int ring_prod[DUP_RING];
	int ring_n;
};

static const char *const TYPES[] = {"penalty.issued",  "penalty.repaired", "penalty.revoked",
                                    "list.added",      "list.removed",     "repair.applied",
                                    "repair.accepted", "repair.declined",  "repair.denied"};
enum {
	T_ISSUED,
	T_REPAIRED,
	T_REVOKED,
	T_ADDED,
	T_REMOVED,
	T_APPLIED,
	T_ACCEPTED,
	T_DECLINED,
	T_DENIED
};
static const char *const INVALID_NAMES[] = {"malformed_json", "invalid_uscc",      "missing_field",
                                            "unknown_type",   "producer_mismatch", "unknown_list",
                                            "invalid_field",  "unsupported_schema"};
#define INVALID_KINDS 8

static const char USCC_ALPHA[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int USCC_W[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* Inner Mongolia region codes (GB/T 2260): leagues, cities and some of their districts. */
static const char *const REGIONS[] = {
    "150000", "150100", "150102", "150103", "150104", "150105", "150121", "150122", "150200",
    "150202", "150203", "150204", "150205", "150207", "150300", "150302", "150400", "150402",
    "150404", "150500", "150502", "150600", "150602", "150603", "150700", "150702", "150800",
    "150802", "150900", "150902", "152200", "152201", "152500", "152501", "152502", "152900"};
static const char *const CITY[] = {"呼和浩特", "包头",     "乌海",     "赤峰",
                                   "通辽",     "鄂尔多斯", "呼伦贝尔", "巴彦淖尔",
                                   "乌兰察布", "锡林浩特", "阿拉善"};
static const char *const WORD[] = {"鑫源", "草原", "蒙丰", "北疆", "金马", "天骄", "绿野", "恒达",
                                   "瑞祥", "华泰", "宏远", "塞北", "兴安", "阴山", "黄河", "银河"};
static const char *const TRADE[] = {"商贸", "乳业", "建筑工程", "物流",   "餐饮",     "煤业",
                                    "药业", "科技", "羊绒制品", "农牧业", "物业服务", "运输"};

/* Fills a valid USCC: dept+type (2 chars), region (6), 9 random characters, check. */
static void
make_uscc(char out[USCC_BUF], const char *head2, const char *region)
{
	int sum = 0;

	memcpy(out, head2, 2);
	memcpy(out + 2, region, 6);
	for (int i = 8; i < 17; i++)
		out[i] = USCC_ALPHA[rnd(31)];
	for (int i = 0; i < 17; i++)
		sum += (int)(strchr(USCC_ALPHA, out[i]) - USCC_ALPHA) * USCC_W[i];
	out[17] = USCC_ALPHA[(31 - sum % 31) % 31];
	out[18] = '\0';
}

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

static int
prod_index(const struct gen *g, const char *code)
{
	for (int i = 0; i < g->nprod; i++)
		if (strcmp(g->prod[i].code, code) == 0)
			return i;
	return -1;
}

/* ---- subjects ---- */

struct subject {
	char uscc[USCC_BUF];
	char name[160];
	bool individual;
};

static struct subject *subjects;
static long nsubjects;

static void
make_subjects(long n)
{
	nsubjects = n;
	for (long i = 0; i < n; i++) {
		struct subject *s = &subjects[i];
		const char *region = REGIONS[rnd(sizeof(REGIONS) / sizeof(REGIONS[0]))];
		uint32_t t = rnd(100);
		const char *city = CITY[rnd(sizeof(CITY) / sizeof(CITY[0]))];
		const char *w = WORD[rnd(sizeof(WORD) / sizeof(WORD[0]))];
		const char *tr = TRADE[rnd(sizeof(TRADE) / sizeof(TRADE[0]))];

		s->individual = t >= 80 && t < 95;
		make_uscc(s->uscc, t < 80 ? "91" : t < 95 ? "92" : "93", region);
		if (s->individual)
			snprintf(s->name, sizeof(s->name), "%s市%s区%s%s店（个体工商户）", city, w,
			         tr, s->uscc + 12);
		else if (t >= 95)
			snprintf(s->name, sizeof(s->name), "%s%s%s专业合作社%s", city, w, tr,
			         s->uscc + 12);
		else
			snprintf(s->name, sizeof(s->name), "%s%s%s有限公司%s", city, w, tr,
			         s->uscc + 12);
	}
}

static const struct subject *
pick_subject(bool individual)
{
	for (int tries = 0; tries < 64; tries++) {
		const struct subject *s = &subjects[rnd((uint32_t)nsubjects)];

		if (s->individual == individual)
			return s;
	}
	return &subjects[rnd((uint32_t)nsubjects)];
}

/* ---- output ---- */

static void
ring_put(struct gen *g, int p, const char *line)
{
	int slot = g->ring_n < DUP_RING ? g->ring_n++ : (int)rnd(DUP_RING);

	free(g->ring[slot]);
	g->ring[slot] = strdup(line);
	g->ring_prod[slot] = p;
}

/* Writes one line; past the target size, drops it (a story cut short) and returns 1. */
static int
write_line(struct gen *g, int p, const char *line)
{
	if (g->emitted >= g->target)
		return 1;
	if (fputs(line, g->prod[p].fp) == EOF)
		return -1;
	g->prod[p].count++;
	g->emitted++;
	return 0;
}

/* Writes "<key>\t<json>\n" to producer p's file; takes ownership of ev. */
static int
emit(struct gen *g, int p, const char *key, json_t *ev, bool remember)
{
	int type = 0;
	char *js;

	if (ev == NULL)
		return -1;
	for (int i = 0; i < 9; i++)
		if (strcmp(json_string_value(json_object_get(ev, "type")), TYPES[i]) == 0)
			type = i;
	js = json_dumps(ev, JSON_COMPACT);
	char *line;
	size_t len;
	int rc;

	json_decref(ev);
	if (js == NULL)
		return -1;
	len = strlen(key) + strlen(js) + 3;
	if ((line = malloc(len)) == NULL) {
		free(js);
		return -1;
	}
	snprintf(line, len, "%s\t%s\n", key, js);
	free(js);
	rc = write_line(g, p, line);
	if (rc == 0 && remember) {
		ring_put(g, p, line);
		g->by_type[type]++;
	}
	free(line);
	return rc;
}

static void
uuid_v4(char out[37])
{
	uint64_t a = rng_next(), b = rng_next();

	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	         (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
	         (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
	         (unsigned long long)(b & 0xffffffffffffULL));
}

/* RFC 3339 in Beijing time of a date plus seconds into the day. */
static json_t *
instant(cs_date day, int secs)
{
	char buf[TIME_STRLEN];
	int64_t t = (int64_t)day * 86400 + secs - BEIJING_OFFSET_MIN * 60;

	return json_string(time_format_rfc3339(t, BEIJING_OFFSET_MIN, buf));
}

static json_t *
date_json(cs_date d)
{
	char buf[DATE_STRLEN];

	return json_string(date_format(d, buf));
}

static json_t *
event_new(struct gen *g, int type, int p, const struct subject *s, cs_date day, int secs,
          json_t *record)
{
	char id[37];

	uuid_v4(id);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}, s:o}", "schema",
	                 "credsync.event/1", "event_id", id, "type", TYPES[type], "producer",
	                 g->prod[p].code, "occurred_at", instant(day, secs), "subject", "uscc",
	                 s->uscc, "name", s->name, "record", record);
}

/* A random day in [from, to] (to >= from). */
static cs_date
day_between(cs_date from, cs_date to)
{
	return to <= from ? from : from + (cs_date)rnd((uint32_t)(to - from + 1));
}

static int
office_secs(void)
{
	return 8 * 3600 + 1800 + (int)rnd(9 * 3600);
}

/* ---- stories: the events of one record's life ---- */

static const char *const HEAVY[] = {"confiscation",
                                    "license_suspension",
                                    "qualification_downgrade",
                                    "license_revocation",
                                    "business_restriction",
                                    "production_suspension",
                                    "closure",
                                    "practice_restriction",
                                    "detention",
                                    "other"};
#define NHEAVY (sizeof(HEAVY) / sizeof(HEAVY[0]))

static const char *
pick_field(void)
{
	uint32_t f = rnd(100);

	return f < 60   ? "other"
	       : f < 70 ? "food"
	       : f < 78 ? "drug"
	       : f < 85 ? "special_equipment"
	       : f < 93 ? "work_safety"
	                : "fire";
}

static int
pick_authority(const struct gen *g)
{
	uint32_t r = rnd(100);
	int i;

	if (r < 25 && (i = prod_index(g, "nm-samr")) >= 0)
		return i;
	if (r < 40 && (i = prod_index(g, "nm-tax")) >= 0)
		return i;
	return g->authorities[rnd((uint32_t)g->nauth)];
}

static void
decision_no(struct gen *g, int p, const char *kind, cs_date day, char *buf, size_t sz)
{
	snprintf(buf, sz, "蒙%s%s〔%d〕%ld号", g->prod[p].code, kind, date_year(day),
	         ++g->prod[p].next_no);
}

static json_t *
categories(int kind, json_t **fine)
{
	json_t *a = json_array();
	char buf[32];

	*fine = NULL;
	if (kind == 0) { /* a warning only: never disclosed */
		json_array_append_new(a, json_string("warning"));
	} else if (kind == 1) { /* light: criticism and/or a lower-amount fine */
		if (chance(0.4))
			json_array_append_new(a, json_string("criticism"));
		if (json_array_size(a) == 0 || chance(0.5)) {
			json_array_append_new(a, json_string("fine"));
			snprintf(buf, sizeof(buf), "%u.00", 500 + rnd(99000));
			*fine = json_string(buf);
		}
	} else {
		uint32_t first = rnd(NHEAVY);

		if (chance(0.6)) {
			json_array_append_new(a, json_string("fine"));
			snprintf(buf, sizeof(buf), "%u.%02u", 100000 + rnd(2000000), rnd(100));
			*fine = json_string(buf);
			if (chance(0.5))
				json_array_append_new(a, json_string(HEAVY[first]));
		} else {
			json_array_append_new(a, json_string(HEAVY[first]));
		}
		if (chance(0.2))
			json_array_append_new(
			    a, json_string(HEAVY[(first + 1 + rnd(NHEAVY - 1)) % NHEAVY]));
		if (chance(0.1))
			json_array_append_new(a, json_string("warning"));
	}
	return a;
}

/* The application, acceptance and maybe the refusal of a repair, from the channel system. */
static int
repair_steps(struct gen *g, int sys, const struct subject *s, const char *dno, cs_date applied,
             int outcome)
{
	char app[160];

	snprintf(app, sizeof(app), "%s修申〔%d〕%ld号", g->prod[sys].code, date_year(applied),
	         ++g->prod[sys].next_no);
	if (emit(g, sys, s->uscc,
	         event_new(g, T_APPLIED, sys, s, applied, 9 * 3600,
	                   json_pack("{s:s, s:s, s:o}", "decision_no", dno, "application_no", app,
	                             "applied_at", instant(applied, 9 * 3600))),
	         true) < 0)
		return -1;
	if (outcome == T_DECLINED)
		return emit(
		    g, sys, s->uscc,
		    event_new(g, T_DECLINED, sys, s, applied + 2, 10 * 3600,
		              json_pack("{s:s, s:s, s:o}", "decision_no", dno, "application_no",
		                        app, "decided_at", instant(applied + 2, 10 * 3600))),
		    true);
	if (emit(g, sys, s->uscc,
	         event_new(g, T_ACCEPTED, sys, s, applied + 1, 10 * 3600,
	                   json_pack("{s:s, s:s, s:o}", "decision_no", dno, "application_no", app,
	                             "accepted_at", instant(applied + 1, 10 * 3600))),
	         true) < 0)
		return -1;
	if (outcome == T_DENIED)
		return emit(
		    g, sys, s->uscc,
		    event_new(g, T_DENIED, sys, s, applied + 5, 11 * 3600,
		              json_pack("{s:s, s:s, s:o}", "decision_no", dno, "application_no",
		                        app, "decided_at", instant(applied + 5, 11 * 3600))),
		    true);
	return 0;
}

static int
penalty_story(struct gen *g)
{
	int p = pick_authority(g), kind;
	const struct subject *s = pick_subject(chance(0.15));
	cs_date decided = day_between(g->today - 700, g->today - 1);
	const char *field = pick_field();
	char dno[160], err[256];
	json_t *cats, *fine, *rec;
	struct penalty_facts pf = {0};
	struct periods per;
	uint32_t k = rnd(100);

	kind = k < 2 ? 0 : k < 12 ? 1 : 2;
	decision_no(g, p, "罚", decided, dno, sizeof(dno));
	cats = categories(kind, &fine);
	pf.decided_on = decided;
	pf.field = (enum field)field_parse(field);
	pf.producer = g->prod[p].code;
	for (size_t i = 0; i < json_array_size(cats); i++)
		pf.categories |=
		    (unsigned)category_parse(json_string_value(json_array_get(cats, i)));
	if (fine != NULL) {
		pf.has_fine = true;
		if (rules_parse_yuan(json_string_value(fine), &pf.fine_fen) < 0)
			pf.has_fine = false;
	}
	if (rules_periods(g->r, &pf, &per, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsync-gen: %s\n", err);
		return -1;
	}
	rec = json_pack("{s:s, s:o, s:o, s:s, s:{s:s, s:s}}", "decision_no", dno, "decided_on",
	                date_json(decided), "categories", cats, "field", field, "issuer", "name",
	                rules_producer_name_zh(g->r, g->prod[p].code), "uscc",
	                g->prod[p].issuer_uscc);
	if (fine != NULL)
		json_object_set_new(rec, "fine_yuan", fine);
	if (emit(g, p, s->uscc, event_new(g, T_ISSUED, p, s, decided, office_secs(), rec), true) <
	    0)
		return -1;

	if (chance(0.03)) { /* the decision is revoked by its maker */
		cs_date on = day_between(decided + 1, g->today);

		return emit(g, p, s->uscc,
		            event_new(g, T_REVOKED, p, s, on, office_secs(),
		                      json_pack("{s:s, s:o}", "decision_no", dno, "revoked_on",
		                                date_json(on))),
		            true);
	}
	if (per.repairable_from == DATE_NONE || per.repairable_from + 12 > g->today || !chance(0.4))
		return 0;

	int sys = prod_index(g, site_name(per.channel)), outcome = T_REPAIRED;
	cs_date repaired = day_between(per.repairable_from + 12, g->today);

	if (sys < 0)
		return 0;
	if (chance(0.1))
		outcome = chance(0.5) ? T_DECLINED : T_DENIED;
	if ((outcome != T_REPAIRED || chance(0.7)) &&
	    repair_steps(g, sys, s, dno, repaired - 8, outcome) < 0)
		return -1;
	if (outcome != T_REPAIRED)
		return 0;
	if (chance(0.03)) { /* decided by the wrong system: wrong_channel */
		sys = prod_index(
		    g, site_name(per.channel == SITE_GSXT ? SITE_CREDITCHINA : SITE_GSXT));
		g->intended[2]++;
	}
	char rdn[160];

	snprintf(rdn, sizeof(rdn), "%s修决〔%d〕%ld号", g->prod[sys].code, date_year(repaired),
	         ++g->prod[sys].next_no);
	return emit(g, sys, s->uscc,
	            event_new(g, T_REPAIRED, sys, s, repaired, 15 * 3600,
	                      json_pack("{s:s, s:o, s:s}", "decision_no", dno, "repaired_on",
	                                date_json(repaired), "repair_decision_no", rdn)),
	            true);
}

static int
list_story(struct gen *g)
{
	const struct list *l = &g->lists[rnd((uint32_t)g->nlists)];
	int p = prod_index(g, l->owners[rnd((uint32_t)l->nowners)]);
	const struct subject *s = pick_subject(strcmp(l->code, "abnormal-individual") == 0);
	cs_date listed = day_between(g->today - 700, g->today - 1);
	bool owner = true;
	char dno[160];

	if (p < 0)
		return 0;
	if (chance(0.02)) { /* an authority adding to a list it does not own: not_list_owner */
		int q = g->authorities[rnd((uint32_t)g->nauth)];

		if (!rules_list_owner(g->r, l->code, g->prod[q].code)) {
			p = q;
			owner = false;
			g->intended[0]++;
		}
	}
	decision_no(g, p, "列", listed, dno, sizeof(dno));
	json_t *rec =
	    json_pack("{s:s, s:s, s:o, s:s}", "list", l->code, "decision_no", dno, "listed_on",
	              date_json(listed), "reason",
	              l->abnormal ? "通过登记的住所或者经营场所无法联系" : "经认定为严重失信主体");

	if (emit(g, p, s->uscc, event_new(g, T_ADDED, p, s, listed, office_secs(), rec), true) < 0)
		return -1;
	if (!owner || !chance(0.35))
		return 0;

	cs_date removed = day_between(listed + 1, g->today);

	if (l->nowners > 1 && chance(0.05)) {
		/* removed by another owner of the list, not the one who added it: not_entry_owner
		 */
		int q = prod_index(g, l->owners[rnd((uint32_t)l->nowners)]);

		if (q >= 0 && q != p) {
			p = q;
			g->intended[1]++;
		}
	}
	return emit(g, p, s->uscc,
	            event_new(g, T_REMOVED, p, s, removed, office_secs(),
	                      json_pack("{s:s, s:s, s:o, s:s}", "list", l->code, "decision_no", dno,
	                                "removed_on", date_json(removed), "reason", "已修复")),
	            true);
}

/* One event that credsyncd must reject, of a kind chosen at random. */
static int
invalid_event(struct gen *g)
{
	int p = pick_authority(g), kind = (int)rnd(INVALID_KINDS);
	const struct subject *s = pick_subject(false);
	cs_date day = day_between(g->today - 300, g->today - 1);
	char dno[160], uscc[USCC_BUF];
	json_t *ev, *rec;

	memcpy(uscc, s->uscc, USCC_BUF);
	decision_no(g, p, "罚", day, dno, sizeof(dno));
	rec = json_pack("{s:s, s:o, s:[s], s:s, s:s, s:{s:s, s:s}}", "decision_no", dno,
	                "decided_on", date_json(day), "categories", "confiscation", "fine_yuan",
	                "250000.00", "field", "other", "issuer", "name",
	                rules_producer_name_zh(g->r, g->prod[p].code), "uscc",
	                g->prod[p].issuer_uscc);
	ev = event_new(g, T_ISSUED, p, s, day, office_secs(), rec);
	g->invalid++;
	g->invalid_by[kind]++;
	switch (kind) {
	case 0: { /* malformed_json: the message cut short */
		char *js = json_dumps(ev, JSON_COMPACT), line[8192];
		size_t cut;

		json_decref(ev);
		if (js == NULL)
			return -1;
		cut = strlen(js) / 2;
		while (cut > 0 && ((unsigned char)js[cut] & 0xc0) == 0x80)
			cut--; /* keep the payload valid UTF-8 */
		js[cut] = '\0';
		snprintf(line, sizeof(line), "%s\t%s\n", uscc, js);
		free(js);
		return write_line(g, p, line);
	}
	case 1: /* invalid_uscc: a wrong check character */
		uscc[17] = USCC_ALPHA[(strchr(USCC_ALPHA, uscc[17]) - USCC_ALPHA + 1) % 31];
		json_object_set_new(json_object_get(ev, "subject"), "uscc", json_string(uscc));
		break;
	case 2:
		json_object_del(rec, "decided_on");
		break;
	case 3:
		json_object_set_new(ev, "type", json_string("penalty.appealed"));
		break;
	case 4: {
		int q = g->authorities[rnd((uint32_t)g->nauth)];

		if (q == p)
			q = g->authorities[0] == p ? g->authorities[1] : g->authorities[0];
		json_object_set_new(ev, "producer", json_string(g->prod[q].code));
		break;
	}
	case 5:
		json_object_set_new(ev, "type", json_string("list.added"));
		json_object_set_new(rec, "list", json_string("b9-99"));
		json_object_set_new(rec, "listed_on", date_json(day));
		break;
	case 6:
		json_object_set_new(rec, "decided_on", json_string("2025-02-30"));
		break;
	default:
		json_object_set_new(ev, "schema", json_string("credsync.event/9"));
		break;
	}
	return emit(g, p, uscc, ev, false);
}

/* Re-sends a recent message unchanged (same event_id): a producer's retry. */
static int
duplicate(struct gen *g)
{
	int slot = (int)rnd((uint32_t)g->ring_n);

	g->dups++;
	return write_line(g, g->ring_prod[slot], g->ring[slot]) < 0 ? -1 : 0;
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
		json_object_set_new(types, TYPES[i], json_integer(g->by_type[i]));
	for (int i = 0; i < INVALID_KINDS; i++)
		json_object_set_new(invs, INVALID_NAMES[i], json_integer(g->invalid_by[i]));
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
	json_object_set_new(m, "subjects", json_integer(nsubjects));
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
	uint64_t x;
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
	x = (uint64_t)seed;
	for (int i = 0; i < 4; i++)
		rng_s[i] = splitmix64(&x);
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
		make_uscc(p->issuer_uscc, "11", "150000");
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
	nsubjects = events / 3 < 1000 ? 1000 : events / 3;
	if ((subjects = calloc((size_t)nsubjects, sizeof(*subjects))) == NULL) {
		fprintf(stderr, "credsync-gen: out of memory\n");
		goto done;
	}
	make_subjects(nsubjects);

	while (g.emitted < g.target) {
		/* Duplicates and invalid events keep to their rates of the messages written; a
		 * story writes several events. */
		double next = (double)(g.emitted + 1);
		int st;

		if ((double)g.dups < dup * next && g.ring_n > 0 && chance(0.5))
			st = duplicate(&g);
		else if ((double)g.invalid < inv * next && chance(0.5))
			st = invalid_event(&g);
		else if (chance(0.3))
			st = list_story(&g);
		else
			st = penalty_story(&g);
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
	free(subjects);
	rules_free(r);
	return rc;
bad:
	fprintf(stderr, "credsync-gen: invalid value \"%s\"\n", optarg);
	usage(stderr);
	return 2;
}
