//! Device interrupts, whichever ring they arrive in.

use crate::arch::x86_64::apic;
use crate::arch::x86_64::trap::{SPURIOUS_VECTOR, TIMER_VECTOR, UART_VECTOR};
use crate::{drivers, time};

pub fn dispatch(vector: u8) {
    match vector {
        TIMER_VECTOR => time::on_tick(),
        UART_VECTOR => drivers::uart::on_interrupt(),
        drivers::net::NET_VECTOR => drivers::net::on_interrupt(),
        SPURIOUS_VECTOR => return, // no EOI for the spurious vector
        _ => {}
    }
    apic::end_of_interrupt();
}
