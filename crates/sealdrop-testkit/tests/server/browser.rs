//! Debian's chromium, headless, JavaScript disabled, driven over WebDriver:
//! a source fills the form in several languages, attaches files and submits;
//! the test decrypts what landed. Also checks the right-to-left layout and
//! takes the screenshots kept in docs/screenshots (refreshed with
//! `SEALDROP_UPDATE_SCREENSHOTS=1`).

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::server::*;
use crate::common::webdriver::Driver;
use crate::common::*;
use sealdrop_server::pages::{text, Lang};

/// Waits for an element to appear (the answer to a form); returns its text.
pub(crate) fn wait_for(driver: &Driver, css: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(element) = driver.try_find(css) {
            return driver.text(&element);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {css} at {}",
            driver.url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sources_submit_in_several_languages_without_javascript() {
    let server = Server::start(&[]);
    let driver = Driver::start();

    // JavaScript really is off: <noscript> content is rendered as elements.
    driver.goto("data:text/html,<noscript><p id=off>js-off</p></noscript>");
    assert_eq!(
        driver.text(&driver.find("#off")),
        "js-off",
        "JavaScript must be disabled"
    );

    let files_dir = server.dir.path().join("source-files");
    fs::create_dir(&files_dir).unwrap();
    let mut sent = Vec::new();
    for (lang, message) in [
        (Lang::En, "Browser test: the documents are attached."),
        (Lang::Ar, "اختبار المتصفح: الوثائق مرفقة. report.pdf"),
        (Lang::Fa, "آزمایش مرورگر: اسناد پیوست شده‌اند."),
        (Lang::Ku, "Ceribandina gerokê: belge hatine pêvekirin."),
        (Lang::Ru, "Проверка браузера: документы приложены."),
    ] {
        let a = files_dir.join(format!("{}-notes.txt", lang.tag()));
        let b = files_dir.join(format!("{}-photo.bin", lang.tag()));
        fs::write(&a, format!("notes for {}\n", lang.tag())).unwrap();
        fs::write(
            &b,
            (0..50_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
        )
        .unwrap();
        let base = format!("http://{}/{}/", server.addr, lang.tag());
        driver.goto(&base);
        assert_eq!(driver.title(), text(lang, "page-title", &[]));
        driver.send_keys(&driver.find("#message"), message);
        driver.send_keys(
            &driver.find("#attachment"),
            &format!("{}\n{}", a.display(), b.display()),
        );
        driver.click(&driver.find("button[type=submit]"));
        let codename = wait_for(&driver, "#codename");
        assert!(driver.url().ends_with(&format!("/{}/submit", lang.tag())));
        assert_eq!(driver.title(), text(lang, "received-title", &[]));
        // The codename, in the page's own digits: 32 of them in 8 groups.
        let digits: Vec<char> = codename.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(digits.len(), 32, "{codename}");
        let expected_script = match lang {
            Lang::Ar => '\u{0660}'..='\u{0669}',
            Lang::Fa => '\u{06F0}'..='\u{06F9}',
            _ => '0'..='9',
        };
        assert!(
            digits.iter().all(|d| expected_script.contains(d)),
            "{codename}"
        );
        sent.push((
            message.to_owned(),
            fs::read(&a).unwrap(),
            fs::read(&b).unwrap(),
        ));
    }

    // What landed decrypts to exactly what the browser sent.
    let sealed = server.sealed_files();
    assert_eq!(sealed.len(), sent.len());
    let mut found: Vec<(String, Vec<Vec<u8>>)> = sealed
        .iter()
        .map(|f| {
            let (message, files) = open(&fs::read(f).unwrap(), &server.key);
            (
                String::from_utf8(message.unwrap()).unwrap(),
                files.into_iter().map(|(_, d)| d).collect(),
            )
        })
        .collect();
    found.sort();
    sent.sort();
    for ((message, files), (sent_message, a, b)) in found.iter().zip(&sent) {
        // Browsers normalize line breaks in textareas to CRLF; there are none here.
        assert_eq!(message, sent_message);
        assert_eq!(files, &vec![a.clone(), b.clone()]);
    }
}

/// Right edge of an element.
fn right(r: (f64, f64, f64, f64)) -> f64 {
    r.0 + r.2
}

#[test]
fn right_to_left_layout_mirrors_and_screenshots_are_taken() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let out_dir = if std::env::var("SEALDROP_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        sealdrop_testkit::workspace_root().join("docs/screenshots")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    fs::create_dir_all(&out_dir).unwrap();
    // Viewports: a common phone's screen less the browser's bars, a laptop.
    for (width, height, label) in [(390, 700, "phone"), (1280, 800, "desktop")] {
        driver.set_viewport(width, height);
        for lang in [Lang::En, Lang::Ar, Lang::Fa] {
            driver.goto(&format!("http://{}/{}/", server.addr, lang.tag()));
            let label_rect = driver.rect(&driver.find("label[for=message]"));
            let textarea = driver.rect(&driver.find("#message"));
            let heading = driver.rect(&driver.find("h1"));
            let button = driver.rect(&driver.find("button[type=submit]"));
            if lang.is_rtl() {
                // Text starts at the right: label and button hug the textarea's right edge.
                assert!(
                    (right(label_rect) - right(textarea)).abs() < 2.0,
                    "{label}: label {label_rect:?} textarea {textarea:?}"
                );
                assert!(
                    (right(button) - right(textarea)).abs() < 2.0,
                    "{label}: button {button:?}"
                );
                assert!(
                    label_rect.0 > textarea.0 + 10.0,
                    "{label}: label not at the right"
                );
                assert!(
                    (right(heading) - right(textarea)).abs() < 2.0 || heading.2 >= textarea.2 - 1.0
                );
            } else {
                assert!(
                    (label_rect.0 - textarea.0).abs() < 2.0,
                    "{label}: label {label_rect:?} textarea {textarea:?}"
                );
                assert!((button.0 - textarea.0).abs() < 2.0);
            }
            // Fits the width: no horizontal scrolling on a phone.
            assert!(
                right(textarea) <= width as f64,
                "{label}: textarea overflows {textarea:?}"
            );
            let png = driver.screenshot();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 5_000,
                "a real screenshot"
            );
            fs::write(out_dir.join(format!("{}-{label}.png", lang.tag())), png).unwrap();
        }
    }
}

/// The language list marks the page's own language for the eye as for
/// screen readers (`aria-current`), and Arabic-script names are set larger,
/// so that they read as large as Latin ones.
#[test]
fn the_current_language_is_marked_and_arabic_script_names_are_legible() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    for lang in ["ar", "ru", "en"] {
        driver.goto(&format!("http://{}/{lang}/", server.addr));
        let current = driver.find("nav a[aria-current=page]");
        assert_eq!(driver.css_value(&current, "font-weight"), "700", "{lang}");
        assert_eq!(
            driver.find_all("nav a[aria-current]").len(),
            1,
            "one current language on /{lang}/"
        );
        let current_lang = driver.css_value(&current, "border-bottom-style");
        assert_eq!(
            current_lang, "solid",
            "{lang}: the current language is underlined"
        );
        let other = driver.find(&format!("nav a:not([hreflang={lang}])"));
        assert_eq!(driver.css_value(&other, "font-weight"), "400", "{lang}");
        let size = |css: &str| -> f64 {
            let link = driver.find(css);
            driver
                .css_value(&link, "font-size")
                .trim_end_matches("px")
                .parse()
                .unwrap()
        };
        let (arabic, persian, latin) = (
            size("nav a[hreflang=ar]"),
            size("nav a[hreflang=fa]"),
            size("nav a[hreflang=fr]"),
        );
        assert!(
            arabic >= latin * 1.1 && persian >= latin * 1.1,
            "{arabic} {persian} {latin}"
        );
    }
}

/// A small phone at 200% zoom is 180 CSS pixels wide, and 165 of them are
/// left beside a classic 15-pixel scrollbar: no page may scroll sideways at
/// either width, in any language (long words break, boxes shrink).
#[test]
fn no_page_scrolls_sideways_at_180_css_pixels() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let mut overflows = Vec::new();
    for width in [180, 165] {
        driver.set_window(width, 900);
        for lang in Lang::ALL {
            let tag = lang.tag();
            for path in ["/", "/replies", "/no-such-page"] {
                driver.goto(&format!("http://{}/{tag}{path}", server.addr));
                let widths = driver.execute(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
                );
                let (scroll, client) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
                assert!(
                    (client - f64::from(width)).abs() <= 1.0,
                    "the page is {client} px wide, not {width}: the window did not shrink"
                );
                if scroll > client {
                    overflows.push(format!("/{tag}{path} at {width} px: {scroll} px wide"));
                }
            }
        }
    }
    assert!(
        overflows.is_empty(),
        "pages scroll sideways:\n{}",
        overflows.join("\n")
    );
}

/// On a phone the message box is on the first screen and the send button
/// close below it, in every language; the safety advice is folded into a
/// `<details>` there, and open where the screen has room.
#[test]
fn a_phone_shows_the_message_box_on_its_first_screen() {
    let server = Server::start(&[]);
    let driver = Driver::start();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    // The viewports of a small phone and a common one (their screens less
    // the browser's bars), and of a desktop.
    for (width, height) in [(360, 560), (390, 700), (1280, 800)] {
        driver.set_viewport(width, height);
        let phone = width < 600;
        for lang in Lang::ALL {
            let tag = lang.tag();
            driver.goto(&format!("http://{}/{tag}/", server.addr));
            let viewport = driver
                .execute("return window.innerHeight")
                .as_f64()
                .unwrap();
            let textarea = driver.rect(&driver.find("#message"));
            let button = driver.rect(&driver.find("button[type=submit]"));
            let (textarea_bottom, button_bottom) = (textarea.1 + textarea.3, button.1 + button.3);
            report.push(format!(
                "{width}x{height} {tag}: message box {:.0}–{textarea_bottom:.0}, button bottom {button_bottom:.0} of {viewport:.0}",
                textarea.1
            ));
            let advice_open = driver.execute(
                "return getComputedStyle(document.querySelector('.advice-wide')).display != 'none'",
            );
            let advice_folded = driver.execute(
                "return getComputedStyle(document.querySelector('.advice-narrow')).display != 'none'",
            );
            if phone {
                if textarea_bottom > viewport {
                    failures.push(format!(
                        "{width}x{height} {tag}: the message box ends below the first screen"
                    ));
                }
                if button_bottom > viewport + 120.0 {
                    failures.push(format!(
                        "{width}x{height} {tag}: the send button is far below the first screen"
                    ));
                }
                if !(advice_folded == true && advice_open == false) {
                    failures.push(format!("{width}x{height} {tag}: the advice is not folded"));
                }
            } else if !(advice_open == true && advice_folded == false) {
                failures.push(format!("{width}x{height} {tag}: the advice is not open"));
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Seals a reply to `codename` and stores it as the newsroom's
/// `push-replies` would.
fn place_reply(server: &Server, codename: &sealdrop_format::reply::Codename, text: &str) {
    use sealdrop_format::keys::RecipientKind;
    use sealdrop_format::reply::{file, keys};
    let reply = file::seal(
        &keys::manifest_block(codename, RecipientKind::Classic),
        None,
        time::OffsetDateTime::now_utc(),
        text,
    )
    .unwrap();
    server.push_reply(&reply);
}

/// axe-core on every page a source can see, in all eight languages: the
/// form, the codename page, the replies login, the replies with the
/// follow-up and delete forms, the deleted page, "received", a page not
/// found, and a refused upload's page with its form filled again. None may
/// have a serious or critical violation.
#[test]
fn every_page_passes_axe_in_every_language() {
    let server = Server::start(&["--max-message-size", "1KiB"]);
    let driver = Driver::start();
    let axe = crate::common::axe::source();
    // The check can fail: a picture without a text alternative is critical.
    driver.goto(
        "data:text/html,<!doctype html><html lang=en><title>t</title><main><img src=x.png></main>",
    );
    let found = driver.accessibility_violations(&axe);
    assert!(
        found.iter().any(|v| v.contains("image-alt")),
        "axe must find a missing alt text: {found:?}"
    );
    let mut violations = Vec::new();
    let mut check = |what: String| {
        for line in driver.accessibility_violations(&axe) {
            violations.push(format!("{what}: {line}"));
        }
    };
    for lang in Lang::ALL {
        let tag = lang.tag();
        let base = format!("http://{}/{tag}", server.addr);
        for path in ["/", "/received", "/replies", "/no-such-page"] {
            driver.goto(&format!("{base}{path}"));
            check(format!("/{tag}{path}"));
        }
        // A message over the limit: its page keeps the first KiB.
        driver.goto(&format!("{base}/"));
        driver.send_keys(&driver.find("#message"), &"ab cd ".repeat(200));
        driver.click(&driver.find("button[type=submit]"));
        wait_for(&driver, "#kept");
        check(format!("/{tag}/submit refused"));
        // A first submission and its codename.
        driver.goto(&format!("{base}/"));
        driver.send_keys(&driver.find("#message"), "a tip for the axe check");
        driver.click(&driver.find("button[type=submit]"));
        let shown = wait_for(&driver, "#codename");
        check(format!("/{tag}/submit codename"));
        let codename = sealdrop_format::reply::Codename::parse(&shown).unwrap();
        place_reply(&server, &codename, "Thank you. Could you send page two?");
        driver.goto(&format!("{base}/replies"));
        driver.send_keys(&driver.find("#codename-input"), &shown);
        driver.click(&driver.find("button[type=submit]"));
        wait_for(&driver, ".reply");
        check(format!("/{tag}/replies with a reply"));
        driver.click(&driver.find("form[action$='/replies/delete'] button"));
        wait_for(&driver, "p[role=status]");
        assert!(driver.try_find(".reply").is_none(), "{tag}: deleted");
        check(format!("/{tag}/replies/delete"));
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// A 720-character message (Persian and Latin, with line breaks), typed.
fn long_message() -> String {
    let line = "گزارش از شهر: the convoy left at dawn, ۳ trucks, north road.\n";
    let mut message = String::new();
    while message.chars().count() + line.chars().count() <= 720 {
        message.push_str(line);
    }
    while message.chars().count() < 720 {
        message.push('x');
    }
    message
}

/// The error-page round trip a source meets: a file over the size limit,
/// the 413 page with the message still in its box and the files to choose
/// again, a smaller file, "received". Only the second try is stored, and it
/// decrypts to what was typed.
fn error_page_round_trip(browser: &mut dyn crate::common::Browser) {
    let server = Server::start(&["--max-upload-size", "64KiB"]);
    let files = server.dir.path().join("source-files");
    fs::create_dir(&files).unwrap();
    let (big, small) = (files.join("scan.pdf"), files.join("page1.pdf"));
    fs::write(&big, vec![b'B'; 100 * 1024]).unwrap();
    fs::write(&small, vec![b's'; 10 * 1024]).unwrap();
    let message = long_message();

    browser.goto(&format!("http://{}/fa/", server.addr));
    let textarea = browser.find("#message");
    browser.send_keys(&textarea, &message);
    let input = browser.find("#attachment");
    browser.send_keys(&input, big.to_str().unwrap());
    let button = browser.find("button[type=submit]");
    browser.click(&button);

    let kept = browser.wait_for("#kept");
    let note = browser.property(&kept, "textContent");
    assert_eq!(
        note.as_str().unwrap(),
        text(Lang::Fa, "kept-message", &[]).replace(['\u{2068}', '\u{2069}'], "")
    );
    let alert = browser.find("[role=alert]");
    let alert = browser.property(&alert, "textContent");
    let alert = alert.as_str().unwrap();
    // The limit and by how much (the request was about 102 KB).
    assert!(alert.contains("۶۴ کیلوبایت"), "{alert}");
    assert!(browser.try_find("#files-again").is_some());
    let textarea = browser.find("#message");
    let shown = browser.property(&textarea, "value");
    assert_eq!(
        shown.as_str().unwrap(),
        message,
        "the message is kept as typed"
    );
    assert!(
        server.sealed_files().is_empty(),
        "nothing of the first try is stored"
    );

    // The source fixes it: the smaller file, and sends.
    let input = browser.find("#attachment");
    browser.send_keys(&input, small.to_str().unwrap());
    let button = browser.find("button[type=submit]");
    browser.click(&button);
    browser.wait_for("#codename");
    let sealed = server.sealed_files();
    assert_eq!(sealed.len(), 1);
    let (opened_message, opened_files) = open(&fs::read(&sealed[0]).unwrap(), &server.key);
    // Browsers send a textarea's line breaks as CRLF.
    let opened_message = String::from_utf8(opened_message.unwrap()).unwrap();
    assert_eq!(opened_message.replace("\r\n", "\n"), message);
    assert_eq!(opened_files.len(), 1);
    assert_eq!(opened_files[0].1, fs::read(&small).unwrap());
}

#[test]
fn chromium_keeps_the_message_through_an_error_page() {
    let mut driver = Driver::start();
    error_page_round_trip(&mut driver);
}

#[test]
fn firefox_keeps_the_message_through_an_error_page() {
    let mut firefox = crate::common::marionette::Firefox::start_direct();
    error_page_round_trip(&mut firefox);
}

/// Firefox ESR (the base of Tor Browser) with JavaScript off and Tor
/// Browser's fingerprinting resistance: a Persian submission with two files,
/// decrypted byte for byte, names included.
#[test]
fn firefox_sends_a_persian_submission_with_two_files() {
    use crate::common::Browser;
    let server = Server::start(&[]);
    let mut firefox = crate::common::marionette::Firefox::start_direct();
    let files = server.dir.path().join("source-files");
    fs::create_dir(&files).unwrap();
    let a = files.join("گزارش.txt");
    let b = files.join("عکس \"۱\".jpg");
    fs::write(&a, "یادداشت‌های جلسه\n").unwrap();
    let photo: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 253) as u8).collect();
    fs::write(&b, &photo).unwrap();
    let message = "سلام، اسناد پیوست شده‌اند. لطفاً با احتیاط بخوانید.";
    firefox.goto(&format!("http://{}/fa/", server.addr));
    let textarea = Browser::find(&mut firefox, "#message");
    Browser::send_keys(&mut firefox, &textarea, message);
    let input = Browser::find(&mut firefox, "#attachment");
    Browser::send_keys(
        &mut firefox,
        &input,
        &format!("{}\n{}", a.display(), b.display()),
    );
    let button = Browser::find(&mut firefox, "button[type=submit]");
    Browser::click(&mut firefox, &button);
    let shown = firefox.wait_for("#codename");
    let shown = firefox.property(&shown, "textContent");
    assert!(
        shown
            .as_str()
            .unwrap()
            .chars()
            .any(|c| ('\u{06F0}'..='\u{06F9}').contains(&c)),
        "the codename in Persian digits: {shown}"
    );
    let sealed = server.sealed_files();
    assert_eq!(sealed.len(), 1);
    let sealed = fs::read(&sealed[0]).unwrap();
    let (opened_message, opened_files) = open(&sealed, &server.key);
    assert_eq!(String::from_utf8(opened_message.unwrap()).unwrap(), message);
    // The names as the source gave them, though the browser escaped the quotes.
    let manifest = manifest_of(&sealed, &server.key);
    let mut received: Vec<(String, Vec<u8>)> = manifest
        .parts
        .iter()
        .filter_map(|p| p.original_name.clone())
        .zip(opened_files.into_iter().map(|(_, data)| data))
        .collect();
    received.sort();
    let mut expected = vec![
        ("گزارش.txt".to_owned(), fs::read(&a).unwrap()),
        ("عکس \"۱\".jpg".to_owned(), photo),
    ];
    expected.sort();
    let names: Vec<_> = received.iter().map(|(n, _)| n.clone()).collect();
    assert!(received == expected, "names: {names:?}");
}
