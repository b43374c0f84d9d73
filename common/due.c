/* due: at-risk hour and repair application due dates; no I/O. */
#include "due.h"

bool
due_afternoon(int64_t now)
{
	int64_t local = now + BEIJING_OFFSET_MIN * 60;
	int64_t sec_of_day = ((local % 86400) + 86400) % 86400;
	return sec_of_day >= DUE_AT_RISK_HOUR * 3600;
}

cs_date
due_application(const struct event *ev, const rules *r, const calendar *cal, int *ret_unknown_year)
{
	struct deadlines dl;
	cs_date due = DATE_NONE;
	int channel = site_parse(ev->producer);

	*ret_unknown_year = 0;
	if (channel < 0 || ev->app_at == 0 ||
	    (ev->type != EV_REPAIR_APPLIED && ev->type != EV_REPAIR_ACCEPTED))
		return DATE_NONE;
	rules_deadlines(r, date_beijing(ev->app_at), &dl);
	int n = ev->type == EV_REPAIR_APPLIED   ? dl.accept_workdays[channel]
	        : ev->key.kind == KIND_ABNORMAL ? dl.abnormal_decide_workdays /* seed §五(三) */
	                                        : dl.decide_workdays[channel];
	/* a year the calendar lacks gives an estimate, named in *ret_unknown_year */
	calendar_due_date(cal, ev->app_at, n, &due, ret_unknown_year);
	return due;
}
