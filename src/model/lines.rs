//! Byte offsets to 1-based line and character columns.

use super::Span;
use std::ops::Range;
use std::sync::Arc;

/// Maps byte offsets of one file's text to lines and columns (columns count characters).
pub struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The whole text.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// 1-based line and column of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let line_start = self.starts[line];
        let column = self.text.get(line_start..offset).map_or(offset - line_start, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }

    pub fn span(&self, file: &Arc<str>, range: Range<usize>) -> Span {
        let (start_line, start_col) = self.position(range.start);
        let (end_line, end_col) = self.position(range.end);
        Span::new(file.clone(), start_line, start_col, end_line, end_col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let index = LineIndex::new("ab\nçd\n");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(3), (2, 1));
        assert_eq!(index.position(5), (2, 2)); // after the two-byte ç
        assert_eq!(index.position(99), (3, 1));
    }
}
