//! A minimal client of Firefox's built-in remote protocol, Marionette
//! (length-prefixed JSON over TCP), to drive Debian's Firefox ESR, the base
//! of Tor Browser. There is no geckodriver here, and the protocol needs no
//! crate: `LEN:[0, id, "WebDriver:Command", {params}]` out, `LEN:[1, id,
//! error, result]` back.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Firefox {
    child: Child,
    stream: BufReader<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
    /// A browser on loopback takes the cores the load test counts on (one
    /// over Tor runs inside a Tor test, which holds them already).
    _cores: Option<std::sync::MutexGuard<'static, ()>>,
}

/// Tor-Browser-like settings: no JavaScript, private browsing, fingerprinting
/// resistance, and (with `socks`) every connection through that SOCKS proxy
/// with host names resolved by it (so `.onion` addresses reach Tor).
fn preferences(socks: Option<std::net::SocketAddr>) -> String {
    let mut prefs: Vec<(&str, Value)> = vec![
        ("marionette.port", json!(0)),
        ("javascript.enabled", json!(false)),
        ("browser.privatebrowsing.autostart", json!(true)),
        ("privacy.resistFingerprinting", json!(true)),
    ];
    match socks {
        Some(socks) => prefs.extend([
            ("network.proxy.type", json!(1)),
            ("network.proxy.socks", json!(socks.ip().to_string())),
            ("network.proxy.socks_port", json!(socks.port())),
            ("network.proxy.socks_version", json!(5)),
            ("network.proxy.socks_remote_dns", json!(true)),
            ("network.dns.blockDotOnion", json!(false)),
            ("network.proxy.no_proxies_on", json!("")),
            ("network.proxy.allow_hijacking_localhost", json!(true)),
        ]),
        None => prefs.push(("network.proxy.type", json!(0))),
    }
    prefs.extend([
        ("browser.shell.checkDefaultBrowser", json!(false)),
        ("browser.startup.homepage_override.mstone", json!("ignore")),
        ("datareporting.policy.dataSubmissionEnabled", json!(false)),
        ("toolkit.telemetry.reportingpolicy.firstRun", json!(false)),
        ("app.update.disabledForTesting", json!(true)),
        ("network.captive-portal-service.enabled", json!(false)),
        ("network.connectivity-service.enabled", json!(false)),
    ]);
    prefs
        .iter()
        .map(|(name, value)| format!("user_pref(\"{name}\", {value});\n"))
        .collect()
}

impl Firefox {
    /// Starts a headless Firefox ESR whose traffic goes through `socks`.
    pub fn start(socks: std::net::SocketAddr) -> Firefox {
        Firefox::start_with(Some(socks), None)
    }

    /// Starts a headless Firefox ESR that connects directly (to a server on
    /// loopback).
    pub fn start_direct() -> Firefox {
        Firefox::start_with(None, Some(crate::server::cores_to_myself()))
    }

    fn start_with(
        socks: Option<std::net::SocketAddr>,
        cores: Option<std::sync::MutexGuard<'static, ()>>,
    ) -> Firefox {
        let profile = tempfile::tempdir().unwrap();
        std::fs::write(profile.path().join("user.js"), preferences(socks)).unwrap();
        let child = Command::new("firefox-esr")
            .args(["--headless", "--marionette", "--no-remote", "--profile"])
            .arg(profile.path())
            .env("HOME", profile.path())
            .env("MOZ_CRASHREPORTER_DISABLE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("firefox-esr (Debian package firefox-esr) must be installed; scripts/test.sh installs it");
        // With marionette.port 0 Firefox picks a free port and writes it into
        // the profile.
        let port_file = profile.path().join("MarionetteActivePort");
        let start = Instant::now();
        let port: u16 = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break port;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "Firefox did not start Marionette"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("Marionette is reachable");
        stream
            .set_read_timeout(Some(Duration::from_secs(240)))
            .unwrap();
        let mut firefox = Firefox {
            child,
            stream: BufReader::new(stream),
            next_id: 0,
            _profile: profile,
            _cores: cores,
        };
        let hello = firefox.read_message();
        assert_eq!(hello["marionetteProtocol"], 3, "{hello}");
        firefox.call("WebDriver:NewSession", json!({"capabilities": {}}));
        firefox
    }

    fn read_message(&mut self) -> Value {
        let mut length = Vec::new();
        self.stream.read_until(b':', &mut length).unwrap();
        let length: usize = std::str::from_utf8(&length[..length.len() - 1])
            .unwrap()
            .parse()
            .expect("a Marionette length prefix");
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).expect("Marionette sends JSON")
    }

    fn call(&mut self, command: &str, params: Value) -> Value {
        self.next_id += 1;
        let message = json!([0, self.next_id, command, params]).to_string();
        let stream = self.stream.get_mut();
        stream
            .write_all(format!("{}:{message}", message.len()).as_bytes())
            .unwrap();
        let answer = self.read_message();
        assert_eq!(
            answer[1], self.next_id,
            "answer to another command: {answer}"
        );
        if !answer[2].is_null() {
            panic!("Marionette {command}: {}", answer[2]);
        }
        answer[3].clone()
    }

    pub fn goto(&mut self, url: &str) {
        self.call("WebDriver:Navigate", json!({"url": url}));
    }

    pub fn find(&mut self, css: &str) -> String {
        let found = self.call(
            "WebDriver:FindElement",
            json!({"using": "css selector", "value": css}),
        );
        found["value"][ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    pub fn send_keys(&mut self, element: &str, text: &str) {
        self.call(
            "WebDriver:ElementSendKeys",
            json!({"id": element, "text": text}),
        );
    }

    /// Chooses a file in an `<input type=file>`.
    pub fn choose_file(&mut self, element: &str, path: &Path) {
        let path = path.to_str().expect("UTF-8 path").to_owned();
        self.send_keys(element, &path);
    }

    pub fn click(&mut self, element: &str) {
        self.call("WebDriver:ElementClick", json!({"id": element}));
    }

    pub fn text(&mut self, element: &str) -> String {
        self.call("WebDriver:GetElementText", json!({"id": element}))["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element matching `css`, if there is one.
    pub fn try_find(&mut self, css: &str) -> Option<String> {
        self.next_id += 1;
        let params = json!({"using": "css selector", "value": css});
        let message = json!([0, self.next_id, "WebDriver:FindElements", params]).to_string();
        let stream = self.stream.get_mut();
        stream
            .write_all(format!("{}:{message}", message.len()).as_bytes())
            .unwrap();
        let answer = self.read_message();
        answer[3]
            .as_array()
            .and_then(|found| found.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_owned)
    }

    pub fn url(&mut self) -> String {
        self.call("WebDriver:GetCurrentURL", json!({}))["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A form control's current value (what the box holds, not its markup).
    pub fn property(&mut self, element: &str, name: &str) -> Value {
        self.call(
            "WebDriver:GetElementProperty",
            json!({"id": element, "name": name}),
        )["value"]
            .clone()
    }

    pub fn page_source(&mut self) -> String {
        self.call("WebDriver:GetPageSource", json!({}))["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Firefox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl crate::Browser for Firefox {
    fn goto(&mut self, url: &str) {
        Firefox::goto(self, url);
    }
    fn find(&mut self, css: &str) -> String {
        Firefox::find(self, css)
    }
    fn try_find(&mut self, css: &str) -> Option<String> {
        Firefox::try_find(self, css)
    }
    fn send_keys(&mut self, element: &str, text: &str) {
        Firefox::send_keys(self, element, text);
    }
    fn click(&mut self, element: &str) {
        Firefox::click(self, element);
    }
    fn property(&mut self, element: &str, name: &str) -> Value {
        Firefox::property(self, element, name)
    }
    fn url(&mut self) -> String {
        Firefox::url(self)
    }
}
