#![no_main]
//! The multipart ingest path, through the real router and handler: the fuzz
//! input is the body of `POST /submit`. Whatever it is, the answer is one of
//! the documented pages, no partial file remains, and anything accepted
//! decrypts to a valid submission.

use std::io::{BufReader, Cursor};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use sealdrop_format::seal::SubmissionReader;
use sealdrop_server::{App, Policy, ListenAddr, ServeConfig};
use tower::ServiceExt;

const BOUNDARY: &str = "fuzzboundary";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
    store: PathBuf,
    identity: age::x25519::Identity,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sealdrop-fuzz-{}", std::process::id()));
        let store = dir.join("store");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o700)).unwrap();
        let identity = age::x25519::Identity::generate();
        let recipients = dir.join("recipients.txt");
        std::fs::write(&recipients, format!("{}\n", identity.to_public())).unwrap();
        let policy = Policy {
            max_upload_bytes: 1 << 20,
            max_message_bytes: 64 * 1024,
            max_attachments: 8,
            min_free_bytes: 0,
            ..Policy::default()
        };
        let config = ServeConfig {
            recipients: Some(recipients),
            store: store.clone(),
            bucket: None,
            s3_credentials: None,
            listen: vec![ListenAddr::Tcp("127.0.0.1:0".parse().unwrap())],
            tls_cert: None,
            tls_key: None,
            socket_mode: 0o660,
            policy,
            pickup_listen: Vec::new(),
            pickup_tokens: Vec::new(),
            runtime_dir: None,
        };
        let app = App::new(&config).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Fixture { runtime, app, store, identity }
    })
}

fuzz_target!(|body: &[u8]| {
    let f = fixture();
    let router = sealdrop_server::router::router(f.app.clone());
    let request = Request::post("/submit")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("content-length", body.len())
        .body(Body::from(body.to_vec()))
        .unwrap();
    let response = f.runtime.block_on(router.oneshot(request)).unwrap();
    let status = response.status().as_u16();
    // 200 is the received page with a codename (replies are on by default);
    // 303 the received redirect of a follow-up.
    assert!([200, 303, 400, 408, 413, 503].contains(&status), "status {status}");
    let received = status == 200 || status == 303;
    let mut sealed_files = 0;
    for entry in std::fs::read_dir(&f.store).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".pool-") {
            // Empty files made ahead of time (no birth time dates an arrival).
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "pool file {name} holds data");
            continue;
        }
        if name == "replies" {
            // The reply folder; a submission never writes into it.
            assert!(path.is_dir());
            let stray: Vec<_> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with(".pool-"))
                .collect();
            assert!(stray.is_empty(), "submission wrote into replies/: {stray:?}");
            continue;
        }
        assert!(name.ends_with(".age"), "partial file left: {name}");
        let sealed = std::fs::read(&path).unwrap();
        let mut reader = SubmissionReader::open(
            BufReader::new(Cursor::new(sealed)),
            std::iter::once(&f.identity as &dyn age::Identity),
        )
        .expect("an accepted submission opens");
        for i in 0..reader.manifest().parts.len() {
            std::io::copy(&mut reader.part_reader(i).unwrap(), &mut std::io::sink()).expect("parts verify");
        }
        std::fs::remove_file(&path).unwrap();
        sealed_files += 1;
    }
    assert_eq!(sealed_files, usize::from(received), "one sealed file exactly when received");
});
