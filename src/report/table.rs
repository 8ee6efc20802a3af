//! Text output: numbers and borderless, right-aligned tables (comfy-table), for the command
//! line and the examples: every column is as wide as its widest entry, so the columns stay
//! aligned whatever the widths of the numbers.
//!
//! # Examples
//! ```
//! use riskmdp::report::table::{num, table};
//! let text = table(vec!["β".into(), "β·Q".into()], vec![vec![num(0.5), num(-1.0)], vec![num(1e7), num(-1e-9)]]);
//! let widths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
//! assert!(widths.iter().all(|&w| w == widths[0]), "{text}");
//! ```

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, presets};

/// A number for a table: fixed point where readable, scientific otherwise.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-3..1e6).contains(&a) { format!("{x:.6}") } else { format!("{x:.6e}") }
}

/// A borderless table, every column right-aligned, columns two blanks apart, lines without
/// trailing blanks.
pub fn table(header: Vec<String>, rows: Vec<Vec<String>>) -> String {
    table_aligned(header, rows, &[])
}

/// As [`table`], with the columns `left` aligned left (text rather than numbers).
pub fn table_aligned(header: Vec<String>, rows: Vec<Vec<String>>, left: &[usize]) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled).set_header(header);
    for row in rows {
        t.add_row(row);
    }
    // Columns two blanks apart, the first flush left: no padding before it.
    for (i, column) in t.column_iter_mut().enumerate() {
        column.set_cell_alignment(if left.contains(&i) { CellAlignment::Left } else { CellAlignment::Right });
        column.set_constraint(ColumnConstraint::ContentWidth);
        column.set_padding((if i == 0 { 0 } else { 2 }, 0));
    }
    t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}
