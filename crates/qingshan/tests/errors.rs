//! Errors keep their cause and say what kind of input failed: documents
//! (audit TOML, audit.json, batch manifests and partials) are `Document`
//! errors naming the file; an operating-system failure is kept as the
//! error's `source()`, not flattened into text.

use std::error::Error as _;
use std::io::ErrorKind;

use qingshan::Error;
use qingshan::audit::{AuditConfig, AuditReport};
use qingshan::legend::Legend;

#[test]
fn documents_that_are_not_what_they_must_be_are_document_errors() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "colour = 1\n").unwrap();
    let json = dir.path().join("audit.json");
    std::fs::write(&json, r#"{"schema": "qingshan.stats/1"}"#).unwrap();
    let batch = dir.path().join("batch");
    std::fs::create_dir_all(batch.join("partials")).unwrap();
    std::fs::write(batch.join("run.json"), "not json").unwrap();
    let errors = [
        (toml.clone(), AuditConfig::load(&toml).unwrap_err()),
        (json.clone(), AuditReport::load(&json).unwrap_err()),
        (
            batch.join("run.json"),
            qingshan::batch::merge(&[&batch]).unwrap_err(),
        ),
    ];
    for (path, err) in errors {
        match &err {
            Error::Document { path: p, .. } => assert_eq!(p, &path),
            other => panic!(
                "{}: expected a document error, got {other:?}",
                path.display()
            ),
        }
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn the_operating_systems_cause_is_kept_as_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("legend.toml");
    let err = Legend::load(missing.to_str().unwrap()).unwrap_err();
    let io = err.io_cause().expect("an I/O cause");
    assert_eq!(io.kind(), ErrorKind::NotFound);
    let source = err.source().expect("a source");
    assert!(source.downcast_ref::<std::io::Error>().is_some());
    // One line with the cause after the message, as the CLI prints it.
    let line = err.full_message();
    assert!(
        line.starts_with(&format!("{}: cannot read: ", missing.display())),
        "{line}"
    );
    assert!(line.ends_with(&source.to_string()), "{line}");
}

/// A directory where no file can be created (even by root): the write
/// error names the output and carries the operating system's reason.
#[cfg(target_os = "linux")]
#[test]
fn a_refused_write_keeps_the_os_reason() {
    let out = std::path::Path::new("/proc/qingshan-out.json");
    let err = qingshan::fsio::write_atomic(out, |w| w.write_all(b"{}")).unwrap_err();
    assert!(matches!(err, Error::WriteFile { .. }), "{err:?}");
    assert!(err.to_string().contains("qingshan-out.json"), "{err}");
    assert!(err.io_cause().is_some());
    assert!(err.full_message().len() > err.to_string().len());
}
