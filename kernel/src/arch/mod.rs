//! Architecture support. Only x86-64: protection keys are an x86 feature.
pub mod x86_64;
