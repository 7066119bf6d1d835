# Every way into ring 0 and the one way back to ring 3 (ARCHITECTURE.md §1, §3).
#
# * Vectors 0-255: a stub pushes (error code, vector) and jumps to `trap_common`. Every IDT
#   gate uses an IST stack (supervisor pages): the precompiled `core` uses the red zone, so
#   the CPU must never push onto an interrupted ring-0 stack.
# * `syscall`: `syscall_entry` switches to the per-CPU entry stack (supervisor) and builds the
#   same TrapFrame.
# * Nothing here touches a K_LIBOS page before PKRU holds the libOS value.
# * From ring 3, the frame is handed to Rust on the thread's kernel stack, as the return of
#   `user_enter` (the Asterinas `UserMode::execute` model). From ring 0, `kernel_trap` runs
#   on the IST stack and we return with iretq.


    .macro PKRU_SAVE_SET_LIBOS
    cmp byte ptr [rip + {pku_flag}], 0
    je 91f
    xor ecx, ecx
    rdpkru
    mov [rsp], rax                # TrapFrame.pkru
    mov eax, {libos_pkru}
    xor ecx, ecx
    xor edx, edx
    wrpkru
91:
    .endm

    .macro PUSH_GPRS
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
    sub rsp, 8                    # TrapFrame.pkru, filled by PKRU_SAVE_SET_LIBOS
    mov qword ptr [rsp], 0
    .endm

    .macro POP_GPRS
    add rsp, 8
    pop rax
    pop rbx
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    pop rbp
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
    .endm

    # Supervisor code (U/S=0): ring 3 can never fetch it. Protection keys do not check
    # instruction fetches, so any WRPKRU in a user page could be jumped to from ring 3 and
    # followed by a `ret`/`iretq` chosen by the attacker; only the self-checking call gate
    # may have WRPKRU in user pages.
    .section .stext, "ax"

# 256 stubs, 16 bytes apart from `trap_stubs`; vectors with a CPU-pushed error code
# (8, 10-14, 17, 21, 29, 30) do not push a dummy one.
    .balign 16
    .global trap_stubs
trap_stubs:
    .set .Lvec, 0
    .rept 256
    .balign 16
    .if (.Lvec == 8) | ((.Lvec >= 10) & (.Lvec <= 14)) | (.Lvec == 17) | (.Lvec == 21) | (.Lvec == 29) | (.Lvec == 30)
    .else
    push 0
    .endif
    push .Lvec
    jmp trap_common
    .set .Lvec, .Lvec + 1
    .endr

trap_common:
    test byte ptr [rsp + 24], 3   # CS of the interrupted context
    jnz trap_from_user

    # Ring 0 interrupted: handle on this IST stack and return to it.
    PUSH_GPRS
    PKRU_SAVE_SET_LIBOS
    mov rbx, rsp
    sub rsp, 512
    and rsp, -16
    fxsave64 [rsp]
    mov rdi, rbx
    call {kernel_trap}
    fxrstor64 [rsp]
    mov rsp, rbx
    cmp byte ptr [rip + {pku_flag}], 0
    je 5f
    mov eax, [rsp]                # the interrupted PKRU
    xor ecx, ecx
    xor edx, edx
    wrpkru
5:  POP_GPRS
    add rsp, 16                   # vector, error code
    iretq

trap_from_user:
    swapgs
    PUSH_GPRS
    PKRU_SAVE_SET_LIBOS
    jmp user_exit_common

    .balign 16
    .global syscall_entry
syscall_entry:
    # rcx = user rip, r11 = user rflags, rsp = user rsp; IF is clear (SFMASK).
    swapgs
    mov gs:[{pc_scratch}], rsp
    mov rsp, gs:[{pc_entry_stack}]
    push {user_ss}
    push gs:[{pc_scratch}]
    push r11
    push {user_cs}
    push rcx
    push 0                        # error code
    push {syscall_vector}
    PUSH_GPRS
    PKRU_SAVE_SET_LIBOS
    # fall through

# rsp -> TrapFrame on a supervisor stack; libOS PKRU; kernel GS.
user_exit_common:
    mov rdi, gs:[{pc_user_ctx}]
    cmp byte ptr [rip + {xsave_flag}], 0
    je 6f
    mov eax, -1
    mov edx, -1
    xsave64 [rdi + {ctx_fpu}]
    jmp 7f
6:  fxsave64 [rdi + {ctx_fpu}]
7:
    mov rsi, rsp
    mov rsp, gs:[{pc_kernel_rsp}]
    ldmxcsr [rip + {default_mxcsr}]
    call {user_exit_collect}      # (ctx, frame) -> exit reason in rax
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

# user_enter(ctx: *mut UserContext, frame_area: *mut TrapFrame) -> reason
# `frame_area` is the TrapFrame slot at the top of this CPU's entry stack, already filled
# by Rust from `ctx` (registers, sanitized rip/rflags, selectors, the application PKRU).
# Interrupts are off.
    .global user_enter
user_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov gs:[{pc_kernel_rsp}], rsp
    mov gs:[{pc_user_ctx}], rdi
    cmp byte ptr [rip + {xsave_flag}], 0
    je 6f
    mov eax, -1
    mov edx, -1
    xrstor64 [rdi + {ctx_fpu}]
    jmp 7f
6:  fxrstor64 [rdi + {ctx_fpu}]
7:
    mov rsp, rsi
    cmp byte ptr [rip + {pku_flag}], 0
    je 5f
    mov eax, [rsp]                # the application PKRU
    xor ecx, ecx
    xor edx, edx
    wrpkru
5:  POP_GPRS
    add rsp, 16
    swapgs
    iretq

