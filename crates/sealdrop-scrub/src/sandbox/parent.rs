//! The parent's side: starts the helper by its absolute path, one child per
//! job, feeds it, reads its answer under caps, and ends it when it takes too
//! long. Whatever the child does, the parent learns at most a wrong answer
//! about the file it was given, or an error.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use super::child::{CPU_SECONDS_VARIABLE, LANDLOCK_ABI_VARIABLE};
use super::wire::{self, Confinement, Job, Misbehaviour, SelfTestFindings, WireError};
use crate::limits::{MAX_FILE_BYTES, SANDBOX_CPU_SECONDS, SANDBOX_WALL_SECONDS};
use crate::{NotCleaned, Report, Scrubbed};

/// The helper's name, beside the program that uses it.
pub const HELPER_NAME: &str = "sealdrop-sandbox";
/// Where the packages install it.
pub const INSTALLED_HELPER: &str = "/usr/libexec/sealdrop/sealdrop-sandbox";

/// The largest side of a picture [`Sandbox::render`] returns: 4096² RGBA
/// pixels are 64 MiB, what the parent reads of any answer at most.
pub const MAX_RENDER_SIDE: u32 = 4096;

/// Why a job did not come back with an answer; the file it was about is
/// then NOT CLEANED (or unchecked, for `inspect`).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the sandbox helper {HELPER_NAME} was not found beside {beside} nor at \
         {INSTALLED_HELPER}; reinstall sealdrop-open (it ships both)"
    )]
    Missing { beside: String },
    #[error("the sandbox helper {path} is not safe to run: {why}; reinstall it")]
    Untrusted { path: String, why: String },
    #[error("the sandbox helper could not be started: {0}")]
    Start(io::Error),
    #[error("the sandboxed reader used more than {0} s of processor time and was stopped")]
    Cpu(u64),
    #[error("the sandboxed reader kept sealdrop-open waiting more than {0} s and was stopped")]
    Clock(u64),
    #[error("the sandboxed reader crashed (signal {signal}){detail}")]
    Crashed { signal: i32, detail: String },
    #[error("the sandboxed reader failed (exit status {code}){detail}")]
    Failed { code: i32, detail: String },
    #[error("the sandboxed reader {0}")]
    Wire(#[from] WireError),
}

/// The helper, found once; each job runs in a new child.
#[derive(Debug)]
pub struct Sandbox {
    helper: PathBuf,
    confinement: OnceLock<Confinement>,
    /// A lower Landlock ABI than the kernel's, to see what an older kernel
    /// gives (from [`LANDLOCK_ABI_VARIABLE`] in the environment).
    landlock_abi: Option<String>,
    cpu_seconds: u64,
    wall_seconds: u64,
}

impl Sandbox {
    /// The helper beside `program` (the running binary, for a build tree or
    /// a tarball), else the installed one: an absolute path, never `PATH`,
    /// owned by root or this user and writable by no one else.
    pub fn beside(program: &Path) -> Result<Sandbox, SandboxError> {
        let near = program.parent().map(|dir| dir.join(HELPER_NAME));
        let helper = match near {
            Some(near) if near.is_absolute() && near.is_file() => near,
            _ if Path::new(INSTALLED_HELPER).is_file() => PathBuf::from(INSTALLED_HELPER),
            _ => {
                return Err(SandboxError::Missing {
                    beside: program.display().to_string(),
                })
            }
        };
        Sandbox::at(helper)
    }

    /// The helper at `helper`, an absolute path, after the same checks.
    pub fn at(helper: PathBuf) -> Result<Sandbox, SandboxError> {
        if !helper.is_absolute() {
            return Err(SandboxError::Untrusted {
                path: helper.display().to_string(),
                why: "its path is not absolute".into(),
            });
        }
        if let Some(why) = sealdrop_format::hardening::untrusted_program(&helper) {
            return Err(SandboxError::Untrusted {
                path: helper.display().to_string(),
                why,
            });
        }
        Ok(Sandbox {
            helper,
            confinement: OnceLock::new(),
            landlock_abi: std::env::var(LANDLOCK_ABI_VARIABLE).ok(),
            cpu_seconds: SANDBOX_CPU_SECONDS,
            wall_seconds: SANDBOX_WALL_SECONDS,
        })
    }

    /// Children confined as on a kernel with Landlock ABI `abi` at most.
    pub fn with_landlock_abi(mut self, abi: u8) -> Sandbox {
        self.landlock_abi = Some(abi.to_string());
        self
    }

    /// Lower time limits than [`SANDBOX_CPU_SECONDS`] and
    /// [`SANDBOX_WALL_SECONDS`] (never higher), for tests.
    pub fn with_time_limits(mut self, cpu_seconds: u64, wall_seconds: u64) -> Sandbox {
        self.cpu_seconds = cpu_seconds.min(SANDBOX_CPU_SECONDS);
        self.wall_seconds = wall_seconds.min(SANDBOX_WALL_SECONDS);
        self
    }

    pub fn helper(&self) -> &Path {
        &self.helper
    }

    /// How the first child confined itself (what it lacks on this kernel),
    /// once a job has run.
    pub fn confinement(&self) -> Option<&Confinement> {
        self.confinement.get()
    }

    /// `inspect` in a child.
    pub fn inspect(&self, data: &[u8], name: &str) -> Result<Report, SandboxError> {
        let job = Job::Inspect {
            name: name.to_owned(),
            size: data.len() as u64,
        };
        self.run(|to| wire::send_file(to, &job, data), wire::read_report)
    }

    /// `scrub` in a child. A cleaned copy may be larger than the original
    /// (a rebuilt PDF); it is read back up to the file cap.
    pub fn scrub(&self, data: &[u8]) -> Result<Result<Scrubbed, NotCleaned>, SandboxError> {
        let job = Job::Scrub {
            size: data.len() as u64,
        };
        self.run(
            |to| wire::send_file(to, &job, data),
            |from| wire::read_scrubbed(from, MAX_FILE_BYTES),
        )
    }

    /// The picture in `data` decoded in a child, scaled down to fit
    /// `max_side` pixels a side (at most [`MAX_RENDER_SIDE`]), or why the
    /// child would not decode it: the only way the desktop inbox turns a
    /// file's bytes into pixels.
    pub fn render(
        &self,
        data: &[u8],
        max_side: u32,
    ) -> Result<Result<crate::render::Pixels, NotCleaned>, SandboxError> {
        let max_side = max_side.clamp(1, MAX_RENDER_SIDE);
        let job = Job::Render {
            size: data.len() as u64,
            max_side,
        };
        self.run(
            |to| wire::send_file(to, &job, data),
            |from| wire::read_pixels(from, max_side),
        )
    }

    /// The words of `data` (plain text, office documents, PDF) read in a
    /// child, at most `cap` bytes of them, with what was not read; or why
    /// there are none: what the desktop inbox indexes for search.
    pub fn words(
        &self,
        data: &[u8],
        cap: u64,
    ) -> Result<Result<crate::Searchable, NotCleaned>, SandboxError> {
        let job = Job::Words {
            size: data.len() as u64,
            cap,
        };
        self.run(
            |to| wire::send_file(to, &job, data),
            |from| wire::read_words(from, cap),
        )
    }

    /// The child tries to read `path`, write beside it, open sockets, run a
    /// program and signal this process; each attempt comes back with what
    /// stopped it.
    pub fn self_test(&self, path: &Path) -> Result<SelfTestFindings, SandboxError> {
        let job = Job::SelfTest {
            path: path.display().to_string(),
            pid: std::process::id(),
        };
        self.run(|to| wire::send_file(to, &job, &[]), wire::read_self_test)
    }

    /// A child that misbehaves as asked, for tests of how the parent copes.
    pub fn misbehave(&self, how: Misbehaviour) -> Result<(), SandboxError> {
        let job = Job::Misbehave { how };
        self.run(
            |to| wire::send_file(to, &job, &[]),
            |from| wire::read_scrubbed(from, 64 << 20).map(drop),
        )
    }

    /// Starts a child, checks its confinement, then `feed` writes the job
    /// and `answer` reads what comes back; the child is ended after
    /// [`SANDBOX_WALL_SECONDS`] whatever it does.
    pub(super) fn run<T>(
        &self,
        feed: impl FnOnce(&mut ToChild) -> io::Result<()>,
        answer: impl FnOnce(&mut FromChild) -> Result<T, WireError>,
    ) -> Result<T, SandboxError> {
        self.run_talking(|to, from| {
            feed(to)?;
            answer(from)
        })
    }

    /// [`Sandbox::run`] for a job that talks both ways (the archive job).
    pub(super) fn run_talking<T>(
        &self,
        talk: impl FnOnce(&mut ToChild, &mut FromChild) -> Result<T, WireError>,
    ) -> Result<T, SandboxError> {
        let mut command = Command::new(&self.helper);
        // Nothing of the editor's environment goes in (it holds the paths
        // of identity files), only the two knobs for tests: an older
        // Landlock (never below what the system-call filter enforces) and a
        // lower CPU limit.
        command.env_clear();
        if let Some(abi) = &self.landlock_abi {
            command.env(LANDLOCK_ABI_VARIABLE, abi);
        }
        if self.cpu_seconds < SANDBOX_CPU_SECONDS {
            command.env(CPU_SECONDS_VARIABLE, self.cpu_seconds.to_string());
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir("/")
            .spawn()
            .map_err(SandboxError::Start)?;
        let patience = Duration::from_secs(self.wall_seconds);
        let watchdog = Watchdog::arm(&child, patience);
        let stderr = StderrTail::drain(child.stderr.take().expect("piped"));
        let mut to = BufWriter::with_capacity(
            wire::MAX_FRAME + 64,
            Watched::new(child.stdin.take().expect("piped"), &watchdog),
        );
        let mut from = BufReader::with_capacity(
            wire::MAX_FRAME + 64,
            Watched::new(child.stdout.take().expect("piped"), &watchdog),
        );
        let talked = wire::read_confinement(&mut from).and_then(|confinement| {
            let _ = self.confinement.set(confinement);
            talk(&mut to, &mut from)
        });
        drop(to);
        drop(from);
        let killed_by_clock = watchdog.disarm();
        // Done talking, it has as long again to exit.
        let status = wait_until(&mut child, Instant::now() + patience);
        let detail = stderr.text();
        let clock = SandboxError::Clock(self.wall_seconds);
        match (talked, status) {
            _ if killed_by_clock => Err(clock),
            (_, None) => Err(clock),
            (Ok(value), Some(status)) if status.success() => Ok(value),
            (talked, Some(status)) => {
                // What the child said last (a `Failed` frame) completes what
                // its stderr says.
                let said = talked.err().map(|e| e.to_string()).unwrap_or_default();
                let detail = [detail, said]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(
                    ended_badly(status, detail.clone(), self.cpu_seconds).unwrap_or_else(|| {
                        SandboxError::Wire(WireError::Protocol(if detail.is_empty() {
                            "ended without saying why".into()
                        } else {
                            detail
                        }))
                    }),
                )
            }
        }
    }
}

/// The child's stdin, as the jobs write to it.
pub(super) type ToChild = BufWriter<Watched<ChildStdin>>;
/// The child's stdout, as the jobs read it.
pub(super) type FromChild = BufReader<Watched<ChildStdout>>;

/// Why a child that did not exit 0 ended, from its status and stderr.
fn ended_badly(status: ExitStatus, detail: String, cpu_seconds: u64) -> Option<SandboxError> {
    use std::os::unix::process::ExitStatusExt;
    let detail = if detail.is_empty() {
        detail
    } else {
        format!(": {detail}")
    };
    match (status.signal(), status.code()) {
        // SIGXCPU at the CPU limit (the kernel's SIGKILL follows if ignored).
        (Some(24), _) => Some(SandboxError::Cpu(cpu_seconds)),
        (Some(signal), _) => Some(SandboxError::Crashed { signal, detail }),
        (None, Some(0)) => None,
        (None, Some(code)) => Some(SandboxError::Failed { code, detail }),
        (None, None) => None,
    }
}

/// What the child writes to stderr (a Rust panic's message, an allocation
/// failure), read on a thread of its own as it comes, so that a child
/// writing much there is never stuck; the last 64 KiB are kept.
struct StderrTail {
    thread: std::thread::JoinHandle<Vec<u8>>,
}

impl StderrTail {
    const KEPT: usize = 64 * 1024;

    fn drain(mut stderr: std::process::ChildStderr) -> StderrTail {
        let thread = std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * Self::KEPT {
                    kept.drain(..kept.len() - Self::KEPT);
                }
            }
            kept
        });
        StderrTail { thread }
    }

    /// Its end, made safe to print (no control characters), at most 500
    /// characters.
    fn text(self) -> String {
        let kept = self.thread.join().unwrap_or_default();
        let text = String::from_utf8_lossy(&kept);
        let text: String = text
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let skip = text.chars().count().saturating_sub(500);
        text.chars().skip(skip).collect()
    }
}

/// Reaps the child, killing it at `deadline`; `None` if it had to be killed.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Kills the child when the parent has waited on it (blocked reading its
/// answer or writing to it) longer than its patience at a stretch. Time the
/// parent spends on its own work (decrypting, writing parts to a slow USB
/// stick) does not count. Disarmed before the child is reaped, so it never
/// signals a reused pid.
struct Watchdog {
    beats: mpsc::Sender<Beat>,
    thread: std::thread::JoinHandle<bool>,
}

enum Beat {
    Waiting,
    Working,
    Stop,
}

impl Watchdog {
    fn arm(child: &Child, patience: Duration) -> Watchdog {
        let pid = rustix::process::Pid::from_raw(child.id() as i32);
        let (beats, heard) = mpsc::channel::<Beat>();
        let thread = std::thread::spawn(move || {
            let mut waiting_since: Option<Instant> = None;
            loop {
                let beat = match waiting_since {
                    None => heard
                        .recv()
                        .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                    Some(since) => heard
                        .recv_timeout((since + patience).saturating_duration_since(Instant::now())),
                };
                match beat {
                    Ok(Beat::Waiting) => waiting_since = waiting_since.or(Some(Instant::now())),
                    Ok(Beat::Working) => waiting_since = None,
                    Ok(Beat::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return false,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some(pid) = pid {
                            let _ =
                                rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                        }
                        return true;
                    }
                }
            }
        });
        Watchdog { beats, thread }
    }

    /// Whether it had to kill the child.
    fn disarm(self) -> bool {
        let _ = self.beats.send(Beat::Stop);
        self.thread.join().unwrap_or(false)
    }
}

/// One of the child's pipes, telling the watchdog while the parent waits on
/// it.
pub(super) struct Watched<P> {
    pipe: P,
    beats: mpsc::Sender<Beat>,
}

impl<P> Watched<P> {
    fn new(pipe: P, watchdog: &Watchdog) -> Watched<P> {
        Watched {
            pipe,
            beats: watchdog.beats.clone(),
        }
    }

    fn waiting<T>(&mut self, call: impl FnOnce(&mut P) -> T) -> T {
        let _ = self.beats.send(Beat::Waiting);
        let result = call(&mut self.pipe);
        let _ = self.beats.send(Beat::Working);
        result
    }
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.waiting(|pipe| pipe.read(buf))
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.waiting(|pipe| pipe.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.waiting(|pipe| pipe.flush())
    }
}
