/* SPDX-License-Identifier: GPL-2.0-only */
/* Error reports of the format core: which field, what was found, what was expected. */
#ifndef OVBD_ERROR_H
#define OVBD_ERROR_H

#include "port.h"

struct ovbd_err {
	const char *field;	/* static text naming the field, e.g. "zfile block_size" */
	const char *expect;	/* static text: the value or range expected */
	u64 value;		/* the value found, when has_value */
	bool has_value;
};

/* Record a failure and return -code, for "return ovbd_fail(...)". */
static inline int ovbd_fail(struct ovbd_err *e, int code, const char *field,
			    const char *expect)
{
	if (e) {
		e->field = field;
		e->expect = expect;
		e->value = 0;
		e->has_value = false;
	}
	return -code;
}

static inline int ovbd_fail_val(struct ovbd_err *e, int code, const char *field,
				u64 value, const char *expect)
{
	ovbd_fail(e, code, field, expect);
	if (e) {
		e->value = value;
		e->has_value = true;
	}
	return -code;
}

/* "field = value, expected expect" into buf; returns buf. */
static inline const char *ovbd_err_text(const struct ovbd_err *e, char *buf,
					size_t len)
{
	if (!e->field)
		snprintf(buf, len, "unknown error");
	else if (e->has_value)
		snprintf(buf, len, "%s = %llu, expected %s", e->field,
			 (unsigned long long)e->value, e->expect);
	else
		snprintf(buf, len, "%s: expected %s", e->field, e->expect);
	return buf;
}

#endif /* OVBD_ERROR_H */
