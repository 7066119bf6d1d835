pub mod debugcon;
pub mod net;
pub mod stdio;
pub mod tty;
pub mod uart;
