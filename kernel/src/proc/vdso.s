# The vDSO's code (see vdso.rs), copied at boot to offset {code_offset} of the vDSO page,
# which is mapped right after the [vvar] page: the RIP-relative references to VVAR below
# keep their distance in the copy. Called from ring 3 with the C ABI; nothing here may be
# WRPKRU (the image is scanned).
.section .rodata.vdso, "a"
.balign 16
.global vdso_code_start
vdso_code_start:
.set VVAR, vdso_code_start - {code_offset} - 4096

# rax = nanoseconds since boot, as the kernel's time::uptime_ns (clobbers rcx, rdx, r8).
vdso_uptime:
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, qword ptr [rip + VVAR + {vvar_tsc_at_boot}]
    mov rcx, rax
    mul qword ptr [rip + VVAR + {vvar_ns_fraction}]
    mov r8, rdx
    mov rax, rcx
    imul rax, qword ptr [rip + VVAR + {vvar_ns_whole}]
    add rax, r8
    ret

# rax = nanoseconds since the epoch, as time::realtime_ns (clobbers rcx, rdx, r8).
vdso_realtime:
    call vdso_uptime
    add rax, qword ptr [rip + VVAR + {vvar_epoch}]
    ret

# rax nanoseconds -> rax = seconds, rdx = nanoseconds within the second (clobbers rcx).
vdso_split:
    xor edx, edx
    mov ecx, 1000000000
    div rcx
    ret

# int clock_gettime(clockid_t edi, struct timespec *rsi)
.global vdso_clock_gettime
vdso_clock_gettime:
    cmp edi, 7
    ja 9f
    mov eax, 0xf3                 # REALTIME, MONOTONIC, the RAW, COARSE and BOOTTIME ones
    bt eax, edi
    jnc 9f
    cmp edi, 0
    je 1f
    cmp edi, 5
    je 1f
    call vdso_uptime
    jmp 2f
1:
    call vdso_realtime
2:
    call vdso_split
    mov qword ptr [rsi], rax
    mov qword ptr [rsi + 8], rdx
    xor eax, eax
    ret
9:
    mov eax, 228
    syscall
    ret

# int gettimeofday(struct timeval *rdi, struct timezone *rsi)
.global vdso_gettimeofday
vdso_gettimeofday:
    test rdi, rdi
    jz 1f
    call vdso_realtime
    call vdso_split
    mov qword ptr [rdi], rax
    mov rax, rdx
    xor edx, edx
    mov ecx, 1000
    div rcx
    mov qword ptr [rdi + 8], rax
1:
    test rsi, rsi
    jz 2f
    mov qword ptr [rsi], 0
2:
    xor eax, eax
    ret

# time_t time(time_t *rdi)
.global vdso_time
vdso_time:
    call vdso_realtime
    call vdso_split
    test rdi, rdi
    jz 1f
    mov qword ptr [rdi], rax
1:
    ret

# int getcpu(unsigned *rdi, unsigned *rsi, void *): one CPU, one node.
.global vdso_getcpu
vdso_getcpu:
    test rdi, rdi
    jz 1f
    mov dword ptr [rdi], 0
1:
    test rsi, rsi
    jz 2f
    mov dword ptr [rsi], 0
2:
    xor eax, eax
    ret

# int clock_getres(clockid_t, struct timespec *): the system call.
.global vdso_clock_getres
vdso_clock_getres:
    mov eax, 229
    syscall
    ret

.global vdso_code_end
vdso_code_end:
.text
