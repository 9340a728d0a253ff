//! README.md documents every flag where users look for it; these tests hold
//! it to the programs' own definitions (their `--help`, which clap derives
//! from the code), so that the two cannot drift apart.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::{assert_success, bin, run, workspace_root};

fn readme() -> String {
    std::fs::read_to_string(workspace_root().join("README.md")).unwrap()
}

/// The README's text from `heading` to the next heading of the same level.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no {heading:?} section"));
    let level = heading.split(' ').next().unwrap();
    let body = &readme[start + heading.len() + 2..];
    let end = body.find(&format!("\n{level} ")).unwrap_or(body.len());
    &body[..end]
}

/// Long flags named in `text` (`--max-upload-size`, …).
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at;
        let before = start.checked_sub(1).map(|b| bytes[b]);
        let mut end = start + 2;
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase()
                || bytes[end] == b'-'
                || bytes[end].is_ascii_digit())
        {
            end += 1;
        }
        let name = &text[start..end];
        if name.len() > 3 && !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
            flags.insert(name.trim_end_matches('-').to_owned());
        }
        i = end.max(start + 2);
    }
    flags
}

/// A command's long flags and their defaults, from its `--help`.
fn help(program: &str, args: &[&str]) -> Vec<(String, Option<String>)> {
    help_with_short(program, args)
        .into_iter()
        .map(|(long, _, default)| (long, default))
        .collect()
}

/// `help`, with each flag's short form (`-o` for `--output`) if it has one.
fn help_with_short(program: &str, args: &[&str]) -> Vec<(String, Option<String>, Option<String>)> {
    let out = run(Command::new(bin(program)).args(args).arg("--help"));
    assert_success(&out, &format!("{program} {} --help", args.join(" ")));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut options: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let flag_line = trimmed.starts_with("--")
            || (trimmed.starts_with('-') && trimmed.get(2..4) == Some(", "));
        if flag_line && line.len() - trimmed.len() <= 6 {
            let long = trimmed
                .split([' ', ','])
                .find(|w| w.starts_with("--"))
                .unwrap()
                .to_owned();
            let short = trimmed
                .strip_suffix(',')
                .unwrap_or(trimmed)
                .split(',')
                .next()
                .filter(|w| w.len() == 2 && w.starts_with('-'))
                .map(str::to_owned);
            if long != "--help" && long != "--version" {
                options.push((long, short, None));
            }
        }
        if let (Some(last), Some(at)) = (options.last_mut(), line.find("[default: ")) {
            let rest = &line[at + "[default: ".len()..];
            last.2 = Some(rest[..rest.find(']').unwrap()].to_owned());
        }
    }
    options
}

fn assert_agree(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "README.md and the code disagree:\n{}",
        problems.join("\n")
    );
}

/// Rows of the first flag table in `text`: (flags of the first column,
/// the default column).
fn table(text: &str) -> Vec<(BTreeSet<String>, String)> {
    text.lines()
        .filter(|l| l.starts_with("| `-"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (flags_in(cells[0]), cells[1].replace('`', ""))
        })
        .collect()
}

/// Every flag of the command is a row of the table, with the default its
/// help gives; every flag in the table is one the command has.
fn check_table(program: &str, args: &[&str], heading: &str) {
    let readme = readme();
    let rows = table(section(&readme, heading));
    assert!(!rows.is_empty(), "no flag table under {heading}");
    let options = help(program, args);
    let known: BTreeSet<&str> = options.iter().map(|(f, _)| f.as_str()).collect();
    let mut problems = Vec::new();
    for (flags, _) in &rows {
        for flag in flags {
            if !known.contains(flag.as_str()) {
                problems.push(format!(
                    "README lists {flag}, which `{program} {}` does not have",
                    args.join(" ")
                ));
            }
        }
    }
    for (flag, default) in &options {
        match rows.iter().find(|(flags, _)| flags.contains(flag)) {
            None => problems.push(format!(
                "{flag} has no row in README's table under {heading}"
            )),
            Some((_, documented)) => {
                if let Some(default) = default {
                    if !documented.contains(default.as_str()) {
                        problems.push(format!(
                            "{flag}: README says the default is {documented:?}, the program {default:?}"
                        ));
                    }
                }
            }
        }
    }
    assert_agree(&problems);
}

#[test]
fn readme_documents_every_flag_of_sealdrop_serve() {
    check_table("sealdrop", &["serve"], "### `sealdrop serve`");
}

#[test]
fn readme_documents_every_flag_of_sealdrop_notify() {
    check_table("sealdrop", &["notify"], "### Alerts");
}

/// Commands documented by their synopsis and the text below it: every flag
/// each has appears there, and every flag its synopsis line names exists.
fn check_synopsis(program: &str, heading: &str, commands: &[&str]) {
    let readme = readme();
    let text = section(&readme, heading);
    let mentioned = flags_in(text);
    let mut problems = Vec::new();
    let named_short = |short: &str| {
        text.split(|c: char| c.is_whitespace() || "[]`(),".contains(c))
            .any(|word| word == short)
    };
    for command in commands {
        let options = help_with_short(program, &[command]);
        let known: BTreeSet<&str> = options.iter().map(|(f, _, _)| f.as_str()).collect();
        for (flag, short, _) in &options {
            if !mentioned.contains(flag) && !short.as_deref().is_some_and(named_short) {
                problems.push(format!("`{program} {command}` has {flag}, which README's {heading} section never names"));
            }
        }
        let synopsis = format!("{program} {command} ");
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with(&synopsis))
        {
            let line = line.split('#').next().unwrap();
            for flag in flags_in(line) {
                if !known.contains(flag.as_str()) {
                    problems.push(format!(
                        "README's synopsis names {flag}, which `{program} {command}` does not have"
                    ));
                }
            }
        }
    }
    assert_agree(&problems);
}

#[test]
fn readme_documents_every_flag_of_sealdrop_open() {
    check_synopsis(
        "sealdrop-open",
        "### `sealdrop-open`",
        &["keygen", "decrypt", "list", "reply", "inspect", "scrub"],
    );
}

#[test]
fn readme_documents_every_flag_of_pickup_and_push_replies() {
    check_synopsis(
        "sealdrop",
        "### Pickup",
        &["pickup-token", "pickup", "push-replies"],
    );
}
