//! Package addresses and safe extraction (fetching itself is tested against a loopback
//! registry and git repositories in tests/it/modules_download.rs).

use super::*;

fn parse(address: &str) -> Package {
    Package::parse(address).unwrap_or_else(|e| panic!("{address}: {e}"))
}

#[test]
fn go_getter_addresses_are_taken_apart() {
    let git = parse("git::https://example.com/net.git//modules/vpc?ref=v1.2.0&depth=1");
    assert_eq!(
        (git.kind, git.url.as_str(), git.subdir.as_str()),
        (Kind::Git { reference: Some("v1.2.0".into()) }, "https://example.com/net.git", "modules/vpc")
    );
    let shorthand = parse("github.com/terraform-aws-modules/terraform-aws-vpc?ref=v5.0.0");
    assert_eq!(shorthand.url, "https://github.com/terraform-aws-modules/terraform-aws-vpc.git");
    assert_eq!(shorthand.kind, Kind::Git { reference: Some("v5.0.0".into()) });
    assert_eq!(parse("git@github.com:acme/net.git").url, "ssh://git@github.com/acme/net.git");
    let archive = parse("https://files.example.com/v1/bucket?archive=tar.gz//sub/dir");
    assert_eq!((archive.kind, archive.url.as_str(), archive.subdir.as_str()), (Kind::Archive(Format::TarGz), "https://files.example.com/v1/bucket", "sub/dir"));
    assert_eq!(parse("https://x.example.com/b.zip?token=abc").url, "https://x.example.com/b.zip?token=abc", "other parameters are kept");
    assert_eq!(parse("https://x.example.com/b.tgz?checksum=sha256:AB").sha256.as_deref(), Some("ab"));
    for refused in [
        "http://x.example.com/b.tar.gz",
        "s3::https://s3.amazonaws.com/b/m.zip",
        "https://x.example.com/page",
        "git::https://h/r.git?sshkey=abc",
        "https://x.example.com/b.tar.bz2",
    ] {
        assert!(Package::parse(refused).is_err(), "{refused}");
    }
}

/// A tar.gz whose entries are written as given (the tar crate's own builder refuses `..`).
fn tar_gz(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, kind, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        if *kind == tar::EntryType::Symlink {
            header.as_old_mut().linkname[..content.len()].copy_from_slice(content.as_bytes());
            header.set_size(0);
            header.set_cksum();
            builder.append(&header, std::io::empty()).unwrap();
        } else {
            header.set_size(content.len() as u64);
            header.set_cksum();
            builder.append(&header, content.as_bytes()).unwrap();
        }
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn archives_extract_inside_and_unsafe_ones_are_refused_whole() {
    use tar::EntryType::{Directory, Regular, Symlink};
    let dir = tempfile::tempdir().unwrap();
    let good = tar_gz(&[
        ("./", Directory, ""),
        ("./main.tf", Regular, "resource \"a\" \"b\" {}\n"),
        ("./modules/x/main.tf", Regular, ""),
        ("./alias.tf", Symlink, "modules/x/main.tf"),
    ]);
    extract(&good, Format::TarGz, &dir.path().join("good")).unwrap();
    assert!(dir.path().join("good/main.tf").is_file() && dir.path().join("good/modules/x/main.tf").is_file());
    assert!(dir.path().join("good/alias.tf").is_symlink());
    let hostile = [
        ("dot-dot", tar_gz(&[("main.tf", Regular, ""), ("../evil.tf", Regular, "x")]), "absolute or `..`"),
        ("absolute", tar_gz(&[("/tmp/evil.tf", Regular, "x")]), "absolute or `..`"),
        ("link-out", tar_gz(&[("etc", Symlink, "/etc")]), "points up or out"),
        ("link-up", tar_gz(&[("up", Symlink, "../../x")]), "points up or out"),
    ];
    for (name, bytes, why) in hostile {
        let error = extract(&bytes, Format::TarGz, &dir.path().join(name)).unwrap_err();
        assert!(error.starts_with("archive refused") && error.contains(why), "{name}: {error}");
    }
    assert!(!dir.path().join("evil.tf").exists());
}

#[test]
fn zip_archives_extract_and_refuse_escapes() {
    let zip = |names: &[&str]| {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for name in names {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            std::io::Write::write_all(&mut writer, b"resource \"a\" \"b\" {}\n").unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    let dir = tempfile::tempdir().unwrap();
    extract(&zip(&["main.tf", "sub/main.tf"]), Format::Zip, &dir.path().join("ok")).unwrap();
    assert!(dir.path().join("ok/sub/main.tf").is_file());
    let error = extract(&zip(&["main.tf", "../../evil.tf"]), Format::Zip, &dir.path().join("bad")).unwrap_err();
    assert!(error.contains("absolute or `..`"), "{error}");
}

#[test]
fn extraction_stops_at_the_size_limit() {
    let mut budget = Budget { bytes: 10, entries: 5 };
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), Path::new("a"), &mut "12345".as_bytes(), &mut budget).unwrap();
    let error = write_file(dir.path(), Path::new("b"), &mut "123456".as_bytes(), &mut budget).unwrap_err();
    assert!(error.contains("bytes extracted"), "{error}");
}
