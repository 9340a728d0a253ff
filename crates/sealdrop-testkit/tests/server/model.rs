//! A model of the server where its features meet (issue 32): random
//! sequences of submissions (to a desk), follow-ups, pushed replies (new,
//! again, after a delete), logins, deletes, pickups with every token scope,
//! restarts that turn desks on and off, and maintenance passes with the
//! server's clock moved forward, run against the real server in this
//! process with a folder store, and compared after each step with a small
//! model of what must be:
//!
//! - every submission a source was told was received is picked up exactly
//!   once, by a token whose scope covers it, from the desk it was meant for
//!   (its thread's, for a follow-up in a thread with a reply), unless it
//!   expired, and never before its time;
//! - a reply the source deleted never shows again and is never stored again;
//!   a reply is never gone before its retention, always gone after it
//!   (plus the jitter, which only the server knows);
//! - every login page shows what the model predicts, in one length.
//!
//! `SEALDROP_MODEL_CASES` sets the number of random sequences (16 in CI).

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crate::common::server::*;
use crate::common::*;
use crate::meet::{api, delete, follow_up, private_store, shown};
use sealdrop_format::keys::RecipientKind;
use sealdrop_format::pickup::new_token;
use sealdrop_format::reply::codename::WESTERN;
use sealdrop_format::reply::{file, keys, Codename};

const DAY: u64 = 86_400;
/// `--reply-retention`: 8 days, so a reply's times are kept to the day and
/// its jitter is below one day.
const RETENTION_DAYS: u64 = 8;
/// `--expire-unpicked`.
const EXPIRE_DAYS: u64 = 20;
const DESKS: [&str; 2] = ["health", "investigations"];

#[derive(Debug, Clone)]
enum Op {
    /// A new source's first submission, to desk `desk` (when desks are on).
    Submit {
        desk: usize,
    },
    /// A follow-up from a source, choosing desk `desk` on the form.
    FollowUp {
        source: usize,
        desk: usize,
    },
    /// The editor answers a source (her first submission) and pushes it.
    PushNew {
        source: usize,
        push_only: bool,
    },
    /// A reply pushed before, pushed again.
    PushAgain {
        reply: usize,
    },
    Login {
        source: usize,
    },
    Delete {
        source: usize,
    },
    /// Pickup with a token: 0 unscoped, 1 health's, 2 investigations', 3 push-only.
    Pickup {
        scope: usize,
    },
    Restart {
        desks: bool,
    },
    /// The clock moved forward this many days, then a maintenance pass.
    Pass {
        days: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize).prop_map(|desk| Op::Submit { desk }),
        2 => (0..8usize, 0..2usize).prop_map(|(source, desk)| Op::FollowUp { source, desk }),
        3 => (0..8usize, any::<bool>()).prop_map(|(source, push_only)| Op::PushNew { source, push_only }),
        2 => (0..16usize).prop_map(|reply| Op::PushAgain { reply }),
        3 => (0..8usize).prop_map(|source| Op::Login { source }),
        2 => (0..8usize).prop_map(|source| Op::Delete { source }),
        2 => (0..4usize).prop_map(|scope| Op::Pickup { scope }),
        1 => any::<bool>().prop_map(|desks| Op::Restart { desks }),
        2 => prop_oneof![Just(0u64), Just(1), Just(3), Just(9), Just(25)].prop_map(|days| Op::Pass { days }),
    ]
}

/// Where a submission was meant to go: a desk, or the store itself (desks off).
type Place = Option<&'static str>;

struct Source {
    codename: Codename,
    /// Where her first submission went: the desk her replies name.
    first: Place,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyState {
    Waiting { kept_day: u64 },
    Deleted,
    Expired,
}

struct Reply {
    source: usize,
    bytes: Vec<u8>,
    name: String,
    text: String,
    sealed_day: u64,
    state: ReplyState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubmissionState {
    Waiting,
    PickedUp,
    Expired,
}

struct Submission {
    marker: String,
    place: Place,
    /// When it arrived by the system's clock (seconds since the epoch): its
    /// file's birth time is the kernel's, which the server's clock offset
    /// does not move, so its age on the server's clock counts from this.
    arrived: u64,
    state: SubmissionState,
}

/// The newsroom's fixed parts: keys, tokens, folders.
struct Newsroom {
    dir: tempfile::TempDir,
    store: PathBuf,
    runtime: PathBuf,
    root: Key,
    desk_keys: [Key; 2],
    /// Unscoped, health's, investigations', push-only.
    tokens: [(String, String); 4],
}

struct World {
    newsroom: Newsroom,
    server: Option<Server>,
    socket: PathBuf,
    desks_on: bool,
    /// How far the server's clock runs ahead of the system's.
    ahead: u64,
    sources: Vec<Source>,
    replies: Vec<Reply>,
    submissions: Vec<Submission>,
    counter: usize,
}

impl Newsroom {
    fn new() -> Newsroom {
        let dir = tempfile::tempdir().unwrap();
        let store = private_store(dir.path());
        let runtime = dir.path().join("run");
        fs::create_dir(&runtime).unwrap();
        let tokens = std::array::from_fn(|_| {
            let (token, hash) = new_token();
            (token, hash.to_string())
        });
        Newsroom {
            dir,
            store,
            runtime,
            root: Key::new(),
            desk_keys: [Key::new(), Key::new()],
            tokens,
        }
    }
}

fn now_secs(ahead: u64) -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + ahead
}

impl World {
    fn new() -> World {
        let mut world = World {
            newsroom: Newsroom::new(),
            server: None,
            socket: PathBuf::new(),
            desks_on: true,
            ahead: 0,
            sources: Vec::new(),
            replies: Vec::new(),
            submissions: Vec::new(),
            counter: 0,
        };
        world.start(true);
        world
    }

    fn start(&mut self, desks: bool) {
        self.server = None;
        let n = &self.newsroom;
        let socket = n.dir.path().join(format!("pickup-{}.sock", self.counter));
        self.counter += 1;
        let mut owned: Vec<String> = vec![
            "--store".into(),
            n.store.display().to_string(),
            "--runtime-dir".into(),
            n.runtime.display().to_string(),
            "--reply-retention".into(),
            format!("{RETENTION_DAYS}d"),
            "--expire-unpicked".into(),
            format!("{EXPIRE_DAYS}d"),
            // Only the model's passes run while a sequence lasts.
            "--touch-interval".into(),
            "24h".into(),
            "--pickup-listen".into(),
            format!("unix:{}", socket.display()),
            "--pickup-token-sha256".into(),
            n.tokens[0].1.clone(),
            "--pickup-token-sha256".into(),
            format!("replies:{}", n.tokens[3].1),
        ];
        let server = if desks {
            for (i, name) in DESKS.iter().enumerate() {
                let file = n.dir.path().join(format!("{name}.txt"));
                fs::write(&file, format!("{}\n", n.desk_keys[i].recipient)).unwrap();
                owned.extend(["--desk".into(), format!("{name}={}", file.display())]);
                owned.extend([
                    "--pickup-token-sha256".into(),
                    format!("{name}:{}", n.tokens[i + 1].1),
                ]);
            }
            let args: Vec<&str> = owned.iter().map(String::as_str).collect();
            Server::start(&args)
        } else {
            let args: Vec<&str> = owned.iter().map(String::as_str).collect();
            Server::start_with_recipients(&format!("{}\n", n.root.recipient), &args)
        };
        server
            .app()
            .clock
            .set_ahead(Duration::from_secs(self.ahead));
        while !socket.exists() {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.socket = socket;
        self.desks_on = desks;
        self.server = Some(server);
    }

    fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    fn now(&self) -> u64 {
        now_secs(self.ahead)
    }

    fn visible(&self, source: usize) -> Vec<usize> {
        let mut visible: Vec<usize> = (0..self.replies.len())
            .filter(|&r| {
                self.replies[r].source == source
                    && matches!(self.replies[r].state, ReplyState::Waiting { .. })
            })
            .collect();
        // The server's order: newest sealed day first, ties by name.
        visible.sort_by(|&a, &b| {
            let key = |r: usize| (self.replies[r].sealed_day, self.replies[r].name.clone());
            key(b).cmp(&key(a))
        });
        visible
    }

    /// Logs in as `source`; checks the page against the model and returns
    /// it with the replies it showed.
    fn login(&self, source: usize) -> (String, Vec<usize>) {
        let grouped = self.sources[source]
            .codename
            .grouped_in(WESTERN)
            .to_string();
        let page = login(self.server().addr, "en", &grouped);
        assert_eq!(page.status, 200);
        assert_eq!(
            page.body.len(),
            self.server().app().replies_answer_size,
            "one length"
        );
        let text = page.text();
        let visible = self.visible(source);
        let expected: Vec<usize> = visible.iter().copied().take(4).collect();
        let want: BTreeSet<&str> = expected
            .iter()
            .map(|&r| self.replies[r].text.as_str())
            .collect();
        let got = shown(&text);
        let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
        assert_eq!(got, want, "the page shows the newest four of what waits");
        assert_eq!(text.contains("id=\"replies-more\""), visible.len() > 4);
        (text, expected)
    }

    fn submission_marker(&mut self) -> String {
        self.counter += 1;
        format!("submission-{}-{}", self.counter, rand::random::<u32>())
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Submit { desk } => {
                let marker = self.submission_marker();
                let mut fields = Vec::new();
                let place = self.desks_on.then_some(DESKS[desk]);
                if let Some(name) = place {
                    fields.push(text_field("desk", name.as_bytes()));
                }
                fields.push(text_field("message", marker.as_bytes()));
                let answer = submit(self.server().addr, &fields);
                assert_eq!(answer.status, RECEIVED);
                let codename =
                    Codename::parse(&element_text(&answer.text(), "codename").unwrap()).unwrap();
                self.sources.push(Source {
                    codename,
                    first: place,
                });
                self.submissions.push(Submission {
                    marker,
                    place,
                    arrived: now_secs(0),
                    state: SubmissionState::Waiting,
                });
            }
            Op::FollowUp { source, desk } => {
                if self.sources.is_empty() {
                    return;
                }
                let source = source % self.sources.len();
                let (page, _) = self.login(source);
                let thread_desk = self.visible(source).first().and(self.sources[source].first);
                let place = match (self.desks_on, thread_desk) {
                    (false, _) => None,
                    (true, Some(thread)) => Some(thread),
                    (true, None) => Some(DESKS[desk]),
                };
                let marker = self.submission_marker();
                let chosen = self.desks_on.then_some(DESKS[desk]);
                let answer = follow_up(self.server().addr, &token_in(&page), chosen, &marker);
                assert!(answer.status < 400, "follow-up: {}", answer.status);
                self.submissions.push(Submission {
                    marker,
                    place,
                    arrived: now_secs(0),
                    state: SubmissionState::Waiting,
                });
            }
            Op::PushNew { source, push_only } => {
                if self.sources.is_empty() {
                    return;
                }
                let source = source % self.sources.len();
                self.counter += 1;
                let text = format!("reply {}", self.counter);
                let now = self.now();
                let sent = time::OffsetDateTime::from_unix_timestamp(now as i64).unwrap();
                let s = &self.sources[source];
                let bytes = file::seal(
                    &keys::manifest_block(&s.codename, RecipientKind::Classic),
                    s.first,
                    sent,
                    &text,
                )
                .unwrap();
                let name = format!(
                    "{}.reply",
                    sealdrop_format::hex::encode(&Sha256::digest(&bytes)[..16])
                );
                let token = &self.newsroom.tokens[if push_only { 3 } else { 0 }].0;
                let status = api(&self.socket, "POST", "/v1/replies", token, &bytes).status;
                assert_eq!(status, 201, "a new reply is stored");
                self.replies.push(Reply {
                    source,
                    bytes,
                    name,
                    text,
                    sealed_day: now / DAY,
                    state: ReplyState::Waiting {
                        kept_day: now / DAY,
                    },
                });
            }
            Op::PushAgain { reply } => {
                if self.replies.is_empty() {
                    return;
                }
                let r = &self.replies[reply % self.replies.len()];
                let token = &self.newsroom.tokens[0].0;
                let status = api(&self.socket, "POST", "/v1/replies", token, &r.bytes).status;
                let expected = match r.state {
                    ReplyState::Waiting { .. } => 200,
                    ReplyState::Deleted | ReplyState::Expired => 410,
                };
                assert_eq!(status, expected, "{:?} pushed again", r.state);
            }
            Op::Login { source } => {
                if !self.sources.is_empty() {
                    self.login(source % self.sources.len());
                }
            }
            Op::Delete { source } => {
                if self.sources.is_empty() {
                    return;
                }
                let source = source % self.sources.len();
                let (page, shown_now) = self.login(source);
                if shown_now.is_empty() {
                    return;
                }
                assert_eq!(delete(self.server().addr, &token_in(&page)).status, 200);
                for r in shown_now {
                    self.replies[r].state = ReplyState::Deleted;
                }
            }
            Op::Pickup { scope } => self.pickup(scope),
            Op::Restart { desks } => {
                // Desks are turned off only once nothing waits in their
                // folders (the server refuses to start otherwise, saying
                // so: meet.rs): pick it all up first, as it advises.
                if !desks && self.desks_on {
                    self.pickup(0);
                }
                self.start(desks)
            }
            Op::Pass { days } => self.pass(days),
        }
    }

    /// Picks up everything a token lists, and checks it against the model.
    fn pickup(&mut self, scope: usize) {
        if !self.desks_on && (scope == 1 || scope == 2) {
            return; // desk tokens exist only with desks
        }
        let token = self.newsroom.tokens[scope].0.clone();
        let listing = api(&self.socket, "GET", "/v1/submissions", &token, b"");
        if scope == 3 {
            assert_eq!(listing.status, 403, "a push-only token lists nothing");
            return;
        }
        assert_eq!(listing.status, 200);
        let mut picked = BTreeSet::new();
        for (id, _) in parse_listing(&listing.body) {
            let download = api(
                &self.socket,
                "GET",
                &format!("/v1/submissions/{id}"),
                &token,
                b"",
            );
            assert_eq!(download.status, 200);
            let (place, key) = self.which_key(&download.body);
            let (message, _) = open(&download.body, key);
            let marker = String::from_utf8(message.unwrap()).unwrap();
            let i = self
                .submissions
                .iter()
                .position(|s| s.marker == marker)
                .expect("a submission the model knows");
            let s = &mut self.submissions[i];
            assert_eq!(
                s.state,
                SubmissionState::Waiting,
                "{marker} picked up twice"
            );
            assert_eq!(
                s.place, place,
                "{marker} sealed for the desk it was meant for"
            );
            match scope {
                1 | 2 => assert_eq!(
                    place,
                    Some(DESKS[scope - 1]),
                    "a desk's token sees its desk only"
                ),
                _ => {}
            }
            s.state = SubmissionState::PickedUp;
            picked.insert(i);
            let ack = format!("{{\"sha256\":\"{}\"}}", sha256_hex(&download.body));
            let acked = api(
                &self.socket,
                "POST",
                &format!("/v1/submissions/{id}/ack"),
                &token,
                ack.as_bytes(),
            );
            assert_eq!(acked.status, 204);
        }
        // Everything in scope that had to be there was listed.
        let now = self.now();
        for (i, s) in self.submissions.iter_mut().enumerate() {
            let in_scope = match (scope, s.place) {
                (0, None) => true,
                (0, Some(_)) => self.desks_on,
                (1, Some(d)) => d == DESKS[0],
                (2, Some(d)) => d == DESKS[1],
                _ => false,
            };
            if !in_scope || s.state != SubmissionState::Waiting || picked.contains(&i) {
                continue;
            }
            assert!(
                now - s.arrived >= EXPIRE_DAYS * DAY,
                "{} was not listed, and is not old enough to have expired",
                s.marker
            );
            s.state = SubmissionState::Expired;
        }
    }

    /// The place whose key opens a sealed file.
    fn which_key(&self, sealed: &[u8]) -> (Place, &Key) {
        let n = &self.newsroom;
        let candidates = [
            (None, &n.root),
            (Some(DESKS[0]), &n.desk_keys[0]),
            (Some(DESKS[1]), &n.desk_keys[1]),
        ];
        for (place, key) in candidates {
            let opens = age::Decryptor::new(sealed)
                .unwrap()
                .decrypt(std::iter::once(&key.identity as &dyn age::Identity))
                .is_ok();
            if opens {
                return (place, key);
            }
        }
        panic!("a submission sealed to none of the newsroom's keys");
    }

    /// Moves the clock `days` forward, runs a pass, and checks expiry: never
    /// early, never late (the jitter is below a day).
    fn pass(&mut self, days: u64) {
        self.ahead += days * DAY;
        let app = self.server().app();
        app.clock.set_ahead(Duration::from_secs(self.ahead));
        sealdrop_server::maintenance_pass(app, SystemTime::now()).unwrap();
        let now = self.now();
        let replies_dir = self.newsroom.store.join("replies");
        for r in &mut self.replies {
            let present = replies_dir.join(&r.name).exists();
            match r.state {
                ReplyState::Deleted => assert!(!present, "a deleted reply is removed at the pass"),
                ReplyState::Expired => assert!(!present),
                ReplyState::Waiting { kept_day } => {
                    // Kept to the day; expires after a day (its arrival
                    // period), the retention and a jitter below a day.
                    let earliest = (kept_day + 1 + RETENTION_DAYS) * DAY;
                    if now < earliest {
                        assert!(present, "{} gone before its retention", r.text);
                    } else if now >= earliest + DAY {
                        assert!(!present, "{} kept past its retention and jitter", r.text);
                    }
                    if !present {
                        r.state = ReplyState::Expired;
                    }
                }
            }
        }
    }

    /// The end of a sequence: desks on, everything picked up with the
    /// unscoped token; whatever was not picked up must be old enough to
    /// have expired.
    fn finish(&mut self) {
        if !self.desks_on {
            self.start(true);
        }
        self.pickup(0);
        for s in &self.submissions {
            assert_ne!(
                s.state,
                SubmissionState::Waiting,
                "{} never picked up",
                s.marker
            );
        }
    }
}

fn cases() -> u32 {
    std::env::var("SEALDROP_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_server_behaves_like_its_model(ops in proptest::collection::vec(op(), 5..40)) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op);
        }
        world.finish();
    }
}
