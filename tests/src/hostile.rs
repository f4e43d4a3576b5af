//! Hostile text: label values, model names and level names that need escaping, look like
//! exposition syntax, or are unusually large.

/// 64 KiB: the size of the largest hostile value.
pub const KIB_64: usize = 64 * 1024;

/// 64 KiB (at least) of text mixing every character that needs care.
pub fn text_64k() -> String {
    let unit = "a\"b\\c\nd\te 日本 🦀 ";
    let mut text = String::with_capacity(KIB_64 + unit.len());
    while text.len() < KIB_64 {
        text.push_str(unit);
    }
    text
}

/// Label values that need escaping, or look like syntax, or are unusual; the last is
/// [`text_64k`].
pub fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "\"",
        "\\",
        "\n",
        "\t",
        "\r",
        "a\"b\\c\nd\te",
        "\\n",
        "\\\"",
        "ends with a backslash \\",
        "\"\"\"",
        "\n\n",
        "Qwen/Qwen3-0.6B",
        "日本語のモデル",
        "émoji 🦀 ✓ Ω",
        "\u{0}nul",
        "\u{7f}\u{1b}[31mred",
        "\u{feff}bom \u{2028} separators \u{2029}",
        "x{a=\"b\"} 1",
        "# HELP x y",
        "x 1\ny 2",
        " leading and trailing ",
        "",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    values.push(text_64k());
    values
}
