//! `sealdrop-open inspect` and `scrub` on a corpus the test builds itself:
//! pictures made by ImageMagick, metadata written by exiftool (GPS, camera,
//! serial number, author, times, XMP, IPTC, comments, thumbnails with their
//! own GPS, a second image appended after the first). exiftool is the
//! oracle: after scrubbing it must find none of the identifying fields;
//! ImageMagick's pixel signature must not change.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Tags exiftool must not find in a cleaned file (any group).
const IDENTIFYING: &[&str] = &[
    "Make",
    "Model",
    "SerialNumber",
    "BodySerialNumber",
    "LensSerialNumber",
    "Software",
    "Artist",
    "Author",
    "Creator",
    "By-line",
    "Copyright",
    "Rights",
    "City",
    "Country",
    "Comment",
    "UserComment",
    "ImageDescription",
    "DateTimeOriginal",
    "CreateDate",
    "ModifyDate",
    "DateTimeDigitized",
    "ThumbnailImage",
    "ThumbnailOffset",
    "PreviewImage",
    "CreatorTool",
    "OwnerName",
    "CameraOwnerName",
    "HostComputer",
    "MPImage2",
    "MPFVersion",
];

/// exiftool's groups that must be gone whole.
const IDENTIFYING_GROUPS: &[&str] = &["XMP", "IPTC", "Photoshop", "ICC_Profile", "MPF"];

fn exiftool(args: &[&str]) -> std::process::Output {
    run(Command::new("exiftool").args(args))
}

/// Writes metadata with exiftool (in place).
fn plant(file: &Path, tags: &[&str]) {
    let mut args = vec!["-q", "-overwrite_original", "-m"];
    args.extend_from_slice(tags);
    let file = file.to_str().unwrap();
    args.push(file);
    assert_success(&exiftool(&args), &format!("exiftool {tags:?}"));
}

/// Every tag exiftool finds, as "Group:Tag" → value (the file system's and
/// exiftool's own, and the composites it computes from others, left out).
fn tags_of(file: &Path) -> Vec<(String, String)> {
    let out = exiftool(&["-j", "-a", "-G1", "-s", "-n", file.to_str().unwrap()]);
    assert_success(&out, "exiftool -j");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json[0]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("System:")
                && !k.starts_with("Composite:")
                && !k.starts_with("ExifTool:")
                && *k != "SourceFile"
        })
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

/// The identifying tags exiftool still finds.
fn identifying_tags(file: &Path) -> Vec<String> {
    tags_of(file)
        .into_iter()
        .filter(|(key, _)| {
            let (group, tag) = key.split_once(':').unwrap_or(("", key));
            tag.starts_with("GPS")
                || IDENTIFYING.contains(&tag)
                || IDENTIFYING_GROUPS.iter().any(|g| group.starts_with(g))
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// ImageMagick's signature of the decoded pixels (orientation not applied).
fn pixels(file: &Path) -> String {
    let out = run(Command::new("identify").args(["-format", "%#\n"]).arg(file));
    assert_success(&out, "identify");
    String::from_utf8(out.stdout).unwrap()
}

fn convert(args: &[&str], out: &Path) {
    let mut cmd = Command::new("convert");
    cmd.args(args).arg(out);
    assert_success(&run(&mut cmd), &format!("convert {args:?}"));
}

/// A ZIP of `parts` (name, data), in order: deflated, but an OpenDocument
/// `mimetype` stored, as the format wants.
fn zip_of(path: &Path, parts: &[(&str, &[u8])]) {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    for (name, data) in parts {
        let options = zip::write::SimpleFileOptions::default();
        let options = if *name == "mimetype" {
            options.compression_method(zip::CompressionMethod::Stored)
        } else {
            options
        };
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

/// The pictures of the corpus, each with every kind of metadata its format holds.
pub(crate) fn corpus(dir: &Path) -> Vec<PathBuf> {
    // A thumbnail that carries its own GPS position.
    let thumb = dir.join("thumb.jpg");
    convert(&["-size", "64x48", "gradient:navy-orange"], &thumb);
    plant(
        &thumb,
        &[
            "-GPSLatitude=35.5",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=38.5",
            "-GPSLongitudeRef=E",
            "-Model=ThumbCam",
        ],
    );

    let photo = dir.join("photo.jpg");
    convert(
        &[
            "-seed", "7", "-size", "320x240", "plasma:", "-quality", "90",
        ],
        &photo,
    );
    plant(
        &photo,
        &[
            "-Make=Canon",
            "-Model=Canon EOS 5D",
            "-SerialNumber=0420102345",
            "-Software=Camera FV-5",
            "-Artist=Hasan K.",
            "-DateTimeOriginal=2026:11:02 06:10:00",
            "-GPSLatitude=36.2021",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1343",
            "-GPSLongitudeRef=E",
            "-XMP:City=Aleppo",
            "-XMP:CreatorTool=Lightroom",
            "-IPTC:By-line=Hasan K.",
            "-IPTC:City=Aleppo",
            "-Comment=taken from the roof",
            "-Orientation#=6",
        ],
    );
    plant(&photo, &[&format!("-ThumbnailImage<={}", thumb.display())]);

    // A photo with a second image appended, as phones write MPF pictures.
    let second = dir.join("second.jpg");
    convert(&["-size", "80x60", "gradient:green-white"], &second);
    plant(
        &second,
        &[
            "-GPSLatitude=33.5138",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=36.2765",
            "-GPSLongitudeRef=E",
        ],
    );
    let first = dir.join("first.jpg");
    convert(&["-size", "160x120", "gradient:white-black"], &first);
    let appended = dir.join("appended.jpg");
    let mut bytes = fs::read(&first).unwrap();
    bytes.extend(fs::read(&second).unwrap());
    fs::write(&appended, bytes).unwrap();

    let png = dir.join("diagram.png");
    convert(&["-size", "120x90", "gradient:red-blue"], &png);
    plant(
        &png,
        &[
            "-PNG:Author=Hasan K.",
            "-PNG:Software=Snapseed",
            "-PNG:Comment=second draft",
            "-PNG:ModifyDate=2026:11:02 06:10:00",
            "-XMP:Creator=Hasan K.",
            "-EXIF:Make=Samsung",
            "-EXIF:Model=SM-A515F",
            "-GPSLatitude=36.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1",
            "-GPSLongitudeRef=E",
        ],
    );

    let gif = dir.join("animation.gif");
    convert(&["-size", "40x30", "gradient:yellow-purple"], &gif);
    plant(
        &gif,
        &[
            "-Comment=made by Hasan",
            "-XMP:Creator=Hasan K.",
            "-XMP:City=Aleppo",
        ],
    );

    let webp = dir.join("picture.webp");
    convert(
        &[
            "-size",
            "100x80",
            "gradient:teal-pink",
            "-define",
            "webp:lossless=true",
        ],
        &webp,
    );
    plant(
        &webp,
        &[
            "-EXIF:Make=Apple",
            "-EXIF:Model=iPhone 12",
            "-GPSLatitude=36.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1",
            "-GPSLongitudeRef=E",
            "-XMP:Creator=Hasan K.",
        ],
    );
    // A scanned document of two pages, with the scanner's and the person's traces.
    let tiff = dir.join("scan.tif");
    convert(
        &[
            "-size",
            "64x48",
            "gradient:red-blue",
            "-size",
            "64x48",
            "gradient:green-white",
        ],
        &tiff,
    );
    plant(
        &tiff,
        &[
            "-Make=Nikon",
            "-Model=Coolscan V",
            "-Software=VueScan 9",
            "-Artist=Hasan K.",
            "-DateTime=2026:11:02 06:10:00",
            "-GPSLatitude=36.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1",
            "-GPSLongitudeRef=E",
            "-XMP:Creator=Hasan K.",
            "-IPTC:By-line=Hasan K.",
        ],
    );
    vec![photo, appended, png, gif, webp, tiff]
}

/// `sealdrop-open scrub -o clean FILE…`.
/// Each file has its NOT CLEANED line, with the reason it gives.
fn assert_not_cleaned(stderr: &str, expected: &[(&str, &str)]) {
    for (name, reason) in expected {
        let line = stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}: {stderr}"));
        assert!(
            line.starts_with("NOT CLEANED") && line.contains(reason),
            "{line}"
        );
    }
}

fn scrub_into(clean: &Path, files: &[&Path]) -> std::process::Output {
    run(Command::new(bin("sealdrop-open"))
        .args(["scrub", "-o"])
        .arg(clean)
        .args(files))
}

fn inspect_json(file: &Path) -> serde_json::Value {
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["inspect", "--json"])
        .arg(file));
    assert_success(&out, "sealdrop-open inspect --json");
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    all[0]["report"].clone()
}

/// Every finding as "category what: value [place]", for searching.
fn findings(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}: {} [{}]",
                f["category"].as_str().unwrap(),
                f["what"].as_str().unwrap(),
                f["value"].as_str().unwrap(),
                f["place"].as_str().unwrap()
            )
        })
        .collect()
}

fn assert_found(found: &[String], needles: &[&str], what: &str) {
    for needle in needles {
        assert!(
            found.iter().any(|f| f.contains(needle)),
            "{what}: inspect did not name {needle:?}; it found:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn inspect_names_every_planted_finding() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus(dir.path());
    let photo = findings(&inspect_json(&files[0]));
    assert_found(
        &photo,
        &[
            "location GPS position: 36.202100 N, 37.134300 E [EXIF]",
            "device camera model: Canon EOS 5D",
            "device camera serial number: 0420102345",
            "device software: Camera FV-5",
            "people artist: Hasan K.",
            "times date and time taken: 2026:11:02 06:10:00",
            "location place name: City: Aleppo [XMP]",
            "device software: CreatorTool: Lightroom",
            "people byline (photographer or writer): Hasan K. [Photoshop, IPTC]",
            "location city: Aleppo [Photoshop, IPTC]",
            "hidden comment: taken from the roof",
            "hidden thumbnail",
            // The thumbnail's own EXIF, inside the photo's EXIF.
            "location GPS position: 35.500000 N, 38.500000 E [EXIF thumbnail: EXIF]",
            "device camera model: ThumbCam [EXIF thumbnail: EXIF]",
        ],
        "photo.jpg",
    );
    let appended = findings(&inspect_json(&files[1]));
    assert_found(
        &appended,
        &[
            "hidden another image after the end of this one",
            "location GPS position: 33.513800 N, 36.276500 E [second image: EXIF]",
        ],
        "appended.jpg",
    );
    let png = findings(&inspect_json(&files[2]));
    assert_found(
        &png,
        &[
            "Author: Hasan K.",
            "Software: Snapseed",
            "Comment: second draft",
            "times last modified: 2026-11-02 06:10:00",
            "creator: Hasan K.",
            "camera model: SM-A515F",
            "GPS position: 36.200000 N",
        ],
        "diagram.png",
    );
    let gif = findings(&inspect_json(&files[3]));
    assert_found(
        &gif,
        &[
            "comment: made by Hasan",
            "creator: Hasan K.",
            "City: Aleppo",
        ],
        "animation.gif",
    );
    let tiff = findings(&inspect_json(&files[5]));
    assert_found(
        &tiff,
        &[
            "camera model: Coolscan V",
            "software: VueScan 9",
            "artist: Hasan K.",
            "GPS position: 36.200000 N",
            "creator: Hasan K.",
            "byline (photographer or writer): Hasan K. [TIFF page 1, IPTC]",
            "pages: 2 pages",
        ],
        "scan.tif",
    );
    let webp = findings(&inspect_json(&files[4]));
    assert_found(
        &webp,
        &[
            "camera model: iPhone 12",
            "GPS position: 36.200000 N",
            "creator: Hasan K.",
        ],
        "picture.webp",
    );

    // A name that lies about the content is called out.
    let disguised = dir.path().join("invoice.pdf");
    fs::copy(&files[0], &disguised).unwrap();
    let report = inspect_json(&disguised);
    assert_eq!(report["kind"], "jpeg");
    assert_eq!(report["name_claims"], "pdf");
}

#[test]
fn scrubbed_pictures_keep_their_pixels_and_nothing_that_identifies() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus(dir.path());
    for file in files.iter().filter(|f| !f.ends_with("appended.jpg")) {
        assert!(
            !identifying_tags(file).is_empty(),
            "{}: the corpus must plant what the oracle looks for",
            file.display()
        );
    }
    // exiftool does not look past a JPEG's end, so it misses the appended
    // image's GPS position; `inspect` finds it (above), and the cleaned copy
    // must have nothing after its end (below).
    assert!(
        identifying_tags(&files[1]).is_empty(),
        "exiftool learned to read trailers: use it here"
    );
    let clean = dir.path().join("clean");
    let mut cmd = Command::new(bin("sealdrop-open"));
    cmd.args(["scrub", "-o"]).arg(&clean).args(&files);
    let out = run(&mut cmd);
    assert_success(&out, "sealdrop-open scrub");
    for file in &files {
        let cleaned = clean.join(file.file_name().unwrap());
        let left = identifying_tags(&cleaned);
        assert!(
            left.is_empty(),
            "{}: exiftool still finds {left:?}",
            cleaned.display()
        );
        assert_eq!(
            pixels(file),
            pixels(&cleaned),
            "{}: pixels changed",
            file.display()
        );
        let report = inspect_json(&cleaned);
        // A TIFF's pages are content, told so that none is overlooked.
        let found: Vec<_> = findings(&report)
            .into_iter()
            .filter(|f| !f.starts_with("hidden pages:"))
            .collect();
        assert!(
            found.is_empty(),
            "{}: inspect still finds {found:?}",
            cleaned.display()
        );
    }
    // The photo still stands the right way up: only its orientation is kept.
    let photo = clean.join("photo.jpg");
    let tags = tags_of(&photo);
    assert!(
        tags.iter()
            .any(|(k, v)| k.ends_with(":Orientation") && v == "6"),
        "{tags:?}"
    );
    // The appended image is gone with the rest: the cleaned copy ends where
    // its only image ends.
    let appended = fs::read(clean.join("appended.jpg")).unwrap();
    assert!(appended.ends_with(b"\xFF\xD9"));
    assert_eq!(
        appended.windows(3).filter(|w| w == b"\xFF\xD8\xFF").count(),
        1
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another image after the end"), "{stderr}");

    // Never overwriting: the same command again refuses every file.
    let out = run(&mut cmd);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrites"));
}

#[test]
fn what_cannot_be_cleaned_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("blob.bin");
    fs::write(&unknown, [0u8, 1, 2, 3, 0xFF, 0xFE, 0x00, 0x10]).unwrap();
    let truncated = dir.path().join("cut.jpg");
    convert(&["-size", "64x64", "gradient:red-blue"], &truncated);
    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let text = dir.path().join("notes.txt");
    fs::write(&text, "the meeting is at noon\n").unwrap();
    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&unknown, &truncated, &text]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "NOT CLEANED means a failing exit status"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NOT CLEANED") && stderr.contains("blob.bin"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cut.jpg") && stderr.contains("cut short"),
        "{stderr}"
    );
    assert!(!clean.join("blob.bin").exists() && !clean.join("cut.jpg").exists());
    // Plain text is copied as it is, and said to hold nothing.
    assert_eq!(
        fs::read(clean.join("notes.txt")).unwrap(),
        b"the meeting is at noon\n"
    );
    let out = run(Command::new(bin("sealdrop-open")).arg("inspect").arg(&text));
    assert!(String::from_utf8_lossy(&out.stdout).contains("plain text: nothing hides in it"));
}

#[test]
fn decrypt_scrub_writes_cleaned_copies_into_their_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus(dir.path());
    let key = Key::new();
    let photo = fs::read(&files[0]).unwrap();
    let sub = Submission {
        message: Some(b"see the photo".to_vec()),
        files: vec![
            ("IMG_0001.jpg".into(), photo.clone()),
            ("blob.bin".into(), vec![0, 1, 2, 3]),
        ],
    };
    let sealed_dir = dir.path().join("sealed");
    fs::create_dir(&sealed_dir).unwrap();
    let sealed = sealed_dir.join("0123456789abcdef0123456789abcdef.age");
    fs::write(&sealed, seal(&sub, &[&key], 64 * 1024)).unwrap();
    let identity = dir.path().join("identity.txt");
    key.write_identity(&identity);
    let opened = dir.path().join("opened");
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["decrypt", "--scrub", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(&opened)
        .arg(&sealed));
    // The unknown file cannot be cleaned: the exit status says so.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let folder = opened.join("0123456789abcdef0123456789abcdef");
    let attachments = folder.join("attachments");
    assert_eq!(
        fs::read(attachments.join("IMG_0001.jpg")).unwrap(),
        photo,
        "the original stays"
    );
    let cleaned = folder.join("cleaned").join("IMG_0001.jpg");
    assert!(identifying_tags(&cleaned).is_empty());
    assert_eq!(pixels(&files[0]), pixels(&cleaned));
    assert!(!folder.join("cleaned").join("blob.bin").exists());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &fs::metadata(folder.join("cleaned")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT CLEANED"));
}

/// A source can name a file like a cleaned copy (`IMG_1.scrubbed.jpg`,
/// `cleaned/…` is no name she can give): in either order beside the photo
/// it imitates, every attachment gets its own cleaned copy in `cleaned/`,
/// nothing in `attachments/` changes, and no uncleaned file sits among the
/// cleaned ones.
#[test]
fn a_source_cannot_name_a_file_like_a_cleaned_copy() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus(dir.path());
    let photo = fs::read(&files[0]).unwrap();
    assert!(
        !identifying_tags(&files[0]).is_empty(),
        "the corpus photo carries tags"
    );
    let key = Key::new();
    let identity = dir.path().join("identity.txt");
    key.write_identity(&identity);
    for (case, names) in [
        ("photo first", ["IMG_1.jpg", "IMG_1.scrubbed.jpg"]),
        ("masquerade first", ["IMG_1.scrubbed.jpg", "IMG_1.jpg"]),
    ] {
        let sub = Submission {
            message: None,
            files: names
                .iter()
                .map(|n| (n.to_string(), photo.clone()))
                .collect(),
        };
        let sealed_dir = dir
            .path()
            .join(format!("sealed-{}", case.replace(' ', "-")));
        fs::create_dir(&sealed_dir).unwrap();
        let sealed = sealed_dir.join("0123456789abcdef0123456789abcdef.age");
        fs::write(&sealed, seal(&sub, &[&key], 64 * 1024)).unwrap();
        let opened = dir
            .path()
            .join(format!("opened-{}", case.replace(' ', "-")));
        let out = run(Command::new(bin("sealdrop-open"))
            .args(["decrypt", "--scrub", "-i"])
            .arg(&identity)
            .arg("-o")
            .arg(&opened)
            .arg(&sealed));
        assert_success(&out, case);
        let folder = opened.join("0123456789abcdef0123456789abcdef");
        let mut cleaned: Vec<String> = fs::read_dir(folder.join("cleaned"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        cleaned.sort();
        assert_eq!(cleaned, ["IMG_1.jpg", "IMG_1.scrubbed.jpg"], "{case}");
        for name in &cleaned {
            let copy = folder.join("cleaned").join(name);
            assert!(identifying_tags(&copy).is_empty(), "{case}: cleaned/{name}");
            assert_eq!(
                fs::read(folder.join("attachments").join(name)).unwrap(),
                photo,
                "{case}: the original stays"
            );
        }
        let attachments: Vec<_> = fs::read_dir(folder.join("attachments")).unwrap().collect();
        assert_eq!(
            attachments.len(),
            2,
            "{case}: nothing written among the source's names"
        );
    }
}

/// A Word document with everything that gives a source away or phones
/// home: properties (author, last editor, company, editing time), a custom
/// property, a thumbnail with GPS, comments, tracked changes with their
/// author, revision-save ids, document variables, a remote template, and a
/// picture with its own GPS position.
fn planted_docx(dir: &Path) -> PathBuf {
    let picture = dir.join("inside.png");
    convert(&["-size", "40x30", "gradient:red-blue"], &picture);
    plant(
        &picture,
        &[
            "-GPSLatitude=36.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1",
            "-GPSLongitudeRef=E",
            "-PNG:Author=Hasan K.",
        ],
    );
    let thumbnail = dir.join("thumbnail.jpeg");
    convert(&["-size", "40x30", "gradient:white-black"], &thumbnail);
    plant(
        &thumbnail,
        &[
            "-GPSLatitude=35.5",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=38.5",
            "-GPSLongitudeRef=E",
        ],
    );
    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture""#;
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W}><w:body>
<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3" w14:paraId="1A2B3C4D" w14:textId="77777777"><w:r w:rsidR="00D4E5F6"><w:t xml:space="preserve">The convoy left at dawn. </w:t></w:r><w:ins w:id="1" w:author="Hasan K." w:date="2026-11-02T06:10:00Z"><w:r><w:t xml:space="preserve">Three trucks went north. </w:t></w:r></w:ins><w:del w:id="2" w:author="Hasan K." w:date="2026-11-02T06:11:00Z"><w:r><w:delText>I saw it from my window on Baron Street.</w:delText></w:r></w:del></w:p>
<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>The checkpoint moved.</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>
<w:p><w:r><w:drawing><wp:inline><wp:extent cx="381000" cy="285750"/><wp:docPr id="1" name="Picture 1"/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="1" name="inside.png"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed="rId5"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="381000" cy="285750"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>
<w:sectPr w:rsidR="00A1B2C3"><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>
</w:body></w:document>"#
    );
    let parts: Vec<(&str, Vec<u8>)> = vec![
        ("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Default Extension="jpeg" ContentType="image/jpeg"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/><Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>"#.to_vec()),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>"#.to_vec()),
        ("word/document.xml", document.into_bytes()),
        ("word/_rels/document.xml.rels", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/></Relationships>"#.to_vec()),
        ("word/settings.xml", format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings {W}><w:zoom w:percent="100"/><w:attachedTemplate r:id="rId1"/><w:trackRevisions/><w:defaultTabStop w:val="720"/><w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00A1B2C3"/><w:rsid w:val="00D4E5F6"/></w:rsids><w:docVars><w:docVar w:name="SourcePhone" w:val="+963 944 000 111"/></w:docVars><w:compat/></w:settings>"#).into_bytes()),
        ("word/_rels/settings.xml.rels", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="https://canary.example.org/t/8f3a/report.dotx" TargetMode="External"/></Relationships>"#.to_vec()),
        ("word/comments.xml", format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:comments {W}><w:comment w:id="0" w:author="Hasan K." w:initials="HK" w:date="2026-11-02T06:12:00Z"><w:p><w:r><w:t>My cousin told me this.</w:t></w:r></w:p></w:comment></w:comments>"#).into_bytes()),
        ("word/media/image1.png", fs::read(&picture).unwrap()),
        ("docProps/core.xml", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>Hasan K.</dc:creator><cp:lastModifiedBy>Hasan Kh.</cp:lastModifiedBy><cp:revision>7</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">2026-11-01T20:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2026-11-02T06:15:00Z</dcterms:modified></cp:coreProperties>"#.to_vec()),
        ("docProps/app.xml", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application><TotalTime>93</TotalTime><Company>Aleppo Media Center</Company><Template>Normal.dotm</Template></Properties>"#.to_vec()),
        ("docProps/custom.xml", br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="SourceName"><vt:lpwstr>Hasan K.</vt:lpwstr></property></Properties>"#.to_vec()),
        ("docProps/thumbnail.jpeg", fs::read(&thumbnail).unwrap()),
    ];
    let path = dir.join("report.docx");
    let refs: Vec<(&str, &[u8])> = parts.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    zip_of(&path, &refs);
    path
}

/// A document's text as pandoc reads it (tracked changes accepted).
fn pandoc_text(docx: &Path) -> String {
    let out = run(Command::new("pandoc")
        .args(["--track-changes=accept", "-t", "plain"])
        .arg(docx));
    assert_success(&out, "pandoc");
    String::from_utf8(out.stdout).unwrap()
}

/// Every part of a ZIP, as text where it is text.
fn unzip_all(file: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(fs::File::open(file).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            (entry.name().unwrap().into_owned(), data)
        })
        .collect()
}

#[test]
fn a_word_document_is_inspected_and_cleaned_to_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let docx = planted_docx(dir.path());
    let found = findings(&inspect_json(&docx));
    assert_found(
        &found,
        &[
            "people author: Hasan K. [docProps/core.xml]",
            "people last edited by: Hasan Kh.",
            "history revision number: 7",
            "times created: 2026-11-01T20:00:00Z",
            "people company: Aleppo Media Center",
            "history minutes spent editing: 93",
            "people custom property: SourceName: Hasan K.",
            "hidden thumbnail",
            "location GPS position: 35.500000 N, 38.500000 E [docProps/thumbnail.jpeg: EXIF]",
            "people comment by: Hasan K. [word/comments.xml]",
            "people tracked change by: Hasan K. [word/document.xml]",
            "history tracked changes: 2 insertions, deletions or moves",
            "history revision-save ids: 2",
            "hidden document variable: SourcePhone: +963 944 000 111",
            "active remote template, fetched when the document opens: canary.example.org",
            "location GPS position: 36.200000 N, 37.100000 E [word/media/image1.png: PNG eXIf]",
        ],
        "report.docx",
    );

    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&docx]);
    assert_success(&out, "sealdrop-open scrub report.docx");
    let cleaned = clean.join("report.docx");
    // pandoc, an independent reader, reads the same text: insertions kept,
    // deletions gone, the comment's words not in the text.
    let text = pandoc_text(&cleaned);
    assert_eq!(text, pandoc_text(&docx));
    assert!(
        text.contains("Three trucks went north.") && !text.contains("Baron Street"),
        "{text}"
    );
    // Nothing of the source in any part; no outside address; no ids.
    for (name, data) in unzip_all(&cleaned) {
        assert!(
            !name.starts_with("docProps/") && !name.contains("comments"),
            "{name} was kept"
        );
        let text = String::from_utf8_lossy(&data);
        for needle in [
            "Hasan",
            "canary.example.org",
            "rsid",
            "paraId",
            "docVar",
            "Aleppo",
            "attachedTemplate",
            "trackRevisions",
            "Baron",
        ] {
            assert!(!text.contains(needle), "{name} still holds {needle}");
        }
        if name == "word/media/image1.png" {
            let inner = dir.path().join("inner.png");
            fs::write(&inner, &data).unwrap();
            assert!(identifying_tags(&inner).is_empty());
            assert_eq!(pixels(&inner), pixels(&dir.path().join("inside.png")));
        }
    }
    assert!(
        identifying_tags(&cleaned).is_empty(),
        "{:?}",
        identifying_tags(&cleaned)
    );
    let left = findings(&inspect_json(&cleaned));
    assert!(left.is_empty(), "inspect still finds {left:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("remote template (canary.example.org)"),
        "{stderr}"
    );
}

/// Hostile files end as NOT CLEANED with the cap they hit, and nothing is
/// written: a decompression bomb, a document of 100,000 parts, XML nested
/// 100,000 deep, files cut in half. (Time and memory are measured in
/// docs/RELIABILITY.md, not asserted here.)
#[test]
fn hostile_files_end_as_not_cleaned() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let content_types =
        br#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    let rels = br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

    // 200 MiB of XML in about 200 KB.
    let bomb = dir.path().join("bomb.docx");
    {
        let mut zip = zip::ZipWriter::new(fs::File::create(&bomb).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("[Content_Types].xml", options).unwrap();
        zip.write_all(content_types).unwrap();
        zip.start_file("_rels/.rels", options).unwrap();
        zip.write_all(rels).unwrap();
        zip.start_file("word/document.xml", options).unwrap();
        let block = vec![b' '; 1 << 20];
        for _ in 0..200 {
            zip.write_all(&block).unwrap();
        }
        zip.finish().unwrap();
    }
    // 100,000 parts.
    let many = dir.path().join("many.docx");
    {
        let mut parts: Vec<(String, Vec<u8>)> = vec![
            ("[Content_Types].xml".into(), content_types.to_vec()),
            ("_rels/.rels".into(), rels.to_vec()),
            (
                "word/document.xml".into(),
                b"<w:document xmlns:w=\"x\"/>".to_vec(),
            ),
        ];
        parts.extend((0..100_000).map(|i| (format!("word/p{i}.xml"), Vec::new())));
        let refs: Vec<(&str, &[u8])> = parts
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        zip_of(&many, &refs);
    }
    // XML nested 100,000 deep.
    let deep = dir.path().join("deep.docx");
    let nested = format!(
        "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">{}{}</w:document>",
        "<w:body>".repeat(100_000),
        "</w:body>".repeat(100_000)
    );
    zip_of(
        &deep,
        &[
            ("[Content_Types].xml", content_types),
            ("_rels/.rels", rels),
            ("word/document.xml", nested.as_bytes()),
        ],
    );
    // Cut in half.
    let cut_docx = dir.path().join("cut.docx");
    let whole = fs::read(&deep).unwrap();
    fs::write(&cut_docx, &whole[..whole.len() / 2]).unwrap();
    let mut cut_pictures = Vec::new();
    for name in ["cut.png", "cut.gif", "cut.webp"] {
        let path = dir.path().join(name);
        convert(&["-size", "64x64", "gradient:red-blue"], &path);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        cut_pictures.push(path);
    }

    let clean = dir.path().join("clean");
    let out = run(Command::new(bin("sealdrop-open"))
        .args(["scrub", "-o"])
        .arg(&clean)
        .args([&bomb, &many, &deep, &cut_docx])
        .args(&cut_pictures));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_not_cleaned(
        &stderr,
        &[
            ("bomb.docx", "decompresses to more than"),
            ("many.docx", "100003 parts"),
            ("deep.docx", "nested deeper than"),
            ("cut.docx", "NOT CLEANED"),
            ("cut.png", "cut short"),
            ("cut.gif", "NOT CLEANED"),
            ("cut.webp", "cut short"),
        ],
    );
    let written: Vec<_> = fs::read_dir(&clean)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        written.is_empty(),
        "nothing is written for a file not cleaned: {written:?}"
    );
    // inspect says what it could not check, and does not fail.
    let out = run(Command::new(bin("sealdrop-open"))
        .arg("inspect")
        .args([&bomb, &deep]));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Not checked"), "{stdout}");
}

/// An OpenDocument text with what gives a source away: metadata (author,
/// last editor, dates, editing cycles, software, a custom property), the
/// printer's name, a thumbnail and a picture with GPS, a tracked deletion
/// and insertion with their author, an annotation, an author field, a
/// picture fetched from outside, and a macro.
fn planted_odt(dir: &Path) -> PathBuf {
    let picture = dir.join("odt-picture.png");
    convert(&["-size", "40x30", "gradient:red-blue"], &picture);
    plant(
        &picture,
        &[
            "-GPSLatitude=36.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1",
            "-GPSLongitudeRef=E",
        ],
    );
    let ns = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" office:version="1.3""#;
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {ns}><office:body><office:text>
<text:tracked-changes><text:changed-region text:id="ct1"><text:deletion><office:change-info><dc:creator>Hasan K.</dc:creator><dc:date>2026-11-02T06:11:00</dc:date></office:change-info><text:p>I saw it from Baron Street.</text:p></text:deletion></text:changed-region><text:changed-region text:id="ct2"><text:insertion><office:change-info><dc:creator>Hasan K.</dc:creator><dc:date>2026-11-02T06:10:00</dc:date></office:change-info></text:insertion></text:changed-region></text:tracked-changes>
<text:p>The convoy left at dawn. <text:change text:change-id="ct1"/><text:change-start text:change-id="ct2"/>Three trucks went north.<text:change-end text:change-id="ct2"/></text:p>
<text:p>The checkpoint moved.<office:annotation><dc:creator>Hasan K.</dc:creator><dc:date>2026-11-02T06:12:00</dc:date><text:p>My cousin told me this.</text:p></office:annotation></text:p>
<text:p>Written by <text:author-name>Hasan K.</text:author-name></text:p>
<text:p><draw:frame draw:name="p" svg:width="1cm" svg:height="1cm"><draw:image xlink:href="Pictures/p.png" xlink:type="simple"/></draw:frame><draw:frame draw:name="q" svg:width="1cm" svg:height="1cm"><draw:image xlink:href="https://canary.example.org/pixel.png" xlink:type="simple"/></draw:frame></text:p>
</office:text></office:body></office:document-content>"#
    );
    let meta = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {ns}><office:meta><meta:initial-creator>Hasan K.</meta:initial-creator><dc:creator>Hasan Kh.</dc:creator><meta:creation-date>2026-11-01T20:00:00</meta:creation-date><dc:date>2026-11-02T06:15:00</dc:date><meta:editing-cycles>7</meta:editing-cycles><meta:editing-duration>PT1H33M</meta:editing-duration><meta:generator>LibreOffice/7.4</meta:generator><meta:user-defined meta:name="SourceName">Hasan K.</meta:user-defined></office:meta></office:document-meta>"#
    );
    let settings = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-settings {ns}><office:settings><config:config-item-set config:name="ooo:configuration-settings"><config:config-item config:name="PrinterName" config:type="string">HP-Aleppo-Office</config:config-item></config:config-item-set></office:settings></office:document-settings>"#
    );
    // A footer with an author field, in the styles.
    let styles = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {ns} xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"><office:styles/><office:automatic-styles/><office:master-styles><style:master-page style:name="Standard"><style:footer><text:p><text:author-initials>HK</text:author-initials></text:p></style:footer></style:master-page></office:master-styles></office:document-styles>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="Pictures/p.png" manifest:media-type="image/png"/><manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/></manifest:manifest>"#;
    let picture = fs::read(&picture).unwrap();
    let path = dir.join("report.odt");
    zip_of(
        &path,
        &[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("META-INF/manifest.xml", manifest.as_bytes()),
            ("content.xml", content.as_bytes()),
            ("styles.xml", styles.as_bytes()),
            ("meta.xml", meta.as_bytes()),
            ("settings.xml", settings.as_bytes()),
            ("Pictures/p.png", &picture[..]),
            ("Thumbnails/thumbnail.png", &picture[..]),
            (
                "Basic/Standard/Module1.xml",
                b"<script:module>Sub AutoOpen: Shell(\"curl canary\")</script:module>",
            ),
        ],
    );
    path
}

#[test]
fn an_opendocument_text_is_inspected_and_cleaned_to_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let odt = planted_odt(dir.path());
    let found = findings(&inspect_json(&odt));
    assert_found(
        &found,
        &[
            "people author: Hasan K. [meta.xml]",
            "people last edited by: Hasan Kh. [meta.xml]",
            "times created: 2026-11-01T20:00:00",
            "history times saved: 7",
            "history editing time: PT1H33M",
            "device software: LibreOffice/7.4",
            "people custom property: SourceName: Hasan K.",
            "device printer: HP-Aleppo-Office [settings.xml]",
            "people author of a tracked change or annotation: Hasan K. [content.xml]",
            "history tracked changes: 2 recorded changes",
            "hidden annotation (comment)",
            "people author field in the text: Hasan K.",
            "people author field in the text: HK [styles.xml]",
            "active outside content, fetched when the document opens: canary.example.org",
            "active macros: Basic/Standard/Module1.xml",
            "hidden thumbnail",
            "location GPS position: 36.200000 N, 37.100000 E [Pictures/p.png: PNG eXIf]",
        ],
        "report.odt",
    );
    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&odt]);
    assert_success(&out, "sealdrop-open scrub report.odt");
    let cleaned = clean.join("report.odt");
    let text = pandoc_text(&cleaned);
    for kept in [
        "The convoy left at dawn.",
        "Three trucks went north.",
        "The checkpoint moved.",
    ] {
        assert!(text.contains(kept), "{kept} in {text}");
    }
    for gone in ["Baron", "cousin", "Hasan"] {
        assert!(!text.contains(gone), "{gone} in {text}");
    }
    let parts = unzip_all(&cleaned);
    assert_eq!(parts[0].0, "mimetype", "mimetype comes first");
    for (name, data) in &parts {
        assert!(
            !["meta.xml", "settings.xml"].contains(&name.as_str())
                && !name.starts_with("Thumbnails/")
                && !name.starts_with("Basic/"),
            "{name} was kept"
        );
        let text = String::from_utf8_lossy(data);
        for needle in [
            "Hasan",
            "canary.example.org",
            "Baron",
            "cousin",
            "HP-Aleppo",
        ] {
            assert!(!text.contains(needle), "{name} still holds {needle}");
        }
    }
    assert!(
        identifying_tags(&cleaned).is_empty(),
        "{:?}",
        identifying_tags(&cleaned)
    );
    let left = findings(&inspect_json(&cleaned));
    assert!(left.is_empty(), "inspect still finds {left:?}");
}

/// An ID3v2.3 frame.
fn id3_frame(id: &str, body: &[u8]) -> Vec<u8> {
    let mut frame = id.as_bytes().to_vec();
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(body);
    frame
}

/// An MP3 built by hand: 40 silent MPEG-1 Layer III frames (128 kbit/s,
/// 44.1 kHz), an ID3v2.3 tag before them (title, artist, comment, a
/// user-defined GPS text, the encoder, a date, a private frame, a cover
/// picture with its own GPS) and an ID3v1 tag after them.
fn planted_mp3(dir: &Path) -> (PathBuf, Vec<u8>) {
    let cover = dir.join("cover.jpg");
    convert(&["-size", "40x30", "gradient:red-blue"], &cover);
    plant(
        &cover,
        &[
            "-GPSLatitude=36.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1",
            "-GPSLongitudeRef=E",
        ],
    );
    let mut frames = Vec::new();
    for _ in 0..40 {
        let mut frame = vec![0u8; 417];
        frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        frames.extend(frame);
    }
    let mut apic = b"\0image/jpeg\0\x03cover\0".to_vec();
    apic.extend(fs::read(&cover).unwrap());
    let mut body = Vec::new();
    body.extend(id3_frame("TIT2", b"\0Checkpoint recording"));
    body.extend(id3_frame("TPE1", b"\0Hasan K."));
    body.extend(id3_frame("COMM", b"\0eng\0recorded from the roof"));
    body.extend(id3_frame("TXXX", b"\0GPS\x0036.2021,37.1343"));
    body.extend(id3_frame("TSSE", b"\0Voice Recorder 3.2 (SM-A515F)"));
    body.extend(id3_frame("TYER", b"\x002026"));
    body.extend(id3_frame("PRIV", b"com.example.owner\0hasan@example.org"));
    body.extend(id3_frame("APIC", &apic));
    let size = body.len();
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    tag.extend([
        (size >> 21) as u8 & 0x7F,
        (size >> 14) as u8 & 0x7F,
        (size >> 7) as u8 & 0x7F,
        size as u8 & 0x7F,
    ]);
    tag.extend(body);
    let mut v1 = vec![0u8; 128];
    v1[..3].copy_from_slice(b"TAG");
    v1[3..14].copy_from_slice(b"Checkpoints");
    v1[33..41].copy_from_slice(b"Hasan K.");
    v1[93..97].copy_from_slice(b"2026");
    let mut file = tag;
    file.extend(&frames);
    file.extend(v1);
    let path = dir.join("recording.mp3");
    fs::write(&path, file).unwrap();
    (path, frames)
}

#[test]
fn an_mp3_is_inspected_and_cleaned_to_its_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (mp3, frames) = planted_mp3(dir.path());
    assert!(
        tags_of(&mp3)
            .iter()
            .any(|(k, v)| k.starts_with("ID3") && v.contains("Hasan")),
        "exiftool reads the tags"
    );
    let found = findings(&inspect_json(&mp3));
    assert_found(
        &found,
        &[
            "people artist, author or owner: TPE1: Hasan K. [ID3v2.3]",
            "people text written into the file: COMM: eng / recorded from the roof",
            "people user-defined text: TXXX: GPS / 36.2021,37.1343",
            "device encoder: TSSE: Voice Recorder 3.2 (SM-A515F)",
            "times date: TYER: 2026",
            "hidden private data: PRIV",
            "hidden attached picture",
            "location GPS position: 36.200000 N, 37.100000 E [ID3v2.3 APIC: EXIF]",
            "people artist: Hasan K. [ID3v1]",
        ],
        "recording.mp3",
    );
    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&mp3]);
    assert_success(&out, "sealdrop-open scrub recording.mp3");
    let cleaned = clean.join("recording.mp3");
    assert_eq!(
        fs::read(&cleaned).unwrap(),
        frames,
        "the audio frames, and only them"
    );
    let left: Vec<_> = tags_of(&cleaned)
        .into_iter()
        .filter(|(k, _)| k.starts_with("ID3"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(findings(&inspect_json(&cleaned)).is_empty());
    // Data hidden between frames is refused.
    let mut hidden = fs::read(&mp3).unwrap();
    let at = hidden.len() - 128 - 417 * 20;
    hidden.splice(at..at, b"secret".iter().copied());
    let smuggled = dir.path().join("smuggled.mp3");
    fs::write(&smuggled, hidden).unwrap();
    let out = scrub_into(&clean, &[&smuggled]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an audio frame"));
}

/// The decoded frames of a video, as ffmpeg hashes them.
fn decoded_frames(video: &Path) -> String {
    let out = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-f", "framemd5", "-"]));
    assert_success(&out, "ffmpeg -f framemd5");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_mp4_is_inspected_and_cleaned_without_touching_its_frames() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("clip.mp4");
    let out = run(Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=64x48:rate=5",
            "-c:v",
            "mpeg4",
        ])
        .args([
            "-metadata",
            "location=+36.2021+037.1343/",
            "-metadata",
            "artist=Hasan K.",
        ])
        .args([
            "-metadata",
            "comment=from the roof",
            "-metadata",
            "creation_time=2026-11-02T06:10:00Z",
        ])
        .arg(&video));
    assert_success(&out, "ffmpeg");
    plant(
        &video,
        &[
            "-Keys:GPSCoordinates=36.2021, 37.1343",
            "-Keys:Make=Apple",
            "-Keys:Model=iPhone 12",
            "-XMP:Creator=Hasan K.",
            "-UserData:Make=Apple",
        ],
    );
    let found = findings(&inspect_json(&video));
    assert_found(
        &found,
        &[
            "location place of recording: 36.20209, 37.13429 [udta]",
            "location metadata item: com.apple.quicktime.location.ISO6709: +36.2021+037.1343/ [meta]",
            "device metadata item: com.apple.quicktime.model: iPhone 12",
            "people metadata item: ©ART: Hasan K.",
            "people metadata item: ©cmt: from the roof",
            "people person or organization: creator: Hasan K. [XMP (uuid box)]",
            "times created: 2026-11-02T06:10:00Z [mvhd]",
            "times created: 2026-11-02T06:10:00Z [tkhd]",
        ],
        "clip.mp4",
    );
    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&video]);
    assert_success(&out, "sealdrop-open scrub clip.mp4");
    let cleaned = clean.join("clip.mp4");
    assert_eq!(
        decoded_frames(&cleaned),
        decoded_frames(&video),
        "every decoded frame is the original's"
    );
    assert_eq!(
        fs::metadata(&cleaned).unwrap().len(),
        fs::metadata(&video).unwrap().len(),
        "boxes stay where they were"
    );
    // Times are zero ("0000:00:00" to exiftool, which is no date at all).
    let left: Vec<String> = identifying_tags(&cleaned)
        .into_iter()
        .filter(|t| !t.ends_with("=\"0000:00:00 00:00:00\""))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let text = String::from_utf8_lossy(&fs::read(&cleaned).unwrap()).into_owned();
    for needle in ["Hasan", "iPhone", "36.2021", "roof", "Lavf"] {
        assert!(!text.contains(needle), "{needle} is still in the file");
    }
    let left = findings(&inspect_json(&cleaned));
    assert!(left.is_empty(), "inspect still finds {left:?}");
}

/// A PDF assembled from `objects` (numbered from 1), with its
/// cross-reference table and a trailer holding `trailer` (the root is 1).
fn pdf_of(objects: &[Vec<u8>], trailer: &str) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend(object);
        pdf.extend(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in &offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// A stream object: its dictionary's entries, then its bytes.
fn pdf_stream(entries: &str, data: &[u8]) -> Vec<u8> {
    [
        format!("<< {entries} /Length {} >>\nstream\n", data.len()).as_bytes(),
        data,
        b"\nendstream",
    ]
    .concat()
}

/// A PDF written by hand: a page of text and a photo (with GPS in its EXIF),
/// an Info dictionary naming its author, XMP, an annotation with its author,
/// a link to a canary host, JavaScript run on opening, an embedded file, a
/// compressed stream holding a dictionary, then an incremental update that
/// changes the author (the first one stays in the file).
fn planted_pdf(dir: &Path, photo: &Path) -> PathBuf {
    use std::io::Write as _;
    let mut compressed =
        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    compressed
        .write_all(b"<< /Producer (Hidden Producer 2.1) >>")
        .unwrap();
    let compressed = compressed.finish().unwrap();
    let xmp = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmp:CreatorTool=\"Word for Android\"/></rdf:RDF></x:xmpmeta>";
    let content = b"BT /F1 12 Tf 72 720 Td (The convoy left at dawn.) Tj ET q 320 0 0 240 72 400 cm /Im1 Do Q";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /OpenAction 7 0 R /Names << /EmbeddedFiles << /Names [(notes.txt) 8 0 R] >> >> >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << /Im1 14 0 R >> >> /Annots [9 0 R 10 0 R] /PieceInfo << /Word << /Private (Hasan's laptop) >> >> >>".to_vec(),
        pdf_stream("", content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        pdf_stream("/Type /Metadata /Subtype /XML", xmp),
        b"<< /S /JavaScript /JS (app.launchURL\\(\"https://canary.example.org/pdf\"\\);) >>".to_vec(),
        b"<< /Type /Filespec /F (notes.txt) /EF << /F 11 0 R >> >>".to_vec(),
        b"<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /T (Hasan K.) /Contents (check this) >>".to_vec(),
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://canary.example.org/track) >> >>".to_vec(),
        pdf_stream("/Type /EmbeddedFile /Filter /FlateDecode", &compressed),
        b"<< /Author (Hasan K.) /Creator (Microsoft Word) /CreationDate (D:20261102061000+03'00') >>".to_vec(),
        b"<< /Metadata 6 0 R >>".to_vec(),
        pdf_stream(
            "/Type /XObject /Subtype /Image /Width 320 /Height 240 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Metadata 6 0 R",
            &fs::read(photo).unwrap(),
        ),
    ];
    let mut pdf = pdf_of(&objects, "/Info 12 0 R");
    let xref = memchr::memmem::rfind(&pdf, b"\nxref\n").unwrap() + 1;
    // The incremental update: a new Info, the old one still above it.
    let update = pdf.len();
    pdf.extend(b"13 0 obj\n<< /Author (Press Desk) /ModDate (D:20261103090000Z) >>\nendobj\n");
    let xref2 = pdf.len();
    pdf.extend(format!("xref\n13 1\n{update:010} 00000 n \ntrailer\n<< /Size 15 /Root 1 0 R /Info 13 0 R /Prev {xref} >>\nstartxref\n{xref2}\n%%EOF\n").as_bytes());
    let path = dir.join("leak.pdf");
    fs::write(&path, pdf).unwrap();
    path
}

/// A one-page PDF showing `photo` as an image XObject whose `/Filter` is
/// written `filter` (object 6 is the name `/DCTDecode`, for references).
fn pdf_with_picture(dir: &Path, photo: &Path, name: &str, filter: &str) -> PathBuf {
    let content = b"q 320 0 0 240 72 400 cm /Im1 Do Q";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>".to_vec(),
        pdf_stream("", content),
        pdf_stream(
            &format!("/Type /XObject /Subtype /Image /Width 320 /Height 240 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter {filter}"),
            &fs::read(photo).unwrap(),
        ),
        b"/DCTDecode".to_vec(),
    ];
    let path = dir.join(name);
    fs::write(&path, pdf_of(&objects, "")).unwrap();
    path
}

/// The pictures `pdfimages -all` (poppler) takes out of a PDF, as files.
fn pdf_pictures(pdf: &Path) -> Vec<PathBuf> {
    let dir = pdf.with_extension("pictures");
    fs::create_dir_all(&dir).unwrap();
    assert_success(
        &run(Command::new("pdfimages")
            .arg("-all")
            .arg(pdf)
            .arg(dir.join("p"))),
        "pdfimages -all",
    );
    let mut pictures: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pictures.sort();
    pictures
}

/// Issue 33, finding 2: a picture is a JPEG however its filter is written
/// (an indirect `/Filter`, the abbreviation `/DCT`, an array of either), as
/// poppler, MuPDF and pdf.js read it; the cleaner must see it too. Oracle:
/// the picture poppler extracts from each cleaned file carries none of the
/// planted tags.
#[test]
fn pdf_pictures_are_cleaned_whatever_their_filter_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let photo = corpus(dir.path()).remove(0);
    assert!(
        !identifying_tags(&photo).is_empty(),
        "the corpus photo carries tags"
    );
    for (name, filter) in [
        ("indirect.pdf", "6 0 R"),
        ("abbreviated.pdf", "/DCT"),
        ("array-abbreviated.pdf", "[/DCT]"),
        ("array-indirect.pdf", "[6 0 R]"),
    ] {
        let pdf = pdf_with_picture(dir.path(), &photo, name, filter);
        // Poppler takes the photo out of the original with its tags.
        let before = pdf_pictures(&pdf);
        assert_eq!(before.len(), 1, "{name}");
        assert!(
            !identifying_tags(&before[0]).is_empty(),
            "{name}: the original's picture has tags"
        );
        // `inspect` says what the picture carries, whatever its filter is
        // called.
        let found = findings(&inspect_json(&pdf));
        assert_found(
            &found,
            &["Canon EOS 5D", "0420102345", "Hasan K."],
            &format!("{name}: inspect of the original"),
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("[picture 1 inside the PDF: EXIF]")),
            "{name}: {found:?}"
        );
        let clean = dir.path().join(format!("clean-{name}"));
        let out = scrub_into(&clean, &[&pdf]);
        assert_success(&out, &format!("scrub {name}"));
        let cleaned = clean.join(name);
        assert_qpdf_finds_no_error(&cleaned);
        let after = pdf_pictures(&cleaned);
        assert_eq!(after.len(), 1, "{name}: the picture is still drawn");
        let left = identifying_tags(&after[0]);
        assert!(
            left.is_empty(),
            "{name}: {left:?} still in the picture poppler extracts"
        );
        let found_after = findings(&inspect_json(&cleaned));
        assert!(
            !found_after
                .iter()
                .any(|f| f.contains("inside the PDF: EXIF")
                    && (f.contains("Canon") || f.contains("0420102345"))),
            "{name}: {found_after:?}"
        );
        assert_eq!(
            pixels(&before[0]),
            pixels(&after[0]),
            "{name}: the same picture"
        );
    }
}

/// The text poppler's `pdftotext` reads from a PDF.
fn pdf_text(pdf: &Path) -> String {
    let out = run(Command::new("pdftotext").arg(pdf).arg("-"));
    assert_success(&out, "pdftotext");
    String::from_utf8(out.stdout).unwrap()
}

/// ImageMagick's pixel signature of each page as poppler draws it.
fn pdf_page_pixels(pdf: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    assert_success(
        &run(Command::new("pdftoppm")
            .args(["-r", "50", "-png"])
            .arg(pdf)
            .arg(&prefix)),
        "pdftoppm",
    );
    let mut pages: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    pages.iter().map(|page| pixels(page)).collect()
}

/// qpdf, an independent PDF library, finds the structure sound.
fn assert_qpdf_finds_no_error(pdf: &Path) {
    let out = run(Command::new("qpdf").arg("--check").arg(pdf));
    assert_success(&out, &format!("qpdf --check {}", pdf.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("No syntax or stream encoding errors"),
        "{stdout}"
    );
}

/// What a cleaned PDF must not hold, in any byte: the planted people,
/// hosts, software and dates, and the photo's EXIF (a JPEG inside keeps a
/// one-tag EXIF block with its orientation, as a cleaned photo does).
fn assert_no_planted_bytes(pdf: &Path, needles: &[&str]) {
    let bytes = fs::read(pdf).unwrap();
    for needle in needles {
        assert!(
            memchr::memmem::find(&bytes, needle.as_bytes()).is_none(),
            "{needle} is still in {}",
            pdf.display()
        );
    }
}

#[test]
fn a_pdf_is_inspected_with_its_earlier_versions_and_rebuilt_from_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    let photo = corpus(dir.path()).remove(0);
    let pdf = planted_pdf(dir.path(), &photo);
    // exiftool reads the document as valid, the update's author first.
    let tags = tags_of(&pdf);
    assert!(
        tags.iter()
            .any(|(k, v)| k.ends_with(":Author") && v.contains("Press Desk")),
        "{tags:?}"
    );
    let found = findings(&inspect_json(&pdf));
    assert_found(
        &found,
        &[
            "history incremental updates: 1: earlier versions of the document are still inside it",
            "people author: Hasan K. [PDF]",
            "people author: Press Desk [PDF]",
            "device software that made the original: Microsoft Word",
            "times created: D:20261102061000+03'00'",
            "times modified: D:20261103090000Z",
            "device software: CreatorTool: Word for Android [PDF, XMP]",
            "people annotation or form field author: Hasan K.",
            "active link: canary.example.org",
            "active JavaScript",
            "active action on opening",
            "hidden embedded file",
            "hidden application data",
            "device software that made the PDF: Hidden Producer 2.1 [PDF, inside a compressed stream]",
        ],
        "leak.pdf",
    );

    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&pdf]);
    assert_success(&out, "sealdrop-open scrub leak.pdf");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for removed in [
        "document information",
        "XMP metadata",
        "1 earlier versions",
        "actions run on opening",
        "embedded files",
        "annotations (comments, links, form fields) on 1 pages",
        "metadata of 1 JPEG pictures inside",
        "PieceInfo",
    ] {
        assert!(stderr.contains(removed), "{removed}: {stderr}");
    }
    let cleaned = clean.join("leak.pdf");
    assert_qpdf_finds_no_error(&cleaned);
    assert_eq!(pdf_text(&cleaned), pdf_text(&pdf));
    assert_eq!(pdf_text(&cleaned).trim(), "The convoy left at dawn.");
    let left = identifying_tags(&cleaned);
    assert!(left.is_empty(), "exiftool still finds {left:?}");
    assert_no_planted_bytes(
        &cleaned,
        &[
            "Hasan",
            "Press Desk",
            "Microsoft",
            "Word for Android",
            "canary",
            "notes.txt",
            "Hidden Producer",
            "2026",
            "JavaScript",
            "Canon",
            "0420102345",
            "Aleppo",
            "roof",
            "Lightroom",
            "ThumbCam",
        ],
    );
    let left = findings(&inspect_json(&cleaned));
    assert!(left.is_empty(), "inspect still finds {left:?}");
    // Cleaning again changes nothing.
    let again = dir.path().join("again");
    assert_success(&scrub_into(&again, &[&cleaned]), "scrub a cleaned PDF");
    assert_eq!(
        fs::read(again.join("leak.pdf")).unwrap(),
        fs::read(&cleaned).unwrap()
    );
}

/// A PDF as people make them: Chromium prints a page with a photo (GPS and
/// camera in its EXIF, which Chromium keeps), a link, tags and its own
/// Info; qpdf rewrites it with object streams (dictionaries compressed
/// inside other objects) and a file identifier. Both come out drawing the
/// same pixels and text, with nothing left for exiftool.
#[test]
fn printed_pdfs_keep_their_pages_exactly_and_lose_their_traces() {
    let dir = tempfile::tempdir().unwrap();
    // Upright: Chromium re-encodes a photo it has to turn, EXIF and all.
    let photo = dir.path().join("photo.jpg");
    convert(&["-seed", "3", "-size", "240x160", "plasma:"], &photo);
    plant(
        &photo,
        &[
            "-Make=Canon",
            "-Model=Canon EOS 5D",
            "-Artist=Hasan K.",
            "-GPSLatitude=36.2021",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=37.1343",
            "-GPSLongitudeRef=E",
        ],
    );
    let printed = printed_pdf(
        dir.path(),
        &format!(
            "<!doctype html><meta charset=utf-8><title>Convoy report</title>\
             <h1>The convoy left at dawn</h1><p>Forty trucks, heading north.</p>\
             <img src=\"{}\"><p><a href=\"https://canary.example.org/x\">source</a></p>",
            photo.file_name().unwrap().to_str().unwrap()
        ),
        "printed",
    );
    assert!(
        memchr::memmem::find(&fs::read(&printed).unwrap(), b"Canon EOS").is_some(),
        "Chromium no longer keeps a photo's EXIF: the corpus lost its point"
    );
    let packed = dir.path().join("packed.pdf");
    assert_success(
        &run(Command::new("qpdf")
            .arg("--object-streams=generate")
            .arg(&printed)
            .arg(&packed)),
        "qpdf --object-streams=generate",
    );
    let clean = dir.path().join("clean");
    assert_success(&scrub_into(&clean, &[&printed, &packed]), "scrub");
    for original in [&printed, &packed] {
        let cleaned = clean.join(original.file_name().unwrap());
        assert_qpdf_finds_no_error(&cleaned);
        assert_eq!(pdf_text(&cleaned), pdf_text(original));
        assert_eq!(pdf_page_pixels(&cleaned), pdf_page_pixels(original));
        let left = identifying_tags(&cleaned);
        assert!(left.is_empty(), "exiftool still finds {left:?}");
        assert_no_planted_bytes(
            &cleaned,
            &[
                "Canon",
                "Hasan",
                "Chrome",
                "Skia",
                "canary",
                "Convoy report",
            ],
        );
        let left = findings(&inspect_json(&cleaned));
        assert!(left.is_empty(), "inspect still finds {left:?}");
    }
}

/// Hostile PDFs end as NOT CLEANED with the cap or fault they hit, and
/// nothing is written; a document whose resources refer to themselves is
/// cleaned without looping.
#[test]
fn hostile_pdfs_end_as_not_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let page = |extra: &str| {
        format!("<< /Type /Page /Parent 2 0 R /Contents 4 0 R {extra} >>").into_bytes()
    };
    let simple = |pages: &str, page_extra: &str, content: &[u8]| {
        vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            pages.as_bytes().to_vec(),
            page(page_extra),
            pdf_stream("", content),
        ]
    };
    let write = |name: &str, pdf: Vec<u8>| {
        let path = dir.path().join(name);
        fs::write(&path, pdf).unwrap();
        path
    };
    let text = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET";
    let looped = write(
        "loop.pdf",
        pdf_of(
            &simple("<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>", "", text),
            "",
        ),
    );
    let mut deep_objects = simple(
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "/X 5 0 R",
        text,
    );
    deep_objects.push([b"[".repeat(100_000), b"]".repeat(100_000)].concat());
    let deep = write("deep.pdf", pdf_of(&deep_objects, ""));
    let mut many_objects = simple("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "", text);
    many_objects.push(["[", &"0 ".repeat(5_000_001), "]"].concat().into_bytes());
    let many = write("many.pdf", pdf_of(&many_objects, ""));
    let encrypted = write(
        "locked.pdf",
        pdf_of(
            &simple("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "", text),
            "/Encrypt << /Filter /Standard /V 2 >>",
        ),
    );
    let inline = write(
        "inline.pdf",
        pdf_of(
            &simple(
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "",
                b"q 10 0 0 10 0 0 cm BI /W 1 /H 1 /CS /RGB /BPC 8 /F /DCT ID \xff\xd8\xff\xe1 EI Q",
            ),
            "",
        ),
    );
    // The same inline JPEG in a content stream that calls itself a picture
    // (readers ignore that), with its filter's name escaped, in an ASCII
    // encoding, and with its filter given twice (`/F`).
    let inline_jpeg =
        b"q 10 0 0 10 0 0 cm BI /W 1 /H 1 /CS /RGB /BPC 8 /F /DCT ID \xff\xd8\xff\xe1 EI Q";
    let disguised = |name: &str, entries: &str, content: &[u8]| {
        let mut objects = simple("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "", b"");
        objects[3] = pdf_stream(entries, content);
        write(name, pdf_of(&objects, ""))
    };
    let subtype = disguised(
        "subtype.pdf",
        "/Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceRGB /BitsPerComponent 8",
        inline_jpeg,
    );
    let escaped = disguised(
        "escaped.pdf",
        "",
        b"q BI /W 1 /H 1 /CS /RGB /BPC 8 /F /D#43T ID \xff\xd8\xff\xe1 EI Q",
    );
    let hex: String = inline_jpeg.iter().map(|b| format!("{b:02x}")).collect();
    let ascii = disguised("ascii.pdf", "/Filter /AHx", format!("{hex}>").as_bytes());
    let twice = disguised("twice.pdf", "/F /DCT", inline_jpeg);
    // Behind a PNG predictor (each row its "Sub" difference) the bytes
    // `/DCT` appear only once the predictor is undone, as readers undo it.
    let predicted = {
        use std::io::Write as _;
        let columns = 16;
        let mut rows = Vec::new();
        for line in inline_jpeg.chunks(columns) {
            rows.push(1u8);
            rows.extend(line.iter().enumerate().map(|(i, b)| {
                if i == 0 {
                    *b
                } else {
                    b.wrapping_sub(line[i - 1])
                }
            }));
        }
        assert!(
            memchr::memmem::find(&rows, b"/DCT").is_none(),
            "the predictor hides it"
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&rows).unwrap();
        disguised(
            "predicted.pdf",
            &format!("/Filter /FlateDecode /DecodeParms << /Predictor 11 /Columns {columns} >>"),
            &z.finish().unwrap(),
        )
    };
    let whole = pdf_of(
        &simple("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "", text),
        "",
    );
    let cut = write("cut.pdf", whole[..whole.len() / 2].to_vec());
    // A form that draws itself, and a Length that names itself: loops in
    // what the pages reach, which the cleaner copies once each.
    let mut selfish = simple(
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "/Resources << /XObject << /Fm1 5 0 R >> >>",
        b"/Fm1 Do",
    );
    selfish.push(pdf_stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /Fm1 5 0 R >> >>",
        b"/Fm1 Do",
    ));
    selfish.push(b"6 0 R".to_vec());
    let selfish = write("selfish.pdf", pdf_of(&selfish, ""));

    let clean = dir.path().join("clean");
    let out = scrub_into(
        &clean,
        &[
            &looped, &deep, &many, &encrypted, &inline, &cut, &subtype, &escaped, &ascii, &twice,
            &predicted,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_not_cleaned(
        &stderr,
        &[
            ("loop.pdf", "loops back on itself"),
            ("deep.pdf", "nested more than 64 deep"),
            ("many.pdf", "more than 5000000 values"),
            ("locked.pdf", "encrypted PDF"),
            ("inline.pdf", "JPEG picture drawn inline"),
            ("cut.pdf", "without"),
            ("subtype.pdf", "JPEG picture drawn inline"),
            ("escaped.pdf", "JPEG picture drawn inline"),
            ("ascii.pdf", "does not read"),
            ("twice.pdf", "/F or /DP"),
            ("predicted.pdf", "JPEG picture drawn inline"),
        ],
    );
    assert!(!clean.exists() || fs::read_dir(&clean).unwrap().next().is_none());
    assert_success(&scrub_into(&clean, &[&selfish]), "scrub selfish.pdf");
    assert_qpdf_finds_no_error(&clean.join("selfish.pdf"));
}

/// openpyxl and python-pptx (tests/interop/python/, installed by
/// scripts/test.sh): they write the planted workbook and presentation, and
/// read what a cleaned one still shows.
fn office(args: &[&std::ffi::OsStr]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python");
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test.sh installs openpyxl and python-pptx there",
        python.display()
    );
    let out = run(Command::new(python).arg(root.join("office.py")).args(args));
    assert_success(&out, &format!("office.py {args:?}"));
    String::from_utf8(out.stdout).unwrap()
}

fn office_read(file: &Path) -> serde_json::Value {
    serde_json::from_str(&office(&["read".as_ref(), file.as_os_str()])).unwrap()
}

/// A photo with GPS and a camera model, to go inside documents.
fn located_photo(dir: &Path) -> PathBuf {
    let photo = dir.join("inside.jpg");
    convert(&["-seed", "5", "-size", "160x120", "plasma:"], &photo);
    plant(
        &photo,
        &[
            "-Model=Canon EOS 5D",
            "-GPSLatitude=36.2021",
            "-GPSLatitudeRef=N",
        ],
    );
    photo
}

/// No part of a cleaned package holds any of `needles`.
fn assert_no_part_holds(file: &Path, needles: &[&str]) {
    for (name, data) in unzip_all(file) {
        for needle in needles {
            assert!(
                memchr::memmem::find(&data, needle.as_bytes()).is_none(),
                "{needle} is still in {name}"
            );
        }
    }
}

#[test]
fn a_workbook_is_inspected_and_cleaned_to_its_cells() {
    let dir = tempfile::tempdir().unwrap();
    let photo = located_photo(dir.path());
    let book = dir.path().join("figures.xlsx");
    office(&["make-xlsx".as_ref(), book.as_os_str(), photo.as_os_str()]);
    let found = findings(&inspect_json(&book));
    assert_found(
        &found,
        &[
            "people author: Hasan K.",
            "people last edited by: Hasan Kh.",
            "people comment by: Hasan K.",
            "people reserved by: Hasan K.",
            "device folder the workbook was saved in: C:\\Users\\Hasan\\Documents\\Leaks\\",
            "device printer settings: HP LaserJet Newsroom 4F",
            "history revision id: {8F3A1C2B-1111",
            "history hidden sheet: Checkpoints (hidden)",
            "active link to another workbook",
            "file:///C:/Users/Hasan/Documents/sources.xlsx",
            "active link (opens only when clicked): canary.example.org",
            "device camera model: Canon EOS 5D [xl/media/image1.jpeg: EXIF]",
            "location GPS",
        ],
        "figures.xlsx",
    );
    let clean = dir.path().join("clean");
    let out = scrub_into(&clean, &[&book]);
    assert_success(&out, "scrub figures.xlsx");
    let cleaned = clean.join("figures.xlsx");
    // openpyxl reads the same sheets, states, cells, formulas, pictures and
    // links; the comment and the people are gone.
    let (before, after) = (office_read(&book), office_read(&cleaned));
    let mut expected = before["sheets"].clone();
    expected[0]["comments"] = serde_json::json!([]);
    assert_eq!(after["sheets"], expected);
    assert_eq!(after["sheets"][1]["state"], "hidden");
    assert_eq!(after["sheets"][0]["images"], 1);
    assert_ne!(after["creator"], "Hasan K.");
    assert!(after["last_modified_by"].is_null());
    assert_no_part_holds(
        &cleaned,
        &[
            "Hasan",
            "LaserJet",
            "L\0a\0s\0e\0r",
            "8F3A1C2B",
            "Users",
            "sources.xlsx",
            "cousin",
            "Canon",
            "revIDLastSave",
        ],
    );
    let left = identifying_tags(&cleaned);
    assert!(left.is_empty(), "exiftool still finds {left:?}");
    // What stays on purpose: the hidden sheet (content) and the link.
    let left = findings(&inspect_json(&cleaned));
    assert_eq!(
        left,
        [
            "history hidden sheet: Checkpoints (hidden) [xl/workbook.xml]",
            "active link (opens only when clicked): canary.example.org [xl/worksheets/_rels/sheet1.xml.rels]",
        ]
    );
    let again = dir.path().join("again");
    assert_success(&scrub_into(&again, &[&cleaned]), "scrub a cleaned workbook");
    assert_eq!(unzip_all(&again.join("figures.xlsx")), unzip_all(&cleaned));

    // A formula that fetches from outside when the workbook recalculates.
    let fetching = dir.path().join("fetching.xlsx");
    office(&[
        "make-xlsx".as_ref(),
        fetching.as_os_str(),
        photo.as_os_str(),
        "--fetching".as_ref(),
    ]);
    let found = findings(&inspect_json(&fetching));
    assert_found(
        &found,
        &["active formula that fetches from outside when it recalculates: WEBSERVICE(\"https://canary.example.org/w\")"],
        "fetching.xlsx",
    );
    let out = scrub_into(&clean, &[&fetching]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NOT CLEANED") && stderr.contains("fetches from outside"),
        "{stderr}"
    );
    assert!(!clean.join("fetching.xlsx").exists());
}

#[test]
fn a_presentation_is_inspected_and_cleaned_to_its_slides() {
    let dir = tempfile::tempdir().unwrap();
    let photo = located_photo(dir.path());
    let deck = dir.path().join("briefing.pptx");
    office(&["make-pptx".as_ref(), deck.as_os_str(), photo.as_os_str()]);
    let found = findings(&inspect_json(&deck));
    assert_found(
        &found,
        &[
            "people author: Hasan K.",
            "people last edited by: Hasan Kh.",
            "people text written into the properties: for the Aleppo desk",
            "people person who commented: Hasan K.",
            "hidden speaker notes: 1 slides have notes",
            "hidden thumbnail",
            "hidden tag: AUTHOR_MACHINE: HASAN-LAPTOP",
            "history hidden slide: ppt/slides/slide2.xml",
            "device printer settings",
            "active link (opens only when clicked): canary.example.org",
            "device camera model: Canon EOS 5D [ppt/media/image1.jpg: EXIF]",
            // python-pptx, like PowerPoint, describes a picture by its file name.
            "hidden a picture's original file name: inside.jpg [ppt/slides/slide1.xml]",
        ],
        "briefing.pptx",
    );
    let clean = dir.path().join("clean");
    assert_success(&scrub_into(&clean, &[&deck]), "scrub briefing.pptx");
    let cleaned = clean.join("briefing.pptx");
    // python-pptx reads the same slides (texts, pictures, links, the hidden
    // one still hidden); the notes and the people are gone.
    let (before, after) = (office_read(&deck), office_read(&cleaned));
    let mut expected = before["slides"].clone();
    expected[0]["notes"] = serde_json::Value::Null;
    assert_eq!(after["slides"], expected);
    assert_eq!(after["author"], "");
    assert_eq!(after["comments"], "");
    assert_no_part_holds(
        &cleaned,
        &[
            "Hasan",
            "Baron",
            "Aleppo",
            "HASAN-LAPTOP",
            "2840017715",
            "cousin",
            "Canon",
            "creationId",
            "inside.jpg",
        ],
    );
    let left = identifying_tags(&cleaned);
    assert!(left.is_empty(), "exiftool still finds {left:?}");
    let names: Vec<String> = unzip_all(&cleaned).into_iter().map(|(n, _)| n).collect();
    for gone in [
        "docProps/",
        "ppt/notesSlides/",
        "ppt/notesMasters/",
        "ppt/comments/",
        "ppt/commentAuthors.xml",
        "ppt/tags/",
        "ppt/printerSettings/",
    ] {
        assert!(
            !names.iter().any(|n| n.starts_with(gone)),
            "{gone} is still in {names:?}"
        );
    }
    let left = findings(&inspect_json(&cleaned));
    assert_eq!(
        left,
        [
            "active link (opens only when clicked): canary.example.org [ppt/slides/_rels/slide1.xml.rels]",
            "history hidden slide: ppt/slides/slide2.xml [ppt/slides/slide2.xml]",
        ]
    );
    let again = dir.path().join("again");
    assert_success(
        &scrub_into(&again, &[&cleaned]),
        "scrub a cleaned presentation",
    );
    assert_eq!(unzip_all(&again.join("briefing.pptx")), unzip_all(&cleaned));
}

/// The words of a text, letters and digits only, in order.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A PDF Chromium prints from `html` (fonts with `/ToUnicode` maps, as
/// every browser and word processor writes them).
fn printed_pdf(dir: &Path, html: &str, name: &str) -> PathBuf {
    let page = dir.join(format!("{name}.html"));
    fs::write(&page, html).unwrap();
    let printed = dir.join(format!("{name}.pdf"));
    assert_success(
        &run(Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("--print-to-pdf={}", printed.display()))
            .arg(format!("file://{}", page.display()))),
        "chromium --print-to-pdf",
    );
    printed
}

/// The desktop inbox searches the words the sandbox reads from cleaned
/// copies: the same words, in the same order, as pandoc reads from the
/// Word and OpenDocument files and poppler's `pdftotext` from a printed
/// PDF (English and Arabic); what cannot be read is said.
#[test]
fn words_for_search_are_read_in_the_sandbox_as_independent_readers_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = crate::sandbox::sandbox();
    let cleaned = |path: &Path| -> PathBuf {
        let out = dir.path().join(format!(
            "cleaned-{}",
            path.file_name().unwrap().to_str().unwrap()
        ));
        let scrubbed = sandbox
            .scrub(&fs::read(path).unwrap())
            .unwrap()
            .expect("cleaned");
        fs::write(&out, scrubbed.data).unwrap();
        out
    };
    for (document, format) in [
        (planted_docx(dir.path()), "docx"),
        (planted_odt(dir.path()), "odt"),
    ] {
        let document = cleaned(&document);
        let words = sandbox
            .words(&fs::read(&document).unwrap(), 1 << 20)
            .unwrap()
            .expect("words read");
        let out = run(Command::new("pandoc")
            .args(["-f", format, "-t", "plain"])
            .arg(&document));
        assert_success(&out, "pandoc");
        let pandoc = String::from_utf8(out.stdout).unwrap();
        assert_eq!(words_of(&words.text), words_of(&pandoc), "{format}");
        assert!(words_of(&words.text).contains(&"convoy".to_owned()));
        assert!(words.missed.is_empty(), "{format}: {:?}", words.missed);
    }
    let printed = printed_pdf(
        dir.path(),
        "<!doctype html><meta charset=utf-8><title>t</title>\
         <p>The convoy left at dawn, forty trucks.</p>\
         <p dir=rtl lang=ar>غادرت القافلة المدينة فجرا</p>",
        "words",
    );
    let printed = cleaned(&printed);
    let words = sandbox
        .words(&fs::read(&printed).unwrap(), 1 << 20)
        .unwrap()
        .expect("words read");
    let out = run(Command::new("pdftotext").arg(&printed).arg("-"));
    assert_success(&out, "pdftotext");
    let poppler = String::from_utf8(out.stdout).unwrap();
    assert_eq!(words_of(&words.text), words_of(&poppler), "{}", words.text);
    for word in ["convoy", "القافلة", "المدينة"] {
        assert!(
            words_of(&words.text).contains(&word.to_owned()),
            "{word}: {}",
            words.text
        );
    }
    // A font whose codes are glyph numbers, without a map: not guessed at.
    let content = b"BT /F1 12 Tf 72 700 Td <00410042> Tj ET";
    let blind = pdf_of(
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
            pdf_stream("", content),
            b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [] >>".to_vec(),
        ],
        "",
    );
    let words = sandbox.words(&blind, 1 << 20).unwrap().expect("read");
    assert!(words_of(&words.text).is_empty(), "{}", words.text);
    assert!(
        words
            .missed
            .iter()
            .any(|m| m.contains("1 of 1 pages have text in fonts without a Unicode map")),
        "{:?}",
        words.missed
    );
    // Pictures have no words.
    let error = sandbox
        .words(&fs::read(dir.path().join("inside.png")).unwrap(), 1 << 20)
        .unwrap();
    assert!(error.expect_err("no words").0.contains("no text"));
}
