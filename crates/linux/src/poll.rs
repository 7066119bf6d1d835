//! `poll` events and `epoll` (asm-generic/poll.h, linux/eventpoll.h).

use crate::flags::Names;

pub const POLLIN: u16 = 0x0001;
pub const POLLPRI: u16 = 0x0002;
pub const POLLOUT: u16 = 0x0004;
pub const POLLERR: u16 = 0x0008;
pub const POLLHUP: u16 = 0x0010;
pub const POLLNVAL: u16 = 0x0020;
pub const POLLRDNORM: u16 = 0x0040;
pub const POLLRDBAND: u16 = 0x0080;
pub const POLLWRNORM: u16 = 0x0100;
pub const POLLWRBAND: u16 = 0x0200;
pub const POLLMSG: u16 = 0x0400;
pub const POLLREMOVE: u16 = 0x1000;
pub const POLLRDHUP: u16 = 0x2000;

pub const POLL_NAMES: Names = &[
    (0x0001, "POLLIN"),
    (0x0002, "POLLPRI"),
    (0x0004, "POLLOUT"),
    (0x0008, "POLLERR"),
    (0x0010, "POLLHUP"),
    (0x0020, "POLLNVAL"),
    (0x0040, "POLLRDNORM"),
    (0x0080, "POLLRDBAND"),
    (0x0100, "POLLWRNORM"),
    (0x0200, "POLLWRBAND"),
    (0x0400, "POLLMSG"),
    (0x1000, "POLLREMOVE"),
    (0x2000, "POLLRDHUP"),
];

pub const EPOLLIN: u32 = 0x0000_0001;
pub const EPOLLPRI: u32 = 0x0000_0002;
pub const EPOLLOUT: u32 = 0x0000_0004;
pub const EPOLLERR: u32 = 0x0000_0008;
pub const EPOLLHUP: u32 = 0x0000_0010;
pub const EPOLLNVAL: u32 = 0x0000_0020;
pub const EPOLLRDNORM: u32 = 0x0000_0040;
pub const EPOLLRDBAND: u32 = 0x0000_0080;
pub const EPOLLWRNORM: u32 = 0x0000_0100;
pub const EPOLLWRBAND: u32 = 0x0000_0200;
pub const EPOLLMSG: u32 = 0x0000_0400;
pub const EPOLLRDHUP: u32 = 0x0000_2000;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

pub const EPOLL_CTL_ADD: u32 = 1;
pub const EPOLL_CTL_DEL: u32 = 2;
pub const EPOLL_CTL_MOD: u32 = 3;
pub const EPOLL_CTL_NAMES: Names = &[
    (1, "EPOLL_CTL_ADD"),
    (2, "EPOLL_CTL_DEL"),
    (3, "EPOLL_CTL_MOD"),
];

pub const EPOLL_CLOEXEC: u32 = crate::fcntl::O_CLOEXEC;
pub const EPOLL_FLAG_NAMES: Names = &[(EPOLL_CLOEXEC as u64, "EPOLL_CLOEXEC")];

/// `eventfd2` flags.
pub const EFD_SEMAPHORE: u32 = 1;
pub const EFD_CLOEXEC: u32 = crate::fcntl::O_CLOEXEC;
pub const EFD_NONBLOCK: u32 = crate::fcntl::O_NONBLOCK;
/// `signalfd4` flags.
pub const SFD_CLOEXEC: u32 = crate::fcntl::O_CLOEXEC;
pub const SFD_NONBLOCK: u32 = crate::fcntl::O_NONBLOCK;
