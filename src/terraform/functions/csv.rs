//! CSV records as Go's `encoding/csv` reads them with its defaults, which `csvdecode` uses:
//! `""` escapes a quote inside a quoted field, a quote inside an unquoted field or after a
//! closing quote is an error, empty lines are skipped, `\r\n` reads as `\n`, and every record
//! has as many fields as the first. (The `csv` crate is laxer on quotes, and Terraform is not.)

/// The records of `text`, or the error Go would report (with its 1-based line).
pub fn records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.replace("\r\n", "\n");
    let mut reader = Reader { chars: text.chars().peekable(), line: 1 };
    let mut records: Vec<Vec<String>> = Vec::new();
    while let Some(record) = reader.record()? {
        if let Some(first) = records.first() {
            if first.len() != record.len() {
                return Err(format!("record on line {}: wrong number of fields", reader.line - 1));
            }
        }
        records.push(record);
    }
    Ok(records)
}

struct Reader<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl Reader<'_> {
    /// The next record, skipping empty lines; `None` at the end.
    fn record(&mut self) -> Result<Option<Vec<String>>, String> {
        while self.chars.peek() == Some(&'\n') {
            self.chars.next();
            self.line += 1;
        }
        if self.chars.peek().is_none() {
            return Ok(None);
        }
        let mut fields = Vec::new();
        loop {
            let (field, end) = if self.chars.peek() == Some(&'"') { self.quoted()? } else { self.unquoted()? };
            fields.push(field);
            if end != Some(',') {
                self.line += 1;
                return Ok(Some(fields));
            }
        }
    }

    /// A field up to `,`, a line break or the end (returned as the terminator).
    fn unquoted(&mut self) -> Result<(String, Option<char>), String> {
        let mut field = String::new();
        for ch in self.chars.by_ref() {
            match ch {
                ',' | '\n' => return Ok((field, Some(ch))),
                '"' => return Err(format!("parse error on line {}: bare \" in non-quoted field", self.line)),
                _ => field.push(ch),
            }
        }
        Ok((field, None))
    }

    fn quoted(&mut self) -> Result<(String, Option<char>), String> {
        let start = self.line;
        self.chars.next();
        let mut field = String::new();
        while let Some(ch) = self.chars.next() {
            match ch {
                '"' => match self.chars.next() {
                    Some('"') => field.push('"'),
                    end @ (Some(',' | '\n') | None) => return Ok((field, end)),
                    Some(_) => return Err(format!("parse error on line {}: extraneous or missing \" in quoted-field", self.line)),
                },
                '\n' => {
                    self.line += 1;
                    field.push(ch);
                }
                _ => field.push(ch),
            }
        }
        Err(format!("parse error on line {start}: extraneous or missing \" in quoted-field"))
    }
}

#[cfg(test)]
mod tests {
    use super::records;

    #[test]
    fn reads_like_go() {
        let rows = records("a,b\n1,\"x \"\"q\"\", y\"\n\n\"multi\r\nline\",\n").unwrap();
        assert_eq!(rows, [vec!["a", "b"], vec!["1", "x \"q\", y"], vec!["multi\nline", ""]]);
        assert_eq!(records("a\n").unwrap(), [vec!["a"]]);
        assert!(records("").unwrap().is_empty());
        assert!(records("a,b\n1\n").unwrap_err().contains("wrong number of fields"));
        assert!(records("a\nx\"y\n").unwrap_err().contains("bare \""));
        assert!(records("a\n\"x\"y\n").unwrap_err().contains("extraneous"));
        assert!(records("a\n\"open\n").unwrap_err().contains("extraneous"));
    }
}
