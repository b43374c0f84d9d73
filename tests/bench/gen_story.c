/* gen_story: the messages credsync-gen writes: subjects, the stories of penalties and list
 * entries, invalid messages and re-sent duplicates, from one seeded random sequence. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "yuan.h"

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

bool
gen_chance(double p)
{
	return rndf() < p;
}

const char *const GEN_TYPES[GEN_TYPE_COUNT] = {
    "penalty.issued", "penalty.repaired", "penalty.revoked", "list.added",   "list.removed",
    "repair.applied", "repair.accepted",  "repair.declined", "repair.denied"};
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
const char *const GEN_INVALID_NAMES[INVALID_KINDS] = {
    "malformed_json",    "invalid_uscc", "missing_field", "unknown_type",
    "producer_mismatch", "unknown_list", "invalid_field", "unsupported_schema"};

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
void
gen_uscc(char out[USCC_BUF], const char *head2, const char *region)
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

int
gen_prod_index(const struct gen *g, const char *code)
{
	for (int i = 0; i < g->nprod; i++)
		if (strcmp(g->prod[i].code, code) == 0)
			return i;
	return -1;
}

/* ---- gen_subject_tab ---- */

struct subject *gen_subject_tab;
long gen_nsubjects;

void
gen_subjects(long n)
{
	gen_nsubjects = n;
	for (long i = 0; i < n; i++) {
		struct subject *s = &gen_subject_tab[i];
		const char *region = REGIONS[rnd(sizeof(REGIONS) / sizeof(REGIONS[0]))];
		uint32_t t = rnd(100);
		const char *city = CITY[rnd(sizeof(CITY) / sizeof(CITY[0]))];
		const char *w = WORD[rnd(sizeof(WORD) / sizeof(WORD[0]))];
		const char *tr = TRADE[rnd(sizeof(TRADE) / sizeof(TRADE[0]))];

		s->individual = t >= 80 && t < 95;
		gen_uscc(s->uscc, t < 80 ? "91" : t < 95 ? "92" : "93", region);
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
		const struct subject *s = &gen_subject_tab[rnd((uint32_t)gen_nsubjects)];

		if (s->individual == individual)
			return s;
	}
	return &gen_subject_tab[rnd((uint32_t)gen_nsubjects)];
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
		if (strcmp(json_string_value(json_object_get(ev, "type")), GEN_TYPES[i]) == 0)
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
	                 "credsync.event/1", "event_id", id, "type", GEN_TYPES[type], "producer",
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

	if (r < 25 && (i = gen_prod_index(g, "nm-samr")) >= 0)
		return i;
	if (r < 40 && (i = gen_prod_index(g, "nm-tax")) >= 0)
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
		if (gen_chance(0.4))
			json_array_append_new(a, json_string("criticism"));
		if (json_array_size(a) == 0 || gen_chance(0.5)) {
			json_array_append_new(a, json_string("fine"));
			snprintf(buf, sizeof(buf), "%u.00", 500 + rnd(99000));
			*fine = json_string(buf);
		}
	} else {
		uint32_t first = rnd(NHEAVY);

		if (gen_chance(0.6)) {
			json_array_append_new(a, json_string("fine"));
			snprintf(buf, sizeof(buf), "%u.%02u", 100000 + rnd(2000000), rnd(100));
			*fine = json_string(buf);
			if (gen_chance(0.5))
				json_array_append_new(a, json_string(HEAVY[first]));
		} else {
			json_array_append_new(a, json_string(HEAVY[first]));
		}
		if (gen_chance(0.2))
			json_array_append_new(
			    a, json_string(HEAVY[(first + 1 + rnd(NHEAVY - 1)) % NHEAVY]));
		if (gen_chance(0.1))
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

int
gen_penalty_story(struct gen *g)
{
	int p = pick_authority(g), kind;
	const struct subject *s = pick_subject(gen_chance(0.15));
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
		if (yuan_parse(json_string_value(fine), &pf.fine_fen) < 0)
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

	if (gen_chance(0.03)) { /* the decision is revoked by its maker */
		cs_date on = day_between(decided + 1, g->today);

		return emit(g, p, s->uscc,
		            event_new(g, T_REVOKED, p, s, on, office_secs(),
		                      json_pack("{s:s, s:o}", "decision_no", dno, "revoked_on",
		                                date_json(on))),
		            true);
	}
	if (per.repairable_from == DATE_NONE || per.repairable_from + 12 > g->today ||
	    !gen_chance(0.4))
		return 0;

	int sys = gen_prod_index(g, site_name(per.channel)), outcome = T_REPAIRED;
	cs_date repaired = day_between(per.repairable_from + 12, g->today);

	if (sys < 0)
		return 0;
	if (gen_chance(0.1))
		outcome = gen_chance(0.5) ? T_DECLINED : T_DENIED;
	if ((outcome != T_REPAIRED || gen_chance(0.7)) &&
	    repair_steps(g, sys, s, dno, repaired - 8, outcome) < 0)
		return -1;
	if (outcome != T_REPAIRED)
		return 0;
	if (gen_chance(0.03)) { /* decided by the wrong system: wrong_channel */
		sys = gen_prod_index(
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

int
gen_list_story(struct gen *g)
{
	const struct list *l = &g->lists[rnd((uint32_t)g->nlists)];
	int p = gen_prod_index(g, l->owners[rnd((uint32_t)l->nowners)]);
	const struct subject *s = pick_subject(strcmp(l->code, "abnormal-individual") == 0);
	cs_date listed = day_between(g->today - 700, g->today - 1);
	bool owner = true;
	char dno[160];

	if (p < 0)
		return 0;
	if (gen_chance(0.02)) { /* an authority adding to a list it does not own: not_list_owner */
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
	if (!owner || !gen_chance(0.35))
		return 0;

	cs_date removed = day_between(listed + 1, g->today);

	if (l->nowners > 1 && gen_chance(0.05)) {
		/* removed by another owner of the list, not the one who added it: not_entry_owner
		 */
		int q = gen_prod_index(g, l->owners[rnd((uint32_t)l->nowners)]);

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
int
gen_invalid(struct gen *g)
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
int
gen_duplicate(struct gen *g)
{
	int slot = (int)rnd((uint32_t)g->ring_n);

	g->dups++;
	return write_line(g, g->ring_prod[slot], g->ring[slot]) < 0 ? -1 : 0;
}

void
gen_seed(uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		rng_s[i] = splitmix64(&x);
}
