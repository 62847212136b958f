/* SPDX-License-Identifier: MIT */
/* Internal error codes: negative returns, Linux values so host tests agree. */
#ifndef TERN_KERNEL_ERRNO_H
#define TERN_KERNEL_ERRNO_H

#ifndef EPERM
#define EPERM   1
#define ENOENT  2
#define EIO     5
#define E2BIG   7
#define ENOMEM  12
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define ENODEV  19
#define EINVAL  22
#define ENOSPC  28
#define ERANGE  34
#define ENOSYS  38
#define ENODATA 61
#define EBADMSG 74
#define EOVERFLOW 75
#define ENOTSUP 95
#define ETIMEDOUT 110
#endif

#endif
