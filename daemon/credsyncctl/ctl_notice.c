/* ctl_notice: `credsyncctl notice`: the credit repair notice (行政处罚信息信用修复告知书, the
 * seed's attachment 3) filled in for one penalty from the rules that govern it. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "event.h"
#include "reconcile.h"
#include "uscc.h"

#define SYNOPSIS                                                                                   \
	"usage: credsyncctl notice --uscc CODE --name NAME --decision-no NO --decided-on DATE\n"   \
	"                          --categories LIST [--field F] [--fine-yuan X] --producer P\n"   \
	"                          [--issuer NAME] [--severity S] [--rule-sets LIST] [--json]\n"   \
	"       credsyncctl notice --event FILE|- [--rule-sets LIST] [--json]\n"

/* Longest free-text argument accepted, in bytes. */
#define TEXT_ARG_MAX 400

static void
help(FILE *fp)
{
	fputs(SYNOPSIS
	      "\n"
	      "Prints the credit repair notice served with a penalty decision (双书同达, the\n"
	      "seed's attachment 3): the subject, the decision, its minimum and maximum\n"
	      "disclosure periods, the day from which repair may be applied for, and where\n"
	      "(GSXT for penalties of nm-samr, Credit China for the others).\n"
	      "\n"
	      "  --uscc CODE         the subject's Unified Social Credit Code\n"
	      "  --name NAME         the subject's name (行政相对人名称)\n"
	      "  --decision-no NO    the decision number (行政处罚决定书文号)\n"
	      "  --decided-on DATE   the decision date, YYYY-MM-DD\n"
	      "  --categories LIST   comma-separated penalty categories (see periods --help)\n"
	      "  --field F           food, drug, special_equipment, work_safety, fire or other\n"
	      "  --fine-yuan X       the fine in yuan\n"
	      "  --producer P        the issuing authority's code (authorities.tsv)\n"
	      "  --issuer NAME       the issuing department as signed (default: the producer's\n"
	      "                      name in authorities.tsv)\n"
	      "  --severity S        minor, general or serious, for rule sets that need it\n"
	      "  --event FILE|-      fill everything from the penalty.issued event an authority\n"
	      "                      sends (docs/CONTRACT.md), read from FILE or standard input,\n"
	      "                      so that its system serves the notice with the decision;\n"
	      "                      signed by the event's issuer\n"
	      "  --rule-sets LIST    the rule sets in force (default: every set, chosen by the\n"
	      "                      decision date and the producer)\n"
	      "  --json              print the fields and the text as JSON\n"
	      "  --help              print this help\n"
	      "\n"
	      "Exit status: 0 success; 1 no notice is needed (the penalty is not disclosed) or\n"
	      "failure; 2 usage error.\n",
	      fp);
}

static const struct ctl_cmd this_cmd = {"notice", SYNOPSIS, help, 0};

/* A free-text argument: present, not blank, one line, not too long. */
static int
check_text(const char *opt, const char *s)
{
	if (s == NULL) {
		fprintf(stderr, "credsyncctl notice: %s is required\n", opt);
		return -1;
	}
	size_t n = strlen(s);
	if (n == 0 || strspn(s, " \t") == n) {
		fprintf(stderr, "credsyncctl notice: %s is empty\n", opt);
		return -1;
	}
	if (n > TEXT_ARG_MAX) {
		fprintf(stderr, "credsyncctl notice: %s is longer than %d bytes\n", opt,
		        TEXT_ARG_MAX);
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "credsyncctl notice: %s contains a control character\n",
			        opt);
			return -1;
		}
	json_t *utf8 = json_string(s); /* jansson refuses invalid UTF-8 */
	if (utf8 == NULL) {
		fprintf(stderr, "credsyncctl notice: %s is not valid UTF-8\n", opt);
		return -1;
	}
	json_decref(utf8);
	return 0;
}

/* Chinese numerals as in the template ("三", "十二", "三十六"); digits past 99. */
static void
zh_number(int n, char *buf, size_t bufsz)
{
	static const char *const digit[] = {"",   "一", "二", "三", "四",
	                                    "五", "六", "七", "八", "九"};
	if (n < 1 || n > 99)
		snprintf(buf, bufsz, "%d", n);
	else if (n < 10)
		snprintf(buf, bufsz, "%s", digit[n]);
	else
		snprintf(buf, bufsz, "%s十%s", n < 20 ? "" : digit[n / 10], digit[n % 10]);
}

/* A period as the template words it: "三个月", "一年", "十八个月". */
static const char *
zh_period(int months, char *buf, size_t bufsz)
{
	char num[32];
	zh_number(months % 12 == 0 ? months / 12 : months, num, sizeof(num));
	snprintf(buf, bufsz, "%s%s", num, months % 12 == 0 ? "年" : "个月");
	return buf;
}

static const char *
zh_date(cs_date d, char *buf, size_t bufsz)
{
	int y, m, day;
	date_to_ymd(d, &y, &m, &day);
	snprintf(buf, bufsz, "%d年%d月%d日", y, m, day);
	return buf;
}

/* How the template names the two systems. */
static const char *
zh_channel(enum site s)
{
	return s == SITE_GSXT ? "国家企业信用信息公示系统（内蒙古）" : "“信用中国（内蒙古）”网站";
}

static const char *const zh_field[FIELD_COUNT] = {
    "其他", "食品", "药品", "特种设备", "安全生产", "消防",
};
static const char *const zh_severity[] = {"", "轻微", "一般", "严重"};

/* "行政处罚信息自…最短公示期为三个月，最长公示期为三年，其中涉及食品…领域…最短公示期一年"
 * from the rule set's own values, so the notice says what the rules say. */
static void
general_periods(FILE *fp, const struct rule_set_info *info)
{
	char b1[32], b2[32];
	bool done[FIELD_COUNT] = {false};

	fprintf(fp, "行政处罚信息自行政处罚决定之日起，最短公示期为%s，最长公示期为%s",
	        zh_period(info->min_months, b1, sizeof(b1)),
	        zh_period(info->max_months, b2, sizeof(b2)));
	/* One clause per distinct field minimum, fields in the standard's order. */
	for (int f = 0; f < FIELD_COUNT; f++) {
		int m = info->field_min_months[f];
		if (done[f] || m == 0 || m == info->min_months)
			continue;
		fputs("，其中涉及", fp);
		for (int g = f, first = 1; g < FIELD_COUNT; g++) {
			if (info->field_min_months[g] != m)
				continue;
			fprintf(fp, "%s%s", first ? "" : "、", zh_field[g]);
			done[g] = true;
			first = 0;
		}
		fprintf(fp, "领域行政处罚信息最短公示期%s", zh_period(m, b1, sizeof(b1)));
	}
	fputs("。", fp);
}

struct notice {
	const char *uscc, *name, *decision_no, *issuer;
	enum severity severity; /* as the rules took it (general when assumed) */
	const struct penalty_facts *pf;
	const struct periods *p;
	const struct rule_set_info *info;
	const char *url;
};

/* The filled-in template; malloc'd, or NULL when out of memory. */
static char *
notice_text(const struct notice *n)
{
	char *text = NULL;
	size_t len = 0;
	char b1[64], b2[64], b3[64], b4[64];
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL)
		return NULL;
	fprintf(fp, "行政处罚信息信用修复告知书\n\n");
	fprintf(fp, "%s（统一社会信用代码：%s）：\n\n", n->name, n->uscc);
	fprintf(fp, "    本机关于%s对你单位作出行政处罚决定（%s）。",
	        zh_date(n->pf->decided_on, b1, sizeof(b1)), n->decision_no);
	fputs("根据《中华人民共和国行政处罚法》和《中华人民共和国政府信息公开条例》，该条行政处罚"
	      "信息将报送至“信用中国（内蒙古）”网站和国家企业信用信息公示系统（内蒙古）进行公示。",
	      fp);
	/* The seed's template calls every penalty 一般失信信息; a regime that classes by severity
	 * says the class below, so the two never contradict. */
	fputs(n->info->by_severity ? "根据《内蒙古自治区公共信用信息管理条例》，该条行政处罚信息"
	                             "将受到以下惩戒措施。"
	                           : "根据《内蒙古自治区公共信用信息管理条例》，行政处罚信息为一般"
	                             "失信信息，将受到以下惩戒措施。",
	      fp);
	fputs(
	    "1.在"
	    "行政许可、行政确认等行政管理和公共服务过程中，列为重点审查对象，不予适用告知承诺等简化"
	    "程序；限制享受相关便利措施，取消已经享受的便利化措施；2.不予享受财政资金补助或项目支持"
	    "以及融资服务、招商引资配套优惠等各类优惠政策；3.在政府采购、招标投标等公共资源交易活动"
	    "中，依法给予信用减分、降低信用等级；4.在日常监督管理中，列为重点监督管理对象，增加检查"
	    "频次，加强现场检查；5.不予列入各类免检、免审范围等。\n\n",
	    fp);

	fputs("    ", fp);
	if (n->p->light) {
		/* SAMR Order 45 art. 13: from publication (or, unknown, the first disclosure) */
		fprintf(fp,
		        "该条行政处罚信息仅涉及通报批评或较低数额罚款，自%s起公示%s，"
		        "至%s期满后自动停止公示，无需申请信用修复。",
		        zh_date(n->p->light_from, b3, sizeof(b3)),
		        zh_period(n->p->max_months, b1, sizeof(b1)),
		        zh_date(n->p->disclose_until, b2, sizeof(b2)));
	} else if (n->p->repairable_from == DATE_NONE) {
		/* a minimum as long as the maximum (a minor penalty of the 2026 regime): it goes
		 * offline by itself; there is nothing to apply for */
		if (*n->info->notice_basis != '\0')
			fprintf(fp, "根据%s，", n->info->notice_basis);
		if (n->info->by_severity)
			fprintf(fp, "该条行政处罚信息的失信程度为%s，", zh_severity[n->severity]);
		fprintf(fp,
		        "自行政处罚决定之日起公示%s，至%s期满后自动停止公示，无需申请信用修复。",
		        zh_period(n->p->max_months, b1, sizeof(b1)),
		        zh_date(n->p->disclose_until, b2, sizeof(b2)));
	} else {
		if (*n->info->notice_basis != '\0')
			fprintf(fp, "根据%s，", n->info->notice_basis);
		if (n->info->by_severity)
			fprintf(fp, "该条行政处罚信息的失信程度为%s，自行政处罚决定之日起，",
			        zh_severity[n->severity]);
		else
			general_periods(fp, n->info);
		fprintf(
		    fp,
		    "%s最短公示期为%s，最长公示期为%s，公示至%s。在完全履行行政处罚决定规定的义务并"
		    "达到最短公示期限后，可自%s起通过%s（%s）申请提前终止公示行政处罚信息。"
		    "行政处罚信息信用修复全流程在线办理，全程无需支付任何费用。",
		    n->info->by_severity ? "" : "该条行政处罚信息",
		    zh_period(n->p->min_months, b1, sizeof(b1)),
		    zh_period(n->p->max_months, b2, sizeof(b2)),
		    zh_date(n->p->disclose_until, b3, sizeof(b3)),
		    zh_date(n->p->repairable_from, b4, sizeof(b4)), zh_channel(n->p->channel),
		    n->url);
	}
	fputs("\n\n    "
	      "法律、行政法规、部门规章和党中央、国务院政策文件对信用信息公示和修复另有规定的，"
	      "从其规定。\n\n",
	      fp);
	fprintf(fp, "%s\n%s\n\n", n->issuer, zh_date(n->pf->decided_on, b1, sizeof(b1)));
	fputs("备注：此告知书一式两份，一份留存执法案卷，一份交当事人。\n", fp);
	if (ferror(fp)) {
		fclose(fp);
		free(text);
		return NULL;
	}
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Reads all of path ("-": standard input) into a malloc'd buffer; NULL with a message. */
static char *
read_all(const char *path, size_t *ret_len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fp == NULL) {
		fprintf(stderr, "credsyncctl notice: could not open file \"%s\": %s\n", path,
		        strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *grown = cap > EVENT_MAX_BYTES * 2 ? NULL : realloc(buf, cap);
			if (grown == NULL) {
				fprintf(stderr,
				        "credsyncctl notice: \"%s\" is too large for an event\n",
				        path);
				free(buf);
				buf = NULL;
				goto out;
			}
			buf = grown;
		}
		size_t n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "credsyncctl notice: could not read \"%s\"\n", path);
		free(buf);
		buf = NULL;
	}
out:
	if (fp != stdin)
		fclose(fp);
	*ret_len = len;
	return buf;
}

/* The notice's facts from an event an authority sends (penalty.issued), validated as credsyncd
 * validates it. Returns 0, or 2 (usage: not an acceptable penalty.issued) with a message. */
static int
facts_from_event(const char *path, const rules *r, struct event *ev, struct penalty_facts *pf)
{
	size_t len = 0;
	struct reject rej;
	char *buf = read_all(path, &len);
	if (buf == NULL)
		return 2;
	int rc = event_parse(buf, len, NULL, r, ev, &rej);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "credsyncctl notice: --event: the event would be refused: %s: %s\n",
		        reject_reason_name(rej.reason), rej.detail);
		return 2;
	}
	if (ev->type != EV_PENALTY_ISSUED) {
		fprintf(stderr,
		        "credsyncctl notice: --event: a notice is served with a penalty decision "
		        "(penalty.issued), not %s\n",
		        event_type_name(ev->type));
		return 2;
	}
	*pf = reconcile_penalty_facts(ev, DATE_NONE);
	return 0;
}

static json_t *
json_date(cs_date d)
{
	char buf[DATE_STRLEN];
	return d == DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

int
ctl_notice(int argc, char **argv)
{
	static const struct option options[] = {
	    {"uscc", required_argument, NULL, 'u'},
	    {"name", required_argument, NULL, 'n'},
	    {"decision-no", required_argument, NULL, 'o'},
	    {"issuer", required_argument, NULL, 'i'},
	    CTL_PENALTY_OPTIONS,
	    {"event", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_penalty_args args = {0};
	const char *uscc = NULL, *name = NULL, *decision_no = NULL, *issuer = NULL;
	const char *event_path = NULL;
	static struct event ev; /* its strings back the notice when --event is given */
	bool json = false;
	int c, rc = 1, status;
	char err[256];

	optind = 1;
	opterr = 0;
	while ((c = ctl_getopt(&this_cmd, argc, argv, ":h", options, &json, &status)) != -1) {
		if (c == 'u')
			uscc = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 'o')
			decision_no = optarg;
		else if (c == 'i')
			issuer = optarg;
		else if (c == 'e')
			event_path = optarg;
		else
			ctl_penalty_opt(&args, c);
	}
	if (status >= 0)
		return status;
	if (event_path != NULL &&
	    (uscc || name || decision_no || issuer || args.decided_on || args.categories ||
	     args.field || args.fine_yuan || args.producer || args.severity || args.published_on)) {
		fprintf(stderr, "credsyncctl notice: --event gives the facts: no other fact option "
		                "goes with it\n");
		return ctl_usage(&this_cmd);
	}
	if (event_path != NULL)
		goto load;
	if (uscc == NULL) {
		fprintf(stderr, "credsyncctl notice: --uscc is required\n");
		return ctl_usage(&this_cmd);
	}
	if (uscc_check(uscc, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsyncctl notice: --uscc \"%s\" is not a valid USCC: %s\n", uscc,
		        err);
		return 2;
	}
	if (check_text("--name", name) < 0 || check_text("--decision-no", decision_no) < 0 ||
	    (issuer != NULL && check_text("--issuer", issuer) < 0)) {
		return ctl_usage(&this_cmd);
	}
	if (args.producer == NULL) {
		fprintf(stderr, "credsyncctl notice: --producer is required (it decides where the "
		                "subject applies)\n");
		return ctl_usage(&this_cmd);
	}

load:;
	rules *r = ctl_load_rules(args.rule_sets);
	if (r == NULL)
		return 1;
	struct penalty_facts pf;
	struct periods p;
	struct rule_set_info info;
	char *text = NULL;
	if (event_path != NULL) {
		if ((rc = facts_from_event(event_path, r, &ev, &pf)) != 0)
			goto out;
		rc = 1;
		uscc = ev.key.uscc;
		name = ev.subject_name;
		decision_no = ev.key.decision_no;
		issuer = ev.issuer_name; /* signed by the body that decided */
	} else if (ctl_penalty_facts("notice", r, &args, &pf) < 0) {
		rc = ctl_usage(&this_cmd);
		goto out;
	}
	if (rules_periods(r, &pf, &p, err, sizeof(err)) < 0 ||
	    rules_rule_set_for(r, pf.decided_on, pf.producer, &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "credsyncctl notice: %s\n", err);
		goto out;
	}
	if (!p.disclosable) {
		const char *why = "the penalty is not disclosed, so no repair notice is needed";
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "disclosable", json_false());
			json_object_set_new(o, "notice_needed", json_false());
			json_object_set_new(o, "reason", json_string(why));
			json_object_set_new(o, "rule_set", json_string(p.rule_set));
			ctl_print_json(o);
		} else {
			printf("%s (rule set %s)\n", why, p.rule_set);
		}
		goto out; /* a negative answer: exit 1 */
	}
	if (issuer == NULL)
		issuer = rules_producer_name_zh(r, pf.producer);
	struct notice n = {
	    .uscc = uscc,
	    .name = name,
	    .decision_no = decision_no,
	    .issuer = issuer,
	    .severity = p.severity_assumed ? SEV_GENERAL : pf.severity,
	    .pf = &pf,
	    .p = &p,
	    .info = &info,
	    .url = rules_repair_url_on(r, p.channel, pf.decided_on),
	};
	if ((text = notice_text(&n)) == NULL) {
		fprintf(stderr, "credsyncctl notice: out of memory\n");
		goto out;
	}
	if (json) {
		json_t *o = json_object();
		char buf[DATE_STRLEN];
		json_object_set_new(o, "uscc", json_string(uscc));
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "decision_no", json_string(decision_no));
		json_object_set_new(o, "decided_on", json_string(date_format(pf.decided_on, buf)));
		json_object_set_new(o, "repairable_from", json_date(p.repairable_from));
		json_object_set_new(o, "disclose_until", json_date(p.disclose_until));
		json_object_set_new(o, "channel", json_string(site_name(p.channel)));
		json_object_set_new(o, "apply_at_url",
		                    p.light || p.repairable_from == DATE_NONE ? json_null()
		                                                              : json_string(n.url));
		json_object_set_new(o, "text", json_string(text));
		json_object_set_new(o, "disclosable", json_true());
		json_object_set_new(o, "light", json_boolean(p.light));
		json_object_set_new(o, "min_months", json_integer(p.min_months));
		json_object_set_new(o, "max_months", json_integer(p.max_months));
		json_object_set_new(o, "producer", json_string(pf.producer));
		json_object_set_new(o, "issuer", json_string(issuer));
		json_object_set_new(o, "rule_set", json_string(p.rule_set));
		json_object_set_new(o, "severity",
		                    n.severity != SEV_NONE ? json_string(severity_name(n.severity))
		                                           : json_null());
		json_object_set_new(o, "severity_assumed", json_boolean(p.severity_assumed));
		ctl_print_json(o);
	} else {
		fputs(text, stdout);
	}
	rc = 0;
out:
	free(text);
	rules_free(r);
	return rc;
}
