//! A minimal W3C WebDriver client (JSON over HTTP) for chromedriver: enough to
//! drive Debian's chromium headless without adding a browser-automation crate.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    child: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
    /// A browser takes the cores the load test counts on: they take turns.
    _cores: std::sync::MutexGuard<'static, ()>,
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("chromedriver is reachable");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    // Read the head, then exactly Content-Length bytes (chromedriver keeps
    // connections open regardless of "Connection: close").
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let head_end = loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "chromedriver closed the connection");
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("chromedriver sends Content-Length");
    while raw.len() < head_end + length {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "chromedriver closed the connection early");
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw[head_end..head_end + length]).into_owned();
    let payload = text.as_str();
    serde_json::from_str(payload)
        .unwrap_or_else(|e| panic!("bad WebDriver answer to {method} {path}: {e}: {text}"))
}

/// Reads chromedriver's stdout up to "… started successfully on port N." and
/// returns N; the rest of its output is drained in the background.
fn reported_port(child: &mut Child) -> u16 {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout piped")).lines();
    let mut seen = String::new();
    while let Some(Ok(line)) = lines.next() {
        let port = line
            .split_once("started successfully on port ")
            .and_then(|(_, rest)| rest.trim_end_matches('.').trim().parse().ok());
        seen.push_str(&line);
        seen.push('\n');
        if let Some(port) = port {
            std::thread::spawn(move || lines.for_each(drop));
            return port;
        }
    }
    panic!("chromedriver did not start: {seen}");
}

impl Driver {
    /// Starts chromedriver and a headless chromium with JavaScript disabled.
    pub fn start() -> Driver {
        let cores = crate::server::cores_to_myself();
        // Port 0, then the port chromedriver reports: a port picked here and
        // freed could be taken by a server another test starts meanwhile.
        let mut child = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed; .ci/run installs it");
        let port = reported_port(&mut child);
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                         "--force-device-scale-factor=1",
                         format!("--user-data-dir={}", profile.path().display())],
                "prefs": {"profile.managed_default_content_settings.javascript": 2}
            }
        }}});
        let answer = http(port, "POST", "/session", Some(&caps));
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Driver {
            child,
            port,
            session,
            _profile: profile,
            _cores: cores,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        if let Some(error) = answer["value"].get("error") {
            panic!(
                "WebDriver {method} {path}: {error}: {}",
                answer["value"]["message"]
            );
        }
        answer["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_owned()
    }

    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The element matching a CSS selector, if any.
    pub fn try_find(&self, css: &str) -> Option<String> {
        let answer = http(
            self.port,
            "POST",
            &format!("/session/{}/element", self.session),
            Some(&json!({"using": "css selector", "value": css})),
        );
        answer["value"][ELEMENT].as_str().map(str::to_owned)
    }

    /// Every element matching a CSS selector, in document order.
    pub fn find_all(&self, css: &str) -> Vec<String> {
        let answer = http(
            self.port,
            "POST",
            &format!("/session/{}/elements", self.session),
            Some(&json!({"using": "css selector", "value": css})),
        );
        answer["value"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn find(&self, css: &str) -> String {
        self.try_find(css)
            .unwrap_or_else(|| panic!("no element {css}"))
    }

    pub fn send_keys(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    pub fn click(&self, element: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    pub fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A form control's current value (what the box holds, not its markup).
    pub fn property(&self, element: &str, name: &str) -> Value {
        self.call("GET", &format!("/element/{element}/property/{name}"), None)
    }

    /// Runs a script in the page through WebDriver (works with the page's
    /// own JavaScript disabled: it is the driver's, not the page's).
    pub fn execute(&self, script: &str) -> serde_json::Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Runs an asynchronous script, which ends by calling its last argument.
    pub fn execute_async(&self, script: &str) -> serde_json::Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// axe-core's serious and critical violations on the current page.
    pub fn accessibility_violations(&self, axe_source: &str) -> Vec<String> {
        self.execute(&format!("{axe_source}\n;return true;"));
        crate::axe::violations(&self.execute_async(crate::axe::RUN))
    }

    pub fn tag_name(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/name"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The computed value of a CSS property (no JavaScript needed).
    pub fn css_value(&self, element: &str, property: &str) -> String {
        self.call("GET", &format!("/element/{element}/css/{property}"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// (x, y, width, height) in CSS pixels.
    pub fn rect(&self, element: &str) -> (f64, f64, f64, f64) {
        let r = self.call("GET", &format!("/element/{element}/rect"), None);
        (
            r["x"].as_f64().unwrap(),
            r["y"].as_f64().unwrap(),
            r["width"].as_f64().unwrap(),
            r["height"].as_f64().unwrap(),
        )
    }

    pub fn set_window(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Sizes the window so that the page's viewport is `width` × `height`
    /// CSS pixels (headless Chromium's window has a frame of its own).
    pub fn set_viewport(&self, width: u32, height: u32) {
        self.set_window(width, height);
        let inner = self.execute("return [window.innerWidth, window.innerHeight]");
        let (w, h) = (inner[0].as_f64().unwrap(), inner[1].as_f64().unwrap());
        self.set_window(
            width + (f64::from(width) - w).max(0.0) as u32,
            height + (f64::from(height) - h).max(0.0) as u32,
        );
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let data = self.call("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl crate::Browser for Driver {
    fn goto(&mut self, url: &str) {
        Driver::goto(self, url);
    }
    fn find(&mut self, css: &str) -> String {
        Driver::find(self, css)
    }
    fn try_find(&mut self, css: &str) -> Option<String> {
        Driver::try_find(self, css)
    }
    fn send_keys(&mut self, element: &str, text: &str) {
        Driver::send_keys(self, element, text);
    }
    fn click(&mut self, element: &str) {
        Driver::click(self, element);
    }
    fn property(&mut self, element: &str, name: &str) -> Value {
        Driver::property(self, element, name)
    }
    fn url(&mut self) -> String {
        Driver::url(self)
    }
}
