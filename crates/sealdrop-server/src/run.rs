//! Start-up and signals of `sealdrop serve`: process hardening, the start-up
//! checks, binding, the start-up log line, TLS reload on SIGHUP, and a
//! graceful stop on SIGTERM or SIGINT.

use super::{serve, tls, App, Listeners, ServeConfig, StartError};

/// Process hardening that must happen before any secret-adjacent work.
pub fn harden_process() {
    // No core dumps and no ptrace by other processes of the same user:
    // uploads pass through this process's memory in plaintext.
    if let Err(e) = sealdrop_format::hardening::make_non_dumpable() {
        eprintln!("sealdrop: warning: could not make the process non-dumpable: {e}");
    }
    // Room for many open connections: raise the soft file limit to the hard one.
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    if let Some(hard) = limit.maximum {
        let _ = rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        );
    }
}

/// File descriptors a configuration may need at once: a socket per source
/// and pickup connection, two per upload in progress (its file, and the
/// handle that flushes a large one), and room for listeners, the store's
/// folder and pool, and the runtime.
pub fn file_descriptors_needed(config: &ServeConfig) -> u64 {
    let pickup = if config.pickup_listen.is_empty() {
        0
    } else {
        super::serve::PICKUP_CONNECTIONS
    };
    (config.policy.max_connections + pickup + 2 * config.policy.max_concurrent_uploads + 128) as u64
}

/// Refuses to start when the process may not open as many files as the
/// configuration needs: it would fail sources under load instead.
fn check_file_limit(config: &ServeConfig) -> Result<(), StartError> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let needed = file_descriptors_needed(config);
    match limit.current {
        Some(have) if have < needed => Err(StartError::Config(super::ConfigError(format!(
            "this process may open {have} files, but {} connections and {} uploads at once need \
             about {needed}: raise the limit (LimitNOFILE={} in the systemd unit, or ulimit -n) or \
             lower --max-connections / --max-concurrent-uploads",
            config.policy.max_connections,
            config.policy.max_concurrent_uploads,
            needed.next_power_of_two()
        )))),
        _ => Ok(()),
    }
}

/// What `demo` prints once the server listens, given the first address it
/// serves on.
pub type Banner = Box<dyn FnOnce(&str) -> String>;

/// A server that passed its start-up checks and holds its listeners, ready
/// for [`serve`].
pub struct Started {
    pub app: std::sync::Arc<App>,
    pub listeners: Listeners,
    pub certs: Option<std::sync::Arc<tls::CertReloader>>,
}

/// The start-up checks (keys, store, TLS files) and the listeners.
pub async fn start(config: &ServeConfig) -> Result<Started, StartError> {
    let owned = config.clone();
    let app = tokio::task::spawn_blocking(move || App::new(&owned))
        .await
        .map_err(|e| {
            StartError::Config(super::config::ConfigError(format!("start-up failed: {e}")))
        })??;
    let certs = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::CertReloader::new(cert, key)?),
        _ => None,
    };
    let acceptor = certs.clone().map(tls::acceptor).transpose()?;
    let listeners = Listeners::bind(config, acceptor).await?;
    Ok(Started {
        app,
        listeners,
        certs,
    })
}

/// Starts the server and runs until SIGTERM/SIGINT.
pub async fn run(config: ServeConfig, banner: Option<Banner>) -> Result<(), StartError> {
    check_file_limit(&config)?;
    let Started {
        app,
        listeners,
        certs,
    } = start(&config).await?;
    // The bound addresses, not the configured ones: port 0 becomes a real port.
    let serving: Vec<String> = listeners
        .source
        .iter()
        .zip(&config.listen)
        .map(|(l, configured)| {
            l.local_addr()
                .unwrap_or_else(|_| configured.clone())
                .to_string()
        })
        .collect();
    if let Some(certs) = certs {
        tokio::spawn(reload_on_hangup(certs));
    }
    let sealing_to: Vec<String> = app
        .desks
        .iter()
        .map(|desk| {
            let keys = format!(
                "{} {} recipient(s)",
                desk.recipients.len(),
                desk.recipients.kind()
            );
            if desk.name.is_empty() {
                keys
            } else {
                format!("desk {}: {keys}", desk.name)
            }
        })
        .collect();
    tracing::info!(
        "sealing to {}; serving on {}",
        sealing_to.join(", "),
        serving.join(", ")
    );
    if app.replies.is_some() {
        tracing::info!(
            "every answer to a login (POST /<lang>/replies) is {} bytes",
            app.replies_answer_size
        );
    }
    if let (Some(banner), Some(first)) = (banner, serving.first()) {
        println!("{}", banner(first));
    }
    serve(app, listeners, termination_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Reloads the TLS certificate on each SIGHUP; a broken one keeps the old.
async fn reload_on_hangup(certs: std::sync::Arc<tls::CertReloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        match certs.reload() {
            Ok(()) => tracing::info!("TLS certificate reloaded"),
            Err(e) => tracing::warn!("TLS certificate not reloaded, keeping the old one: {e}"),
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn termination_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
