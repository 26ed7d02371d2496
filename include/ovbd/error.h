/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Error reports of the format core: which field, the value found, the
 * range expected, and where (entry, block or byte offset) it was found.
 *
 * Text form: "<field> = <value>, expected <expect> (<at> <where>)", e.g.
 * "lsmt index entry offset = 1125899906842622, expected ... (entry 5)".
 */
#ifndef OVBD_ERROR_H
#define OVBD_ERROR_H

#include "port.h"

struct ovbd_err {
	const char *field;	/* static text naming the field, e.g. "zfile block_size" */
	const char *expect;	/* static text: the value or range expected */
	const char *at;		/* static text naming the position: "entry", "block", "byte" */
	u64 value;		/* the value found, when has_value */
	u64 where;		/* the position, when at is set */
	bool has_value;
};

/* Record a failure and return -code, for "return ovbd_fail(...)". */
static inline int ovbd_fail(struct ovbd_err *e, int code, const char *field,
			    const char *expect)
{
	if (e) {
		e->field = field;
		e->expect = expect;
		e->at = NULL;
		e->value = 0;
		e->where = 0;
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

/* A failure of a field at a position: the index entry, block or byte offset. */
static inline int ovbd_fail_at(struct ovbd_err *e, int code, const char *field,
			       u64 value, const char *expect, const char *at,
			       u64 where)
{
	ovbd_fail_val(e, code, field, value, expect);
	if (e) {
		e->at = at;
		e->where = where;
	}
	return -code;
}

/* The text form above into buf; returns buf. */
static inline const char *ovbd_err_text(const struct ovbd_err *e, char *buf,
					size_t len)
{
	int n;

	if (!e->field) {
		snprintf(buf, len, "unknown error");
		return buf;
	}
	if (e->has_value)
		n = snprintf(buf, len, "%s = %llu, expected %s", e->field,
			     (unsigned long long)e->value, e->expect);
	else
		n = snprintf(buf, len, "%s: expected %s", e->field, e->expect);
	if (e->at && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " (%s %llu)", e->at,
			 (unsigned long long)e->where);
	return buf;
}

#endif /* OVBD_ERROR_H */
