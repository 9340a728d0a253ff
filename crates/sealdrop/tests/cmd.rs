//! What `sealdrop` says on its command line, as data: each case in
//! `tests/cmd/` runs the program and compares its exit status and output
//! with the case. `TRYCMD=overwrite cargo test -p sealdrop --test cmd`
//! rewrites them after a deliberate change.

#[test]
fn cases() {
    trycmd::TestCases::new()
        .register_bin("sealdrop", trycmd::cargo::cargo_bin!("sealdrop"))
        .case("tests/cmd/*.toml");
}
