//! One typed table per export, written two ways from the same cells: CSV
//! (UTF-8 with a BOM, so spreadsheet programs on Chinese Windows do not read
//! it as GBK) and `.xlsx` (one worksheet named after the table, header row
//! bold and frozen, numbers as numbers, rates as percentages). Because both
//! are written from one [`Table`], they cannot say different things.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A rate in basis points; `None` prints as empty (no figure).
    Rate(Option<u32>),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn int(n: impl Into<i64>) -> Cell {
        Cell::Int(n.into())
    }

    /// The cell's text (`66.67%` for a rate), as the xlsx holds it.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Rate(Some(bp)) => crate::format::rate(Some(*bp)),
            Cell::Rate(None) | Cell::Empty => String::new(),
        }
    }

    /// The cell as CSV writes it: [`display`](Self::display), except that a
    /// text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab
    /// or CR first) gets a leading `'`, so opening the CSV computes nothing.
    /// The xlsx needs no such guard: its text cells are never formulas.
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            other => other.display(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The sheet's name (Chinese, at most 31 characters).
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: &str, headers: &[&str]) -> Table {
        Table { name: name.into(), headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    /// CSV, UTF-8 with a BOM.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        w.write_record(&self.headers).expect("writing to memory cannot fail");
        for r in &self.rows {
            w.write_record(r.iter().map(Cell::csv)).expect("writing to memory cannot fail");
        }
        w.into_inner().expect("writing to memory cannot fail")
    }

    /// An `.xlsx` workbook with this table as its one sheet.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(&self.name)?;
        let bold = Format::new().set_bold().set_background_color("#EEEEEE");
        let percent = Format::new().set_num_format("0.00%");
        for (c, h) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
            let width = h.chars().map(|ch| if ch.is_ascii() { 1.0 } else { 2.0 }).sum::<f64>().clamp(8.0, 40.0);
            sheet.set_column_width(c as u16, width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Rate(Some(bp)) => {
                        sheet.write_number_with_format(r, c, f64::from(*bp) / 10_000.0, &percent)?;
                    }
                    Cell::Rate(None) | Cell::Empty => {}
                }
            }
        }
        book.save_to_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn sample() -> Table {
        let mut t = Table::new("测评结果", &["单位", "票数", "满意率", "说明"]);
        t.rows.push(vec![Cell::text("县民政局, \"养老\""), Cell::int(12), Cell::Rate(Some(6667)), Cell::Empty]);
        t.rows.push(vec![Cell::text("=1+1"), Cell::int(0), Cell::Rate(None), Cell::text("少于3票")]);
        t
    }

    #[test]
    fn csv_has_a_bom_chinese_headers_and_quotes() {
        let csv = sample().to_csv();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert!(text.starts_with("单位,票数,满意率,说明\n"), "{text}");
        assert!(text.contains("\"县民政局, \"\"养老\"\"\",12,66.67%,\n"), "{text}");
        assert!(text.contains("\n'=1+1,0,,少于3票\n"), "a formula is not computed: {text}");
    }

    #[test]
    fn xlsx_holds_the_same_cells_as_the_csv() {
        let t = sample();
        let bytes = t.to_xlsx().unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["测评结果".to_owned()]);
        let range = book.worksheet_range("测评结果").unwrap();
        let cells: Vec<Vec<String>> = range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|d| match d {
                        Data::Float(f) if f.fract() != 0.0 => format!("{:.2}%", f * 100.0),
                        Data::Float(f) => format!("{f}"),
                        Data::Int(i) => i.to_string(),
                        Data::String(s) => s.clone(),
                        Data::Empty => String::new(),
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect()
            })
            .collect();
        let mut expect = vec![t.headers.clone()];
        expect.extend(t.rows.iter().map(|r| r.iter().map(Cell::display).collect()));
        // And the CSV, read back, says the same (but for the formula guard).
        let csv = t.to_csv();
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(&csv[3..]);
        let read: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(|c| c.strip_prefix("'=").map_or(c.to_owned(), |x| format!("={x}"))).collect())
            .collect();
        assert_eq!(read, expect);
        assert_eq!(cells, expect);
        // A formula-looking text stays text: no spreadsheet computes it.
        assert_eq!(range.get((2, 0)), Some(&Data::String("=1+1".into())));
    }
}
