/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: a stack of LSMT layers, merged; the userspace reference reader. */
#ifndef OVBD_STACK_H
#define OVBD_STACK_H

#include "blob.h"

struct stack {
	unsigned int n;
	struct blob *layers;		/* bottom first */
	struct ovbd_seg *merged;
	u64 nmerged;
	u64 virtual_size;		/* bytes: top-most non-zero virtual_size */
};

/* Set by --ignore-chain: accept layers whose uuids do not chain. */
extern bool stack_ignore_chain;
/*
 * Check that the layers (bottom first) chain: each layer's parent_uuid is
 * the uuid of the layer below where both are set. An empty or nil uuid is
 * "unset" and matches anything; the bottom layer's parent may name a layer
 * outside the stack, never one inside it. 0, or -1 with why naming the layer.
 */
int stack_check_chain(char **paths, const char *const *uuid, const char *const *parent,
		      unsigned int n, char *why, size_t len);

/* Open, validate and merge layers, checking the chain: 0, or -1 with why set. */
int stack_open(struct stack *s, char **paths, unsigned int n, char *why, size_t len);
/* Read virtual bytes [off, off+len), off sector aligned (len may end inside a sector): 0, or -1 with why set (corruption). */
int stack_read(struct stack *s, u64 off, u8 *buf, size_t len, char *why, size_t wlen);
void stack_close(struct stack *s);

#endif /* OVBD_STACK_H */
