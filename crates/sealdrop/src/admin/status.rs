//! `sealdrop status`: how the server is doing, from its config and store,
//! for an admin or a monitoring system. It reads listings and sizes only
//! (`sealdrop_server::census`), the last maintenance pass's record from RAM,
//! and the machine around (sockets, tor). Exit 0 fine, 1 attention, 2 broken.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use serde::Serialize;

use super::setup::{load, system_findings};
use super::*;
use sealdrop_format::terminal::human_size;
use sealdrop_server::census::Census;
use sealdrop_server::{ListenAddr, ServeConfig};

#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    /// The server's config file.
    #[arg(long, value_name = "FILE", default_value = CONFIG)]
    config: PathBuf,
    /// Print one JSON object (for monitoring) instead of text.
    #[arg(long)]
    json: bool,
    /// Count what waits now, from the store's listing, instead of the counts
    /// the last maintenance pass recorded. Each run then dates arrivals to
    /// the moment it runs: never poll this from a monitoring system.
    #[arg(long)]
    live: bool,
}

/// A submission that has waited this many days gets attention: is pickup
/// still running?
pub(crate) const STALE_DAYS: u64 = 7;
/// Share of the quota (percent) above which status asks for attention.
pub(crate) const QUOTA_ATTENTION_PERCENT: u64 = 90;

#[derive(Serialize)]
struct Report {
    level: Level,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    census: Option<Census>,
    findings: Vec<Finding>,
}

impl Report {
    /// The report of `findings`, at the level of the worst.
    fn new(census: Option<Census>, findings: Vec<Finding>) -> Report {
        Report {
            level: worst(&findings),
            version: env!("CARGO_PKG_VERSION"),
            census,
            findings,
        }
    }
}

pub(crate) async fn main(args: StatusArgs) -> ExitCode {
    let report = match load(&args.config) {
        Err(e) => Report::new(
            None,
            vec![Finding::needs(
                Level::Broken,
                "config",
                format!("{}: {e}", args.config.display()),
                "fix the file, then `sudo sealdrop setup --check`",
            )],
        ),
        Ok(mut config) => {
            if config.runtime_dir.is_none() {
                config.runtime_dir = Some(PACKAGED_RUNTIME_DIR.into());
            }
            let config_path = args.config.clone();
            let live = args.live;
            tokio::task::spawn_blocking(move || examine(&config, &config_path, live))
                .await
                .unwrap_or_else(|e| {
                    Report::new(
                        None,
                        vec![Finding::needs(
                            Level::Broken,
                            "status",
                            e.to_string(),
                            "report this as a bug",
                        )],
                    )
                })
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("sealdrop status: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print_text(&report);
    }
    ExitCode::from(report.level.exit_code())
}

fn examine(config: &ServeConfig, config_path: &Path, live: bool) -> Report {
    let now = SystemTime::now();
    let mut findings = Vec::new();
    findings.extend(listener_findings(config));
    let census = match sealdrop_server::census::census(config, now, live) {
        Ok(census) => {
            findings.extend(census_findings(&census, now));
            Some(census)
        }
        Err(e) => {
            findings.push(Finding::needs(
                Level::Broken,
                "store",
                e,
                "check the store's path and permissions (run as root)",
            ));
            None
        }
    };
    findings.extend(system_findings(config, config_path));
    Report::new(census, findings)
}

/// Is anything listening, on sockets tor may reach?
fn listener_findings(config: &ServeConfig) -> Vec<Finding> {
    let group = std::fs::metadata(CONFIG_DIR).map(|m| m.gid()).ok();
    let mut findings = Vec::new();
    for (side, addrs) in [
        ("source listener", &config.listen),
        ("pickup listener", &config.pickup_listen),
    ] {
        for addr in addrs {
            findings.push(match addr {
                ListenAddr::Unix(path) => {
                    unix_socket_finding(side, path, config.socket_mode, group)
                }
                ListenAddr::Tcp(a) => {
                    let target = if a.ip().is_unspecified() {
                        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), a.port())
                    } else {
                        *a
                    };
                    match std::net::TcpStream::connect_timeout(
                        &target,
                        std::time::Duration::from_secs(3),
                    ) {
                        Ok(_) => Finding::ok(side, format!("{a} accepts connections")),
                        Err(e) => Finding::needs(
                            Level::Broken,
                            side,
                            format!("{a}: {e}"),
                            "sudo systemctl start sealdrop-https; journalctl -u sealdrop-https",
                        ),
                    }
                }
            });
        }
    }
    findings
}

fn unix_socket_finding(side: &'static str, path: &Path, mode: u32, group: Option<u32>) -> Finding {
    let not_running = |detail: String| {
        Finding::needs(
            Level::Broken,
            side,
            detail,
            "sudo systemctl start sealdrop; journalctl -u sealdrop",
        )
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_socket() => m,
        Ok(_) => return not_running(format!("{} is not a socket", path.display())),
        Err(e) => {
            return not_running(format!(
                "{}: {e} (the server is not running)",
                path.display()
            ))
        }
    };
    if let Err(e) = std::os::unix::net::UnixStream::connect(path) {
        return not_running(format!(
            "{}: {e} (the server is not running)",
            path.display()
        ));
    }
    if meta.mode() & 0o777 != mode || group.is_some_and(|g| g != meta.gid()) {
        return Finding::needs(
            Level::Broken,
            side,
            format!(
                "{} has mode {:o}, group id {}: tor may not reach it",
                path.display(),
                meta.mode() & 0o777,
                meta.gid()
            ),
            "set socket_mode in the config and run the server as its unit does (group sealdrop)",
        );
    }
    Finding::ok(side, format!("{} accepts connections", path.display()))
}

fn census_findings(census: &Census, now: SystemTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    let oldest = census.inboxes.iter().filter_map(|i| i.oldest_days).max();
    let waiting: u64 = census.inboxes.iter().map(|i| i.waiting).sum();
    findings.push(match oldest {
        Some(days) if days >= STALE_DAYS => Finding::needs(
            Level::Attention,
            "waiting",
            format!("{waiting} submission(s) waiting; the oldest for {days} days"),
            "is pickup running? (docs/PICKUP.md)",
        ),
        _ => Finding::ok("waiting", format!("{waiting} submission(s) waiting")),
    });
    if let Some(quota) = census.quota_bytes.filter(|q| *q > 0) {
        let percent = census.stored_bytes.saturating_mul(100) / quota;
        let detail = format!(
            "{} of {} ({percent}%)",
            human_size(census.stored_bytes),
            human_size(quota)
        );
        findings.push(if percent >= 100 {
            Finding::needs(
                Level::Broken,
                "quota",
                format!("{detail}: sources are told to try later"),
                "pick up what waits, or raise store_quota",
            )
        } else if percent >= QUOTA_ATTENTION_PERCENT {
            Finding::needs(
                Level::Attention,
                "quota",
                detail,
                "pick up what waits, or raise store_quota",
            )
        } else {
            Finding::ok("quota", detail)
        });
    }
    if let Some(free) = census.disk_free_bytes {
        let detail = format!(
            "{} free (min_free_disk {})",
            human_size(free),
            human_size(census.min_free_bytes)
        );
        findings.push(if free < census.min_free_bytes {
            Finding::needs(
                Level::Broken,
                "disk",
                format!("{detail}: sources are told to try later"),
                "free disk space or pick up what waits",
            )
        } else if free < census.min_free_bytes.saturating_mul(2) {
            Finding::needs(
                Level::Attention,
                "disk",
                detail,
                "free disk space or pick up what waits",
            )
        } else {
            Finding::ok("disk", detail)
        });
    }
    for inbox in &census.inboxes {
        if inbox.pool == Some(0) {
            findings.push(Finding::needs(
                Level::Attention,
                "pool",
                format!("no empty file ready for uploads in inbox {:?}", inbox.desk),
                "the next maintenance pass refills it; if it stays empty, see journalctl -u sealdrop",
            ));
        }
    }
    let interval = census.touch_interval_secs.max(1);
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    findings.push(match (&census.last_pass, &census.last_pass_unreadable) {
        (_, Some(e)) => Finding::needs(
            Level::Attention,
            "maintenance",
            format!("its record cannot be read: {e}"),
            "run status as root",
        ),
        (None, None) => Finding::needs(
            Level::Attention,
            "maintenance",
            "no pass recorded since the server started (it records in RAM: runtime_dir)",
            "is the server running? journalctl -u sealdrop",
        ),
        (Some(pass), None) if !pass.ok => Finding::needs(
            Level::Attention,
            "maintenance",
            format!(
                "the last pass met an error ({})",
                pass.error.as_deref().unwrap_or("unknown")
            ),
            "journalctl -u sealdrop says which file",
        ),
        (Some(pass), None) if now_secs.saturating_sub(pass.time) > 2 * interval => Finding::needs(
            Level::Attention,
            "maintenance",
            format!(
                "the last pass was {} minutes ago; one runs every {} minutes",
                now_secs.saturating_sub(pass.time) / 60,
                interval / 60
            ),
            "is the server running? journalctl -u sealdrop",
        ),
        (Some(pass), None) => Finding::ok(
            "maintenance",
            format!(
                "last pass {} minutes ago: {} file times reset, {} unpicked and {} replies expired",
                now_secs.saturating_sub(pass.time) / 60,
                pass.files_retouched,
                pass.expired_unpicked,
                pass.expired_replies
            ),
        ),
    });
    findings
}

fn print_text(report: &Report) {
    println!("sealdrop {} status: {:?}", report.version, report.level);
    if let Some(census) = &report.census {
        let when = match (census.counted, &census.last_pass) {
            ("pass", Some(pass)) => format!(
                "as the last maintenance pass counted ({} minutes ago)",
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    .saturating_sub(pass.time)
                    / 60
            ),
            _ => "listed now".to_owned(),
        };
        println!("store: {} ({when})", census.store);
        for inbox in &census.inboxes {
            let name = if inbox.desk.is_empty() {
                "(all)"
            } else {
                inbox.desk.as_str()
            };
            let oldest = inbox
                .oldest_days
                .map_or("unknown".to_owned(), |d| format!("{d} days"));
            let pool = inbox.pool.map_or(String::new(), |p| {
                format!(", pool {p}/{}", census.pool_target)
            });
            println!(
                "  inbox {name}: {} waiting, {}, oldest {oldest}{pool}",
                inbox.waiting,
                human_size(inbox.bytes)
            );
        }
    }
    for finding in &report.findings {
        finding.print();
    }
}
