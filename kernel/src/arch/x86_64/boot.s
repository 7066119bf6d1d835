# Sections are set by every global_asm! block; the next one must not inherit .bss.
# PVH entry: QEMU (and Firecracker, cloud-hypervisor) enter here in 32-bit protected mode,
# paging off, with %ebx = physical address of struct hvm_start_info (Xen's PVH boot ABI).
# We build boot page tables that map the first 1 GiB twice (identity, and at KERNEL_VMA for
# the linked higher-half image; also at PHYSMAP_BASE), enter long mode, enable SSE (precompiled core uses it) and
# call kmain(start_info_phys). The real page tables replace these in mm::init.

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                      # name size ("Xen\0")
    .long 4                      # descriptor size
    .long 18                     # XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start32

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %edi

    # boot_pd: 512 x 2 MiB pages covering physical 0..1 GiB.
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax               # present | writable | huge
    mov %eax, boot_pd(,%ecx,8)
    movl $0, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt_low
    mov %eax, boot_pdpt_high + 510*8
    mov $boot_pdpt_low, %eax
    or $3, %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 256*8  # PHYSMAP_BASE: the same first 1 GiB
    mov $boot_pdpt_high, %eax
    or $3, %eax
    mov %eax, boot_pml4 + 511*8
    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov %cr4, %eax
    or $(1 << 5), %eax           # PAE
    mov %eax, %cr4

    mov $0xc0000080, %ecx        # EFER
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax   # LME | NXE
    wrmsr

    mov %cr0, %eax
    or $0x80010001, %eax         # PG | WP | PE
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_long_mode

    .code64
boot_long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs

    # SSE: CR0.EM=0, CR0.MP=1, CR4.OSFXSR | CR4.OSXMMEXCPT.
    mov %cr0, %rax
    and $~(1 << 2), %rax
    or $(1 << 1), %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $((1 << 9) | (1 << 10)), %rax
    mov %rax, %cr4

    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %edi, %edi               # zero-extend the start_info address
    movabs $kmain, %rax
    call *%rax
2:  hlt
    jmp 2b

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff     # 0x08: 64-bit code
    .quad 0x00cf92000000ffff     # 0x10: data
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096

    .section .bss.boot_stack, "aw", @nobits
    .balign 16
    .global boot_stack_bottom
boot_stack_bottom:
    .skip 64 * 1024
    .global boot_stack_top
boot_stack_top:
    .text
