/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* vhost_user.c - guest memory and split virtqueues for passt --vhost-user
 *
 * Theory of operation: QEMU (the vhost-user front end) shares the guest's
 * memory as up to VU_MAX_REGIONS file descriptors (SET_MEM_TABLE). We map
 * each region once, here in C, so that TypeScript never holds a pointer into
 * guest memory (Deno's scoped --allow-ffi can't read foreign pointers, and
 * it shouldn't have to). The vhost-user protocol itself is parsed in
 * TypeScript (src/passt/vhost_user.ts); this file keeps what it tells us:
 * the region table, each queue's ring addresses, size, indices, call fd.
 *
 * Every guest address is translated through the region table and checked to
 * lie entirely inside one mapped region before use: ring addresses (QEMU's
 * virtual addresses) when they are set, descriptor addresses (guest physical)
 * every time a chain is walked. A descriptor is copied out of guest memory
 * before it is checked, so the guest can't change it between check and use.
 * A chain with a bad address or length, a wrong direction, too many segments,
 * nested or chained indirect tables or a loop (more links than the ring or
 * the indirect table has entries) is dropped: returned to the guest as used
 * with length zero. An avail index running more than the ring size ahead, or
 * a head index outside the ring, breaks the queue until it is set up again.
 *
 * Frames are copied once each way, between guest buffers and the arena, in
 * batches: pf_vu_tx() moves every frame the guest queued (up to the room
 * given) into the tap's input area and returns the buffers at once;
 * pf_vu_rx() copies queued frames into the guest's receive buffers (several
 * buffers per frame with VIRTIO_NET_F_MRG_RXBUF), in front of a virtio-net
 * header. With VIRTIO_RING_F_EVENT_IDX, the guest is notified (call eventfd)
 * only when it asked for it, and we publish the avail index we want a kick
 * for; without it, the ring flags decide.
 *
 * Known limit: a region's file is checked to be at least as long as the
 * region when it is mapped; a front end that shrinks the file afterwards
 * (QEMU's memfd backend seals it against that) makes accesses fault.
 */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "passt_ffi.h"

/* #syscalls:passt mmap munmap recvmsg poll ppoll fstat newfstatat write read */

#define VU_MAX_REGIONS		8
#define VU_QUEUES		2
#define VU_RING_MAX		32768
#define VU_SEGS_MAX		1024
#define VU_FRAME_MAX		65535
#define VU_MSG_MAX		4096
/* Rounds of pf_vu_rx() with buffers the guest posted while we asked for a
 * kick: a guest that keeps posting unusable ones doesn't hold the loop */
#define VU_RX_ROUNDS		8

#define DESC_F_NEXT		1
#define DESC_F_WRITE		2
#define DESC_F_INDIRECT		4
#define AVAIL_F_NO_INTERRUPT	1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t qva;
	uint8_t *base;		/* host address of gpa, inside the mapping */
	uint8_t *map;
	size_t map_len;
};

struct vu_queue {
	uint32_t num;
	uint64_t desc_qva;
	uint64_t avail_qva;
	uint64_t used_qva;
	bool addr_set;
	struct vring_desc *desc;
	uint16_t *avail;	/* flags, idx, ring[num], used_event */
	uint16_t *used;		/* flags, idx, then elems; avail_event */
	uint16_t last_avail;
	uint16_t avail_seen;	/* the guest's avail index, as last read */
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_valid;
	bool active;
	bool broken;
	int call_fd;
};

struct vu_seg {
	uint8_t *p;
	uint32_t len;
};

static struct vu_region vu_regions[VU_MAX_REGIONS];
static unsigned int vu_nregions;
static struct vu_queue vu_q[VU_QUEUES] = {
	{ .call_fd = -1 }, { .call_fd = -1 },
};
static bool vu_event_idx;
static bool vu_mrg_rxbuf;
static uint32_t vu_hdr_len = 12;
static struct vu_seg vu_segs[VU_SEGS_MAX];

/* Stats for tests and the bench: chains dropped as malformed */
static uint32_t vu_dropped;

static inline uint16_t ld16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/**
 * vu_translate() - Translate a range to a host pointer through the regions
 * @addr:	Guest physical address, or address in QEMU's address space
 * @len:	Length of the range, which must lie inside one region
 * @by_qva:	Whether @addr is in QEMU's address space
 *
 * Return: host pointer, or NULL
 */
static uint8_t *vu_translate(uint64_t addr, uint64_t len, int by_qva)
{
	unsigned int i;

	for (i = 0; i < vu_nregions; i++) {
		const struct vu_region *r = &vu_regions[i];
		uint64_t start = by_qva ? r->qva : r->gpa;
		uint64_t d = addr - start;

		if (addr >= start && d < r->size && len <= r->size - d)
			return r->base + d;
	}
	return NULL;
}

/**
 * vu_gpa() - Translate a guest physical range to a host pointer
 * @gpa:	Guest physical address
 * @len:	Length of the range, which must lie inside one region
 *
 * Return: host pointer, or NULL
 */
static uint8_t *vu_gpa(uint64_t gpa, uint64_t len)
{
	return vu_translate(gpa, len, 0);
}

/**
 * vu_qva() - Translate a front end virtual range to a host pointer
 * @qva:	Address in QEMU's address space
 * @len:	Length of the range, which must lie inside one region
 *
 * Return: host pointer, or NULL
 */
static uint8_t *vu_qva(uint64_t qva, uint64_t len)
{
	return vu_translate(qva, len, 1);
}

/**
 * vu_map_rings() - Translate a queue's ring addresses, checking sizes
 * @q:		Queue
 *
 * Return: true if the rings are usable
 */
static bool vu_map_rings(struct vu_queue *q)
{
	uint64_t n = q->num;

	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
	if (!q->addr_set || !n)
		return false;
	q->desc = (struct vring_desc *)vu_qva(q->desc_qva, 16 * n);
	q->avail = (uint16_t *)vu_qva(q->avail_qva, 6 + 2 * n);
	q->used = (uint16_t *)vu_qva(q->used_qva, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used ||
	    ((uintptr_t)q->desc & 15) || ((uintptr_t)q->avail & 1) ||
	    ((uintptr_t)q->used & 3)) {
		q->desc = NULL;
		q->avail = NULL;
		q->used = NULL;
		return false;
	}
	return true;
}

static void vu_unmap_all(void)
{
	unsigned int i;

	for (i = 0; i < vu_nregions; i++)
		munmap(vu_regions[i].map, vu_regions[i].map_len);
	memset(vu_regions, 0, sizeof(vu_regions));
	vu_nregions = 0;
}

/**
 * pf_vu_reset() - Forget the device: unmap memory, reset queues, close calls
 *
 * Return: 0
 */
int32_t pf_vu_reset(void)
{
	unsigned int i;

	vu_unmap_all();
	for (i = 0; i < VU_QUEUES; i++) {
		if (vu_q[i].call_fd >= 0)
			close(vu_q[i].call_fd);
		memset(&vu_q[i], 0, sizeof(vu_q[i]));
		vu_q[i].call_fd = -1;
	}
	vu_event_idx = vu_mrg_rxbuf = false;
	vu_hdr_len = 12;
	return 0;
}

/**
 * pf_vu_set_features() - Set what was negotiated
 * @flags:	Bit 0: VIRTIO_RING_F_EVENT_IDX, bit 1: VIRTIO_NET_F_MRG_RXBUF,
 *		bit 2: VIRTIO_F_VERSION_1
 *
 * Return: length of the virtio-net header that follows
 */
int32_t pf_vu_set_features(uint32_t flags)
{
	vu_event_idx = flags & 1;
	vu_mrg_rxbuf = flags & 2;
	vu_hdr_len = (flags & 6) ? 12 : 10;
	return (int32_t)vu_hdr_len;
}

/**
 * pf_vu_set_mem_table() - Map the regions of a SET_MEM_TABLE message
 * @buf:	Buffer holding the payload and the descriptors
 * @off:	Offset of the payload: u32 nregions, u32 padding, then per
 *		region u64 guest_phys_addr, memory_size, userspace_addr,
 *		mmap_offset (little-endian, unaligned)
 * @len:	Length of the payload
 * @fds_off:	Offset of nfds int32 fds; this takes ownership of all of them
 * @nfds:	Number of descriptors there
 *
 * The previous table is unmapped first; on failure, none is left.
 *
 * Return: number of regions, or -errno
 */
int32_t pf_vu_set_mem_table(uint8_t *buf, uint32_t off, uint32_t len,
			    uint32_t fds_off, uint32_t nfds)
{
	int32_t fds[VU_MAX_REGIONS] = { 0 };
	uint32_t n, i, k;
	int32_t rc = 0;

	if (nfds > VU_MAX_REGIONS)
		nfds = VU_MAX_REGIONS;
	memcpy(fds, buf + fds_off, nfds * sizeof(int32_t));
	vu_unmap_all();
	for (i = 0; i < VU_QUEUES; i++)
		vu_map_rings(&vu_q[i]);

	if (len < 8) {
		rc = -EINVAL;
		goto out;
	}
	memcpy(&n, buf + off, 4);
	if (!n || n > VU_MAX_REGIONS || n != nfds || len < 8 + 32 * n) {
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct vu_region *r = &vu_regions[i];
		uint64_t f[4], end;
		struct stat st;
		void *m;

		memcpy(f, buf + off + 8 + (size_t)32 * i, sizeof(f));
		if (!f[1] || __builtin_add_overflow(f[3], f[1], &end) ||
		    f[0] + f[1] < f[0] ||
		    f[2] + f[1] < f[2]) {
			rc = -EINVAL;
			goto fail;
		}
		if (fstat(fds[i], &st) < 0) {
			rc = -errno;
			goto fail;
		}
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < end) {
			rc = -EINVAL;
			goto fail;
		}
		m = mmap(NULL, end, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, fds[i], 0);
		if (m == MAP_FAILED) {
			rc = -errno;
			goto fail;
		}
		r->gpa = f[0];
		r->size = f[1];
		r->qva = f[2];
		r->map = m;
		r->map_len = end;
		r->base = (uint8_t *)m + f[3];
		vu_nregions = i + 1;
	}
	for (i = 0; i < VU_QUEUES; i++)
		vu_map_rings(&vu_q[i]);
	rc = (int32_t)n;
	goto out;
fail:
	vu_unmap_all();
out:
	for (k = 0; k < nfds; k++)
		close(fds[k]);
	return rc;
}

static struct vu_queue *vu_queue(uint32_t idx)
{
	return idx < VU_QUEUES ? &vu_q[idx] : NULL;
}

/**
 * pf_vu_vring_num() - SET_VRING_NUM
 * @idx:	Queue index
 * @num:	Ring size, a power of two up to 32768
 *
 * Return: 0, or -EINVAL
 */
int32_t pf_vu_vring_num(uint32_t idx, uint32_t num)
{
	struct vu_queue *q = vu_queue(idx);

	if (!q || !num || num > VU_RING_MAX || (num & (num - 1)))
		return -EINVAL;
	q->num = num;
	vu_map_rings(q);
	return 0;
}

/**
 * pf_vu_vring_addr() - SET_VRING_ADDR
 * @buf:	Buffer holding the payload: u32 index, u32 flags, u64 desc,
 *		used, avail and log addresses (QEMU virtual addresses)
 * @off:	Offset of the payload
 *
 * Return: 0 if the rings lie inside mapped memory, -EINVAL otherwise
 */
int32_t pf_vu_vring_addr(uint8_t *buf, uint32_t off)
{
	struct vu_queue *q;
	uint64_t a[3];
	uint32_t idx;

	memcpy(&idx, buf + off, 4);
	q = vu_queue(idx);
	if (!q)
		return -EINVAL;
	memcpy(a, buf + off + 8, sizeof(a));
	q->desc_qva = a[0];
	q->used_qva = a[1];
	q->avail_qva = a[2];
	q->addr_set = true;
	q->broken = false;
	if (!vu_map_rings(q))
		return -EINVAL;
	q->used_idx = ld16(q->used + 1);
	q->signalled_valid = false;
	return 0;
}

/**
 * pf_vu_vring_base() - SET_VRING_BASE: next avail index to read
 * @idx:	Queue index
 * @base:	Index
 *
 * Return: 0, or -EINVAL
 */
int32_t pf_vu_vring_base(uint32_t idx, uint32_t base)
{
	struct vu_queue *q = vu_queue(idx);

	if (!q)
		return -EINVAL;
	q->last_avail = q->avail_seen = (uint16_t)base;
	q->signalled_valid = false;
	q->broken = false;
	return 0;
}

/**
 * pf_vu_vring_get_base() - GET_VRING_BASE: stop the queue, return its index
 * @idx:	Queue index
 *
 * Return: next avail index we would have read, or -EINVAL
 */
int32_t pf_vu_vring_get_base(uint32_t idx)
{
	struct vu_queue *q = vu_queue(idx);

	if (!q)
		return -EINVAL;
	q->active = false;
	if (q->call_fd >= 0)
		close(q->call_fd);
	q->call_fd = -1;
	return q->last_avail;
}

/**
 * pf_vu_vring_call() - SET_VRING_CALL: eventfd to notify the guest with
 * @idx:	Queue index
 * @fd:		Descriptor (owned from now on), or -1 for none
 *
 * Return: 0, or -EINVAL (then @fd is closed)
 */
int32_t pf_vu_vring_call(uint32_t idx, int32_t fd)
{
	struct vu_queue *q = vu_queue(idx);
	uint64_t one = 1;

	if (!q) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (q->call_fd >= 0)
		close(q->call_fd);
	q->call_fd = fd;
	/* A guest reconnecting may wait for a notification it missed */
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		return 0;
	return 0;
}

/**
 * pf_vu_vring_active() - Start or stop processing a queue
 * @idx:	Queue index
 * @on:		Whether the queue is started and enabled
 *
 * Return: 1 if the queue is now active with usable rings, 0 if not, -EINVAL
 */
int32_t pf_vu_vring_active(uint32_t idx, uint32_t on)
{
	struct vu_queue *q = vu_queue(idx);

	if (!q)
		return -EINVAL;
	q->active = on && vu_map_rings(q);
	return q->active;
}

/**
 * pf_vu_dropped() - Chains dropped as malformed since the last call
 *
 * Return: count
 */
int32_t pf_vu_dropped(void)
{
	uint32_t n = vu_dropped;

	vu_dropped = 0;
	return (int32_t)(n & 0x7fffffff);
}

static bool vu_ready(const struct vu_queue *q)
{
	return q->active && !q->broken && q->desc && q->avail && q->used;
}

/**
 * vu_chain() - Walk a descriptor chain into vu_segs
 * @q:		Queue
 * @head:	Index of the head descriptor, below q->num
 * @write:	Whether the chain must be device-writable (else readable)
 * @total:	Sum of the segment lengths, set on success
 *
 * Return: number of segments, or -1 if the chain is malformed
 */
static int vu_chain(const struct vu_queue *q, uint16_t head, bool write,
		    uint64_t *total)
{
	const struct vring_desc *tab = q->desc;
	uint32_t tab_n = q->num, steps = 0, i = head;
	bool indirect = false;
	int n = 0;

	*total = 0;
	for (;;) {
		struct vring_desc d;
		uint8_t *p;

		if (i >= tab_n || ++steps > tab_n)
			return -1;
		memcpy(&d, (const void *)&tab[i], sizeof(d));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (d.flags & DESC_F_INDIRECT) {
			/* Only the head of a direct chain, alone */
			if (indirect || n || (d.flags & DESC_F_NEXT) ||
			    !d.len || d.len % 16 || d.len / 16 > VU_RING_MAX)
				return -1;
			tab = (const struct vring_desc *)vu_gpa(d.addr, d.len);
			if (!tab || ((uintptr_t)tab & 7))
				return -1;
			tab_n = d.len / 16;
			indirect = true;
			steps = 0;
			i = 0;
			continue;
		}
		if (!!(d.flags & DESC_F_WRITE) != write)
			return -1;
		if (d.len) {
			p = vu_gpa(d.addr, d.len);
			if (!p || n >= VU_SEGS_MAX)
				return -1;
			vu_segs[n].p = p;
			vu_segs[n].len = d.len;
			n++;
			*total += d.len;
		}
		if (!(d.flags & DESC_F_NEXT))
			return n;
		i = d.next;
	}
}

/**
 * vu_used_put() - Write a used element at the shadow used index
 * @q:		Queue
 * @off:	Elements after the shadow index
 * @id:		Head index
 * @len:	Bytes written
 */
static void vu_used_put(struct vu_queue *q, uint16_t off, uint32_t id,
			uint32_t len)
{
	uint16_t slot = (uint16_t)(q->used_idx + off) & (q->num - 1);
	uint32_t v[2] = { id, len };

	/* used->ring[slot]: u32 id, u32 len, after the u16 flags and idx */
	memcpy(q->used + 2 + (size_t)4 * slot, v, sizeof(v));
}

/**
 * vu_used_publish() - Make @n used elements visible, notify if needed
 * @q:		Queue
 * @n:		Elements written with vu_used_put() since the last publish
 */
static void vu_used_publish(struct vu_queue *q, uint16_t n)
{
	uint16_t old = q->signalled_used, now;
	uint64_t one = 1;
	bool notify;

	if (!n)
		return;
	q->used_idx += n;
	st16(q->used + 1, q->used_idx);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	now = q->used_idx;
	if (vu_event_idx) {
		uint16_t ev = ld16(q->avail + 2 + q->num);

		notify = !q->signalled_valid ||
			 (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
		q->signalled_used = now;
		q->signalled_valid = true;
	} else {
		notify = !(ld16(q->avail) & AVAIL_F_NO_INTERRUPT);
	}
	if (notify && q->call_fd >= 0 &&
	    write(q->call_fd, &one, sizeof(one)) < 0)
		return;
}

/**
 * vu_avail() - Entries the guest made available and we didn't read yet
 * @q:		Queue
 *
 * Return: count, or -1 (queue now broken) if the index is out of range
 */
static int vu_avail(struct vu_queue *q)
{
	uint16_t n;

	q->avail_seen = ld16(q->avail + 1);
	n = (uint16_t)(q->avail_seen - q->last_avail);

	if (n > q->num) {
		q->broken = true;
		return -1;
	}
	return n;
}

/**
 * vu_want_kick() - Ask for a kick when the guest adds entries, re-check
 * @q:		Queue
 *
 * The event index is the avail index we last read, not the next entry we
 * would use: entries may be there already, too few for the next frame (RX
 * with mergeable buffers), and the guest only kicks when the index it
 * moves past is the one we published.
 *
 * Return: true if entries arrived since we last read the avail index: the
 * guest may have looked at the event index before we set it, and won't kick
 */
static bool vu_want_kick(struct vu_queue *q)
{
	uint16_t seen = q->avail_seen;

	if (vu_event_idx)
		st16(q->used + 2 + (size_t)4 * q->num, seen);
	else
		st16(q->used, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vu_avail(q) > 0 && q->avail_seen != seen;
}

/**
 * vu_head() - Read the next available head index
 * @q:		Queue
 * @head:	Set to the head, checked against the ring size
 *
 * Return: true if valid, false (queue broken) if not
 */
static bool vu_head(struct vu_queue *q, uint16_t *head)
{
	uint16_t h = ld16(q->avail + 2 + (q->last_avail & (q->num - 1)));

	if (h >= q->num) {
		q->broken = true;
		return false;
	}
	*head = h;
	return true;
}

/**
 * pf_vu_tx() - Move frames the guest sent (queue 1) into the arena
 * @arena:	Arena
 * @in_off:	Offset of the input area
 * @in_len:	Room there
 * @desc_off:	Offset of the frame table ({offset, length} uint32_t pairs)
 * @max:	Entries in the table
 *
 * Each frame is copied without its virtio-net header; its buffers go back
 * to the guest as used right away. Stops when the guest has no more, the
 * table is full, or the next frame doesn't fit in the remaining room.
 *
 * Return: number of frames, -ENOTCONN if the queue isn't running, -EIO if
 * it broke
 */
int32_t pf_vu_tx(uint8_t *arena, uint32_t in_off, uint32_t in_len,
		 uint32_t desc_off, uint32_t max)
{
	uint32_t *tab = (uint32_t *)(arena + desc_off), pos = 0, frames = 0;
	struct vu_queue *q = &vu_q[1];
	uint16_t done = 0;
	int avail;

	if (!vu_ready(q))
		return -ENOTCONN;
	for (;;) {
		avail = vu_avail(q);
		if (avail <= 0) {
			if (avail < 0 || !vu_want_kick(q))
				break;
			continue;
		}
		while (avail-- > 0 && frames < max && done < q->num) {
			uint64_t total, skip, len;
			uint16_t head;
			int n, s;

			if (!vu_head(q, &head))
				goto out;
			n = vu_chain(q, head, false, &total);
			if (n >= 0 && (total < vu_hdr_len ||
				       total - vu_hdr_len > VU_FRAME_MAX))
				n = -1;
			if (n < 0) {
				vu_dropped++;
				vu_used_put(q, done++, head, 0);
				q->last_avail++;
				continue;
			}
			len = total - vu_hdr_len;
			if (pos + len > in_len)
				goto out;
			skip = vu_hdr_len;
			for (s = 0; s < n; s++) {
				uint32_t l = vu_segs[s].len;

				if (skip >= l) {
					skip -= l;
					continue;
				}
				memcpy(arena + in_off + pos,
				       vu_segs[s].p + skip, l - skip);
				pos += l - skip;
				skip = 0;
			}
			tab[(size_t)frames * 2] = in_off + pos - (uint32_t)len;
			tab[(size_t)frames * 2 + 1] = (uint32_t)len;
			frames++;
			vu_used_put(q, done++, head, 0);
			q->last_avail++;
		}
		if (frames >= max || done >= q->num)
			break;
	}
out:
	vu_used_publish(q, done);
	if (q->broken)
		return frames ? (int32_t)frames : -EIO;
	return (int32_t)frames;
}

/**
 * vu_put() - Copy bytes into the segments of the current receive group
 * @segs:	Segments
 * @nseg:	Number of segments
 * @si:		Current segment, advanced
 * @so:		Offset in it, advanced
 * @src:	Bytes
 * @len:	Length, known to fit
 */
static void vu_put(const struct vu_seg *segs, int nseg, int *si, uint32_t *so,
		   const uint8_t *src, uint32_t len)
{
	while (len && *si < nseg) {
		uint32_t room = segs[*si].len - *so;
		uint32_t l = len < room ? len : room;

		memcpy(segs[*si].p + *so, src, l);
		src += l;
		len -= l;
		*so += l;
		if (*so == segs[*si].len) {
			(*si)++;
			*so = 0;
		}
	}
}

/* Chains taken for the frame being written, and their segments */
#define VU_GROUP_MAX	256
static struct vu_seg vu_gsegs[VU_SEGS_MAX];
static uint16_t vu_thead[VU_GROUP_MAX];
static uint32_t vu_tlen[VU_GROUP_MAX];
static bool vu_tgood[VU_GROUP_MAX];

/**
 * vu_give_back() - Return taken chains as used: malformed ones first
 * @q:		Queue
 * @done:	Used elements written in this batch, advanced
 * @t:		Chains taken
 * @all:	Return good chains too (with length zero), not only bad ones
 */
static void vu_give_back(struct vu_queue *q, uint16_t *done, int t, bool all)
{
	int k;

	for (k = 0; k < t; k++) {
		if (!vu_tgood[k] || all)
			vu_used_put(q, (*done)++, vu_thead[k], 0);
	}
}

/**
 * pf_vu_rx() - Copy frames to the guest's receive queue (queue 0)
 * @arena:	Arena
 * @arena_len:	Its size
 * @desc_off:	Offset of the frame table ({offset, length} uint32_t pairs)
 * @count:	Frames there
 *
 * Return: frames written or dropped (fewer than @count when the guest has
 * no more buffers), -ENOTCONN if the queue isn't running, -EIO if it broke
 */
int32_t pf_vu_rx(uint8_t *arena, uint32_t arena_len, uint32_t desc_off,
		 uint32_t count)
{
	const uint32_t *tab = (const uint32_t *)(arena + desc_off);
	struct vu_queue *q = &vu_q[0];
	uint16_t done = 0;
	uint32_t f = 0;
	int rounds = 0;

	if (!vu_ready(q))
		return -ENOTCONN;
again:
	for (; f < count; f++) {
		uint32_t off = tab[(size_t)f * 2], len = tab[(size_t)f * 2 + 1];
		uint32_t so = 0;
		int nseg = 0, g = 0, t = 0, avail, si = 0, k, last_bad = -1;
		uint8_t hdr[12] = { 0 };
		uint64_t need, got = 0;

		if (len > VU_FRAME_MAX || off > arena_len ||
		    len > arena_len - off)
			continue;
		need = vu_hdr_len + len;
		avail = vu_avail(q);
		if (avail < 0)
			break;
		/* Never more used elements in one batch than the ring holds */
		if (avail > (int)(q->num - done))
			avail = (int)(q->num - done);
		if (avail > VU_GROUP_MAX)
			avail = VU_GROUP_MAX;
		while (got < need && t < avail) {
			uint64_t total;
			uint16_t head;
			int n;

			if (!vu_head(q, &head))
				break;
			n = vu_chain(q, head, true, &total);
			q->last_avail++;
			vu_thead[t] = head;
			vu_tgood[t] = n > 0 && nseg + n <= VU_SEGS_MAX &&
				      (g || total >= vu_hdr_len);
			if (!vu_tgood[t]) {
				vu_dropped++;
				last_bad = t++;
				continue;
			}
			memcpy(vu_gsegs + nseg, vu_segs, n * sizeof(*vu_segs));
			vu_tlen[t] = (uint32_t)(total < need - got ?
						total : need - got);
			got += vu_tlen[t];
			nseg += n;
			g++;
			t++;
			if (!vu_mrg_rxbuf)
				break;
		}
		if (q->broken)
			break;
		if (got < need && !vu_mrg_rxbuf && g) {
			/* The guest's one buffer is too short: drop the frame */
			vu_give_back(q, &done, t, true);
			continue;
		}
		if (got < need) {
			/* Out of buffers: chains up to the last bad one are
			 * returned (bad ones can't be read again), the rest
			 * will be read again for the next frames
			 */
			vu_give_back(q, &done, last_bad + 1, true);
			q->last_avail -= (uint16_t)(t - last_bad - 1);
			break;
		}
		vu_give_back(q, &done, t, false);
		hdr[10] = (uint8_t)g;	/* num_buffers, little-endian */
		vu_put(vu_gsegs, nseg, &si, &so, hdr, vu_hdr_len);
		vu_put(vu_gsegs, nseg, &si, &so, arena + off, len);
		for (k = 0; k < t; k++) {
			if (vu_tgood[k])
				vu_used_put(q, done++, vu_thead[k], vu_tlen[k]);
		}
	}
	vu_used_publish(q, done);
	if (q->broken)
		return f ? (int32_t)f : -EIO;
	/* Out of buffers: ask for a kick, and go on if the guest added some
	 * meanwhile. It may have read the event index before we set it (woken
	 * by the call of vu_used_publish(), it re-posts at once) and won't kick:
	 * the rest would wait for the next frame we send, for ever if none comes.
	 */
	if (f < count && vu_want_kick(q) && ++rounds < VU_RX_ROUNDS) {
		done = 0;
		goto again;
	}
	return (int32_t)f;
}

/**
 * vu_recv_rest() - Read the rest of a message, waiting up to a second
 * @fd:		Socket
 * @p:		Buffer
 * @got:	Bytes there already
 * @want:	Bytes wanted
 *
 * Return: 0, or -errno
 */
static int32_t vu_recv_rest(int fd, uint8_t *p, uint32_t got, uint32_t want)
{
	while (got < want) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n = recv(fd, p + got, want - got, MSG_DONTWAIT);

		if (n > 0) {
			got += (uint32_t)n;
			continue;
		}
		if (!n)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (poll(&pfd, 1, 1000) <= 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/**
 * pf_vu_msg_recv() - Receive one vhost-user message with its descriptors
 * @fd:		Connected socket
 * @buf:	Buffer; at @off, written: int32 nfds, int32 fds[8], then the
 *		12-byte header (request, flags, size) and the payload
 * @off:	Offset in @buf, with room for 36 + 12 + 4096 bytes
 *
 * The header is read at once (it and the descriptors come in one piece);
 * the payload may follow later, and is waited for up to one second.
 *
 * Return: bytes of header and payload, 0 at end of stream, -EAGAIN if no
 * message is there, -EMSGSIZE for a payload over 4096 bytes, other -errno
 */
int32_t pf_vu_msg_recv(int32_t fd, uint8_t *buf, uint32_t off)
{
	char cbuf[CMSG_SPACE(VU_MAX_REGIONS * sizeof(int))];
	uint8_t *out = buf + off, *msg = out + 36;
	struct iovec iov = { .iov_base = msg, .iov_len = 12 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int32_t nfds = 0, rc;
	uint32_t size;
	ssize_t n;

	memset(out, 0, 36);
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k, cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int v;

			memcpy(&v, CMSG_DATA(cm) + k * sizeof(int), sizeof(v));
			if (nfds < VU_MAX_REGIONS)
				memcpy(out + 4 + (size_t)4 * nfds++, &v, 4);
			else
				close(v);
		}
	}
	memcpy(out, &nfds, 4);
	rc = vu_recv_rest(fd, msg, (uint32_t)n, 12);
	if (rc)
		return rc;
	memcpy(&size, msg + 8, 4);
	if (size > VU_MSG_MAX)
		return -EMSGSIZE;
	rc = vu_recv_rest(fd, msg, 12, 12 + size);
	if (rc)
		return rc;
	return (int32_t)(12 + size);
}
