pub mod debugcon;
pub mod uart;
