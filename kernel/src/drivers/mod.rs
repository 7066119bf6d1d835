pub mod debugcon;
pub mod stdio;
pub mod tty;
pub mod uart;
