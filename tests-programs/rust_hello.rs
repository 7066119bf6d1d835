//! A Rust program built with `-C target-feature=+crt-static` (a static PIE on
//! x86_64-unknown-linux-gnu): std's start-up, arguments, files, a HashMap (seeded from
//! getrandom) and a sleep. `rust_hello fail` exits with 3.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("hello from Rust with {} arguments", args.len());
    for (i, arg) in args.iter().enumerate().skip(1) {
        println!("arg {i}: {arg}");
    }
    let path = std::env::temp_dir().join(format!("rust_hello.{}", std::process::id()));
    std::fs::write(&path, b"data").expect("write a file in /tmp");
    assert_eq!(std::fs::read(&path).expect("read it back"), b"data");
    std::fs::remove_file(&path).expect("remove it");
    println!("ok: files");
    let mut map = HashMap::new();
    map.insert("key", 42);
    assert_eq!(map["key"], 42);
    println!("ok: HashMap");
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let slept = started.elapsed();
    assert!(slept >= Duration::from_millis(20), "slept only {slept:?}");
    println!("ok: sleep");
    std::io::stdout().flush().expect("flush");
    std::process::exit(if args.get(1).map(String::as_str) == Some("fail") { 3 } else { 0 });
}
