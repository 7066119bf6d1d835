# The MPK call gate (ARCHITECTURE.md section 3), shared by the kernel (`gate.rs`, through
# `global_asm!`) and the native host benchmark (`isounik bench --mode native`), which
# times this very code on a CPU with PKU. Intel syntax; {libos}, {app}, {table_len},
# {slow} and {priv_forward} are filled in by both (the PKRU values of the two domains, the
# dispatch table's length, `gate_dispatch`'s "ring 0 must run it" answer, the privilege
# gate's two requests that end a call). The data it names (GATE_TABLE, GATE_PID, GATE_TID, GATE_PPID,
# GATE_STACK) lives in libOS memory.
.section .text.gate, "ax"
.balign 64
.global gate_start
gate_start:
.global gate_entry
gate_entry:
# [rsp] = return address pushed by `call *%rax`; rax = number; rdx = argument 3.
# Only a rewritten site may come in: the return address must follow `call *%rax`
# (ff d0). A call to address 0 from any other instruction faults as a NULL access
# would. Checked with the application's rights (not a security check: a program can
# always make a `call *%rax` of its own).
    mov r11, [rsp]
    cmp word ptr [r11 - 2], 0xd0ff
    jne 9f
# Entered here directly by code that calls the gate itself (the native benchmark).
.global gate_direct
gate_direct:
    push rdx
    mov r11, rax
2:
    xor ecx, ecx
    xor edx, edx
    mov eax, {libos}
    wrpkru
    cmp eax, {libos}
    jne 2b
# libOS rights. r11 = number (a register: no other thread can change it).
    cmp r11, {table_len}
    jae gate_slow
    jmp qword ptr [GATE_TABLE + r11 * 8]
# Handlers in assembly: result in r11, ecx = edx = 0 still.
.global gate_getpid
gate_getpid:
    mov r11, qword ptr [rip + GATE_PID]
    jmp 3f
.global gate_gettid
gate_gettid:
    mov r11, qword ptr [rip + GATE_TID]
    jmp 3f
.global gate_zero
gate_zero:
    xor r11d, r11d
    jmp 3f
.global gate_getppid
gate_getppid:
    mov r11, qword ptr [rip + GATE_PPID]
# Back to the application's rights, checked; ecx = edx = 0 from the entry.
3:
    mov eax, {app}
    wrpkru
    cmp eax, {app}
    jne 4f
    mov rax, r11
    pop rdx
    ret
# System calls in Rust (`gate_dispatch`, the kernel's own system call table), on the
# thread's gate stack (libOS memory). The six argument registers are pushed so that they
# form the argument array (rdi, rsi, rdx, r10, r8, r9) and are restored from it: with the
# program's rsp and the number, eight words, which keep the ABI's alignment. The program's
# xmm0-15 are kept below them: a system call preserves them (Linux saves them on entry),
# and the Rust code may use them. (It never touches x87 or AVX state, nor MXCSR.)
.global gate_rust
gate_rust:
    mov rcx, rsp
    mov rsp, qword ptr [rip + GATE_STACK]
    push rcx
    push r11
    sub rsp, 256
    movdqu [rsp], xmm0
    movdqu [rsp + 16], xmm1
    movdqu [rsp + 32], xmm2
    movdqu [rsp + 48], xmm3
    movdqu [rsp + 64], xmm4
    movdqu [rsp + 80], xmm5
    movdqu [rsp + 96], xmm6
    movdqu [rsp + 112], xmm7
    movdqu [rsp + 128], xmm8
    movdqu [rsp + 144], xmm9
    movdqu [rsp + 160], xmm10
    movdqu [rsp + 176], xmm11
    movdqu [rsp + 192], xmm12
    movdqu [rsp + 208], xmm13
    movdqu [rsp + 224], xmm14
    movdqu [rsp + 240], xmm15
    push r9
    push r8
    push r10
    push qword ptr [rcx]
    push rsi
    push rdi
    mov rdi, rsp
    mov rsi, r11
# rax = result, rdx = nonzero when a signal or a task switch is due.
    call gate_dispatch
    pop rdi
    pop rsi
    add rsp, 8
    pop r10
    pop r8
    pop r9
    movdqu xmm0, [rsp]
    movdqu xmm1, [rsp + 16]
    movdqu xmm2, [rsp + 32]
    movdqu xmm3, [rsp + 48]
    movdqu xmm4, [rsp + 64]
    movdqu xmm5, [rsp + 80]
    movdqu xmm6, [rsp + 96]
    movdqu xmm7, [rsp + 112]
    movdqu xmm8, [rsp + 128]
    movdqu xmm9, [rsp + 144]
    movdqu xmm10, [rsp + 160]
    movdqu xmm11, [rsp + 176]
    movdqu xmm12, [rsp + 192]
    movdqu xmm13, [rsp + 208]
    movdqu xmm14, [rsp + 224]
    movdqu xmm15, [rsp + 240]
    add rsp, 256
    pop r11
    pop rsp
    movabs rcx, {slow}
    cmp rax, rcx
    je gate_slow
    mov r11, rax
    test rdx, rdx
    jnz gate_finish
# The general way back (rcx and rdx may be anything here).
4:
    xor ecx, ecx
    xor edx, edx
    mov eax, {app}
    wrpkru
    cmp eax, {app}
    jne 4b
    mov rax, r11
    pop rdx
    ret
# Anything else goes to ring 0 through the privilege gate: this `syscall`, made with the
# libOS rights still held, is accepted by ring 0 only from this very instruction with the
# libOS PKRU (`gate::forwarded_call`). Ring 0 runs system call `rdx` for the application
# and returns to the application itself, restoring its rdx and popping its return address
# with the application's rights; never here. r11 = number.
.global gate_slow
gate_slow:
    mov rdx, r11
    movabs rax, {priv_forward}
.global gate_priv_request
gate_priv_request:
    syscall
.global gate_priv_return
gate_priv_return:
    ud2
# A call done in ring 3 after which a signal or a task switch is due: ring 0 returns the
# result (r11) to the application, as `gate_slow`'s request does, and delivers or switches
# first. Accepted from this instruction only, with the libOS PKRU (`gate::finished_call`).
gate_finish:
    mov rdx, r11
    movabs rax, {priv_finish}
.global gate_priv_finish_request
gate_priv_finish_request:
    syscall
.global gate_priv_finish_return
gate_priv_finish_return:
    ud2
# The privilege gate's services for the libOS's Rust code behind the gate (in ring 3 with
# the libOS rights): `extern "C" fn(request, argument) -> u64`, for what only ring 0 can
# do (wake a task, block, grow the heap). Ring 0 answers only this instruction made with
# the libOS PKRU (`gate::service`) and returns here with those rights; to anyone else it
# answers EPERM with the caller's own rights.
.global gate_service
gate_service:
    mov rax, rdi
    mov rdx, rsi
.global gate_service_request
gate_service_request:
    syscall
.global gate_service_return
gate_service_return:
    ret
# Not entered from a rewritten site: fault like the NULL access it was.
9:
    mov rax, qword ptr [0]
    ud2
.global gate_end
gate_end:
.text
