//! axe-core (npm, installed by scripts/test.sh into tests/interop/axe),
//! injected into a page through the browser driver, which runs scripts even
//! with the page's own JavaScript disabled. The pages themselves never carry
//! a script.

use std::path::PathBuf;

/// axe-core's source, to inject into each page before [`RUN`].
pub fn source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: axe-core is not installed: run scripts/test.sh (npm ci --prefix tests/interop/axe)",
            path.display()
        )
    })
}

/// An asynchronous driver script: runs axe on the page and calls back with
/// one line per serious or critical violation (rule, help, elements).
/// With the page's JavaScript off the browser runs no timers, even for the
/// driver's scripts, and axe waits on `setTimeout`: the script runs timer
/// callbacks as microtasks instead (axe's delays are only for yielding).
pub const RUN: &str = r#"
const done = arguments[arguments.length - 1];
window.setTimeout = (callback, _delay, ...args) => { Promise.resolve().then(() => callback(...args)); return 0; };
window.clearTimeout = () => {};
axe.run(document, { resultTypes: ["violations"] })
  .then((result) => done(result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.impact + " " + v.id + ": " + v.help + " at "
      + v.nodes.map((n) => n.target.join(" ")).join(", "))))
  .catch((e) => done(["axe did not run: " + e]));
"#;

/// The lines [`RUN`] called back with.
pub fn violations(answer: &serde_json::Value) -> Vec<String> {
    answer
        .as_array()
        .unwrap_or_else(|| panic!("axe answered {answer}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}
