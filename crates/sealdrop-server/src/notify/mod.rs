//! Runs on the server machine, in its own systemd unit with network access
//! (the onion server's unit has none): `sealdrop notify`, started once a
//! period by a timer (deploy/sealdrop-notify.timer), sends one alert to each
//! configured address by SMTP ([`smtp`]) and to each webhook ([`webhook`]).
//!
//! An alert that fired on each submission would tell the mail provider (and
//! anyone watching it) when sources act. So by default the alert is the same
//! fixed text every period, whether or not anything waits: its existence,
//! time and size say nothing. `--only-when-waiting` sends it only when sealed
//! submissions wait in the store, which tells the provider on which days
//! something arrived (docs/DEPLOY.md). No content, name, id, count or size
//! ever goes into an alert: there is nothing variable to put in it.

mod smtp;
mod webhook;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgMatches, Args, FromArgMatches};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde::Deserialize;

/// What the alert says unless `--text` says otherwise: true every period.
pub const DEFAULT_TEXT: &str = "Scheduled reminder from the drop: check it for new submissions.";
/// The subject of every alert mail.
pub const SUBJECT: &str = "Scheduled reminder";

/// A notify configuration that cannot be used; the message says how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotifyError(pub String);

/// The options of `sealdrop notify`: flags, or keys of the TOML file given
/// with `--config` (same names with `_` for `-`); flags win.
#[derive(Args, Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyOptions {
    /// TOML file with any of the options below.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// SMTP server: smtps://HOST[:PORT] (TLS from the first byte, port 465 by default)
    /// or smtp://HOST[:PORT] (STARTTLS, required; port 587 by default). Never without TLS.
    #[arg(long, value_name = "URL")]
    pub smtp_server: Option<String>,
    /// SMTP user name (AUTH over TLS only).
    #[arg(long, value_name = "NAME", requires = "smtp_password_file")]
    pub smtp_user: Option<String>,
    /// File holding the SMTP password (never on the command line).
    #[arg(long, value_name = "FILE", requires = "smtp_user")]
    pub smtp_password_file: Option<PathBuf>,
    /// Sender address [default: the first --to].
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// Address that gets the alert by SMTP; repeatable (each gets its own mail).
    #[arg(long = "to", value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// URL the alert is POSTed to as a fixed JSON body {"text": …} (https://, or
    /// http:// to a loopback address only); repeatable.
    #[arg(long = "webhook", value_name = "URL")]
    pub webhook: Vec<String>,
    /// PEM file of root certificates trusted besides Mozilla's (a private CA).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// The alert's text, the same every period [default: "Scheduled reminder from the drop:
    /// check it for new submissions."].
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Send only when sealed submissions wait in --store: the alert then tells the mail
    /// or webhook provider on which days something arrived [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub only_when_waiting: Option<bool>,
    /// The store folder that --only-when-waiting looks into.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
}

impl NotifyOptions {
    fn from_matches(matches: &ArgMatches) -> Result<NotifyOptions, NotifyError> {
        let flags = NotifyOptions::from_arg_matches(matches).map_err(clap_err)?;
        crate::config::flags_over_file(matches, flags.config.clone(), flags)
            .map_err(|e| NotifyError(e.0))
    }
}

fn clap_err(e: clap::Error) -> NotifyError {
    NotifyError(e.to_string())
}

/// Where and how to send, after the checks.
pub struct NotifyConfig {
    pub smtp: Option<smtp::SmtpConfig>,
    pub webhooks: Vec<webhook::Webhook>,
    pub text: String,
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// With `--only-when-waiting`: the store to look into.
    pub only_when_waiting: Option<PathBuf>,
}

impl NotifyConfig {
    pub fn from_options(o: NotifyOptions) -> Result<NotifyConfig, NotifyError> {
        let text = o.text.unwrap_or_else(|| DEFAULT_TEXT.to_owned());
        if text.trim().is_empty() {
            return Err(NotifyError("--text may not be empty".into()));
        }
        let extra_roots = match &o.ca_file {
            Some(path) => load_roots(path)?,
            None => Vec::new(),
        };
        let smtp = match o.smtp_server {
            Some(server) => Some(smtp::SmtpConfig::new(
                &server,
                o.smtp_user,
                o.smtp_password_file.as_deref(),
                o.from,
                o.to,
            )?),
            None if !o.to.is_empty() => {
                return Err(NotifyError(
                    "--to needs --smtp-server (smtps://HOST or smtp://HOST with STARTTLS)".into(),
                ))
            }
            None => None,
        };
        let webhooks = o
            .webhook
            .iter()
            .map(|url| webhook::Webhook::parse(url))
            .collect::<Result<Vec<_>, _>>()?;
        if smtp.is_none() && webhooks.is_empty() {
            return Err(NotifyError(
                "nothing to notify: give --smtp-server with --to ADDRESS, or --webhook URL".into(),
            ));
        }
        let only_when_waiting = match (o.only_when_waiting.unwrap_or(false), o.store) {
            (true, Some(store)) => Some(store),
            (true, None) => {
                return Err(NotifyError(
                    "--only-when-waiting needs --store DIR, the folder to look into".into(),
                ))
            }
            (false, _) => None,
        };
        Ok(NotifyConfig {
            smtp,
            webhooks,
            text,
            extra_roots,
            only_when_waiting,
        })
    }
}

fn load_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, NotifyError> {
    let roots = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            NotifyError(format!(
                "cannot read certificates from {}: {e}",
                path.display()
            ))
        })?;
    if roots.is_empty() {
        return Err(NotifyError(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(roots)
}

/// Whether a sealed submission waits in `store`: in the folder itself (a
/// server without desks), or in a desk's folder, `desks/NAME/`.
pub fn something_waits(store: &Path) -> std::io::Result<bool> {
    let holds_sealed = |dir: &Path| -> std::io::Result<bool> {
        for entry in fs::read_dir(dir)? {
            let name = entry?.file_name();
            if sealdrop_format::id::SubmissionId::from_file_name(&name.to_string_lossy()).is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    };
    if holds_sealed(store)? {
        return Ok(true);
    }
    let desks = store.join(crate::desks::DESKS_DIR);
    if !desks.is_dir() {
        return Ok(false);
    }
    for desk in fs::read_dir(&desks)? {
        let desk = desk?;
        if desk.file_type()?.is_dir() && holds_sealed(&desk.path())? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Sends the alert on every channel; the exit status says whether all took it.
pub async fn main(matches: &ArgMatches) -> ExitCode {
    let config = match NotifyOptions::from_matches(matches).and_then(NotifyConfig::from_options) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("sealdrop notify: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(store) = &config.only_when_waiting {
        match something_waits(store) {
            Ok(true) => {}
            Ok(false) => {
                println!("nothing waits in {}: no alert sent", store.display());
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!(
                    "sealdrop notify: cannot look into the store {}: {e} (the notify unit needs read access to it)",
                    store.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    let mut failed = false;
    if let Some(smtp) = &config.smtp {
        let smtp = smtp.clone();
        let (text, roots) = (config.text.clone(), config.extra_roots.clone());
        let results = tokio::task::spawn_blocking(move || smtp.send_all(&text, &roots))
            .await
            .unwrap_or_else(|e| vec![("SMTP".into(), Err(e.to_string()))]);
        for (to, result) in results {
            match result {
                Ok(()) => println!("sent: mail to {to}"),
                Err(e) => {
                    failed = true;
                    eprintln!("FAILED: mail to {to}: {e}");
                }
            }
        }
    }
    for hook in &config.webhooks {
        match hook.post(&config.text, &config.extra_roots).await {
            Ok(()) => println!("sent: webhook {}", hook.describe()),
            Err(e) => {
                failed = true;
                eprintln!("FAILED: webhook {}: {e}", hook.describe());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
