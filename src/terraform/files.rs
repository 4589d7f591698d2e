//! Reading Terraform files: HCL parsed with positions kept.

use crate::model::{Diagnostic, LineIndex, Span};
use hcl_edit::structure::Body;
use std::sync::Arc;

/// One parsed `.tf` file.
pub struct ParsedFile<'t> {
    pub path: Arc<str>,
    pub lines: LineIndex<'t>,
    pub body: Body,
}

/// Parses HCL; a syntax error names the file, line and column.
pub fn parse_hcl<'t>(path: &Arc<str>, text: &'t str) -> Result<ParsedFile<'t>, Diagnostic> {
    // hcl-edit rejects a UTF-8 byte-order mark, which editors on Windows write.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => Ok(ParsedFile { path: path.clone(), lines: LineIndex::new(text), body }),
        Err(error) => {
            let location = error.location();
            let (line, column) = (location.line() as u32, location.column() as u32);
            let span = Span::new(path.clone(), line, column, line, column);
            let first_line = error.message().lines().next().unwrap_or("invalid HCL").trim().to_string();
            Err(Diagnostic::error(path.to_string(), Some(span), format!("HCL syntax error: {first_line}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_have_positions() {
        let path: Arc<str> = "bad.tf".into();
        let error = parse_hcl(&path, "resource \"a\" \"b\" {\n  x = \n}\n").err().unwrap();
        let span = error.span.unwrap();
        assert_eq!(span.start_line, 2);
        assert!(error.message.contains("HCL syntax error"));
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let path: Arc<str> = "bom.tf".into();
        assert!(parse_hcl(&path, "\u{feff}locals {\n  a = 1\n}\n").is_ok());
    }
}
