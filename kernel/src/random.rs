//! Randomness for programs (getrandom, /dev/urandom, AT_RANDOM): ChaCha20 seeded from the
//! host's seed (`seed=` on the command line), RDSEED/RDRAND when the CPU has them, and
//! the TSC.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

static RNG: spin::Mutex<Option<ChaCha20Rng>> = spin::Mutex::new(None);

fn hardware_random() -> Option<u64> {
    let leaf1 = core::arch::x86_64::__cpuid(1);
    if leaf1.ecx & (1 << 30) == 0 {
        return None;
    }
    for _ in 0..10 {
        let mut value: u64 = 0;
        // SAFETY: RDRAND is available (CPUID.1:ECX.RDRAND); it writes a register and CF.
        let ok = unsafe { core::arch::x86_64::_rdrand64_step(&mut value) };
        if ok == 1 {
            return Some(value);
        }
    }
    None
}

fn parse_hex_seed(s: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks(2).take(32).enumerate() {
        if let Ok(text) = core::str::from_utf8(pair) {
            seed[i] = u8::from_str_radix(text, 16).unwrap_or(0);
        }
    }
    seed
}

/// Seeds the generator; `host_seed` is the `seed=` command-line value, if any.
pub fn init(host_seed: Option<&str>) {
    let mut seed = host_seed.map(parse_hex_seed).unwrap_or([0; 32]);
    for chunk in seed.chunks_mut(8) {
        let mix =
            hardware_random().unwrap_or(0) ^ crate::arch::x86_64::cpu::rdtsc().rotate_left(17);
        for (b, m) in chunk.iter_mut().zip(mix.to_le_bytes()) {
            *b ^= m;
        }
    }
    *RNG.lock() = Some(ChaCha20Rng::from_seed(seed));
}

/// Fills `buf`. Also runs in ring 3 behind the MPK gate (getrandom): no interrupt handler
/// uses the generator, so its lock needs no interrupt masking.
pub fn fill(buf: &mut [u8]) {
    RNG.lock()
        .get_or_insert_with(|| ChaCha20Rng::seed_from_u64(crate::arch::x86_64::cpu::rdtsc()))
        .fill_bytes(buf)
}

pub fn bytes16() -> [u8; 16] {
    let mut b = [0u8; 16];
    fill(&mut b);
    b
}
