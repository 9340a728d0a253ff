//! What `sealdrop-open` says, as data: each case in `tests/cmd/` runs the
//! program as built for shipping and compares its exit status, standard
//! output and standard error with the case. An editor reads these messages
//! on the air-gapped laptop, so a change to one shows up here as a diff.
//! `TRYCMD=overwrite cargo test -p sealdrop-open --test cmd` rewrites them.

#[test]
fn cases() {
    trycmd::TestCases::new()
        .register_bin("sealdrop-open", trycmd::cargo::cargo_bin!("sealdrop-open"))
        .case("tests/cmd/*.toml")
        .case("tests/cmd/*.trycmd");
}
