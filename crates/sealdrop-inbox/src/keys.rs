//! The newsroom's identities while the inbox holds them: loaded from their
//! files when an import (or saving an original) needs them, the passphrase
//! and a hardware key's PIN or touch asked in the window, kept in memory
//! only (locked out of swap by the format crate's loader), and dropped
//! after an idle time or when the screen locks (the window's timers call
//! [`KeyRing::forget`]). Dropping them zeroizes the secret keys (age's own
//! identity types wipe on drop; the heap block is wiped again as it is
//! freed by the wiping allocator).

use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use age::secrecy::SecretString;
use sealdrop_format::keys::{load_identity_file, Identities, KeyError};

/// Identities held, and when they were last used.
#[derive(Default)]
pub struct KeyRing {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    identities: Option<Arc<Identities>>,
    files: Vec<PathBuf>,
    /// When they were last used, on two clocks: the monotonic one stops
    /// while the laptop is suspended, the wall clock does not (and a
    /// wall clock set back cannot keep them: either clock past the idle
    /// time is enough).
    last_used: Option<(Instant, SystemTime)>,
    /// How many times keys were forgotten: work started with the keys of
    /// one generation stops once it has changed.
    generation: u64,
}

impl Held {
    fn used_now(&mut self) {
        self.last_used = Some((Instant::now(), SystemTime::now()));
    }
}

impl KeyRing {
    /// The identities, if held; using them counts as activity.
    pub fn get(&self) -> Option<Arc<Identities>> {
        let mut held = self.held.lock().expect("not poisoned");
        held.used_now();
        held.identities.clone()
    }

    /// The current generation of keys (see [`KeyRing::still`]).
    pub fn generation(&self) -> u64 {
        self.held.lock().expect("not poisoned").generation
    }

    /// Whether keys of `generation` are still held: work done with them
    /// (an import) asks before each step, and stops once they were forgotten.
    pub fn still(&self, generation: u64) -> bool {
        let held = self.held.lock().expect("not poisoned");
        held.identities.is_some() && held.generation == generation
    }

    pub fn is_held(&self) -> bool {
        self.held.lock().expect("not poisoned").identities.is_some()
    }

    /// The files the held identities came from.
    pub fn files(&self) -> Vec<PathBuf> {
        self.held.lock().expect("not poisoned").files.clone()
    }

    pub fn hold(&self, identities: Identities, files: Vec<PathBuf>) -> Arc<Identities> {
        let identities = Arc::new(identities);
        let mut held = self.held.lock().expect("not poisoned");
        held.identities = Some(identities.clone());
        held.files = files;
        held.used_now();
        identities
    }

    /// The editor did something: the idle time starts again.
    pub fn touch(&self) {
        let mut held = self.held.lock().expect("not poisoned");
        if held.identities.is_some() {
            held.used_now();
        }
    }

    /// Drops the identities; whether any were held. An import running
    /// holds its own reference until the file it is opening is done, then
    /// stops ([`KeyRing::still`]).
    pub fn forget(&self) -> bool {
        let mut held = self.held.lock().expect("not poisoned");
        held.last_used = None;
        held.generation += 1;
        held.identities.take().is_some()
    }

    /// Forgets them when unused for `idle`; whether it did.
    pub fn forget_if_idle(&self, idle: Duration) -> bool {
        let due = {
            let held = self.held.lock().expect("not poisoned");
            held.identities.is_some()
                && held.last_used.is_none_or(|(monotonic, wall)| {
                    monotonic.elapsed() >= idle
                        || SystemTime::now()
                            .duration_since(wall)
                            .is_ok_and(|passed| passed >= idle)
                })
        };
        due && self.forget()
    }
}

/// A question the loading of a key asks the editor, answered in the window.
pub enum Question {
    Passphrase {
        description: String,
        answer: mpsc::Sender<Option<SecretString>>,
    },
    /// A hardware key's plugin asks to go on ("touch your key").
    Confirm {
        message: String,
        yes: String,
        no: Option<String>,
        answer: mpsc::Sender<Option<bool>>,
    },
    /// A plugin asks for a PIN or another string.
    Text {
        description: String,
        answer: mpsc::Sender<Option<String>>,
    },
    /// A plugin's message to show.
    Message(String),
}

/// age's callbacks, asked in the window: the worker thread that loads the
/// keys waits for each answer.
#[derive(Clone)]
pub struct WindowPrompt {
    questions: mpsc::Sender<Question>,
}

impl WindowPrompt {
    pub fn new(questions: mpsc::Sender<Question>) -> WindowPrompt {
        WindowPrompt { questions }
    }

    fn ask<T>(&self, make: impl FnOnce(mpsc::Sender<Option<T>>) -> Question) -> Option<T> {
        let (answer, answered) = mpsc::channel();
        self.questions.send(make(answer)).ok()?;
        answered.recv().ok().flatten()
    }
}

impl age::Callbacks for WindowPrompt {
    fn display_message(&self, message: &str) {
        let _ = self.questions.send(Question::Message(message.to_owned()));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        self.ask(|answer| Question::Confirm {
            message: message.to_owned(),
            yes: yes.to_owned(),
            no: no.map(str::to_owned),
            answer,
        })
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        self.ask(|answer| Question::Text {
            description: description.to_owned(),
            answer,
        })
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        self.ask(|answer| Question::Passphrase {
            description: description.to_owned(),
            answer,
        })
    }
}

/// Loads every identity of `files`, asking through `prompt`.
pub fn load(files: &[PathBuf], prompt: &WindowPrompt) -> Result<Identities, KeyError> {
    let mut all = Identities::new();
    for file in files {
        all.extend(load_identity_file(file, prompt.clone())?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_forgotten_after_the_idle_time_and_on_demand() {
        let ring = KeyRing::default();
        assert!(!ring.forget_if_idle(Duration::ZERO));
        ring.hold(Identities::new(), vec![PathBuf::from("key.txt")]);
        assert!(ring.is_held());
        assert!(!ring.forget_if_idle(Duration::from_secs(3600)));
        assert!(ring.forget_if_idle(Duration::ZERO));
        assert!(!ring.is_held() && ring.get().is_none());
        ring.hold(Identities::new(), Vec::new());
        let generation = ring.generation();
        assert!(ring.still(generation));
        assert!(ring.forget());
        assert!(!ring.forget());
        // Work begun with forgotten keys stops, even once new ones are held.
        ring.hold(Identities::new(), Vec::new());
        assert!(!ring.still(generation));
        assert!(ring.still(ring.generation()));
    }

    #[test]
    fn a_passphrase_is_asked_in_the_window_and_a_wrong_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.age");
        // A passphrase-protected identity file, as `age -p` makes one.
        let identity = age::x25519::Identity::generate();
        use age::secrecy::ExposeSecret;
        let plain = format!("{}\n", identity.to_string().expose_secret());
        let encryptor =
            age::Encryptor::with_user_passphrase(SecretString::from("correct horse".to_owned()));
        let mut sealed = Vec::new();
        let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
        std::io::Write::write_all(&mut writer, plain.as_bytes()).unwrap();
        writer.finish().unwrap();
        std::fs::write(&key, sealed).unwrap();
        for (given, works) in [("correct horse", true), ("wrong", false)] {
            let (questions, asked) = mpsc::channel();
            let window = std::thread::spawn(move || {
                let Ok(Question::Passphrase {
                    description,
                    answer,
                }) = asked.recv()
                else {
                    panic!("a passphrase is asked first");
                };
                assert!(description.contains("key.age"), "{description}");
                answer
                    .send(Some(SecretString::from(given.to_owned())))
                    .unwrap();
            });
            let loaded = load(std::slice::from_ref(&key), &WindowPrompt::new(questions));
            window.join().unwrap();
            assert_eq!(loaded.is_ok(), works, "{given}");
        }
    }
}
