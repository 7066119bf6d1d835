# Ring-3 probes for the self tests. They run in user mode from the kernel text (a user page
# tagged K_LIBOS: instruction fetches are never key-checked) and end with `syscall`, which
# brings control back to the test through UserContext::execute.

    .section .text.user_probes, "ax"

    .global probe_read
probe_read:                     # rdi = address; the value comes back in rax
    mov rax, [rdi]
    syscall
    ud2

    .global probe_write
probe_write:                    # rdi = address, rsi = value
    mov [rdi], rsi
    syscall
    ud2

    .global probe_xrstor
probe_xrstor:                   # rdi = 64-byte aligned XSAVE image; PKRU comes back in rax
    mov eax, -1
    mov edx, -1
    xrstor64 [rdi]
    xor ecx, ecx
    rdpkru
    syscall
    ud2

    .global probe_registers
probe_registers:                # stop, then return the sum of the registers it got back
    syscall
    add rax, rbx
    add rax, rdx
    add rax, rsi
    add rax, rdi
    add rax, rbp
    add rax, r8
    add rax, r9
    add rax, r10
    add rax, r12
    add rax, r13
    add rax, r14
    add rax, r15
    syscall
    ud2

    .global probe_spin
probe_spin:
    pause
    jmp probe_spin

    .global probe_cli
probe_cli:
    cli
    syscall
    .global probe_hlt
probe_hlt:
    hlt
    syscall
    .global probe_in
probe_in:
    mov dx, 0x3f8
    in al, dx
    syscall
    .global probe_out
probe_out:
    mov dx, 0xf4
    out dx, al
    syscall
    .global probe_wrmsr
probe_wrmsr:
    mov ecx, 0xc0000082
    wrmsr
    syscall
    .global probe_mov_cr3
probe_mov_cr3:
    mov cr3, rax
    syscall
    .global probe_int80
probe_int80:
    int 0x80
    syscall
    .global probe_int3
probe_int3:
    int3
    syscall

