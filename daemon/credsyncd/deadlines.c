/* deadlines: breach, at-risk and late-application log lines, each once. */
#include "deadlines.h"

#include <stdio.h>

#include "due.h"
#include "log.h"

#define TAKE_MAX 64

static void
log_late(enum store_late_kind kind, const struct store_late *l)
{
	char due[DATE_STRLEN] = "none";
	if (l->due != DATE_NONE)
		date_format(l->due, due);
	if (kind == STORE_LATE_APP)
		log_kv(LOG_LVL_WARN, "repair_overdue",
		       "channel=%s step=%s application_no=%s uscc=%s decision_no=%s due=%s",
		       l->site, l->what, log_qs(l->application_no), l->uscc, log_qs(l->decision_no),
		       due);
	else
		log_kv(kind == STORE_LATE_BREACH ? LOG_LVL_ERR : LOG_LVL_WARN,
		       kind == STORE_LATE_BREACH ? "breach" : "at_risk",
		       "id=%s site=%s type=%s uscc=%s decision_no=%s due=%s", l->id, l->site,
		       l->what, l->uscc, log_qs(l->decision_no), due);
}

int
deadlines_run(store *st, int64_t now, char *err, size_t errsz)
{
	static const enum store_late_kind kinds[] = {STORE_LATE_BREACH, STORE_LATE_AT_RISK,
	                                             STORE_LATE_APP};
	struct store_late late[TAKE_MAX];
	cs_date today = date_beijing(now);

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (kinds[k] == STORE_LATE_AT_RISK && !due_afternoon(now))
			continue;
		size_t n;
		do {
			if (store_late_take(st, kinds[k], today, TAKE_MAX, late, &n, err, errsz) <
			    0)
				return -1;
			for (size_t i = 0; i < n; i++)
				log_late(kinds[k], &late[i]);
		} while (n == TAKE_MAX);
	}
	return 0;
}
