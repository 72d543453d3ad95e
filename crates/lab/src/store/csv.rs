//! Reading and writing a `runs.csv` of any [`Row`] type: a header that is not the row's
//! columns, or a damaged row, is an error naming the file and the line, so that such a file is
//! never overwritten; a file is always replaced atomically.
use std::path::Path;

use super::{Row, StoreError};

/// What every refusal to read says happened to the file.
const KEPT: &str = "it was left unchanged and nothing was written; move it away or repair it";

/// Reads the rows of `path` (none if it is absent or empty, as [`write_rows`] writes an empty
/// file for no rows). A header that is neither [`Row::COLUMNS`] nor one of
/// [`Row::older_columns`], or a row that does not parse, is an error naming the file and the
/// line.
pub fn read_rows<R: Row>(path: &Path) -> Result<Vec<R>, StoreError> {
    if !path.exists() || std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Ok(Vec::new());
    }
    let mut rdr = ::csv::Reader::from_path(path).map_err(|source| StoreError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let header = rdr
        .headers()
        .map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            line: 1,
            problem: format!("the header cannot be read ({e}); {KEPT}"),
        })?
        .clone();
    let found: Vec<&str> = header.iter().collect();
    if found != R::COLUMNS && !R::older_columns().iter().any(|c| *c == found) {
        let older = if R::older_columns().is_empty() {
            ""
        } else {
            " (or that of an older version)"
        };
        return Err(StoreError::Damaged {
            path: path.to_path_buf(),
            line: 1,
            problem: format!(
                "not a runs.csv written by {}: its header is {found:?}, expected the columns \
                 {:?}{older}; {KEPT}",
                R::WRITTEN_BY,
                R::COLUMNS
            ),
        });
    }
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        // The record's own line (a quoted field may span lines); the header is line 1.
        let fallback = i as u64 + 2;
        let damaged = |line: u64, e: ::csv::Error| StoreError::Damaged {
            path: path.to_path_buf(),
            line,
            problem: format!("the row is damaged ({e}); {KEPT}"),
        };
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(fallback, |p| p.line());
            damaged(line, e)
        })?;
        let line = rec.position().map_or(fallback, |p| p.line());
        rows.push(
            rec.deserialize(Some(&header))
                .map_err(|e| damaged(line, e))?,
        );
    }
    Ok(rows)
}

/// Writes `rows` to `path` atomically ([`neurogen_io::write_atomic`]): a reader, or a process
/// killed meanwhile, sees the old file or the new one, never a part. Refuses rows whose
/// serialised header is not [`Row::COLUMNS`] (the file could not be read back).
pub fn write_rows<R: Row>(path: &Path, rows: &[R]) -> Result<(), StoreError> {
    let csv_err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv_err(::csv::Error::from(e.into_error())))?;
    if !bytes.is_empty() {
        let mut rdr = ::csv::Reader::from_reader(bytes.as_slice());
        let header = rdr.headers().map_err(csv_err)?;
        let found: Vec<&str> = header.iter().collect();
        if found != R::COLUMNS {
            return Err(StoreError::Columns {
                path: path.to_path_buf(),
                serialised: found.iter().map(|s| s.to_string()).collect(),
                declared: R::COLUMNS.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    Ok(neurogen_io::write_atomic(path, &bytes)?)
}
