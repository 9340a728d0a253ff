#![no_main]
//! The replies page's form readers: the urlencoded field decoder and the
//! token check, on any input. No panic; no token that this process did not
//! issue opens.

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use sealdrop_server::replies::urlencoded::field;
use sealdrop_server::replies::token::FormTokens;

fuzz_target!(|data: &[u8]| {
    let tokens = FormTokens::new();
    if let Some(value) = field(data, "token") {
        assert!(tokens.open(&value, SystemTime::now()).is_err());
    }
    let _ = field(data, "codename");
});
