//! `sealdrop setup`: the first run on a server installed from the package.
//! Each step asks (or reads its answer from `--answers FILE`), does one
//! thing, and can run again: keys, pickup token, a hand install's leftovers,
//! tor's config and group, starting the units, the onion address; then the
//! same checks as `--check`, printing what is still missing. Nothing that
//! touches another program's config (tor's) happens without a yes.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::*;
use sealdrop_format::keys::Recipients;
use sealdrop_server::{ListenAddr, ServeConfig, ServeOptions};

#[derive(clap::Args)]
pub(crate) struct SetupArgs {
    /// The server's config file (the package's conffile).
    #[arg(long, value_name = "FILE", default_value = CONFIG)]
    config: PathBuf,
    /// Take every answer from this file instead of asking (the packaged
    /// /usr/share/sealdrop/setup-answers.toml explains each).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["check", "ready"])]
    answers: Option<PathBuf>,
    /// Change nothing: print what is in place and what is still missing
    /// (exit 0: everything; 1: something is missing).
    #[arg(long)]
    check: bool,
    /// Exit 0 if the config names the newsroom's keys and a pickup token,
    /// else say what is missing and exit 1. The units' ExecCondition: a
    /// server is never started before setup.
    #[arg(long, conflicts_with = "check")]
    ready: bool,
}

/// The answer file: every question of an interactive run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answers {
    /// The newsroom's public keys (all age1pq1… or all age1…).
    recipients: Option<Vec<String>>,
    /// Desks instead of `recipients`: each its own keys and folder.
    #[serde(default)]
    desk: Vec<DeskAnswer>,
    /// Where the new pickup token is written (mode 0600, never overwritten).
    pickup_token_file: Option<PathBuf>,
    /// Consent to add the `%include` line to /etc/tor/torrc.
    tor_include: Option<bool>,
    /// Consent to add debian-tor to the group sealdrop.
    tor_group: Option<bool>,
    /// Consent to move a hand install's binary and units aside.
    migrate_hand_install: Option<bool>,
    /// Enable and start the units (systemd), and restart tor.
    start: Option<bool>,
    /// How long to wait for tor to make the onion address ("0s": not at all).
    wait_for_onion: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeskAnswer {
    name: String,
    recipients: Vec<String>,
    #[serde(default)]
    title: BTreeMap<String, String>,
}

const DEFAULT_TOKEN_FILE: &str = "/root/sealdrop-pickup.token";
const HTTPS_CONFIG: &str = "/etc/sealdrop/sealdrop-https.toml";
/// Run as root by absolute path, never found through PATH.
const SYSTEMCTL: &str = "/usr/bin/systemctl";
const RECIPIENTS_FILE: &str = "/etc/sealdrop/recipients.txt";
const DESKS_FOLDER: &str = "/etc/sealdrop/desks";

/// Why setup stopped; each says what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    #[error("{0}")]
    Refused(String),
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SetupError {
    let what = what.into();
    move |source| SetupError::Io { what, source }
}

/// Answers come from the file, else from the person at the terminal.
enum Asker {
    File(Answers),
    Terminal,
}

impl Asker {
    /// A yes/no consent. From a file, a missing answer is the default.
    fn consent(
        &self,
        question: &str,
        answer: impl Fn(&Answers) -> Option<bool>,
        default: bool,
    ) -> bool {
        match self {
            Asker::File(a) => answer(a).unwrap_or(default),
            Asker::Terminal => {
                let hint = if default { "[Y/n]" } else { "[y/N]" };
                let reply = prompt(&format!("{question} {hint} "));
                match reply.trim().to_ascii_lowercase().as_str() {
                    "" => default,
                    r => r.starts_with('y'),
                }
            }
        }
    }
}

fn prompt(question: &str) -> String {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().to_owned()
}

pub(crate) fn main(args: SetupArgs) -> ExitCode {
    if args.ready {
        return match ready(&args.config) {
            Ok(()) => ExitCode::SUCCESS,
            // systemd skips the start quietly (a condition): nothing to
            // serve yet.
            Err(NotReady::NotSetUp(missing)) => {
                eprintln!("sealdrop is not set up yet: {missing}. Run `sudo sealdrop setup` (docs/DEPLOY.md).");
                ExitCode::from(1)
            }
            // 255: systemd counts the start as failed, so that a server
            // that was set up and then broke shows in `systemctl --failed`
            // and is retried, instead of staying down without a word.
            Err(NotReady::Broken(problem)) => {
                eprintln!("sealdrop cannot start: {problem}. `sudo sealdrop setup --check` says what to fix.");
                ExitCode::from(255)
            }
        };
    }
    if args.check {
        let findings = checks(&args.config);
        report(&findings);
        return ExitCode::from(worst(&findings).min(Level::Attention).exit_code());
    }
    let asker = match &args.answers {
        Some(path) => match read_answers(path) {
            Ok(a) => Asker::File(a),
            Err(e) => {
                eprintln!("sealdrop setup: {e}");
                return ExitCode::from(2);
            }
        },
        None => Asker::Terminal,
    };
    match run(&args.config, &asker) {
        Ok(()) => {
            let findings = checks(&args.config);
            println!();
            println!("What is in place, and what is still missing:");
            report(&findings);
            ExitCode::from(worst(&findings).min(Level::Attention).exit_code())
        }
        Err(e) => {
            eprintln!("sealdrop setup: {e}");
            ExitCode::from(2)
        }
    }
}

fn report(findings: &[Finding]) {
    for f in findings {
        f.print();
    }
}

fn read_answers(path: &Path) -> Result<Answers, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the answer file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("answer file {}: {e}", path.display()))
}

/// The config as the server would read it.
pub(crate) fn load(config: &Path) -> Result<ServeConfig, String> {
    let options = ServeOptions::parse_args([std::ffi::OsStr::new("--config"), config.as_os_str()])
        .map_err(|e| e.to_string())?;
    ServeConfig::from_options(options).map_err(|e| e.to_string())
}

pub(crate) fn has_real_token(config: &ServeConfig) -> bool {
    config.pickup_tokens.iter().any(|t| t.hash.0 != [0; 32])
}

enum NotReady {
    /// Setup has not run: no keys' file yet.
    NotSetUp(String),
    /// Set up once, and now something is wrong.
    Broken(String),
}

/// What `--ready` checks: keys that parse, and a pickup token that is not
/// the packaged placeholder (all zeros) when there is a pickup listener.
fn ready(config_path: &Path) -> Result<(), NotReady> {
    if !config_path.exists() {
        return Err(NotReady::NotSetUp(format!(
            "{} does not exist",
            config_path.display()
        )));
    }
    let config = load(config_path)
        .map_err(|e| NotReady::Broken(format!("{}: {e}", config_path.display())))?;
    for file in recipients_files(&config) {
        if !file.exists() {
            return Err(NotReady::NotSetUp(format!(
                "{} does not exist",
                file.display()
            )));
        }
        Recipients::from_file(&file).map_err(|e| NotReady::Broken(e.to_string()))?;
    }
    if !config.pickup_listen.is_empty() && !has_real_token(&config) {
        // The keys are in place, so setup ran: a token lost since (the
        // packaged config taken over the admin's at an upgrade) must show.
        return Err(NotReady::Broken(format!(
            "{} has no pickup token (only the placeholder of zeros): nobody could pick up what arrives",
            config_path.display()
        )));
    }
    Ok(())
}

fn recipients_files(config: &ServeConfig) -> Vec<PathBuf> {
    match &config.recipients {
        Some(file) => vec![file.clone()],
        None => config
            .policy
            .desk_choice
            .iter()
            .map(|d| d.recipients.clone())
            .collect(),
    }
}

fn run(config_path: &Path, asker: &Asker) -> Result<(), SetupError> {
    if !rustix::process::geteuid().is_root() {
        return Err(SetupError::Refused(
            "setup changes /etc and system groups: run it as root (sudo sealdrop setup)".into(),
        ));
    }
    migrate_hand_install(asker)?;
    let config = load(config_path).map_err(|e| {
        SetupError::Refused(format!(
            "{} does not parse: {e}. Fix it (the packaged original is /usr/share/sealdrop/ in the package: `apt-get download sealdrop`), then run setup again",
            config_path.display()
        ))
    })?;
    keys(config_path, &config, asker)?;
    let config = load(config_path).map_err(SetupError::Refused)?;
    pickup_token(config_path, &config, asker)?;
    let onion = config
        .listen
        .iter()
        .any(|l| matches!(l, ListenAddr::Unix(_)));
    if onion {
        tor(asker)?;
    }
    let started = start(config_path, asker, onion)?;
    if onion {
        wait_for_onion(asker, started);
    }
    Ok(())
}

fn migrate_hand_install(asker: &Asker) -> Result<(), SetupError> {
    let shadows = hand_install_shadows();
    if shadows.is_empty() {
        return Ok(());
    }
    println!("A hand install's files would shadow the packaged ones:");
    for s in &shadows {
        println!("  {}", s.display());
    }
    if !asker.consent(
        &format!("Move them aside (renamed to NAME{MOVED_ASIDE_SUFFIX})?"),
        |a| a.migrate_hand_install,
        false,
    ) {
        println!("Left in place: the server may run the old binary or unit (`sealdrop setup --check` says which).");
        return Ok(());
    }
    for s in &shadows {
        let aside = PathBuf::from(format!("{}{MOVED_ASIDE_SUFFIX}", s.display()));
        std::fs::rename(s, &aside).map_err(io(format!("move {} aside", s.display())))?;
        println!("Moved {} to {}", s.display(), aside.display());
    }
    if systemd_is_running() {
        run_command(SYSTEMCTL, &["daemon-reload"])?;
    }
    Ok(())
}

/// Parses pasted or listed keys as the server will, all of one kind.
fn parse_keys(keys: &[String]) -> Result<String, SetupError> {
    let text: String = keys.iter().map(|k| format!("{}\n", k.trim())).collect();
    Recipients::parse(&text, Path::new("(setup)"))
        .map_err(|e| SetupError::Refused(e.to_string()))?;
    Ok(format!(
        "# The newsroom's public keys (written by `sealdrop setup`); see keys.example.\n{text}"
    ))
}

fn keys(config_path: &Path, config: &ServeConfig, asker: &Asker) -> Result<(), SetupError> {
    let existing: Vec<PathBuf> = recipients_files(config);
    let in_place =
        !existing.is_empty() && existing.iter().all(|f| Recipients::from_file(f).is_ok());
    if in_place {
        println!(
            "Keys in place: {} (to change them, edit the file and restart the server)",
            paths_list(&existing)
        );
        return Ok(());
    }
    let (recipients, desks) = match asker {
        Asker::File(a) => (a.recipients.clone(), &a.desk[..]),
        Asker::Terminal => {
            println!("The newsroom's public keys: the line(s) `sealdrop-open keygen --pq` printed on the air-gapped laptop.");
            let answer = prompt("Paste a key, or give a file that holds them: ");
            let keys = if Path::new(&answer).is_file() {
                std::fs::read_to_string(&answer)
                    .map_err(io(format!("read {answer}")))?
                    .lines()
                    .map(str::to_owned)
                    .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .collect()
            } else {
                vec![answer]
            };
            (Some(keys), &[][..])
        }
    };
    if !desks.is_empty() {
        if config.recipients.is_none() {
            return Err(SetupError::Refused(
                "the config already has desks whose keys' files are missing or wrong: fix those files (`sudo sealdrop setup --check` names them)".into(),
            ));
        }
        // The server's own rules for desk names, before any file is written.
        let specs: Vec<sealdrop_server::DeskSpec> = desks
            .iter()
            .map(|d| sealdrop_server::DeskSpec {
                name: d.name.clone(),
                recipients: PathBuf::from(DESKS_FOLDER).join(format!("{}.txt", d.name)),
                title: d.title.clone(),
            })
            .collect();
        sealdrop_server::check_desks(&specs).map_err(SetupError::Refused)?;
        let folder = Path::new(DESKS_FOLDER);
        std::fs::create_dir_all(folder).map_err(io(format!("create {DESKS_FOLDER}")))?;
        for desk in desks {
            let file = folder.join(format!("{}.txt", desk.name));
            write_config_file(&file, parse_keys(&desk.recipients)?.as_bytes())?;
            println!("Wrote desk {:?}'s keys to {}", desk.name, file.display());
        }
        let text = std::fs::read_to_string(config_path)
            .map_err(io(format!("read {}", config_path.display())))?;
        replace_config(config_path, &switch_to_desks(&text, desks, folder))?;
        println!("Turned desks on in {}", config_path.display());
        return Ok(());
    }
    let Some(keys) = recipients.filter(|k| !k.is_empty()) else {
        return Err(SetupError::Refused(
            "no keys given: the server seals to the newsroom's public keys and cannot start without them (answer file: recipients = [\"age1pq1…\"])".into(),
        ));
    };
    let file = config
        .recipients
        .clone()
        .unwrap_or_else(|| RECIPIENTS_FILE.into());
    write_config_file(&file, parse_keys(&keys)?.as_bytes())?;
    println!("Wrote {} key(s) to {}", keys.len(), file.display());
    Ok(())
}

fn pickup_token(config_path: &Path, config: &ServeConfig, asker: &Asker) -> Result<(), SetupError> {
    if config.pickup_listen.is_empty() || has_real_token(config) {
        println!("Pickup token in place (or no pickup listener).");
        return Ok(());
    }
    let token_file = match asker {
        Asker::File(a) => a
            .pickup_token_file
            .clone()
            .unwrap_or_else(|| DEFAULT_TOKEN_FILE.into()),
        Asker::Terminal => {
            let answer = prompt(&format!(
                "Where should the new pickup token be written? [{DEFAULT_TOKEN_FILE}] "
            ));
            if answer.is_empty() {
                DEFAULT_TOKEN_FILE.into()
            } else {
                PathBuf::from(answer)
            }
        }
    };
    let (token, hash) = sealdrop_format::pickup::new_token();
    let mut file = sealdrop_format::fsutil::create_new_private_file(&token_file).map_err(|e| {
        SetupError::Refused(format!(
            "cannot create {}: {e} (a token file is never overwritten: move the old one away first)",
            token_file.display()
        ))
    })?;
    writeln!(file, "{token}").map_err(io(format!("write {}", token_file.display())))?;
    let text = std::fs::read_to_string(config_path)
        .map_err(io(format!("read {}", config_path.display())))?;
    replace_config(config_path, &set_pickup_token(&text, &hash.to_string()))?;
    println!(
        "Wrote a pickup token to {} (mode 0600): give it to the editor who runs `sealdrop pickup`, then delete it here. The server keeps only its hash.",
        token_file.display()
    );
    Ok(())
}

fn tor(asker: &Asker) -> Result<(), SetupError> {
    let torrc = Path::new(TORRC);
    if !torrc.exists() {
        println!(
            "tor is not installed ({TORRC} is missing): `apt install tor`, then run setup again."
        );
        return Ok(());
    }
    let fragment = Path::new(TOR_FRAGMENT);
    if !fragment.exists() {
        std::fs::create_dir_all(TORRC_D).map_err(io(format!("create {TORRC_D}")))?;
        std::fs::copy(PACKAGED_TORRC, fragment)
            .map_err(io(format!("copy {PACKAGED_TORRC} to {TOR_FRAGMENT}")))?;
        std::fs::set_permissions(fragment, std::fs::Permissions::from_mode(0o644))
            .map_err(io(format!("chmod {TOR_FRAGMENT}")))?;
        println!("Wrote sealdrop's two onion services to {TOR_FRAGMENT} (edit it there; purge removes it).");
    }
    let text = std::fs::read_to_string(torrc).map_err(io(format!("read {TORRC}")))?;
    if !torrc_includes(&text, fragment) {
        if asker.consent(
            &format!("{TORRC} does not read {TORRC_D}/. Add the line `{TOR_INCLUDE_LINE}` to it?"),
            |a| a.tor_include,
            false,
        ) {
            let mut added = text.clone();
            if !added.ends_with('\n') && !added.is_empty() {
                added.push('\n');
            }
            added.push_str(&format!(
                "\n# Added by `sealdrop setup`: tor reads sealdrop's onion services from here.\n{TOR_INCLUDE_LINE}\n"
            ));
            // Whole or not at all: a cut torrc would stop tor.
            let tmp = torrc.with_extension("sealdrop-setup");
            std::fs::write(&tmp, &added).map_err(io(format!("write {}", tmp.display())))?;
            let meta = std::fs::metadata(torrc).map_err(io(format!("read {TORRC}")))?;
            std::fs::set_permissions(&tmp, meta.permissions())
                .map_err(io(format!("chmod {}", tmp.display())))?;
            std::fs::rename(&tmp, torrc).map_err(io(format!("write {TORRC}")))?;
            println!("Added `{TOR_INCLUDE_LINE}` to {TORRC}.");
        } else {
            println!(
                "Left {TORRC} alone: tor will not serve the drop until it includes {TOR_FRAGMENT}."
            );
        }
    }
    let members = group_members(SERVICE_GROUP).unwrap_or_default();
    if !members.iter().any(|m| m == TOR_USER) {
        if asker.consent(
            &format!("Add tor's user {TOR_USER} to the group {SERVICE_GROUP}, so that it can reach the server's sockets?"),
            |a| a.tor_group,
            false,
        ) {
            run_command("/usr/sbin/usermod", &["-aG", SERVICE_GROUP, TOR_USER])?;
            println!("Added {TOR_USER} to the group {SERVICE_GROUP}.");
        } else {
            println!("tor cannot reach the server's sockets until {TOR_USER} is in the group {SERVICE_GROUP}.");
        }
    }
    Ok(())
}

/// The packaged unit that serves `config_path`: the HTTPS one for its
/// config, else the onion one.
fn unit_for(config_path: &Path) -> &'static str {
    if config_path == Path::new(HTTPS_CONFIG) {
        "sealdrop-https.service"
    } else {
        "sealdrop.service"
    }
}

/// Returns whether it started the units.
fn start(config_path: &Path, asker: &Asker, onion: bool) -> Result<bool, SetupError> {
    let unit = unit_for(config_path);
    if !systemd_is_running() {
        println!("systemd is not running this machine: start the server as its unit does (ExecStart in /lib/systemd/system/{unit}).");
        return Ok(false);
    }
    let question = format!(
        "Enable and start {unit} now{}?",
        if onion { " (and restart tor)" } else { "" }
    );
    if !asker.consent(&question, |a| a.start, false) {
        println!("Not started: `sudo systemctl enable --now {unit}` when you are ready.");
        return Ok(false);
    }
    run_command(SYSTEMCTL, &["daemon-reload"])?;
    run_command(SYSTEMCTL, &["enable", "--now", unit])?;
    // A server already running (a hand install's unit, moved aside) runs
    // the old binary until restarted.
    run_command(SYSTEMCTL, &["try-restart", unit])?;
    if onion {
        let verified = Command::new("/usr/bin/tor")
            .args([
                "--verify-config",
                "--defaults-torrc",
                "/usr/share/tor/tor-service-defaults-torrc",
                "-f",
                TORRC,
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(io("run tor --verify-config"))?;
        if !verified.success() {
            return Err(SetupError::Refused(format!(
                "tor does not accept its config ({TORRC} with {TOR_FRAGMENT}): tor was not restarted; `sudo -u debian-tor tor --verify-config` says why"
            )));
        }
        run_command(SYSTEMCTL, &["restart", "tor.service"])?;
    }
    Ok(true)
}

fn wait_for_onion(asker: &Asker, started: bool) {
    let wait = match asker {
        Asker::File(a) => a
            .wait_for_onion
            .as_deref()
            .and_then(|w| humantime::parse_duration(w).ok())
            .unwrap_or(Duration::ZERO),
        // Only worth waiting for when setup restarted tor itself.
        Asker::Terminal if started => Duration::from_secs(120),
        Asker::Terminal => Duration::ZERO,
    };
    let started = Instant::now();
    loop {
        if let Some(address) = onion_address(SOURCE_ONION_HOSTNAME) {
            println!("The drop's onion address (publish this one): http://{address}/");
            if let Some(pickup) = onion_address(PICKUP_ONION_HOSTNAME) {
                println!("The pickup address (give it only to editors): http://{pickup}/");
            }
            return;
        }
        if started.elapsed() >= wait {
            println!("tor has not made the onion address yet ({SOURCE_ONION_HOSTNAME}); `sudo sealdrop setup --check` shows it once it has.");
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn run_command(program: &str, args: &[&str]) -> Result<(), SetupError> {
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(io(format!("run {program}")))?;
    if !status.success() {
        return Err(SetupError::Refused(format!(
            "`{program} {}` failed ({status}): fix what it said, then run setup again",
            args.join(" ")
        )));
    }
    Ok(())
}

/// A file of /etc/sealdrop: root's, group sealdrop, 0640 (the server
/// reads it; nobody else needs to).
fn write_config_file(path: &Path, bytes: &[u8]) -> Result<(), SetupError> {
    let tmp = path.with_extension("setup-tmp");
    std::fs::write(&tmp, bytes).map_err(io(format!("write {}", tmp.display())))?;
    let group = service_gid()?;
    rustix::fs::chown(&tmp, Some(rustix::process::Uid::ROOT), Some(group))
        .map_err(|e| io(format!("chown {}", tmp.display()))(e.into()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o640))
        .map_err(io(format!("chmod {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(io(format!("write {}", path.display())))
}

fn service_gid() -> Result<rustix::process::Gid, SetupError> {
    let meta = std::fs::metadata(CONFIG_DIR).map_err(io(format!("read {CONFIG_DIR}")))?;
    Ok(rustix::process::Gid::from_raw(meta.gid()))
}

/// Replaces the config with `text` only if the server would read it.
fn replace_config(config_path: &Path, text: &str) -> Result<(), SetupError> {
    let candidate = config_path.with_extension("toml.setup-check");
    std::fs::write(&candidate, text).map_err(io(format!("write {}", candidate.display())))?;
    let parsed = load(&candidate);
    let _ = std::fs::remove_file(&candidate);
    parsed.map_err(|e| {
        SetupError::Refused(format!(
            "internal: the edited config would not parse ({e}); {} is unchanged",
            config_path.display()
        ))
    })?;
    write_config_file(config_path, text.as_bytes())
}

/// The config with its `pickup_token_sha256` setting (a line, or an array
/// over several) replaced by one token's hash.
pub(crate) fn set_pickup_token(text: &str, hash: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines();
    let mut done = false;
    while let Some(line) = lines.next() {
        if !done && line.trim_start().starts_with("pickup_token_sha256") {
            let mut whole = line.to_owned();
            while !whole.contains(']') {
                match lines.next() {
                    Some(next) => whole.push_str(next),
                    None => break,
                }
            }
            out.push_str(&format!("pickup_token_sha256 = [\"{hash}\"]\n"));
            done = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !done {
        out.push_str(&format!("pickup_token_sha256 = [\"{hash}\"]\n"));
    }
    out
}

/// The config with its top-level `recipients` setting commented out and a
/// `[[desk]]` table per desk appended (tables go last in TOML).
pub(crate) fn switch_to_desks(text: &str, desks: &[DeskAnswer], folder: &Path) -> String {
    let mut out = String::with_capacity(text.len() + 256 * desks.len());
    let mut in_table = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_table = true;
        }
        let sets_recipients = trimmed
            .strip_prefix("recipients")
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if !in_table && sets_recipients {
            out.push_str("# (desks below, by `sealdrop setup`) ");
        }
        out.push_str(line);
        out.push('\n');
    }
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    for desk in desks {
        out.push_str("\n[[desk]]\n");
        out.push_str(&format!("name = {}\n", quote(&desk.name)));
        let file = folder.join(format!("{}.txt", desk.name));
        out.push_str(&format!(
            "recipients = {}\n",
            quote(&file.display().to_string())
        ));
        if !desk.title.is_empty() {
            let titles: Vec<String> = desk
                .title
                .iter()
                .map(|(lang, title)| format!("{} = {}", quote(lang), quote(title)))
                .collect();
            out.push_str(&format!("title = {{ {} }}\n", titles.join(", ")));
        }
    }
    out
}

/// Everything `--check` and the end of setup report; `status` shows the
/// system part too.
pub(crate) fn checks(config_path: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    let config = match load(config_path) {
        Ok(c) => {
            findings.push(Finding::ok(
                "config",
                format!("{} parses", config_path.display()),
            ));
            c
        }
        Err(e) => {
            findings.push(Finding::needs(
                Level::Broken,
                "config",
                format!("{}: {e}", config_path.display()),
                "fix the file (every option is explained in it), then `sudo sealdrop setup --check`",
            ));
            return findings;
        }
    };
    for file in recipients_files(&config) {
        findings.push(match Recipients::from_file(&file) {
            Ok(r) => Finding::ok("keys", format!("{} key(s) in {}", r.len(), file.display())),
            Err(e) => Finding::needs(Level::Broken, "keys", e.to_string(), "sudo sealdrop setup"),
        });
    }
    if !config.pickup_listen.is_empty() {
        findings.push(if has_real_token(&config) {
            Finding::ok(
                "pickup token",
                format!("{} accepted token(s)", config.pickup_tokens.len()),
            )
        } else {
            Finding::needs(
                Level::Broken,
                "pickup token",
                "only the placeholder of zeros",
                "sudo sealdrop setup",
            )
        });
    }
    if config.bucket.is_none() {
        findings.push(store_folder_finding(&config.store));
    }
    findings.extend(system_findings(&config, config_path));
    findings
}

fn store_folder_finding(store: &Path) -> Finding {
    match std::fs::metadata(store) {
        Ok(meta) if meta.is_dir() && meta.mode() & 0o777 == 0o700 => {
            Finding::ok("store", format!("{} (mode 0700)", store.display()))
        }
        Ok(meta) => Finding::needs(
            Level::Broken,
            "store",
            format!("{} has mode {:o}", store.display(), meta.mode() & 0o7777),
            format!("sudo chmod 0700 {}", store.display()),
        ),
        Err(e) => Finding::needs(
            Level::Broken,
            "store",
            format!("{}: {e}", store.display()),
            "sudo systemd-tmpfiles --create /usr/lib/tmpfiles.d/sealdrop.conf",
        ),
    }
}

/// The machine around the server: leftovers of a hand install, the
/// packaged config's new version beside a kept one, tor.
pub(crate) fn system_findings(config: &ServeConfig, config_path: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    let shadows = hand_install_shadows();
    findings.push(if shadows.is_empty() {
        Finding::ok(
            "packaged files",
            "no hand-installed binary or unit shadows them",
        )
    } else {
        Finding::needs(
            Level::Attention,
            "packaged files",
            format!("shadowed by a hand install: {}", paths_list(&shadows)),
            "sudo sealdrop setup (it offers to move them aside)",
        )
    });
    let dist = PathBuf::from(format!("{}.dpkg-dist", config_path.display()));
    if dist.exists() {
        findings.push(Finding::needs(
            Level::Attention,
            "config",
            format!(
                "your {} was kept; the package's new version is {}",
                config_path.display(),
                dist.display()
            ),
            format!(
                "compare them (diff {} {}), take what you want, then delete the .dpkg-dist file",
                config_path.display(),
                dist.display()
            ),
        ));
    }
    let sockets: Vec<&PathBuf> = config
        .listen
        .iter()
        .chain(&config.pickup_listen)
        .filter_map(|l| match l {
            ListenAddr::Unix(p) => Some(p),
            ListenAddr::Tcp(_) => None,
        })
        .collect();
    if sockets.is_empty() {
        return findings;
    }
    let torrc = std::fs::read_to_string(TORRC);
    findings.push(match &torrc {
        Err(_) => Finding::needs(
            Level::Broken,
            "tor",
            format!("{TORRC} is missing"),
            "sudo apt install tor",
        ),
        Ok(_) if !Path::new(TOR_FRAGMENT).exists() => Finding::needs(
            Level::Broken,
            "tor",
            format!("{TOR_FRAGMENT} is missing"),
            "sudo sealdrop setup",
        ),
        Ok(text) if !torrc_includes(text, Path::new(TOR_FRAGMENT)) => Finding::needs(
            Level::Broken,
            "tor",
            format!("{TORRC} does not include {TOR_FRAGMENT}"),
            format!("add `{TOR_INCLUDE_LINE}` to {TORRC} (sudo sealdrop setup asks)"),
        ),
        Ok(_) => Finding::ok("tor", format!("{TORRC} includes {TOR_FRAGMENT}")),
    });
    let members = group_members(SERVICE_GROUP);
    findings.push(match members {
        None => Finding::needs(
            Level::Broken,
            "tor group",
            format!("no group {SERVICE_GROUP}"),
            "reinstall the package (its postinst makes the user and group)",
        ),
        Some(m) if m.iter().any(|u| u == TOR_USER) => Finding::ok(
            "tor group",
            format!("{TOR_USER} is in the group {SERVICE_GROUP}"),
        ),
        Some(_) => Finding::needs(
            Level::Broken,
            "tor group",
            format!("{TOR_USER} is not in the group {SERVICE_GROUP}: tor cannot reach the sockets"),
            format!("sudo usermod -aG {SERVICE_GROUP} {TOR_USER} && sudo systemctl restart tor"),
        ),
    });
    findings.push(match onion_address(SOURCE_ONION_HOSTNAME) {
        Some(address) => Finding::ok("onion address", format!("http://{address}/")),
        None => Finding::needs(
            Level::Attention,
            "onion address",
            format!("tor has not written {SOURCE_ONION_HOSTNAME} (or it cannot be read)"),
            "sudo systemctl restart tor, then run this again as root",
        ),
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGED: &str = include_str!("../../../../deploy/sealdrop.toml");

    #[test]
    fn the_pickup_token_replaces_the_placeholder_and_nothing_else() {
        let hash = "ab".repeat(32);
        let edited = set_pickup_token(PACKAGED, &hash);
        assert!(edited.contains(&format!("pickup_token_sha256 = [\"{hash}\"]\n")));
        assert!(!edited.contains(&"0".repeat(64)));
        assert_eq!(edited.lines().count(), PACKAGED.lines().count());
        let multi = "a = 1\npickup_token_sha256 = [\n  \"x\",\n  \"y\",\n]\nb = 2\n";
        assert_eq!(
            set_pickup_token(multi, "h"),
            "a = 1\npickup_token_sha256 = [\"h\"]\nb = 2\n"
        );
    }

    #[test]
    fn desks_turn_the_single_recipients_off_and_append_tables_the_server_reads() {
        let desks = vec![
            DeskAnswer {
                name: "investigations".into(),
                recipients: vec![],
                title: [
                    ("ar".to_owned(), "التحقيقات \"خاص\"".to_owned()),
                    ("en".to_owned(), "Investigations".to_owned()),
                ]
                .into_iter()
                .collect(),
            },
            DeskAnswer {
                name: "tips".into(),
                recipients: vec![],
                title: BTreeMap::new(),
            },
        ];
        let edited = switch_to_desks(PACKAGED, &desks, Path::new("/etc/sealdrop/desks"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealdrop.toml");
        std::fs::write(&path, &edited).unwrap();
        let config = load(&path).unwrap();
        assert!(config.recipients.is_none());
        let names: Vec<&str> = config
            .policy
            .desk_choice
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(names, ["investigations", "tips"]);
        assert_eq!(
            config.policy.desk_choice[1].recipients,
            Path::new("/etc/sealdrop/desks/tips.txt")
        );
        // The example desk stays a comment; the store and everything else as before.
        assert_eq!(config.store, Path::new("/var/lib/sealdrop/store"));
    }

    #[test]
    fn the_packaged_answer_file_parses() {
        let answers: Answers =
            toml::from_str(include_str!("../../../../deploy/setup-answers.toml")).unwrap();
        assert!(answers.recipients.is_some() || !answers.desk.is_empty());
        assert_eq!(answers.tor_include, Some(true));
    }
}
