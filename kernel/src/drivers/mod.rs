pub mod debugcon;
pub mod stdio;
pub mod uart;
