//! The bundle as one zip, built the same way in the browser and the CLI.

use super::File;
use std::io::Write;

/// Packs `files` in their order. Entries carry the files' Unix modes and the zip
/// format's fixed 1980-01-01 timestamp (zip has no "unknown"; a real date would make
/// the archive depend on the clock), so the same files give the same bytes.
pub fn zip(files: &[File]) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for f in files {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(f.mode)
            .last_modified_time(zip::DateTime::default());
        w.start_file(f.path.as_str(), options)?;
        w.write_all(f.contents.as_bytes())?;
    }
    Ok(w.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::super::{Date, Secrets, files};
    use super::*;
    use crate::plan::Plan;
    use std::io::Read;

    #[test]
    fn round_trips_names_modes_and_contents_in_order() {
        let date = Date::parse("2026-11-26").unwrap();
        let fs = files(&Plan::default(), &date, &Secrets::placeholders());
        let bytes = zip(&fs).unwrap();
        assert_eq!(bytes, zip(&fs).unwrap(), "same files, same bytes");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), fs.len());
        for (i, f) in fs.iter().enumerate() {
            let mut entry = archive.by_index(i).unwrap();
            assert_eq!(entry.name().unwrap(), f.path);
            assert_eq!(
                entry.unix_mode().map(|m| m & 0o777),
                Some(f.mode),
                "{}",
                f.path
            );
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            assert_eq!(text, f.contents, "{}", f.path);
        }
    }
}
