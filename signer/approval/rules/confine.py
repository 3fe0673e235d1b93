"""The rule worker's OS sandbox: no new privileges, a seccomp filter, rlimits, no descriptors.

A rule runs inside QuickJS, which holds no keys; this is for the day QuickJS has a memory bug a
rule can exploit. The worker calls ``confine()`` after it has loaded everything it will ever
need and before it reads the rule file. From then on the process can only do what serving rule
calls takes: read and write its two pipes, wait on them, manage memory, take its timer signal
and exit. Every other system call fails with EPERM: opening or creating files, sockets, new
processes or threads, exec, signals to other processes (the signer runs as the same user),
ptrace, ioctl. Memory can never be made executable (mmap and mprotect with PROT_EXEC fail).

The filter comes from libseccomp (Debian's ``libseccomp2``, ``libseccomp.so.2``), through ctypes:
PyPI has no maintained binding with wheels, and Debian's python3-seccomp serves only the system
Python. The worker refuses to start without it, so rules never run unconfined; requests then go
to the UI.

What the worker needs was measured with strace over calls that use console, storage, BigNumber,
a thrown error, a 200,000-object heap and a 64 MiB string: brk, mmap, munmap, mremap, read,
write, pselect6, rt_sigaction, rt_sigreturn, getppid, futex, exit_group. The list below adds
the equivalents glibc or the kernel may choose instead (select, poll, madvise, ...).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource

LIBRARY = "libseccomp.so.2"
_PR_SET_NO_NEW_PRIVS = 38
_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_ERRNO = 0x00050000
_SCMP_CMP_MASKED_EQ = 7
_PROT_EXEC = 0x4

ALLOWED = (
    # the two pipes, and waiting on them
    "read", "write", "readv", "writev", "close", "select", "pselect6", "poll", "ppoll",
    # memory: the JavaScript heap lives in malloc'd memory
    "brk", "munmap", "mremap", "madvise",
    # signals: the parent-watch timer (worker.exit_with_parent) and dukpy's interrupt handler
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    # time, identity of self and parent, locks, randomness, leaving
    "clock_gettime", "clock_getres", "gettimeofday", "nanosleep", "clock_nanosleep", "getppid",
    "getpid", "gettid", "futex", "sched_yield", "getrandom", "exit", "exit_group",
)  # fmt: skip
# Allowed only when the protection asked for has no PROT_EXEC bit (argument 2 of both).
ALLOWED_WITHOUT_EXEC = ("mmap", "mprotect")


class ConfinementError(Exception):
    """The sandbox could not be installed; the worker must not run rules."""


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def confine(keep_fds: tuple[int, ...] = (0, 1, 2)) -> None:
    """Confine this process for good. Raises ConfinementError when any step fails."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        seccomp = ctypes.CDLL(LIBRARY, use_errno=True)
    except OSError as err:
        raise ConfinementError(f"cannot load {LIBRARY} (apt-get install libseccomp2): {err}") from None
    _close_other_fds(keep_fds)
    _limit_resources(max(keep_fds) + 1)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise ConfinementError(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    _load_filter(seccomp)


def _close_other_fds(keep: tuple[int, ...]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):  # the one listdir itself used is closed already
                os.close(fd)


def _limit_resources(max_fds: int) -> None:
    for limit, value in (
        (resource.RLIMIT_NOFILE, max_fds),  # no descriptor beyond the pipes, even if seccomp failed
        (resource.RLIMIT_NPROC, 0),  # no new process (not enforced for root; seccomp is)
        (resource.RLIMIT_FSIZE, 0),  # no file can grow
        (resource.RLIMIT_CORE, 0),  # no core dump of a heap that held requests
        (resource.RLIMIT_MEMLOCK, 0),
    ):
        try:
            resource.setrlimit(limit, (value, value))
        except (OSError, ValueError) as err:
            raise ConfinementError(f"setrlimit({limit}): {err}") from None


def _load_filter(seccomp: ctypes.CDLL) -> None:
    seccomp.seccomp_init.restype = ctypes.c_void_p
    seccomp.seccomp_init.argtypes = [ctypes.c_uint32]
    seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    seccomp.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)
    ]  # fmt: skip
    seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
    seccomp.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = seccomp.seccomp_init(_SCMP_ACT_ERRNO | errno.EPERM)
    if not ctx:
        raise ConfinementError("seccomp_init failed")
    try:
        for name in ALLOWED:
            _allow(seccomp, ctx, name)
        no_exec = (_ArgCmp * 1)(_ArgCmp(2, _SCMP_CMP_MASKED_EQ, _PROT_EXEC, 0))
        for name in ALLOWED_WITHOUT_EXEC:
            _allow(seccomp, ctx, name, no_exec)
        rc = seccomp.seccomp_load(ctx)
        if rc != 0:
            raise ConfinementError(f"seccomp_load: {os.strerror(-rc)}")
    finally:
        seccomp.seccomp_release(ctx)


def _allow(seccomp: ctypes.CDLL, ctx: int, name: str, args: ctypes.Array[_ArgCmp] | None = None) -> None:
    number = seccomp.seccomp_syscall_resolve_name(name.encode("ascii"))
    if number < 0:
        return  # not a system call on this architecture (e.g. select on aarch64)
    count = 0 if args is None else len(args)
    rc = seccomp.seccomp_rule_add_array(ctx, _SCMP_ACT_ALLOW, number, count, args)
    if rc != 0:
        raise ConfinementError(f"seccomp_rule_add({name}): {os.strerror(-rc)}")
