//! Unit tests of build.rs's pure parts (environment filtering, cargo message parsing),
//! compiled here from the same file. Its functions under test are `pub` for this.

#[allow(dead_code)]
#[path = "../build.rs"]
mod build_script;

use build_script::{json_string_field, keep_var, kernel_executable};
use std::path::Path;

#[test]
fn outer_build_environment_is_removed() {
    for name in [
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_PKG_NAME",
        "CARGO_MANIFEST_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_CFG_TARGET_OS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "TARGET",
        "OUT_DIR",
        "PROFILE",
        "RUSTC",
        "RUSTC_LINKER",
    ] {
        assert!(!keep_var(name), "{name} must not reach the kernel build");
    }
    for name in [
        "CARGO_HOME",
        "CARGO_MAKEFLAGS",
        "PATH",
        "HOME",
        "RUSTUP_TOOLCHAIN",
        "CARGO",
    ] {
        assert!(keep_var(name), "{name} must reach the kernel build");
    }
}

#[test]
fn finds_the_kernel_executable_in_cargo_messages() {
    let messages = r#"{"reason":"compiler-artifact","package_id":"path+file:///r/kernel#isounik-kernel@0.1.0","target":{"kind":["custom-build"],"name":"build-script-build"},"executable":null,"fresh":true}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"isounik_abi"},"filenames":["/r/target/kernel/x/release/deps/libisounik_abi.rlib"],"executable":null,"fresh":true}
{"reason":"compiler-artifact","target":{"kind":["bin"],"crate_types":["bin"],"name":"isounik-kernel"},"filenames":["/r/target/kernel/x86_64-unknown-linux-gnu/release/isounik-kernel"],"executable":"/r/target/kernel/x86_64-unknown-linux-gnu/release/isounik-kernel","fresh":false}
{"reason":"build-finished","success":true}"#;
    assert_eq!(
        kernel_executable(messages).as_deref(),
        Some(Path::new(
            "/r/target/kernel/x86_64-unknown-linux-gnu/release/isounik-kernel"
        ))
    );
    assert_eq!(
        kernel_executable(r#"{"reason":"build-finished","success":true}"#),
        None
    );
}

#[test]
fn unescapes_json_strings() {
    assert_eq!(
        json_string_field(r#"{"a":"x\"y\\z\u00e9\/"}"#, "a").as_deref(),
        Some("x\"y\\z\u{e9}/")
    );
    assert_eq!(json_string_field(r#"{"a":null}"#, "a"), None);
    assert_eq!(json_string_field(r#"{"a":"unterminated"#, "a"), None);
}
