//! The sandboxed child's self-test: it tries, from inside the sandbox,
//! what the sandbox must refuse, and reports what stopped each attempt.
//! The only place in the laptop's crates that names a socket, to prove that
//! none can be opened; scripts/check-offline-deps.sh exempts this file, and
//! only this file, by name.

use std::io::{self, Read};

use super::wire::SelfTestFindings;

/// Tries what the sandbox must refuse, each attempt reported with the error
/// that stopped it (`None` would be a hole).
pub(super) fn attempt_the_forbidden(path: &str, pid: u32) -> SelfTestFindings {
    use std::process::{Command, Stdio};
    let stopped = |result: io::Result<()>| result.err().map(|e| e.to_string());
    let attempts = vec![
        (
            format!("read {path}"),
            stopped(std::fs::File::open(path).and_then(|mut f| f.read(&mut [0u8; 1]).map(drop))),
        ),
        (
            format!("make a file beside {path}"),
            stopped(std::fs::File::create(format!("{path}.sandbox-test")).map(drop)),
        ),
        (
            "open a UDP socket on 127.0.0.1".to_owned(),
            stopped(std::net::UdpSocket::bind("127.0.0.1:0").map(drop)),
        ),
        (
            "connect to 127.0.0.1:9 over TCP".to_owned(),
            stopped(std::net::TcpStream::connect("127.0.0.1:9").map(drop)),
        ),
        (
            "start /bin/true".to_owned(),
            stopped(
                Command::new("/bin/true")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map(drop),
            ),
        ),
        (
            format!("signal process {pid}, its parent"),
            stopped(
                rustix::process::Pid::from_raw(pid as i32)
                    .ok_or_else(|| io::Error::other("no such process"))
                    .and_then(|pid| {
                        rustix::process::test_kill_process(pid).map_err(io::Error::from)
                    }),
            ),
        ),
    ];
    SelfTestFindings { attempts }
}
