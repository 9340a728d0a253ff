//! The sandboxed child (`sealdrop-sandbox`): it confines itself before it
//! reads a byte, then does one job on what its stdin brings and answers on
//! its stdout. It holds no key and can open nothing: whatever a hostile file
//! does to a parser here, it has only that file's bytes and two pipes.

use std::collections::BTreeMap;
use std::io::{self, BufReader, BufWriter, Read, Write};

use landlock::{
    Access, AccessFs, AccessNet, LandlockStatus, Ruleset, RulesetAttr, RulesetStatus, Scope, ABI,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use super::wire::{self, Confinement, Job, Misbehaviour, Tag};
use crate::limits::{SANDBOX_ADDRESS_SPACE_BYTES, SANDBOX_CPU_SECONDS};

/// Forces a lower Landlock ABI than the kernel's, to see what an older
/// kernel gives (Tails 6 runs Linux 6.1: ABI 2). Never raises it.
pub const LANDLOCK_ABI_VARIABLE: &str = "SEALDROP_SANDBOX_LANDLOCK_ABI";

/// A lower CPU-time limit than [`SANDBOX_CPU_SECONDS`] (never higher), for
/// tests of a parser that loops.
pub const CPU_SECONDS_VARIABLE: &str = "SEALDROP_SANDBOX_CPU_SECONDS";

/// The Landlock ABI this sandbox asks for: every file-system right through
/// device ioctls (ABI 5), TCP (ABI 4), and the signal and abstract-socket
/// scopes (ABI 6). Later ABIs add nothing a process with no file and no
/// socket could use.
const WANTED_ABI: ABI = ABI::V6;

/// The program's `main`: confine, serve one job, exit.
pub fn main() -> std::process::ExitCode {
    let mut output = BufWriter::with_capacity(wire::MAX_FRAME + 64, io::stdout().lock());
    let confinement = match confine() {
        Ok(confinement) => confinement,
        Err(reason) => {
            let _ = wire::write_message(&mut output, Tag::Failed, reason.as_bytes());
            let _ = output.flush();
            eprintln!("sealdrop-sandbox: {reason}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut input = BufReader::with_capacity(wire::MAX_FRAME + 64, io::stdin().lock());
    let served = (|| -> Result<(), wire::WireError> {
        let payload = serde_json::to_vec(&confinement).expect("confinement serializes");
        wire::write_message(&mut output, Tag::Confined, &payload)?;
        output.flush()?;
        let mut job = Vec::new();
        if wire::expect_frame(&mut input, &mut job)? != Tag::Job {
            return Err(wire::WireError::Protocol("no job first".into()));
        }
        let job: Job = serde_json::from_slice(&job)
            .map_err(|e| wire::WireError::Protocol(format!("an unreadable job: {e}")))?;
        serve(job, &mut input, &mut output)?;
        wire::write_frame(&mut output, Tag::Done, &[])?;
        output.flush()?;
        Ok(())
    })();
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let _ = wire::write_message(&mut output, Tag::Failed, e.to_string().as_bytes());
            let _ = output.flush();
            std::process::ExitCode::from(1)
        }
    }
}

fn serve(job: Job, input: &mut impl Read, output: &mut impl Write) -> Result<(), wire::WireError> {
    match job {
        Job::Inspect { name, size } => {
            let data = wire::receive_file(input, size)?;
            let report = crate::inspect(&data, &name);
            let json = serde_json::to_vec(&report).expect("reports serialize");
            wire::write_message(output, Tag::Report, &json)?;
        }
        Job::Scrub { size } => {
            let data = wire::receive_file(input, size)?;
            match crate::scrub(&data) {
                Ok(scrubbed) => {
                    wire::write_chunks(output, Tag::Cleaned, &[], &scrubbed.data)?;
                    let removed = serde_json::to_vec(&scrubbed.removed).expect("names serialize");
                    wire::write_message(output, Tag::CleanedEnd, &removed)?;
                }
                Err(reason) => wire::write_message(output, Tag::NotCleaned, reason.0.as_bytes())?,
            }
        }
        Job::Render { size, max_side } => {
            let data = wire::receive_file(input, size)?;
            match crate::render::decode(&data, max_side) {
                Ok(pixels) => {
                    let mut message = Vec::with_capacity(8 + pixels.rgba.len());
                    message.extend_from_slice(&pixels.width.to_be_bytes());
                    message.extend_from_slice(&pixels.height.to_be_bytes());
                    message.extend_from_slice(&pixels.rgba);
                    drop(pixels);
                    wire::write_message(output, Tag::Pixels, &message)?;
                }
                // Not a picture it shows, or one it will not decode: said
                // as `scrub` says what it cannot clean.
                Err(reason) => wire::write_message(output, Tag::NotCleaned, reason.as_bytes())?,
            }
        }
        Job::Words { size, cap } => {
            let data = wire::receive_file(input, size)?;
            let cap = usize::try_from(cap).unwrap_or(usize::MAX);
            match crate::searchable(&data, cap) {
                Ok(words) => {
                    let json = serde_json::to_vec(&words).expect("text serializes");
                    wire::write_message(output, Tag::Words, &json)?;
                }
                Err(reason) => wire::write_message(output, Tag::NotCleaned, reason.0.as_bytes())?,
            }
        }
        Job::Archive { size, deliver } => super::archive::serve(size, deliver, input, output)?,
        Job::SelfTest { path, pid } => {
            let findings = super::self_test::attempt_the_forbidden(&path, pid);
            let json = serde_json::to_vec(&findings).expect("findings serialize");
            wire::write_message(output, Tag::SelfTest, &json)?;
        }
        Job::Misbehave { how } => misbehave(how, output)?,
    }
    Ok(())
}

/// Limits, Landlock, then the system-call filter, in that order: the
/// filter forbids what the first two steps need.
fn confine() -> Result<Confinement, String> {
    sealdrop_format::hardening::make_non_dumpable()
        .map_err(|e| format!("cannot make itself non-dumpable: {e}"))?;
    // Until that call it could be traced by a program of the same user
    // (where ptrace is not restricted); a tracer attached before it stays.
    // Nothing of the file has come yet: refuse to take any.
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot check that nothing traces it: {e}"))?;
    let tracer = status
        .lines()
        .find_map(|line| line.strip_prefix("TracerPid:"))
        .map(str::trim);
    if tracer != Some("0") {
        return Err(format!(
            "it is being traced (by process {}); it refuses to read a file",
            tracer.unwrap_or("?")
        ));
    }
    use rustix::process::{setrlimit, Resource, Rlimit};
    let limit = |resource, value: u64, what: &str| {
        setrlimit(
            resource,
            Rlimit {
                current: Some(value),
                maximum: Some(value),
            },
        )
        .map_err(|e| format!("cannot limit its {what}: {e}"))
    };
    limit(Resource::Core, 0, "core dumps")?;
    let cpu_seconds = std::env::var(CPU_SECONDS_VARIABLE)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(SANDBOX_CPU_SECONDS, |v| v.clamp(1, SANDBOX_CPU_SECONDS));
    // The soft limit sends SIGXCPU, which ends the child and tells the
    // parent why; the hard one, a second later, is SIGKILL.
    setrlimit(
        Resource::Cpu,
        Rlimit {
            current: Some(cpu_seconds),
            maximum: Some(cpu_seconds + 1),
        },
    )
    .map_err(|e| format!("cannot limit its CPU time: {e}"))?;
    limit(Resource::As, SANDBOX_ADDRESS_SPACE_BYTES, "address space")?;
    limit(Resource::Fsize, 0, "file writes")?;
    let (landlock_abi, lacks) = landlock()?;
    let filter = syscall_filter()?;
    seccompiler::apply_filter(&filter)
        .map_err(|e| format!("cannot install its system-call filter: {e}"))?;
    Ok(Confinement {
        landlock_abi,
        lacks,
    })
}

/// What each Landlock ABI after the first adds, for the editor told what
/// this kernel lacks.
const ADDED_BY_ABI: [(u8, &str); 5] = [
    (
        2,
        "moving and linking files between folders (ABI 2, Linux 5.19)",
    ),
    (3, "truncating files (ABI 3, Linux 6.2)"),
    (4, "TCP ports (ABI 4, Linux 6.7)"),
    (5, "device ioctls (ABI 5, Linux 6.10)"),
    (
        6,
        "abstract UNIX sockets and signals to other processes (ABI 6, Linux 6.12)",
    ),
];

fn abi_number(abi: ABI) -> u8 {
    match abi {
        ABI::Unsupported => 0,
        ABI::V1 => 1,
        ABI::V2 => 2,
        ABI::V3 => 3,
        ABI::V4 => 4,
        ABI::V5 => 5,
        _ => 6,
    }
}

/// Landlock with every right handled and none granted: no file can be
/// opened, made or removed, no TCP port bound or reached, no signal sent
/// out. Best effort on older kernels, saying what is missing: the
/// system-call filter refuses each of those on its own too.
fn landlock() -> Result<(u8, Vec<String>), String> {
    let forced = std::env::var(LANDLOCK_ABI_VARIABLE)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|&abi| abi >= 1)
        .map(ABI::from);
    let wanted = match forced {
        Some(abi) if abi < WANTED_ABI => abi,
        _ => WANTED_ABI,
    };
    let failed = |e: landlock::RulesetError| format!("cannot set up Landlock: {e}");
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(wanted))
        .map_err(failed)?;
    if wanted >= ABI::V4 {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI::V4))
            .map_err(failed)?;
    }
    if wanted >= ABI::V6 {
        ruleset = ruleset.scope(Scope::from_all(ABI::V6)).map_err(failed)?;
    }
    let status = ruleset
        .create()
        .map_err(failed)?
        .restrict_self()
        .map_err(failed)?;
    let kernel = match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => abi_number(effective_abi),
        _ => 0,
    };
    let in_force = match status.ruleset {
        RulesetStatus::NotEnforced => 0,
        _ => kernel.min(abi_number(wanted)),
    };
    let mut lacks = Vec::new();
    if in_force == 0 {
        lacks.push(format!(
            "Landlock ({}): files are refused by the system-call filter alone",
            match status.landlock {
                LandlockStatus::NotEnabled => "this kernel has it but it is not enabled",
                _ => "this kernel does not have it",
            }
        ));
    } else {
        for (abi, what) in ADDED_BY_ABI {
            if abi > in_force {
                lacks.push(format!(
                    "Landlock's rule on {what}: the system-call filter refuses it anyway"
                ));
            }
        }
    }
    Ok((in_force, lacks))
}

/// The system calls a parser needs once its input is in memory: reading
/// its stdin, writing its stdout and stderr (no other descriptor, should it
/// have inherited one), memory (never executable), futex waits and wakes,
/// time, sleep, randomness for hash maps, and ending (abort included, whose
/// only signal goes to itself). Everything else fails with `EPERM`: no
/// `open`, `socket`, `execve`, `clone`, `ptrace`, `kill`, nor a signal
/// handler of its own (SIGXCPU at the CPU limit stays fatal).
fn syscall_filter() -> Result<BpfProgram, String> {
    let failed = |e: seccompiler::BackendError| format!("cannot build its system-call filter: {e}");
    let arch = std::env::consts::ARCH.try_into().map_err(|_| {
        format!(
            "no system-call filter for this machine's architecture ({}); it refuses to run \
             unconfined",
            std::env::consts::ARCH
        )
    })?;
    let allowed = [
        libc::SYS_close,
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_brk,
        libc::SYS_sched_yield,
        libc::SYS_getrandom,
        libc::SYS_clock_gettime,
        libc::SYS_nanosleep,
        libc::SYS_clock_nanosleep,
        libc::SYS_restart_syscall,
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigprocmask,
        libc::SYS_sigaltstack,
        libc::SYS_getpid,
        libc::SYS_gettid,
        libc::SYS_exit,
        libc::SYS_exit_group,
    ];
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        allowed.iter().map(|&call| (call, Vec::new())).collect();
    // Each rule holds when its one argument test does; a call is allowed
    // when any of its rules holds.
    let when = |arg: u8, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)
            .and_then(|c| SeccompRule::new(vec![c]))
            .map_err(failed)
    };
    let is = |arg: u8, value: u64| when(arg, SeccompCmpOp::Eq, value);
    let not_executable = || when(2, SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64), 0);
    rules.insert(libc::SYS_read, vec![is(0, 0)?]);
    rules.insert(libc::SYS_write, vec![is(0, 1)?, is(0, 2)?]);
    rules.insert(libc::SYS_writev, vec![is(0, 1)?, is(0, 2)?]);
    rules.insert(libc::SYS_mmap, vec![not_executable()?]);
    rules.insert(libc::SYS_mprotect, vec![not_executable()?]);
    // Giving memory back, the only advice glibc's allocator gives.
    rules.insert(
        libc::SYS_madvise,
        vec![
            is(2, libc::MADV_DONTNEED as u64)?,
            is(2, libc::MADV_FREE as u64)?,
        ],
    );
    // Waits and wakes (private or shared, any clock), not the
    // priority-inheritance and requeue operations.
    let futex_op = |op: i32| {
        when(
            1,
            SeccompCmpOp::MaskedEq(libc::FUTEX_CMD_MASK as u32 as u64),
            op as u64,
        )
    };
    rules.insert(
        libc::SYS_futex,
        vec![
            futex_op(libc::FUTEX_WAIT)?,
            futex_op(libc::FUTEX_WAKE)?,
            futex_op(libc::FUTEX_WAIT_BITSET)?,
            futex_op(libc::FUTEX_WAKE_BITSET)?,
        ],
    );
    let me = u64::from(
        rustix::process::getpid()
            .as_raw_nonzero()
            .get()
            .unsigned_abs(),
    );
    rules.insert(libc::SYS_tgkill, vec![is(0, me)?]);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .map_err(failed)?;
    filter.try_into().map_err(failed)
}

fn misbehave(how: Misbehaviour, output: &mut impl Write) -> io::Result<()> {
    match how {
        Misbehaviour::Crash => std::process::abort(),
        Misbehaviour::Spin => {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Misbehaviour::Hang => loop {
            std::thread::park();
        },
        Misbehaviour::Allocate => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![0u8; 64 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        Misbehaviour::Flood => {
            let junk = vec![b'x'; wire::MAX_FRAME];
            loop {
                wire::write_frame(output, Tag::Cleaned, &junk)?;
            }
        }
    }
}
