//! The admin's commands on the online server installed from the Debian
//! package: `setup` (first run, and what is still missing) and `status`
//! (how it is doing, for people and monitoring). Both read the packaged
//! layout below; `status` reads the store only through
//! `sealdrop_server::census` (no submission opened, no file time changed).

pub(crate) mod setup;
pub(crate) mod status;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

/// The packaged layout (deploy/debian/, the crate's `[package.metadata.deb]`).
pub(crate) const CONFIG: &str = "/etc/sealdrop/sealdrop.toml";
pub(crate) const CONFIG_DIR: &str = "/etc/sealdrop";
pub(crate) const SERVICE_GROUP: &str = "sealdrop";
/// The units' `RuntimeDirectory=`: where the server keeps the last pass's
/// record when its config names no `runtime_dir` (systemd sets
/// RUNTIME_DIRECTORY for the server, not for an admin's shell).
pub(crate) const PACKAGED_RUNTIME_DIR: &str = "/run/sealdrop";
/// tor's user on Debian, which must reach the server's Unix sockets.
pub(crate) const TOR_USER: &str = "debian-tor";
pub(crate) const TORRC: &str = "/etc/tor/torrc";
pub(crate) const TORRC_D: &str = "/etc/tor/torrc.d";
pub(crate) const TOR_FRAGMENT: &str = "/etc/tor/torrc.d/sealdrop.conf";
pub(crate) const TOR_INCLUDE_LINE: &str = "%include /etc/tor/torrc.d/*.conf";
/// The packaged fragment setup copies to `TOR_FRAGMENT`.
pub(crate) const PACKAGED_TORRC: &str = "/usr/share/sealdrop/torrc";
/// Where tor writes the onion addresses of deploy/torrc's two services.
pub(crate) const SOURCE_ONION_HOSTNAME: &str = "/var/lib/tor/sealdrop/hostname";
pub(crate) const PICKUP_ONION_HOSTNAME: &str = "/var/lib/tor/sealdrop-pickup/hostname";
/// What a hand install (DEPLOY.md before packages) left that would shadow
/// the packaged files: systemd prefers /etc/systemd/system to
/// /lib/systemd/system, and PATH finds /usr/local/bin before /usr/bin.
pub(crate) const HAND_INSTALL_SHADOWS: [&str; 5] = [
    HAND_INSTALLED_BINARY,
    "/etc/systemd/system/sealdrop.service",
    "/etc/systemd/system/sealdrop-https.service",
    "/etc/systemd/system/sealdrop-notify.service",
    "/etc/systemd/system/sealdrop-notify.timer",
];
/// What a moved-aside shadow is renamed to (systemd ignores the name).
pub(crate) const MOVED_ASIDE_SUFFIX: &str = ".before-package";

/// How bad a finding is; `status` exits with the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    Ok,
    Attention,
    Broken,
}

impl Level {
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Attention => 1,
            Level::Broken => 2,
        }
    }

    fn mark(self) -> &'static str {
        match self {
            Level::Ok => "ok  ",
            Level::Attention => "ATTN",
            Level::Broken => "FAIL",
        }
    }
}

/// One thing checked: what, how it stands, and what to do about it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Finding {
    pub(crate) check: &'static str,
    pub(crate) level: Level,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fix: Option<String>,
}

impl Finding {
    pub(crate) fn ok(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            level: Level::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(crate) fn needs(
        level: Level,
        check: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            level,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub(crate) fn print(&self) {
        println!("[{}] {}: {}", self.level.mark(), self.check, self.detail);
        if let Some(fix) = &self.fix {
            println!("       → {fix}");
        }
    }
}

/// The worst level among `findings` (Ok for none).
pub(crate) fn worst(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}

/// Members of a group, from the system's group database (`getent`, so
/// that NSS sources count too).
pub(crate) fn group_members(group: &str) -> Option<Vec<String>> {
    let out = Command::new("/usr/bin/getent")
        .args(["group", group])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let members = line.trim_end().rsplit(':').next().unwrap_or("");
    Some(
        members
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether tor's main config includes `fragment`: an `%include` of the
/// file itself, of its folder, or of a glob over the folder that matches it.
pub(crate) fn torrc_includes(torrc_text: &str, fragment: &Path) -> bool {
    let Some(folder) = fragment.parent() else {
        return false;
    };
    let name = fragment
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    torrc_text.lines().any(|line| {
        let mut words = line.split_whitespace();
        let (Some(word), Some(target), None) = (words.next(), words.next(), words.next()) else {
            return false;
        };
        if !word.eq_ignore_ascii_case("%include") {
            return false;
        }
        let target = Path::new(target.trim_end_matches('/'));
        if target == fragment || target == folder {
            return true;
        }
        // tor expands a glob in the last component only.
        match (
            target.parent(),
            target.file_name().map(|n| n.to_string_lossy()),
        ) {
            (Some(parent), Some(pattern)) if parent == folder => glob_matches(&pattern, &name),
            _ => false,
        }
    })
}

/// `*` and `?` glob over one file name, as tor's `%include` expands them.
fn glob_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    go(&p, &n)
}

/// Paths for a message: "a, b, c".
pub(crate) fn paths_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether systemd runs this machine (as PID 1): only then do `systemctl`
/// and unit states mean anything.
pub(crate) fn systemd_is_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// The onion address tor wrote, if it has.
pub(crate) fn onion_address(hostname_file: &str) -> Option<String> {
    let text = std::fs::read_to_string(hostname_file).ok()?;
    let address = text.trim();
    (address.ends_with(".onion") && address.len() == 62).then(|| address.to_owned())
}

/// The hand install's files still in place (not yet moved aside): the
/// binary in /usr/local/bin, and units in /etc/systemd/system that run it.
/// A unit there that runs the packaged binary is an admin's deliberate
/// override, and a link to /dev/null a mask: neither is a leftover (moving
/// a mask aside would unmask the unit).
pub(crate) fn hand_install_shadows() -> Vec<PathBuf> {
    HAND_INSTALL_SHADOWS
        .iter()
        .map(PathBuf::from)
        .filter(|p| {
            let Ok(meta) = p.symlink_metadata() else {
                return false;
            };
            if p.extension().is_none() {
                return true; // the binary itself
            }
            if meta.file_type().is_symlink()
                && std::fs::read_link(p).is_ok_and(|target| target == Path::new("/dev/null"))
            {
                return false;
            }
            std::fs::read_to_string(p).is_ok_and(|unit| runs_hand_installed_binary(&unit))
        })
        .collect()
}

/// Whether a unit's text starts the binary a hand install put in /usr/local/bin.
pub(crate) fn runs_hand_installed_binary(unit: &str) -> bool {
    unit.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix("ExecStart=")
            .or_else(|| line.strip_prefix("ExecCondition="))
            .is_some_and(|command| {
                command
                    .trim_start_matches(['-', '@', '+', '!', ':'])
                    .starts_with(HAND_INSTALLED_BINARY)
            })
    })
}

/// Where the hand install put the binary.
pub(crate) const HAND_INSTALLED_BINARY: &str = "/usr/local/bin/sealdrop";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_units_that_run_the_hand_installed_binary_are_leftovers() {
        let old = include_str!("../../../deploy/sealdrop.service")
            .replace("/usr/bin/sealdrop", HAND_INSTALLED_BINARY);
        assert!(runs_hand_installed_binary(&old));
        assert!(runs_hand_installed_binary(
            "[Service]\nExecStart=-/usr/local/bin/sealdrop serve\n"
        ));
        // The packaged unit copied into /etc to change a setting is an override.
        assert!(!runs_hand_installed_binary(include_str!(
            "../../../deploy/sealdrop.service"
        )));
        assert!(!runs_hand_installed_binary(
            "[Service]\n# ExecStart=/usr/local/bin/sealdrop\n"
        ));
    }

    #[test]
    fn torrc_includes_the_fragment_by_glob_folder_or_name() {
        let fragment = Path::new(TOR_FRAGMENT);
        assert!(torrc_includes(
            &format!("# tor\n{TOR_INCLUDE_LINE}\n"),
            fragment
        ));
        assert!(torrc_includes("%include /etc/tor/torrc.d/\n", fragment));
        assert!(torrc_includes(
            "%include /etc/tor/torrc.d/sealdrop.conf",
            fragment
        ));
        assert!(torrc_includes(
            "  %include   /etc/tor/torrc.d/seal*  ",
            fragment
        ));
        assert!(!torrc_includes(
            "# %include /etc/tor/torrc.d/*.conf\n",
            fragment
        ));
        assert!(!torrc_includes(
            "%include /etc/tor/torrc.d/*.torrc\n",
            fragment
        ));
        assert!(!torrc_includes(
            "%include /etc/tor/other.d/*.conf\n",
            fragment
        ));
        assert!(!torrc_includes("", fragment));
    }
}
