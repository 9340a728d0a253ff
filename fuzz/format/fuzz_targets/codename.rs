#![no_main]
//! The codename reader: whatever a source types (any script, any length),
//! no panic; what it accepts has valid check digits and reads back the same
//! from every script it can be shown in.

use libfuzzer_sys::fuzz_target;
use sealdrop_format::reply::codename::{Codename, ARABIC_INDIC, PERSIAN, WESTERN};

fuzz_target!(|typed: &str| {
    if let Ok(codename) = Codename::parse(typed) {
        for script in [WESTERN, ARABIC_INDIC, PERSIAN] {
            let shown = codename.grouped_in(script);
            let again = Codename::parse(&shown).expect("a shown codename reads back");
            assert_eq!(again.ascii(), codename.ascii());
        }
    }
});
