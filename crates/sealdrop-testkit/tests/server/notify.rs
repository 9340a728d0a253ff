//! `sealdrop notify` against real servers on loopback: aiosmtpd (STARTTLS
//! required, AUTH required over TLS) and an HTTPS webhook listener, both
//! with a certificate from a test CA. The alert must be the same fixed
//! message every period, whatever waits in the store.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::server::server_bin;
use crate::common::*;

/// A test CA and a certificate it signed for 127.0.0.1 and localhost.
struct Certs {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(args: &[&str], dir: &Path) {
    let out = run(Command::new("openssl").args(args).current_dir(dir));
    assert_success(&out, &format!("openssl {args:?}"));
}

fn make_certs(dir: &Path) -> Certs {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "2",
        "-subj",
        "/CN=notify test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=localhost",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ]);
    openssl(&csr, dir);
    fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.crt",
        ],
        dir,
    );
    Certs {
        ca: dir.join("ca.crt"),
        cert: dir.join("leaf.crt"),
        key: dir.join("leaf.key"),
    }
}

/// A listener from tests/interop/python/listeners.py, stopped on drop.
struct Listener {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Listener {
    fn start(kind: &str, out: &Path, args: &[&Path], extra: &[&str]) -> Listener {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python");
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: scripts/test.sh installs aiosmtpd there",
            python.display()
        );
        let mut child = Command::new(python)
            .arg(root.join("listeners.py"))
            .arg(kind)
            .arg(out)
            .args(args)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("{kind} listener did not start: {line:?}"));
        Listener {
            child,
            port,
            out: out.to_owned(),
        }
    }

    /// The HTTPS webhook listener, recording into `dir/hook`.
    fn webhook(dir: &Path, certs: &Certs) -> Listener {
        Listener::start(
            "webhook",
            &dir.join("hook"),
            &[&certs.cert, &certs.key],
            &[],
        )
    }

    /// Recorded files with this extension, in arrival order.
    fn recorded(&self, extension: &str) -> Vec<Vec<u8>> {
        let mut names: Vec<(u32, PathBuf)> = fs::read_dir(&self.out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?.to_owned();
                let number = name.strip_suffix(extension)?.parse().ok()?;
                Some((number, p))
            })
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|(_, p)| fs::read(p).unwrap())
            .collect()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notify(args: &[&str]) -> std::process::Output {
    run(Command::new(server_bin()).arg("notify").args(args))
}

/// A mail without the two headers that must differ between sends (the date
/// and a random message id), which are of fixed length.
fn without_date_and_id(mail: &[u8]) -> String {
    String::from_utf8_lossy(mail)
        .lines()
        .filter(|l| !l.starts_with("Date:") && !l.starts_with("Message-ID:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn mail_alerts_are_one_fixed_message_whatever_waits() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let smtp = Listener::start(
        "smtp",
        &dir.path().join("mail"),
        &[&certs.cert, &certs.key],
        &["alerts", "correct horse"],
    );
    let password = dir.path().join("smtp-password");
    fs::write(&password, "correct horse\n").unwrap();
    let store = dir.path().join("store");
    fs::create_dir(&store).unwrap();
    let server = format!("smtp://127.0.0.1:{}", smtp.port);
    let args = [
        "--smtp-server",
        &server,
        "--smtp-user",
        "alerts",
        "--smtp-password-file",
        password.to_str().unwrap(),
        "--from",
        "drop@example.org",
        "--to",
        "desk@example.org",
        "--to",
        "editor@example.org",
        "--ca-file",
        certs.ca.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    // Once with nothing waiting, once with a submission waiting.
    let out = notify(&args);
    assert_success(&out, "sealdrop notify");
    fs::write(
        store.join(sealdrop_format::id::SubmissionId::random().file_name()),
        b"sealed",
    )
    .unwrap();
    let out = notify(&args);
    assert_success(&out, "sealdrop notify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("sent: mail to desk@example.org")
            && stdout.contains("sent: mail to editor@example.org"),
        "{stdout}"
    );

    let mails = smtp.recorded(".eml");
    assert_eq!(mails.len(), 4, "one mail per address per run");
    for envelope in smtp.recorded(".envelope.json") {
        let envelope: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
        assert_eq!(envelope["tls"], true, "STARTTLS: {envelope}");
        assert_eq!(envelope["authenticated"], true, "{envelope}");
        assert_eq!(
            envelope["helo"], "sealdrop.invalid",
            "no host name: {envelope}"
        );
        assert_eq!(
            envelope["rcpt_tos"].as_array().unwrap().len(),
            1,
            "{envelope}"
        );
    }
    // To each address, the same size every time (the addresses differ in
    // length), and the same bytes but for the date and id.
    assert_eq!(mails[0].len(), mails[2].len(), "sizes differ between runs");
    assert_eq!(mails[1].len(), mails[3].len(), "sizes differ between runs");
    assert_eq!(
        without_date_and_id(&mails[0]),
        without_date_and_id(&mails[2])
    );
    assert_eq!(
        without_date_and_id(&mails[1]),
        without_date_and_id(&mails[3])
    );
    let text = without_date_and_id(&mails[0]);
    assert!(text.contains("Subject: Scheduled reminder"), "{text}");
    assert!(
        text.contains(sealdrop_server::notify::DEFAULT_TEXT),
        "the fixed text: {text}"
    );
    let headers: Vec<&str> = text
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':').map(|(name, _)| name))
        .collect();
    assert_eq!(
        headers,
        [
            "From",
            "To",
            "Subject",
            "Content-Type",
            "Content-Transfer-Encoding"
        ],
        "nothing else in the headers: {text}"
    );

    // A wrong password: a clear failure, and the exit status says so.
    fs::write(&password, "wrong\n").unwrap();
    let out = notify(&args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FAILED: mail to desk@example.org"),
        "{stderr}"
    );
}

#[test]
fn only_when_waiting_sends_when_a_submission_waits() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let hook = Listener::webhook(dir.path(), &certs);
    let store = dir.path().join("store");
    fs::create_dir_all(store.join("desks/investigations")).unwrap();
    let url = format!("https://127.0.0.1:{}/hook", hook.port);
    let args = [
        "--webhook",
        &url,
        "--ca-file",
        certs.ca.to_str().unwrap(),
        "--only-when-waiting",
        "--store",
        store.to_str().unwrap(),
    ];
    let out = notify(&args);
    assert_success(&out, "notify with nothing waiting");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no alert sent"));
    assert!(hook.recorded(".json").is_empty());
    // A submission waiting in a desk's folder counts too.
    fs::write(
        store
            .join("desks/investigations")
            .join(sealdrop_format::id::SubmissionId::random().file_name()),
        b"sealed",
    )
    .unwrap();
    assert_success(&notify(&args), "notify with a submission waiting");
    assert_eq!(hook.recorded(".json").len(), 1);
}

#[test]
fn webhook_alerts_post_one_fixed_body() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let hook = Listener::webhook(dir.path(), &certs);
    let url = format!("https://127.0.0.1:{}/hooks/s3cr3t-token", hook.port);
    let args = ["--webhook", &url, "--ca-file", certs.ca.to_str().unwrap()];
    for _ in 0..2 {
        let out = notify(&args);
        assert_success(&out, "sealdrop notify --webhook");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("sent: webhook https://127.0.0.1:") && !stdout.contains("s3cr3t"),
            "the hook's secret path is not printed: {stdout}"
        );
    }
    let calls: Vec<serde_json::Value> = hook
        .recorded(".json")
        .iter()
        .map(|c| serde_json::from_slice(c).unwrap())
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0], calls[1], "the same call every time");
    assert_eq!(calls[0]["path"], "/hooks/s3cr3t-token");
    assert_eq!(calls[0]["headers"]["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(calls[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "text": sealdrop_server::notify::DEFAULT_TEXT })
    );
    let mut names: Vec<&String> = calls[0]["headers"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["content-length", "content-type", "host"]);

    // Without the test CA the certificate is not trusted: a clear failure.
    let out = notify(&["--webhook", &url]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FAILED: webhook") && stderr.contains("TLS"),
        "{stderr}"
    );
    // Plain HTTP goes only to this machine.
    let out = notify(&["--webhook", "http://ntfy.example.org/drop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plain http:// only to this machine"));
}
