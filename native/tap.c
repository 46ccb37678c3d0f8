/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* tap.c - tap device: open, batched frame reads and writes, ifindex
 *
 * A tap file descriptor returns exactly one Ethernet frame per read() and
 * takes one per write(). The batch calls loop over such reads and writes in
 * C, so that one FFI call moves many frames; frames are described by
 * {offset, length} pairs of native-endian uint32_t words in the arena.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "passt_ffi.h"

/**
 * pf_tap_open() - Open /dev/net/tun as a tap device without packet info
 * @name:	IFNAMSIZ bytes, NUL-terminated; in: requested name (empty for
 *		a kernel-chosen one), out: the name the kernel gave
 *
 * The descriptor is non-blocking and close-on-exec.
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_tap_open(uint8_t *name)
{
	struct ifreq ifr;
	int fd;

	memset(&ifr, 0, sizeof(ifr));
	str_copy(ifr.ifr_name, IFNAMSIZ, (const char *)name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int rc = -errno;

		close(fd);
		return rc;
	}

	str_copy((char *)name, IFNAMSIZ, ifr.ifr_name);
	return fd;
}

/**
 * pf_tap_read_batch() - Read frames into consecutive space in the arena
 * @fd:		Tap file descriptor, non-blocking
 * @arena:	Arena
 * @buf_off:	Start of the receive space
 * @buf_len:	Length of the receive space
 * @desc_off:	Receives an {offset, length} uint32_t pair per frame
 * @max_frames:	Maximum number of frames
 * @frame_max:	Room given to each read
 *
 * Reading stops at EAGAIN, after @max_frames frames, or when less than
 * @frame_max bytes of room remain.
 *
 * Return: number of frames read (0 if nothing was ready), or -errno if the
 *	   first read failed with anything but EAGAIN
 */
int32_t pf_tap_read_batch(int32_t fd, uint8_t *arena, uint32_t buf_off,
			  uint32_t buf_len, uint32_t desc_off,
			  uint32_t max_frames, uint32_t frame_max)
{
	uint32_t *desc = (uint32_t *)(void *)(arena + desc_off);
	uint32_t used = 0, n = 0;

	if (!frame_max)
		return -EINVAL;

	while (n < max_frames && buf_len - used >= frame_max) {
		ssize_t len = read(fd, arena + buf_off + used, frame_max);

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || n)
				break;
			return -errno;
		}
		if (!len)
			break;

		desc[0] = buf_off + used;
		desc[1] = (uint32_t)len;
		desc += 2;
		used += (uint32_t)len;
		n++;
	}
	return (int32_t)n;
}

/**
 * pf_tap_write_batch() - Write frames described in the arena
 * @fd:		Tap file descriptor
 * @arena:	Arena
 * @desc_off:	{offset, length} uint32_t pairs, one per frame
 * @count:	Number of frames
 *
 * Writing stops at the first failure.
 *
 * Return: number of frames written, or -errno if the first write failed
 *	   with anything but EAGAIN
 */
int32_t pf_tap_write_batch(int32_t fd, uint8_t *arena, uint32_t desc_off,
			   uint32_t count)
{
	const uint32_t *desc = (const uint32_t *)(void *)(arena + desc_off);
	uint32_t n;

	for (n = 0; n < count; n++, desc += 2) {
		if (write(fd, arena + desc[0], desc[1]) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || n)
				break;
			return -errno;
		}
	}
	return (int32_t)n;
}

/**
 * pf_ifindex() - Look up an interface index in the caller's namespace
 * @name:	NUL-terminated interface name
 *
 * Return: interface index, or -errno (-ENODEV if there's no such device)
 */
int32_t pf_ifindex(uint8_t *name)
{
	unsigned int idx;

	errno = 0;
	idx = if_nametoindex((const char *)name);
	if (!idx)
		return errno ? -errno : -ENODEV;
	return (int32_t)idx;
}
