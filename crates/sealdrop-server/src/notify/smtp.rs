//! The alert by mail, through lettre's blocking SMTP client: TLS always
//! (from the first byte, or STARTTLS that must succeed), AUTH only inside
//! it, one identical mail per address (so no address sees the others).

use std::path::Path;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use rustls::pki_types::CertificateDer;

use super::{NotifyError, SUBJECT};

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The name sealdrop greets servers with: the same on every machine, so the
/// mail's first `Received:` line does not name the server's host.
const HELLO_NAME: &str = "sealdrop.invalid";

#[derive(Clone)]
pub struct SmtpConfig {
    host: String,
    port: u16,
    /// TLS from the first byte (smtps://), or STARTTLS (smtp://).
    implicit_tls: bool,
    credentials: Option<(String, String)>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

fn mailbox(address: &str) -> Result<Mailbox, NotifyError> {
    address
        .parse()
        .map_err(|e| NotifyError(format!("{address:?} is not a mail address: {e}")))
}

impl SmtpConfig {
    pub fn new(
        server: &str,
        user: Option<String>,
        password_file: Option<&Path>,
        from: Option<String>,
        to: Vec<String>,
    ) -> Result<SmtpConfig, NotifyError> {
        let (implicit_tls, rest) = if let Some(rest) = server.strip_prefix("smtps://") {
            (true, rest)
        } else if let Some(rest) = server.strip_prefix("smtp://") {
            (false, rest)
        } else {
            return Err(NotifyError(format!(
                "--smtp-server {server:?}: write smtps://HOST[:PORT] (TLS) or smtp://HOST[:PORT] (STARTTLS)"
            )));
        };
        let rest = rest.trim_end_matches('/');
        let default_port = if implicit_tls { 465 } else { 587 };
        let bad_port = || NotifyError(format!("--smtp-server {server:?}: bad port"));
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad_port)?;
            let port = match after.strip_prefix(':') {
                Some(port) => port.parse().map_err(|_| bad_port())?,
                None if after.is_empty() => default_port,
                None => return Err(bad_port()),
            };
            (host.to_owned(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port.parse().map_err(|_| bad_port())?),
                None => (rest.to_owned(), default_port),
            }
        };
        if host.is_empty() || host.contains(['/', '@', '?']) {
            return Err(NotifyError(format!(
                "--smtp-server {server:?}: no host name (user and password go in --smtp-user and --smtp-password-file)"
            )));
        }
        if to.is_empty() {
            return Err(NotifyError(
                "--smtp-server needs at least one --to ADDRESS".into(),
            ));
        }
        let to = to
            .iter()
            .map(|a| mailbox(a))
            .collect::<Result<Vec<_>, _>>()?;
        let from = match from {
            Some(from) => mailbox(&from)?,
            None => to[0].clone(),
        };
        let credentials = match (user, password_file) {
            (Some(user), Some(path)) => {
                let password = std::fs::read_to_string(path).map_err(|e| {
                    NotifyError(format!(
                        "cannot read the SMTP password file {}: {e}",
                        path.display()
                    ))
                })?;
                let password = password.trim_end_matches(['\n', '\r']).to_owned();
                if password.is_empty() {
                    return Err(NotifyError(format!(
                        "the SMTP password file {} is empty",
                        path.display()
                    )));
                }
                Some((user, password))
            }
            (None, None) => None,
            _ => {
                return Err(NotifyError(
                    "--smtp-user and --smtp-password-file go together".into(),
                ))
            }
        };
        Ok(SmtpConfig {
            host,
            port,
            implicit_tls,
            credentials,
            from,
            to,
        })
    }

    fn transport(&self, extra_roots: &[CertificateDer<'static>]) -> Result<SmtpTransport, String> {
        let mut tls = TlsParameters::builder(self.host.clone());
        for root in extra_roots {
            let cert = Certificate::from_der(root.to_vec()).map_err(|e| e.to_string())?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build_rustls().map_err(|e| e.to_string())?;
        let mut builder = SmtpTransport::builder_dangerous(self.host.clone())
            .port(self.port)
            .tls(if self.implicit_tls {
                Tls::Wrapper(tls)
            } else {
                Tls::Required(tls)
            })
            .hello_name(ClientId::Domain(HELLO_NAME.into()))
            .timeout(Some(TIMEOUT));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    /// One mail to each address; the outcome for each.
    pub fn send_all(
        &self,
        text: &str,
        extra_roots: &[CertificateDer<'static>],
    ) -> Vec<(String, Result<(), String>)> {
        let transport = match self.transport(extra_roots) {
            Ok(t) => t,
            Err(e) => return vec![(self.describe(), Err(e))],
        };
        self.to
            .iter()
            .map(|to| {
                let sent = Message::builder()
                    .from(self.from.clone())
                    .to(to.clone())
                    .subject(SUBJECT)
                    .message_id(None)
                    .header(ContentType::TEXT_PLAIN)
                    .body(text.to_owned())
                    .map_err(|e| e.to_string())
                    .and_then(|mail| transport.send(&mail).map(drop).map_err(|e| e.to_string()));
                (to.email.to_string(), sent)
            })
            .collect()
    }

    fn describe(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}
