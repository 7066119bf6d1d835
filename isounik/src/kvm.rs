//! Whether KVM can run Iso-UniK here: /dev/kvm must be usable and its vCPUs must have PKU
//! (protection keys), which some nested hypervisors (PVM) do not expose.

use std::fmt;

use anyhow::{bail, Result};

use crate::qemu::{Accel, AccelChoice};

/// CPUID leaf 7 subleaf 0, ECX bit 3: PKU (protection keys for user-mode pages).
const CPUID_LEAF_EXTENDED_FEATURES: u32 = 7;
const CPUID_ECX_PKU: u32 = 1 << 3;
/// Room for the answer of `KVM_GET_SUPPORTED_CPUID` (kvm-bindings' `KVM_MAX_CPUID_ENTRIES`).
const MAX_CPUID_ENTRIES: usize = 256;

/// What probing /dev/kvm found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// /dev/kvm cannot be opened or cannot create a VM.
    Unusable(String),
    /// KVM works but its vCPUs lack PKU.
    NoPku,
    /// KVM works and its vCPUs have PKU.
    Pku,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Unusable(why) => write!(f, "not usable ({why})"),
            Probe::NoPku => f.write_str("usable, but its vCPUs do not expose PKU"),
            Probe::Pku => f.write_str("usable, vCPUs expose PKU"),
        }
    }
}

/// Opens /dev/kvm, creates a VM and asks `KVM_GET_SUPPORTED_CPUID` whether PKU is there.
pub fn probe() -> Probe {
    let kvm = match kvm_ioctls::Kvm::new() {
        Ok(kvm) => kvm,
        Err(e) => return Probe::Unusable(format!("cannot open /dev/kvm: {e}")),
    };
    if let Err(e) = kvm.create_vm() {
        return Probe::Unusable(format!("KVM_CREATE_VM failed: {e}"));
    }
    let cpuid = match kvm.get_supported_cpuid(MAX_CPUID_ENTRIES) {
        Ok(cpuid) => cpuid,
        Err(e) => return Probe::Unusable(format!("KVM_GET_SUPPORTED_CPUID failed: {e}")),
    };
    let has_pku = cpuid.as_slice().iter().any(|entry| {
        entry.function == CPUID_LEAF_EXTENDED_FEATURES
            && entry.index == 0
            && entry.ecx & CPUID_ECX_PKU != 0
    });
    if has_pku {
        Probe::Pku
    } else {
        Probe::NoPku
    }
}

/// The accelerator for `choice`, given what `probe` finds (called only when needed).
pub fn resolve(choice: AccelChoice, probe: impl FnOnce() -> Probe) -> Result<Accel> {
    match choice {
        AccelChoice::Tcg => Ok(Accel::Tcg),
        AccelChoice::Auto => Ok(match probe() {
            Probe::Pku => Accel::Kvm,
            Probe::NoPku | Probe::Unusable(_) => Accel::Tcg,
        }),
        AccelChoice::Kvm => match probe() {
            Probe::Pku => Ok(Accel::Kvm),
            Probe::NoPku => bail!(
                "--accel kvm: this KVM does not expose PKU (protection keys) to its vCPUs \
                 (CPUID.(EAX=7,ECX=0):ECX.PKU is clear), and Iso-UniK needs them; \
                 use --accel tcg (or --accel auto)"
            ),
            Probe::Unusable(why) => {
                bail!("--accel kvm: KVM is {why}; use --accel tcg (or --accel auto)")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_accelerators() {
        let never = || -> Probe { panic!("tcg must not probe KVM") };
        assert_eq!(resolve(AccelChoice::Tcg, never).unwrap(), Accel::Tcg);
        assert_eq!(
            resolve(AccelChoice::Auto, || Probe::Pku).unwrap(),
            Accel::Kvm
        );
        assert_eq!(
            resolve(AccelChoice::Auto, || Probe::NoPku).unwrap(),
            Accel::Tcg
        );
        assert_eq!(
            resolve(AccelChoice::Auto, || Probe::Unusable("x".into())).unwrap(),
            Accel::Tcg
        );
        assert_eq!(
            resolve(AccelChoice::Kvm, || Probe::Pku).unwrap(),
            Accel::Kvm
        );
        let err = resolve(AccelChoice::Kvm, || Probe::NoPku)
            .unwrap_err()
            .to_string();
        assert!(err.contains("PKU"), "{err}");
        let err = resolve(AccelChoice::Kvm, || {
            Probe::Unusable("cannot open /dev/kvm: EACCES".into())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("cannot open /dev/kvm"), "{err}");
    }

    #[test]
    fn probing_does_not_panic() {
        // Whatever this machine has, probing reports it instead of failing.
        let _ = probe().to_string();
    }
}
