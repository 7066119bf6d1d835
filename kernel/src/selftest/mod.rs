//! In-kernel self tests (`isounik selftest`): each prints one `@selftest` record.

mod devices;
mod memory;
mod pku;
mod user;

use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};

use isounik_abi::log::{Verdict, MARK, SELFTEST};

/// A test's outcome: `Err` carries what went wrong; `Skip` when the machine lacks a feature.
pub enum Outcome {
    Pass,
    Skip(&'static str),
}

pub type TestResult = Result<Outcome, String>;

type Test = (&'static str, fn() -> TestResult);

const TESTS: &[Test] = &[
    ("frame_allocator", memory::frame_allocator),
    ("heap", memory::heap),
    ("page_tables", memory::page_tables),
    ("layout", memory::layout),
    ("file_data_window", memory::file_data_window),
    ("guard_page", memory::guard_page),
    ("user_copy_fault", memory::user_copy_fault),
    ("pku_ring0", pku::ring0),
    ("pku_ring3", pku::ring3),
    ("pku_libos_hidden_from_ring3", pku::libos_hidden_from_ring3),
    ("xrstor_cannot_load_pkru", pku::xrstor_cannot_load_pkru),
    ("user_syscall_roundtrip", user::syscall_roundtrip),
    (
        "user_privileged_instructions",
        user::privileged_instructions,
    ),
    ("user_preempted_by_timer", user::preempted_by_timer),
    (
        "kernel_breakpoint_resumes",
        devices::kernel_breakpoint_resumes,
    ),
    ("timer", devices::timer),
    ("uart_loopback_irq", devices::uart_loopback_irq),
];

/// Runs the tests whose names appear in `filter` (comma-separated; all when `None`);
/// returns how many failed.
pub fn run_all(filter: Option<&str>) -> usize {
    let mut failed = 0;
    for (name, test) in TESTS {
        if let Some(f) = filter {
            if !f.split(',').any(|n| n == *name) {
                continue;
            }
        }
        let (verdict, detail) = match test() {
            Ok(Outcome::Pass) => (Verdict::Ok, String::new()),
            Ok(Outcome::Skip(why)) => (Verdict::Skip, String::from(why)),
            Err(why) => {
                failed += 1;
                (Verdict::Fail, why)
            }
        };
        kprintln!("{MARK}{SELFTEST} {name} {} {detail}", verdict.as_str());
    }
    failed
}

/// Fails the test with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(alloc::format!($($arg)*));
        }
    };
}

static EXPECT_BREAKPOINT: AtomicBool = AtomicBool::new(false);

/// Whether a ring-0 breakpoint was expected by a self test (then it is consumed).
pub fn take_expected_breakpoint() -> bool {
    EXPECT_BREAKPOINT.swap(false, Ordering::SeqCst)
}

fn expect_breakpoint() {
    EXPECT_BREAKPOINT.store(true, Ordering::SeqCst);
}
