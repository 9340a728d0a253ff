#![no_main]
//! The name sanitizer must return a safe, bounded, idempotent name for any input.

use libfuzzer_sys::fuzz_target;
use sealdrop_format::seal::names::{sanitize_name, UniqueNames, MAX_NAME_BYTES};

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let name = sanitize_name(&input);
    assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES);
    assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
    assert!(!name.starts_with('.') && !name.ends_with('.') && !name.ends_with(' '));
    assert!(!name.chars().any(|c| c.is_control() || sealdrop_format::seal::names::is_invisible_or_bidi(c)));
    assert_eq!(sanitize_name(&name), name);
    assert!(sealdrop_format::seal::reader::is_safe_relative_path(&name));
    let mut names = UniqueNames::new();
    let a = names.assign(&input);
    let b = names.assign(&input);
    assert_ne!(a.to_lowercase(), b.to_lowercase());
    assert!(b.len() <= MAX_NAME_BYTES);
});
